/**
 * Local dates and times in an IANA time zone, for the daily pre-fetch run and the times the
 * workflows write (ISO 8601 with the zone's offset at that instant). Pure: only `Intl`.
 *
 * Around daylight-saving changes a local wall time is read as src/hl7/datetime.ts reads HL7
 * times (JavaScript Temporal's `compatible` rule): a time that occurs twice is the earlier
 * instant, a time that does not exist lands after the gap (02:30 on a spring-forward night
 * is 03:30). A local day is therefore 23, 24 or 25 hours long.
 */
import { hl7TimeToEpochMs, hl7TimeToIso, Hl7TimePrecision } from '../hl7/index.js';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether `text` is a valid calendar date `YYYY-MM-DD` (years 1000–9999). */
export function isLocalDate(text: string): boolean {
  const m = DATE.exec(text);
  if (m === null) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1000 || mo < 1 || mo > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

/** `date` plus `days` calendar days (negative allowed). */
export function addDays(date: string, days: number): string {
  const m = DATE.exec(date);
  if (m === null) throw new RangeError(`not a date: ${date}`);
  const t = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + days));
  return t.toISOString().slice(0, 10);
}

/** The epoch ms of local wall time `date` `HH:MM` in `timeZone` (see the module comment for DST). */
export function localToEpoch(date: string, time: string, timeZone: string): number {
  const m = DATE.exec(date);
  const hm = /^(\d{2}):(\d{2})$/.exec(time);
  if (m === null || hm === null) throw new RangeError(`not a local date and time: ${date} ${time}`);
  return hl7TimeToEpochMs(
    {
      year: Number(m[1]),
      month: Number(m[2]),
      day: Number(m[3]),
      hour: Number(hm[1]),
      minute: Number(hm[2]),
      second: 0,
      precision: Hl7TimePrecision.Second,
    },
    timeZone,
  );
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    if (formatters.size < 50) formatters.set(timeZone, f);
  }
  return f;
}

/** The local wall clock of an instant in `timeZone`. */
export function wallClock(epochMs: number, timeZone: string): { date: string; hour: number; minute: number; second: number } {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(epochMs))) parts[p.type] = p.value;
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

/** The local date (`YYYY-MM-DD`) of an instant in `timeZone`. */
export function localDate(epochMs: number, timeZone: string): string {
  return wallClock(epochMs, timeZone).date;
}

/** An instant as ISO 8601 with the offset of `timeZone` at that instant (`2024-03-31T03:30:00+02:00`). */
export function isoInZone(epochMs: number, timeZone: string): string {
  const w = wallClock(epochMs, timeZone);
  const [y, mo, d] = w.date.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, mo - 1, d, w.hour, w.minute, w.second);
  const offset = Math.round((wall - Math.floor(epochMs / 1000) * 1000) / 60_000);
  return hl7TimeToIso(
    { year: y, month: mo, day: d, hour: w.hour, minute: w.minute, second: w.second, offsetMinutes: offset, precision: Hl7TimePrecision.Second },
    timeZone,
  );
}

/** The window of local days `[date 00:00, date + days 00:00)` in `timeZone`, as epoch ms. */
export function dayWindow(date: string, days: number, timeZone: string): { from: number; to: number } {
  return { from: localToEpoch(date, '00:00', timeZone), to: localToEpoch(addDays(date, days), '00:00', timeZone) };
}
