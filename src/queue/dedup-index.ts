/**
 * The dedup index of the inbound log (`inbound.dedup`), written behind the records.
 *
 * Why deferred: dedup keys are spread over the whole key space (one sender's control ids,
 * many senders), so each key written in a transaction dirties its own B-tree leaf page.
 * Written with its record, the index cost one scattered 4 KiB page per message, about half
 * of what every group commit wrote and fdatasync'd (measured: ≈250 KiB and ≈40 write calls
 * per 32-message transaction with the index, ≈115 KiB and ≈6 without). Written at most every
 * {@link FLUSH_INTERVAL_MS}, a hot leaf page is written once per interval instead of once
 * per transaction.
 *
 * Why it is still exact: a record's header holds its dedup key, so the index can always be
 * rebuilt from the records. `dedupIndexedThrough` in `inbound.state`, written in the same
 * transaction as a flush, says up to which seq the index is complete; the records after it
 * are the only ones a lookup must find elsewhere, and opening the log reads them back. So a
 * record that is durable (and therefore acknowledged) is always found by a later resend,
 * before or after a crash.
 *
 * Why a worker thread: writing the entries costs ≈3.5 µs per key under load (≈1.7 to read
 * the key back from its record, ≈1.7 for the B-tree insert). Done on the main thread it was
 * a 5–7 ms stall every {@link FLUSH_INTERVAL_MS} in which no frame was read and no ACK
 * written; the worker (dedup-flush-worker.ts) does it while the main thread goes on, and
 * only its inserts hold LMDB's write lock (≈4–5 ms per flush at C = 64). Measured against
 * the main-thread flush: the same throughput, ACK p99 ≈9 ms instead of ≈11 ms. This flush
 * is most of what duplicate detection costs: at C = 64 durable ingest runs ≈20 % slower with
 * it than with `dedupWindowMs: 0` (bench/ingest.bench.ts shows both), and about the same
 * without it when no flush runs at all.
 *
 * Why no strings in memory: the committed keys not yet flushed are held as (32-bit hash,
 * seq) pairs in typed arrays ({@link KeyTable}), and a flush reads the keys back from the
 * records it covers. Held in a `Map` of strings, each key lived about 100 ms, long enough
 * for V8 to promote it to the old generation; the `Map` of pending keys (pending-keys.ts)
 * did worse. Together they cost ≈10 % of durable ingest throughput at C = 64. A hash match
 * is confirmed against the key in the record's own header, so a hash collision is never
 * taken for a duplicate.
 */
import type { Database, RootDatabase } from 'lmdb';
import { Worker } from 'node:worker_threads';
import { recordStoredDedupKey } from './dedup.js';
import { collectDedupEntries, putDedupEntries } from './dedup-entries.js';
import type { DedupFlushReply, DedupFlushRequest, DedupFlushWorkerData } from './dedup-flush-worker.js';
import { decodeDedupEntry, rawOffset, receivedAtOf, StateKey } from './schema.js';
import { guardLmdbTurn, handleCommitRejection } from './storage-errors.js';

/** Longest time a committed key stays out of the index while appends continue (ms). */
export const FLUSH_INTERVAL_MS = 100;
/** Keys held in memory before a flush is due regardless of time. */
const FLUSH_MAX_KEYS = 10_000;
/** Slots of a new {@link KeyTable} (a power of two); it doubles when half full. */
const TABLE_SLOTS = 1 << 14;

/** The databases the index works with. */
export interface DedupIndexStores {
  root: RootDatabase;
  records: Database<Buffer, number>;
  dedup: Database<Buffer, string>;
  state: Database<number, string>;
}

/** What a lookup found: the seq the key points at and whether its bytes equal the new ones. */
export interface DedupHit {
  seq: number;
  same: boolean;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}

/** FNV-1a over the key's UTF-16 code units: a 32-bit hash, computed without allocating. */
export function hashDedupKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * An open-addressing hash table of (key hash, value) pairs in one `Uint32Array` (linear
 * probing; value 0 marks an empty slot, so values are seqs or other positive integers).
 * Several values may share a hash (the same key sent again with other bytes, or two keys
 * that collide): the caller confirms each candidate against the key itself.
 */
export class KeyTable {
  #slots: Uint32Array;
  #mask: number;
  #size = 0;

  constructor(slots: number = TABLE_SLOTS) {
    this.#slots = new Uint32Array(slots * 2);
    this.#mask = slots - 1;
  }

  get size(): number {
    return this.#size;
  }

  add(hash: number, seq: number): void {
    if ((this.#size + 1) * 2 > this.#mask + 1) this.#grow();
    this.#place(hash, seq);
    this.#size++;
  }

  #place(hash: number, seq: number): void {
    const slots = this.#slots;
    let i = hash & this.#mask;
    while (slots[2 * i + 1] !== 0) i = (i + 1) & this.#mask;
    slots[2 * i] = hash;
    slots[2 * i + 1] = seq;
  }

  #grow(): void {
    const old = this.#slots;
    this.#slots = new Uint32Array(old.length * 2);
    this.#mask = old.length - 1;
    for (let i = 0; i < old.length; i += 2) if (old[i + 1] !== 0) this.#place(old[i]!, old[i + 1]!);
  }

  /**
   * Removes the pair (`hash`, `value`) if present (backward-shift deletion: the entries after
   * it in its probe run move up, so no tombstone is left and lookups stay short).
   */
  remove(hash: number, value: number): void {
    const slots = this.#slots;
    const mask = this.#mask;
    let i = hash & mask;
    while (slots[2 * i + 1] !== 0 && !(slots[2 * i] === hash && slots[2 * i + 1] === value)) i = (i + 1) & mask;
    if (slots[2 * i + 1] === 0) return;
    for (let j = (i + 1) & mask; slots[2 * j + 1] !== 0; j = (j + 1) & mask) {
      const home = slots[2 * j]! & mask;
      // The entry at j may move to the hole at i unless its home lies cyclically in (i, j].
      if (i <= j ? i < home && home <= j : i < home || home <= j) continue;
      slots[2 * i] = slots[2 * j]!;
      slots[2 * i + 1] = slots[2 * j + 1]!;
      i = j;
    }
    slots[2 * i] = 0;
    slots[2 * i + 1] = 0;
    this.#size--;
  }

  /** Calls `visit(value)` for every value stored under `hash`. */
  visit(hash: number, visit: (value: number) => void): void {
    const slots = this.#slots;
    for (let i = hash & this.#mask; slots[2 * i + 1] !== 0; i = (i + 1) & this.#mask) {
      if (slots[2 * i] === hash) visit(slots[2 * i + 1]!);
    }
  }

  /** The highest seq stored under `hash` for which `confirm(seq)` is true, or 0. */
  latest(hash: number, confirm: (seq: number) => boolean): number {
    const slots = this.#slots;
    let best = 0;
    for (let i = hash & this.#mask; slots[2 * i + 1] !== 0; i = (i + 1) & this.#mask) {
      const seq = slots[2 * i + 1]!;
      if (slots[2 * i] === hash && seq > best && confirm(seq)) best = seq;
    }
    return best;
  }

  /** Empties the table, going back to its initial size if it had grown. */
  clear(): void {
    if (this.#slots.length > TABLE_SLOTS * 2) {
      this.#slots = new Uint32Array(TABLE_SLOTS * 2);
      this.#mask = TABLE_SLOTS - 1;
    } else {
      this.#slots.fill(0);
    }
    this.#size = 0;
  }
}

/** The dedup index: LMDB entries plus the committed keys not flushed yet. */
export class DedupIndex {
  readonly #db: DedupIndexStores;
  readonly #windowMs: number;
  /** The log's highest committed seq (every seq below it has committed or failed for good). */
  readonly #committedSeq: () => number;
  /** Committed keys not yet in `inbound.dedup`, oldest table first; appends go to the last. */
  readonly #tables: KeyTable[] = [new KeyTable()];
  #spare: KeyTable | undefined;
  /** Every record up to this seq has its key in `inbound.dedup` (`dedupIndexedThrough`). */
  #indexedThrough: number;
  #flushedAt = 0;
  #flushing: Promise<void> | undefined;
  /** The key being looked up, for {@link DedupIndex.#confirm}. */
  #probe = '';
  readonly #confirm = (seq: number): boolean => this.#keyOf(seq) === this.#probe;
  /** The environment's path, for the flush worker; without it flushes run in this thread. */
  readonly #path: string | undefined;
  #worker: Worker | undefined;
  /** Set once the worker could not start or died: flushes run in this thread from then on. */
  #workerFailed = false;
  #closing = false;
  #reply: { resolve: () => void; reject: (error: Error) => void } | undefined;

  constructor(db: DedupIndexStores, windowMs: number, committedSeq: () => number, path?: string) {
    this.#db = db;
    this.#windowMs = windowMs;
    this.#committedSeq = committedSeq;
    this.#path = path;
    this.#indexedThrough = db.state.get(StateKey.DedupIndexedThrough) ?? 0;
    this.#replay();
  }

  /** Committed keys held in memory, not yet written to `inbound.dedup`. */
  get unflushed(): number {
    let n = 0;
    for (const t of this.#tables) n += t.size;
    return n;
  }

  /** Reads the keys of records after `dedupIndexedThrough` back into memory (at open). */
  #replay(): void {
    const table = this.#tables[0]!;
    for (const seq of this.#db.records.getKeys({ start: this.#indexedThrough + 1 })) {
      const key = this.#keyOf(seq);
      if (key !== undefined) table.add(hashDedupKey(key), seq);
    }
  }

  /** The stored dedup key of record `seq`, if it exists and has one. */
  #keyOf(seq: number): string | undefined {
    const record = this.#db.records.getBinaryFast(seq);
    return record === undefined ? undefined : recordStoredDedupKey(record);
  }

  /**
   * The committed message `key` points at, if received within the window before
   * `receivedAt`, and whether its bytes equal `raw` (compared in place in LMDB's read
   * buffer). A key whose record retention has deleted counts as absent.
   */
  find(key: string, raw: Uint8Array, receivedAt: number): DedupHit | undefined {
    const hash = hashDedupKey(key);
    this.#probe = key;
    let seq = 0;
    // Newest table first: the first table holding the key holds its latest seq.
    for (let i = this.#tables.length - 1; i >= 0 && seq === 0; i--) seq = this.#tables[i]!.latest(hash, this.#confirm);
    this.#probe = '';
    let latestAt: number | undefined;
    if (seq === 0) {
      const stored = this.#db.dedup.getBinaryFast(key);
      if (stored === undefined) return undefined;
      const entry = decodeDedupEntry(stored);
      seq = entry.seq;
      latestAt = entry.receivedAt;
    }
    const record = this.#db.records.getBinaryFast(seq);
    if (record === undefined) return undefined;
    if (receivedAt - (latestAt ?? receivedAtOf(record)) >= this.#windowMs) return undefined;
    return { seq, same: sameBytes(record.subarray(rawOffset(record), record.length), raw) };
  }

  /** Records that the key with hash `hash` (`hashDedupKey`) now points at `seq` (its record has committed). */
  committed(hash: number, seq: number): void {
    this.#tables[this.#tables.length - 1]!.add(hash, seq);
  }

  /** Starts a flush if one is due: {@link FLUSH_INTERVAL_MS} since the last, or many keys held. */
  maybeFlush(now: number): void {
    if (this.#flushing !== undefined) return;
    const held = this.unflushed;
    if (held === 0) return;
    if (now - this.#flushedAt < FLUSH_INTERVAL_MS && held < FLUSH_MAX_KEYS) return;
    this.#flushedAt = now;
    void this.flush();
  }

  /**
   * Writes the keys of every committed record after `dedupIndexedThrough`, read back from
   * the records, and the new `dedupIndexedThrough` in one transaction; once committed,
   * forgets the keys it covered. The work runs in the flush worker unless `inThisThread` (or
   * no worker can run). A failed flush keeps the keys for the next one. Concurrent calls
   * wait for the running flush.
   */
  async flush(inThisThread = false): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing;
    if (this.unflushed === 0) return;
    // Every key committed so far is in the tables sealed here, and its seq is at or below
    // `through`; keys committed from now on go to the new table.
    const through = this.#committedSeq();
    const sealed = this.#tables.length;
    this.#tables.push(this.#spare ?? new KeyTable());
    this.#spare = undefined;
    const from = this.#indexedThrough + 1;
    const run = (async () => {
      try {
        await this.#write(from, through, inThisThread);
      } catch (error) {
        handleCommitRejection(error);
        return;
      }
      this.#indexedThrough = through;
      for (const table of this.#tables.splice(0, sealed)) {
        table.clear();
        this.#spare = table;
      }
    })();
    this.#flushing = run;
    try {
      await run;
    } finally {
      this.#flushing = undefined;
    }
  }

  /** Resolves once no flush is running. */
  async settle(): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing;
  }

  /** Writes the entries of records `from`..`through`: in the flush worker if it runs. */
  #write(from: number, through: number, inThisThread: boolean): Promise<unknown> {
    const worker = inThisThread ? undefined : this.#flushWorker();
    if (worker === undefined) {
      // One callback inside the write transaction, with synchronous puts: an asynchronous
      // put per key kept a promise, a write instruction and the value alive until the
      // commit, and that garbage, thousands of objects per flush, was promoted to the old
      // generation.
      const { root, records, dedup, state } = this.#db;
      const commit = root.transaction(() => putDedupEntries(dedup, state, collectDedupEntries(records, from, through), through));
      guardLmdbTurn(root);
      return commit;
    }
    return new Promise<void>((resolve, reject) => {
      this.#reply = { resolve, reject };
      worker.postMessage({ from, through } satisfies DedupFlushRequest);
    });
  }

  /** The flush worker, started on first use; undefined when flushes run in this thread. */
  #flushWorker(): Worker | undefined {
    if (this.#worker !== undefined || this.#workerFailed || this.#path === undefined || this.#closing) return this.#worker;
    const failed = (error: Error): void => {
      this.#workerFailed = true;
      this.#worker = undefined;
      this.#reply?.reject(error);
      this.#reply = undefined;
    };
    try {
      const worker = new Worker(new URL('./dedup-flush-worker.js', import.meta.url), {
        workerData: { path: this.#path } satisfies DedupFlushWorkerData,
      });
      worker.unref();
      worker.on('message', (reply: DedupFlushReply) => {
        const pending = this.#reply;
        this.#reply = undefined;
        if ('error' in reply) pending?.reject(new Error(reply.error));
        else pending?.resolve();
      });
      worker.on('error', failed);
      worker.on('exit', (code) => {
        if (this.#worker === worker && !this.#closing) failed(new Error(`the dedup flush worker exited with code ${code}`));
      });
      this.#worker = worker;
    } catch (error) {
      failed(error instanceof Error ? error : new Error(String(error)));
    }
    return this.#worker;
  }

  /**
   * Writes what is held and stops the flush worker. The last flush runs in the worker if it
   * is running, else in this thread (a worker is not started just to be stopped).
   */
  async close(): Promise<void> {
    await this.flush(this.#worker === undefined).catch(() => undefined);
    await this.settle();
    this.#closing = true;
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker === undefined) return;
    // Asked to close its environment handle and end; terminated if it has not within 2 s.
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ close: true } satisfies DedupFlushRequest);
    const timer = setTimeout(() => void worker.terminate(), 2000);
    await exited;
    clearTimeout(timer);
  }
}
