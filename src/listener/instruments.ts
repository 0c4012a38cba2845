/**
 * A listener's metric children, resolved once per listener so the per-message path only
 * increments numbers (no label hashing or string building per message). What every message
 * updates (received, ACK code, ACK latency, append time) goes through tallies
 * (metric-tally.ts), which prom-client reads on a scrape.
 */
import { countTally } from '../metric-tally.js';
import type { EngineMetrics } from '../metrics.js';

/** Pre-bound metrics of one listener. */
export interface ListenerInstruments {
  received: { inc(n?: number): void };
  junkBytes: { inc(n?: number): void };
  ackLatency: { observe(v: number): void };
  appendSeconds: { observe(v: number): void };
  connections: { inc(n?: number): void; dec(n?: number): void };
  acks(code: string): { inc(n?: number): void };
  frameErrors(reason: string): { inc(n?: number): void };
  duplicates(kind: 'resend' | 'collision'): { inc(n?: number): void };
  refused(reason: 'max-connections' | 'max-per-address' | 'tls-allow-list'): { inc(n?: number): void };
}

type Inc = { inc(n?: number): void };

/** `make(value)`, made once per value and kept: label values come from fixed sets. */
function cached(make: (value: string) => Inc): (value: string) => Inc {
  const children = new Map<string, Inc>();
  return (value: string) => {
    let child = children.get(value);
    if (child === undefined) children.set(value, (child = make(value)));
    return child;
  };
}

/** Binds the engine metrics to `listener`. */
export function listenerInstruments(metrics: EngineMetrics, listener: string): ListenerInstruments {
  return {
    received: countTally(metrics.mllpMessagesReceived, { listener }),
    junkBytes: metrics.mllpJunkBytes.labels({ listener }),
    ackLatency: metrics.mllpAckLatency.labels({ listener }),
    appendSeconds: metrics.queueAppend.labels({}),
    connections: metrics.mllpConnections.labels({ listener }),
    acks: cached((code) => countTally(metrics.mllpAcks, { listener, code })),
    frameErrors: cached((reason) => metrics.mllpFrameErrors.labels({ listener, reason })),
    duplicates: cached((kind) => metrics.duplicates.labels({ listener, kind })),
    refused: cached((reason) => metrics.mllpConnectionsRefused.labels({ listener, reason })),
  };
}
