/**
 * Zero-copy access to a message's bytes for readers of the log's environment (the
 * converter's workers), see schema.ts for the layout.
 */
import type { Database } from 'lmdb';
import { rawOffset } from './schema.js';

/**
 * The message bytes of record `seq` from the `inbound.raw` database, without a copy, or
 * undefined.
 *
 * lmdb-js's `getBinaryFast` returns its whole shared read buffer (16 MiB) with an own
 * `length` property set to the value's size: `byteLength`, iteration, `Buffer.from`, a
 * `TextDecoder` or a `postMessage` would all see the 16 MiB. This returns a view of exactly
 * the message (after the record's header). Like `getBinaryFast`'s buffer it is valid only
 * until the next read on the same environment in this thread: parse it, or copy it
 * (`new Uint8Array(view)`; on a Buffer, `slice()` does not copy), before reading anything
 * else.
 */
export function viewRaw(records: Pick<Database<Buffer, number>, 'getBinaryFast'>, seq: number): Uint8Array | undefined {
  const b = records.getBinaryFast(seq);
  return b === undefined ? undefined : b.subarray(rawOffset(b), b.length);
}
