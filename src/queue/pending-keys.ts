/**
 * The appends of the inbound log that are not durable yet, by dedup key, so that a resend
 * arriving before its original is on disk waits for the original's outcome instead of being
 * stored twice.
 *
 * Why not a `Map<string, entry>`: set and deleted once per append, a Map makes V8 rebuild
 * its hash table every few dozen appends, and once V8 pretenures those tables they fill the
 * old generation. At C = 64 that meant a mark-compact every ≈120 ms (`--trace-gc`: 38 in a
 * 5 s run against 4 without the map) and ≈8 % of durable ingest throughput. Here the keys
 * are (hash, slot) pairs in a {@link KeyTable} and the entries sit in a slot array reused
 * through a free list: nothing is allocated per append once the arrays have grown.
 */
import { KeyTable } from './dedup-index.js';
import { hashDedupKey } from './schema.js';

/** What an entry must carry: its key, its seq and the two fields this class manages. */
export interface PendingKeyed {
  readonly seq: number;
  /** The key as stored (see `storedDedupKey`). */
  readonly dedupKey: string | undefined;
  /** Its slot here, or -1 when not held. */
  pendingSlot: number;
  /** `hashDedupKey(dedupKey)` while held. */
  keyHash: number;
}

/** Pending appends by dedup key; the latest (highest seq) wins when a key is held twice. */
export class PendingKeys<T extends PendingKeyed> {
  readonly #table = new KeyTable(1024);
  readonly #slots: Array<T | undefined> = [];
  readonly #free: number[] = [];
  #probe = '';
  #found: T | undefined;
  readonly #visit = (value: number): void => {
    const e = this.#slots[value - 1];
    if (e !== undefined && e.dedupKey === this.#probe && (this.#found === undefined || e.seq > this.#found.seq)) this.#found = e;
  };

  /** Entries held. */
  get size(): number {
    return this.#table.size;
  }

  /** Holds `entry` under its key (`hash` = `hashDedupKey(entry.dedupKey)`). */
  add(entry: T, hash: number): void {
    const slot = this.#free.pop() ?? this.#slots.length;
    this.#slots[slot] = entry;
    entry.pendingSlot = slot;
    entry.keyHash = hash;
    this.#table.add(hash, slot + 1);
  }

  /** The latest held entry with `key` (`hash` = `hashDedupKey(key)`). */
  latest(key: string, hash: number = hashDedupKey(key)): T | undefined {
    this.#probe = key;
    this.#table.visit(hash, this.#visit);
    const found = this.#found;
    this.#found = undefined;
    this.#probe = '';
    return found;
  }

  /** Stops holding `entry` (no-op if not held). */
  delete(entry: T): void {
    const slot = entry.pendingSlot;
    if (slot < 0 || this.#slots[slot] !== entry) return;
    this.#table.remove(entry.keyHash, slot + 1);
    this.#slots[slot] = undefined;
    this.#free.push(slot);
    entry.pendingSlot = -1;
  }
}
