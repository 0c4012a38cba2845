/**
 * Patient changes (DOMAIN.md §4.1–§4.3): matching by identifier, upsert with the null rules
 * and the out-of-order guard, A40 merges, A47 identifier changes, A24/A37 links, A35 account
 * moves.
 */
import { ConversionErrorCode, type Change, type PatientData } from '../converter/changes.js';
import { EventType } from '../events/types.js';
import { identifierKey } from './identity.js';
import type { Identifier, MergeRecord, Patient, PersonName } from './model.js';
import { MergedSourcePolicy } from './options.js';
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

function dedupe(ctx: ApplyContext, ids: readonly Identifier[]): Identifier[] {
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
export function createPatient(ctx: ApplyContext, data: PatientData, extra: { mergedInto?: string; name?: PersonName | null } = {}): Patient {
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
    updatedAt: ctx.time,
    createdBySeq: ctx.seq,
    updatedBySeq: ctx.seq,
  };
  if (extra.mergedInto !== undefined) p.mergedInto = extra.mergedInto;
  ctx.tx.putEntity('patient', p);
  return p;
}

function requireIds(data: PatientData): void {
  if (data.identifiers.length === 0) reject(ConversionErrorCode.MissingField, 101, 'PID-3 has no usable identifier', 'PID', 3);
}

/**
 * Finds or creates the patient a PID names and applies its data.
 *
 * - Unknown: created (`adt-create` always; otherwise only under `createUnknownPatients`, else
 *   AE 204 `UNKNOWN_PATIENT`); emits `patient.created`.
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
    const p = createPatient(ctx, data);
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

/** Writes a merge-history record under each of the patients. */
export function putMergeRecord(ctx: ApplyContext, record: MergeRecord, patientKeys: readonly string[]): void {
  const n = String(ctx.tx.next('M')).padStart(10, '0');
  for (const k of new Set(patientKeys)) ctx.tx.put(DbName.Merges, k + SEP + n, record);
}

function childKeys(ctx: ApplyContext, db: DbName, patientKey: string): string[] {
  return ctx.tx.scan(db, patientKey + SEP).map(lastPart);
}

/** Moves everything `source` holds to `survivor` and makes `source` a tombstone. */
function mergeInto(ctx: ApplyContext, source: Patient, survivor: Patient, priorName: PersonName | undefined): void {
  const movedVisits = childKeys(ctx, DbName.IdxPatientVisits, source.key);
  const movedOrders = childKeys(ctx, DbName.IdxPatientOrders, source.key);
  const movedReports = childKeys(ctx, DbName.IdxPatientReports, source.key);
  for (const k of movedVisits) {
    const v = ctx.tx.entity('visit', k);
    if (v !== undefined) ctx.tx.putEntity('visit', { ...v, patientKey: survivor.key });
  }
  for (const k of movedOrders) {
    const o = ctx.tx.entity('order', k);
    if (o !== undefined) ctx.tx.putEntity('order', { ...o, patientKey: survivor.key });
  }
  for (const k of movedReports) {
    const r = ctx.tx.entity('report', k);
    if (r !== undefined) ctx.tx.putEntity('report', { ...r, patientKey: survivor.key });
  }
  const tomb: Patient = { ...source, mergedInto: survivor.key, updatedBySeq: ctx.seq };
  ctx.tx.putEntity('patient', tomb);
  putMergeRecord(
    ctx,
    {
      kind: 'merge',
      survivorKey: survivor.key,
      sourceKey: source.key,
      sourceIdentifiers: source.identifiers,
      priorName: priorName ?? null,
      movedOrders,
      movedReports,
      movedVisits,
      messageSeq: ctx.seq,
      time: ctx.time,
    },
    [survivor.key, source.key],
  );
  emitEvent(ctx, EventType.PatientMerged, { survivor, source: tomb, movedOrders, movedReports, movedVisits });
}

/**
 * A40/A34 (DOMAIN.md §4.3, quirk 16): merges the patient named by MRG-1 into the one named by
 * PID-3. The target's demographics are not updated (only an unknown target is created from
 * the PID). An unknown source becomes a merged placeholder (name from MRG-7) so that later
 * messages citing it land on the survivor. Rejected with 205: source = target; identifiers
 * naming two patients; a source already merged into a different patient; a merge whose target
 * resolves to the source (a cycle) unless the policy is `accept-inverse`; any already-merged
 * source under `reject`.
 */
export function mergePatient(ctx: ApplyContext, change: Extract<Change, { op: 'patient.merge' }>): void {
  requireIds(change.target);
  if (change.source.length === 0) reject(ConversionErrorCode.MissingField, 101, 'MRG-1 has no usable identifier', 'MRG', 1);
  const sourceOwners = ownersOf(ctx, change.source);
  if (sourceOwners.length > 1) {
    reject(ConversionErrorCode.MergeConflict, 205, `MRG-1 identifiers belong to different patients (${sourceOwners.join(', ')})`, 'MRG', 1);
  }
  const targetOwners = ownersOf(ctx, change.target.identifiers);
  const sRaw = sourceOwners[0];
  if (sRaw !== undefined && targetOwners.includes(sRaw)) {
    reject(ConversionErrorCode.MergeConflict, 205, `merge source and target are the same patient (${sRaw})`, 'MRG', 1);
  }
  let target = findSurvivor(ctx, change.target.identifiers);
  const policy = ctx.policies.mergedSourcePolicy;
  if (sRaw !== undefined) {
    const source = ctx.tx.entity('patient', sRaw) as Patient;
    const sourceSurvivor = resolvePatientKey(ctx, sRaw);
    if (target !== undefined && target.key === sourceSurvivor) {
      if (source.mergedInto !== undefined) {
        if (policy === MergedSourcePolicy.Reject) {
          reject(ConversionErrorCode.MergeConflict, 205, `patient ${sRaw} is already merged into ${target.key}`, 'MRG', 1);
        }
        return; // a repeated merge: nothing to do
      }
      // The target's identifiers name a tombstone whose chain ends at the source: B→A after A→B.
      if (policy !== MergedSourcePolicy.AcceptInverse) {
        reject(ConversionErrorCode.MergeConflict, 205, `merging ${sRaw} into ${target.key} would create a merge cycle`, 'MRG', 1);
      }
      const tRaw = targetOwners.find((k) => k !== sRaw) as string;
      const revived = { ...(ctx.tx.entity('patient', tRaw) as Patient), updatedBySeq: ctx.seq };
      delete revived.mergedInto;
      ctx.tx.putEntity('patient', revived);
      mergeInto(ctx, source, revived, change.priorName);
      return;
    }
    if (source.mergedInto !== undefined) {
      reject(ConversionErrorCode.MergeConflict, 205, `patient ${sRaw} is already merged into ${sourceSurvivor}`, 'MRG', 1);
    }
  }
  if (target === undefined) {
    target = createPatient(ctx, change.target);
    emitEvent(ctx, EventType.PatientCreated, { patient: target });
  }
  if (sRaw === undefined) {
    const placeholder = createPatient(ctx, { identifiers: change.source }, { mergedInto: target.key, name: change.priorName ?? null });
    putMergeRecord(
      ctx,
      {
        kind: 'merge',
        survivorKey: target.key,
        sourceKey: placeholder.key,
        sourceIdentifiers: placeholder.identifiers,
        priorName: change.priorName ?? null,
        movedOrders: [],
        movedReports: [],
        movedVisits: [],
        messageSeq: ctx.seq,
        time: ctx.time,
      },
      [target.key, placeholder.key],
    );
    emitEvent(ctx, EventType.PatientMerged, { survivor: target, source: placeholder, movedOrders: [], movedReports: [], movedVisits: [] });
    return;
  }
  mergeInto(ctx, ctx.tx.entity('patient', sRaw) as Patient, target, change.priorName);
}

/**
 * A47 (DOMAIN.md §4.3): replaces the MRG-1 identifiers by PID-3's on the patient that carries
 * MRG-1. A PID-3 identifier that belongs to another patient is a merge in disguise: 205.
 * An unknown MRG-1 whose new identifiers are already known is a repeat (no-op); otherwise the
 * patient is created per `createUnknownPatients`. Emits `patient.identifiers-changed`.
 */
export function changePatientIds(ctx: ApplyContext, change: Extract<Change, { op: 'patient.change-id' }>): void {
  requireIds(change.patient);
  if (change.source.length === 0) reject(ConversionErrorCode.MissingField, 101, 'MRG-1 has no usable identifier', 'MRG', 1);
  const owners = ownersOf(ctx, change.source);
  if (owners.length > 1) {
    reject(ConversionErrorCode.IdentifierConflict, 205, `MRG-1 identifiers belong to different patients (${owners.join(', ')})`, 'MRG', 1);
  }
  const newOwners = ownersOf(ctx, change.patient.identifiers);
  const pKey = owners[0];
  if (pKey === undefined) {
    if (newOwners.length > 0) return;
    upsertPatient(ctx, change.patient, 'adt-update');
    return;
  }
  const survivor = resolvePatientKey(ctx, pKey);
  for (const o of newOwners) {
    if (o !== pKey && resolvePatientKey(ctx, o) !== survivor) {
      reject(ConversionErrorCode.IdentifierConflict, 205, `PID-3 identifier already belongs to patient ${o}`, 'PID', 3);
    }
  }
  const previous = ctx.tx.entity('patient', pKey) as Patient;
  const old = new Set(change.source.map((i) => identifierKey(i, ctx.identity)));
  const ids = dedupe(ctx, [...previous.identifiers.filter((i) => !old.has(identifierKey(i, ctx.identity))), ...change.patient.identifiers]);
  if (sameData({ ids }, { ids: previous.identifiers })) return;
  const patient: Patient = { ...previous, identifiers: ids, updatedBySeq: ctx.seq };
  ctx.tx.putEntity('patient', patient);
  putMergeRecord(
    ctx,
    {
      kind: 'change-id',
      survivorKey: patient.key,
      sourceKey: null,
      sourceIdentifiers: previous.identifiers,
      priorName: null,
      movedOrders: [],
      movedReports: [],
      movedVisits: [],
      messageSeq: ctx.seq,
      time: ctx.time,
    },
    [patient.key],
  );
  emitEvent(ctx, EventType.PatientIdentifiersChanged, { patient, previous });
}

/**
 * A24 / A37: adds or removes a cross-reference between two patients (both sides); no data
 * moves. A24 creates unknown patients per `createUnknownPatients`; A37 naming an unknown
 * patient, or two patients that are not linked, is a no-op. The same patient twice is a no-op.
 */
export function linkPatients(ctx: ApplyContext, change: Extract<Change, { op: 'patient.link' | 'patient.unlink' }>): void {
  const link = change.op === 'patient.link';
  let a: Patient | undefined;
  let b: Patient | undefined;
  if (link) {
    a = upsertPatient(ctx, change.a, 'mention');
    b = upsertPatient(ctx, change.b, 'mention');
  } else {
    requireIds(change.a);
    requireIds(change.b);
    a = findSurvivor(ctx, change.a.identifiers);
    b = findSurvivor(ctx, change.b.identifiers);
    if (a === undefined || b === undefined) return;
  }
  if (a.key === b.key || a.links.includes(b.key) === link) return;
  const edit = (p: Patient, other: string): Patient => ({
    ...p,
    links: link ? [...p.links, other].sort() : p.links.filter((k) => k !== other),
    updatedBySeq: ctx.seq,
  });
  const na = edit(a, b.key);
  const nb = edit(b, a.key);
  ctx.tx.putEntity('patient', na);
  ctx.tx.putEntity('patient', nb);
  putMergeRecord(
    ctx,
    {
      kind: link ? 'link' : 'unlink',
      survivorKey: na.key,
      sourceKey: nb.key,
      sourceIdentifiers: nb.identifiers,
      priorName: null,
      movedOrders: [],
      movedReports: [],
      movedVisits: [],
      messageSeq: ctx.seq,
      time: ctx.time,
    },
    [na.key, nb.key],
  );
  emitEvent(ctx, link ? EventType.PatientLinked : EventType.PatientUnlinked, { a: na, b: nb });
}

/**
 * A35: the account MRG-3 moves to the PID patient (no patient merge). Every other patient
 * holding that account loses it; the target's account becomes PID-18 when given, else the
 * moved account. Emits `patient.updated` for each patient changed.
 */
export function moveAccount(ctx: ApplyContext, change: Extract<Change, { op: 'account.move' }>): void {
  const target = upsertPatient(ctx, { identifiers: change.target.identifiers }, 'adt-update');
  const holders = ctx.tx.scan(DbName.IdxAccount, part(change.sourceAccount) + SEP).map(lastPart);
  const newAccount = typeof change.target.accountNumber === 'string' ? change.target.accountNumber : change.sourceAccount;
  let from: string | null = null;
  for (const h of holders) {
    if (h === target.key) continue;
    const previous = ctx.tx.entity('patient', h) as Patient;
    const patient: Patient = { ...previous, accountNumber: null, updatedBySeq: ctx.seq };
    ctx.tx.putEntity('patient', patient);
    emitEvent(ctx, EventType.PatientUpdated, { patient, previous });
    from = h;
  }
  const current = ctx.tx.entity('patient', target.key) as Patient;
  if (current.accountNumber === newAccount && from === null) return;
  if (current.accountNumber !== newAccount) {
    const patient: Patient = { ...current, accountNumber: newAccount, updatedBySeq: ctx.seq };
    ctx.tx.putEntity('patient', patient);
    emitEvent(ctx, EventType.PatientUpdated, { patient, previous: current });
  }
  putMergeRecord(
    ctx,
    {
      kind: 'account-move',
      survivorKey: target.key,
      sourceKey: from,
      sourceIdentifiers: [],
      priorName: null,
      movedOrders: [],
      movedReports: [],
      movedVisits: [],
      messageSeq: ctx.seq,
      time: ctx.time,
    },
    from === null ? [target.key] : [target.key, from],
  );
}
