/** The uWebSockets.js adapter of the gateway port. Placeholder until it lands: it refuses to load. */
import type { GatewayAdapter } from './port.js';

/** Loads uWebSockets.js and returns the adapter; throws when the addon cannot load. */
export async function loadUwsAdapter(): Promise<GatewayAdapter> {
  await Promise.resolve();
  throw new Error('the uWebSockets.js adapter is not built yet');
}
