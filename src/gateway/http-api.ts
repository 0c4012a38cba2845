/** The HTTP API (INTERFACE.md "HTTP"). Placeholder until the routes land: health only. */
import type { GatewayContext } from './context.js';
import type { HttpHandler } from './port.js';

/** Creates the HTTP handler over the engine. */
export function createHttpApi(ctx: GatewayContext): HttpHandler {
  return (req) => {
    if (req.path === '/healthz') return { status: 200, body: '{"status":"ok"}' };
    if (req.path === '/metrics') return ctx.metrics.registry.metrics().then((body) => ({ status: 200, headers: { 'content-type': ctx.metrics.registry.contentType }, body }));
    return { status: 404, body: JSON.stringify({ error: { code: 'not-found', message: `no route for ${req.method} ${req.path}` } }) };
  };
}
