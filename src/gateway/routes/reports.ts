/**
 * `GET /api/reports` (by accession or patient), `GET /api/reports/{id}` as JSON, plain text
 * or HTML after `Accept` (src/gateway/render), and the attachments of its versions
 * (`GET /api/reports/{id}/attachments/{attachmentId}`, the bytes with their stored type).
 */
import type { Attachment } from '../../repository/model.js';
import { negotiate } from '../render/accept.js';
import { REPORT_HTML_CSP, renderReportHtml, renderReportText, type ReportView } from '../render/report.js';
import { HttpError, HttpErrorCode, badParameter, json, notFound, pageParams, queryOf, quoted, storeOf, textParam, type Route } from './common.js';

/** What `GET /api/reports/{id}` can answer, JSON first (the default). */
export const REPORT_TYPES = ['application/json', 'text/html', 'text/plain'] as const;

/** A stored content type, when it is a plain `type/subtype` (else served as octet-stream). */
function safeContentType(t: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/.test(t) ? t.toLowerCase() : 'application/octet-stream';
}

const EXTENSIONS: Readonly<Record<string, string>> = { 'application/pdf': 'pdf', 'text/plain': 'txt', 'text/html': 'html', 'image/jpeg': 'jpg', 'image/png': 'png', 'text/rtf': 'rtf', 'application/rtf': 'rtf' };

/** The report routes (see the module comment). */
export const reportRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/api/reports',
    role: 'read',
    handle(ctx, request) {
      const q = queryOf(request, ['accession', 'patient', 'limit', 'cursor']);
      const page = pageParams(q);
      const accession = textParam(q, 'accession');
      const patientKey = textParam(q, 'patient');
      if (accession === undefined && patientKey === undefined) throw badParameter('accession', 'give accession or patient');
      return json(storeOf(ctx).repository.findReports({ ...(accession !== undefined ? { accession } : {}), ...(patientKey !== undefined ? { patientKey } : {}) }, page));
    },
  },
  {
    method: 'GET',
    pattern: '/api/reports/{id}',
    role: 'read',
    handle(ctx, request) {
      queryOf(request, []);
      const type = negotiate(request.headers.accept, REPORT_TYPES);
      if (type === undefined) {
        throw new HttpError(406, HttpErrorCode.NotAcceptable, `a report is served as ${REPORT_TYPES.join(', ')}`);
      }
      const repo = storeOf(ctx).repository;
      const id = request.params.id ?? '';
      const report = repo.getReport(id);
      if (report === undefined) throw notFound(`report ${quoted(id)}`);
      const vary = { vary: 'Accept' };
      if (type === 'application/json') return json(report, 200, vary);
      const attachments = new Map<string, Attachment>();
      for (const v of report.versions) {
        for (const a of v.attachments) {
          const got = repo.getAttachment(a);
          if (got !== undefined) attachments.set(a, got.meta);
        }
      }
      const view: ReportView = { report, patient: repo.resolvePatient(report.patientKey)?.patient, attachments };
      const common = { ...vary, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
      if (type === 'text/plain') return { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8', ...common }, body: renderReportText(view) };
      return {
        status: 200,
        headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': REPORT_HTML_CSP, 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY', ...common },
        body: renderReportHtml(view),
      };
    },
  },
  {
    method: 'GET',
    pattern: '/api/reports/{id}/attachments/{attachmentId}',
    role: 'read',
    handle(ctx, request) {
      queryOf(request, []);
      const repo = storeOf(ctx).repository;
      const id = request.params.id ?? '';
      const aid = request.params.attachmentId ?? '';
      const got = repo.getAttachment(aid);
      if (got === undefined || got.meta.reportId !== id) throw notFound(`attachment ${quoted(aid)} of report ${quoted(id)}`);
      const type = safeContentType(got.meta.contentType);
      const ext = EXTENSIONS[type] ?? 'bin';
      const filename = `${id}-${aid}.${ext}`.replace(/[^A-Za-z0-9._-]/g, '_');
      return {
        status: 200,
        headers: {
          'content-type': type,
          'content-disposition': `attachment; filename="${filename}"`,
          'x-content-type-options': 'nosniff',
          'content-security-policy': "default-src 'none'; sandbox",
          'cache-control': 'no-store',
        },
        body: new Uint8Array(got.bytes.buffer, got.bytes.byteOffset, got.bytes.byteLength),
      };
    },
  },
];
