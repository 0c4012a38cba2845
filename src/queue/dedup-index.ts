/**
 * The dedup index of the inbound log: `inbound.dedup-hash` on disk (schema.ts) plus the keys
 * committed since its last merge, held in memory.
 *
 * Why in memory first: dedup keys are spread over the whole key space (one sender's control
 * ids, many senders), so each key written to a B-tree dirties its own leaf page. A merge
 * costs per page it touches more than per key, so merges are rare and large: when
 * {@link DedupIndexTuning.flushKeys} keys (default 262 144; 16 bytes each in memory) are
 * held, or {@link DedupIndexTuning.flushIntervalMs} (default 10 s) after the last merge.
 * (Measured, lmdb-js, uint32 keys into an index of 2 M: ≈5 µs per key in batches of 3 000,
 * ≈1.8 µs in batches of 131 072 in hash order.)
 *
 * Why it is still exact: a record's header holds its dedup key, so the index can always be
 * rebuilt from the records. `dedupIndexedThrough` in `inbound.state`, written in the same
 * transaction as a merge's last slice, says up to which seq the index is complete; the
 * records after it are the only ones a lookup must find elsewhere, and opening the log reads
 * them back (≈1.1 s for 262 000 records after a crash). So a record that is durable (and
 * therefore acknowledged) is always found by a later resend, before or after a crash.
 *
 * Why hashes: the index is keyed by the 32-bit hash of the key ({@link hashDedupKey}), and
 * memory holds (hash, seq) pairs in typed arrays ({@link KeyTable}), never the key strings.
 * A merge writes the pairs it was given without reading a record back, except where a hash
 * is already in the index (dedup-entries.ts). Every hit, in memory or on disk, is confirmed
 * against the key in the record's own header, so a hash collision is never taken for a
 * duplicate and never hides one (the index keeps a seq per distinct key under a hash).
 *
 * Why a worker thread and a filter: a merge of 262 144 keys takes ≈200–250 ms of CPU. The
 * worker (dedup-flush-worker.ts) does it while the main thread, which frames, stores and
 * acknowledges messages, goes on, in slices that free LMDB's write lock between them for the
 * log's commits. The worker also builds a filter of the indexed hashes (hash-filter.ts) that
 * spares the main thread the LMDB lookup of nearly every new key. With both, duplicate
 * detection at C = 64 costs nothing measurable in 5 s runs (no merge runs) and ≈5 % in 30 s
 * runs, against the same runs with `dedupWindowMs: 0` (bench/ingest.bench.ts shows both
 * rows); the index keyed by key strings and written every 100 ms cost ≈20 %.
 */
import type { Database, RootDatabase } from 'lmdb';
import { Worker } from 'node:worker_threads';
import { recordStoredDedupKey } from './dedup.js';
import { decodeSeqs, dedupMergeSlices, type DedupMergeStores } from './dedup-entries.js';
import type { DedupFlushReply, DedupFlushRequest, DedupFlushWorkerData } from './dedup-flush-worker.js';
import { HashFilter } from './hash-filter.js';
import { hashDedupKey, rawOffset, receivedAtOf, StateKey } from './schema.js';
import { guardLmdbTurn, handleCommitRejection } from './storage-errors.js';

/** When the keys held in memory are merged into the index on disk. */
export interface DedupIndexTuning {
  /** Longest time (ms) committed keys stay in memory only while appends continue. */
  flushIntervalMs: number;
  /** Keys held in memory before a merge is due regardless of time. */
  flushKeys: number;
}
/** Slots of a new {@link KeyTable} (a power of two); it doubles when half full. */
const TABLE_SLOTS = 1 << 14;

/** The databases the index works with. */
export interface DedupIndexStores {
  root: RootDatabase;
  records: Database<Buffer, number>;
  dedup: Database<Buffer, number>;
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

  /** Copies the table's (hash, value) pairs into `into` from index `at`; returns the index after them. */
  copyPairs(into: Uint32Array, at: number): number {
    const slots = this.#slots;
    for (let i = 0; i < slots.length; i += 2) {
      if (slots[i + 1] === 0) continue;
      into[at++] = slots[i]!;
      into[at++] = slots[i + 1]!;
    }
    return at;
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

/** The dedup index: `inbound.dedup-hash` plus the committed keys not merged into it yet. */
export class DedupIndex {
  readonly #db: DedupIndexStores;
  readonly #windowMs: number;
  readonly #tuning: DedupIndexTuning;
  /** The log's highest committed seq (every seq below it has committed or failed for good). */
  readonly #committedSeq: () => number;
  /** Committed keys not yet in `inbound.dedup-hash`, oldest table first; appends go to the last. */
  readonly #tables: KeyTable[] = [new KeyTable()];
  #spare: KeyTable | undefined;
  /** Every record up to this seq has its key in `inbound.dedup-hash` (`dedupIndexedThrough`). */
  #indexedThrough: number;
  #flushedAt: number;
  #flushing: Promise<void> | undefined;
  /** The key being looked up, for {@link DedupIndex.#confirm}. */
  #probe = '';
  readonly #confirm = (seq: number): boolean => this.#keyOf(seq) === this.#probe;
  /** The environment's path, for the flush worker; without it flushes run in this thread. */
  readonly #path: string | undefined;
  /** Which hashes may be in `inbound.dedup-hash` (hash-filter.ts); complete at open when the index is empty, else once the flush worker has scanned it. */
  readonly #filter: HashFilter | undefined;
  /** What a merge in this thread writes: the databases and the filter. */
  readonly #mergeStores: DedupMergeStores;
  #worker: Worker | undefined;
  /** Set once the worker could not start or died: flushes run in this thread from then on. */
  #workerFailed = false;
  #closing = false;
  #reply: { resolve: () => void; reject: (error: Error) => void } | undefined;

  constructor(db: DedupIndexStores, windowMs: number, committedSeq: () => number, tuning: DedupIndexTuning, path?: string) {
    this.#db = db;
    this.#windowMs = windowMs;
    this.#tuning = tuning;
    this.#committedSeq = committedSeq;
    this.#path = path;
    this.#filter = path === undefined ? undefined : new HashFilter();
    this.#mergeStores = { ...db, filter: this.#filter };
    this.#indexedThrough = db.state.get(StateKey.DedupIndexedThrough) ?? 0;
    // An empty index needs no scan: its filter is complete as it is, and every merge from
    // here on (the replay's too) sets the bits of what it writes. A new log's lookups then
    // skip LMDB from the first message instead of from the first merge.
    const empty = db.dedup.getKeysCount({ limit: 1 }) === 0;
    this.#replay();
    if (empty) this.#filter?.markReady();
    this.#flushedAt = performance.now();
  }

  /** Committed keys held in memory, not yet merged into `inbound.dedup-hash`. */
  get unflushed(): number {
    let n = 0;
    for (const t of this.#tables) n += t.size;
    return n;
  }

  /** Whether lookups can skip LMDB for hashes not in the index (the index opened empty, or the flush worker has scanned it). */
  get filterReady(): boolean {
    return this.#filter?.ready ?? false;
  }

  /**
   * Reads the keys of records after `dedupIndexedThrough` back into memory (at open), merging
   * them into the index whenever {@link DedupIndexTuning.flushKeys} are held, so that memory
   * stays bounded however many records there are (the first open after the index was
   * dropped reads every record).
   */
  #replay(): void {
    const table = this.#tables[0]!;
    let last = this.#indexedThrough;
    for (;;) {
      // Read in slices, so that no iterator is open across a merge's write transaction.
      const seqs = [...this.#db.records.getKeys({ start: last + 1, limit: this.#tuning.flushKeys })];
      if (seqs.length === 0) return;
      for (const seq of seqs) {
        const key = this.#keyOf(seq);
        if (key !== undefined) table.add(hashDedupKey(key), seq);
      }
      last = seqs[seqs.length - 1]!;
      if (table.size >= this.#tuning.flushKeys) this.#mergeNow(last);
    }
  }

  /** Merges what is held, synchronously in this thread (at open only). */
  #mergeNow(through: number): void {
    const pairs = this.#pairs(this.#tables.length);
    // One transaction: nothing else writes while the log opens.
    this.#db.root.transactionSync(() => {
      for (const slice of dedupMergeSlices(this.#mergeStores, pairs, through)) slice();
    });
    this.#indexedThrough = through;
    for (const table of this.#tables) table.clear();
  }

  /** The (hash, seq) pairs of the first `count` tables, flat. */
  #pairs(count: number): Uint32Array {
    let n = 0;
    for (let i = 0; i < count; i++) n += this.#tables[i]!.size;
    const pairs = new Uint32Array(2 * n);
    let at = 0;
    for (let i = 0; i < count; i++) at = this.#tables[i]!.copyPairs(pairs, at);
    return pairs;
  }

  /** The stored dedup key of record `seq`, if it exists and has one. */
  #keyOf(seq: number): string | undefined {
    const record = this.#db.records.getBinaryFast(seq);
    return record === undefined ? undefined : recordStoredDedupKey(record);
  }

  /**
   * The committed message `key` (as stored: `storedDedupKey`; `hash` its `hashDedupKey`,
   * which the caller has already computed) points at, if received within the window before
   * `receivedAt`, and whether its bytes equal `raw` (compared in place in LMDB's read
   * buffer). A key whose record retention has deleted counts as absent.
   */
  find(key: string, hash: number, raw: Uint8Array, receivedAt: number): DedupHit | undefined {
    this.#probe = key;
    let seq = 0;
    // Newest table first: the first table holding the key holds its latest seq.
    for (let i = this.#tables.length - 1; i >= 0 && seq === 0; i--) seq = this.#tables[i]!.latest(hash, this.#confirm);
    if (seq === 0 && (this.#filter === undefined || this.#filter.mayHave(hash))) {
      const stored = this.#db.dedup.getBinaryFast(hash);
      if (stored !== undefined) {
        // Read before confirming: each confirmation reuses LMDB's read buffer.
        if (stored.length === 4) {
          const only = stored.readUInt32LE(0);
          if (this.#confirm(only)) seq = only;
        } else {
          for (const s of decodeSeqs(stored)) if (s > seq && this.#confirm(s)) seq = s;
        }
      }
    }
    this.#probe = '';
    if (seq === 0) return undefined;
    const record = this.#db.records.getBinaryFast(seq);
    if (record === undefined) return undefined;
    if (receivedAt - receivedAtOf(record) >= this.#windowMs) return undefined;
    return { seq, same: sameBytes(record.subarray(rawOffset(record), record.length), raw) };
  }

  /** Records that the key with hash `hash` (`hashDedupKey`) now points at `seq` (its record has committed). */
  committed(hash: number, seq: number): void {
    this.#tables[this.#tables.length - 1]!.add(hash, seq);
  }

  /** Starts a merge if one is due (see {@link DedupIndexTuning}). */
  maybeFlush(now: number): void {
    if (this.#flushing !== undefined) return;
    const held = this.unflushed;
    if (held === 0) return;
    if (now - this.#flushedAt < this.#tuning.flushIntervalMs && held < this.#tuning.flushKeys) return;
    this.#flushedAt = now;
    void this.flush();
  }

  /**
   * Merges the (hash, seq) pairs of every committed record after `dedupIndexedThrough` into
   * the index, in slices of `MERGE_SLICE` pairs, the last with the new `dedupIndexedThrough`
   * (dedup-entries.ts); once that has committed, forgets the pairs it covered. The work runs
   * in the flush worker unless `inThisThread` (or no worker can run). A failed flush keeps
   * the pairs for the next one. Concurrent calls wait for the running flush.
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
    const run = (async () => {
      try {
        await this.#write(this.#pairs(sealed), through, inThisThread);
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

  /** Merges `pairs` and marks the index complete through `through`: in the flush worker if it runs. */
  async #write(pairs: Uint32Array, through: number, inThisThread: boolean): Promise<void> {
    const worker = inThisThread ? undefined : this.#flushWorker();
    if (worker === undefined) {
      const { root } = this.#db;
      for (const slice of dedupMergeSlices(this.#mergeStores, pairs, through)) {
        const commit = root.transaction(slice);
        guardLmdbTurn(root);
        await commit;
      }
      return;
    }
    return new Promise<void>((resolve, reject) => {
      this.#reply = { resolve, reject };
      worker.postMessage({ pairs, through } satisfies DedupFlushRequest, [pairs.buffer as ArrayBuffer]);
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
        workerData: { path: this.#path, filter: this.#filter!.memory } satisfies DedupFlushWorkerData,
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
