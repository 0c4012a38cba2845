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
import type { HashFilter } from './hash-filter.js';
import { StateKey } from './schema.js';

/** Above this many pairs, {@link sortDedupPairs} sorts with a comparator. */
const SORT_RUN = 1 << 21;

/** The databases a merge writes and reads. */
export interface DedupMergeStores {
  records: Database<Buffer, number>;
  dedup: Database<Buffer, number>;
  state: Database<number, string>;
  /** The filter of indexed hashes (hash-filter.ts), given every merged hash before it commits. */
  filter?: HashFilter | undefined;
}

/**
 * Pairs per write transaction of a merge. LMDB's write lock is released between slices, so
 * the log's group commits go on during a long merge: a merge of 262 144 keys into an index
 * of 800 k took ≈300 ms in one transaction, during which no append committed and no ACK
 * went out. In hash order, slices touch disjoint runs of leaf pages, so slicing adds
 * commits but not page writes.
 */
export const MERGE_SLICE = 8192;

/** An index value: seqs as u32 LE. */
export function encodeSeqs(seqs: readonly number[]): Buffer {
  const b = Buffer.allocUnsafe(4 * seqs.length);
  for (let i = 0; i < seqs.length; i++) b.writeUInt32LE(seqs[i]!, 4 * i);
  return b;
}

/** Writes `seqs` as the index entry of `hash`, or removes the entry when none is left; call inside a write transaction. */
function putSeqs(dedup: Database<Buffer, number>, hash: number, seqs: readonly number[]): void {
  if (seqs.length === 0) dedup.removeSync(hash);
  else dedup.putSync(hash, encodeSeqs(seqs));
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
  putSeqs(db.dedup, hash, [...latest.values()].sort((a, b) => a - b));
}

/** `pairs` ((hash, seq) pairs, flat) in hash order, as a new array (`run`: for tests). */
export function sortDedupPairs(pairs: Uint32Array, run: number = SORT_RUN): Uint32Array {
  const count = pairs.length >>> 1;
  const sorted = new Uint32Array(pairs.length);
  const place = (to: number, from: number): void => {
    sorted[2 * to] = pairs[2 * from]!;
    sorted[2 * to + 1] = pairs[2 * from + 1]!;
  };
  if (count <= run) {
    // hash * run + index is below 2^53: a Float64Array sorts it exactly, natively.
    const order = new Float64Array(count);
    for (let i = 0; i < count; i++) order[i] = pairs[2 * i]! * run + i;
    order.sort();
    for (let i = 0; i < count; i++) place(i, order[i]! % run);
  } else {
    const order = new Uint32Array(count);
    for (let i = 0; i < count; i++) order[i] = i;
    order.sort((x, y) => pairs[2 * x]! - pairs[2 * y]!);
    for (let i = 0; i < count; i++) place(i, order[i]!);
  }
  return sorted;
}

/**
 * The work of merging `pairs` ((hash, seq) pairs, flat) into the index, as one callback per
 * slice of {@link MERGE_SLICE} pairs, in hash order; the last also sets
 * `dedupIndexedThrough = through`. Run each inside a write transaction, in order. Until the
 * last has committed the merge is incomplete but harmless: a pair merged twice (after a
 * crash, from the records read back at open) leaves the same entry.
 */
export function* dedupMergeSlices(db: DedupMergeStores, pairs: Uint32Array, through: number): Generator<() => void> {
  const sorted = sortDedupPairs(pairs);
  const count = sorted.length >>> 1;
  const one = Buffer.allocUnsafe(4);
  for (let start = 0; ; start += MERGE_SLICE) {
    const end = Math.min(count, start + MERGE_SLICE);
    yield () => {
      for (let i = start; i < end; i++) {
        const hash = sorted[2 * i]!;
        const seq = sorted[2 * i + 1]!;
        db.filter?.add(hash);
        one.writeUInt32LE(seq, 0);
        // putSync copies the value into LMDB, so `one` can be reused. Inside a transaction it
        // answers whether the put took place (lmdb-js's types say void): false when the
        // hash is already there.
        if (!(db.dedup.putSync(hash, one, { noOverwrite: true }) as unknown as boolean)) mergeCollision(db, hash, seq);
      }
      if (end === count) db.state.putSync(StateKey.DedupIndexedThrough, through);
    };
    if (end === count) return;
  }
}

/**
 * Removes `seq` from the index entry of `hash`, if there (retention: the record is deleted
 * or its key has left the window); call inside a write transaction.
 */
export function forgetDedupSeq(dedup: Database<Buffer, number>, hash: number, seq: number): void {
  const stored = dedup.getBinary(hash);
  if (stored === undefined) return;
  const seqs = decodeSeqs(stored);
  const kept = seqs.filter((s) => s !== seq);
  if (kept.length !== seqs.length) putSeqs(dedup, hash, kept);
}
