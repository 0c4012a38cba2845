/**
 * A small MLLP client: one connection, one message at a time (send, then wait for the ACK,
 * as original-mode senders do, DOMAIN.md §1.1). Used by `pacslink send`, the load
 * generator and tests. MLLP release 2 commit frames (`0B 06 1C 0D`, `0B 15 1C 0D`) are
 * recorded and skipped, so `send` resolves with the HL7 ACK.
 */
import net, { type Socket } from 'node:net';
import tls, { type ConnectionOptions } from 'node:tls';
import { PacslinkError } from '../errors.js';
import { MllpFramer } from '../listener/framer.js';

/** Options of {@link MllpClient.connect}. */
export interface MllpClientOptions {
  host: string;
  port: number;
  /** TLS connection options; plain TCP when absent. */
  tls?: ConnectionOptions;
  /** Connect timeout (ms). Default 10 000. */
  connectTimeoutMs?: number;
  /** ACK wait (ms) per message. Default 30 000. */
  ackTimeoutMs?: number;
  /** Largest ACK accepted (bytes). Default 1 MiB. */
  maxAckBytes?: number;
}

/** MSA-1 and MSA-2 of an ACK (empty strings when absent). */
export interface AckSummary {
  code: string;
  controlId: string;
}

const VT = 0x0b;
const FS = 0x1c;
const CR = 0x0d;

/** Wraps a payload in an MLLP frame (one copy). */
export function frame(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(payload.length + 3);
  out[0] = VT;
  out.set(payload, 1);
  out[payload.length + 1] = FS;
  out[payload.length + 2] = CR;
  return out;
}

/** Reads MSA-1 and MSA-2 from an ACK's bytes (field separator from its MSH). */
export function readAck(payload: Uint8Array): AckSummary {
  const b = Buffer.from(payload.buffer, payload.byteOffset, payload.length);
  const sep = b.length > 3 && b[0] === 0x4d && b[1] === 0x53 && b[2] === 0x48 ? b[3]! : 0x7c;
  // Find a segment (start of message, or after CR/LF) named MSA followed by the separator.
  let at = -1;
  for (let i = b.indexOf('MSA'); i !== -1; i = b.indexOf('MSA', i + 3)) {
    const before = i === 0 ? CR : b[i - 1];
    if ((before === CR || before === 0x0a) && b[i + 3] === sep) {
      at = i + 4;
      break;
    }
  }
  if (at === -1) return { code: '', controlId: '' };
  const field = (from: number): [string, number] => {
    let end = from;
    while (end < b.length && b[end] !== sep && b[end] !== CR && b[end] !== 0x0a) end++;
    return [b.toString('latin1', from, end), end];
  };
  const [code, end1] = field(at);
  const controlId = b[end1] === sep ? field(end1 + 1)[0] : '';
  return { code, controlId };
}

/** One MLLP client connection. */
export class MllpClient {
  readonly socket: Socket;
  readonly #ackTimeoutMs: number;
  readonly #framer: MllpFramer;
  #waiting: { resolve: (ack: Uint8Array) => void; reject: (err: Error) => void; timer: NodeJS.Timeout } | undefined;
  #failure: Error | undefined;
  /** Release 2 commit frames received: 0x06 (ACK) and 0x15 (NAK) counts. */
  readonly commits = { ack: 0, nak: 0 };

  private constructor(socket: Socket, options: MllpClientOptions) {
    this.socket = socket;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 30_000;
    this.#framer = new MllpFramer(
      { maxFrameBytes: options.maxAckBytes ?? 1 << 20 },
      {
        onFrame: (p) => this.#onFrame(p),
        onJunk: () => {},
        onOversized: () => this.#fail(new PacslinkError('ERR_MLLP_ACK', 'ACK larger than the limit')),
        onFrameError: () => {},
      },
    );
    socket.on('data', (chunk: Buffer) => this.#framer.push(chunk));
    socket.on('error', (err) => this.#fail(new PacslinkError('ERR_MLLP_SOCKET', err.message, { cause: err })));
    socket.on('close', () => this.#fail(new PacslinkError('ERR_MLLP_CLOSED', 'connection closed before the ACK')));
  }

  /** Connects (TCP or TLS). */
  static connect(options: MllpClientOptions): Promise<MllpClient> {
    return new Promise((resolve, reject) => {
      const timeoutMs = options.connectTimeoutMs ?? 10_000;
      const socket =
        options.tls !== undefined
          ? tls.connect({ ...options.tls, host: options.host, port: options.port })
          : net.connect({ host: options.host, port: options.port, noDelay: true });
      const ready = options.tls !== undefined ? 'secureConnect' : 'connect';
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new PacslinkError('ERR_MLLP_CONNECT', `connect to ${options.host}:${options.port} timed out`));
      }, timeoutMs);
      const onError = (err: Error): void => {
        clearTimeout(timer);
        reject(new PacslinkError('ERR_MLLP_CONNECT', `cannot connect to ${options.host}:${options.port}: ${err.message}`, { cause: err }));
      };
      socket.once('error', onError);
      socket.once(ready, () => {
        clearTimeout(timer);
        socket.off('error', onError);
        socket.setNoDelay(true);
        resolve(new MllpClient(socket, options));
      });
    });
  }

  /** Sends one message (payload without framing) and resolves with the ACK's payload. */
  send(payload: Uint8Array): Promise<Uint8Array> {
    return this.sendFramed(frame(payload));
  }

  /** Sends bytes already framed and resolves with the next ACK's payload. */
  sendFramed(framed: Uint8Array): Promise<Uint8Array> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#waiting !== undefined) {
      return Promise.reject(new PacslinkError('ERR_MLLP_BUSY', 'an ACK is still awaited on this connection'));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting = undefined;
        reject(new PacslinkError('ERR_MLLP_TIMEOUT', `no ACK within ${this.#ackTimeoutMs} ms`));
        this.socket.destroy();
      }, this.#ackTimeoutMs);
      this.#waiting = { resolve, reject, timer };
      this.socket.write(framed);
    });
  }

  /** Ends the connection and waits for it to close. */
  close(): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
    });
  }

  #onFrame(payload: Uint8Array): void {
    if (payload.length === 1 && (payload[0] === 0x06 || payload[0] === 0x15)) {
      if (payload[0] === 0x06) this.commits.ack++;
      else this.commits.nak++;
      return;
    }
    const w = this.#waiting;
    if (w === undefined) return;
    this.#waiting = undefined;
    clearTimeout(w.timer);
    w.resolve(payload);
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    const w = this.#waiting;
    if (w === undefined) return;
    this.#waiting = undefined;
    clearTimeout(w.timer);
    w.reject(err);
  }
}
