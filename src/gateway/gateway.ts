/**
 * The gateway stage (ARCHITECTURE.md stage 5): one server for the HTTP API, `/metrics` and
 * the WebSocket `/events`, through whichever adapter serves the port (port.ts). With
 * `http.adapter: "auto"` uWebSockets.js is used when its addon loads and `node:http` + `ws`
 * (native-free/) otherwise; the choice is logged and set in
 * `pacslink_native_adapter{port="gateway",impl}`.
 */
import { wsAdapter } from '../../native-free/ws-adapter.js';
import type { Logger } from '../log.js';
import type { GatewayContext } from './context.js';
import { createEventHub, type EventHub } from './hub.js';
import { createHttpApi } from './http-api.js';
import type { GatewayOptions } from './options.js';
import type { GatewayAdapter, GatewayImpl, GatewayServer } from './port.js';
import { loadUwsAdapter } from './uws-adapter.js';

/** WebSocket path of the event hub. */
export const EVENTS_PATH = '/events';

/** A running gateway. */
export interface Gateway {
  readonly impl: GatewayImpl;
  readonly port: number;
  readonly hub: EventHub;
  /** Closes subscribers (1001) and the listening socket. */
  close(): Promise<void>;
}

/** Loads the native adapter or throws why it cannot (replaceable in tests). */
export type LoadNativeAdapter = () => Promise<GatewayAdapter>;

/**
 * Picks the adapter for `choice`: `uws` must load, `ws` is native-free, `auto` tries
 * uWebSockets.js (through `load`) and falls back with a warning that says why.
 */
export async function chooseAdapter(
  choice: GatewayOptions['adapter'],
  logger: Logger,
  load: LoadNativeAdapter = loadUwsAdapter,
): Promise<GatewayAdapter> {
  if (choice === 'ws') return wsAdapter;
  try {
    return await load();
  } catch (err) {
    if (choice === 'uws') throw new Error(`http.adapter "uws": uWebSockets.js cannot load: ${(err as Error).message}`, { cause: err });
    logger.warn('uWebSockets.js cannot load; serving HTTP and WebSocket with the native-free ws adapter', {
      reason: (err as Error).message,
    });
    return wsAdapter;
  }
}

/**
 * Starts the gateway over `ctx` (ctx.subscribers is bound to the hub here), through `adapter`
 * or the one `http.adapter` chooses (`loadNative` loads uWebSockets.js).
 */
export async function startGateway(ctx: GatewayContext, adapter?: GatewayAdapter, loadNative?: LoadNativeAdapter): Promise<Gateway> {
  const options = ctx.options.http;
  const chosen = adapter ?? (await chooseAdapter(options.adapter, ctx.logger, loadNative));
  const hub = createEventHub(ctx);
  ctx.subscribers = () => hub.subscribers();
  const server: GatewayServer = await chosen.serve({
    host: options.host,
    port: options.port,
    ...(options.tls !== undefined ? { tls: options.tls } : {}),
    maxBodyBytes: options.maxBodyBytes,
    maxMessageBytes: 64 * 1024,
    // The hub cuts a slow subscriber off at subscriberBufferBytes; the adapter's hard limit
    // sits above it so the hub, not the adapter, decides (with a close code and reason).
    maxBackpressureBytes: options.subscriberBufferBytes * 2,
    idleTimeoutSec: options.idleTimeoutSec,
    wsPath: EVENTS_PATH,
    http: createHttpApi(ctx),
    ws: hub.handlers,
    onError: (message, error) => ctx.logger.warn(message, { error: (error as Error)?.message ?? String(error) }),
  });
  hub.attach(server);
  for (const impl of ['uws', 'ws'] as const) ctx.metrics.nativeAdapter.set({ port: 'gateway', impl }, impl === server.impl ? 1 : 0);
  ctx.logger.info('gateway started', {
    adapter: server.impl,
    host: options.host,
    port: server.port,
    tls: options.tls !== undefined,
    tokens: options.tokens.length,
  });
  let closing: Promise<void> | undefined;
  return {
    impl: server.impl,
    port: server.port,
    hub,
    close: () => {
      closing ??= (async () => {
        await hub.close();
        await server.close();
      })();
      return closing;
    },
  };
}
