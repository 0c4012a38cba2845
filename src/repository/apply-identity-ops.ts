/**
 * Identifier operations without a merge: A47 identifier change, A24/A37 links, A35 account
 * move (DOMAIN.md §4.2, §4.3).
 */
import { ConversionErrorCode, type Change } from '../converter/changes.js';
import { EventType } from '../events/types.js';
import { identifierKey } from './identity.js';
import type { Patient } from './model.js';
import { DbName, SEP, lastPart, part } from './store.js';
import { emitEvent, reject, type ApplyContext } from './apply-context.js';
import { sameData } from './canonical.js';
import { dedupe, findSurvivor, mrgOwners, ownersOf, putMergeRecord, requireIds, resolvePatientKey, upsertPatient } from './apply-patient.js';

/**
 * A47 (DOMAIN.md §4.3): replaces the MRG-1 identifiers by PID-3's on the patient that carries
 * MRG-1. A PID-3 identifier that belongs to another patient is a merge in disguise: 205.
 * An unknown MRG-1 whose new identifiers are already known is a repeat (no-op); otherwise the
 * patient is created per `createUnknownPatients`. Emits `patient.identifiers-changed`.
 */
export function changePatientIds(ctx: ApplyContext, change: Extract<Change, { op: 'patient.change-id' }>): void {
  requireIds(change.patient);
  const owners = mrgOwners(ctx, change.source, ConversionErrorCode.IdentifierConflict);
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
    },
    from === null ? [target.key] : [target.key, from],
  );
}
