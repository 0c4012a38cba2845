/**
 * Options of the LMDB inbound log, their defaults and their validation (done once, when the
 * log opens, with exact messages).
 */
import type { RetentionOptions } from './types.js';

const DAY_MS = 86_400_000;

/** Options of {@link openLmdbInboundLog}. */
export interface LmdbInboundLogOptions {
  /** Directory of the LMDB environment (created if missing). Required. */
  path: string;
  /**
   * How long a dedup key is remembered (ms): a message with the same key and body hash
   * received within this window is a duplicate (DOMAIN.md §3.4). 0 disables duplicate
   * detection. Default 7 days.
   */
  dedupWindowMs?: number;
  /**
   * Longest time (ms) a committed dedup key stays in memory only, before it is merged into
   * the index on disk while appends continue (10 ms – 10 min). Keys held in memory are
   * read back from the records at open, so this bounds that work. Default 10 000.
   */
  dedupFlushIntervalMs?: number;
  /**
   * Committed dedup keys held in memory (16 bytes each) before a merge into the index on
   * disk is due regardless of time (1 – 4 194 304). A merge costs per B-tree page it
   * touches, so larger merges cost less per key. Default 262 144.
   */
  dedupFlushKeys?: number;
  /**
   * Upper bound on the log's live data (bytes of LMDB B-tree and overflow pages of the
   * log's databases, plus an estimate of the appends not yet committed). An append that
   * would exceed it is rejected with `STORAGE_FULL`. 0 means unlimited. Default 0.
   */
  maxStorageBytes?: number;
  /** Background retention. Default `{ maxAgeMs: 30 days, intervalMs: 60 000 }`. */
  retention?: Partial<RetentionOptions>;
  /** Records deleted per retention transaction (1–1000). Default 1000. */
  retentionBatchSize?: number;
  /**
   * Most appends committed in one transaction (1–100 000); under heavier load the rest
   * wait for the next transaction. Default 10 000.
   */
  maxBatchRecords?: number;
  /**
   * Gather window (ms) after a group commit: when appends are already queued, the next batch
   * waits up to this long for the appenders just acknowledged to send again, so that senders
   * waiting on ACKs share one transaction instead of alternating between two. A lone
   * appender never waits (nothing is queued then). Default 1; 0 disables; at most 100.
   */
  gatherMs?: number;
  /**
   * LMDB `overlappingSync`: fsync a committed transaction while the next one is already
   * being written. Appends still resolve only after their own fsync. Default true.
   */
  overlappingSync?: boolean;
  /**
   * LMDB page size (bytes, a power of two from 4096 to 65 536) of a log created by this open;
   * a log that exists keeps the page size it was created with. Default 16 384: a record
   * (header and message) of up to ≈8 KB then fits in a leaf page, where with 4 KiB pages
   * every record over ≈2 KB takes overflow pages of its own, and one over ≈4 KB a run of
   * several adjacent ones, which LMDB must find in its free-page list once retention has
   * freed pages (see the module comment of lmdb-log.ts for what that cost).
   */
  pageSize?: number;
}

/** {@link LmdbInboundLogOptions} with every default applied. */
export interface ResolvedLmdbInboundLogOptions {
  path: string;
  dedupWindowMs: number;
  dedupFlushIntervalMs: number;
  dedupFlushKeys: number;
  maxStorageBytes: number;
  retention: RetentionOptions;
  retentionBatchSize: number;
  maxBatchRecords: number;
  gatherMs: number;
  overlappingSync: boolean;
  pageSize: number;
}

/** The defaults of {@link LmdbInboundLogOptions}. */
export const lmdbInboundLogDefaults = Object.freeze({
  dedupWindowMs: 7 * DAY_MS,
  dedupFlushIntervalMs: 10_000,
  dedupFlushKeys: 1 << 18,
  maxStorageBytes: 0,
  retention: Object.freeze({ maxAgeMs: 30 * DAY_MS, intervalMs: 60_000 }),
  retentionBatchSize: 1000,
  maxBatchRecords: 10_000,
  gatherMs: 1,
  overlappingSync: true,
  pageSize: 16_384,
});

function intIn(value: number, min: number, max: number): boolean {
  return Number.isSafeInteger(value) && value >= min && value <= max;
}

/** Applies defaults and validates; throws `TypeError`/`RangeError` with exact messages. */
export function resolveLmdbInboundLogOptions(options: LmdbInboundLogOptions): ResolvedLmdbInboundLogOptions {
  const d = lmdbInboundLogDefaults;
  if (typeof options.path !== 'string' || options.path.length === 0) {
    throw new TypeError('inboundLog.path must be a non-empty string');
  }
  const resolved: ResolvedLmdbInboundLogOptions = {
    path: options.path,
    dedupWindowMs: options.dedupWindowMs ?? d.dedupWindowMs,
    dedupFlushIntervalMs: options.dedupFlushIntervalMs ?? d.dedupFlushIntervalMs,
    dedupFlushKeys: options.dedupFlushKeys ?? d.dedupFlushKeys,
    maxStorageBytes: options.maxStorageBytes ?? d.maxStorageBytes,
    retention: {
      maxAgeMs: options.retention?.maxAgeMs ?? d.retention.maxAgeMs,
      intervalMs: options.retention?.intervalMs ?? d.retention.intervalMs,
    },
    retentionBatchSize: options.retentionBatchSize ?? d.retentionBatchSize,
    maxBatchRecords: options.maxBatchRecords ?? d.maxBatchRecords,
    gatherMs: options.gatherMs ?? d.gatherMs,
    overlappingSync: options.overlappingSync ?? d.overlappingSync,
    pageSize: options.pageSize ?? d.pageSize,
  };
  if (!intIn(resolved.dedupWindowMs, 0, 365 * DAY_MS)) {
    throw new RangeError('inboundLog.dedupWindowMs must be an integer between 0 and 365 days');
  }
  if (!intIn(resolved.dedupFlushIntervalMs, 10, 600_000)) {
    throw new RangeError('inboundLog.dedupFlushIntervalMs must be an integer between 10 and 600000');
  }
  if (!intIn(resolved.dedupFlushKeys, 1, 1 << 22)) {
    throw new RangeError('inboundLog.dedupFlushKeys must be an integer between 1 and 4194304');
  }
  if (!intIn(resolved.maxStorageBytes, 0, Number.MAX_SAFE_INTEGER)) {
    throw new RangeError('inboundLog.maxStorageBytes must be a non-negative integer');
  }
  if (!intIn(resolved.retention.maxAgeMs, 0, 3650 * DAY_MS)) {
    throw new RangeError('inboundLog.retention.maxAgeMs must be an integer between 0 and 3650 days');
  }
  if (!intIn(resolved.retention.intervalMs, 1000, DAY_MS)) {
    throw new RangeError('inboundLog.retention.intervalMs must be an integer between 1 s and 1 day');
  }
  if (!intIn(resolved.retentionBatchSize, 1, 1000)) {
    throw new RangeError('inboundLog.retentionBatchSize must be an integer between 1 and 1000');
  }
  if (!intIn(resolved.maxBatchRecords, 1, 100_000)) {
    throw new RangeError('inboundLog.maxBatchRecords must be an integer between 1 and 100000');
  }
  if (!intIn(resolved.gatherMs, 0, 100)) {
    throw new RangeError('inboundLog.gatherMs must be an integer between 0 and 100');
  }
  if (typeof resolved.overlappingSync !== 'boolean') {
    throw new TypeError('inboundLog.overlappingSync must be a boolean');
  }
  if (!intIn(resolved.pageSize, 4096, 65_536) || (resolved.pageSize & (resolved.pageSize - 1)) !== 0) {
    throw new RangeError('inboundLog.pageSize must be a power of two between 4096 and 65536');
  }
  return resolved;
}
