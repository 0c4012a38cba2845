/**
 * What every part of the gateway puts on the wire the same way: the JSON content type, the
 * error JSON of INTERFACE.md (`{"error": {"code", "message"}}`) for the answers the adapters
 * and the event hub give themselves, and WebSocket close reasons cut to what a close frame
 * holds. Shared by both adapters (src/gateway/uws-adapter.ts, native-free/ws-adapter.ts),
 * the hub and the HTTP routes.
 */
import type { GatewayResponse } from './port.js';

/** Content type of every JSON answer. */
export const JSON_TYPE = 'application/json; charset=utf-8';

/** The error JSON answer. */
export function errorResponse(status: number, code: string, message: string): GatewayResponse {
  return { status, headers: { 'content-type': JSON_TYPE }, body: JSON.stringify({ error: { code, message } }) };
}

/** Why both adapters answer 411 to a chunked request body (the uWS build cannot read one). */
export const LENGTH_REQUIRED = 'request bodies need a content-length (chunked transfer encoding is not accepted)';

/** `reason` cut to the 123 bytes of UTF-8 a close frame holds, on a character boundary. */
export function closeReason(reason: string): string {
  // At most 3 bytes per UTF-16 unit: 41 units always fit.
  if (reason.length <= 41) return reason;
  const bytes = Buffer.from(reason, 'utf8');
  if (bytes.length <= 123) return reason;
  let end = 123;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}
