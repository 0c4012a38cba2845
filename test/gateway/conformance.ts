/**
 * Helpers of the gateway conformance suite: the adapters under test, a recording server over
 * either one, WebSocket and HTTP clients that queue what they receive, and self-signed
 * certificates made with the system's openssl.
 */
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WebSocket, type ClientOptions } from 'ws';
import { wsAdapter } from '../../native-free/ws-adapter.js';
import type {
  GatewayAdapter,
  GatewayRequest,
  GatewayResponse,
  GatewayServeOptions,
  GatewayServer,
  UpgradeDecision,
  WsConnection,
} from '../../src/gateway/port.js';
import { loadUwsAdapter } from '../../src/gateway/uws-adapter.js';

/** Node major versions whose ABI the installed uWebSockets.js build has a binary for. */
export const UWS_NODE_MAJORS: readonly number[] = [20];

/** An adapter to run the suite against, or why it is skipped. */
export interface AdapterUnderTest {
  name: 'uws' | 'ws';
  adapter?: GatewayAdapter;
  skip?: string;
}

/**
 * The adapters of this run: `ws` always; `uws` when it loads. On a Node version the build
 * supports, a load failure is an error (not a skip), so CI on Node 20 cannot quietly test
 * only the fallback.
 */
export async function adaptersUnderTest(): Promise<AdapterUnderTest[]> {
  const major = Number(process.versions.node.split('.')[0]);
  let uws: AdapterUnderTest;
  try {
    uws = { name: 'uws', adapter: await loadUwsAdapter() };
  } catch (err) {
    if (UWS_NODE_MAJORS.includes(major)) throw new Error(`uWebSockets.js must load on Node ${major}`, { cause: err });
    uws = { name: 'uws', skip: `uWebSockets.js does not load on Node ${process.versions.node}: ${(err as Error).message}` };
  }
  return [{ name: 'ws', adapter: wsAdapter }, uws];
}

/** One thing a WebSocket handler saw. */
export type WsEvent =
  | { kind: 'open'; id: number; context: unknown }
  | { kind: 'message'; id: number; data: Uint8Array; binary: boolean }
  | { kind: 'drain'; id: number }
  | { kind: 'close'; id: number; code: number; reason: string };

/** A server over an adapter whose handlers record everything and can be swapped per test. */
export interface Harness {
  readonly server: GatewayServer;
  readonly base: string;
  readonly wsBase: string;
  readonly events: WsEvent[];
  readonly conns: Map<number, WsConnection>;
  readonly requests: GatewayRequest[];
  readonly errors: string[];
  http: (request: GatewayRequest) => GatewayResponse | Promise<GatewayResponse>;
  upgrade: (request: GatewayRequest) => UpgradeDecision<unknown> | Promise<UpgradeDecision<unknown>>;
  /** Runs on every message before it is recorded; the default echoes it back. */
  onMessage: (conn: WsConnection, data: Uint8Array, binary: boolean) => void;
  /** Resolves when `cond()` holds (re-checked every turn of the event loop). */
  until(cond: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** The connection opened `n`-th (from 1), once open. */
  conn(n: number): Promise<WsConnection>;
  close(): Promise<void>;
}

export const LIMITS = { maxBodyBytes: 4096, maxMessageBytes: 4096, maxBackpressureBytes: 1024 * 1024, idleTimeoutSec: 0 };

/** Starts a recording server on 127.0.0.1:0. */
export async function startHarness(
  adapter: GatewayAdapter,
  overrides: Partial<Omit<GatewayServeOptions, 'http' | 'ws'>> = {},
): Promise<Harness> {
  const events: WsEvent[] = [];
  const conns = new Map<number, WsConnection>();
  const opened: WsConnection[] = [];
  const requests: GatewayRequest[] = [];
  const errors: string[] = [];
  const until = async (cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  const h: Omit<Harness, 'server' | 'base' | 'wsBase' | 'close'> = {
    events,
    conns,
    requests,
    errors,
    http: (request) => ({ status: 200, body: JSON.stringify({ path: request.path }) }),
    upgrade: (request) => ({ accept: true, context: request.query.get('ctx') }),
    onMessage: (conn, data, binary) => {
      conn.send(binary ? data : Buffer.from(data).toString('utf8'), binary);
    },
    until,
    async conn(n) {
      await until(() => opened.length >= n, `connection ${n} to open`);
      return opened[n - 1]!;
    },
  };
  const server = await adapter.serve({
    host: '127.0.0.1',
    port: 0,
    ...LIMITS,
    wsPath: '/events',
    ...overrides,
    http: (request) => {
      requests.push(request);
      return h.http(request);
    },
    ws: {
      upgrade: (request) => {
        requests.push(request);
        return h.upgrade(request);
      },
      open: (conn, context) => {
        conns.set(conn.id, conn);
        opened.push(conn);
        events.push({ kind: 'open', id: conn.id, context });
      },
      message: (conn, data, binary) => {
        events.push({ kind: 'message', id: conn.id, data, binary });
        h.onMessage(conn, data, binary);
      },
      drain: (conn) => {
        events.push({ kind: 'drain', id: conn.id });
      },
      close: (conn, code, reason) => {
        conns.delete(conn.id);
        events.push({ kind: 'close', id: conn.id, code, reason });
      },
    },
    onError: (message) => errors.push(message),
  });
  const scheme = overrides.tls !== undefined ? 's' : '';
  return Object.assign(h, {
    server,
    base: `http${scheme}://127.0.0.1:${server.port}`,
    wsBase: `ws${scheme}://127.0.0.1:${server.port}`,
    close: () => server.close(),
  });
}

/** What an HTTP client got. */
export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One HTTP request (a fresh connection each time); `ca` for HTTPS. */
export function fetchRaw(
  url: string,
  init: { method?: string; headers?: Record<string, string | number>; body?: Uint8Array | string; ca?: Buffer; signal?: AbortSignal } = {},
): Promise<HttpAnswer> {
  const u = new URL(url);
  const make = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = make(
      {
        host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: u.port,
        path: u.pathname + u.search,
        method: init.method ?? 'GET',
        headers: init.headers ?? {},
        agent: false,
        ...(init.ca !== undefined ? { ca: init.ca } : {}),
        ...(init.signal !== undefined ? { signal: init.signal } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

/** Writes `request` on a plain socket and returns all the server sends until it closes. */
export function rawHttp(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}

/** A WebSocket client that queues what it receives. */
export class Client {
  readonly ws: WebSocket;
  readonly received: Array<{ data: Buffer; binary: boolean }> = [];
  pings = 0;
  closed: { code: number; reason: string } | undefined;
  /** The HTTP answer of a refused upgrade. */
  refused: HttpAnswer | undefined;
  error: Error | undefined;
  readonly opened: Promise<void>;
  readonly done: Promise<void>;

  constructor(url: string, options: ClientOptions = {}) {
    this.ws = new WebSocket(url, options);
    this.ws.on('message', (data: Buffer, binary: boolean) => this.received.push({ data, binary }));
    this.ws.on('ping', () => this.pings++);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
      this.ws.once('close', () => reject(new Error('closed before open')));
    });
    this.opened.catch(() => {});
    this.done = new Promise((resolve) => {
      this.ws.on('unexpected-response', (_req, res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          this.refused = { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) };
          resolve();
        });
      });
      this.ws.on('error', (err) => {
        this.error = err;
      });
      this.ws.on('close', (code: number, reason: Buffer) => {
        this.closed = { code, reason: reason.toString('utf8') };
        resolve();
      });
    });
  }

  /** Resolves with the `n`-th message received (from 1). */
  async nth(n: number, timeoutMs = 10_000): Promise<{ data: Buffer; binary: boolean }> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < n) {
      if (Date.now() > deadline || this.closed !== undefined) throw new Error(`message ${n} never came (got ${this.received.length})`);
      await new Promise((r) => setTimeout(r, 2));
    }
    return this.received[n - 1]!;
  }

  texts(): string[] {
    return this.received.map((m) => m.data.toString('utf8'));
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }
}

const openssl = promisify(execFile);

/** A self-signed certificate for 127.0.0.1 and localhost, with a plain and an encrypted key. */
export async function selfSigned(): Promise<{ dir: string; cert: string; key: string; encryptedKey: string; passphrase: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'pacslink-gw-tls-'));
  const p = (f: string): string => join(dir, f);
  const passphrase = 'conformance-pass';
  await openssl('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('key.pem'), '-out', p('cert.pem'), '-days', '2',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  await openssl('openssl', ['pkey', '-in', p('key.pem'), '-aes256', '-passout', `pass:${passphrase}`, '-out', p('key.enc.pem')]);
  return { dir, cert: p('cert.pem'), key: p('key.pem'), encryptedKey: p('key.enc.pem'), passphrase };
}

/** Whether this machine can bind IPv6 loopback (some containers cannot). */
export function hasIpv6(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(0, '::1', () => s.close(() => resolve(true)));
  });
}

/** The error JSON's code, or undefined when the body is not the error JSON. */
export function errorCode(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { error?: { code?: unknown; message?: unknown } };
    return typeof parsed.error?.code === 'string' && typeof parsed.error.message === 'string' ? parsed.error.code : undefined;
  } catch {
    return undefined;
  }
}
