/**
 * One named MLLP listener: a `net` or `tls` server that accepts connections within the
 * configured limits (per listener and per remote address), checks TLS client certificates
 * against the allow-list, enables TCP keepalive and hands each socket to an
 * {@link MllpConnection}.
 */
import { readFileSync } from 'node:fs';
import net, { type Server, type Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import type { ListenerOptions } from '../config.js';
import type { Logger } from '../log.js';
import type { EngineMetrics } from '../metrics.js';
import type { AppendGate } from './append-gate.js';
import { MllpConnection, type ConnectionSettings, type ConversionPort } from './connection.js';
import { listenerInstruments, type ListenerInstruments } from './instruments.js';
import { certificateAllowed } from './tls-allow.js';

/** Engine-wide settings a listener also needs. */
export interface ListenerSharedSettings {
  /** Prefix of ACK MSH-10 values. */
  ackControlIdPrefix: string;
  /** Frames queued per connection before its socket pauses. */
  connectionHighWaterFrames: number;
}

/** Dependencies of a listener. */
export interface ListenerDeps {
  gate: AppendGate;
  metrics: EngineMetrics;
  logger: Logger;
  /** The converter, for listeners with `ackOn: "apply"` and to wake it after appends. */
  conversion?: ConversionPort;
}

/** A named MLLP listener; `start()` binds, `close()` drains and stops. */
export class MllpListener {
  readonly options: ListenerOptions;
  readonly #server: Server;
  readonly #deps: ListenerDeps;
  readonly #settings: ConnectionSettings;
  readonly #instruments: ListenerInstruments;
  readonly #logger: Logger;
  readonly #connections = new Set<MllpConnection>();
  readonly #perAddress = new Map<string, number>();
  #open = 0;
  #port = -1;
  #peakQueued = 0;

  constructor(options: ListenerOptions, shared: ListenerSharedSettings, deps: ListenerDeps) {
    this.options = options;
    this.#deps = deps;
    this.#logger = deps.logger.child({ listener: options.name });
    this.#instruments = listenerInstruments(deps.metrics, options.name);
    this.#settings = {
      listener: options.name,
      maxFrameBytes: options.maxFrameBytes,
      tolerantEndBlock: options.tolerantEndBlock,
      mllpRelease2: options.mllpRelease2,
      processingIds: options.processingIds,
      idleTimeoutMs: options.idleTimeoutMs,
      incompleteFrameTimeoutMs: options.incompleteFrameTimeoutMs,
      highWaterFrames: shared.connectionHighWaterFrames,
      ackControlIdPrefix: shared.ackControlIdPrefix,
      ackOn: options.ackOn,
      conversionErrorAck: options.conversionErrorAck,
      ackTypeForm: options.ackTypeForm,
    };
    const serverOptions = { allowHalfOpen: true, pauseOnConnect: false, noDelay: true };
    if (options.tls !== undefined) {
      const t = options.tls;
      this.#server = tls.createServer({
        ...serverOptions,
        cert: readFileSync(t.cert),
        key: readFileSync(t.key),
        ...(t.ca !== undefined ? { ca: readFileSync(t.ca) } : {}),
        requestCert: t.requireClientCert === true,
        rejectUnauthorized: t.requireClientCert === true,
        minVersion: 'TLSv1.2',
      });
      this.#server.on('secureConnection', (socket: TLSSocket) => this.#onSecure(socket));
      this.#server.on('tlsClientError', (err) => {
        this.#logger.warn('tls handshake failed', { error: err.message });
      });
    } else {
      this.#server = net.createServer(serverOptions);
    }
    // Limits are checked on the raw TCP socket, before any TLS handshake work.
    const plain = options.tls === undefined;
    this.#server.on('connection', (socket: Socket) => {
      if (this.#admit(socket) && plain) this.#accept(socket);
    });
  }

  /** The bound port (after `start`). */
  get port(): number {
    return this.#port;
  }

  /** Open connections. */
  get connectionCount(): number {
    return this.#open;
  }

  /** Most frames that ever waited at once on one connection of this listener. */
  get peakQueuedFrames(): number {
    let peak = this.#peakQueued;
    for (const c of this.#connections) peak = Math.max(peak, c.peakQueued);
    return peak;
  }

  /** Binds and resolves with the port. */
  start(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.#server.once('error', onError);
      this.#server.listen({ host: this.options.host, port: this.options.port }, () => {
        this.#server.off('error', onError);
        this.#server.on('error', (err) => this.#logger.error('listener error', { error: err.message }));
        const addr = this.#server.address();
        this.#port = typeof addr === 'object' && addr !== null ? addr.port : -1;
        resolve(this.#port);
      });
    });
  }

  /**
   * Stops accepting, lets every connection finish its queued messages and ACKs, and closes
   * them; after `timeoutMs` the rest are destroyed.
   */
  async close(timeoutMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    const drains = Promise.all([...this.#connections].map((c) => c.shutdown()));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const r = await Promise.race([drains, timeout]);
    clearTimeout(timer);
    if (r === 'timeout') {
      this.#logger.warn('shutdown timeout; closing remaining connections', { open: this.#connections.size });
      for (const c of this.#connections) c.socket.destroy();
      await Promise.all([...this.#connections].map((c) => c.closed));
    }
    await closed;
  }

  #admit(socket: Socket): boolean {
    const address = socket.remoteAddress ?? '?';
    const perAddress = this.#perAddress.get(address) ?? 0;
    if (this.#open >= this.options.maxConnections) {
      this.#instruments.refused('max-connections').inc();
      this.#logger.warn('connection refused: listener at maxConnections', { remote: address });
      socket.destroy();
      return false;
    }
    if (perAddress >= this.options.maxConnectionsPerAddress) {
      this.#instruments.refused('max-per-address').inc();
      this.#logger.warn('connection refused: address at maxConnectionsPerAddress', { remote: address });
      socket.destroy();
      return false;
    }
    this.#open++;
    this.#perAddress.set(address, perAddress + 1);
    this.#instruments.connections.inc();
    socket.once('close', () => {
      this.#open--;
      const n = (this.#perAddress.get(address) ?? 1) - 1;
      if (n === 0) this.#perAddress.delete(address);
      else this.#perAddress.set(address, n);
      this.#instruments.connections.dec();
    });
    if (this.options.keepAliveMs > 0) socket.setKeepAlive(true, this.options.keepAliveMs);
    socket.setNoDelay(true);
    return true;
  }

  #onSecure(socket: TLSSocket): void {
    const allow = this.options.tls?.allow;
    if (allow !== undefined && !certificateAllowed(socket.getPeerCertificate(), allow)) {
      this.#instruments.refused('tls-allow-list').inc();
      this.#logger.warn('connection refused: client certificate not in allow-list', {
        remote: socket.remoteAddress,
      });
      socket.destroy();
      return;
    }
    this.#accept(socket);
  }

  #accept(socket: Socket): void {
    if (socket.destroyed) return;
    const conn = new MllpConnection(socket, this.#settings, this.#deps.gate, this.#instruments, this.#logger, this.#deps.conversion);
    this.#connections.add(conn);
    void conn.closed.then(() => {
      this.#peakQueued = Math.max(this.#peakQueued, conn.peakQueued);
      this.#connections.delete(conn);
    });
  }
}
