/**
 * RIS-PACS synchronisation (DOMAIN.md §5 PIR, IHE RAD-12/RAD-13): from the repository events
 * of one message, the `sync.requested` data that tell the PACS which DICOM attributes change
 * (with their previous values) and which studies they apply to.
 *
 * - `patient.updated` (A08, A31, ...; `demographics`) and `patient.identifiers-changed` (A47;
 *   `identifiers`): the patient's attributes before and after; studies: the patient's orders
 *   and reports; `match`: the PatientID and issuer before the change.
 * - `patient.merged` (A40, A34; `merge`): the absorbed patient's attributes → the survivor's;
 *   studies: the orders and reports moved; `match`: the absorbed patient's PatientID.
 * - an order event with a previous state (`order.updated`, `.completed`, ...; `order`):
 *   AccessionNumber, StudyInstanceUID, RequestedProcedureDescription and
 *   RequestedProcedureCodeSequence, and the patient's attributes when the order moved to
 *   another patient; studies: the order's keys before the change.
 * Nothing is emitted when no DICOM attribute changed (an address or a visit change).
 */
import { EventType, type NewEvent } from '../events/types.js';
import type { Order, Patient, Report } from '../repository/model.js';
import {
  diffAttributes,
  limit,
  orderAttributes,
  patientAttributes,
  patientIdKeys,
  type DicomChange,
  type DicomTruncation,
  type Truncations,
} from './dicom.js';
import { SyncChange, type SyncOptions } from './options.js';
import type { SyncRequestedData, SyncStudyKey } from './payloads.js';
import { all, type RepositoryView } from './prefetch.js';

function studyKey(o: Order | null, r: Report | null, t: Truncations): SyncStudyKey {
  const accession = o?.accession ?? r?.accession ?? '';
  return {
    orderKey: o?.key ?? null,
    reportId: r?.id ?? null,
    AccessionNumber: limit(accession, 'SH', 'AccessionNumber', t),
    StudyInstanceUID: o?.studyInstanceUid ?? r?.studyInstanceUid ?? '',
  };
}

/** Orders, then reports whose accession no listed order has. */
function studiesOf(orders: readonly Order[], reports: readonly Report[], t: Truncations): SyncStudyKey[] {
  const out = orders.map((o) => studyKey(o, null, t));
  const known = new Set(orders.map((o) => o.accession).filter((a) => a !== null));
  for (const r of reports) if (r.accession === null || !known.has(r.accession)) out.push(studyKey(null, r, t));
  return out;
}

function patientStudies(view: RepositoryView, key: string, t: Truncations): SyncStudyKey[] {
  const orders = all<Order>((o) => view.findOrders({ patientKey: key }, o));
  const reports = all<Report>((o) => view.findReports({ patientKey: key }, o));
  return studiesOf(orders, reports, t);
}

function dedupeTruncations(t: Truncations): DicomTruncation[] {
  const seen = new Set<string>();
  return t.filter((x) => {
    const k = `${x.keyword}\u0000${x.original}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * The `sync.requested` events for one message's repository events (see the module comment),
 * in the order of those events. `message` is MSH-9.1^MSH-9.2.
 */
export function syncEvents(events: readonly NewEvent[], message: string, view: RepositoryView, options: SyncOptions, messageSeq: number): NewEvent[] {
  if (!options.enabled) return [];
  const wants = new Set(options.changes);
  const primary = options.primaryAuthority;
  const out: NewEvent[] = [];
  const emit = (data: Omit<SyncRequestedData, 'message' | 'truncated'>, t: Truncations): void => {
    const full: SyncRequestedData = { ...data, message, truncated: dedupeTruncations(t) };
    out.push({ type: EventType.SyncRequested, messageSeq, data: full as unknown as Record<string, unknown> });
  };
  for (const e of events) {
    const d = e.data;
    switch (e.type) {
      case EventType.PatientUpdated:
      case EventType.PatientIdentifiersChanged: {
        const reason = e.type === EventType.PatientUpdated ? SyncChange.Demographics : SyncChange.Identifiers;
        if (!wants.has(reason)) break;
        const t: Truncations = [];
        const patient = d.patient as Patient;
        const previous = d.previous as Patient;
        const changes = diffAttributes(patientAttributes(previous, primary, t), patientAttributes(patient, primary, t));
        if (changes.length === 0) break;
        emit(
          {
            reason,
            cause: e.type,
            patientKey: patient.key,
            changes,
            match: patientIdKeys(previous.identifiers, primary, t),
            studies: patientStudies(view, patient.key, t),
          },
          t,
        );
        break;
      }
      case EventType.PatientMerged: {
        if (!wants.has(SyncChange.Merge)) break;
        const t: Truncations = [];
        const survivor = d.survivor as Patient;
        const source = d.source as Patient;
        const orders = (d.movedOrders as string[]).map((k) => view.getOrder(k)).filter((o): o is Order => o !== undefined);
        const reports = (d.movedReports as string[]).map((k) => view.getReport(k)).filter((r): r is Report => r !== undefined);
        emit(
          {
            reason: SyncChange.Merge,
            cause: e.type,
            patientKey: survivor.key,
            sourcePatientKey: source.key,
            changes: diffAttributes(patientAttributes(source, primary, t), patientAttributes(survivor, primary, t)),
            match: patientIdKeys(source.identifiers, primary, t),
            studies: studiesOf(orders, reports, t),
          },
          t,
        );
        break;
      }
      default: {
        if (!e.type.startsWith('order.') || d.previous === null || d.previous === undefined) break;
        if (!wants.has(SyncChange.Order)) break;
        const t: Truncations = [];
        const order = d.order as Order;
        const previous = d.previous as Order;
        const changes: DicomChange[] = diffAttributes(orderAttributes(previous, t), orderAttributes(order, t));
        const before = view.resolvePatient(previous.patientKey)?.patient;
        const now = view.resolvePatient(order.patientKey)?.patient;
        if (before !== undefined && now !== undefined && before.key !== now.key) {
          changes.push(...diffAttributes(patientAttributes(before, primary, t), patientAttributes(now, primary, t)));
        }
        if (changes.length === 0) break;
        emit(
          {
            reason: SyncChange.Order,
            cause: e.type,
            patientKey: now?.key ?? order.patientKey,
            orderKey: order.key,
            changes,
            match: patientIdKeys((before ?? now)?.identifiers ?? [], primary, t),
            studies: [studyKey(previous, null, t)],
          },
          t,
        );
      }
    }
  }
  return out;
}
