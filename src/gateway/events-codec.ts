/**
 * Frames of the `/events` protocol: events encoded as JSON text or msgpack binary (plain
 * maps, no msgpackr records, so any msgpack library reads them), and acknowledgements
 * `{"ack": SEQ}` decoded from either.
 */
import { Packr } from 'msgpackr';
import type { EngineEvent } from '../events/types.js';
import type { EventFormat } from './events-query.js';

// Plain msgpack that any library reads: maps rather than records, undefined as nil.
const packr = new Packr({ useRecords: false, variableMapSize: true, moreTypes: false, encodeUndefinedAsNil: true });

/** An encoded frame: the bytes or text and whether it is binary. */
export interface Frame {
  data: string | Uint8Array;
  binary: boolean;
}

/** Encodes one event for `format`. */
export function encodeEvent(event: EngineEvent, format: EventFormat): Frame {
  if (format === 'json') return { data: JSON.stringify(event), binary: false };
  return { data: packr.pack(event), binary: true };
}

/** Encodes a value as msgpack the way the hub does (clients may use it for acks). */
export function packMsgpack(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Decodes a msgpack value the way the hub does. */
export function unpackMsgpack(data: Uint8Array): unknown {
  return packr.unpack(data);
}

/** A decoded acknowledgement, or why the frame is not one. */
export type AckResult = { ok: true; seq: number } | { ok: false; message: string };

/** Reads `{"ack": SEQ}` from a text (JSON) or binary (msgpack) frame. */
export function decodeAck(data: Uint8Array, binary: boolean): AckResult {
  let value: unknown;
  try {
    value = binary ? packr.unpack(data) : JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch {
    return { ok: false, message: `the frame is not ${binary ? 'msgpack' : 'JSON'}; send {"ack": SEQ}` };
  }
  const seq = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as { ack?: unknown }).ack : undefined;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
    return { ok: false, message: 'expected {"ack": SEQ} with SEQ an event seq (an integer)' };
  }
  return { ok: true, seq };
}
