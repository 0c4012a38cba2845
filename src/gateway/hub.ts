/**
 * The event hub: WebSocket `/events` (INTERFACE.md "WebSocket /events"). Placeholder until the
 * hub lands: every upgrade is refused 503.
 */
import type { GatewayContext, SubscriberInfo } from './context.js';
import type { GatewayServer, WsHandlers } from './port.js';

/** The event hub as the gateway wires it. */
export interface EventHub {
  /** The WebSocket handlers to serve on `/events`. */
  readonly handlers: WsHandlers<unknown>;
  /** Starts publishing live events through `server`. */
  attach(server: GatewayServer): void;
  /** Connected subscribers (for `/api/stats`). */
  subscribers(): SubscriberInfo[];
  /** Stops publishing and writes durable positions; the server closes the sockets. */
  close(): Promise<void>;
}

/** Creates the hub over the engine's event log. */
export function createEventHub(ctx: GatewayContext): EventHub {
  void ctx;
  return {
    handlers: {
      upgrade: () => ({
        accept: false,
        response: { status: 503, body: JSON.stringify({ error: { code: 'unavailable', message: 'events are not served yet' } }) },
      }),
      open: () => {},
      message: () => {},
      drain: () => {},
      close: () => {},
    },
    attach: () => {},
    subscribers: () => [],
    close: async () => {},
  };
}
