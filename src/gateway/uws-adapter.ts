/**
 * The uWebSockets.js adapter of the gateway port (port.ts): HTTP, the WebSocket upgrade on
 * `wsPath`, topics (uWS publish/subscribe), per-socket send buffers (`maxBackpressure`) and
 * heartbeats (`idleTimeout` + `sendPingsAutomatically`), all in the addon's own event loop.
 * It behaves like the native-free `node:http` + `ws` adapter at the port level; one
 * conformance suite (test/gateway/conformance.test.ts) runs against both.
 *
 * uWS objects are valid only until their close/abort callback: every handle here carries a
 * flag set by that callback, and nothing touches a response or socket once it is set.
 */
import { accessSync, constants, readdirSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as Uws from 'uWebSockets.js';
import type {
  GatewayAdapter,
  GatewayRequest,
  GatewayResponse,
  GatewayServeOptions,
  GatewayServer,
  SendStatus,
  UpgradeDecision,
  WsConnection,
} from './port.js';
import { closeReason, errorResponse, JSON_TYPE, LENGTH_REQUIRED } from './wire.js';

type UwsModule = typeof Uws;
/** `close()` (every socket, listen sockets included) exists in this build but not in its typings. */
type App = Uws.TemplatedApp & { close(): void };

const EMPTY = new Uint8Array(0);
const DIGITS = /^\d{1,15}$/;
/**
 * uWS's own payload limit, as a multiple of `maxMessageBytes`: messages up to it are closed
 * 1009 with a reason, larger ones are dropped by uWS without a close frame.
 */
const OVERSIZE_HEADROOM = 16;
const SEND_STATUS: readonly SendStatus[] = ['buffered', 'sent', 'dropped'];

const statusLines = new Map<number, string>();
function statusLine(status: number): string {
  let line = statusLines.get(status);
  if (line === undefined) {
    line = `${status} ${STATUS_CODES[status] ?? ''}`;
    statusLines.set(status, line);
  }
  return line;
}

const hex = (b: Uint8Array, i: number): string => ((b[i]! << 8) | b[i + 1]!).toString(16);

/** Peer address as node:net prints it: dotted IPv4 (also for IPv4-mapped IPv6), else compressed IPv6. */
function addressText(raw: ArrayBuffer): string {
  const b = new Uint8Array(raw);
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length !== 16) return '';
  let mapped = b[10] === 0xff && b[11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) mapped = b[i] === 0;
  if (mapped) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(hex(b, i));
  // The longest run of two or more zero groups becomes `::` (RFC 5952).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** Reads what the port needs of a request; only valid inside the uWS callback. */
function requestOf(req: Uws.HttpRequest, res: Uws.HttpResponse): GatewayRequest {
  const headers: Record<string, string> = {};
  req.forEach((name, value) => {
    const prev = headers[name];
    headers[name] = prev === undefined ? value : `${prev}, ${value}`;
  });
  return {
    method: req.getMethod().toUpperCase(),
    path: req.getUrl(),
    query: new URLSearchParams(req.getQuery() ?? ''),
    headers,
    body: EMPTY,
    remoteAddress: addressText(res.getRemoteAddress()),
  };
}

/** One pending HTTP response: `done` once answered or aborted (the response is then off limits). */
interface Pending {
  done: boolean;
  /** Called once, when `done` is set. */
  settled?: () => void;
}

function settle(pending: Pending): void {
  pending.done = true;
  pending.settled?.();
}

function bodyOf(body: string | Uint8Array | undefined): string | Uint8Array {
  return body ?? EMPTY;
}

function byteLength(body: string | Uint8Array): number {
  return typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.byteLength;
}

/** Writes an answer unless the request was aborted; `close` ends the connection after it. */
function answer(res: Uws.HttpResponse, pending: Pending, response: GatewayResponse, head: boolean, close: boolean): void {
  if (pending.done) return;
  settle(pending);
  res.cork(() => {
    res.writeStatus(statusLine(response.status));
    let typed = false;
    const headers = response.headers;
    if (headers !== undefined) {
      for (const name in headers) {
        const lower = name.toLowerCase();
        // uWS writes content-length itself (a second one would corrupt the answer).
        if (lower === 'content-length') continue;
        if (lower === 'content-type') typed = true;
        res.writeHeader(name, headers[name]!);
      }
    }
    if (!typed) res.writeHeader('content-type', JSON_TYPE);
    const body = bodyOf(response.body);
    if (head) res.endWithoutBody(byteLength(body), close);
    else res.end(body, close);
  });
}

interface UserData<C> {
  context: C;
  conn: UwsConn | undefined;
}

class UwsConn implements WsConnection {
  readonly id: number;
  readonly ws: Uws.WebSocket<UserData<unknown>>;
  /** Set by the close callback: the uWS socket must not be touched after it. */
  closed = false;

  constructor(id: number, ws: Uws.WebSocket<UserData<unknown>>) {
    this.id = id;
    this.ws = ws;
  }

  send(data: string | Uint8Array, binary: boolean): SendStatus {
    if (this.closed) return 'dropped';
    return SEND_STATUS[this.ws.send(data, binary, false)] ?? 'dropped';
  }

  bufferedAmount(): number {
    return this.closed ? 0 : this.ws.getBufferedAmount();
  }

  subscribe(topic: string): void {
    if (!this.closed) this.ws.subscribe(topic);
  }

  unsubscribe(topic: string): void {
    if (!this.closed) this.ws.unsubscribe(topic);
  }

  end(code: number, reason: string): void {
    if (!this.closed) this.ws.end(code, closeReason(reason));
  }

  terminate(): void {
    if (!this.closed) this.ws.close();
  }
}

class UwsServer implements GatewayServer {
  readonly impl = 'uws' as const;
  readonly port: number;
  readonly conns = new Set<UwsConn>();
  /** HTTP requests not answered yet (close waits for them, up to a second). */
  inFlight = 0;
  #idle: (() => void) | undefined;
  readonly #uws: UwsModule;
  readonly #app: App;
  readonly #listen: Uws.us_listen_socket;
  #closing: Promise<void> | undefined;

  constructor(uws: UwsModule, app: App, listen: Uws.us_listen_socket) {
    this.#uws = uws;
    this.#app = app;
    this.#listen = listen;
    this.port = uws.us_socket_local_port(listen as Uws.us_socket);
  }

  publish(topic: string, data: string | Uint8Array, binary: boolean): void {
    this.#app.publish(topic, data, binary, false);
  }

  connections(): number {
    return this.conns.size;
  }

  /** An HTTP request was answered or aborted. */
  settled(): void {
    this.inFlight--;
    if (this.inFlight === 0) this.#idle?.();
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#uws.us_listen_socket_close(this.#listen);
      // end() runs the close callback at once, which removes the connection from the set.
      for (const conn of [...this.conns]) conn.end(1001, 'server shutting down');
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        clearTimeout(force);
        // Drops idle keep-alive connections and the peers that never answered the close frame.
        this.#app.close();
        resolve();
      };
      const force = setTimeout(finish, 1000);
      force.unref();
      if (this.inFlight === 0) setImmediate(finish);
      else this.#idle = finish;
    });
    return this.#closing;
  }
}

function checkReadable(file: string, what: string): void {
  try {
    accessSync(file, constants.R_OK);
  } catch (err) {
    throw new Error(`http.tls.${what}: cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

function createApp(uws: UwsModule, options: GatewayServeOptions<unknown>): App {
  const tls = options.tls;
  if (tls === undefined) return uws.App() as App;
  checkReadable(tls.cert, 'cert');
  checkReadable(tls.key, 'key');
  try {
    return uws.SSLApp({
      cert_file_name: tls.cert,
      key_file_name: tls.key,
      ...(tls.passphrase !== undefined ? { passphrase: tls.passphrase } : {}),
    }) as App;
  } catch (err) {
    throw new Error('http.tls: uWebSockets.js rejected the certificate or key (not PEM, not a pair, or a wrong passphrase)', { cause: err });
  }
}

function serve<C>(uws: UwsModule, options: GatewayServeOptions<C>): Promise<GatewayServer> {
  const report = options.onError ?? (() => {});
  const app = createApp(uws, options as GatewayServeOptions<unknown>);
  const bound: { server?: UwsServer } = {};
  let nextId = 1;
  const limit = options.maxBodyBytes;

  const handle = (res: Uws.HttpResponse, request: GatewayRequest, pending: Pending, head: boolean): void => {
    let result;
    try {
      result = options.http(request);
    } catch (err) {
      report('http handler failed', err);
      answer(res, pending, errorResponse(500, 'internal', 'internal error'), head, false);
      return;
    }
    if (!(result instanceof Promise)) {
      answer(res, pending, result, head, false);
      return;
    }
    result.then(
      (response) => answer(res, pending, response, head, false),
      (err: unknown) => {
        report('http handler failed', err);
        answer(res, pending, errorResponse(500, 'internal', 'internal error'), head, false);
      },
    );
  };

  app.any('/*', (res, req) => {
    const request = requestOf(req, res);
    const pending: Pending = { done: false };
    if (request.headers.upgrade !== undefined) {
      // uWS routes valid upgrades on wsPath to the ws behaviour: this one is elsewhere or broken.
      const refusal = request.path === options.wsPath
        ? errorResponse(400, 'bad-request', 'invalid WebSocket upgrade request')
        : errorResponse(404, 'not-found', `no WebSocket endpoint at ${request.path}`);
      answer(res, pending, refusal, false, true);
      return;
    }
    const head = request.method === 'HEAD';
    const declared = request.headers['content-length'];
    const size = declared === undefined ? 0 : DIGITS.test(declared) ? Number(declared) : -1;
    if (size < 0) {
      answer(res, pending, errorResponse(400, 'bad-request', 'content-length must be one decimal number'), head, true);
      return;
    }
    if (size > limit) {
      answer(res, pending, errorResponse(413, 'payload-too-large', `request body is larger than ${limit} bytes`), head, true);
      return;
    }
    if (request.headers['transfer-encoding'] !== undefined) {
      // This uWS build cannot read chunked request bodies: ask for a content-length instead.
      answer(res, pending, errorResponse(411, 'length-required', LENGTH_REQUIRED), head, true);
      return;
    }
    const server = bound.server;
    if (server !== undefined) {
      server.inFlight++;
      pending.settled = () => server.settled();
    }
    res.onAborted(() => {
      if (!pending.done) settle(pending);
    });
    if (size === 0) {
      handle(res, request, pending, head);
      return;
    }
    // One buffer of the declared size, filled as chunks arrive.
    const body = new Uint8Array(size);
    let received = 0;
    res.onData((chunk, isLast) => {
      if (pending.done) return;
      const n = chunk.byteLength;
      if (received + n > limit) {
        answer(res, pending, errorResponse(413, 'payload-too-large', `request body is larger than ${limit} bytes`), head, true);
        return;
      }
      // uWS neuters the chunk when this callback returns: copy it now.
      body.set(new Uint8Array(chunk), received);
      received += n;
      if (!isLast) return;
      request.body = received < size ? body.subarray(0, received) : body;
      handle(res, request, pending, head);
    });
  });

  app.ws<UserData<C>>(options.wsPath, {
    compression: uws.DISABLED,
    // uWS drops a connection over maxPayloadLength without a close frame (the client sees
    // 1006); with headroom, an oversized message reaches `message` and is closed 1009 there.
    maxPayloadLength: options.maxMessageBytes * OVERSIZE_HEADROOM,
    maxBackpressure: options.maxBackpressureBytes,
    closeOnBackpressureLimit: 0,
    idleTimeout: options.idleTimeoutSec,
    sendPingsAutomatically: options.idleTimeoutSec > 0,
    upgrade: (res, req, socketContext) => {
      const request = requestOf(req, res);
      const key = req.getHeader('sec-websocket-key');
      // Like ws: the first protocol the client offers, if any.
      const protocol = req.getHeader('sec-websocket-protocol').split(',')[0]!.trim();
      const extensions = req.getHeader('sec-websocket-extensions');
      const pending: Pending = { done: false };
      res.onAborted(() => settle(pending));
      const decide = (decision: UpgradeDecision<C>): void => {
        if (!decision.accept) {
          answer(res, pending, decision.response, false, true);
          return;
        }
        if (pending.done) return;
        settle(pending);
        const data: UserData<C> = { context: decision.context, conn: undefined };
        res.cork(() => res.upgrade(data, key, protocol, extensions, socketContext));
      };
      const failed = (err: unknown): void => {
        report('websocket upgrade handler failed', err);
        answer(res, pending, errorResponse(500, 'internal', 'internal error'), false, true);
      };
      let result;
      try {
        result = options.ws.upgrade(request);
      } catch (err) {
        failed(err);
        return;
      }
      if (result instanceof Promise) result.then(decide, failed);
      else decide(result);
    },
    open: (ws) => {
      const data = ws.getUserData();
      const conn = new UwsConn(nextId++, ws as unknown as Uws.WebSocket<UserData<unknown>>);
      data.conn = conn;
      bound.server?.conns.add(conn);
      guard(conn, 'open', () => options.ws.open(conn, data.context));
    },
    message: (ws, message, isBinary) => {
      const conn = ws.getUserData().conn;
      if (conn === undefined || conn.closed) return;
      if (message.byteLength > options.maxMessageBytes) {
        conn.end(1009, `message larger than ${options.maxMessageBytes} bytes`);
        return;
      }
      // uWS neuters the ArrayBuffer when this callback returns; the handler keeps a copy.
      const data = new Uint8Array(message.slice(0));
      guard(conn, 'message', () => options.ws.message(conn, data, isBinary));
    },
    drain: (ws) => {
      const conn = ws.getUserData().conn;
      // Called on every writable event while backpressure lasts: report once it is empty.
      if (conn === undefined || conn.closed || ws.getBufferedAmount() > 0) return;
      guard(conn, 'drain', () => options.ws.drain(conn));
    },
    close: (ws, code, message) => {
      const conn = ws.getUserData().conn;
      if (conn === undefined || conn.closed) return;
      conn.closed = true;
      bound.server?.conns.delete(conn);
      try {
        options.ws.close(conn, code, Buffer.from(message).toString('utf8'));
      } catch (err) {
        report('websocket close handler failed', err);
      }
    },
  });

  const guard = (conn: UwsConn, what: string, fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      report(`websocket ${what} handler failed`, err);
      conn.end(1011, 'internal error');
    }
  };

  return new Promise((resolve, reject) => {
    app.listen(options.host, options.port, (listen) => {
      if (listen === false) {
        reject(new Error(`uWebSockets.js cannot listen on ${options.host}:${options.port} (address in use or not available)`));
        return;
      }
      bound.server = new UwsServer(uws, app, listen);
      resolve(bound.server);
    });
  });
}

/**
 * Loads the uWebSockets.js addon for this platform and Node ABI (`abi`, default this Node's
 * `process.versions.modules`) and returns the adapter; throws (with the reason) when it
 * cannot load. The binary is required directly rather than
 * through the package's entry point, which would silently swap in a slow JavaScript
 * emulation on an unsupported Node and still call itself uWS.
 */
export async function loadUwsAdapter(abi: string = process.versions.modules): Promise<GatewayAdapter> {
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = join(dirname(require.resolve('uWebSockets.js/package.json')), 'binaries');
  } catch (err) {
    throw new Error('uWebSockets.js is not installed', { cause: err });
  }
  const name = `uws_${process.platform}_${process.arch}_${abi}.node`;
  let uws: UwsModule;
  try {
    uws = require(join(dir, name)) as UwsModule;
  } catch (err) {
    const abis = readdirSync(dir)
      .filter((f) => f.startsWith(`uws_${process.platform}_${process.arch}_`))
      .map((f) => f.slice(f.lastIndexOf('_') + 1, -'.node'.length));
    const why = (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND'
      ? `no binary for ${process.platform}-${process.arch} and Node ABI ${abi} (this is Node ${process.version}); this build has ABIs ${abis.join(', ') || 'none'}`
      : (err as Error).message;
    throw new Error(`uWebSockets.js: ${why}`, { cause: err });
  }
  return {
    impl: 'uws',
    serve: <C>(options: GatewayServeOptions<C>) => serve(uws, options),
  };
}
