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
 * rebuilt from the records. Keys of committed records not yet in the index live in memory
 * (`recent`, looked up first); `dedupIndexedThrough` in `inbound.state`, written in the same
 * transaction as a flush, says up to which seq the index is complete, and opening the log
 * reads the records after it back into `recent`. So a record that is durable (and therefore
 * acknowledged) is always found by a later resend, before or after a crash.
 */
import type { Database, RootDatabase } from 'lmdb';
import { storedDedupKey } from './dedup.js';
import { decodeDedupEntry, encodeDedupEntry, rawOffset, receivedAtOf, recordDedupKey, StateKey } from './schema.js';
import { guardLmdbTurn, handleCommitRejection } from './storage-errors.js';

/** Longest time a committed key stays out of the index while appends continue (ms). */
export const FLUSH_INTERVAL_MS = 100;
/** Keys held in memory before a flush is due regardless of time. */
const FLUSH_MAX_KEYS = 10_000;

/** The databases the index works with. */
export interface DedupIndexStores {
  root: RootDatabase;
  records: Database<Buffer, number>;
  dedup: Database<Buffer, string>;
  state: Database<number, string>;
}

/** A key's last message: its seq and receive time. */
interface Latest {
  seq: number;
  receivedAt: number;
}

type CommitPromise = Promise<boolean>;

/** What a lookup found: the seq the key points at and whether its bytes equal the new ones. */
export interface DedupHit {
  seq: number;
  same: boolean;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}

/** The dedup index: LMDB entries plus the committed keys not flushed yet. */
export class DedupIndex {
  readonly #db: DedupIndexStores;
  readonly #windowMs: number;
  /** Committed keys not (yet known to be) in `inbound.dedup`. */
  readonly #recent = new Map<string, Latest>();
  #flushedAt = 0;
  #flushing: Promise<void> | undefined;

  constructor(db: DedupIndexStores, windowMs: number) {
    this.#db = db;
    this.#windowMs = windowMs;
    this.#replay();
  }

  /** Reads the keys of records after `dedupIndexedThrough` back into memory (at open). */
  #replay(): void {
    const from = (this.#db.state.get(StateKey.DedupIndexedThrough) ?? 0) + 1;
    for (const seq of this.#db.records.getKeys({ start: from })) {
      const record = this.#db.records.getBinaryFast(seq);
      if (record === undefined) continue;
      const key = recordDedupKey(record);
      if (key !== undefined) this.#recent.set(storedDedupKey(key), { seq, receivedAt: receivedAtOf(record) });
    }
  }

  /**
   * The committed message `key` points at, if received within the window before
   * `receivedAt`, and whether its bytes equal `raw` (compared in place in LMDB's read
   * buffer). A key whose record retention has deleted counts as absent.
   */
  find(key: string, raw: Uint8Array, receivedAt: number): DedupHit | undefined {
    let latest = this.#recent.get(key);
    if (latest === undefined) {
      const stored = this.#db.dedup.getBinaryFast(key);
      if (stored === undefined) return undefined;
      latest = decodeDedupEntry(stored);
    }
    if (receivedAt - latest.receivedAt >= this.#windowMs) return undefined;
    const record = this.#db.records.getBinaryFast(latest.seq);
    if (record === undefined) return undefined;
    return { seq: latest.seq, same: sameBytes(record.subarray(rawOffset(record), record.length), raw) };
  }

  /** Records that `key` now points at `seq` (its record has committed). */
  committed(key: string, seq: number, receivedAt: number): void {
    this.#recent.set(key, { seq, receivedAt });
  }

  /**
   * Issues a flush if one is due (called in the turn a batch is issued, so that its puts join
   * that batch's transaction). `committedThrough`: every seq up to it has committed.
   */
  maybeFlush(now: number, committedThrough: number): void {
    if (this.#flushing !== undefined || this.#recent.size === 0) return;
    if (now - this.#flushedAt < FLUSH_INTERVAL_MS && this.#recent.size < FLUSH_MAX_KEYS) return;
    this.#flushedAt = now;
    void this.flush(committedThrough);
  }

  /**
   * Writes every key held in memory and `dedupIndexedThrough = committedThrough` in one
   * transaction; once committed, forgets the keys that still point where they were written.
   * A failed flush keeps them for the next one. Concurrent calls wait for the running flush.
   */
  async flush(committedThrough: number): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing;
    if (this.#recent.size === 0) return;
    const written = [...this.#recent];
    const { dedup, state } = this.#db;
    for (const [key, latest] of written) dedup.put(key, encodeDedupEntry(latest.seq, latest.receivedAt)).catch(handleCommitRejection);
    const commit = state.put(StateKey.DedupIndexedThrough, committedThrough) as CommitPromise;
    guardLmdbTurn(this.#db.root);
    const run = (async () => {
      try {
        await commit;
      } catch (error) {
        handleCommitRejection(error);
        return;
      }
      for (const [key, latest] of written) if (this.#recent.get(key)?.seq === latest.seq) this.#recent.delete(key);
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
}
