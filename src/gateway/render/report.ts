/**
 * A report for people (issue 6): as plain text and as a self-contained HTML page, each with
 * the patient it belongs to, the current text and the version history (status, time,
 * author) and the attachments.
 *
 * The text is the one the converter stored, where FT formatting (`\.br\`, `\.sp n\`,
 * `\.in n\`, `\.ti n\`, `\.ce\`, ...) has already been rendered to line breaks and indents
 * and escapes decoded (src/hl7/escape.ts, Render.Text): it is not escaped again here, so a
 * backslash the sender escaped as `\E\` stays a backslash. Plain text keeps it as is (line
 * ends normalised to LF); HTML keeps its lines and indents (`white-space: pre-wrap`).
 *
 * The HTML page runs no script and loads nothing: every text from the repository is
 * HTML-escaped, the only style is inline and allowed by its hash in the
 * Content-Security-Policy, and links point only at this API's attachment route.
 */
import { createHash } from 'node:crypto';
import type { Attachment, Patient, PersonName, Report } from '../../repository/model.js';

/** What a rendering needs besides the report. */
export interface ReportView {
  report: Report;
  /** The report's patient (its survivor), when known. */
  patient: Patient | undefined;
  /** Metadata of the attachments of every version, by ID. */
  attachments: ReadonlyMap<string, Attachment>;
}

/** The route an attachment is downloaded from. */
export function attachmentPath(reportId: string, attachmentId: string): string {
  return `/api/reports/${encodeURIComponent(reportId)}/attachments/${encodeURIComponent(attachmentId)}`;
}

function nameText(n: PersonName | null): string {
  if (n === null) return '';
  const given = [n.prefix, n.given, n.middle].filter((s) => s !== '').join(' ');
  const family = [n.family, n.suffix].filter((s) => s !== '').join(' ');
  return given === '' ? family : family === '' ? given : `${family}, ${given}`;
}

/** An XCN/XPN-ish author (`FAMILY^GIVEN`, or an ID) for reading. */
function authorText(author: string | null): string {
  if (author === null || author === '') return 'unknown author';
  const parts = author.split('^').filter((s) => s !== '');
  return parts.length <= 1 ? author : `${parts[0]}, ${parts.slice(1).join(' ')}`;
}

function hl7DateText(d: string | null): string {
  if (d === null || d.length < 8) return d ?? '';
  return `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`;
}

function patientLine(p: Patient | undefined, key: string): string {
  if (p === undefined) return `patient ${key}`;
  const ids = p.identifiers.map((i) => (i.authority === '' ? i.id : `${i.id} (${i.authority})`)).join(', ');
  const parts = [nameText(p.name) || 'name unknown', ids];
  if (p.birthDate !== null) parts.push(`born ${hl7DateText(p.birthDate)}`);
  if (p.sex !== null) parts.push(`sex ${p.sex}`);
  return parts.filter((s) => s !== '').join(' · ');
}

function normaliseLines(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

/** The report as `text/plain`: header, current text, version history, attachments. */
export function renderReportText(view: ReportView): string {
  const r = view.report;
  const lines: string[] = [];
  lines.push(`${r.kind === 'document' ? 'Document' : 'Report'} ${r.id}: ${r.status}`);
  lines.push(`Patient: ${patientLine(view.patient, r.patientKey)}`);
  const refs = [
    r.accession !== null ? `accession ${r.accession}` : '',
    r.placerOrderNumber !== null ? `placer ${r.placerOrderNumber}` : '',
    r.fillerOrderNumber !== null ? `filler ${r.fillerOrderNumber}` : '',
    r.documentType !== undefined ? `type ${r.documentType}` : '',
  ].filter((s) => s !== '');
  if (refs.length > 0) lines.push(`Order: ${refs.join(' · ')}`);
  lines.push('', normaliseLines(r.text).replace(/\n+$/, ''), '');
  lines.push('Version history:');
  r.versions.forEach((v, i) => {
    lines.push(`  ${i + 1}. ${v.status.padEnd(11)} ${v.time ?? 'time unknown'}  ${authorText(v.author)}`);
  });
  const atts = r.versions.flatMap((v) => v.attachments);
  if (atts.length > 0) {
    lines.push('', 'Attachments:');
    for (const id of atts) {
      const a = view.attachments.get(id);
      lines.push(`  ${id}  ${a?.contentType ?? 'unknown type'}  ${a?.size ?? 0} bytes  ${attachmentPath(r.id, id)}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#111;line-height:1.45}' +
  'h1{font-size:1.4rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}' +
  '.text{white-space:pre-wrap;font-family:ui-monospace,monospace;background:#f6f6f6;padding:1rem;border-radius:4px}' +
  'table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:.3rem .8rem;text-align:left;vertical-align:top}' +
  '.status{font-weight:600;text-transform:uppercase}';

/** The Content-Security-Policy of the HTML page: nothing but its own inline style. */
export const REPORT_HTML_CSP =
  `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; ` +
  "img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The report as a complete HTML page (see the module comment for what keeps it safe). */
export function renderReportHtml(view: ReportView): string {
  const r = view.report;
  const e = escapeHtml;
  const title = `${r.kind === 'document' ? 'Document' : 'Report'} ${r.id}`;
  const rows: Array<[string, string]> = [
    ['Patient', patientLine(view.patient, r.patientKey)],
    ['Status', r.status],
  ];
  if (r.accession !== null) rows.push(['Accession', r.accession]);
  if (r.placerOrderNumber !== null) rows.push(['Placer order', r.placerOrderNumber]);
  if (r.fillerOrderNumber !== null) rows.push(['Filler order', r.fillerOrderNumber]);
  if (r.documentType !== undefined) rows.push(['Document type', r.documentType]);
  if (r.updatedAt !== null) rows.push(['Updated', r.updatedAt]);
  const history = r.versions
    .map((v, i) => {
      const links = v.attachments
        .map((id) => {
          const a = view.attachments.get(id);
          const label = `${id} (${a?.contentType ?? 'unknown type'}, ${a?.size ?? 0} bytes)`;
          return `<a href="${e(attachmentPath(r.id, id))}" download>${e(label)}</a>`;
        })
        .join('<br>');
      const text = i === r.versions.length - 1 ? '' : `<details><summary>text of this version</summary><div class="text">${e(normaliseLines(v.text))}</div></details>`;
      return (
        `<tr><td>${i + 1}</td><td class="status">${e(v.status)}</td><td>${e(v.time ?? 'time unknown')}</td>` +
        `<td>${e(authorText(v.author))}</td><td>${links}${text}</td></tr>`
      );
    })
    .join('\n');
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>${e(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<h1>${e(title)}</h1>`,
    `<dl>${rows.map(([k, v]) => `<dt>${e(k)}</dt><dd>${e(v)}</dd>`).join('')}</dl>`,
    '<h2>Text</h2>',
    `<div class="text">${e(normaliseLines(r.text))}</div>`,
    '<h2>Version history</h2>',
    '<table><thead><tr><th>#</th><th>Status</th><th>Time</th><th>Author</th><th>Attachments</th></tr></thead><tbody>',
    history,
    '</tbody></table>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
