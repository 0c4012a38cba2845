/**
 * Health and operations: `GET /healthz` (liveness, open), `GET /readyz` (readiness, open:
 * 200, or 503 naming the parts not ready), `GET /metrics` (Prometheus text), `GET
 * /api/openapi.json` (this API's description), `POST /api/prefetch/runs?date=YYYY-MM-DD`
 * (admin: the daily pre-fetch now), and `GET /events` without an upgrade (426).
 */
import { readFileSync } from 'node:fs';
import { JSON_TYPE } from '../wire.js';
import { HttpError, HttpErrorCode, badParameter, json, queryOf, type Route } from './common.js';

/** Where the OpenAPI document sits: the package root (from dist/src/gateway/routes). */
const OPENAPI_URL = new URL('../../../../openapi.json', import.meta.url);
let openapi: string | undefined;

function openapiText(): string {
  if (openapi === undefined) {
    try {
      openapi = readFileSync(OPENAPI_URL, 'utf8');
    } catch {
      throw new HttpError(503, HttpErrorCode.Unavailable, 'openapi.json is not installed beside this package');
    }
  }
  return openapi;
}

/** Health, readiness, metrics, the OpenAPI document, pre-fetch runs and the plain GET /events. */
export const systemRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/healthz',
    role: null,
    handle(_ctx, request) {
      queryOf(request, []);
      return json({ status: 'ok' });
    },
  },
  {
    method: 'GET',
    pattern: '/readyz',
    role: null,
    handle(ctx, request) {
      queryOf(request, []);
      const r = ctx.readiness();
      const notReady = (['storage', 'listeners', 'converter'] as const).filter((k) => !r[k]);
      if (notReady.length === 0) return json({ status: 'ready', ...r });
      throw new HttpError(503, HttpErrorCode.Unavailable, `not ready: ${notReady.join(', ')}`, { details: { notReady } });
    },
  },
  {
    method: 'GET',
    pattern: '/metrics',
    role: 'read',
    async handle(ctx, request) {
      queryOf(request, []);
      const registry = ctx.metrics.registry;
      return { status: 200, headers: { 'content-type': registry.contentType, 'cache-control': 'no-store' }, body: await registry.metrics() };
    },
  },
  {
    method: 'GET',
    pattern: '/api/openapi.json',
    role: 'read',
    handle(_ctx, request) {
      queryOf(request, []);
      return { status: 200, headers: { 'content-type': JSON_TYPE }, body: openapiText() };
    },
  },
  {
    method: 'POST',
    pattern: '/api/prefetch/runs',
    role: 'admin',
    async handle(ctx, request) {
      const q = queryOf(request, ['date']);
      const date = q.get('date');
      if (date === undefined) throw badParameter('date', 'date is required (YYYY-MM-DD)');
      const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
      if (m === null || new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))).toISOString().slice(0, 10) !== date) {
        throw badParameter('date', 'date must be a calendar date YYYY-MM-DD');
      }
      if (ctx.workflows === undefined) throw new HttpError(503, HttpErrorCode.Unavailable, 'the workflows stage is not running');
      let result;
      try {
        result = await ctx.workflows.runPrefetch(date);
      } catch (error) {
        if (error instanceof RangeError) throw badParameter('date', error.message);
        throw error;
      }
      ctx.logger.info('pre-fetch run requested over HTTP', { date, requested: result.requested, by: request.principal.name });
      return json(result);
    },
  },
  {
    method: 'GET',
    pattern: '/events',
    role: null,
    handle() {
      throw new HttpError(426, HttpErrorCode.UpgradeRequired, '/events is a WebSocket: connect with an upgrade request (Connection: Upgrade, Upgrade: websocket)', {
        headers: { upgrade: 'websocket' },
      });
    },
  },
];
