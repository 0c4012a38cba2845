/**
 * The engine's Prometheus metrics (INTERFACE.md "Metrics", prefix `pacslink_`), on a
 * registry of their own so tests and several engines in one process do not collide.
 * Label values are bounded: listener names come from configuration, ACK codes and frame
 * error reasons from fixed sets. Exposing `/metrics` over HTTP belongs to the gateway.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The metrics the listener and the log update. */
export interface EngineMetrics {
  registry: Registry;
  mllpConnections: Gauge<'listener'>;
  mllpMessagesReceived: Counter<'listener'>;
  mllpAcks: Counter<'listener' | 'code'>;
  mllpFrameErrors: Counter<'listener' | 'reason'>;
  mllpJunkBytes: Counter<'listener'>;
  mllpConnectionsRefused: Counter<'listener' | 'reason'>;
  mllpAckLatency: Histogram<'listener'>;
  queueAppend: Histogram;
  queueDepth: Gauge;
  duplicates: Counter<'listener' | 'kind'>;
  converterMessages: Counter<'type' | 'outcome'>;
  converterApply: Histogram;
  converterPosition: Gauge;
  queueOldestUnconvertedAge: Gauge;
  deadLetters: Gauge;
  eventsPublished: Counter<'type'>;
  wsSubscribers: Gauge<'format'>;
  wsSubscriberLag: Gauge<'subscriber'>;
  nativeAdapter: Gauge<'port' | 'impl'>;
}

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** Also collect Node's default process metrics. Default true. */
  defaultMetrics?: boolean;
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Creates the registry and the metrics. */
export function createMetrics(options: MetricsOptions = {}): EngineMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'pacslink_' });
  return {
    registry,
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
    }),
    mllpAcks: new Counter({
      name: 'pacslink_mllp_acks_total',
      help: 'ACKs sent, by MSA-1 code',
      labelNames: ['listener', 'code'],
      registers,
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
    mllpAckLatency: new Histogram({
      name: 'pacslink_mllp_ack_latency_seconds',
      help: 'Time from a complete frame to its ACK being written',
      labelNames: ['listener'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    queueAppend: new Histogram({
      name: 'pacslink_queue_append_seconds',
      help: 'Time for an inbound append to become durable',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    queueDepth: new Gauge({
      name: 'pacslink_queue_depth',
      help: 'Inbound messages stored (last seq - first seq + 1)',
      registers,
    }),
    duplicates: new Counter({
      name: 'pacslink_duplicates_total',
      help: 'Repeated (MSH-3, MSH-4, MSH-10) keys: kind=resend (same body, ACKed again) or collision (different body, stored as new)',
      labelNames: ['listener', 'kind'],
      registers,
    }),
    converterMessages: new Counter({
      name: 'pacslink_converter_messages_total',
      help: 'Messages converted, by MSH-9.1^MSH-9.2 and outcome (applied, ignored, dead-letter, missing)',
      labelNames: ['type', 'outcome'],
      registers,
    }),
    converterApply: new Histogram({
      name: 'pacslink_converter_apply_seconds',
      help: 'Time to apply and commit one range of messages (one transaction)',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    converterPosition: new Gauge({
      name: 'pacslink_converter_position',
      help: 'Last inbound seq converted',
      registers,
    }),
    queueOldestUnconvertedAge: new Gauge({
      name: 'pacslink_queue_oldest_unconverted_age_seconds',
      help: 'Age of the oldest inbound message not yet converted (0 when the converter is caught up)',
      registers,
    }),
    deadLetters: new Gauge({
      name: 'pacslink_dead_letters',
      help: 'Messages in the dead-letter table',
      registers,
    }),
    eventsPublished: new Counter({
      name: 'pacslink_events_published_total',
      help: 'Events appended to the event log, by type',
      labelNames: ['type'],
      registers,
    }),
    wsSubscribers: new Gauge({
      name: 'pacslink_ws_subscribers',
      help: 'Open WebSocket subscribers on /events, by format',
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
}
