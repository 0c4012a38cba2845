/**
 * The engine's Prometheus metrics (INTERFACE.md "Metrics", prefix `pacslink_`), on a
 * registry of their own so tests and several engines in one process do not collide.
 * Label values are bounded: listener names come from configuration, ACK codes, frame error
 * reasons, outcomes and event types from fixed sets, message types are capped by the engine
 * (any beyond the cap are `other`). No label ever carries a patient, order or control ID.
 *
 * Most metrics are updated in place on the hot path. Values that are cheap to read but
 * pointless to push (queue depth, converter backlog, oldest unconverted age, dead letters,
 * the worker pool's state) are read on each scrape by `collect()` callbacks from the
 * sources the engine binds with {@link watchEngine}. Exposing `/metrics` over HTTP belongs
 * to the gateway.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { addCountTallies, TallyHistogram } from './metric-tally.js';
import type { InboundLog } from './queue/types.js';

/** The state of the converter's worker pool, as read on a scrape. */
export interface PoolStats {
  /** Worker threads alive. */
  threads: number;
  /** Tasks waiting for a free worker. */
  queueSize: number;
  /** Piscina's utilisation estimate since the pool started: busy time / (threads x run time), 0..1. */
  utilization: number;
  /** Ranges dispatched and not yet committed (in workers, queued, or waiting to be applied in order). */
  inFlight: number;
}

/** What a scrape reads from a running engine (bound with {@link watchEngine}). */
export interface EngineSources {
  log: Pick<InboundLog, 'lastSeq' | 'firstSeq' | 'get'>;
  /** The converter, when running. */
  converter?: {
    position(): number;
    /** The pool's state; undefined when the converter runs without a Piscina pool (tests). */
    poolStats(): PoolStats | undefined;
  };
  /** The dead-letter table, when the converter's store is open. */
  deadLetters?: { count(): number };
  /** Clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/** The metrics the listener, the converter and the gateway update. */
export interface EngineMetrics {
  registry: Registry;
  mllpConnections: Gauge<'listener'>;
  /** Per message: increment through `countTally` (metric-tally.ts). */
  mllpMessagesReceived: Counter<'listener'>;
  /** Per message: increment through `countTally` (metric-tally.ts). */
  mllpAcks: Counter<'listener' | 'code'>;
  mllpFrameErrors: Counter<'listener' | 'reason'>;
  mllpJunkBytes: Counter<'listener'>;
  mllpConnectionsRefused: Counter<'listener' | 'reason'>;
  /** Per message: observed through a bound series (metric-tally.ts). */
  mllpAckLatency: TallyHistogram<'listener'>;
  /** Per message: observed through a bound series (metric-tally.ts). */
  queueAppend: TallyHistogram;
  /** Read on scrape (see {@link watchEngine}). */
  queueDepth: Gauge;
  duplicates: Counter<'listener' | 'kind'>;
  converterMessages: Counter<'type' | 'outcome'>;
  converterApply: Histogram;
  /** Worker parse time of the messages committed in one transaction. */
  converterParse: Histogram;
  /** Worker mapping time (parse excluded) of the messages committed in one transaction. */
  converterMap: Histogram;
  converterPosition: Gauge;
  /** Read on scrape. */
  converterBacklog: Gauge;
  /** Read on scrape. */
  converterWorkers: Gauge;
  /** Read on scrape. */
  converterPoolUtilization: Gauge;
  /** Read on scrape. */
  converterPoolQueueSize: Gauge;
  /** Read on scrape. */
  converterRangesInFlight: Gauge;
  /** Read on scrape. */
  queueOldestUnconvertedAge: Gauge;
  /** Read on scrape. */
  deadLetters: Gauge;
  eventsPublished: Counter<'type'>;
  wsSubscribers: Gauge<'format'>;
  wsSubscriberLag: Gauge<'subscriber'>;
  nativeAdapter: Gauge<'port' | 'impl'>;
  /** The sources read on scrape; set by {@link watchEngine}. */
  sources: EngineSources | undefined;
}

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /**
   * Also collect Node's default process metrics (`process_cpu_seconds_total`,
   * `process_resident_memory_bytes`, `nodejs_eventloop_lag_seconds`, ...; standard names,
   * unprefixed, so the usual Node.js dashboards and alerts apply). Default true.
   */
  defaultMetrics?: boolean;
}

/**
 * Per-message latencies (ACK latency, durable append): group commits land in the sub-ms
 * range, an fsync on a busy disk or `ackOn: "apply"` in seconds. 100 us to 10 s.
 */
export const LATENCY_BUCKETS: readonly number[] = Object.freeze([
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

/**
 * Per-range times (apply and commit, worker parse, worker map): a range of one message
 * parses in tens of microseconds, a full transaction of ranges may take a second. 50 us to 10 s.
 */
export const RANGE_BUCKETS: readonly number[] = Object.freeze([
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

/** Binds `sources` to `metrics` for the scrape-time gauges; returns the function that unbinds them (call it before closing storage). */
export function watchEngine(metrics: EngineMetrics, sources: EngineSources): () => void {
  metrics.sources = sources;
  return () => {
    if (metrics.sources === sources) metrics.sources = undefined;
  };
}

/** Inbound messages stored: last seq - first seq + 1 (0 when empty). */
function queueDepthOf(s: EngineSources): number {
  const last = s.log.lastSeq();
  return last === 0 ? 0 : last - s.log.firstSeq() + 1;
}

/** Age (s) of the first message after the converter's position, 0 when it is caught up. */
function oldestUnconvertedAgeOf(s: EngineSources, position: number): number {
  const next = position + 1;
  if (next > s.log.lastSeq()) return 0;
  // A record below firstSeq was removed by retention: the oldest one left is firstSeq.
  const record = s.log.get(Math.max(next, s.log.firstSeq()));
  if (record === undefined) return 0;
  return Math.max(0, ((s.now ?? Date.now)() - record.receivedAt) / 1000);
}

/** Creates the registry and the metrics. */
export function createMetrics(options: MetricsOptions = {}): EngineMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  // Scrape-time gauges read `m.sources`; a gauge with nothing bound keeps its last value.
  const onScrape = (read: (s: EngineSources) => number | undefined) =>
    function (this: Gauge): void {
      const s = m.sources;
      if (s === undefined) return;
      const value = read(s);
      if (value !== undefined) this.set(value);
    };
  const m: EngineMetrics = {
    registry,
    sources: undefined,
    mllpConnections: new Gauge({
      name: 'pacslink_mllp_connections',
      help: 'Open MLLP connections',
      labelNames: ['listener'],
      registers,
    }),
    mllpMessagesReceived: new Counter({
      name: 'pacslink_mllp_messages_received_total',
      help: 'Complete MLLP frames received',
      labelNames: ['listener'],
      registers,
      collect: addCountTallies,
    }),
    mllpAcks: new Counter({
      name: 'pacslink_mllp_acks_total',
      help: 'ACKs sent, by MSA-1 code (AA, AE, AR, CA, CE, CR)',
      labelNames: ['listener', 'code'],
      registers,
      collect: addCountTallies,
    }),
    mllpFrameErrors: new Counter({
      name: 'pacslink_mllp_frame_errors_total',
      help: 'Frames dropped or refused by the framer (restarted, bad-end-block, oversized, incomplete)',
      labelNames: ['listener', 'reason'],
      registers,
    }),
    mllpJunkBytes: new Counter({
      name: 'pacslink_mllp_junk_bytes_total',
      help: 'Bytes received outside MLLP frames and discarded',
      labelNames: ['listener'],
      registers,
    }),
    mllpConnectionsRefused: new Counter({
      name: 'pacslink_mllp_connections_refused_total',
      help: 'Connections closed at accept (max-connections, max-per-address, tls-allow-list)',
      labelNames: ['listener', 'reason'],
      registers,
    }),
    mllpAckLatency: new TallyHistogram({
      name: 'pacslink_mllp_ack_latency_seconds',
      help: 'Time from a complete frame to its ACK being written',
      labelNames: ['listener'],
      buckets: [...LATENCY_BUCKETS],
      registers,
    }),
    queueAppend: new TallyHistogram({
      name: 'pacslink_queue_append_seconds',
      help: 'Time for an inbound append to become durable',
      buckets: [...LATENCY_BUCKETS],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'pacslink_queue_depth',
      help: 'Inbound messages stored (last seq - first seq + 1); retention removes converted ones past their age',
      registers,
      collect: onScrape(queueDepthOf),
    }),
    duplicates: new Counter({
      name: 'pacslink_duplicates_total',
      help: 'Repeated (MSH-3, MSH-4, MSH-10) keys: kind=resend (same body, ACKed again) or collision (different body, stored as new)',
      labelNames: ['listener', 'kind'],
      registers,
    }),
    converterMessages: new Counter({
      name: 'pacslink_converter_messages_total',
      help: 'Messages converted, by MSH-9.1^MSH-9.2 (at most 100 values, then other) and outcome (applied, ignored, dead-letter, missing)',
      labelNames: ['type', 'outcome'],
      registers,
    }),
    converterApply: new Histogram({
      name: 'pacslink_converter_apply_seconds',
      help: 'Main-thread time to apply and commit one transaction of ranges',
      buckets: [...RANGE_BUCKETS],
      registers,
    }),
    converterParse: new Histogram({
      name: 'pacslink_converter_parse_seconds',
      help: 'Worker time parsing the messages of one committed transaction (sum over its messages)',
      buckets: [...RANGE_BUCKETS],
      registers,
    }),
    converterMap: new Histogram({
      name: 'pacslink_converter_map_seconds',
      help: 'Worker time mapping the messages of one committed transaction to changes, parse excluded (sum over its messages)',
      buckets: [...RANGE_BUCKETS],
      registers,
    }),
    converterPosition: new Gauge({
      name: 'pacslink_converter_position',
      help: 'Last inbound seq converted',
      registers,
    }),
    converterBacklog: new Gauge({
      name: 'pacslink_converter_backlog',
      help: 'Inbound messages durable and not yet converted (last seq - converter position)',
      registers,
      collect: onScrape((s) => (s.converter === undefined ? undefined : Math.max(0, s.log.lastSeq() - s.converter.position()))),
    }),
    converterWorkers: new Gauge({
      name: 'pacslink_converter_workers',
      help: 'Converter worker threads alive',
      registers,
      collect: onScrape((s) => s.converter?.poolStats()?.threads),
    }),
    converterPoolUtilization: new Gauge({
      name: 'pacslink_converter_pool_utilization',
      help: "Worker pool utilisation since start (Piscina's estimate: busy time / (threads x run time)), 0..1",
      registers,
      collect: onScrape((s) => s.converter?.poolStats()?.utilization),
    }),
    converterPoolQueueSize: new Gauge({
      name: 'pacslink_converter_pool_queue_size',
      help: 'Converter tasks waiting for a free worker',
      registers,
      collect: onScrape((s) => s.converter?.poolStats()?.queueSize),
    }),
    converterRangesInFlight: new Gauge({
      name: 'pacslink_converter_ranges_in_flight',
      help: 'Ranges dispatched to the pool and not yet committed',
      registers,
      collect: onScrape((s) => s.converter?.poolStats()?.inFlight),
    }),
    queueOldestUnconvertedAge: new Gauge({
      name: 'pacslink_queue_oldest_unconverted_age_seconds',
      help: 'Age of the oldest inbound message not yet converted (0 when the converter is caught up)',
      registers,
      collect: onScrape((s) => (s.converter === undefined ? undefined : oldestUnconvertedAgeOf(s, s.converter.position()))),
    }),
    deadLetters: new Gauge({
      name: 'pacslink_dead_letters',
      help: 'Messages in the dead-letter table',
      registers,
      collect: onScrape((s) => s.deadLetters?.count()),
    }),
    eventsPublished: new Counter({
      name: 'pacslink_events_published_total',
      help: 'Events appended to the event log, by type',
      labelNames: ['type'],
      registers,
    }),
    wsSubscribers: new Gauge({
      name: 'pacslink_ws_subscribers',
      help: 'Open WebSocket subscribers on /events, by format (json, msgpack)',
      labelNames: ['format'],
      registers,
    }),
    wsSubscriberLag: new Gauge({
      name: 'pacslink_ws_subscriber_lag',
      help: 'Events committed and not yet acknowledged, per named (durable) subscriber',
      labelNames: ['subscriber'],
      registers,
    }),
    nativeAdapter: new Gauge({
      name: 'pacslink_native_adapter',
      help: 'Adapter serving each port: 1 for the implementation in use (impl=uws|ws for port=gateway)',
      labelNames: ['port', 'impl'],
      registers,
    }),
  };
  // Both formats are always exported, so "no subscribers" reads 0 rather than no data.
  m.wsSubscribers.labels({ format: 'json' }).set(0);
  m.wsSubscribers.labels({ format: 'msgpack' }).set(0);
  return m;
}
