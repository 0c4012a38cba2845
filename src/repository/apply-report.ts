/**
 * Report and document changes (DOMAIN.md §4.6, §4.7, quirk 21): each status change is a new
 * version; embedded documents are stored as bytes in `repo.attachments`.
 */
import { ConversionErrorCode, type Change, type PatientData, type ReportData } from '../converter/changes.js';
import { EventType } from '../events/types.js';
import { ReportStatus, type Attachment, type Patient, type Report, type ReportVersion } from './model.js';
import { DbName, SEP, lastPart, part } from './store.js';
import { emitEvent, reject, type ApplyContext } from './apply-context.js';
import { resolvePatientKey, upsertPatient } from './apply-patient.js';
import { findOrder } from './apply-order.js';
import { sameData } from './canonical.js';

function str(v: string | undefined): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function findReport(ctx: ApplyContext, kind: Report['kind'], prefix: string, value: string | undefined): Report | undefined {
  if (value === undefined) return undefined;
  for (const k of ctx.tx.scan(DbName.IdxReportKey, prefix + SEP + part(value) + SEP)) {
    const r = ctx.tx.entity('report', lastPart(k));
    const stored = prefix === 'acc' ? r?.accession : prefix === 'fil' ? r?.fillerOrderNumber : r?.documentNumber;
    if (r?.kind === kind && stored === value) return r;
  }
  return undefined;
}

function reportPatient(ctx: ApplyContext, pid: PatientData | undefined, existing: Report | undefined, r: ReportData): Patient {
  if (pid !== undefined) return upsertPatient(ctx, pid, 'mention');
  let key = existing?.patientKey;
  if (key === undefined) {
    key = findOrder(ctx, { accession: r.accession, fillerOrderNumber: r.fillerOrderNumber, placerOrderNumber: r.placerOrderNumber })?.patientKey;
  }
  if (key === undefined) return reject(ConversionErrorCode.MissingField, 101, 'a new report needs a PID segment or a known order', 'PID', 3);
  return ctx.tx.entity('patient', resolvePatientKey(ctx, key)) as Patient;
}

/** Whether a version repeats the current last version exactly (same status, text, time, author, attachments). */
function repeatsLast(ctx: ApplyContext, existing: Report, r: ReportData, status: ReportStatus): boolean {
  const last = existing.versions[existing.versions.length - 1];
  if (last === undefined) return false;
  if (last.status !== status || last.text !== r.text || last.time !== (r.time ?? ctx.time) || last.author !== (r.author ?? null)) return false;
  if (last.attachments.length !== r.attachments.length) return false;
  return r.attachments.every((a, i) => {
    const id = last.attachments[i] as string;
    const meta = ctx.tx.get<Attachment>(DbName.AttachmentMeta, id);
    const bytes = ctx.tx.getRaw(DbName.Attachments, id);
    return meta?.contentType === a.contentType && bytes !== undefined && bytes.equals(Buffer.from(a.dataBase64, 'base64'));
  });
}

const rank = (s: ReportStatus): number => (s === ReportStatus.Preliminary ? 1 : 2);

function writeVersion(
  ctx: ApplyContext,
  kind: Report['kind'],
  existing: Report | undefined,
  patient: Patient,
  r: ReportData,
  status: ReportStatus,
  extra: Partial<Pick<Report, 'documentType' | 'documentNumber' | 'parentDocument' | 'completionStatus' | 'availability'>>,
): void {
  if (existing !== undefined && repeatsLast(ctx, existing, r, status) && existing.patientKey === patient.key) return;
  const id = existing?.id ?? 'R' + ctx.tx.next('R');
  const attachments: string[] = [];
  for (const a of r.attachments) {
    const bytes = Buffer.from(a.dataBase64, 'base64');
    const aid = 'A' + ctx.tx.next('A');
    ctx.tx.putRaw(DbName.Attachments, aid, bytes);
    const meta: Attachment = { id: aid, reportId: id, contentType: a.contentType, size: bytes.length, messageSeq: ctx.seq };
    ctx.tx.put(DbName.AttachmentMeta, aid, meta);
    attachments.push(aid);
  }
  const version: ReportVersion = { status, time: r.time ?? ctx.time, author: r.author ?? null, text: r.text, messageSeq: ctx.seq, attachments };
  // A late preliminary after a final/corrected/cancelled version is kept as a version but
  // neither downgrades the status nor replaces the current text (quirk 21).
  const late = existing !== undefined && status === ReportStatus.Preliminary && rank(existing.status) > 1;
  const report: Report = {
    id,
    kind,
    patientKey: patient.key,
    accession: str(r.accession) ?? existing?.accession ?? null,
    placerOrderNumber: str(r.placerOrderNumber) ?? existing?.placerOrderNumber ?? null,
    fillerOrderNumber: str(r.fillerOrderNumber) ?? existing?.fillerOrderNumber ?? null,
    studyInstanceUid: str(r.studyInstanceUid) ?? existing?.studyInstanceUid ?? null,
    ...(existing === undefined ? {} : pickDocFields(existing)),
    ...extra,
    status: late ? (existing as Report).status : status,
    versions: [...(existing?.versions ?? []), version],
    text: late ? (existing as Report).text : r.text,
    updatedAt: late ? (existing as Report).updatedAt : (version.time ?? existing?.updatedAt ?? null),
  };
  if (report.studyInstanceUid === null) {
    report.studyInstanceUid = findOrder(ctx, { accession: report.accession ?? undefined, fillerOrderNumber: report.fillerOrderNumber ?? undefined })?.studyInstanceUid ?? null;
  }
  if (existing !== undefined && sameData(existing, report)) return;
  ctx.tx.putEntity('report', report);
  emitEvent(ctx, existing === undefined ? EventType.ReportCreated : EventType.ReportUpdated, {
    report,
    previousStatus: existing?.status ?? null,
  });
}

function pickDocFields(r: Report): Partial<Report> {
  const out: Partial<Report> = {};
  for (const f of ['documentType', 'documentNumber', 'parentDocument', 'completionStatus', 'availability'] as const) {
    if (r[f] !== undefined) out[f] = r[f];
  }
  return out;
}

/**
 * ORU^R01 OBR group: the report named by accession, else filler order number. Versions:
 * P preliminary, F final, C corrected (the final version stays in `versions`), X cancelled;
 * P after F/C/X is recorded as a version without downgrading `status` or `text`. An exact
 * repeat of the last version is a no-op. Events `report.created` / `report.updated`
 * `{report, previousStatus}` (attachment bytes are never in events).
 */
export function upsertReport(ctx: ApplyContext, change: Extract<Change, { op: 'report.upsert' }>): void {
  const r = change.report;
  const acc = str(r.accession);
  const fil = str(r.fillerOrderNumber);
  if (acc === undefined && fil === undefined) reject(ConversionErrorCode.MissingField, 101, 'report has neither accession nor filler order number', 'OBR', 18);
  let existing = findReport(ctx, 'report', 'acc', acc);
  if (existing === undefined) {
    const byFiller = findReport(ctx, 'report', 'fil', fil);
    // A report first sent without an accession is the same report once it has one.
    if (byFiller !== undefined && (acc === undefined || byFiller.accession === null || byFiller.accession === acc)) existing = byFiller;
  }
  const patient = reportPatient(ctx, change.patient, existing, r);
  writeVersion(ctx, 'report', existing, patient, r, r.status, {});
}

/**
 * MDM^T02…T11: the document named by TXA-12, versioned as reports are; T11 cancels it.
 * TXA-2/13/17/19 replace the stored values when given.
 */
export function upsertDocument(ctx: ApplyContext, change: Extract<Change, { op: 'document.upsert' }>): void {
  const d = change.document;
  const num = str(d.documentNumber);
  if (num === undefined) reject(ConversionErrorCode.MissingField, 101, 'TXA-12 unique document number is empty', 'TXA', 12);
  const existing = findReport(ctx, 'document', 'doc', num);
  const patient = reportPatient(ctx, change.patient, existing, d);
  const extra: Partial<Report> = { documentType: d.documentType, documentNumber: num };
  if (d.parentDocument !== undefined) extra.parentDocument = d.parentDocument;
  if (d.completionStatus !== undefined) extra.completionStatus = d.completionStatus;
  if (d.availability !== undefined) extra.availability = d.availability;
  const status = change.trigger === 'T11' ? ReportStatus.Cancelled : d.status;
  writeVersion(ctx, 'document', existing, patient, d, status, extra);
}
