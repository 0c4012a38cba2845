/**
 * `GET /api/patients` (by identifier and authority, or by name and birth date) and
 * `GET /api/patients/{key}` (one patient with its visits, orders, reports and merge history;
 * a merged key answers with its survivor and says so in `resolvedFrom`).
 */
import type { Report } from '../../repository/model.js';
import type { PatientQuery } from '../../repository/index.js';
import { HttpError, HttpErrorCode, badParameter, json, notFound, pageParams, queryOf, quoted, storeOf, textParam, type Route } from './common.js';

/** Most visits, orders, reports and history entries embedded in one patient. */
const EMBEDDED = 1000;

/** A report as listed inside a patient: no text, no versions. */
export function reportSummary(r: Report): Record<string, unknown> {
  return {
    id: r.id,
    kind: r.kind,
    accession: r.accession,
    status: r.status,
    versions: r.versions.length,
    updatedAt: r.updatedAt,
  };
}

/** `YYYY`, `YYYYMM` or `YYYYMMDD` with a real month and day. */
function checkBirthDate(v: string): void {
  const m = /^(\d{4})(?:(\d{2})(\d{2})?)?$/.exec(v);
  const bad = (): HttpError => badParameter('birthDate', 'birthDate must be an HL7 date YYYYMMDD (or its prefix YYYY or YYYYMM)');
  if (m === null) throw bad();
  if (m[2] !== undefined) {
    const month = Number(m[2]);
    if (month < 1 || month > 12) throw bad();
    if (m[3] !== undefined) {
      const day = Number(m[3]);
      const days = new Date(Date.UTC(Number(m[1]), month, 0)).getUTCDate();
      if (day < 1 || day > days) throw bad();
    }
  }
}

/** The patient routes (see the module comment). */
export const patientRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/api/patients',
    role: 'read',
    handle(ctx, request) {
      const q = queryOf(request, ['identifier', 'authority', 'name', 'birthDate', 'limit', 'cursor']);
      const page = pageParams(q);
      const identifier = textParam(q, 'identifier');
      const authority = textParam(q, 'authority');
      const name = textParam(q, 'name');
      const birthDate = q.get('birthDate');
      let query: PatientQuery;
      if (identifier !== undefined) {
        if (name !== undefined) throw badParameter('name', 'give identifier or name, not both');
        if (birthDate !== undefined) throw badParameter('birthDate', 'birthDate goes with name, not with identifier');
        query = { identifier, ...(authority !== undefined ? { authority } : {}) };
      } else if (name !== undefined) {
        if (authority !== undefined) throw badParameter('authority', 'authority goes with identifier');
        const [family = '', given, ...rest] = name.split('^');
        if (family.trim() === '' || rest.length > 0) throw badParameter('name', 'name must be FAMILY or FAMILY^GIVEN');
        if (birthDate !== undefined) checkBirthDate(birthDate);
        query = { family, ...(given !== undefined && given !== '' ? { given } : {}), ...(birthDate !== undefined ? { birthDate } : {}) };
      } else {
        throw new HttpError(400, HttpErrorCode.BadRequest, 'give identifier (with an optional authority) or name (with an optional birthDate)', {
          details: { parameter: 'identifier' },
        });
      }
      return json(storeOf(ctx).repository.findPatients(query, page));
    },
  },
  {
    method: 'GET',
    pattern: '/api/patients/{key}',
    role: 'read',
    handle(ctx, request) {
      queryOf(request, []);
      const repo = storeOf(ctx).repository;
      const key = request.params.key ?? '';
      const resolved = repo.resolvePatient(key);
      if (resolved === undefined) throw notFound(`patient ${quoted(key)}`);
      const p = resolved.patient;
      const all = { limit: EMBEDDED };
      const reports = repo.findReports({ patientKey: p.key }, all);
      return json({
        ...p,
        requestedKey: key,
        ...(resolved.mergedFrom !== undefined ? { resolvedFrom: { key: resolved.mergedFrom, mergedInto: p.key } } : {}),
        visits: repo.visitsOf(p.key, all),
        orders: repo.findOrders({ patientKey: p.key }, all),
        reports: { items: reports.items.map(reportSummary), next: reports.next },
        mergeHistory: repo.mergeHistory(p.key, all),
      });
    },
  },
];
