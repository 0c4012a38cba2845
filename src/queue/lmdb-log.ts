/**
 * The inbound log on LMDB (lmdb-js): the native adapter of the {@link InboundLog} port.
 *
 * Write path (group commit). `append()` checks for a duplicate, assigns the next seq
 * synchronously (so seq order is call order) and issues the record's put at once if a
 * batch is open; otherwise it queues the record. A record is one put: a small header with
 * its metadata followed by the bytes (schema.ts); its dedup key reaches the dedup index
 * later, in bulk (dedup-index.ts), because an index entry per message cost one scattered
 * page per message in every fsync'd transaction. A batch opens when no batch is being
 * committed, stays open until the end of the current event-loop turn (closed by a
 * `setImmediate` scheduled before its first put, so before lmdb-js closes its own event-turn
 * batch) and so becomes one LMDB transaction. While it commits, new appends queue and go out
 * together as the next batch the moment it has committed: the busier the log, the larger
 * the transactions, and a lone append waits for one commit only. When appends are already
 * queued at that moment, the next batch waits up to `gatherMs` (1 ms) for the appenders just
 * committed to send again, or until as many as there were have arrived: senders that wait
 * for their ACK (MLLP original mode) otherwise split into two groups alternating between
 * transactions of half the size (measured: C = 8 ingest +30 %, C = 64 +10 to 25 %).
 *
 * Durability. With lmdb-js's `overlappingSync` (the default here) a transaction becomes
 * visible when committed and is fsync'd afterwards, while the next transaction is already
 * being written; `separateFlushed` gives each write a `flushed` promise. An append resolves
 * only after its transaction's `flushed` promise, i.e. after fsync, never on mere commit.
 * `noSync` is never used. See bench/queue.bench.ts for the measured effect.
 *
 * Reads. `get` and `range` see committed records, which under overlappingSync includes
 * records whose fsync is still running; `lastSeq()` is the highest seq that is durable
 * together with every seq below it, so a consumer that reads up to `lastSeq()` only ever
 * processes records that will survive a crash.
 *
 * Failure. When a transaction fails (disk full, I/O error) every append in it is rejected
 * (`STORAGE_FULL` or `STORAGE_FAILED`) and nothing of it is visible (LMDB transactions are
 * atomic). Because the next batch is issued only after the previous one committed, no later
 * record has reached LMDB: the failed seqs are handed out again, in call order, to the
 * appends still queued, so the log never has a gap and no caller ever saw a seq that was not
 * stored. That wait for the commit is the price of gap-freedom: bare lmdb-js pipelines
 * transactions back to back and is faster at high concurrency (bench/queue.bench.ts).
 * `maxStorageBytes` is checked before a seq is assigned, so a `STORAGE_FULL` from the limit
 * consumes nothing at all.
 *
 * Page size. A new log has 16 KiB pages (`pageSize`, options.ts), so that a record of up to
 * ≈8 KB sits in a leaf page. With LMDB's default 4 KiB, every record over ≈2 KB (a fifth of
 * the bench corpus) takes overflow pages of its own, and one over ≈4 KB a run of adjacent
 * ones, which LMDB must search its free-page list for once retention has freed pages.
 * Measured, C = 64, 30 s on a log whose retention had just freed 1.86 M records' pages
 * (bench/ingest.bench.ts, steady-state row): 8,061 / 13,946 / 24,662 msgs/s in three runs with
 * 4 KiB pages, LMDB's write threads busy in that list (`mdb_midl_insert`, `mdb_midl_search`,
 * perf); 36,885 with 16 KiB pages. A new log ingests the same with either (37,109 / 37,414
 * msgs/s, medians of 4 alternating 5 s rounds).
 */
import { open, type Database } from 'lmdb';
import * as fs from 'node:fs';
import { PacslinkError } from '../errors.js';
import { storedDedupKey } from './dedup.js';
import { DedupIndex } from './dedup-index.js';
import { PendingKeys } from './pending-keys.js';
import { resolveLmdbInboundLogOptions, type LmdbInboundLogOptions, type ResolvedLmdbInboundLogOptions } from './options.js';
import { runRetentionSweep, type RetentionResult, type RetentionStores } from './retention.js';
import { DbName, decodeRecord, encodeRecord, hashDedupKey, LEGACY_DB_NAMES, MAX_SEQ, RecordSlab, StateKey, SUPERSEDED_DEDUP_DB } from './schema.js';
import { estimateRecordBytes, liveBytes } from './storage-size.js';
import { guardLmdbTurn, handleCommitRejection, rejectCodeOf, underlyingCommitError } from './storage-errors.js';
import {
  AppendRejectCode,
  type AppendOutcome,
  type InboundLog,
  type InboundRecord,
  type InboundRecordInput,
} from './types.js';

/** The LMDB inbound log: the {@link InboundLog} port plus operations for tests and operators. */
export interface LmdbInboundLog extends InboundLog {
  /** The environment's directory. */
  readonly path: string;
  /**
   * Runs one retention sweep now (the background timer calls the same): deletes records
   * received before `now - retention.maxAgeMs` whose seq is at or below every cursor, and
   * dedup keys older than the dedup window, in transactions of at most
   * `retentionBatchSize` deletions, yielding to the event loop between them. Concurrent
   * calls share one sweep. `now` defaults to `Date.now()`.
   */
  runRetention(now?: number): Promise<RetentionResult>;
  /**
   * Live bytes of the log's databases as LMDB counts them (B-tree and overflow pages times
   * the page size), the quantity `maxStorageBytes` limits.
   */
  storageBytes(): number;
}

type CommitPromise = Promise<boolean> & { flushed?: PromiseLike<unknown> };

interface PendingAppend {
  seq: number;
  readonly input: InboundRecordInput;
  /** The key as compared and indexed (`storedDedupKey`: hashed when oversized), if dedup applies. */
  readonly dedupKey: string | undefined;
  readonly collision: boolean;
  readonly estimate: number;
  /** The encoded record, in slab space until released (lmdb-js reads it by address until its transaction commits). */
  value?: Buffer;
  readonly outcome: Promise<AppendOutcome>;
  resolve: (outcome: AppendOutcome) => void;
  /** The lmdb-js promise of the transaction holding the record, once issued. */
  commit?: CommitPromise;
  /** Managed by {@link PendingKeys}. */
  pendingSlot: number;
  keyHash: number;
}

interface Batch {
  readonly entries: PendingAppend[];
  open: boolean;
}

type Stores = RetentionStores;

function rejected(code: AppendRejectCode, message: string): AppendOutcome {
  return { kind: 'rejected', code, message };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}

function lastKey(db: Database<unknown, number>): number {
  for (const key of db.getKeys({ reverse: true, limit: 1 })) return key;
  return 0;
}

/**
 * Records are put with LMDB's MDB_APPEND: seqs only grow, and an appended key fills the last
 * leaf page before a new one starts, where an ordinary insert splits a full page in half.
 * Measured (2 vCPU VM, 55 records of 1.5 KB per transaction): half the leaf pages, and
 * commits of 449 µs instead of 587 µs, since each writes and fsyncs fewer new pages. A put
 * whose key is not above the last one is refused (its promise resolves false), never
 * stored out of order.
 */
const APPEND = { append: true } as const;
/** lmdb-js's put with options, which its type declarations leave out. */
interface AppendingStore {
  put(key: number, value: Buffer, options: typeof APPEND): CommitPromise;
}
const APPEND_REFUSED = 'LMDB refused the append: a record with this seq or a higher one exists';

/** Longest time between exact storage measurements far from the limit (ms). */
const STORAGE_MEASURE_INTERVAL_MS = 1000;
/** Fraction of `maxStorageBytes` above which storage is measured after every batch. */
const STORAGE_EXACT_FRACTION = 0.9;

/**
 * The transaction promises of `entries`, in order, each once: a batch's records share one
 * transaction's promise (several in a row if another writer split it), so walking them in
 * order needs no set.
 */
function transactionsOf(entries: readonly PendingAppend[]): CommitPromise[] {
  const commits: CommitPromise[] = [];
  let last: CommitPromise | undefined;
  for (const e of entries) {
    if (e.commit === undefined || e.commit === last) continue;
    last = e.commit;
    commits.push(last);
  }
  return commits;
}

const setImmediateP = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

class LmdbInboundLogImpl implements LmdbInboundLog {
  readonly path: string;
  readonly #opts: ResolvedLmdbInboundLogOptions;
  readonly #db: Stores;
  /** Next seq to hand out; seqs below it are stored, being committed or queued. */
  #nextSeq: number;
  /** Highest seq such that it and every seq below it is durable. */
  #durableSeq: number;
  /**
   * Highest committed seq (durable or not): every seq below it has committed too, or failed
   * for good (a gap, see #failAppends), never is still to commit.
   */
  #committedSeq: number;
  /** The dedup index, when duplicate detection is on. */
  readonly #index: DedupIndex | undefined;
  readonly #queue: PendingAppend[] = [];
  /** Where records are encoded (schema.ts). */
  readonly #slab = new RecordSlab();
  #batch: Batch | undefined;
  /** Resolves when the last issued batch is durable (batches become durable in order). */
  #flushChain: Promise<void> = Promise.resolve();
  readonly #pendingKeys = new PendingKeys<PendingAppend>();
  #pendingBytes = 0;
  #uncommittedEstimate = 0;
  /**
   * Storage in use for `maxStorageBytes`: LMDB's page count when last measured plus the
   * (upper) estimates of the records committed since.
   */
  #usedBytes = 0;
  /** `performance.now()` of the last exact measurement. */
  #measuredAt = 0;
  readonly #pageSize: number;
  #closing = false;
  #closed: Promise<void> | undefined;
  #retention: Promise<RetentionResult> | undefined;
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #sideWrites = new Set<Promise<unknown>>();
  #idleWaiters: Array<() => void> = [];

  constructor(opts: ResolvedLmdbInboundLogOptions, db: Stores) {
    this.path = opts.path;
    this.#opts = opts;
    this.#db = db;
    this.#pageSize = (db.root.getStats() as { pageSize: number }).pageSize;
    const last = Math.max(lastKey(db.records), db.state.get(StateKey.DeletedThrough) ?? 0);
    this.#nextSeq = last + 1;
    this.#durableSeq = last;
    this.#committedSeq = last;
    const tuning = { flushIntervalMs: opts.dedupFlushIntervalMs, flushKeys: opts.dedupFlushKeys };
    this.#index = opts.dedupWindowMs > 0 ? new DedupIndex(db, opts.dedupWindowMs, () => this.#committedSeq, tuning, opts.path) : undefined;
    if (opts.maxStorageBytes > 0) this.#measureStorage();
    this.#timer = setInterval(() => {
      // A failed sweep is retried at the next interval; appends are not affected.
      this.runRetention().catch(() => undefined);
    }, opts.retention.intervalMs);
    this.#timer.unref();
  }

  append(input: InboundRecordInput): Promise<AppendOutcome> {
    if (this.#closing) return Promise.resolve(rejected(AppendRejectCode.Closing, 'the inbound log is closing'));
    if (!(input.raw instanceof Uint8Array) || input.raw.byteLength === 0) {
      return Promise.reject(new TypeError('append: raw must be a non-empty Uint8Array'));
    }
    if (!Number.isFinite(input.receivedAt)) return Promise.reject(new TypeError('append: receivedAt must be a finite number'));
    let dedupKey: string | undefined;
    let keyHash = 0;
    let collision = false;
    if (input.dedupKey !== undefined && this.#index !== undefined) {
      dedupKey = storedDedupKey(input.dedupKey);
      keyHash = hashDedupKey(dedupKey);
      const pending = this.#pendingKeys.latest(dedupKey, keyHash);
      if (pending !== undefined) {
        // The first copy is not durable yet: answer with its outcome, once known, so a
        // duplicate is never acknowledged before the original is on disk.
        if (sameBytes(pending.input.raw, input.raw)) {
          return pending.outcome.then((o) => (o.kind === 'appended' ? { kind: 'duplicate', seq: o.seq } : o));
        }
        collision = true;
      } else {
        const found = this.#index.find(dedupKey, keyHash, input.raw, input.receivedAt);
        if (found !== undefined) {
          if (found.same) return Promise.resolve({ kind: 'duplicate', seq: found.seq });
          collision = true;
        }
      }
    }
    const metaBytes =
      input.listener.length + input.remote.length + input.messageType.length + input.controlId.length + (input.dedupKey?.length ?? 0);
    // UTF-16 units, up to 3 UTF-8 bytes each; plus length prefixes and the dedup entry.
    const estimate = estimateRecordBytes(input.raw.byteLength, this.#pageSize, 3 * metaBytes + 64);
    const max = this.#opts.maxStorageBytes;
    if (max > 0 && this.#usedBytes + this.#uncommittedEstimate + estimate > max) {
      return Promise.resolve(rejected(AppendRejectCode.StorageFull, `the inbound log would exceed maxStorageBytes (${max})`));
    }
    if (this.#nextSeq > MAX_SEQ) {
      return Promise.resolve(rejected(AppendRejectCode.StorageFull, 'the inbound log has used every 32-bit sequence number'));
    }
    let resolve!: (o: AppendOutcome) => void;
    const outcome = new Promise<AppendOutcome>((r) => (resolve = r));
    const entry: PendingAppend = {
      seq: this.#nextSeq++,
      input,
      dedupKey,
      collision,
      estimate,
      outcome,
      resolve,
      pendingSlot: -1,
      keyHash: 0,
    };
    if (dedupKey !== undefined) this.#pendingKeys.add(entry, keyHash);
    this.#pendingBytes += input.raw.byteLength;
    this.#uncommittedEstimate += estimate;
    const batch = this.#batch;
    if (batch?.open === true && batch.entries.length < this.#opts.maxBatchRecords) {
      this.#write(entry, batch);
    } else {
      this.#queue.push(entry);
      if (this.#gatherUntil > 0) {
        if (this.#queue.length >= this.#gatherUntil) this.#endGather();
      } else if (batch === undefined) {
        this.#startBatch();
      }
    }
    return outcome;
  }

  /**
   * Issues one record's put. Its dedup key, if any, is in the record's header; the dedup
   * index follows later (dedup-index.ts).
   */
  #write(e: PendingAppend, batch: Batch): void {
    e.value = encodeRecord(e.input, this.#slab);
    e.commit = (this.#db.records as unknown as AppendingStore).put(e.seq, e.value, APPEND);
    batch.entries.push(e);
  }

  /** Opens a batch with the queued appends; it stays open until the end of this turn. */
  #startBatch(): void {
    const batch: Batch = { entries: [], open: true };
    this.#batch = batch;
    // Scheduled before the first put so it runs before lmdb-js's own end-of-turn task.
    setImmediate(() => {
      batch.open = false;
      void this.#awaitBatch(batch);
    });
    const n = Math.min(this.#queue.length, this.#opts.maxBatchRecords);
    for (const e of this.#queue.splice(0, n)) this.#write(e, batch);
    this.#index?.maybeFlush(performance.now());
    guardLmdbTurn(this.#db.root);
    if (batch.entries.length >= this.#opts.maxBatchRecords) batch.open = false;
  }

  /**
   * Runs once the batch is closed: waits for its commit, then (off the critical path) for
   * its fsync, and issues the queued appends as the next batch as soon as this one has
   * committed. A batch is normally one transaction; should another writer have closed
   * lmdb-js's batch in the middle of ours, each record still follows its own transaction.
   */
  async #awaitBatch(batch: Batch): Promise<void> {
    const failures = new Map<CommitPromise, unknown>();
    for (const commit of transactionsOf(batch.entries)) {
      try {
        // false: LMDB refused the append (the seq was not above the last key) and the
        // record is not stored; the rest of the transaction is.
        if ((await commit) === false) failures.set(commit, new Error(APPEND_REFUSED));
      } catch (error) {
        handleCommitRejection(error);
        failures.set(commit, error);
      }
    }
    const stored: PendingAppend[] = [];
    const failed: PendingAppend[] = [];
    for (const e of batch.entries) {
      this.#uncommittedEstimate -= e.estimate;
      (e.commit !== undefined && failures.has(e.commit) ? failed : stored).push(e);
    }
    if (this.#opts.maxStorageBytes > 0) this.#accountStorage(stored);
    for (const e of stored) {
      if (e.dedupKey !== undefined) this.#index?.committed(e.keyHash, e.seq);
      if (e.seq > this.#committedSeq) this.#committedSeq = e.seq;
    }
    if (stored.length > 0) {
      const flushes: Array<PromiseLike<unknown>> = [this.#flushChain];
      for (const commit of transactionsOf(stored)) flushes.push(commit.flushed ?? commit);
      this.#flushChain = Promise.all(flushes).then(
        () => this.#settleDurable(stored),
        (error: unknown) => this.#settleFailed(stored, error),
      );
    }
    if (failed.length > 0) await this.#failAppends(failed, failures);
    this.#batch = undefined;
    if (this.#queue.length === 0) {
      this.#notifyIdle();
      return;
    }
    const target = this.#queue.length + stored.length;
    if (this.#opts.gatherMs > 0 && stored.length > 1 && !this.#closing) {
      // The appenders of this batch get their ACKs once it is flushed and most send again at
      // once: wait (briefly) for them, so that they join the appends already queued in one
      // transaction instead of alternating with them in two.
      this.#gatherUntil = target;
      this.#gatherTimer = setTimeout(() => this.#endGather(), this.#opts.gatherMs);
    } else {
      this.#startBatch();
    }
  }

  /** While gathering: the queue length that ends the wait early (0 when not gathering). */
  #gatherUntil = 0;
  #gatherTimer: ReturnType<typeof setTimeout> | undefined;

  /** Ends a gather window and issues the queued appends as the next batch. */
  #endGather(): void {
    clearTimeout(this.#gatherTimer);
    this.#gatherTimer = undefined;
    this.#gatherUntil = 0;
    if (this.#batch === undefined && this.#queue.length > 0) this.#startBatch();
  }

  #measureStorage(): void {
    this.#usedBytes = this.storageBytes();
    this.#measuredAt = performance.now();
  }

  /**
   * Counts a committed batch against `maxStorageBytes`. Measuring LMDB's page counts costs
   * ≈4 µs per database, ≈16 µs per batch: far from the limit the batch's own estimates
   * (upper bounds) are added instead, and the exact figure is taken at most every
   * {@link STORAGE_MEASURE_INTERVAL_MS}; within {@link STORAGE_EXACT_FRACTION} of the limit
   * it is measured after every batch, so a refusal never rests on an estimate alone.
   */
  #accountStorage(stored: readonly PendingAppend[]): void {
    for (const e of stored) this.#usedBytes += e.estimate;
    const near = this.#usedBytes + this.#uncommittedEstimate > this.#opts.maxStorageBytes * STORAGE_EXACT_FRACTION;
    if (near || performance.now() - this.#measuredAt >= STORAGE_MEASURE_INTERVAL_MS) this.#measureStorage();
  }

  #release(e: PendingAppend): void {
    // The transaction holding the record has committed or failed: lmdb-js is done with it.
    if (e.value !== undefined) this.#slab.release(e.value);
    e.value = undefined;
    this.#pendingBytes -= e.input.raw.byteLength;
    this.#pendingKeys.delete(e);
  }

  #settleDurable(entries: PendingAppend[]): void {
    for (const e of entries) {
      this.#release(e);
      if (e.seq > this.#durableSeq) this.#durableSeq = e.seq;
      e.resolve({ kind: 'appended', seq: e.seq, dedupCollision: e.collision });
    }
  }

  // lmdb-js reports no fsync failure today (its flushed promise only resolves); should one
  // surface, the records are visible but may not survive a power loss, so they are reported
  // as failed and the sender resends (then a duplicate of what the log holds, or new).
  #settleFailed(entries: PendingAppend[], error: unknown): void {
    const message = `fsync failed: ${error instanceof Error ? error.message : String(error)}`;
    for (const e of entries) {
      this.#release(e);
      e.resolve(rejected(rejectCodeOf(error), message));
    }
  }

  async #failAppends(failed: PendingAppend[], failures: Map<CommitPromise, unknown>): Promise<void> {
    const first = failures.values().next().value;
    const cause = await Promise.race([underlyingCommitError(first), setImmediateP().then(() => first)]);
    const code = rejectCodeOf(cause);
    const message = `the inbound log could not commit: ${cause instanceof Error ? cause.message : String(cause)}`;
    for (const e of failed) {
      this.#release(e);
      e.resolve(rejected(code, message));
    }
    // Nothing after this batch has reached LMDB (the next batch waits for this one), so if
    // the failed records are its tail their seqs are handed out again and the log has no
    // gap. Only a failed transaction followed by a successful one inside the same batch
    // (possible only when another writer split it) leaves a gap; seqs are never reused then.
    const firstFailed = failed[0];
    const lastStored = this.#nextSeq - 1 - this.#queue.length;
    if (firstFailed !== undefined && firstFailed.seq + failed.length - 1 === lastStored) {
      this.#nextSeq = firstFailed.seq;
      for (const e of this.#queue) e.seq = this.#nextSeq++;
    }
    // After a refused append (a record at or above its seq exists, which only a writer other
    // than this log can have put there), numbering resumes above the last key, so that the
    // appends still queued are not refused in turn.
    const last = lastKey(this.#db.records);
    if ((this.#queue[0]?.seq ?? this.#nextSeq) <= last) {
      this.#nextSeq = last + 1;
      for (const e of this.#queue) e.seq = this.#nextSeq++;
    }
  }

  #notifyIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Resolves once nothing is queued or committing and everything committed is durable. */
  async #drain(): Promise<void> {
    while (this.#batch !== undefined || this.#queue.length > 0) {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
    await this.#flushChain;
  }

  get(seq: number): InboundRecord | undefined {
    if (!Number.isSafeInteger(seq) || seq < 1 || seq > MAX_SEQ) return undefined;
    const record = this.#db.records.getBinary(seq);
    return record === undefined ? undefined : decodeRecord(seq, record);
  }

  *range(fromSeq: number, toSeq: number): Iterable<InboundRecord> {
    const from = Math.max(1, Math.ceil(fromSeq));
    const to = Math.min(MAX_SEQ, Math.floor(toSeq));
    if (!(from <= to)) return;
    for (const { key, value } of this.#db.records.getRange({ start: from, end: to, inclusiveEnd: true })) {
      yield decodeRecord(key, value);
    }
  }

  lastSeq(): number {
    return this.#durableSeq;
  }

  firstSeq(): number {
    for (const key of this.#db.records.getKeys({ limit: 1 })) return key;
    return 0;
  }

  getCursor(name: string): number {
    return this.#db.cursors.get(name) ?? 0;
  }

  async setCursor(name: string, seq: number): Promise<void> {
    if (typeof name !== 'string' || name.length === 0 || Buffer.byteLength(name) > 256) {
      throw new RangeError('cursor name must be a non-empty string of at most 256 bytes');
    }
    if (!Number.isSafeInteger(seq) || seq < 0 || seq > MAX_SEQ) {
      throw new RangeError('cursor seq must be an integer between 0 and 4294967295');
    }
    if (this.#closing) throw new PacslinkError(AppendRejectCode.Closing, 'the inbound log is closing');
    const write = (async () => {
      const commit = this.#db.cursors.put(name, seq) as CommitPromise;
      guardLmdbTurn(this.#db.root);
      try {
        await commit;
        await commit.flushed;
      } catch (error) {
        handleCommitRejection(error);
        const cause = await Promise.race([underlyingCommitError(error), setImmediateP().then(() => error)]);
        throw new PacslinkError(rejectCodeOf(cause), `could not store cursor ${name}`, { cause });
      }
    })();
    this.#sideWrites.add(write);
    try {
      await write;
    } finally {
      this.#sideWrites.delete(write);
    }
  }

  pendingBytes(): number {
    return this.#pendingBytes;
  }

  storageBytes(): number {
    const d = this.#db;
    return liveBytes([d.records, d.dedup, d.cursors, d.state]);
  }

  runRetention(now: number = Date.now()): Promise<RetentionResult> {
    if (this.#retention !== undefined) return this.#retention;
    if (this.#closing) return Promise.resolve({ deleted: 0, expiredDedupKeys: 0 });
    const sweep = async (): Promise<RetentionResult> => {
      // The sweep reads and deletes dedup entries in LMDB: every committed key must be there.
      await this.#index?.flush();
      return runRetentionSweep(this.#db, {
        now,
        maxAgeMs: this.#opts.retention.maxAgeMs,
        dedupWindowMs: this.#opts.dedupWindowMs,
        batchSize: this.#opts.retentionBatchSize,
        shouldStop: () => this.#closing,
      });
    };
    const run = sweep().finally(() => {
      this.#retention = undefined;
      if (this.#opts.maxStorageBytes > 0) this.#measureStorage();
    });
    this.#retention = run;
    return run;
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing = true;
      clearInterval(this.#timer);
      await this.#drain();
      await Promise.allSettled([this.#retention, ...this.#sideWrites]);
      // Not required for correctness (the next open reads unindexed keys back from the
      // records), but it keeps that replay short. Also stops the flush worker.
      await this.#index?.close();
      await this.#db.root.close();
    })();
    return this.#closed;
  }
}

/**
 * Opens (creating if needed) the inbound log in the LMDB environment at `options.path`.
 * Reads the last seq so that numbering continues after a restart, and starts the retention
 * timer (unref'd). Throws `TypeError`/`RangeError` for invalid options.
 */
export async function openLmdbInboundLog(options: LmdbInboundLogOptions): Promise<LmdbInboundLog> {
  const opts = resolveLmdbInboundLogOptions(options);
  await fs.promises.mkdir(opts.path, { recursive: true });
  const root = open({
    path: opts.path,
    maxDbs: 16,
    // Durable throughput with many appenders comes from three things:
    // - group commit (ours, above): one transaction and one fsync per batch; the batch is
    //   everything appended while the previous batch was committing, so its size follows
    //   the load (≈ the number of waiting appenders) with no timer;
    // - overlappingSync (default on): LMDB commits with MDB_NOSYNC under the write lock and
    //   fdatasync runs afterwards on another thread (strace shows it on libuv pool threads),
    //   so batch N+1 is committed while batch N is still being flushed and the disk is
    //   never idle waiting for a JS round trip. Measured (bench/queue.bench.ts, 2 vCPU VM):
    //   on and off are equal within run-to-run noise, both with the VM's ≈0.3 ms fdatasync
    //   and with fdatasync slowed to 2 ms through an LD_PRELOAD shim (≈20k msgs/s at 64
    //   appenders, ≈64 messages per transaction either way): when every appender waits for
    //   its ACK, all of them are in the batch being flushed and nothing is left to overlap.
    //   It is kept on (lmdb-js's default on Linux) for arrivals that are not in lockstep,
    //   whose commit then proceeds during the previous fsync;
    // - separateFlushed: with overlappingSync the put promise resolves at commit, so each
    //   write also carries a `flushed` promise; appends resolve on that (strace: the
    //   fdatasync precedes the resolution), never on commit. noSync is never used.
    // commitDelay stays 0 (setImmediate): a delay would only add latency, since the group
    // commit already batches whatever arrives during a commit. eventTurnBatching stays on:
    // it is what puts one batch's puts into one transaction.
    overlappingSync: opts.overlappingSync,
    separateFlushed: true,
    commitDelay: 0,
    // Used when this open creates the environment; LMDB keeps an existing file's page size.
    pageSize: opts.pageSize,
  });
  // Named databases are keys of the root database.
  let superseded = false;
  for (const name of root.getKeys()) {
    if (name === SUPERSEDED_DEDUP_DB) superseded = true;
    if (typeof name === 'string' && LEGACY_DB_NAMES.includes(name)) {
      await root.close();
      throw new PacslinkError(
        'ERR_LOG_LAYOUT',
        `${opts.path} holds an inbound log of an earlier, unsupported layout (database ${name}); move it away to start a new log`,
      );
    }
  }
  const db: Stores = {
    root,
    records: root.openDB<Buffer, number>(DbName.Raw, { keyEncoding: 'uint32', encoding: 'binary' }),
    dedup: root.openDB<Buffer, number>(DbName.Dedup, { keyEncoding: 'uint32', encoding: 'binary' }),
    cursors: root.openDB<number, string>(DbName.Cursors, { encoding: 'msgpack' }),
    state: root.openDB<number, string>(DbName.State, { encoding: 'msgpack' }),
  };
  if (superseded) dropSupersededDedupIndex(db);
  return new LmdbInboundLogImpl(opts, db);
}

/**
 * Drops the dedup index keyed by the key string (`inbound.dedup`) and rewinds
 * `dedupIndexedThrough` to where expiry stands, so that the index opening next reads the
 * keys still in the window back from the records (dedup-index.ts). The records are not
 * touched.
 */
function dropSupersededDedupIndex(db: Stores): void {
  const old = db.root.openDB<Buffer, string>(SUPERSEDED_DEDUP_DB, { encoding: 'binary' });
  db.root.transactionSync(() => {
    db.state.putSync(StateKey.DedupIndexedThrough, db.state.get(StateKey.DedupExpiredThrough) ?? 0);
    old.dropSync();
  });
}
