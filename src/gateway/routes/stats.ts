/**
 * `GET /api/stats`: counts (patients, orders, reports, attachments, events, inbound
 * messages), queue depth, converter position and counters, dead letters, subscribers.
 */
import type { RootDatabase } from 'lmdb';
import { RepositoryDbName } from '../../repository/index.js';
import type { GatewayContext } from '../context.js';
import { json, queryOf, type Route } from './common.js';

const COUNTED = {
  patients: RepositoryDbName.Patients,
  visits: RepositoryDbName.Visits,
  orders: RepositoryDbName.Orders,
  reports: RepositoryDbName.Reports,
  attachments: RepositoryDbName.AttachmentMeta,
} as const;

const counters = new WeakMap<RootDatabase, Record<keyof typeof COUNTED, { getKeysCount(): number }>>();

/** Entries per repository table (LMDB's own count, no scan). */
function repositoryCounts(env: RootDatabase): Record<keyof typeof COUNTED, number> {
  let dbs = counters.get(env);
  if (dbs === undefined) {
    const opened = {} as Record<keyof typeof COUNTED, { getKeysCount(): number }>;
    for (const k of Object.keys(COUNTED) as Array<keyof typeof COUNTED>) opened[k] = env.openDB(COUNTED[k], { keyEncoding: 'binary', encoding: 'binary' });
    counters.set(env, opened);
    dbs = opened;
  }
  const out = {} as Record<keyof typeof COUNTED, number>;
  for (const k of Object.keys(COUNTED) as Array<keyof typeof COUNTED>) out[k] = dbs[k].getKeysCount();
  return out;
}

/** The body of `GET /api/stats`. */
export function statsOf(ctx: GatewayContext): Record<string, unknown> {
  const first = ctx.log.firstSeq();
  const last = ctx.log.lastSeq();
  const store = ctx.store;
  const position = ctx.converter?.position() ?? store?.state.cursor() ?? null;
  const c = ctx.converter?.stats();
  return {
    inbound: { firstSeq: first, lastSeq: last, stored: last === 0 || first === 0 ? 0 : last - first + 1 },
    queueDepth: position === null ? null : Math.max(0, last - position),
    converter: {
      running: ctx.converter !== undefined,
      position,
      ...(c !== undefined
        ? { applied: c.applied, ignored: c.ignored, deadLettered: c.deadLettered, missing: c.missing, inFlight: c.inFlight, transactions: c.transactions }
        : {}),
    },
    repository: store === undefined ? null : repositoryCounts(store.repository.env),
    events: store === undefined ? null : { lastSeq: store.events.lastSeq() },
    deadLetters: store === undefined ? null : store.deadLetters.count(),
    subscribers: ctx.subscribers(),
  };
}

/** The statistics route. */
export const statsRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/api/stats',
    role: 'read',
    handle(ctx, request) {
      queryOf(request, []);
      return json(statsOf(ctx));
    },
  },
];
