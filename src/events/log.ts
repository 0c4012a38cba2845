/**
 * The event log (ARCHITECTURE.md stage 5): typed events in a named database (`events`) of
 * the repository's LMDB environment, so an event commits in the same transaction as the
 * repository change that caused it and the converter cursor that moved past its message.
 *
 * Writing. {@link EventLog.append} must be called inside the caller's write transaction
 * (`env.transactionSync`); it assigns the next seq (the last one + 1, seqs start at 1) and
 * `time` (wall clock: events are not part of the repository digest). The seqs handed out in
 * an open transaction are provisional: the caller reports the outcome with
 * {@link EventLog.committed} (subscribers are then told, in seq order) or
 * {@link EventLog.rolledBack} (the seqs are handed out again, so the log has no gap).
 *
 * Reading. `range(afterSeq, limit)` reads committed events in seq order; `onAppended` is
 * the hook the WebSocket gateway (a later issue) uses to push live events after the
 * backlog.
 */
import type { Database, RootDatabase } from 'lmdb';
import type { EngineEvent, NewEvent } from './types.js';

/** Name of the event log's database in the repository environment. */
export const EVENTS_DB = 'events';

/** Called after a commit with the events it made durable, in seq order. Must not throw (a throw is ignored). */
export type EventListener = (events: readonly EngineEvent[]) => void;

/** The event log. */
export interface EventLog {
  /**
   * Appends one event inside the caller's open write transaction and returns it as
   * stored. Throws if the event's `type` or `messageSeq` is not valid.
   */
  append(event: NewEvent): EngineEvent;
  /** Seq of the last committed event (0 when empty). */
  lastSeq(): number;
  /** Committed events with `seq > afterSeq`, in order, at most `limit` (default 1000). */
  range(afterSeq?: number, limit?: number): EngineEvent[];
  /** Registers a listener for committed events; returns a function that removes it. */
  onAppended(listener: EventListener): () => void;
  /** The caller's transaction committed: its events become final and listeners hear of them. */
  committed(): void;
  /** The caller's transaction was aborted: its provisional seqs are handed out again. */
  rolledBack(): void;
  /** Events appended since the last commit or rollback (not yet committed). */
  pendingCount(): number;
}

function lastKey(db: Database<unknown, number>): number {
  for (const key of db.getKeys({ reverse: true, limit: 1 })) return key;
  return 0;
}

class LmdbEventLog implements EventLog {
  readonly #db: Database<EngineEvent, number>;
  #committedSeq: number;
  #pending: EngineEvent[] = [];
  readonly #listeners = new Set<EventListener>();
  readonly #now: () => Date;

  constructor(db: Database<EngineEvent, number>, now: () => Date) {
    this.#db = db;
    this.#now = now;
    this.#committedSeq = lastKey(db);
  }

  append(event: NewEvent): EngineEvent {
    if (typeof event.type !== 'string' || (event.type as string) === '') throw new TypeError('event.type must be a non-empty string');
    if (!Number.isSafeInteger(event.messageSeq) || event.messageSeq < 0) {
      throw new RangeError('event.messageSeq must be a non-negative integer');
    }
    const stored: EngineEvent = {
      seq: this.#committedSeq + this.#pending.length + 1,
      type: event.type,
      time: this.#now().toISOString(),
      messageSeq: event.messageSeq,
      data: event.data,
    };
    // putSync inside transactionSync writes into that transaction.
    this.#db.putSync(stored.seq, stored);
    this.#pending.push(stored);
    return stored;
  }

  lastSeq(): number {
    return this.#committedSeq;
  }

  range(afterSeq = 0, limit = 1000): EngineEvent[] {
    const out: EngineEvent[] = [];
    const end = this.#committedSeq;
    if (!(limit > 0) || afterSeq >= end) return out;
    for (const { value } of this.#db.getRange({ start: Math.floor(afterSeq) + 1, end, inclusiveEnd: true, limit })) {
      out.push(value);
    }
    return out;
  }

  onAppended(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  committed(): void {
    const events = this.#pending;
    if (events.length === 0) return;
    this.#pending = [];
    this.#committedSeq += events.length;
    for (const l of this.#listeners) {
      try {
        l(events);
      } catch {
        // A listener's failure is its own: the events are committed whatever it does.
      }
    }
  }

  rolledBack(): void {
    this.#pending = [];
  }

  pendingCount(): number {
    return this.#pending.length;
  }
}

/** Options of {@link openEventLog}. */
export interface EventLogOptions {
  /** Clock for `time`. Default `() => new Date()`. */
  now?: () => Date;
}

/**
 * Opens the event log in `env` (the repository's environment), creating its database if
 * needed. One instance per environment and process: it caches the last seq.
 */
export function openEventLog(env: RootDatabase, options: EventLogOptions = {}): EventLog {
  const db = env.openDB<EngineEvent, number>(EVENTS_DB, { encoding: 'msgpack' });
  return new LmdbEventLog(db, options.now ?? (() => new Date()));
}
