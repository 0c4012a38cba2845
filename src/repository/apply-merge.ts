/**
 * A40/A34 merges (DOMAIN.md §4.3, quirk 16): move what the absorbed patient holds to the
 * survivor and leave a never-reused tombstone pointing at it.
 */
import { ConversionErrorCode, type Change } from '../converter/changes.js';
import { EventType } from '../events/types.js';
import type { Patient, PersonName } from './model.js';
import { MergedSourcePolicy } from './options.js';
import { DbName, SEP, lastPart } from './store.js';
import { emitEvent, reject, type ApplyContext } from './apply-context.js';
import { createPatient, findSurvivor, mrgOwners, ownersOf, putMergeRecord, requireIds, resolvePatientKey } from './apply-patient.js';

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
  const sourceOwners = mrgOwners(ctx, change.source, ConversionErrorCode.MergeConflict);
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
      },
      [target.key, placeholder.key],
    );
    emitEvent(ctx, EventType.PatientMerged, { survivor: target, source: placeholder, movedOrders: [], movedReports: [], movedVisits: [] });
    return;
  }
  mergeInto(ctx, ctx.tx.entity('patient', sRaw) as Patient, target, change.priorName);
}

