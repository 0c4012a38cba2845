/**
 * The engine's wiring and lifecycle: claim the data directory (`DIR/engine.pid`), open the
 * inbound log, open the repository (`DIR/repository`) and start the converter after the
 * log, start the MLLP listeners, write `DIR/ports.json`; on stop drain listeners (in-flight
 * appends and their ACKs), then stop the converter (it finishes the ranges in its workers),
 * then close storage.
 *
 * The converter runs only over the LMDB inbound log (its workers open that environment
 * read-only); with another log (tests inject in-memory ones) it is not started and the
 * engine logs so.
 *
 * `ports.json` is `{"mllp": N, "http": N, "listeners": {NAME: N}}` (`mllp` is the first
 * listener, `http` the gateway: HTTP API, `/metrics` and WebSocket `/events`). The gateway
 * starts after the listeners and stops right after them, before the converter, so the event
 * hub can write its subscribers' positions while the repository is open.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EngineOptions } from './config.js';
import type { Converter } from './converter/converter.js';
import type { DailyScheduler } from './workflows/scheduler.js';
import type { ConversionStore } from './converter/stage.js';
import { claimDataDir } from './data-lock.js';
import { Authenticator } from './gateway/auth.js';
import type { GatewayContext } from './gateway/context.js';
import { startGateway, type Gateway, type LoadNativeAdapter } from './gateway/gateway.js';
import { AppendGate } from './listener/append-gate.js';
import { MllpListener } from './listener/server.js';
import { createLogger, type Logger } from './log.js';
import { createMetrics, watchEngine, type EngineMetrics } from './metrics.js';
import type { LmdbInboundLog } from './queue/lmdb-log.js';
import type { InboundLog } from './queue/types.js';
import type { WorkflowsApi } from './workflows/types.js';

/** Opens the inbound log; the default opens the LMDB log under `DIR/inbound`. */
export type OpenInboundLog = (options: EngineOptions) => Promise<InboundLog>;

/** Dependencies that tests and benchmarks may replace. */
export interface EngineDeps {
  /** Default: JSON lines on stderr. */
  logger?: Logger;
  /** Default: a fresh registry with default process metrics. */
  metrics?: EngineMetrics;
  /** Default: the LMDB inbound log in `DIR/inbound`. */
  openLog?: OpenInboundLog;
  /** Default: loads uWebSockets.js (`http.adapter` "auto" or "uws"). */
  loadNativeGateway?: LoadNativeAdapter;
}

/** Ports chosen at start, as written to `ports.json`. */
export interface EnginePorts {
  mllp: number;
  listeners: Record<string, number>;
  http: number;
}

/** A running engine. */
export interface Engine {
  readonly options: EngineOptions;
  readonly ports: EnginePorts;
  readonly log: InboundLog;
  readonly metrics: EngineMetrics;
  readonly listeners: readonly MllpListener[];
  /** The running converter; undefined when disabled or the log is not the LMDB log. */
  readonly converter: Converter | undefined;
  /** The repository, the event log and the converter's tables (when the converter runs). */
  readonly store: ConversionStore | undefined;
  /** The HTTP/WebSocket gateway. */
  readonly gateway: Gateway;
  /** The daily pre-fetch on demand (when the converter runs); its scheduler runs with the engine. */
  readonly workflows: WorkflowsApi | undefined;
  /** Graceful stop: stop accepting, finish in-flight messages and ACKs, close storage. Idempotent. */
  stop(): Promise<void>;
}

/** The default log opener: the LMDB inbound log in `DIR/inbound`. */
export const openDefaultLog: OpenInboundLog = async (options) => {
  const { openLmdbInboundLog } = await import('./queue/index.js');
  return await openLmdbInboundLog({
    path: join(options.dataDir, 'inbound'),
    dedupWindowMs: options.dedupWindowMs,
    maxStorageBytes: options.maxStorageBytes,
    retention: { maxAgeMs: options.retentionMs },
  });
};

/** Starts the engine with validated options (see `resolveEngineOptions`). */
export async function startEngine(options: EngineOptions, deps: EngineDeps = {}): Promise<Engine> {
  const logger = deps.logger ?? createLogger();
  const metrics = deps.metrics ?? createMetrics();
  await mkdir(options.dataDir, { recursive: true });
  const release = await claimDataDir(options.dataDir);
  let log: InboundLog;
  try {
    log = await (deps.openLog ?? openDefaultLog)(options);
  } catch (err) {
    await release();
    throw err;
  }
  let conversion: { store: ConversionStore; converter: Converter } | undefined;
  try {
    conversion = await startConversion(options, log, logger, metrics);
  } catch (err) {
    await log.close();
    await release();
    throw err;
  }
  const converter = conversion?.converter;
  const scheduler = converter === undefined ? undefined : startDailyPrefetch(options, conversion!.store, converter, logger);
  const gate = new AppendGate(log, options.logHighWaterBytes);
  const shared = {
    ackControlIdPrefix: options.ackControlIdPrefix,
    connectionHighWaterFrames: options.connectionHighWaterFrames,
  };
  const listeners = options.listeners.map(
    (l) => new MllpListener(l, shared, { gate, metrics, logger, ...(converter !== undefined ? { conversion: converter } : {}) }),
  );
  /** Undoes a start that failed part-way: closes the listeners that started, then the rest in stop's order. */
  const undo = async (open: readonly MllpListener[]): Promise<void> => {
    await Promise.all(open.map((l) => l.close(0)));
    const schedulerStopped = scheduler?.stop();
    await converter?.stop();
    await schedulerStopped;
    await conversion?.store.repository.close();
    await log.close();
    await release();
  };
  const started: MllpListener[] = [];
  try {
    for (const l of listeners) {
      await l.start();
      started.push(l);
    }
  } catch (err) {
    await undo(started);
    throw err;
  }
  let stopped = false;
  const ctx: GatewayContext = {
    options,
    log,
    store: conversion?.store,
    converter,
    workflows: conversion?.store.workflows?.api,
    metrics,
    logger,
    auth: new Authenticator(options.http.tokens),
    readiness: () => ({
      storage: !stopped,
      listeners: !stopped && listeners.every((l) => l.port > 0),
      // An engine run with the converter disabled (ingest only) is ready without it.
      converter: !stopped && (converter !== undefined || !options.converter.enabled),
    }),
    subscribers: () => [],
  };
  let gateway: Gateway;
  try {
    gateway = await startGateway(ctx, undefined, deps.loadNativeGateway);
  } catch (err) {
    await undo(listeners);
    throw err;
  }
  const ports: EnginePorts = {
    mllp: listeners[0]?.port ?? -1,
    http: gateway.port,
    listeners: Object.fromEntries(listeners.map((l) => [l.options.name, l.port])),
  };
  await writePorts(options.dataDir, ports);
  for (const l of listeners) {
    logger.info('mllp listener started', {
      listener: l.options.name,
      host: l.options.host,
      port: l.port,
      tls: l.options.tls !== undefined,
    });
  }
  // Queue depth, backlog, oldest unconverted age, dead letters and the pool are read on scrape.
  const unwatch = watchEngine(metrics, {
    log,
    ...(converter !== undefined ? { converter } : {}),
    ...(conversion !== undefined ? { deadLetters: conversion.store.deadLetters } : {}),
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      logger.info('engine stopping');
      await Promise.all(listeners.map((l) => l.close(options.shutdownTimeoutMs)));
      stopped = true;
      await gateway.close();
      // No scrape can come any more: stop reading storage before it closes.
      unwatch();
      // Stopped together: a run waiting for the converter to catch up is released by its stop.
      const schedulerStopped = scheduler?.stop();
      if (conversion !== undefined) {
        await conversion.converter.stop();
        await schedulerStopped;
        await conversion.store.repository.close();
      }
      await log.close();
      await release();
      logger.info('engine stopped');
    })();
    return stopping;
  };
  const workflows = conversion?.store.workflows?.api;
  return { options, ports, log, metrics, listeners, converter, store: conversion?.store, gateway, workflows, stop };
}

/** Starts the daily pre-fetch scheduler (when enabled); each run first lets the converter catch up. */
function startDailyPrefetch(options: EngineOptions, store: ConversionStore, converter: Converter, logger: Logger): DailyScheduler | undefined {
  const wf = store.workflows;
  if (wf === undefined || !options.workflows.prefetch.daily.enabled) return undefined;
  const scheduler = wf.scheduler({
    beforeRun: () => converter.idle(),
    onRun: (day, outcome) => {
      if ('error' in outcome) logger.error('daily pre-fetch run failed; retrying', { day, error: (outcome.error as Error).message ?? String(outcome.error) });
      else logger.info('daily pre-fetch run done', { day, date: outcome.result.date, requested: outcome.result.requested, suppressed: outcome.result.suppressed });
    },
  });
  void scheduler.start();
  return scheduler;
}

/** Distinct MSH-9 values labelled in `converter_messages_total`; any further one is `other`. */
const MAX_TYPE_LABELS = 100;

/** Opens the repository and starts the converter, when enabled and possible. */
async function startConversion(
  options: EngineOptions,
  log: InboundLog,
  logger: Logger,
  metrics: EngineMetrics,
): Promise<{ store: ConversionStore; converter: Converter } | undefined> {
  if (!options.converter.enabled) {
    logger.info('converter disabled by configuration');
    return undefined;
  }
  const inboundPath = (log as Partial<LmdbInboundLog>).path;
  if (typeof inboundPath !== 'string') {
    logger.warn('converter not started: the inbound log is not the LMDB log');
    return undefined;
  }
  const { openConversionStore, startConverter } = await import('./converter/stage.js');
  const store = await openConversionStore(options);
  store.events.onAppended((events) => {
    for (const e of events) metrics.eventsPublished.inc({ type: e.type });
  });
  // Message types come from the input: keep the label set bounded.
  const types = new Set<string>();
  const typeLabel = (type: string): string => {
    if (types.has(type)) return type;
    if (types.size >= MAX_TYPE_LABELS || !/^[A-Z0-9]{3}(\^[A-Z0-9]{3})?$/.test(type)) return 'other';
    types.add(type);
    return type;
  };
  const converter = startConverter(options, store, {
    log,
    inboundPath,
    logger,
    onCommitted: (range) => {
      metrics.converterApply.observe(range.applyNs / 1e9);
      metrics.converterParse.observe(range.parseNs / 1e9);
      metrics.converterMap.observe(Math.max(0, range.mapNs - range.parseNs) / 1e9);
      metrics.converterPosition.set(range.toSeq);
      for (const o of range.outcomes) metrics.converterMessages.inc({ type: typeLabel(o.type), outcome: o.outcome });
    },
  });
  logger.info('converter started', {
    position: converter.position(),
    workers: options.converter.workers,
    batchSize: options.converter.batchSize,
  });
  return { store, converter };
}

/** Writes `ports.json` atomically (a reader never sees half a file). */
async function writePorts(dataDir: string, ports: EnginePorts): Promise<void> {
  const path = join(dataDir, 'ports.json');
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(ports) + '\n');
  await rename(tmp, path);
}

/**
 * Stops `engine` gracefully on the first SIGTERM or SIGINT; a second signal exits at once.
 * Returns a function that removes the handlers.
 */
export function stopOnSignals(engine: Engine, logger: Logger, onStopped: (code: number) => void): () => void {
  let signalled = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (signalled) {
      logger.warn('second signal; exiting without waiting', { signal });
      process.exit(1);
    }
    signalled = true;
    logger.info('signal received; shutting down', { signal });
    engine.stop().then(
      () => onStopped(0),
      (err: unknown) => {
        logger.error('shutdown failed', { error: (err as Error).message });
        onStopped(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}
