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
import { StateKey, type DedupEntry, type MetaTuple } from './schema.js';
import { guardLmdbTurn, handleCommitRejection } from './storage-errors.js';

/** The databases retention works on. */
export interface RetentionStores {
  root: RootDatabase;
  raw: Database<Buffer, number>;
  meta: Database<MetaTuple, number>;
  dedup: Database<DedupEntry, string>;
  dedupAge: Database<[number, string], number>;
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

/** Deletes one batch of expired, consumed records; returns how many (less than `limit` = done). */
function deleteRecordBatch(db: RetentionStores, cutoff: number, limit: number): number {
  const behind = minCursor(db.cursors);
  const seqs: number[] = [];
  for (const { key, value } of db.meta.getRange({ end: behind, inclusiveEnd: true, limit })) {
    // Seq order is receive order, so the first record young enough to keep ends the scan.
    if (value[1] >= cutoff) break;
    seqs.push(key);
  }
  for (const seq of seqs) {
    db.raw.remove(seq);
    db.meta.remove(seq);
  }
  const last = seqs[seqs.length - 1];
  if (last !== undefined && last > (db.state.get(StateKey.DeletedThrough) ?? 0)) {
    db.state.put(StateKey.DeletedThrough, last);
  }
  return seqs.length === limit ? limit : -seqs.length - 1;
}

/** Forgets one batch of dedup keys older than the window; same return convention. */
function expireDedupBatch(db: RetentionStores, cutoff: number, limit: number): number {
  let n = 0;
  for (const { key: seq, value } of db.dedupAge.getRange({ limit })) {
    const [receivedAt, dedupKey] = value;
    if (receivedAt >= cutoff) return -n - 1;
    db.dedupAge.remove(seq);
    const entry = db.dedup.get(dedupKey);
    // Only if the key still points at this record: a later message may have reused it.
    if (entry !== undefined && entry[0] === seq) db.dedup.remove(dedupKey);
    n++;
  }
  return n === limit ? limit : -n - 1;
}

async function sweep(
  db: RetentionStores,
  step: (db: RetentionStores, cutoff: number, limit: number) => number,
  cutoff: number,
  opts: RetentionSweepOptions,
): Promise<number> {
  let total = 0;
  for (;;) {
    if (opts.shouldStop()) return total;
    const txn = db.root.transaction(() => step(db, cutoff, opts.batchSize));
    guardLmdbTurn(db.root);
    let r: number;
    try {
      r = await txn;
    } catch (error) {
      handleCommitRejection(error);
      throw error;
    }
    if (r < 0) return total + (-r - 1);
    total += r;
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
