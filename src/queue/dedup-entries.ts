/**
 * Merging committed (key hash, seq) pairs into `inbound.dedup-hash`, shared by the flush
 * worker (dedup-flush-worker.ts) and the in-process fallback (dedup-index.ts).
 *
 * The pairs come from memory: nothing is read back from the records except where a hash is
 * already in the index, which is rare (the same key stored again with other bytes, or two
 * keys whose hashes collide). They are inserted in hash order, so that a merge walks the
 * B-tree's leaves once, left to right. Measured with lmdb-js on this machine (2 M entries,
 * batches of 128 k): ≈1.8 µs per key in hash order, ≈2.4 µs in table order; the index keyed
 * by the key string cost ≈3.3 µs per insert plus ≈1.7 µs to read each key back.
 */
import type { Database } from 'lmdb';
import { recordStoredDedupKey } from './dedup.js';
import { StateKey } from './schema.js';

/** The databases a merge writes and reads. */
export interface DedupMergeStores {
  records: Database<Buffer, number>;
  dedup: Database<Buffer, number>;
  state: Database<number, string>;
}

/** Pairs sorted per run: `hash * RUN + index` stays below 2^53, so a Float64Array sorts it exactly. */
const RUN = 1 << 21;

/** An index value: seqs as u32 LE. */
export function encodeSeqs(seqs: readonly number[]): Buffer {
  const b = Buffer.allocUnsafe(4 * seqs.length);
  for (let i = 0; i < seqs.length; i++) b.writeUInt32LE(seqs[i]!, 4 * i);
  return b;
}

/** The seqs of an index value (copied out: `value` may be LMDB's reused read buffer). */
export function decodeSeqs(value: Uint8Array): number[] {
  const seqs: number[] = [];
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  for (let at = 0; at + 4 <= value.byteLength; at += 4) seqs.push(view.getUint32(at, true));
  return seqs;
}

/**
 * Puts `seq` under `hash` where the hash is already in the index: the value keeps, for each
 * distinct key among its seqs and `seq`, only the latest seq whose record still exists.
 */
function mergeCollision(db: DedupMergeStores, hash: number, seq: number): void {
  const latest = new Map<string, number>();
  const stored = db.dedup.getBinary(hash);
  for (const s of [...(stored === undefined ? [] : decodeSeqs(stored)), seq]) {
    const record = db.records.getBinaryFast(s);
    const key = record === undefined ? undefined : recordStoredDedupKey(record);
    if (key !== undefined && s > (latest.get(key) ?? 0)) latest.set(key, s);
  }
  const seqs = [...latest.values()].sort((a, b) => a - b);
  if (seqs.length === 0) db.dedup.removeSync(hash);
  else db.dedup.putSync(hash, encodeSeqs(seqs));
}

/**
 * Writes `pairs` ((hash, seq) pairs, flat) into the index and `dedupIndexedThrough =
 * through`; call inside a write transaction.
 */
export function mergeDedupPairs(db: DedupMergeStores, pairs: Uint32Array, through: number): void {
  const one = Buffer.allocUnsafe(4);
  const count = pairs.length >>> 1;
  for (let start = 0; start < count; start += RUN) {
    const n = Math.min(RUN, count - start);
    const order = new Float64Array(n);
    for (let i = 0; i < n; i++) order[i] = pairs[2 * (start + i)]! * RUN + i;
    order.sort();
    for (let i = 0; i < n; i++) {
      const at = 2 * (start + (order[i]! % RUN));
      const hash = pairs[at]!;
      const seq = pairs[at + 1]!;
      one.writeUInt32LE(seq, 0);
      // putSync copies the value into LMDB, so `one` can be reused. Inside a transaction it
      // answers whether the put took place (lmdb-js's types say void): false when the hash
      // is already there.
      if (!(db.dedup.putSync(hash, one, { noOverwrite: true }) as unknown as boolean)) mergeCollision(db, hash, seq);
    }
  }
  db.state.putSync(StateKey.DedupIndexedThrough, through);
}

/**
 * Removes `seq` from the index entry of `hash`, if there (retention: the record is deleted
 * or its key has left the window); call inside a write transaction.
 */
export function forgetDedupSeq(dedup: Database<Buffer, number>, hash: number, seq: number): boolean {
  const stored = dedup.getBinary(hash);
  if (stored === undefined) return false;
  const seqs = decodeSeqs(stored);
  const kept = seqs.filter((s) => s !== seq);
  if (kept.length === seqs.length) return false;
  if (kept.length === 0) dedup.removeSync(hash);
  else dedup.putSync(hash, encodeSeqs(kept));
  return true;
}
