/**
 * Engine configuration: one options interface per concern, frozen defaults, validation once
 * with exact messages (STYLE.md "Options"), and loading of the JSON file given to
 * `pacslink start --config FILE`.
 *
 * Precedence (applied by the `start` command): command-line flags, then environment
 * (`PACSLINK_DATA`, `PACSLINK_MLLP`, `PACSLINK_HTTP`), then the config file, then defaults.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { createMappingOptions, type MappingOptions, type MappingOptionsInput } from './converter/map/options.js';
import { GATEWAY_DEFAULTS, resolveGatewayOptions, type GatewayInput, type GatewayOptions } from './gateway/options.js';
import { resolveRepositoryOptions, type RepositoryPolicies } from './repository/options.js';
import { resolveWorkflowsOptions, type WorkflowsInput, type WorkflowsOptions } from './workflows/options.js';
import { checkInt } from './options-check.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** TLS settings of one listener (DOMAIN.md §1.3). */
export interface ListenerTlsOptions {
  /** PEM certificate chain file. Required. */
  cert: string;
  /** PEM private key file. Required. */
  key: string;
  /** PEM CA bundle file used to verify client certificates. Default: Node's CAs. */
  ca?: string;
  /** Require a client certificate that verifies against `ca`. Default false. */
  requireClientCert?: boolean;
  /**
   * When set, a client certificate must match one entry: `subjects` are compared with the
   * certificate's subject CN and with its whole subject written `C=..,O=..,CN=..` (in the
   * certificate's order); `fingerprints` are SHA-256 fingerprints (hex, colons optional,
   * any case).
   */
  allow?: { subjects?: string[]; fingerprints?: string[] };
}

/** One named MLLP listener. */
export interface ListenerOptions {
  /** Name used in logs, metrics and `ports.json`. Default `mllp` (then `mllp2`, ...). */
  name: string;
  /** Bind address. Default `0.0.0.0`. */
  host: string;
  /** TCP port; 0 picks a free one. Default 2575. */
  port: number;
  /** TLS settings; plain TCP when absent. */
  tls?: ListenerTlsOptions;
  /** Largest accepted message, bytes. Default 64 MiB; between 1 KiB and 1 GiB. */
  maxFrameBytes: number;
  /** Open connections allowed on this listener. Default 1000. */
  maxConnections: number;
  /** Open connections allowed per remote address. Default 100. */
  maxConnectionsPerAddress: number;
  /** Close a connection silent for this long (ms); 0 never. Default 600 000 (10 min). */
  idleTimeoutMs: number;
  /** Drop a frame that stays incomplete this long (ms) and close; 0 never. Default 60 000. */
  incompleteFrameTimeoutMs: number;
  /** Accept `1C 0B` and `1C` + end of stream as end of frame. Default false. */
  tolerantEndBlock: boolean;
  /** Send MLLP release 2 commit bytes (`0B 06 1C 0D` / `0B 15 1C 0D`) before the ACK. Default false. */
  mllpRelease2: boolean;
  /** Accepted MSH-11.1 values (e.g. `["P"]` on a production link); others get AR 202. Default: any. */
  processingIds?: string[];
  /** TCP keepalive initial delay (ms). Default 60 000. */
  keepAliveMs: number;
  /**
   * When the ACK is sent (DOMAIN.md §3.1, §3.4). `commit` (default): AA as soon as the
   * message is durable in the inbound log, whatever its conversion does later. `apply`: the
   * ACK waits until the converter has committed the message, then AA, or AE with an ERR
   * segment (code, segment, field, reason) when it could not be converted (dead letter).
   * In enhanced mode the accept ACK stays CA on commit either way (application ACKs are not
   * sent yet). Needs the converter enabled.
   */
  ackOn: 'commit' | 'apply';
  /**
   * The code of an original-mode ACK, under `ackOn: "apply"`, for a message that could not be
   * converted (dead-lettered). Default `AE` (DOMAIN.md §3.3). Some vendors swap AE and AR, or
   * retry an AE forever (a poison message blocking their queue): `AR` answers such partners
   * the way they expect, and `AA` accepts the message and leaves it to the dead-letter table
   * (DOMAIN.md §6 quirk 24). The ERR segment is sent with AE and AR.
   */
  conversionErrorAck: 'AE' | 'AR' | 'AA';
  /**
   * The form of the ACK's MSH-9 (DOMAIN.md §6 quirk 25): `full` `ACK^A01^ACK` (default, as
   * dcm4che), `trigger` `ACK^A01` (HAPI before v2.5), or `bare` `ACK`, for senders that
   * insist on one.
   */
  ackTypeForm: 'full' | 'trigger' | 'bare';
}

/** The converter stage (ARCHITECTURE.md stage 3). */
export interface ConverterOptions {
  /** Run the converter. Default true; when false the inbound log only fills (and `ackOn: "apply"` is refused). */
  enabled: boolean;
  /** Worker threads of the pool. Default `min(2, os.availableParallelism())`; 1 to 64. */
  workers: number;
  /** Messages per worker task and per applied transaction. Default 64; 1 to 10 000. */
  batchSize: number;
  /**
   * Ranges dispatched and not yet committed, at most: bounds the results held in memory to
   * `maxInFlightBatches × batchSize` messages (backpressure). Default 4; 1 to 1024.
   */
  maxInFlightBatches: number;
  /** Period at which an idle converter looks for new messages (ms); appends also wake it. Default 50; 1 to 60 000. */
  pollIntervalMs: number;
}

/** Repository settings (src/repository/options.ts). */
export interface RepositorySettings {
  /** Site policies; absent fields take the repository's defaults. */
  policies: Partial<RepositoryPolicies>;
}

/** Engine options (the `--config` JSON file has this shape; every field optional). */
export interface EngineOptions {
  /** Data directory (LMDB environments, `ports.json`). Default `./data`. */
  dataDir: string;
  /** MLLP listeners. Default: one listener `mllp` on `0.0.0.0:2575`. */
  listeners: ListenerOptions[];
  /**
   * The gateway (HTTP API, WebSocket `/events`, `/metrics`): address, adapter, TLS, tokens
   * and limits (src/gateway/options.ts). Default `127.0.0.1:8080`, no tokens.
   */
  http: GatewayOptions;
  /** Duplicate window (ms) for (MSH-3, MSH-4, MSH-10) keys; 0 disables. Default 7 days. */
  dedupWindowMs: number;
  /** Largest size of the inbound log (bytes) before appends are refused. Default 16 GiB. */
  maxStorageBytes: number;
  /** Retention age of converted inbound messages (ms); 0 keeps them. Default 30 days. */
  retentionMs: number;
  /** Prefix of the ACKs' own MSH-10 (followed by the message's seq). Default `PL`. */
  ackControlIdPrefix: string;
  /** Log's pending bytes above which every socket pauses reading. Default 64 MiB. */
  logHighWaterBytes: number;
  /** Per-connection queued frames above which the socket pauses. Default 8. */
  connectionHighWaterFrames: number;
  /** Longest wait for in-flight work at shutdown (ms). Default 10 000. */
  shutdownTimeoutMs: number;
  /** The converter. */
  converter: ConverterOptions;
  /**
   * Mapping options (src/converter/map/options.ts), validated and frozen; their `identity`
   * is also the repository's. Default `MAPPING_DEFAULTS`.
   */
  mapping: MappingOptions;
  /** Repository settings. */
  repository: RepositorySettings;
  /** Pre-fetch and RIS-PACS synchronisation (src/workflows/options.ts); time zone default `mapping.timeZone`. */
  workflows: WorkflowsOptions;
}

/** Defaults of one listener. */
export const LISTENER_DEFAULTS: Readonly<Omit<ListenerOptions, 'tls' | 'processingIds'>> = Object.freeze({
  name: 'mllp',
  host: '0.0.0.0',
  port: 2575,
  maxFrameBytes: 64 * MiB,
  maxConnections: 1000,
  maxConnectionsPerAddress: 100,
  idleTimeoutMs: 600_000,
  incompleteFrameTimeoutMs: 60_000,
  tolerantEndBlock: false,
  mllpRelease2: false,
  keepAliveMs: 60_000,
  ackOn: 'commit',
  conversionErrorAck: 'AE',
  ackTypeForm: 'full',
});

/** Converter defaults. */
export const CONVERTER_DEFAULTS: Readonly<ConverterOptions> = Object.freeze({
  enabled: true,
  workers: Math.min(2, availableParallelism()),
  batchSize: 64,
  maxInFlightBatches: 4,
  pollIntervalMs: 50,
});

/** Engine defaults (listeners: one with {@link LISTENER_DEFAULTS}). */
export const ENGINE_DEFAULTS: Readonly<Omit<EngineOptions, 'listeners' | 'http' | 'converter' | 'mapping' | 'repository' | 'workflows'>> & {
  readonly http: Readonly<Omit<GatewayOptions, 'tls' | 'tokens'>>;
  readonly converter: Readonly<ConverterOptions>;
} = Object.freeze({
  dataDir: './data',
  http: GATEWAY_DEFAULTS,
  dedupWindowMs: 7 * 24 * 3600_000,
  maxStorageBytes: 16 * GiB,
  retentionMs: 30 * 24 * 3600_000,
  ackControlIdPrefix: 'PL',
  logHighWaterBytes: 64 * MiB,
  connectionHighWaterFrames: 8,
  shutdownTimeoutMs: 10_000,
  converter: CONVERTER_DEFAULTS,
});

/** A partial listener as written in a config file. */
export type ListenerInput = Partial<ListenerOptions>;
/** A partial engine configuration as written in a config file. */
export type EngineInput = Partial<Omit<EngineOptions, 'listeners' | 'http' | 'converter' | 'mapping' | 'repository' | 'workflows'>> & {
  listeners?: ListenerInput[];
  http?: GatewayInput;
  converter?: Partial<ConverterOptions>;
  mapping?: MappingOptionsInput;
  repository?: Partial<RepositorySettings>;
  workflows?: WorkflowsInput;
};

/**
 * Parses `HOST:PORT` (IPv6 as `[::1]:2575`). Throws RangeError
 * `<what> must be HOST:PORT with a port between 0 and 65535`.
 */
export function parseHostPort(text: string, what: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text.trim());
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || !(port >= 0 && port <= 65535)) {
    throw new RangeError(`${what} must be HOST:PORT with a port between 0 and 65535`);
  }
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

/** Fills defaults and validates a whole configuration; throws RangeError/TypeError with exact messages. */
export function resolveEngineOptions(input: EngineInput = {}): EngineOptions {
  const d = ENGINE_DEFAULTS;
  const http = resolveGatewayOptions(input.http, (text) => parseHostPort(text, 'http'));
  const listenersIn = input.listeners ?? [{}];
  if (!Array.isArray(listenersIn) || listenersIn.length === 0) {
    throw new RangeError('listeners must be a non-empty array');
  }
  const listeners = listenersIn.map((l, i) => resolveListenerOptions(l, i));
  const names = new Set<string>();
  for (const l of listeners) {
    if (names.has(l.name)) throw new RangeError(`listeners: duplicate name '${l.name}'`);
    names.add(l.name);
  }
  const mapping = createMappingOptions(input.mapping ?? {});
  const options: EngineOptions = {
    dataDir: input.dataDir ?? d.dataDir,
    listeners,
    http,
    dedupWindowMs: input.dedupWindowMs ?? d.dedupWindowMs,
    maxStorageBytes: input.maxStorageBytes ?? d.maxStorageBytes,
    retentionMs: input.retentionMs ?? d.retentionMs,
    ackControlIdPrefix: input.ackControlIdPrefix ?? d.ackControlIdPrefix,
    logHighWaterBytes: input.logHighWaterBytes ?? d.logHighWaterBytes,
    connectionHighWaterFrames: input.connectionHighWaterFrames ?? d.connectionHighWaterFrames,
    shutdownTimeoutMs: input.shutdownTimeoutMs ?? d.shutdownTimeoutMs,
    converter: resolveConverterOptions(input.converter),
    mapping,
    repository: { policies: { ...(input.repository?.policies ?? {}) } },
    workflows: resolveWorkflowsOptions(input.workflows, mapping.timeZone),
  };
  // Validated here, with the repository's own messages, so a bad policy fails at start.
  resolveRepositoryOptions({ path: options.dataDir || '.', policies: options.repository.policies });
  if (!options.converter.enabled) {
    const waiting = options.listeners.find((l) => l.ackOn === 'apply');
    if (waiting !== undefined) {
      throw new RangeError(`listeners.${waiting.name}.ackOn "apply" needs the converter enabled`);
    }
  }
  if (typeof options.dataDir !== 'string' || options.dataDir === '') {
    throw new RangeError('dataDir must be a non-empty path');
  }
  checkInt(options.dedupWindowMs, 0, Number.MAX_SAFE_INTEGER, 'dedupWindowMs must be a non-negative integer');
  checkInt(options.maxStorageBytes, 1 * MiB, Number.MAX_SAFE_INTEGER, 'maxStorageBytes must be at least 1 MiB');
  checkInt(options.retentionMs, 0, Number.MAX_SAFE_INTEGER, 'retentionMs must be a non-negative integer');
  if (!/^[A-Za-z0-9_-]{0,12}$/.test(options.ackControlIdPrefix)) {
    throw new RangeError('ackControlIdPrefix must be at most 12 letters, digits, _ or -');
  }
  checkInt(options.logHighWaterBytes, 64 * KiB, 4 * GiB, 'logHighWaterBytes must be between 64 KiB and 4 GiB');
  checkInt(options.connectionHighWaterFrames, 1, 10_000, 'connectionHighWaterFrames must be between 1 and 10000');
  checkInt(options.shutdownTimeoutMs, 0, 3600_000, 'shutdownTimeoutMs must be between 0 and 3600000');
  return options;
}

/** Fills defaults and validates the converter section. */
export function resolveConverterOptions(input: Partial<ConverterOptions> = {}): ConverterOptions {
  const d = CONVERTER_DEFAULTS;
  if (input === null || typeof input !== 'object') throw new TypeError('converter must be an object');
  const c: ConverterOptions = {
    enabled: input.enabled ?? d.enabled,
    workers: input.workers ?? d.workers,
    batchSize: input.batchSize ?? d.batchSize,
    maxInFlightBatches: input.maxInFlightBatches ?? d.maxInFlightBatches,
    pollIntervalMs: input.pollIntervalMs ?? d.pollIntervalMs,
  };
  if (typeof c.enabled !== 'boolean') throw new TypeError('converter.enabled must be a boolean');
  checkInt(c.workers, 1, 64, 'converter.workers must be between 1 and 64');
  checkInt(c.batchSize, 1, 10_000, 'converter.batchSize must be between 1 and 10000');
  checkInt(c.maxInFlightBatches, 1, 1024, 'converter.maxInFlightBatches must be between 1 and 1024');
  checkInt(c.pollIntervalMs, 1, 60_000, 'converter.pollIntervalMs must be between 1 and 60000');
  return c;
}

/** Fills defaults and validates one listener (`index` names the default and the messages). */
export function resolveListenerOptions(input: ListenerInput, index = 0): ListenerOptions {
  const d = LISTENER_DEFAULTS;
  const name = input.name ?? (index === 0 ? d.name : `${d.name}${index + 1}`);
  const l: ListenerOptions = {
    name,
    host: input.host ?? d.host,
    port: input.port ?? d.port,
    maxFrameBytes: input.maxFrameBytes ?? d.maxFrameBytes,
    maxConnections: input.maxConnections ?? d.maxConnections,
    maxConnectionsPerAddress: input.maxConnectionsPerAddress ?? d.maxConnectionsPerAddress,
    idleTimeoutMs: input.idleTimeoutMs ?? d.idleTimeoutMs,
    incompleteFrameTimeoutMs: input.incompleteFrameTimeoutMs ?? d.incompleteFrameTimeoutMs,
    tolerantEndBlock: input.tolerantEndBlock ?? d.tolerantEndBlock,
    mllpRelease2: input.mllpRelease2 ?? d.mllpRelease2,
    keepAliveMs: input.keepAliveMs ?? d.keepAliveMs,
    ackOn: input.ackOn ?? d.ackOn,
    conversionErrorAck: input.conversionErrorAck ?? d.conversionErrorAck,
    ackTypeForm: input.ackTypeForm ?? d.ackTypeForm,
    ...(input.tls !== undefined ? { tls: input.tls } : {}),
    ...(input.processingIds !== undefined ? { processingIds: input.processingIds } : {}),
  };
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
    throw new RangeError('listener.name must be 1 to 64 letters, digits, _, . or -');
  }
  const p = `listeners.${name}`;
  if (typeof l.host !== 'string') throw new TypeError(`${p}.host must be a string`);
  checkInt(l.port, 0, 65535, `${p}.port must be between 0 and 65535`);
  checkInt(l.maxFrameBytes, KiB, GiB, `${p}.maxFrameBytes must be between 1 KiB and 1 GiB`);
  checkInt(l.maxConnections, 1, 1_000_000, `${p}.maxConnections must be between 1 and 1000000`);
  checkInt(
    l.maxConnectionsPerAddress,
    1,
    1_000_000,
    `${p}.maxConnectionsPerAddress must be between 1 and 1000000`,
  );
  checkInt(l.idleTimeoutMs, 0, 2 ** 31 - 1, `${p}.idleTimeoutMs must be between 0 and 2147483647`);
  checkInt(
    l.incompleteFrameTimeoutMs,
    0,
    2 ** 31 - 1,
    `${p}.incompleteFrameTimeoutMs must be between 0 and 2147483647`,
  );
  checkInt(l.keepAliveMs, 0, 2 ** 31 - 1, `${p}.keepAliveMs must be between 0 and 2147483647`);
  if (typeof l.tolerantEndBlock !== 'boolean') throw new TypeError(`${p}.tolerantEndBlock must be a boolean`);
  if (typeof l.mllpRelease2 !== 'boolean') throw new TypeError(`${p}.mllpRelease2 must be a boolean`);
  if (l.ackOn !== 'commit' && l.ackOn !== 'apply') throw new RangeError(`${p}.ackOn must be "commit" or "apply"`);
  if (!['AE', 'AR', 'AA'].includes(l.conversionErrorAck)) throw new RangeError(`${p}.conversionErrorAck must be "AE", "AR" or "AA"`);
  if (!['full', 'trigger', 'bare'].includes(l.ackTypeForm)) throw new RangeError(`${p}.ackTypeForm must be "full", "trigger" or "bare"`);
  if (l.processingIds !== undefined) {
    if (!Array.isArray(l.processingIds) || l.processingIds.some((x) => typeof x !== 'string')) {
      throw new TypeError(`${p}.processingIds must be an array of strings`);
    }
  }
  if (l.tls !== undefined) {
    const t = l.tls;
    if (typeof t.cert !== 'string' || typeof t.key !== 'string') {
      throw new TypeError(`${p}.tls needs cert and key file paths`);
    }
    if (t.ca !== undefined && typeof t.ca !== 'string') throw new TypeError(`${p}.tls.ca must be a file path`);
    if (t.allow !== undefined && t.requireClientCert !== true) {
      throw new RangeError(`${p}.tls.allow needs requireClientCert: true`);
    }
  }
  return l;
}

/** Reads a JSON config file (an {@link EngineInput}). */
export async function loadConfigFile(path: string): Promise<EngineInput> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new RangeError(`config file ${path} cannot be read: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new RangeError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new RangeError(`config file ${path} must hold a JSON object`);
  }
  return value as EngineInput;
}
