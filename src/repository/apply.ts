/**
 * The applier: one message's change records → repository writes and events, all or nothing
 * (DOMAIN.md §4). Runs inside the converter's write transaction; deterministic (keys from
 * counters in the environment, times only from the message), so a rebuild from the inbound
 * log reaches the same state.
 */
import { ConversionErrorCode, type Change, type ConversionError, type MessageContext } from '../converter/changes.js';
import type { NewEvent } from '../events/types.js';
import type { RootDatabase } from 'lmdb';
import type { IdentityOptions } from './identity.js';
import type { RepositoryPolicies } from './options.js';
import { Overlay, type Stores } from './store.js';
import { Rejection, reject, type ApplyContext } from './apply-context.js';
import { CREATING_TRIGGERS, upsertPatient } from './apply-patient.js';
import { mergePatient } from './apply-merge.js';
import { changePatientIds, linkPatients, moveAccount } from './apply-identity-ops.js';
import { applyVisit } from './apply-visit.js';
import { upsertOrder, upsertSchedule } from './apply-order.js';
import { upsertDocument, upsertReport } from './apply-report.js';

/** The outcome of applying one message. */
export type ApplyOutcome = { kind: 'applied' } | { kind: 'rejected'; error: ConversionError };

/** What the applier needs from the repository. */
export interface ApplierDeps {
  env: RootDatabase;
  stores: Stores;
  identity: IdentityOptions;
  policies: Readonly<RepositoryPolicies>;
}

function applyChange(ctx: ApplyContext, change: Change): void {
  switch (change.op) {
    case 'patient.upsert': {
      const mode = ctx.message.messageCode === 'ADT' ? (CREATING_TRIGGERS.has(ctx.message.triggerEvent) ? 'adt-create' : 'adt-update') : 'mention';
      const patient = upsertPatient(ctx, change.patient, mode);
      if (change.visit !== undefined) applyVisit(ctx, patient, change.visit.event, change.visit.data);
      return;
    }
    case 'patient.merge':
      return mergePatient(ctx, change);
    case 'patient.change-id':
      return changePatientIds(ctx, change);
    case 'patient.link':
    case 'patient.unlink':
      return linkPatients(ctx, change);
    case 'account.move':
      return moveAccount(ctx, change);
    case 'order.upsert':
      return upsertOrder(ctx, change);
    case 'schedule.upsert':
      return upsertSchedule(ctx, change);
    case 'report.upsert':
      return upsertReport(ctx, change);
    case 'document.upsert':
      return upsertDocument(ctx, change);
    default: {
      const unknown: never = change;
      return reject(ConversionErrorCode.Internal, 207, `unknown change op ${String((unknown as { op?: unknown }).op)}`);
    }
  }
}

/**
 * Applies one message's changes. The writes are collected in an overlay (later changes of the
 * same message read them) and written into the caller's transaction only when every change
 * is accepted; then the events are emitted in order. A rejected change, or an unexpected
 * error (reported as `INTERNAL`, 207), leaves nothing written and emits nothing.
 */
export function applyMessage(
  deps: ApplierDeps,
  result: { context: MessageContext; changes: readonly Change[] },
  messageSeq: number,
  emit: (e: NewEvent) => void,
): ApplyOutcome {
  const t = result.context.eventTime;
  const ctx: ApplyContext = {
    tx: new Overlay(deps.stores, deps.identity),
    policies: deps.policies,
    identity: deps.identity,
    message: result.context,
    seq: messageSeq,
    time: t === undefined || !Number.isFinite(t) ? null : new Date(t).toISOString(),
    events: [],
  };
  try {
    for (const change of result.changes) applyChange(ctx, change);
  } catch (e) {
    if (e instanceof Rejection) return { kind: 'rejected', error: e.error };
    return { kind: 'rejected', error: { code: ConversionErrorCode.Internal, errCode: 207, message: `repository: ${(e as Error).message}` } };
  }
  ctx.tx.flush(deps.env);
  for (const ev of ctx.events) emit(ev);
  return { kind: 'applied' };
}
