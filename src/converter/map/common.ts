/**
 * Helpers shared by the mappers: reading PID, PV1, CX, XPN, XAD, PL, XCN, CE and TS values
 * with HL7's null rule, the message context, and conversion errors.
 *
 * The null rule (DOMAIN.md §2.5, {@link Upd}):
 * - a field absent or empty (`||`) → the property is absent (keep the stored value);
 * - the HL7 null `""` as the whole field → `null` (delete the stored value);
 * - a value → set.
 * A scalar read from one component (PID-18.1, PV1-19.1, ...) follows the same rule on that
 * component, except that an empty component of a present field is also "no information".
 * A composite value (name, address, location, coded) is deleted only by a `""` in the whole
 * field; otherwise its components are read as values and a `""` component becomes the empty
 * string (HL7 defines `""` for whole fields only, so a component null is not a delete).
 * An HL7 time that does not parse is read as absent (no information), never as an error.
 */
import { type Hl7Message, Presence, Render, hl7DateOnly, hl7TimeToEpochMs, hl7TimeToIso, parseHl7Time } from '../../hl7/index.js';
import { canonicalAuthority, makeIdentifier } from '../../repository/identity.js';
import type { Address, Coded, Identifier, Location, PersonName } from '../../repository/model.js';
import { type Change, type ConversionError, ConversionErrorCode, type MessageContext, type PatientData, type Upd, type VisitData } from '../changes.js';
import { type MappingOptions, type SenderOptions, senderOptions } from './options.js';

/** What every mapper reads: the message, the options, and this sender's settings. */
export interface MapContext {
  msg: Hl7Message;
  options: MappingOptions;
  sender: SenderOptions;
  context: MessageContext;
  /** Index of the MSH segment (0 unless a batch header comes first). */
  msh: number;
}

/** A mapper's outcome before the context is attached. */
export type MapOutcome = { changes: Change[]; ignored?: string } | { error: ConversionError };

/** Builds a {@link ConversionError}. */
export function conversionError(code: string, errCode: number, message: string, segment?: string, field?: number): ConversionError {
  const e: ConversionError = { code, errCode, message };
  if (segment !== undefined) e.segment = segment;
  if (field !== undefined) e.field = field;
  return e;
}

/** The MISSING_FIELD (101) error for `SEG-n`. */
export function missingField(segment: string, field: number, what: string): { error: ConversionError } {
  return { error: conversionError(ConversionErrorCode.MissingField, 101, `${segment}-${field} (${what}) is missing`, segment, field) };
}

/** Reads MSH/EVN into the {@link MessageContext} and resolves the sender's settings. */
export function makeMapContext(msg: Hl7Message, options: MappingOptions): MapContext {
  const msh = Math.max(0, msg.segmentIndex('MSH'));
  const msh3 = msg.value(msh, 3).trim();
  const msh4 = msg.value(msh, 4).trim();
  const context: MessageContext = {
    messageCode: msg.value(msh, 9, 1, 1).trim().toUpperCase(),
    triggerEvent: msg.value(msh, 9, 1, 2).trim().toUpperCase(),
    sender: `${msh3}^${msh4}`,
    controlId: msg.value(msh, 10, 1, 1).trim(),
  };
  const messageTime = epochMs(msg.value(msh, 7, 1, 1), options.timeZone);
  const evn = msg.segmentIndex('EVN');
  const eventTime = (evn >= 0 ? (epochMs(msg.value(evn, 2, 1, 1), options.timeZone) ?? epochMs(msg.value(evn, 6, 1, 1), options.timeZone)) : undefined) ?? messageTime;
  if (eventTime !== undefined) context.eventTime = eventTime;
  if (messageTime !== undefined) context.messageTime = messageTime;
  return { msg, options, sender: senderOptions(options, msh3, msh4), context, msh };
}

function epochMs(value: string, timeZone: string): number | undefined {
  const t = parseHl7Time(value);
  return t === undefined ? undefined : hl7TimeToEpochMs(t, timeZone);
}

/** A trimmed leaf value (`''` when absent). */
export function str(msg: Hl7Message, seg: number, field: number, rep = 1, comp = 1, sub = 0): string {
  if (seg < 0) return '';
  const v = msg.value(seg, field, rep, comp, sub).trim();
  return v === '""' ? '' : v;
}

/** Presence of the first repetition of a whole field (absent when `seg` < 0). */
export function fieldPresence(msg: Hl7Message, seg: number, field: number): Presence {
  return seg < 0 ? Presence.Absent : msg.presenceAt(seg, field, 1, 0, 0);
}

/** A scalar update from `SEG-field.comp` (first repetition), per the null rule. */
export function updStr(msg: Hl7Message, seg: number, field: number, comp = 1, sub = 0): Upd<string> {
  if (seg < 0) return undefined;
  const p = msg.presenceAt(seg, field, 1, comp, sub);
  if (p === Presence.Null) return null;
  if (p !== Presence.Value) return undefined;
  const v = msg.value(seg, field, 1, comp, sub).trim();
  return v === '' ? undefined : v;
}

/** A string value only when set (for the non-Upd fields of reports and appointments). */
export function optStr(msg: Hl7Message, seg: number, field: number, comp = 1, sub = 0): string | undefined {
  const v = updStr(msg, seg, field, comp, sub);
  return v === null ? undefined : v;
}

/** A composite update: `""` whole field → null, absent/empty → undefined, else `read()`. */
export function updComposite<T>(msg: Hl7Message, seg: number, field: number, read: () => T): Upd<T> {
  const p = fieldPresence(msg, seg, field);
  if (p === Presence.Null) return null;
  if (p !== Presence.Value) return undefined;
  return read();
}

/** A component read as a value: `""` becomes the empty string (see the module comment). */
function comp(msg: Hl7Message, seg: number, field: number, rep: number, c: number, sub = 0): string {
  return str(msg, seg, field, rep, c, sub);
}

/** An HL7 TS (component `c`, subcomponent `sub`) as ISO 8601; per the null rule. */
export function updTime(ctx: MapContext, seg: number, field: number, c = 1, sub = 0): Upd<string> {
  const v = updStr(ctx.msg, seg, field, c, sub);
  if (v === null || v === undefined) return v;
  return isoTime(v, ctx.options.timeZone);
}

/** An HL7 time string as ISO 8601 with an offset, or undefined when it does not parse. */
export function isoTime(value: string, timeZone: string): string | undefined {
  const t = parseHl7Time(value);
  return t === undefined ? undefined : hl7TimeToIso(t, timeZone);
}

/** A coded element (CE/CWE) from components `offset+1..offset+3`. */
export function readCoded(msg: Hl7Message, seg: number, field: number, rep = 1, offset = 0): Coded {
  return { code: comp(msg, seg, field, rep, offset + 1), text: comp(msg, seg, field, rep, offset + 2), system: comp(msg, seg, field, rep, offset + 3) };
}

/** A coded update per the null rule. */
export function updCoded(msg: Hl7Message, seg: number, field: number): Upd<Coded> {
  return updComposite(msg, seg, field, () => readCoded(msg, seg, field));
}

/** A person name (XPN, family name's surname subcomponent) from one repetition. */
export function readName(msg: Hl7Message, seg: number, field: number, rep = 1): PersonName {
  const name: PersonName = {
    family: comp(msg, seg, field, rep, 1, 1),
    given: comp(msg, seg, field, rep, 2),
    middle: comp(msg, seg, field, rep, 3),
    suffix: comp(msg, seg, field, rep, 4),
    prefix: comp(msg, seg, field, rep, 5),
  };
  const degree = comp(msg, seg, field, rep, 6);
  const type = comp(msg, seg, field, rep, 7);
  if (degree !== '') name.degree = degree;
  if (type !== '') name.type = type;
  return name;
}

/** The repetition of an XPN field to use: the first with type `L` (legal), else the first. */
export function preferredNameRep(msg: Hl7Message, seg: number, field: number): number {
  const n = msg.repetitionCount(seg, field);
  for (let r = 1; r <= n; r++) if (comp(msg, seg, field, r, 7).toUpperCase() === 'L') return r;
  return 1;
}

/** A doctor (XCN) as `FAMILY^GIVEN` (given left out when empty), else the ID; `''` when neither. */
export function doctorText(msg: Hl7Message, seg: number, field: number, rep = 1): string {
  const family = comp(msg, seg, field, rep, 2, 1);
  const given = comp(msg, seg, field, rep, 3);
  if (family !== '') return given !== '' ? `${family}^${given}` : family;
  return comp(msg, seg, field, rep, 1);
}

/** A doctor update per the null rule (an XCN with neither name nor ID is no information). */
export function updDoctor(msg: Hl7Message, seg: number, field: number): Upd<string> {
  const v = updComposite(msg, seg, field, () => doctorText(msg, seg, field));
  return v === '' ? undefined : v;
}

function readLocation(msg: Hl7Message, seg: number, field: number): Location {
  return { pointOfCare: comp(msg, seg, field, 1, 1), room: comp(msg, seg, field, 1, 2), bed: comp(msg, seg, field, 1, 3), facility: comp(msg, seg, field, 1, 4, 1) };
}

function readAddress(msg: Hl7Message, seg: number, field: number): Address {
  return {
    street: comp(msg, seg, field, 1, 1, 1),
    other: comp(msg, seg, field, 1, 2),
    city: comp(msg, seg, field, 1, 3),
    state: comp(msg, seg, field, 1, 4),
    postalCode: comp(msg, seg, field, 1, 5),
    country: comp(msg, seg, field, 1, 6),
  };
}

/**
 * Every repetition of a CX field as identifiers (makeIdentifier, the one normalisation),
 * an empty CX-4 taking the sender's default authority.
 */
export function readIdentifiers(ctx: MapContext, seg: number, field: number): Identifier[] {
  const { msg } = ctx;
  const out: Identifier[] = [];
  if (seg < 0) return out;
  const n = msg.repetitionCount(seg, field);
  for (let r = 1; r <= n; r++) {
    let ns = comp(msg, seg, field, r, 4, 1);
    const uid = comp(msg, seg, field, r, 4, 2);
    if (ns === '' && uid === '') ns = ctx.sender.defaultAuthority;
    const id = makeIdentifier(msg.value(seg, field, r, 1, 0), ns, uid, comp(msg, seg, field, r, 4, 3), comp(msg, seg, field, r, 5), ctx.options.identity);
    if (id !== undefined) out.push(id);
  }
  return orderIdentifiers(ctx, out);
}

/** Puts the sender's primary authority first (stable otherwise, DOMAIN.md §4.1: by authority, not position). */
function orderIdentifiers(ctx: MapContext, ids: Identifier[]): Identifier[] {
  const primary = ctx.sender.primaryAuthority;
  if (primary === undefined || primary === '' || ids.length < 2) return ids;
  const canon = canonicalAuthority(primary, '', ctx.options.identity);
  const isPrimary = (i: Identifier): boolean => i.authority === primary || i.authorityUid === primary || canonicalAuthority(i.authority, i.authorityUid, ctx.options.identity) === canon;
  return [...ids.filter(isPrimary), ...ids.filter((i) => !isPrimary(i))];
}

/**
 * PID → PatientData. Identifiers: every PID-3 repetition; only when PID-3 holds none, the
 * legacy PID-2 and PID-4 (quirk 17). Returns undefined when no identifier is found.
 */
export function readPatient(ctx: MapContext, pid: number): PatientData | undefined {
  const { msg } = ctx;
  let identifiers = readIdentifiers(ctx, pid, 3);
  if (identifiers.length === 0) identifiers = orderIdentifiers(ctx, [...readIdentifiers(ctx, pid, 2), ...readIdentifiers(ctx, pid, 4)]);
  if (identifiers.length === 0) return undefined;
  const p: PatientData = { identifiers };
  const set = <K extends keyof PatientData>(key: K, v: PatientData[K]): void => {
    if (v !== undefined) p[key] = v;
  };
  set('name', updComposite(msg, pid, 5, () => readName(msg, pid, 5, preferredNameRep(msg, pid, 5))));
  const birth = updStr(msg, pid, 7);
  set('birthDate', birth === null || birth === undefined ? birth : hl7DateOnly(birth));
  const sex = updStr(msg, pid, 8);
  set('sex', typeof sex === 'string' ? sex.toUpperCase() : sex);
  set('address', updComposite(msg, pid, 11, () => readAddress(msg, pid, 11)));
  const phone = updComposite(msg, pid, 13, () => phoneText(msg, pid, 13));
  set('phone', phone === '' ? undefined : phone);
  set('accountNumber', updStr(msg, pid, 18));
  set('deathTime', updTime(ctx, pid, 29));
  return p;
}

/**
 * A telephone number (XTN, first repetition): XTN-1, else XTN-12 (unformatted), else
 * `+country area local` from XTN-5/6/7 (v2.5 senders leave the deprecated XTN-1 empty); `''` when none.
 */
export function phoneText(msg: Hl7Message, seg: number, field: number): string {
  const text = comp(msg, seg, field, 1, 1) || comp(msg, seg, field, 1, 12);
  if (text !== '') return text;
  const country = comp(msg, seg, field, 1, 5);
  return [country === '' ? '' : `+${country}`, comp(msg, seg, field, 1, 6), comp(msg, seg, field, 1, 7)].filter((x) => x !== '').join(' ');
}

/** True for a missing PV1 or the dummy `PV1||N` some senders put in A28/A31 (quirk 10). */
export function isDummyPv1(msg: Hl7Message, pv1: number): boolean {
  if (pv1 < 0) return true;
  const cls = msg.value(pv1, 2, 1, 1).trim().toUpperCase();
  if (cls !== 'N' && cls !== '') return false;
  for (const f of [3, 6, 7, 8, 19, 44, 45]) {
    const p = msg.presenceAt(pv1, f, 1, 0, 0);
    if (p === Presence.Value || p === Presence.Null) return false;
  }
  return true;
}

/** PV1 → VisitData per the null rule. */
export function readVisit(ctx: MapContext, pv1: number): VisitData {
  const { msg } = ctx;
  const v: VisitData = {};
  if (pv1 < 0) return v;
  const set = <K extends keyof VisitData>(key: K, value: VisitData[K]): void => {
    if (value !== undefined) v[key] = value;
  };
  set('patientClass', updStr(msg, pv1, 2));
  set('location', updComposite(msg, pv1, 3, () => readLocation(msg, pv1, 3)));
  set('priorLocation', updComposite(msg, pv1, 6, () => readLocation(msg, pv1, 6)));
  set('attendingDoctor', updDoctor(msg, pv1, 7));
  set('referringDoctor', updDoctor(msg, pv1, 8));
  set('visitNumber', updStr(msg, pv1, 19));
  set('admitTime', updTime(ctx, pv1, 44));
  set('dischargeTime', updTime(ctx, pv1, 45));
  return v;
}

/** Decoded text of one repetition, components and subcomponents put back with `^`/`&` (text fields with stray delimiters, quirk 6). */
export function literalText(msg: Hl7Message, seg: number, field: number, rep: number, render: Render = Render.Text): string {
  const nc = Math.max(1, msg.componentCount(seg, field, rep));
  const parts: string[] = [];
  for (let c = 1; c <= nc; c++) {
    const ns = Math.max(1, msg.subcomponentCount(seg, field, rep, c));
    const subs: string[] = [];
    for (let s = 1; s <= ns; s++) subs.push(msg.value(seg, field, rep, c, s, render));
    parts.push(subs.join('&'));
  }
  return parts.join('^');
}
