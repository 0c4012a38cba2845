/**
 * What the gateway's handlers (HTTP API, event hub) are given by the engine: read access to
 * the inbound log, the repository and its event log, the running converter, metrics, and the
 * engine's readiness. Nothing here is a socket: the adapters (port.ts) own those.
 */
import type { EngineOptions } from '../config.js';
import type { Converter } from '../converter/converter.js';
import type { ConversionStore } from '../converter/stage.js';
import type { Logger } from '../log.js';
import type { EngineMetrics } from '../metrics.js';
import type { InboundLog } from '../queue/types.js';
import type { WorkflowsApi } from '../workflows/types.js';
import type { Authenticator } from './auth.js';

/** Readiness of the engine's parts (`GET /readyz`). */
export interface Readiness {
  storage: boolean;
  listeners: boolean;
  converter: boolean;
}

/** A connected subscriber, as `GET /api/stats` lists it. */
export interface SubscriberInfo {
  /** Durable name, or undefined for an anonymous subscriber. */
  name?: string;
  topics: string[];
  format: 'json' | 'msgpack';
  /** Last event seq sent. */
  sentSeq: number;
  /** Last event seq the client acknowledged (named subscribers), else undefined. */
  ackedSeq?: number;
  /** Bytes waiting in the socket's send buffer. */
  bufferedBytes: number;
  connectedAt: string;
}

/** The engine as the gateway's handlers see it. */
export interface GatewayContext {
  options: EngineOptions;
  log: InboundLog;
  /** Repository, event log, dead letters; undefined when the converter is disabled. */
  store: ConversionStore | undefined;
  converter: Converter | undefined;
  workflows: WorkflowsApi | undefined;
  metrics: EngineMetrics;
  logger: Logger;
  auth: Authenticator;
  readiness(): Readiness;
  /** Connected WebSocket subscribers (filled by the event hub). */
  subscribers(): SubscriberInfo[];
}
