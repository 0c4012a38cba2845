/**
 * Visit changes (DOMAIN.md §4.2): the visit is the one named by PV1-19 for the patient, else
 * the patient's newest visit in the state the event expects; VisitEvent decides the status.
 */
import { VisitEvent, type VisitData } from '../converter/changes.js';
import { EventType } from '../events/types.js';
import { VisitStatus, type Patient, type Visit } from './model.js';
import { DbName, SEP, lastPart, part } from './store.js';
import { emitEvent, isStale, newerTime, updField, type ApplyContext } from './apply-context.js';
import { sameData } from './canonical.js';

const FIELDS = ['visitNumber', 'patientClass', 'location', 'priorLocation', 'attendingDoctor', 'referringDoctor', 'admitTime', 'dischargeTime'] as const;

function keyNumber(key: string): number {
  return Number(key.slice(1));
}

/** The patient's visits, newest (highest key) first. */
export function visitsOfPatient(ctx: Pick<ApplyContext, 'tx'>, patientKey: string): Visit[] {
  return ctx.tx
    .scan(DbName.IdxPatientVisits, patientKey + SEP)
    .map((k) => ctx.tx.entity('visit', lastPart(k)))
    .filter((v): v is Visit => v !== undefined)
    .sort((a, b) => keyNumber(b.key) - keyNumber(a.key));
}

/**
 * The visit an event applies to. With PV1-19: that visit of the patient. Without: A13 takes
 * the newest closed visit; A01/A04/A05 the newest open or pending visit with the same admit
 * time (so a resent registration is not a second visit), A01/A04 else the newest pending
 * visit (the pre-admission being admitted); the others the newest open or pending visit.
 */
export function findVisit(ctx: ApplyContext, patientKey: string, event: VisitEvent, data: VisitData): Visit | undefined {
  if (typeof data.visitNumber === 'string' && data.visitNumber !== '') {
    for (const k of ctx.tx.scan(DbName.IdxVisitNumber, patientKey + SEP + part(data.visitNumber) + SEP)) {
      const v = ctx.tx.entity('visit', lastPart(k));
      if (v?.visitNumber === data.visitNumber) return v;
    }
    return undefined;
  }
  const visits = visitsOfPatient(ctx, patientKey);
  const active = (v: Visit): boolean => v.status === VisitStatus.Open || v.status === VisitStatus.Pending;
  switch (event) {
    case VisitEvent.CancelDischarge:
      return visits.find((v) => v.status === VisitStatus.Closed);
    case VisitEvent.Admit:
    case VisitEvent.Register:
      return (
        visits.find((v) => active(v) && (data.admitTime === undefined || v.admitTime === (data.admitTime ?? null))) ??
        visits.find((v) => v.status === VisitStatus.Pending)
      );
    case VisitEvent.PreAdmit:
      return visits.find((v) => active(v) && (data.admitTime === undefined || v.admitTime === (data.admitTime ?? null)));
    default:
      return visits.find(active);
  }
}

/**
 * Applies a visit event for a patient; returns the visit (undefined when a cancel names no
 * visit: nothing to cancel). A stale message (older than the visit's `updatedAt`) only fills
 * empty fields and changes no status. Events: `visit.created`, `visit.closed`,
 * `visit.cancelled`, else `visit.updated` `{visit, previous}`; none for a no-op.
 */
export function applyVisit(ctx: ApplyContext, patient: Patient, event: VisitEvent, data: VisitData): Visit | undefined {
  const found = findVisit(ctx, patient.key, event, data);
  if (found === undefined) {
    if (event === VisitEvent.CancelAdmit || event === VisitEvent.CancelTransfer || event === VisitEvent.CancelDischarge) return undefined;
    const status =
      event === VisitEvent.PreAdmit
        ? VisitStatus.Pending
        : event === VisitEvent.Discharge || (typeof data.dischargeTime === 'string' && event !== VisitEvent.Admit && event !== VisitEvent.Register)
          ? VisitStatus.Closed
          : VisitStatus.Open;
    const visit: Visit = {
      key: 'V' + ctx.tx.next('V'),
      patientKey: patient.key,
      visitNumber: data.visitNumber ?? null,
      patientClass: data.patientClass ?? null,
      location: data.location ?? null,
      priorLocation: data.priorLocation ?? null,
      attendingDoctor: data.attendingDoctor ?? null,
      referringDoctor: data.referringDoctor ?? null,
      admitTime: data.admitTime ?? null,
      dischargeTime: data.dischargeTime ?? (status === VisitStatus.Closed ? ctx.time : null),
      status,
      history: [{ status, time: ctx.time, messageSeq: ctx.seq, event }],
      updatedAt: ctx.time,
    };
    ctx.tx.putEntity('visit', visit);
    emitEvent(ctx, EventType.VisitCreated, { visit });
    return visit;
  }
  const stale = isStale(ctx, found.updatedAt);
  const next: Visit = { ...found, patientKey: patient.key };
  let status: VisitStatus = found.status;
  if (event === VisitEvent.CancelAdmit) {
    status = VisitStatus.Cancelled;
  } else if (event === VisitEvent.CancelTransfer) {
    if (!stale) {
      next.location = data.location ?? found.priorLocation;
      next.priorLocation = null;
    }
  } else if (event === VisitEvent.CancelDischarge) {
    status = VisitStatus.Open;
    if (!stale) next.dischargeTime = null;
  } else {
    const mode = stale ? 'fill' : 'replace';
    for (const f of FIELDS) {
      (next as unknown as Record<string, unknown>)[f] = updField<unknown>(found[f], data[f], mode);
    }
    if (event === VisitEvent.Transfer && !stale && data.priorLocation === undefined && data.location !== undefined && !sameData({ l: found.location }, { l: next.location })) {
      next.priorLocation = found.location;
    }
    if (event === VisitEvent.Admit || event === VisitEvent.Register) status = VisitStatus.Open;
    if (event === VisitEvent.Discharge) {
      status = VisitStatus.Closed;
      if (next.dischargeTime === null) next.dischargeTime = ctx.time;
    }
  }
  if (stale) status = found.status;
  if (status !== found.status) next.history = [...found.history, { status, time: ctx.time, messageSeq: ctx.seq, event }];
  next.status = status;
  next.updatedAt = newerTime(ctx, found.updatedAt);
  const changed = !sameData(found, next, ['updatedAt']);
  if (!changed && next.updatedAt === found.updatedAt) return found;
  ctx.tx.putEntity('visit', next);
  if (!changed) return next;
  const type =
    status !== found.status && status === VisitStatus.Closed
      ? EventType.VisitClosed
      : status !== found.status && status === VisitStatus.Cancelled
        ? EventType.VisitCancelled
        : EventType.VisitUpdated;
  emitEvent(ctx, type, { visit: next, previous: found });
  return next;
}
