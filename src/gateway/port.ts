/**
 * The gateway port (ARCHITECTURE.md "Ports and the native-free build"): the small interface
 * between the engine's HTTP API and event hub, which know nothing of sockets, and the two
 * adapters that serve them, uWebSockets.js (`src/gateway/uws-adapter.ts`) and `node:http`
 * plus `ws` (`native-free/ws-adapter.ts`). One conformance suite (test/gateway) runs against
 * both.
 *
 * The adapter owns the transport: binding, TLS, reading request bodies up to
 * `maxBodyBytes` (413 beyond), the WebSocket upgrade on `wsPath`, heartbeats (a ping every
 * `idleTimeoutSec / 2`, a connection silent for `idleTimeoutSec` is closed), topics and
 * publishing, and per-socket send buffers. Everything else (routing, authentication, the
 * event protocol) is the handlers'.
 */

/** Roles a bearer token grants (INTERFACE.md "HTTP"). `admin` implies the others. */
export type Role = 'read' | 'subscribe' | 'admin';

/** An HTTP request, or a WebSocket upgrade request, as the handlers see it. */
export interface GatewayRequest {
  /** Upper-case method. */
  method: string;
  /** Path without the query string, percent-decoding not applied. */
  path: string;
  query: URLSearchParams;
  /** Header values by lower-case name (repeated headers joined with `, `). */
  headers: Readonly<Record<string, string>>;
  /** The whole body (empty for GET and upgrades), at most `maxBodyBytes`. */
  body: Uint8Array;
  /** Peer address as text (IPv4, or IPv6 without brackets). */
  remoteAddress: string;
}

/** An HTTP answer. A string body is sent as UTF-8. */
export interface GatewayResponse {
  status: number;
  /** Header values by name; `content-type` defaults to `application/json; charset=utf-8`. */
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

/** Answers an HTTP request. A throw or rejection is answered 500 by the adapter (and logged by it). */
export type HttpHandler = (request: GatewayRequest) => GatewayResponse | Promise<GatewayResponse>;

/** What a send did, as uWebSockets.js reports it. */
export type SendStatus = 'sent' | 'buffered' | 'dropped';

/** One open WebSocket, as the event hub sees it. */
export interface WsConnection {
  /** Unique per server, increasing. */
  readonly id: number;
  /** Sends a text (`binary` false) or binary frame. `buffered`: queued behind backpressure. */
  send(data: string | Uint8Array, binary: boolean): SendStatus;
  /** Bytes queued for this socket and not yet written to the kernel. */
  bufferedAmount(): number;
  /** Receives what {@link GatewayServer.publish} sends to `topic` from now on. */
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  /** Closes with a close frame (`code` 1000 or 4000–4999, `reason` at most 123 bytes of UTF-8). */
  end(code: number, reason: string): void;
  /** Drops the connection at once, without a close handshake. */
  terminate(): void;
}

/** The outcome of an upgrade request: accept with a per-connection context, or answer HTTP. */
export type UpgradeDecision<C> = { accept: true; context: C } | { accept: false; response: GatewayResponse };

/** Handlers of WebSocket connections on `wsPath`. None may throw (a throw is logged and the socket closed 1011). */
export interface WsHandlers<C> {
  /** Decides on an upgrade request (query, headers, authentication). */
  upgrade(request: GatewayRequest): UpgradeDecision<C> | Promise<UpgradeDecision<C>>;
  /** The connection is open; `context` is the one `upgrade` returned. */
  open(connection: WsConnection, context: C): void;
  /** A data frame arrived (the bytes are the handler's to keep). */
  message(connection: WsConnection, data: Uint8Array, binary: boolean): void;
  /** The socket's send buffer has drained (after a send returned `buffered`). */
  drain(connection: WsConnection): void;
  /** The connection closed, for whatever reason; no method of it may be called any more. */
  close(connection: WsConnection, code: number, reason: string): void;
}

/** TLS for HTTP and WebSocket: PEM files. */
export interface GatewayTls {
  cert: string;
  key: string;
  /** Key passphrase, if the key is encrypted. */
  passphrase?: string;
}

/** What an adapter needs to serve. */
export interface GatewayServeOptions<C = unknown> {
  host: string;
  /** 0 picks a free port. */
  port: number;
  tls?: GatewayTls;
  /** Largest request body (bytes); a larger one gets 413 with the error JSON. */
  maxBodyBytes: number;
  /** Largest WebSocket message accepted from a client (bytes); a larger one closes 1009. */
  maxMessageBytes: number;
  /**
   * Hard limit of a socket's send buffer (bytes): past it the adapter drops what it is asked
   * to send (`dropped`). The hub cuts slow subscribers off well before, with a clear reason.
   */
  maxBackpressureBytes: number;
  /** Heartbeat: ping every half of this, close a connection silent this long (seconds; 0 never). */
  idleTimeoutSec: number;
  /** The path served as WebSocket (`/events`); other paths go to `http`. */
  wsPath: string;
  http: HttpHandler;
  ws: WsHandlers<C>;
  /** Where the adapter reports its own failures (handler throws, socket errors). */
  onError?: (message: string, error: unknown) => void;
}

/** A serving gateway. */
export interface GatewayServer {
  /** `uws` (uWebSockets.js) or `ws` (node:http + ws). */
  readonly impl: GatewayImpl;
  /** The bound port. */
  readonly port: number;
  /** Sends one frame to every connection subscribed to `topic`, in call order. */
  publish(topic: string, data: string | Uint8Array, binary: boolean): void;
  /** Open WebSocket connections. */
  connections(): number;
  /** Stops listening, closes every connection (1001 going away), resolves when done. */
  close(): Promise<void>;
}

/** Adapter implementation names, as in `pacslink_native_adapter{port="gateway",impl}`. */
export type GatewayImpl = 'uws' | 'ws';

/** An adapter: a way to serve. */
export interface GatewayAdapter {
  readonly impl: GatewayImpl;
  serve<C>(options: GatewayServeOptions<C>): Promise<GatewayServer>;
}
