/**
 * ORM^O01 (v2.3.1 + IHE ZDS), OMI^O23 and OMG^O19 (v2.5.1) → `order.upsert` records
 * (DOMAIN.md §4.4). Every ORC group is read (dcm4chee reads only the first); in OMI one record
 * per IPC (requested procedure / scheduled step), or one from the OBR when there is no IPC.
 *
 * A group runs from its ORC to the next ORC. Its fields:
 * - placer ORC-2.1 else OBR-2.1; filler ORC-3.1 else OBR-3.1;
 * - accession at the sender's `accession` (ORM) or `omiAccession` (OMI/OMG) location;
 * - requested procedure ID OBR-19 / IPC-2, SPS ID OBR-20 / IPC-4, modality OBR-24 / IPC-5.1,
 *   Study Instance UID ZDS-1.1 / IPC-3.1 (absent when neither is sent), station AE IPC-9;
 * - procedure OBR-4 (coded), procedure code OBR-44 (coded);
 * - scheduled start ORC-7.4 else OBR-27.4 else TQ1-7 (OMI: TQ1-7 first), ISO;
 * - priority ORC-7.6 else OBR-27.6 (OMI: TQ1-9.1 first);
 * - ordering provider ORC-12 else OBR-16 (`FAMILY^GIVEN` or ID);
 * - body part OBR-15 body site (component 4) code, else its text, else the specimen source (component 1).
 * A group whose ORC-1 is a reply code is left out; when every group is, the message is ignored.
 */
import { type Hl7Message, Presence } from '../../hl7/index.js';
import { type Change, ConversionErrorCode, type OrderData, type PatientData, type Upd, type VisitData } from '../changes.js';
import {
  type MapContext,
  type MapOutcome,
  conversionError,
  isDummyPv1,
  missingField,
  readPatient,
  readVisit,
  str,
  updCoded,
  updComposite,
  updDoctor,
  updStr,
  updTime,
} from './common.js';
import type { AccessionLocation } from './options.js';
import { orderStatusOf } from './order-status.js';

/** Segment indexes of one ORC group (-1 when absent). */
interface OrderGroup {
  orc: number;
  obr: number;
  tq1: number;
  zds: number;
  ipcs: number[];
}

/** Which family: ORM (v2.3.1 + ZDS) or OMI/OMG (v2.5.1, TQ1, IPC). */
export type OrderFamily = 'ORM' | 'OMI';

/** Maps an order message; `family` chooses the field layout (see the module comment). */
export function mapOrder(ctx: MapContext, family: OrderFamily): MapOutcome {
  const { msg } = ctx;
  const groups = orderGroups(msg);
  if (groups.length === 0) return missingField('ORC', 1, 'order control');
  const firstOrc = groups[0]!.orc;
  const pidSeg = msg.segmentIndex('PID');
  let patient: PatientData | undefined;
  let visit: VisitData | undefined;
  if (pidSeg >= 0 && pidSeg < firstOrc) {
    patient = readPatient(ctx, pidSeg);
    if (patient === undefined) return missingField('PID', 3, 'patient identifier list');
    const pv1 = msg.segmentIndex('PV1', 1, pidSeg);
    if (pv1 >= 0 && pv1 < firstOrc && !isDummyPv1(msg, pv1)) visit = readVisit(ctx, pv1);
  }
  const changes: Change[] = [];
  const replies: string[] = [];
  for (const g of groups) {
    const control = str(msg, g.orc, 1).toUpperCase();
    const orderStatus = str(msg, g.orc, 5).toUpperCase();
    const status = orderStatusOf(control, orderStatus, ctx.sender.orderStatusMap);
    if (status === 'reply') {
      replies.push(control);
      continue;
    }
    if (status === undefined) {
      return {
        error: conversionError(ConversionErrorCode.UnknownOrderControl, 103, `unknown order control ${control || '(empty)'} with order status ${orderStatus || '(empty)'} (ORC-1/ORC-5)`, 'ORC', 1),
      };
    }
    const base = readOrder(ctx, g, family);
    const orders = family === 'OMI' && g.ipcs.length > 0 ? g.ipcs.map((ipc) => withIpc(ctx, base, ipc, g)) : [base];
    for (const order of orders) {
      const change: Change = { op: 'order.upsert', order, status, control, orderStatus };
      if (patient !== undefined) change.patient = patient;
      if (visit !== undefined) change.visit = visit;
      changes.push(change);
    }
  }
  if (changes.length === 0) return { changes, ignored: `order reply ${[...new Set(replies)].join(', ')} (not an instruction)` };
  return { changes };
}

function orderGroups(msg: Hl7Message): OrderGroup[] {
  const groups: OrderGroup[] = [];
  let current: OrderGroup | undefined;
  for (let s = 0; s < msg.segmentCount; s++) {
    const id = msg.segmentName(s);
    if (id === 'ORC') {
      current = { orc: s, obr: -1, tq1: -1, zds: -1, ipcs: [] };
      groups.push(current);
    } else if (current !== undefined) {
      if (id === 'OBR' && current.obr < 0) current.obr = s;
      else if (id === 'TQ1' && current.tq1 < 0) current.tq1 = s;
      else if (id === 'ZDS' && current.zds < 0) current.zds = s;
      else if (id === 'IPC') current.ipcs.push(s);
    }
  }
  return groups;
}

/** The first of several updates that says anything (a `""` says "delete" and wins). */
function first<T>(...values: Upd<T>[]): Upd<T> {
  for (const v of values) if (v !== undefined) return v;
  return undefined;
}

function accessionAt(ctx: MapContext, g: OrderGroup, where: AccessionLocation, ipc = -1): Upd<string> {
  const { msg } = ctx;
  switch (where) {
    case 'OBR-18': return updStr(msg, g.obr, 18);
    case 'OBR-19': return updStr(msg, g.obr, 19);
    case 'OBR-20': return updStr(msg, g.obr, 20);
    case 'OBR-3': return updStr(msg, g.obr, 3);
    case 'ORC-3': return updStr(msg, g.orc, 3);
    case 'ORC-2': return updStr(msg, g.orc, 2);
    case 'IPC-1': return updStr(msg, ipc, 1);
  }
}

/** OBR-15 (SPS): body site code or text, else the specimen source code. */
function bodyPart(msg: Hl7Message, obr: number): Upd<string> {
  const v = updComposite(msg, obr, 15, () => str(msg, obr, 15, 1, 4, 1) || str(msg, obr, 15, 1, 4, 2) || str(msg, obr, 15, 1, 1, 1));
  return v === '' ? undefined : v;
}

function readOrder(ctx: MapContext, g: OrderGroup, family: OrderFamily): OrderData {
  const { msg } = ctx;
  const o: OrderData = {};
  const set = <K extends keyof OrderData>(key: K, v: OrderData[K]): void => {
    if (v !== undefined) o[key] = v;
  };
  set('placerOrderNumber', first(updStr(msg, g.orc, 2), updStr(msg, g.obr, 2)));
  set('fillerOrderNumber', first(updStr(msg, g.orc, 3), updStr(msg, g.obr, 3)));
  const where = family === 'OMI' ? ctx.sender.omiAccession : ctx.sender.accession;
  if (where !== 'IPC-1') set('accession', accessionAt(ctx, g, where));
  set('requestedProcedureId', updStr(msg, g.obr, 19));
  set('scheduledProcedureStepId', updStr(msg, g.obr, 20));
  set('modality', updStr(msg, g.obr, 24));
  set('procedure', updCoded(msg, g.obr, 4));
  set('procedureCode', updCoded(msg, g.obr, 44));
  set('bodyPart', bodyPart(msg, g.obr));
  set('orderingProvider', first(updDoctor(msg, g.orc, 12), updDoctor(msg, g.obr, 16)));
  const orcStart = updTime(ctx, g.orc, 7, 4, 1);
  const obrStart = updTime(ctx, g.obr, 27, 4, 1);
  const tq1Start = updTime(ctx, g.tq1, 7);
  set('scheduledAt', family === 'OMI' ? first(tq1Start, orcStart, obrStart) : first(orcStart, obrStart, tq1Start));
  const tq1Priority = updStr(msg, g.tq1, 9);
  set('priority', family === 'OMI' ? first(tq1Priority, updStr(msg, g.orc, 7, 6), updStr(msg, g.obr, 27, 6)) : first(updStr(msg, g.orc, 7, 6), updStr(msg, g.obr, 27, 6), tq1Priority));
  if (g.zds >= 0 && msg.presenceAt(g.zds, 1, 1, 1) !== Presence.Absent) set('studyInstanceUid', updStr(msg, g.zds, 1));
  return o;
}

/** The group's order completed by one IPC (OMI). */
function withIpc(ctx: MapContext, base: OrderData, ipc: number, g: OrderGroup): OrderData {
  const { msg } = ctx;
  const o: OrderData = { ...base };
  const set = <K extends keyof OrderData>(key: K, v: OrderData[K]): void => {
    if (v !== undefined) o[key] = v;
  };
  if (ctx.sender.omiAccession === 'IPC-1') set('accession', accessionAt(ctx, g, 'IPC-1', ipc));
  set('requestedProcedureId', updStr(msg, ipc, 2));
  set('studyInstanceUid', updStr(msg, ipc, 3));
  set('scheduledProcedureStepId', updStr(msg, ipc, 4));
  set('modality', updStr(msg, ipc, 5));
  set('stationAeTitle', updStr(msg, ipc, 9));
  return o;
}
