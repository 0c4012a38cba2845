/**
 * The native-free gateway adapter: `node:http` (or `node:https`) plus the `ws` package,
 * serving the gateway port (src/gateway/port.ts) where uWebSockets.js cannot load (another
 * glibc, another Node ABI) or where configuration asks for it (`http.adapter: "ws"`).
 *
 * Topics are a map from topic to the set of subscribed connections; `publish` sends the same
 * bytes to each in call order. Backpressure: a connection's `bufferedAmount` is what `ws`
 * and the kernel socket still hold; a send past `maxBackpressureBytes` is dropped (as
 * uWebSockets.js does), and `drain` is reported when the socket's write buffer empties.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type {
  GatewayAdapter,
  GatewayRequest,
  GatewayResponse,
  GatewayServeOptions,
  GatewayServer,
  SendStatus,
  WsConnection,
} from '../src/gateway/port.js';
import { closeReason, errorResponse, JSON_TYPE, LENGTH_REQUIRED } from '../src/gateway/wire.js';

const EMPTY = new Uint8Array(0);

function headersOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function requestOf(req: IncomingMessage, body: Uint8Array): GatewayRequest {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const address = req.socket.remoteAddress ?? '';
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    path: q < 0 ? url : url.slice(0, q),
    query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)),
    headers: headersOf(req),
    body,
    remoteAddress: address.startsWith('::ffff:') ? address.slice(7) : address,
  };
}

function bodyBytes(body: string | Uint8Array | undefined): Buffer {
  if (body === undefined) return Buffer.alloc(0);
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

function writeResponse(res: ServerResponse, response: GatewayResponse): void {
  const body = bodyBytes(response.body);
  const headers: Record<string, string | number> = { 'content-type': JSON_TYPE, ...response.headers, 'content-length': body.length };
  res.writeHead(response.status, headers);
  res.end(body);
}

/** Writes an HTTP answer on a raw socket (a refused upgrade) and closes it. */
function refuseUpgrade(socket: Socket, response: GatewayResponse): void {
  const body = bodyBytes(response.body);
  const headers = { 'content-type': JSON_TYPE, ...response.headers };
  let head = `HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? ''}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  head += `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
  socket.end(Buffer.concat([Buffer.from(head, 'latin1'), body]));
}

/** Reads a request body up to `limit` bytes; undefined when it is larger (the caller answers 413). */
function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array | undefined> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(chunks.length === 0 ? EMPTY : Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

class WsConn implements WsConnection {
  readonly id: number;
  readonly socket: WebSocket;
  readonly topics = new Set<string>();
  alive = true;
  closed = false;
  /** A send found the buffer non-empty: report `drain` when it empties. */
  wantsDrain = false;
  readonly #server: WsServer;

  constructor(id: number, socket: WebSocket, server: WsServer) {
    this.id = id;
    this.socket = socket;
    this.#server = server;
  }

  send(data: string | Uint8Array, binary: boolean): SendStatus {
    if (this.closed) return 'dropped';
    if (this.socket.bufferedAmount > this.#server.maxBackpressure) return 'dropped';
    this.socket.send(data, { binary });
    if (this.socket.bufferedAmount > 0) {
      this.wantsDrain = true;
      return 'buffered';
    }
    return 'sent';
  }

  bufferedAmount(): number {
    return this.closed ? 0 : this.socket.bufferedAmount;
  }

  subscribe(topic: string): void {
    if (this.closed || this.topics.has(topic)) return;
    this.topics.add(topic);
    this.#server.topic(topic).add(this);
  }

  unsubscribe(topic: string): void {
    if (!this.topics.delete(topic)) return;
    this.#server.topic(topic).delete(this);
  }

  end(code: number, reason: string): void {
    if (!this.closed) this.socket.close(code, closeReason(reason));
  }

  terminate(): void {
    if (!this.closed) this.socket.terminate();
  }
}

class WsServer implements GatewayServer {
  readonly impl = 'ws' as const;
  readonly port: number;
  readonly maxBackpressure: number;
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #topics = new Map<string, Set<WsConn>>();
  readonly #conns = new Set<WsConn>();
  readonly #heartbeat: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  /** Set by close(): called when the last connection is removed. */
  #emptied: (() => void) | undefined;

  constructor(http: Server, wss: WebSocketServer, options: GatewayServeOptions<unknown>) {
    this.#http = http;
    this.#wss = wss;
    this.port = (http.address() as AddressInfo).port;
    this.maxBackpressure = options.maxBackpressureBytes;
    if (options.idleTimeoutSec > 0) {
      // Half the timeout between pings: a peer silent for a whole timeout misses two.
      this.#heartbeat = setInterval(() => this.#beat(), (options.idleTimeoutSec * 1000) / 2);
      this.#heartbeat.unref();
    }
  }

  topic(name: string): Set<WsConn> {
    let set = this.#topics.get(name);
    if (set === undefined) {
      set = new Set();
      this.#topics.set(name, set);
    }
    return set;
  }

  add(conn: WsConn): void {
    this.#conns.add(conn);
  }

  remove(conn: WsConn): void {
    conn.closed = true;
    this.#conns.delete(conn);
    for (const t of conn.topics) {
      const set = this.#topics.get(t);
      set?.delete(conn);
      if (set?.size === 0) this.#topics.delete(t);
    }
    conn.topics.clear();
    if (this.#conns.size === 0) this.#emptied?.();
  }

  publish(topic: string, data: string | Uint8Array, binary: boolean): void {
    const set = this.#topics.get(topic);
    if (set === undefined) return;
    for (const conn of set) conn.send(data, binary);
  }

  connections(): number {
    return this.#conns.size;
  }

  #beat(): void {
    for (const conn of this.#conns) {
      if (!conn.alive) {
        conn.terminate();
        continue;
      }
      conn.alive = false;
      conn.socket.ping();
    }
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
      // Upgraded sockets are no longer the HTTP server's: wait for their close events too.
      let listening = true;
      const check = (): void => {
        if (listening || this.#conns.size > 0) return;
        clearTimeout(force);
        resolve();
      };
      this.#emptied = check;
      this.#http.close(() => {
        listening = false;
        check();
      });
      this.#http.closeIdleConnections();
      for (const conn of this.#conns) conn.end(1001, 'server shutting down');
      // Peers that do not answer the close frame are dropped.
      const force = setTimeout(() => {
        for (const conn of this.#conns) conn.terminate();
        this.#http.closeAllConnections();
      }, 1000);
      force.unref();
      this.#wss.close();
    });
    return this.#closing;
  }
}

/** The `node:http` + `ws` adapter. */
export const wsAdapter: GatewayAdapter = {
  impl: 'ws',
  async serve<C>(options: GatewayServeOptions<C>): Promise<GatewayServer> {
    const report = options.onError ?? (() => {});
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      void (async () => {
        let response: GatewayResponse;
        try {
          // As the uWS adapter (whose build cannot read chunked bodies): one behaviour for clients.
          const body = req.headers['transfer-encoding'] !== undefined ? null : await readBody(req, options.maxBodyBytes);
          if (body === null) {
            response = errorResponse(411, 'length-required', LENGTH_REQUIRED);
            res.shouldKeepAlive = false;
          } else if (body === undefined) {
            response = errorResponse(413, 'payload-too-large', `request body is larger than ${options.maxBodyBytes} bytes`);
            res.shouldKeepAlive = false;
          } else {
            response = await options.http(requestOf(req, body));
          }
        } catch (err) {
          report('http handler failed', err);
          response = errorResponse(500, 'internal', 'internal error');
        }
        if (!res.headersSent && !res.destroyed) writeResponse(res, response);
      })();
    };
    const http = options.tls === undefined
      ? createHttpServer(onRequest)
      : createHttpsServer(
          {
            cert: readFileSync(options.tls.cert),
            key: readFileSync(options.tls.key),
            ...(options.tls.passphrase !== undefined ? { passphrase: options.tls.passphrase } : {}),
          },
          onRequest,
        );
    // Headroom over maxMessageBytes, as in the uWS adapter: an oversized message up to it is
    // closed 1009 with a reason by the message callback (ws itself closes 1009 without one).
    const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes * 16, perMessageDeflate: false });
    // Set once listening; an upgrade that races the listen callback is dropped.
    const bound: { server?: WsServer } = {};
    let nextId = 1;
    http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      socket.on('error', (err) => report('websocket socket error', err));
      const request = requestOf(req, EMPTY);
      if (request.path !== options.wsPath) {
        refuseUpgrade(socket, errorResponse(404, 'not-found', `no WebSocket endpoint at ${request.path}`));
        return;
      }
      void (async () => {
        let decision;
        try {
          decision = await options.ws.upgrade(request);
        } catch (err) {
          report('websocket upgrade handler failed', err);
          decision = { accept: false as const, response: errorResponse(500, 'internal', 'internal error') };
        }
        if (!decision.accept) {
          refuseUpgrade(socket, decision.response);
          return;
        }
        const context = decision.context;
        const s = bound.server;
        if (s === undefined || socket.destroyed) {
          socket.destroy();
          return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => {
          const conn = new WsConn(nextId++, ws, s);
          s.add(conn);
          const guard = (what: string, fn: () => void): void => {
            try {
              fn();
            } catch (err) {
              report(`websocket ${what} handler failed`, err);
              conn.end(1011, 'internal error');
            }
          };
          ws.on('pong', () => {
            conn.alive = true;
          });
          ws.on('message', (data: Buffer, binary: boolean) => {
            conn.alive = true;
            if (data.length > options.maxMessageBytes) {
              conn.end(1009, `message larger than ${options.maxMessageBytes} bytes`);
              return;
            }
            guard('message', () => options.ws.message(conn, data, binary));
          });
          socket.on('drain', () => {
            if (conn.wantsDrain && !conn.closed && ws.bufferedAmount === 0) {
              conn.wantsDrain = false;
              guard('drain', () => options.ws.drain(conn));
            }
          });
          ws.on('error', (err) => report('websocket error', err));
          ws.on('close', (code: number, reason: Buffer) => {
            s.remove(conn);
            try {
              options.ws.close(conn, code, reason.toString('utf8'));
            } catch (err) {
              report('websocket close handler failed', err);
            }
          });
          guard('open', () => options.ws.open(conn, context));
        });
      })();
    });
    http.on('clientError', (err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
      report('http client error', err);
    });
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(options.port, options.host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    bound.server = new WsServer(http, wss, options as GatewayServeOptions<unknown>);
    return bound.server;
  },
};
