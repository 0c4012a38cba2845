/**
 * ADT → change records (DOMAIN.md §4.2, §4.3).
 *
 * - A01/A04/A05/A08/A02/A03/A06/A07/A11/A12/A13: `patient.upsert` with the visit event and
 *   the PV1 data (an absent or dummy PV1 gives empty visit data: the applier acts on the
 *   patient's current visit). A08 with a dummy PV1 carries no visit.
 * - A28/A31: `patient.upsert`, with a visit `update` only when PV1 is real (not `PV1||N`).
 * - A40 (and legacy A34): one `patient.merge` per {PID, MRG} group, in message order.
 * - A35: `account.move` of MRG-3 to the PID patient. A47: `patient.change-id` MRG-1 → PID-3.
 * - A24/A37: `patient.link` / `patient.unlink` of the first two PIDs.
 * - Other triggers, and triggers listed in the sender's `ignoreEvents`: no change, AA.
 */
import { type Change, VisitEvent } from '../changes.js';
import { type MapContext, type MapOutcome, isDummyPv1, missingField, readIdentifiers, readName, readPatient, readVisit } from './common.js';
import type { PersonName } from '../../repository/model.js';

const VISIT_EVENTS: Readonly<Record<string, VisitEvent>> = {
  A01: VisitEvent.Admit,
  A04: VisitEvent.Register,
  A05: VisitEvent.PreAdmit,
  A08: VisitEvent.Update,
  A02: VisitEvent.Transfer,
  A03: VisitEvent.Discharge,
  A06: VisitEvent.ClassChange,
  A07: VisitEvent.ClassChange,
  A11: VisitEvent.CancelAdmit,
  A12: VisitEvent.CancelTransfer,
  A13: VisitEvent.CancelDischarge,
};

/** Maps an ADT message (any supported trigger, see the module comment). */
export function mapAdt(ctx: MapContext): MapOutcome {
  const { msg } = ctx;
  const trigger = ctx.context.triggerEvent;
  if (ctx.sender.ignoreEvents.includes(trigger)) return { changes: [], ignored: `ADT ${trigger} ignored for sender ${ctx.context.sender} (ignoreEvents)` };
  const visitEvent = VISIT_EVENTS[trigger];
  if (visitEvent !== undefined || trigger === 'A28' || trigger === 'A31') {
    const pid = msg.segmentIndex('PID');
    const patient = readPatient(ctx, pid);
    if (patient === undefined) return missingField('PID', 3, 'patient identifier list');
    const pv1 = msg.segmentIndex('PV1');
    const dummy = isDummyPv1(msg, pv1);
    const change: Change = { op: 'patient.upsert', patient };
    if (visitEvent !== undefined && !(visitEvent === VisitEvent.Update && dummy)) {
      change.visit = { event: visitEvent, data: dummy ? {} : readVisit(ctx, pv1) };
    } else if (visitEvent === undefined && !dummy) {
      change.visit = { event: VisitEvent.Update, data: readVisit(ctx, pv1) };
    }
    return { changes: [change] };
  }
  switch (trigger) {
    case 'A40':
    case 'A34':
      return mapMerge(ctx, trigger);
    case 'A35':
      return mapAccountMove(ctx);
    case 'A47':
      return mapChangeId(ctx);
    case 'A24':
    case 'A37':
      return mapLink(ctx, trigger === 'A24' ? 'patient.link' : 'patient.unlink');
    default:
      return { changes: [], ignored: `unsupported ADT event ${trigger === '' ? '(none)' : trigger}` };
  }
}

/** The MRG segment of the group opened by the PID at `pid`: after it, before the next PID. */
function mrgOf(ctx: MapContext, pid: number): number {
  const mrg = ctx.msg.segmentIndex('MRG', 1, pid + 1);
  if (mrg < 0) return -1;
  const nextPid = ctx.msg.segmentIndex('PID', 1, pid + 1);
  return nextPid >= 0 && nextPid < mrg ? -1 : mrg;
}

function priorName(ctx: MapContext, mrg: number): PersonName | undefined {
  if (ctx.msg.repetitionCount(mrg, 7) === 0) return undefined;
  const name = readName(ctx.msg, mrg, 7);
  return name.family === '' && name.given === '' ? undefined : name;
}

/** A40 (repeating {PID, MRG}) and A34: one merge per group, in order. */
function mapMerge(ctx: MapContext, trigger: string): MapOutcome {
  const { msg } = ctx;
  const changes: Change[] = [];
  let pid = msg.segmentIndex('PID');
  if (pid < 0) return missingField('PID', 3, 'patient identifier list');
  while (pid >= 0) {
    const target = readPatient(ctx, pid);
    if (target === undefined) return missingField('PID', 3, 'patient identifier list');
    const mrg = mrgOf(ctx, pid);
    const source = readIdentifiers(ctx, mrg, 1);
    if (source.length === 0) return missingField('MRG', 1, 'prior patient identifier list');
    const change: Change = { op: 'patient.merge', target, source, trigger };
    const prior = priorName(ctx, mrg);
    if (prior !== undefined) change.priorName = prior;
    changes.push(change);
    pid = msg.segmentIndex('PID', 1, pid + 1);
  }
  return { changes };
}

/** A35: the account MRG-3 moves to the PID patient. */
function mapAccountMove(ctx: MapContext): MapOutcome {
  const pid = ctx.msg.segmentIndex('PID');
  const target = readPatient(ctx, pid);
  if (target === undefined) return missingField('PID', 3, 'patient identifier list');
  const mrg = pid < 0 ? -1 : mrgOf(ctx, pid);
  const account = mrg < 0 ? '' : ctx.msg.value(mrg, 3, 1, 1).trim();
  if (account === '' || account === '""') return missingField('MRG', 3, 'prior patient account number');
  return { changes: [{ op: 'account.move', target, sourceAccount: account }] };
}

/** A47: MRG-1 identifiers become the PID-3 identifiers of the same patient. */
function mapChangeId(ctx: MapContext): MapOutcome {
  const pid = ctx.msg.segmentIndex('PID');
  const patient = readPatient(ctx, pid);
  if (patient === undefined) return missingField('PID', 3, 'patient identifier list');
  const source = readIdentifiers(ctx, pid < 0 ? -1 : mrgOf(ctx, pid), 1);
  if (source.length === 0) return missingField('MRG', 1, 'prior patient identifier list');
  return { changes: [{ op: 'patient.change-id', patient, source }] };
}

/** A24/A37: the first two PIDs are linked or unlinked. */
function mapLink(ctx: MapContext, op: 'patient.link' | 'patient.unlink'): MapOutcome {
  const first = ctx.msg.segmentIndex('PID');
  const second = first < 0 ? -1 : ctx.msg.segmentIndex('PID', 1, first + 1);
  const a = readPatient(ctx, first);
  const b = readPatient(ctx, second);
  if (a === undefined || b === undefined) return missingField('PID', 3, a === undefined ? 'patient identifier list' : 'second patient identifier list');
  return { changes: [{ op, a, b }] };
}
