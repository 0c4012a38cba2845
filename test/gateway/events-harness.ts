/**
 * A gateway over a real event log (LMDB) without the rest of the engine, for the hub's unit
 * tests: events are appended and committed by the test, exactly as the applier does.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { resolveEngineOptions } from '../../src/config.js';
import type { ConversionStore } from '../../src/converter/stage.js';
import { openEventLog, type EventLog } from '../../src/events/log.js';
import type { EventType } from '../../src/events/types.js';
import { Authenticator } from '../../src/gateway/auth.js';
import type { GatewayContext } from '../../src/gateway/context.js';
import { startGateway, type Gateway } from '../../src/gateway/gateway.js';
import type { GatewayInput } from '../../src/gateway/options.js';
import type { GatewayAdapter, GatewayImpl } from '../../src/gateway/port.js';
import { loadUwsAdapter } from '../../src/gateway/uws-adapter.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics, type EngineMetrics } from '../../src/metrics.js';
import type { InboundLog } from '../../src/queue/types.js';
import { wsAdapter } from '../../native-free/ws-adapter.js';

/** A gateway serving a hub over a test-controlled event log. */
export interface HubHarness {
  dir: string;
  port: number;
  gateway: Gateway;
  ctx: GatewayContext;
  events: EventLog;
  metrics: EngineMetrics;
  /** Commits one transaction of `count` events of `type` (`data.pad` of `padBytes`). */
  commit(count: number, type?: EventType, padBytes?: number): void;
  /** Closes the gateway and the environment (the directory is kept for {@link restart}). */
  stop(): Promise<void>;
  /** Closes and removes the directory. */
  close(): Promise<void>;
}

/** Starts a harness (in `dir` if given, to reopen a previous one). */
export async function hubHarness(
  http: Exclude<GatewayInput, string> = {},
  options: { dir?: string; adapter?: GatewayAdapter; withStore?: boolean } = {},
): Promise<HubHarness> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'pacslink-hub-')));
  const env: RootDatabase = open({ path: join(dir, 'repository'), maxDbs: 16 });
  const events = openEventLog(env);
  const engineOptions = resolveEngineOptions({ dataDir: dir, http: { port: 0, ...http } });
  const metrics = createMetrics({ defaultMetrics: false });
  const ctx: GatewayContext = {
    options: engineOptions,
    log: undefined as unknown as InboundLog,
    store: options.withStore === false ? undefined : ({ events, repository: { env } } as unknown as ConversionStore),
    converter: undefined,
    workflows: undefined,
    metrics,
    logger: silentLogger,
    auth: new Authenticator(engineOptions.http.tokens),
    readiness: () => ({ storage: true, listeners: true, converter: true }),
    subscribers: () => [],
  };
  const gateway = await startGateway(ctx, options.adapter ?? wsAdapter);
  let stopped = false;
  const h: HubHarness = {
    dir,
    port: gateway.port,
    gateway,
    ctx,
    events,
    metrics,
    commit(count, type = 'order.scheduled', padBytes = 0) {
      env.transactionSync(() => {
        for (let i = 0; i < count; i++) {
          events.append({ type, messageSeq: i + 1, data: { n: i, ...(padBytes > 0 ? { pad: 'x'.repeat(padBytes) } : {}) } });
        }
      });
      events.committed();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await gateway.close();
      await env.close();
    },
    async close() {
      await h.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return h;
}

const uwsError = await loadUwsAdapter().then(
  () => undefined,
  (err: Error) => err.message,
);

/** Each gateway adapter, with a skip reason when it cannot load here. */
export const ADAPTERS: ReadonlyArray<{ impl: GatewayImpl; load: () => Promise<GatewayAdapter>; skip: string | false }> = [
  { impl: 'ws', load: async () => wsAdapter, skip: false },
  { impl: 'uws', load: loadUwsAdapter, skip: uwsError !== undefined ? `uWebSockets.js cannot load: ${uwsError}` : false },
];
