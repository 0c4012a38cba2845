/**
 * HL7 v2 date and time values (DTM, TS.1, DT; HL7 v2.5 §2.A.21/§2.A.77, DOMAIN.md §6 quirk 19):
 * `YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]`, from a bare year to fractional seconds,
 * with or without a UTC offset.
 *
 * Tolerated: surrounding spaces; fractions of 1 to 9 digits (the standard allows 4; some
 * senders write microseconds); an all-zero year (`0000`, `00000000`, `00000000000000`) read
 * as "unknown"; a date whose trailing month and day are `00` (`19800000`, `19800100`) read at
 * the precision before them, as senders use `00` for "unknown" there too.
 *
 * Not accepted (undefined): empty values and the HL7 null `""`, anything that is not digits
 * in the shape above, odd digit counts (`2024010`), months outside 1–12, days past the end
 * of the month (leap years counted), hours past 23, minutes or seconds past 59 (no leap
 * second), offsets past ±14:00 or with minutes past 59.
 *
 * A time without an offset is local time in a configured IANA zone (INTERFACE.md); see
 * {@link hl7TimeToEpochMs} for how gaps and overlaps at daylight-saving changes are resolved.
 * Pure code: no I/O, only `Intl` for zone offsets.
 */

/** How much of a time value was given: the last unit present. */
export const Hl7TimePrecision = {
  Year: 'year',
  Month: 'month',
  Day: 'day',
  Hour: 'hour',
  Minute: 'minute',
  Second: 'second',
  Fraction: 'fraction',
} as const;
export type Hl7TimePrecision = (typeof Hl7TimePrecision)[keyof typeof Hl7TimePrecision];

/**
 * A parsed HL7 time value. Units finer than `precision` are undefined; all numbers are the
 * calendar values as written (month 1–12, day 1–31, hour 0–23).
 */
export interface Hl7Time {
  /** Year, 1–9999. */
  year: number;
  /** Month, 1–12. */
  month?: number;
  /** Day of the month, 1–31. */
  day?: number;
  /** Hour, 0–23. */
  hour?: number;
  /** Minute, 0–59. */
  minute?: number;
  /** Second, 0–59. */
  second?: number;
  /** The fractional-second digits as written, without the dot (`'1'`, `'1234'`). */
  fraction?: string;
  /** The UTC offset written with the value (`+0100` → 60, `-0500` → -300); undefined when none. */
  offsetMinutes?: number;
  /** The finest unit given. */
  precision: Hl7TimePrecision;
}

const SHAPE = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,9}))?([+-]\d{4})?$/;
const MAX_OFFSET_MINUTES = 14 * 60;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Parses an HL7 DTM/TS/DT value. Returns undefined for values that are empty, unknown
 * (`0000`…) or invalid; see the module comment for what is tolerated. The fraction needs
 * seconds before it (`202401021200.5` is invalid), as the standard's format does. Pass the
 * time itself (TS.1, e.g. path `PID-7.1`): the degree-of-precision component of v2.3 TS
 * (`19800101^D`) is not part of it.
 */
export function parseHl7Time(value: string): Hl7Time | undefined {
  const m = SHAPE.exec(value.trim());
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  if (year === 0) return undefined;
  let month = mo === undefined ? undefined : Number(mo);
  let day = d === undefined ? undefined : Number(d);
  const hasTime = h !== undefined;
  // `00` month or day with nothing after it means "unknown": read at the coarser precision.
  if (!hasTime && day === 0) day = undefined;
  if (!hasTime && day === undefined && month === 0) month = undefined;
  if (month !== undefined && (month < 1 || month > 12)) return undefined;
  if (day !== undefined && (month === undefined || day < 1 || day > daysInMonth(year, month))) return undefined;
  const hour = h === undefined ? undefined : Number(h);
  const minute = mi === undefined ? undefined : Number(mi);
  const second = s === undefined ? undefined : Number(s);
  if ((hour ?? 0) > 23 || (minute ?? 0) > 59 || (second ?? 0) > 59) return undefined;
  if (frac !== undefined && second === undefined) return undefined;
  let offsetMinutes: number | undefined;
  if (zone !== undefined) {
    const zh = Number(zone.slice(1, 3));
    const zm = Number(zone.slice(3, 5));
    const total = zh * 60 + zm;
    if (zm > 59 || total > MAX_OFFSET_MINUTES) return undefined;
    offsetMinutes = zone[0] === '-' ? -total : total;
  }
  const precision: Hl7TimePrecision =
    frac !== undefined ? 'fraction' : second !== undefined ? 'second' : minute !== undefined ? 'minute' : hour !== undefined ? 'hour' : day !== undefined ? 'day' : month !== undefined ? 'month' : 'year';
  const t: Hl7Time = { year, precision };
  if (month !== undefined) t.month = month;
  if (day !== undefined) t.day = day;
  if (hour !== undefined) t.hour = hour;
  if (minute !== undefined) t.minute = minute;
  if (second !== undefined) t.second = second;
  if (frac !== undefined) t.fraction = frac;
  if (offsetMinutes !== undefined) t.offsetMinutes = offsetMinutes;
  return t;
}

/**
 * The date part of an HL7 date or time as `YYYYMMDD` (DICOM DA: the first 8 characters), or
 * undefined when the value is not a valid time of at least day precision. A birth date sent
 * with a time (`19800101120000`, `19800101+0100`) keeps the date as written: it is not moved
 * to another day by its offset or by a time zone.
 */
export function hl7DateOnly(value: string): string | undefined {
  const t = parseHl7Time(value);
  if (t === undefined || t.day === undefined) return undefined;
  return `${pad(t.year, 4)}${pad(t.month!, 2)}${pad(t.day, 2)}`;
}

/** The system's IANA time zone, the default of {@link hl7TimeToIso} and {@link hl7TimeToEpochMs}. */
export function systemTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/**
 * The instant of an HL7 time in epoch milliseconds (fraction digits past milliseconds are
 * cut). Units not given take the start of the period (month 1, day 1, 00:00:00.000). A time
 * with an offset uses it; one without is local time in `timeZone` (an IANA name, default the
 * system's), with the zone's offset found through `Intl.DateTimeFormat`. At daylight-saving
 * changes the rule is that of JavaScript `Temporal`'s `compatible` disambiguation:
 * - a local time that occurs twice (clocks set back) is the earlier instant, i.e. read with
 *   the offset in force before the change (Berlin 2024-10-27 02:30 → 02:30+02:00);
 * - a local time that does not exist (clocks set forward) is read with the offset in force
 *   before the change, which lands after it by the length of the gap (Berlin 2024-03-31
 *   02:30 → 01:30Z, shown as 03:30+02:00).
 * Offsets are whole minutes (historical local-mean-time offsets are rounded to the minute).
 * Throws RangeError for an unknown time zone.
 */
export function hl7TimeToEpochMs(t: Hl7Time, timeZone: string = systemTimeZone()): number {
  return resolve(t, timeZone).epochMs;
}

/**
 * The instant of an HL7 time as ISO 8601 with an offset (`2024-01-02T12:00:00+01:00`,
 * `2024-01-02T12:00:00.1234-05:00`; UTC is written `+00:00`). Seconds are always written; the
 * fraction digits as given. The offset is the one written in the value, else that of
 * `timeZone` at that instant, so a local time in a daylight-saving gap is shown at the wall
 * time it becomes. See {@link hl7TimeToEpochMs} for units not given and DST rules. Throws
 * RangeError for an unknown time zone.
 */
export function hl7TimeToIso(t: Hl7Time, timeZone: string = systemTimeZone()): string {
  const { epochMs, offsetMinutes } = resolve(t, timeZone);
  // Wall time at the chosen offset; the ms part is replaced by the fraction as written.
  const wall = new Date(Math.floor(epochMs / 1000) * 1000 + offsetMinutes * 60_000);
  const frac = t.fraction === undefined ? '' : `.${t.fraction}`;
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${pad(wall.getUTCFullYear(), 4)}-${pad(wall.getUTCMonth() + 1, 2)}-${pad(wall.getUTCDate(), 2)}T${pad(wall.getUTCHours(), 2)}:${pad(wall.getUTCMinutes(), 2)}:${pad(wall.getUTCSeconds(), 2)}${frac}${sign}${pad(Math.floor(abs / 60), 2)}:${pad(abs % 60, 2)}`;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Milliseconds of the wall-clock fields read as if they were UTC (years below 100 included). */
function wallMs(t: Hl7Time): number {
  const d = new Date(0);
  d.setUTCFullYear(t.year, (t.month ?? 1) - 1, t.day ?? 1);
  d.setUTCHours(t.hour ?? 0, t.minute ?? 0, t.second ?? 0, t.fraction === undefined ? 0 : Number(t.fraction.slice(0, 3).padEnd(3, '0')));
  return d.getTime();
}

const DAY_MS = 86_400_000;

function resolve(t: Hl7Time, timeZone: string): { epochMs: number; offsetMinutes: number } {
  // Looked up even when the value has its own offset, so a bad zone fails on every value.
  formatterFor(timeZone);
  const local = wallMs(t);
  if (t.offsetMinutes !== undefined) return { epochMs: local - t.offsetMinutes * 60_000, offsetMinutes: t.offsetMinutes };
  // The offsets in force a day before and a day after cover any one transition near this
  // local time; an offset is valid when the instant it gives has that same offset.
  const before = zoneOffsetMinutes(local - DAY_MS, timeZone);
  const after = zoneOffsetMinutes(local + DAY_MS, timeZone);
  const valid = [before, after].filter((o) => zoneOffsetMinutes(local - o * 60_000, timeZone) === o);
  if (valid.length > 0) {
    // Overlap: two valid offsets; the larger one gives the earlier instant.
    const o = Math.max(...valid);
    return { epochMs: local - o * 60_000, offsetMinutes: o };
  }
  // Gap: read with the offset before the change; the instant then has the offset after it.
  const epochMs = local - before * 60_000;
  return { epochMs, offsetMinutes: zoneOffsetMinutes(epochMs, timeZone) };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    if (formatters.size < 100) formatters.set(timeZone, f);
  }
  return f;
}

const HOUR_MS = 3_600_000;
const offsetCache = new Map<string, number>();

/**
 * The UTC offset of `timeZone` at an instant, in whole minutes. Offsets are cached per hour:
 * when the offsets at the first and the last millisecond of an hour agree, no transition
 * falls inside it (a zone cannot change and change back within one hour), so the offset
 * holds for the whole hour; an hour with a transition is computed exactly every time.
 */
function zoneOffsetMinutes(epochMs: number, timeZone: string): number {
  const hour = Math.floor(epochMs / HOUR_MS);
  const key = `${timeZone}\u0000${hour}`;
  const hit = offsetCache.get(key);
  if (hit !== undefined) return hit;
  const first = exactOffsetMinutes(hour * HOUR_MS, timeZone);
  const last = exactOffsetMinutes(hour * HOUR_MS + HOUR_MS - 1, timeZone);
  if (first !== last) return exactOffsetMinutes(epochMs, timeZone);
  if (offsetCache.size >= 50_000) offsetCache.clear();
  offsetCache.set(key, first);
  return first;
}

/** The UTC offset of `timeZone` at an instant, in whole minutes, from the ICU time zone data. */
function exactOffsetMinutes(epochMs: number, timeZone: string): number {
  const seconds = Math.floor(epochMs / 1000) * 1000;
  const parts: Record<string, string> = {};
  for (const p of formatterFor(timeZone).formatToParts(new Date(seconds))) parts[p.type] = p.value;
  let year = Number(parts.year);
  if (parts.era !== undefined && parts.era.startsWith('B')) year = 1 - year;
  const d = new Date(0);
  d.setUTCFullYear(year, Number(parts.month) - 1, Number(parts.day));
  d.setUTCHours(Number(parts.hour), Number(parts.minute), Number(parts.second), 0);
  return Math.round((d.getTime() - seconds) / 60_000);
}
