/**
 * MDM^T02/T04/T06/T08/T10/T11 → one `document.upsert` (DOMAIN.md §4.7). Structure
 * `MSH EVN PID PV1 TXA {OBX}`. The notification-only triggers (T01, T03, ...) are ignored (AA).
 *
 * Fields: TXA-2 document type, TXA-12.1 unique document number (required: 101 at TXA-12),
 * TXA-13.1 parent, TXA-14.1 / TXA-15.1 placer / filler order number, TXA-17 completion,
 * TXA-19 availability; time TXA-4 (activity) else TXA-6 (origination) else MSH-7; author
 * TXA-9 (originator) else TXA-22 (authenticator) as `FAMILY^GIVEN` or ID; text and attachments
 * from the OBX lines as in reports. Status: {@link documentStatusOf}.
 */
import { ReportStatus } from '../../repository/model.js';
import type { Change, DocumentData } from '../changes.js';
import { type MapContext, type MapOutcome, doctorText, isoTime, missingField, optStr, readPatient, str } from './common.js';
import { obxSegments, readObservations } from './observations.js';

const CONTENT_TRIGGERS: ReadonlySet<string> = new Set(['T02', 'T04', 'T06', 'T08', 'T10', 'T11']);

/**
 * The status of a document version: T11 (cancel) → cancelled; TXA-17 AU (authenticated) or LA
 * (legally authenticated) → final, or corrected when the message is an edit (T08) or a
 * replacement (T10); DI, DO, IP, IN, PA and anything else → preliminary.
 */
export function documentStatusOf(trigger: string, completion: string): ReportStatus {
  if (trigger === 'T11') return ReportStatus.Cancelled;
  if (completion === 'AU' || completion === 'LA') return trigger === 'T08' || trigger === 'T10' ? ReportStatus.Corrected : ReportStatus.Final;
  return ReportStatus.Preliminary;
}

/** Maps an MDM message. */
export function mapDocument(ctx: MapContext): MapOutcome {
  const { msg } = ctx;
  const trigger = ctx.context.triggerEvent;
  if (!CONTENT_TRIGGERS.has(trigger)) return { changes: [], ignored: `unsupported MDM event ${trigger === '' ? '(none)' : trigger}` };
  const txa = msg.segmentIndex('TXA');
  const documentNumber = str(msg, txa, 12);
  if (documentNumber === '') return missingField('TXA', 12, 'unique document number');
  const completion = str(msg, txa, 17).toUpperCase();
  const obs = readObservations(ctx, obxSegments(msg, txa, (id) => id === 'TXA'));
  const doc: DocumentData = {
    documentType: str(msg, txa, 2),
    documentNumber,
    status: documentStatusOf(trigger, completion),
    text: obs.text,
    attachments: obs.attachments,
  };
  const put = <K extends keyof DocumentData>(key: K, v: DocumentData[K] | undefined): void => {
    if (v !== undefined && v !== '') doc[key] = v;
  };
  put('parentDocument', optStr(msg, txa, 13));
  put('placerOrderNumber', optStr(msg, txa, 14));
  put('fillerOrderNumber', optStr(msg, txa, 15));
  put('completionStatus', completion);
  put('availability', optStr(msg, txa, 19)?.toUpperCase());
  put('studyInstanceUid', obs.studyInstanceUid);
  const tz = ctx.options.timeZone;
  put('time', isoTime(str(msg, txa, 4), tz) ?? isoTime(str(msg, txa, 6), tz) ?? isoTime(str(msg, ctx.msh, 7), tz));
  put('author', doctorText(msg, txa, 9) || doctorText(msg, txa, 22));
  const change: Change = { op: 'document.upsert', document: doc, trigger };
  const pid = msg.segmentIndex('PID');
  if (pid >= 0) {
    const patient = readPatient(ctx, pid);
    if (patient === undefined) return missingField('PID', 3, 'patient identifier list');
    change.patient = patient;
  }
  return { changes: [change] };
}
