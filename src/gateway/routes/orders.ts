/**
 * `GET /api/orders` (by accession, placer or filler number, Study Instance UID, patient,
 * status, scheduled range; every filter given must match) and `GET /api/orders/{key}`.
 */
import { OrderStatus } from '../../repository/model.js';
import type { OrderQuery } from '../../repository/index.js';
import { badParameter, json, notFound, pageParams, queryOf, quoted, storeOf, textParam, type Route } from './common.js';

/** Widest `scheduledFrom`–`scheduledTo` range, days. */
export const MAX_SCHEDULE_RANGE_DAYS = 366;

const STATUSES: readonly string[] = Object.values(OrderStatus);

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/**
 * An ISO 8601 date (`2024-01-03`, read as UTC midnight; for `scheduledTo` the end of that
 * day) or a time with an offset (`2024-01-03T08:30:00+01:00`). Returns epoch ms.
 */
function timeParam(name: string, v: string, endOfDay: boolean): { iso: string; ms: number } {
  const day = v.slice(0, 10);
  const dayMs = Date.parse(`${day}T00:00:00Z`);
  const ms = v.length === 10 ? dayMs : Date.parse(v);
  if (!ISO_TIME.test(v) || Number.isNaN(dayMs) || new Date(dayMs).toISOString().slice(0, 10) !== day || Number.isNaN(ms)) {
    throw badParameter(name, `${name} must be an ISO 8601 date (YYYY-MM-DD) or a time with an offset (YYYY-MM-DDThh:mm[:ss]Z or ±hh:mm)`);
  }
  const at = v.length === 10 && endOfDay ? ms + 86_400_000 - 1 : ms;
  return { iso: new Date(at).toISOString(), ms: at };
}

/** The order routes (see the module comment). */
export const orderRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/api/orders',
    role: 'read',
    handle(ctx, request) {
      const q = queryOf(request, [
        'accession', 'placerOrderNumber', 'fillerOrderNumber', 'studyInstanceUid', 'patient', 'status', 'scheduledFrom', 'scheduledTo', 'limit', 'cursor',
      ]);
      const page = pageParams(q);
      const query: OrderQuery = {};
      const set = (param: string, field: 'accession' | 'placerOrderNumber' | 'fillerOrderNumber' | 'studyInstanceUid' | 'patientKey'): void => {
        const v = textParam(q, param);
        if (v !== undefined) query[field] = v;
      };
      set('accession', 'accession');
      set('placerOrderNumber', 'placerOrderNumber');
      set('fillerOrderNumber', 'fillerOrderNumber');
      set('studyInstanceUid', 'studyInstanceUid');
      set('patient', 'patientKey');
      const status = q.get('status');
      if (status !== undefined) {
        if (!STATUSES.includes(status)) throw badParameter('status', `status must be one of ${STATUSES.join(', ')}`);
        query.status = status as OrderStatus;
      }
      const fromText = q.get('scheduledFrom');
      const toText = q.get('scheduledTo');
      const from = fromText === undefined ? undefined : timeParam('scheduledFrom', fromText, false);
      const to = toText === undefined ? undefined : timeParam('scheduledTo', toText, true);
      if (from !== undefined && to !== undefined) {
        if (to.ms < from.ms) throw badParameter('scheduledTo', 'scheduledTo must not be before scheduledFrom');
        if (to.ms - from.ms > MAX_SCHEDULE_RANGE_DAYS * 86_400_000) {
          throw badParameter('scheduledTo', `scheduledFrom to scheduledTo must span at most ${MAX_SCHEDULE_RANGE_DAYS} days`);
        }
      }
      if (from !== undefined) query.scheduledFrom = from.iso;
      if (to !== undefined) query.scheduledTo = to.iso;
      return json(storeOf(ctx).repository.findOrders(query, page));
    },
  },
  {
    method: 'GET',
    pattern: '/api/orders/{key}',
    role: 'read',
    handle(ctx, request) {
      queryOf(request, []);
      const key = request.params.key ?? '';
      const order = storeOf(ctx).repository.getOrder(key);
      if (order === undefined) throw notFound(`order ${quoted(key)}`);
      return json(order);
    },
  },
];
