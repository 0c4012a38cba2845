/**
 * The HTTP API (INTERFACE.md "HTTP", issues 5 and 6): a small router over the route
 * modules in `routes/`, with bearer authentication and roles, one error shape
 * (`{"error": {"code", "message"}}`) and one access log line per request.
 *
 * Order of checks: the path (404), the method (405 with `Allow`), the bearer token (401 with
 * `WWW-Authenticate: Bearer`), the role (403), a body where none is taken (400), then the
 * route, which checks its query parameters (400 naming the parameter). The adapter owns the
 * body limit (413). Roles: `/healthz` and `/readyz` are open, `GET` routes need `read`,
 * reprocessing and pre-fetch runs need `admin`.
 *
 * Logs: a debug line per request with the method, the route pattern (never the raw path,
 * which may carry identifiers), the status and the duration; the query values only with
 * `http.logPatientData`.
 */
import { performance } from 'node:perf_hooks';
import { hasRole } from './auth.js';
import type { GatewayContext } from './context.js';
import type { GatewayRequest, GatewayResponse, HttpHandler } from './port.js';
import { HttpError, HttpErrorCode, errorResponse, type Route, type RouteRequest } from './routes/common.js';
import { deadLetterRoutes } from './routes/dead-letters.js';
import { messageRoutes } from './routes/messages.js';
import { orderRoutes } from './routes/orders.js';
import { patientRoutes } from './routes/patients.js';
import { reportRoutes } from './routes/reports.js';
import { statsRoutes } from './routes/stats.js';
import { systemRoutes } from './routes/system.js';

export { HttpErrorCode } from './routes/common.js';

/** Every route of the API, in the order of the OpenAPI document. */
export const ROUTES: readonly Route[] = [
  ...systemRoutes,
  ...patientRoutes,
  ...orderRoutes,
  ...reportRoutes,
  ...messageRoutes,
  ...deadLetterRoutes,
  ...statsRoutes,
];

type Segment = { literal: string } | { param: string };

interface PathEntry {
  pattern: string;
  segments: Segment[];
  byMethod: Map<string, Route>;
}

function compile(routes: readonly Route[]): PathEntry[] {
  const entries = new Map<string, PathEntry>();
  for (const r of routes) {
    let e = entries.get(r.pattern);
    if (e === undefined) {
      const segments = r.pattern
        .split('/')
        .slice(1)
        .map((s): Segment => (s.startsWith('{') && s.endsWith('}') ? { param: s.slice(1, -1) } : { literal: s }));
      e = { pattern: r.pattern, segments, byMethod: new Map() };
      entries.set(r.pattern, e);
    }
    if (e.byMethod.has(r.method)) throw new Error(`route ${r.method} ${r.pattern} is defined twice`);
    e.byMethod.set(r.method, r);
  }
  // Literal segments before parameters, so `/api/x/stats` would win over `/api/x/{id}`.
  return [...entries.values()].sort((a, b) => specificity(b) - specificity(a));
}

function specificity(e: PathEntry): number {
  return e.segments.reduce((n, s, i) => n + ('literal' in s ? 2 ** (16 - Math.min(i, 15)) : 0), 0);
}

/** Longest path accepted (longer gets 404 without matching). */
const MAX_PATH = 2048;

function match(entries: readonly PathEntry[], path: string): { entry: PathEntry; params: Record<string, string> } | undefined {
  if (path.length > MAX_PATH || !path.startsWith('/')) return undefined;
  const parts = path.split('/').slice(1);
  for (const entry of entries) {
    if (entry.segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < parts.length && ok; i++) {
      const seg = entry.segments[i]!;
      const part = parts[i]!;
      if ('literal' in seg) ok = seg.literal === part;
      else if (part === '') ok = false;
      else {
        try {
          params[seg.param] = decodeURIComponent(part);
        } catch {
          throw new HttpError(400, HttpErrorCode.BadRequest, `the path segment for ${seg.param} is not valid percent-encoding`, { details: { parameter: seg.param } });
        }
      }
    }
    if (ok) return { entry, params };
  }
  return undefined;
}

/** Creates the HTTP handler the gateway adapters serve (see the module comment). */
export function createHttpApi(ctx: GatewayContext): HttpHandler {
  const entries = compile(ROUTES);
  const logger = ctx.logger.child({ component: 'http' });
  const logQuery = ctx.options.http.logPatientData;

  const dispatch = async (request: GatewayRequest): Promise<{ response: GatewayResponse; route: string }> => {
    let found: ReturnType<typeof match>;
    try {
      found = match(entries, request.path);
    } catch (error) {
      return { response: fromError(error), route: '(bad path)' };
    }
    if (found === undefined) {
      return { response: errorResponse(404, HttpErrorCode.NotFound, 'no such route (see GET /api/openapi.json)'), route: '(unmatched)' };
    }
    const { entry, params } = found;
    const route = entry.byMethod.get(request.method);
    if (route === undefined) {
      const allow = [...entry.byMethod.keys()].join(', ');
      return {
        response: errorResponse(405, HttpErrorCode.MethodNotAllowed, `${entry.pattern} allows ${allow}`, { allow }),
        route: entry.pattern,
      };
    }
    try {
      const principal = route.role === null ? undefined : ctx.auth.authenticate(request);
      if (principal !== undefined && !principal.ok) {
        return { response: errorResponse(401, HttpErrorCode.Unauthorized, principal.message, { 'www-authenticate': 'Bearer realm="pacslink"' }), route: entry.pattern };
      }
      if (principal !== undefined && route.role !== null && !hasRole(principal.principal, route.role)) {
        return {
          response: errorResponse(403, HttpErrorCode.Forbidden, `this route needs the ${route.role} role`, {}),
          route: entry.pattern,
        };
      }
      if (request.body.byteLength > 0) throw new HttpError(400, HttpErrorCode.BadRequest, `${route.method} ${entry.pattern} takes no request body`);
      const routeRequest: RouteRequest = {
        ...request,
        params,
        principal: principal?.principal ?? { name: 'anonymous', roles: new Set() },
      };
      return { response: await route.handle(ctx, routeRequest), route: entry.pattern };
    } catch (error) {
      if (!(error instanceof HttpError)) {
        logger.error('http route failed', { method: request.method, route: entry.pattern, error: (error as Error)?.message ?? String(error) });
      }
      return { response: fromError(error), route: entry.pattern };
    }
  };

  return async (request) => {
    const t0 = performance.now();
    const { response, route } = await dispatch(request);
    logger.debug('http request', {
      method: request.method,
      route,
      status: response.status,
      ms: Math.round((performance.now() - t0) * 1000) / 1000,
      ...(logQuery && request.query.size > 0 ? { query: request.query.toString() } : {}),
    });
    return response;
  };
}

function fromError(error: unknown): GatewayResponse {
  if (error instanceof HttpError) return errorResponse(error.status, error.code, error.message, error.headers ?? {}, error.details ?? {});
  return errorResponse(500, HttpErrorCode.Internal, 'internal error (logged by the engine)');
}
