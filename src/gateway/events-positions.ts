/**
 * Durable subscribers' acknowledged positions, kept in a named database (`hub.subscribers`)
 * of the repository's LMDB environment so they survive restarts. All names are loaded at
 * start (their number is bounded); acknowledgements change memory at once and are written in
 * batches, at most every `flushMs` and on close, so a busy subscriber's acks do not each cost
 * a disk write. A crash loses at most the last `flushMs` of acks: the subscriber then sees
 * those events again (at-least-once across a crash; exactly once across a clean restart).
 */
import type { Database, RootDatabase } from 'lmdb';

/** Name of the database in the repository environment. */
export const POSITIONS_DB = 'hub.subscribers';

/** A stored position. */
interface StoredPosition {
  acked: number;
  /** ISO time of the last acknowledgement written. */
  updatedAt: string;
}

/** Acknowledged positions by durable name. */
export class PositionStore {
  readonly #db: Database<StoredPosition, string>;
  readonly #positions = new Map<string, number>();
  readonly #dirty = new Set<string>();
  readonly #flushMs: number;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(env: RootDatabase, flushMs = 500) {
    this.#db = env.openDB<StoredPosition, string>(POSITIONS_DB, { encoding: 'msgpack' });
    this.#flushMs = flushMs;
    for (const { key, value } of this.#db.getRange()) {
      if (typeof key === 'string' && Number.isSafeInteger(value?.acked)) this.#positions.set(key, value.acked);
    }
  }

  /** Number of known names. */
  get size(): number {
    return this.#positions.size;
  }

  /** The acknowledged seq of `name`, or undefined for a name never seen. */
  get(name: string): number | undefined {
    return this.#positions.get(name);
  }

  /** Known names and their acknowledged seqs. */
  entries(): IterableIterator<[string, number]> {
    return this.#positions.entries();
  }

  /** Records `name`'s acknowledged seq (creating the name); written within `flushMs`. */
  set(name: string, acked: number): void {
    if (this.#positions.get(name) === acked) return;
    this.#positions.set(name, acked);
    this.#dirty.add(name);
    if (this.#timer === undefined && !this.#closed) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        void this.flush();
      }, this.#flushMs);
      this.#timer.unref();
    }
  }

  /** Writes every pending position; resolves when they are durable. */
  flush(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#dirty.size > 0) {
      const names = [...this.#dirty];
      this.#dirty.clear();
      const updatedAt = new Date().toISOString();
      const writes = names.map((n) => this.#db.put(n, { acked: this.#positions.get(n)!, updatedAt }));
      this.#writing = this.#writing.then(() => Promise.all(writes)).then(
        () => {},
        () => {
          // A failed write is retried with the next flush.
          for (const n of names) this.#dirty.add(n);
        },
      );
    }
    return this.#writing;
  }

  /** Writes what is pending and stops the timer. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }
}
