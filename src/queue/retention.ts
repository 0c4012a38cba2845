/**
 * Retention of the inbound log: deletes records that every consumer has passed and that are
 * older than the configured age, and forgets dedup keys older than the dedup window.
 *
 * Work is split into transactions of at most `batchSize` deletions with a turn of the event
 * loop between them, so a large backlog never holds LMDB's write lock for long and appends
 * keep flowing (they are committed between, or together with, the retention transactions).
 * Each batch runs as an lmdb-js transaction callback: its reads see every write committed
 * or queued before it, so it cannot delete a dedup entry that a concurrent append has just
 * repointed.
 */
import type { Database, RootDatabase } from 'lmdb';
import { recordStoredDedupKey } from './dedup.js';
import { forgetDedupSeq } from './dedup-entries.js';
import { hashDedupKey, receivedAtOf, StateKey } from './schema.js';
import { guardLmdbTurn, handleCommitRejection } from './storage-errors.js';

/** The databases retention works on. */
export interface RetentionStores {
  root: RootDatabase;
  records: Database<Buffer, number>;
  dedup: Database<Buffer, number>;
  cursors: Database<number, string>;
  state: Database<number, string>;
}
/** Parameters of one sweep. */
export interface RetentionSweepOptions {
  /** Reference time, epoch ms. */
  now: number;
  /** Records received before `now - maxAgeMs` may go; 0 keeps records forever. */
  maxAgeMs: number;
  /** Dedup keys received before `now - dedupWindowMs` are forgotten. */
  dedupWindowMs: number;
  /** Deletions per transaction. */
  batchSize: number;
  /** Polled between batches; true ends the sweep early (the log is closing). */
  shouldStop: () => boolean;
}

/** What one sweep removed. */
export interface RetentionResult {
  /** Records deleted (bytes and metadata). */
  deleted: number;
  /** Dedup keys forgotten because they left the dedup window. */
  expiredDedupKeys: number;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The lowest cursor, or 0 when there is none. With no cursor no consumer has declared what
 * it has finished, so nothing counts as "behind every cursor" and no record is deleted:
 * a consumer must set its cursor (0 is fine) before retention can remove anything.
 */
export function minCursor(cursors: Database<number, string>): number {
  let min = Infinity;
  for (const { value } of cursors.getRange()) if (value < min) min = value;
  return min === Infinity ? 0 : min;
}

/** What one batch did: how many it counted, and whether a next batch may find more. */
interface BatchResult {
  count: number;
  more: boolean;
}

/** Removes record `seq` from the dedup index entry of `key` (a later message may have reused the key). */
function forgetDedupKey(db: RetentionStores, key: string, seq: number): void {
  forgetDedupSeq(db.dedup, hashDedupKey(key), seq);
}

/**
 * Deletes one batch of expired, consumed records, and the dedup entries that still point at
 * them: a dedup entry is only useful while its record exists (a resend is answered from
 * the stored record), so the effective dedup window is at most the record's lifetime.
 */
function deleteRecordBatch(db: RetentionStores, cutoff: number, limit: number): BatchResult {
  const behind = minCursor(db.cursors);
  const seqs: number[] = [];
  for (const seq of db.records.getKeys({ end: behind, inclusiveEnd: true, limit })) {
    const record = db.records.getBinaryFast(seq);
    if (record === undefined) continue;
    // Seq order is receive order, so the first record young enough to keep ends the scan.
    if (receivedAtOf(record) >= cutoff) break;
    seqs.push(seq);
    const key = recordStoredDedupKey(record);
    if (key !== undefined) forgetDedupKey(db, key, seq);
  }
  for (const seq of seqs) db.records.remove(seq);
  const last = seqs[seqs.length - 1];
  if (last !== undefined && last > (db.state.get(StateKey.DeletedThrough) ?? 0)) {
    db.state.put(StateKey.DeletedThrough, last);
  }
  return { count: seqs.length, more: seqs.length === limit };
}

/**
 * Forgets the dedup keys of one batch of records older than the window. Records are walked
 * in seq (= receive) order from where the last sweep stopped (`dedupExpiredThrough`), so a
 * sweep reads only records whose keys expire, as an age index would, without one being
 * written on every append. Counts the records with a dedup key whose window has passed.
 */
function expireDedupBatch(db: RetentionStores, cutoff: number, limit: number): BatchResult {
  const from = (db.state.get(StateKey.DedupExpiredThrough) ?? 0) + 1;
  let count = 0;
  let walked = 0;
  let last = 0;
  let young = false;
  for (const seq of db.records.getKeys({ start: from, limit })) {
    walked++;
    const record = db.records.getBinaryFast(seq);
    if (record === undefined) continue;
    if (receivedAtOf(record) >= cutoff) {
      young = true;
      break;
    }
    last = seq;
    const key = recordStoredDedupKey(record);
    if (key !== undefined) {
      forgetDedupKey(db, key, seq);
      count++;
    }
  }
  if (last > 0) db.state.put(StateKey.DedupExpiredThrough, last);
  return { count, more: !young && walked === limit };
}

async function sweep(
  db: RetentionStores,
  step: (db: RetentionStores, cutoff: number, limit: number) => BatchResult,
  cutoff: number,
  opts: RetentionSweepOptions,
): Promise<number> {
  let total = 0;
  for (;;) {
    if (opts.shouldStop()) return total;
    const txn = db.root.transaction(() => step(db, cutoff, opts.batchSize));
    guardLmdbTurn(db.root);
    let r: BatchResult;
    try {
      r = await txn;
    } catch (error) {
      handleCommitRejection(error);
      throw error;
    }
    total += r.count;
    if (!r.more) return total;
    await nextTurn();
  }
}

/**
 * One retention sweep: records first (only when `maxAgeMs > 0`), then expired dedup keys.
 * Deletions do not wait for fsync: a deletion lost in a crash is redone by the next sweep.
 */
export async function runRetentionSweep(db: RetentionStores, opts: RetentionSweepOptions): Promise<RetentionResult> {
  const deleted = opts.maxAgeMs > 0 ? await sweep(db, deleteRecordBatch, opts.now - opts.maxAgeMs, opts) : 0;
  const expiredDedupKeys = await sweep(db, expireDedupBatch, opts.now - opts.dedupWindowMs, opts);
  return { deleted, expiredDedupKeys };
}
