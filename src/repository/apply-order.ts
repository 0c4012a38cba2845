/**
 * Order changes (DOMAIN.md §4.4, §4.5): ORM/OMI groups and SIU appointments.
 */
import { ConversionErrorCode, VisitEvent, type Change, type OrderData, type PatientData, type VisitData } from '../converter/changes.js';
import { EventType } from '../events/types.js';
import { OrderStatus, type Order, type Patient } from './model.js';
import { DbName, SEP, lastPart, part } from './store.js';
import { RepositoryErrorCode, emitEvent, isStale, newerTime, reject, updField, type ApplyContext } from './apply-context.js';
import { resolvePatientKey, upsertPatient } from './apply-patient.js';
import { applyVisit, findVisit } from './apply-visit.js';
import { sameData } from './canonical.js';

type OrderKeys = Pick<OrderData, 'accession' | 'fillerOrderNumber' | 'placerOrderNumber' | 'studyInstanceUid'> & {
  fillerAppointmentId?: string;
  placerAppointmentId?: string;
};
type KeyField = keyof OrderKeys;
/** Order keys from strongest to weakest, with the index and index-key prefix each is found by. */
const KEYS: ReadonlyArray<readonly [KeyField, DbName, string]> = [
  ['accession', DbName.IdxOrderAccession, ''],
  ['fillerOrderNumber', DbName.IdxOrderFiller, ''],
  ['placerOrderNumber', DbName.IdxOrderPlacer, ''],
  ['studyInstanceUid', DbName.IdxOrderStudyUid, ''],
  ['fillerAppointmentId', DbName.IdxOrderAppointment, 'F' + SEP],
  ['placerAppointmentId', DbName.IdxOrderAppointment, 'P' + SEP],
];
const KEY_FIELDS = ['accession', 'fillerOrderNumber', 'placerOrderNumber', 'studyInstanceUid'] as const;
const DATA_FIELDS = [
  'accession',
  'placerOrderNumber',
  'fillerOrderNumber',
  'requestedProcedureId',
  'scheduledProcedureStepId',
  'studyInstanceUid',
  'scheduledAt',
  'modality',
  'procedure',
  'procedureCode',
  'bodyPart',
  'priority',
  'orderingProvider',
  'stationAeTitle',
] as const;

function str(v: string | null | undefined): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function storedKey(o: Order, f: KeyField): string | null {
  return (o[f] as string | null | undefined) ?? null;
}

/**
 * The stored order these keys name: by accession, else filler, else placer order number, else
 * Study Instance UID, else (SIU) filler, else placer appointment ID. A candidate found by a
 * weaker key is taken only if none of the stronger keys the message gives contradicts it (two
 * requested procedures of one placer order differ by accession and stay two orders).
 */
export function findOrder(ctx: ApplyContext, keys: OrderKeys): Order | undefined {
  for (let i = 0; i < KEYS.length; i++) {
    const [field, db, prefix] = KEYS[i] as (typeof KEYS)[number];
    const value = str(keys[field]);
    if (value === undefined) continue;
    for (const k of ctx.tx.scan(db, prefix + part(value) + SEP)) {
      const o = ctx.tx.entity('order', lastPart(k));
      if (o === undefined || storedKey(o, field) !== value) continue;
      const conflicts = KEYS.slice(0, i).some(([f]) => {
        const want = str(keys[f]);
        const have = storedKey(o, f);
        return want !== undefined && have !== null && have !== want;
      });
      if (!conflicts) return o;
    }
  }
  return undefined;
}

const cancelLike = (s: OrderStatus): boolean => s === OrderStatus.Cancelled || s === OrderStatus.Discontinued;

function statusEvent(status: OrderStatus, created: boolean): EventType {
  switch (status) {
    case OrderStatus.Cancelled:
      return EventType.OrderCancelled;
    case OrderStatus.Discontinued:
      return EventType.OrderDiscontinued;
    case OrderStatus.Completed:
      return EventType.OrderCompleted;
    default:
      return created ? EventType.OrderScheduled : EventType.OrderUpdated;
  }
}

/** The patient of an order message: its PID (mention mode), else the stored order's survivor. */
function orderPatient(ctx: ApplyContext, pid: PatientData | undefined, existing: Order | undefined): Patient {
  if (pid !== undefined) return upsertPatient(ctx, pid, 'mention');
  if (existing !== undefined) return ctx.tx.entity('patient', resolvePatientKey(ctx, existing.patientKey)) as Patient;
  return reject(ConversionErrorCode.MissingField, 101, 'a new order needs a PID segment', 'PID', 3);
}

function orderVisit(ctx: ApplyContext, patient: Patient, visit: VisitData | undefined): string | undefined {
  if (visit === undefined || str(visit.visitNumber) === undefined) return undefined;
  const v = findVisit(ctx, patient.key, VisitEvent.Update, visit) ?? applyVisit(ctx, patient, VisitEvent.Update, visit);
  return v?.key;
}

function setAppointment(o: Order, a: Pick<OrderKeys, 'placerAppointmentId' | 'fillerAppointmentId'>): void {
  const p = str(a.placerAppointmentId);
  const f = str(a.fillerAppointmentId);
  if (p !== undefined) o.placerAppointmentId = p;
  if (f !== undefined) o.fillerAppointmentId = f;
}

/** Creates an order or applies an update to one; shared by ORM/OMI and SIU. */
function writeOrder(
  ctx: ApplyContext,
  existing: Order | undefined,
  patient: Patient,
  data: OrderData,
  status: OrderStatus | 'keep',
  control: string,
  visitKey: string | undefined,
  appointment: Pick<OrderKeys, 'placerAppointmentId' | 'fillerAppointmentId'> = {},
): void {
  if (existing === undefined) {
    const s = status === 'keep' ? OrderStatus.Scheduled : status;
    const order: Order = {
      key: 'O' + ctx.tx.next('O'),
      patientKey: patient.key,
      visitKey: visitKey ?? null,
      accession: data.accession ?? null,
      placerOrderNumber: data.placerOrderNumber ?? null,
      fillerOrderNumber: data.fillerOrderNumber ?? null,
      requestedProcedureId: data.requestedProcedureId ?? null,
      scheduledProcedureStepId: data.scheduledProcedureStepId ?? null,
      studyInstanceUid: data.studyInstanceUid ?? null,
      status: s,
      scheduledAt: data.scheduledAt ?? null,
      modality: data.modality ?? null,
      procedure: data.procedure ?? null,
      procedureCode: data.procedureCode ?? null,
      bodyPart: data.bodyPart ?? null,
      priority: data.priority ?? null,
      orderingProvider: data.orderingProvider ?? null,
      stationAeTitle: data.stationAeTitle ?? null,
      history: [{ status: s, time: ctx.time, messageSeq: ctx.seq, control }],
      updatedAt: ctx.time,
    };
    setAppointment(order, appointment);
    ctx.tx.putEntity('order', order);
    emitEvent(ctx, statusEvent(s, true), { order, previous: null });
    return;
  }
  const stale = isStale(ctx, existing.updatedAt);
  const next: Order = { ...existing, patientKey: stale ? existing.patientKey : patient.key };
  for (const f of DATA_FIELDS) {
    (next as unknown as Record<string, unknown>)[f] = updField<unknown>(existing[f], data[f], stale ? 'fill' : 'replace');
  }
  if (visitKey !== undefined && !stale) next.visitKey = visitKey;
  if (!stale) setAppointment(next, appointment);
  const s = stale || status === 'keep' ? existing.status : status;
  if (s !== existing.status) next.history = [...existing.history, { status: s, time: ctx.time, messageSeq: ctx.seq, control }];
  next.status = s;
  next.updatedAt = newerTime(ctx, existing.updatedAt);
  const changed = !sameData(existing, next, ['updatedAt']);
  if (changed || next.updatedAt !== existing.updatedAt) ctx.tx.putEntity('order', next);
  if (changed) emitEvent(ctx, s !== existing.status ? statusEvent(s, false) : EventType.OrderUpdated, { order: next, previous: existing });
}

/**
 * ORM^O01 / OMI^O23 group (RAD-4/RAD-13). The status comes from the mapper (ORC-1 × ORC-5),
 * except that XO with an empty ORC-5 keeps the stored status (quirk 23). Cancel never deletes.
 * CA/DC/OC for an unseen order follows `unknownOrderCancel`. A message older than the order's
 * `updatedAt` only fills empty fields and changes no status. The order moves to the patient
 * the message's PID names. Events: `order.scheduled` (new), `order.cancelled|completed|
 * discontinued` (status reached), else `order.updated`, each `{order, previous}`.
 */
export function upsertOrder(ctx: ApplyContext, change: Extract<Change, { op: 'order.upsert' }>): void {
  const d = change.order;
  if (KEY_FIELDS.every((f) => str(d[f]) === undefined)) {
    reject(ConversionErrorCode.MissingField, 101, 'order has no accession, order number or Study Instance UID', 'OBR', 18);
  }
  const existing = findOrder(ctx, d);
  if (existing === undefined && cancelLike(change.status) && ctx.policies.unknownOrderCancel === 'reject') {
    reject(RepositoryErrorCode.UnknownOrder, 204, `${change.control} for an unknown order`, 'ORC', 1);
  }
  const patient = orderPatient(ctx, change.patient, existing);
  const visitKey = orderVisit(ctx, patient, change.visit);
  const keep = change.control === 'XO' && change.orderStatus.trim() === '';
  writeOrder(ctx, existing, patient, d, keep ? 'keep' : change.status, change.control, visitKey);
}

/**
 * SIU^S12–S15 (RAD-48, by site agreement): finds the order by accession, filler, placer order
 * number, then filler / placer appointment ID (SCH-2 / SCH-1, stored on the order) and updates
 * its scheduled time, procedure and modality, or creates it (`scheduled`). Only S15 (`cancelled`) changes the status, to `cancelled` (an unseen order
 * follows `unknownOrderCancel`); SCH-25 is not read. S12/S13/S14 never revive a cancelled order.
 */
export function upsertSchedule(ctx: ApplyContext, change: Extract<Change, { op: 'schedule.upsert' }>): void {
  const a = change.appointment;
  const keys: OrderKeys = {
    accession: a.accession,
    fillerOrderNumber: a.fillerOrderNumber,
    placerOrderNumber: a.placerOrderNumber,
    fillerAppointmentId: a.fillerAppointmentId,
    placerAppointmentId: a.placerAppointmentId,
  };
  if (KEYS.every(([f]) => str(keys[f]) === undefined)) {
    reject(ConversionErrorCode.MissingField, 101, 'appointment has no accession, order number or appointment ID', 'SCH', 1);
  }
  const existing = findOrder(ctx, keys);
  const cancelled = change.event === 'cancelled';
  if (existing === undefined && cancelled && ctx.policies.unknownOrderCancel === 'reject') {
    reject(RepositoryErrorCode.UnknownOrder, 204, 'S15 for an unknown order', 'SCH', 26);
  }
  const patient = orderPatient(ctx, change.patient, existing);
  const data: OrderData = {
    accession: a.accession,
    fillerOrderNumber: a.fillerOrderNumber,
    placerOrderNumber: a.placerOrderNumber,
    scheduledAt: a.scheduledAt,
    modality: a.modality,
    procedure: a.procedure,
  };
  const control = ctx.message.triggerEvent !== '' ? ctx.message.triggerEvent : change.event;
  writeOrder(ctx, existing, patient, data, cancelled ? OrderStatus.Cancelled : 'keep', control, undefined, keys);
}
