/**
 * What every route of the HTTP API shares: the route table's types, the error answer
 * (`{"error": {"code", "message"}}`, INTERFACE.md "HTTP"), JSON answers, and the checks of
 * query parameters that answer 400 naming the parameter at fault.
 */
import type { GatewayContext } from '../context.js';
import type { Principal } from '../auth.js';
import type { GatewayRequest, GatewayResponse, Role } from '../port.js';
import { JSON_TYPE } from '../wire.js';
import type { ConversionStore } from '../../converter/stage.js';

/** Stable error codes of the HTTP API. */
export const HttpErrorCode = {
  BadRequest: 'bad-request',
  Unauthorized: 'unauthorized',
  Forbidden: 'forbidden',
  NotFound: 'not-found',
  MethodNotAllowed: 'method-not-allowed',
  NotAcceptable: 'not-acceptable',
  Gone: 'gone',
  PayloadTooLarge: 'payload-too-large',
  UpgradeRequired: 'upgrade-required',
  Unavailable: 'unavailable',
  Internal: 'internal',
} as const;
export type HttpErrorCode = (typeof HttpErrorCode)[keyof typeof HttpErrorCode];

/** An error answer thrown by a route; the router turns it into the error JSON. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: HttpErrorCode;
  readonly headers: Record<string, string> | undefined;
  /** Extra members of the `error` object (e.g. `parameter`). */
  readonly details: Record<string, unknown> | undefined;

  constructor(status: number, code: HttpErrorCode, message: string, extra: { headers?: Record<string, string>; details?: Record<string, unknown> } = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.headers = extra.headers;
    this.details = extra.details;
  }
}

/** A 400 that names the query parameter at fault (also as `error.parameter`). */
export function badParameter(name: string, message: string): HttpError {
  return new HttpError(400, HttpErrorCode.BadRequest, message, { details: { parameter: name } });
}

/** The error JSON answer. */
export function errorResponse(status: number, code: string, message: string, headers: Record<string, string> = {}, details: Record<string, unknown> = {}): GatewayResponse {
  return {
    status,
    headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-store', ...headers },
    body: JSON.stringify({ error: { code, message, ...details } }),
  };
}

/** A JSON answer (status 200 unless given). */
export function json(value: unknown, status = 200, headers: Record<string, string> = {}): GatewayResponse {
  return { status, headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-store', ...headers }, body: JSON.stringify(value) };
}

/** A request as a route sees it: path parameters (percent-decoded) and who asks. */
export interface RouteRequest extends GatewayRequest {
  params: Readonly<Record<string, string>>;
  principal: Principal;
}

/** One route: method, path pattern (`/api/patients/{key}`), the role it needs (null: open). */
export interface Route {
  method: 'GET' | 'POST';
  pattern: string;
  role: Role | null;
  handle(ctx: GatewayContext, request: RouteRequest): GatewayResponse | Promise<GatewayResponse>;
}

/**
 * The query parameters of a request, checked against the ones a route takes: an unknown
 * parameter, or one given twice, is a 400 naming it. Returns the values by name.
 */
export function queryOf(request: GatewayRequest, allowed: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const unknown: string[] = [];
  for (const [name, value] of request.query) {
    if (!allowed.includes(name)) {
      if (!unknown.includes(name)) unknown.push(name);
      continue;
    }
    if (out.has(name)) throw badParameter(name, `query parameter ${name} is given more than once`);
    out.set(name, value);
  }
  if (unknown.length > 0) {
    const shown = unknown.slice(0, 10).map(quoted).join(', ');
    const takes = allowed.length === 0 ? 'takes no query parameters' : `takes ${allowed.join(', ')}`;
    throw new HttpError(400, HttpErrorCode.BadRequest, `unknown query parameter${unknown.length > 1 ? 's' : ''} ${shown}; this route ${takes}`, {
      details: { parameter: unknown[0] },
    });
  }
  return out;
}

/** A non-empty text parameter of at most 256 characters, or undefined when absent. */
export function textParam(q: Map<string, string>, name: string): string | undefined {
  const v = q.get(name);
  if (v === undefined) return undefined;
  if (v.trim() === '') throw badParameter(name, `${name} must not be empty`);
  if (v.length > 256) throw badParameter(name, `${name} must be at most 256 characters`);
  return v;
}

/** Largest page. */
export const MAX_LIMIT = 1000;

/** `limit` (1–1000, default 100) and `cursor` (an opaque value from a previous page's `next`). */
export function pageParams(q: Map<string, string>): { limit: number; cursor?: string } {
  const l = q.get('limit');
  let limit = 100;
  if (l !== undefined) {
    if (!/^\d{1,4}$/.test(l) || Number(l) < 1 || Number(l) > MAX_LIMIT) throw badParameter('limit', `limit must be an integer between 1 and ${MAX_LIMIT}`);
    limit = Number(l);
  }
  const c = q.get('cursor');
  if (c === undefined || c === '') return { limit };
  if (c.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(c)) throw badParameter('cursor', 'cursor is not one this API gave out (use the "next" of a previous page)');
  return { limit, cursor: c };
}

/** A positive integer path parameter (a seq). */
export function seqParam(value: string, name: string): number {
  if (!/^[1-9]\d{0,15}$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new HttpError(400, HttpErrorCode.BadRequest, `${name} must be a positive integer`, { details: { parameter: name } });
  }
  return Number(value);
}

/** The conversion store, or 503 when the converter (and with it the repository) is disabled. */
export function storeOf(ctx: GatewayContext): ConversionStore {
  if (ctx.store === undefined) {
    throw new HttpError(503, HttpErrorCode.Unavailable, 'the repository is not open: the converter is disabled in this engine');
  }
  return ctx.store;
}

/** A value from the request, quoted and cut to 64 characters, for an error message. */
export function quoted(value: string): string {
  return JSON.stringify(value.slice(0, 64));
}

/** A 404 for an entity. */
export function notFound(what: string): HttpError {
  return new HttpError(404, HttpErrorCode.NotFound, `${what} not found`);
}
