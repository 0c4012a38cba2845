/**
 * Patients (DOMAIN.md §4.1): matching by identifier through merge chains, creation, upsert
 * with the null rules and the out-of-order guard, and the merge-history records that
 * apply-merge.ts and apply-identity-ops.ts write.
 */
import { ConversionErrorCode, type PatientData } from '../converter/changes.js';
import { EventType } from '../events/types.js';
import { identifierKey } from './identity.js';
import type { Identifier, MergeRecord, Patient, PersonName } from './model.js';
import { DbName, SEP, lastPart, part } from './store.js';
import { emitEvent, isStale, newerTime, reject, updField, type ApplyContext } from './apply-context.js';
import { sameData } from './canonical.js';

/** How a message treats the patient its PID names. */
export type PatientMode =
  /** A01/A04/A05/A28: always creates; PID replaces demographics (null rules, PID-3 snapshot). */
  | 'adt-create'
  /** Other ADT (A08, A31, A02…): creates per `createUnknownPatients`; PID replaces demographics. */
  | 'adt-update'
  /** ORM/OMI/ORU/SIU/MDM, A24: creates per policy; only adds identifiers and fills empty fields. */
  | 'mention';

/** ADT triggers that register a patient, whatever the policy. */
export const CREATING_TRIGGERS: ReadonlySet<string> = new Set(['A01', 'A04', 'A05', 'A28']);

const DEMOGRAPHICS = ['name', 'birthDate', 'sex', 'address', 'phone', 'accountNumber', 'deathTime'] as const;
/** Bookkeeping fields that do not make an update an event. */
export const PATIENT_BOOKKEEPING = ['updatedAt', 'updatedBySeq'] as const;

/** Follows `mergedInto` to the final survivor; a cycle (never written by this applier) is rejected. */
export function resolvePatientKey(ctx: Pick<ApplyContext, 'tx'>, key: string): string {
  const seen = new Set<string>();
  let k = key;
  for (;;) {
    if (seen.has(k)) reject(ConversionErrorCode.MergeConflict, 205, `merge chain of patient ${key} is a cycle`);
    seen.add(k);
    const p = ctx.tx.entity('patient', k);
    if (p?.mergedInto === undefined) return k;
    k = p.mergedInto;
  }
}

/** The patients (raw keys, tombstones included) that carry any of the identifiers, in first-seen order. */
export function ownersOf(ctx: Pick<ApplyContext, 'tx' | 'identity'>, ids: readonly Identifier[]): string[] {
  const out: string[] = [];
  for (const id of ids) {
    const want = identifierKey(id, ctx.identity);
    for (const k of ctx.tx.scan(DbName.IdxIdentifier, part(want) + SEP)) {
      const key = lastPart(k);
      if (out.includes(key)) continue;
      // The index key may be cut (store.ts `part`): confirm on the patient itself.
      if (want.length > 200 && ctx.tx.entity('patient', key)?.identifiers.some((i) => identifierKey(i, ctx.identity) === want) !== true) continue;
      out.push(key);
    }
  }
  return out;
}

/** The survivor that the identifiers name, or undefined; identifiers naming two survivors are a 205 conflict. */
export function findSurvivor(ctx: ApplyContext, ids: readonly Identifier[], what = 'PID-3'): Patient | undefined {
  const survivors = [...new Set(ownersOf(ctx, ids).map((k) => resolvePatientKey(ctx, k)))];
  if (survivors.length > 1) {
    reject(ConversionErrorCode.IdentifierConflict, 205, `${what} identifiers belong to different patients (${survivors.join(', ')})`, 'PID', 3);
  }
  return survivors[0] === undefined ? undefined : ctx.tx.entity('patient', survivors[0]);
}

/** Drops repeated identifiers (same matching key), keeping the first. */
export function dedupe(ctx: ApplyContext, ids: readonly Identifier[]): Identifier[] {
  const seen = new Set<string>();
  const out: Identifier[] = [];
  for (const id of ids) {
    const k = identifierKey(id, ctx.identity);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(id);
  }
  return out;
}

/**
 * An identifier already stored under the same matching key keeps its stored spelling, with
 * parts the stored one lacks (HD-2/HD-3, CX-5) taken from the message: `HOSP` and
 * `HOSP&1.2.3&ISO`, or an aliased OID, are one identifier and do not flip-flop (quirk 17).
 */
function respell(ctx: ApplyContext, stored: readonly Identifier[], ids: Identifier[]): Identifier[] {
  const byKey = new Map(stored.map((i) => [identifierKey(i, ctx.identity), i]));
  return ids.map((i) => {
    const s = byKey.get(identifierKey(i, ctx.identity));
    if (s === undefined) return i;
    return {
      id: s.id,
      authority: s.authority,
      authorityUid: s.authorityUid !== '' ? s.authorityUid : i.authorityUid,
      authorityUidType: s.authorityUidType !== '' ? s.authorityUidType : i.authorityUidType,
      type: s.type !== '' ? s.type : i.type,
    };
  });
}

/** Allocates a key and writes a new patient from PID data. */
export function createPatient(
  ctx: ApplyContext,
  data: PatientData,
  extra: { mergedInto?: string; name?: PersonName | null; updatedAt?: string | null } = {},
): Patient {
  const p: Patient = {
    key: 'P' + ctx.tx.next('P'),
    identifiers: dedupe(ctx, data.identifiers),
    name: extra.name !== undefined ? extra.name : (data.name ?? null),
    birthDate: data.birthDate ?? null,
    sex: data.sex ?? null,
    address: data.address ?? null,
    phone: data.phone ?? null,
    accountNumber: data.accountNumber ?? null,
    deathTime: data.deathTime ?? null,
    links: [],
    updatedAt: extra.updatedAt !== undefined ? extra.updatedAt : ctx.time,
    createdBySeq: ctx.seq,
    updatedBySeq: ctx.seq,
  };
  if (extra.mergedInto !== undefined) p.mergedInto = extra.mergedInto;
  ctx.tx.putEntity('patient', p);
  return p;
}

/**
 * The patients carrying MRG-1's identifiers (A40, A34, A47): rejects an MRG-1 without a
 * usable identifier (101) and one whose identifiers belong to different patients (205,
 * reported with `conflictCode`).
 */
export function mrgOwners(ctx: Pick<ApplyContext, 'tx' | 'identity'>, source: readonly Identifier[], conflictCode: string): string[] {
  if (source.length === 0) reject(ConversionErrorCode.MissingField, 101, 'MRG-1 has no usable identifier', 'MRG', 1);
  const owners = ownersOf(ctx, source);
  if (owners.length > 1) reject(conflictCode, 205, `MRG-1 identifiers belong to different patients (${owners.join(', ')})`, 'MRG', 1);
  return owners;
}

/** Rejects PID data without a usable identifier (101). */
export function requireIds(data: PatientData): void {
  if (data.identifiers.length === 0) reject(ConversionErrorCode.MissingField, 101, 'PID-3 has no usable identifier', 'PID', 3);
}

/**
 * Finds or creates the patient a PID names and applies its data.
 *
 * - Unknown: created (`adt-create` always; otherwise only under `createUnknownPatients`, else
 *   AE 204 `UNKNOWN_PATIENT`); emits `patient.created`. Created by a mention, its `updatedAt`
 *   stays null so that the first ADT message replaces its demographics, whatever its time.
 * - Known, ADT modes, message not older than the patient's `updatedAt`: demographics follow
 *   the null rules and PID-3 replaces the patient's own identifiers (a snapshot). Identifiers
 *   absorbed by a merge stay on the tombstone and are neither copied onto the survivor nor
 *   dropped by a snapshot, so redirection and the merge record stay intact. A PID-3 that
 *   names the survivor only through merged identifiers is not a snapshot (identifiers are
 *   only added); its demographics apply to the survivor under the same rules.
 * - Known, message older (quirk 14) or `mention` mode: nothing is replaced or deleted; new
 *   identifiers are added and empty fields filled.
 * Emits `patient.updated` `{patient, previous}` only when data changed.
 */
export function upsertPatient(ctx: ApplyContext, data: PatientData, mode: PatientMode): Patient {
  requireIds(data);
  const found = findSurvivor(ctx, data.identifiers);
  if (found === undefined) {
    if (mode !== 'adt-create' && !ctx.policies.createUnknownPatients) {
      const id = data.identifiers[0] as Identifier;
      reject(ConversionErrorCode.UnknownPatient, 204, `unknown patient ${id.id}^^^${id.authority}`, 'PID', 3);
    }
    // Demographics from a non-ADT message carry no ADT time: the first ADT replaces them,
    // however old its event time.
    const p = createPatient(ctx, data, mode === 'mention' ? { updatedAt: null } : {});
    emitEvent(ctx, EventType.PatientCreated, { patient: p });
    return p;
  }
  const stale = isStale(ctx, found.updatedAt);
  const fill = mode === 'mention' || stale ? 'fill' : 'replace';
  const next: Patient = { ...found };
  for (const f of DEMOGRAPHICS) {
    (next as unknown as Record<string, unknown>)[f] = updField<unknown>(found[f], data[f], fill);
  }
  // An identifier carried by a patient merged into this one stays on that tombstone (it
  // already resolves here); copying it would make the merge impossible to audit or undo.
  let citesOwn = false;
  const own = data.identifiers.filter((i) => {
    const owners = ownersOf(ctx, [i]);
    if (owners.includes(found.key)) citesOwn = true;
    return owners.length === 0 || owners.includes(found.key);
  });
  // A PID-3 that reaches the survivor only through merged identifiers speaks of the old
  // identity: it is no snapshot of the survivor's identifiers (it would wipe them).
  const snapshot = fill === 'replace' && citesOwn;
  next.identifiers = respell(ctx, found.identifiers, dedupe(ctx, snapshot ? own : [...found.identifiers, ...own]));
  if (mode !== 'mention') next.updatedAt = newerTime(ctx, found.updatedAt);
  const changed = !sameData(found, next, PATIENT_BOOKKEEPING);
  if (changed) next.updatedBySeq = ctx.seq;
  if (changed || next.updatedAt !== found.updatedAt) ctx.tx.putEntity('patient', next);
  if (changed) emitEvent(ctx, EventType.PatientUpdated, { patient: next, previous: found });
  return next;
}

/** Writes a merge-history record under each of the patients; absent lists default to empty. */
export function putMergeRecord(
  ctx: ApplyContext,
  record: Pick<MergeRecord, 'kind' | 'survivorKey' | 'sourceKey' | 'sourceIdentifiers'> & Partial<MergeRecord>,
  patientKeys: readonly string[],
): void {
  const full: MergeRecord = {
    kind: record.kind,
    survivorKey: record.survivorKey,
    sourceKey: record.sourceKey,
    sourceIdentifiers: record.sourceIdentifiers,
    priorName: record.priorName ?? null,
    movedOrders: record.movedOrders ?? [],
    movedReports: record.movedReports ?? [],
    movedVisits: record.movedVisits ?? [],
    messageSeq: ctx.seq,
    time: ctx.time,
  };
  const n = String(ctx.tx.next('M')).padStart(10, '0');
  for (const k of new Set(patientKeys)) ctx.tx.put(DbName.Merges, k + SEP + n, full);
}
