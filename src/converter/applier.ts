/**
 * The applier: the single writer of the repository. It takes worker replies in any order,
 * puts them back in seq order and applies each range, strictly in that order, in ONE LMDB
 * write transaction holding, for every message of the range, its repository changes (or
 * its dead letter) and the events they cause, plus the converter cursor moved to the end
 * of the range. LMDB commits all of it or none of it, so after a crash at any instant the
 * repository, the cursor and the event log agree: conversion resumes at `cursor + 1` and no
 * change is lost or applied twice.
 *
 * A message that cannot be converted (a mapping error, or a rejection by the repository)
 * is written to the dead-letter table and announced by a `message.rejected` event; the
 * messages behind it in the same range go on. Should the range's transaction throw (a bug
 * or a storage error, not an expected rejection), it is aborted as a whole and the range is
 * applied again one message per transaction, a message that throws on its own becoming a
 * dead letter with code `INTERNAL`, so one bad message cannot stop conversion.
 *
 * Messages at or below the state's `silentThrough` mark (set by `pacslink rebuild`) are
 * applied and dead-lettered the same way but append no event: the event log stays as it
 * was, so subscribers see no duplicates.
 */
import { TransactionFlags, type RootDatabase } from 'lmdb';
import { performance } from 'node:perf_hooks';
import { EventType, type NewEvent } from '../events/types.js';
import type { EventLog } from '../events/log.js';
import { ConversionErrorCode, type Change, type ConversionError, type MappingResult, type MessageContext } from './changes.js';
import type { DeadLetterTable } from './dead-letters.js';
import type { ConverterState } from './state.js';
import type { ConvertedItem, ConvertReply } from './work.js';

/**
 * Transactions are abortable (a throw undoes all of it) and committed before
 * `transactionSync` returns. Durability: see the module comment.
 */
const TXN_FLAGS = TransactionFlags.ABORTABLE | TransactionFlags.SYNCHRONOUS_COMMIT;

/** What the applier needs from the repository (src/repository). */
export interface ApplyTarget {
  /**
   * Applies one message's changes inside the caller's write transaction, all or nothing,
   * calling `emit` for each event they cause. Deterministic.
   */
  apply(
    result: { context: Extract<MappingResult, { kind: 'changes' }>['context']; changes: Extract<MappingResult, { kind: 'changes' }>['changes'] },
    messageSeq: number,
    emit: (event: NewEvent) => void,
  ): { kind: 'applied' } | { kind: 'rejected'; error: ConversionError };
}

/**
 * A per-message hook run after the message's own events are appended, in the same
 * transaction (the workflows stage: src/workflows/derive.ts); the events it returns are
 * appended too, with the message's seq. Not run for silent messages. A throw aborts the
 * transaction like any other fault of the applier.
 */
export type DeriveEvents = (input: { context: MessageContext; changes: readonly Change[]; events: readonly NewEvent[]; messageSeq: number }) => NewEvent[];

/** The outcome of one message, as reported after commit. */
export type ItemOutcome = 'applied' | 'ignored' | 'dead-letter' | 'missing';

/** What one committed transaction did: one or more contiguous ranges. */
export interface CommittedRange {
  fromSeq: number;
  toSeq: number;
  /** Worker ranges in the transaction. */
  ranges: number;
  /** Per message: seq, outcome and message type (MSH-9.1^MSH-9.2, `''` when unknown). */
  outcomes: Array<{ seq: number; outcome: ItemOutcome; type: string }>;
  /** Events appended (none for silent messages). */
  events: number;
  /** Main-thread time spent applying and committing, ns. */
  applyNs: number;
  /** Worker time spent parsing and mapping (sum over the messages), ns. */
  mapNs: number;
  /** Worker parse time (part of `mapNs`), ns. */
  parseNs: number;
  /** True when the range had to be applied one message per transaction. */
  fallback: boolean;
}

/** Settings and collaborators of an {@link Applier}. */
export interface ApplierOptions {
  env: RootDatabase;
  repository: ApplyTarget;
  events: EventLog;
  deadLetters: DeadLetterTable;
  state: ConverterState;
  /** The cursor at start: the first range applied must begin at `startAfter + 1`. */
  startAfter: number;
  /** Clock for dead-letter times. Default `() => new Date()`. */
  now?: () => Date;
  /** Events derived from each applied message's events (workflows). Default none. */
  derive?: DeriveEvents;
  /** Most messages per transaction (whole ranges are never split). Default unlimited. */
  maxMessagesPerTransaction?: number;
  /** Called after each transaction commits (and after its events reached subscribers). */
  onCommitted: (range: CommittedRange) => void;
  /** Called when applying failed even message by message (storage failing); retried after `stallRetryMs`. */
  onStall?: (error: unknown) => void;
  /** Delay before applying again after a stall, ms. Default 1000. */
  stallRetryMs?: number;
  /** Called when a range's single transaction failed and the per-message fallback runs. */
  onFallback?: (fromSeq: number, toSeq: number, error: unknown) => void;
}

/** Reorders replies and applies them; see the module comment. */
export class Applier {
  readonly #o: ApplierOptions;
  readonly #silentThrough: number;
  readonly #now: () => Date;
  /** Replies waiting for the ranges before them, by `fromSeq`. */
  readonly #waiting = new Map<number, ConvertReply>();
  #cursor: number;
  #peakWaiting = 0;
  #scheduled = false;
  #closed = false;
  #stallTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: ApplierOptions) {
    this.#o = options;
    this.#silentThrough = options.state.silentThrough();
    this.#now = options.now ?? (() => new Date());
    this.#cursor = options.startAfter;
  }

  /** Last seq committed. */
  get cursor(): number {
    return this.#cursor;
  }

  /** Replies held back waiting for an earlier range. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** Most replies ever held back at once. */
  get peakWaiting(): number {
    return this.#peakWaiting;
  }

  /**
   * Takes one reply (in any order). Ranges that are next in line are applied on the next
   * turn of the event loop, all those ready by then in one transaction (at most
   * `maxMessagesPerTransaction`): while one transaction is being applied, the workers'
   * replies queue up, so the busier the converter the larger its transactions.
   */
  accept(reply: ConvertReply): void {
    if (reply.fromSeq <= this.#cursor) return; // already applied (cannot happen in one run)
    this.#waiting.set(reply.fromSeq, reply);
    if (this.#waiting.size > this.#peakWaiting) this.#peakWaiting = this.#waiting.size;
    if (!this.#scheduled && this.#waiting.has(this.#cursor + 1)) {
      this.#scheduled = true;
      setImmediate(() => this.#drain());
    }
  }

  /** Applies now whatever is next in line (used when stopping, not to leave it to a later turn). */
  flush(): void {
    this.#drain();
  }

  /** Stops retrying after a stall; what is not committed is converted again after a restart. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
  }

  #drain(): void {
    this.#scheduled = false;
    if (this.#closed) return;
    const max = this.#o.maxMessagesPerTransaction ?? Infinity;
    for (;;) {
      const group: ConvertReply[] = [];
      let messages = 0;
      let next: ConvertReply | undefined;
      while ((next = this.#waiting.get(this.#cursor + 1 + messages)) !== undefined) {
        if (group.length > 0 && messages + next.items.length > max) break;
        this.#waiting.delete(next.fromSeq);
        group.push(next);
        messages += next.items.length;
      }
      if (group.length === 0) return;
      try {
        this.#applyGroup(group);
      } catch (error) {
        // Even the per-message fallback failed: storage itself is failing (disk full, I/O).
        // Put back what is not committed and try again later; the stored cursor is the truth.
        this.#o.events.rolledBack();
        const persisted = this.#o.state.cursor();
        for (const r of group) {
          const items = r.items.filter((i) => i.seq > persisted);
          const head = items[0];
          if (head !== undefined) this.#waiting.set(head.seq, { ...r, fromSeq: head.seq, items });
        }
        this.#cursor = persisted;
        this.#o.onStall?.(error);
        if (!this.#scheduled && !this.#closed) {
          this.#scheduled = true;
          // Not unref'd: work is pending, so the process must stay up to finish it.
          this.#stallTimer = setTimeout(() => {
            this.#stallTimer = undefined;
            this.#drain();
          }, this.#o.stallRetryMs ?? 1000);
        }
        return;
      }
    }
  }

  #applyGroup(group: ConvertReply[]): void {
    const t0 = performance.now();
    const first = group[0]!;
    const last = group[group.length - 1]!;
    let outcomes: CommittedRange['outcomes'] = [];
    let fallback = false;
    let events = 0;
    let committed: CommittedRange['outcomes'] | undefined;
    try {
      committed = this.#o.env.transactionSync(() => {
        const out: CommittedRange['outcomes'] = [];
        for (const reply of group) for (const item of reply.items) out.push(this.#applyItem(item));
        this.#o.state.setCursor(last.toSeq);
        return out;
      }, TXN_FLAGS);
    } catch (error) {
      this.#o.events.rolledBack();
      this.#o.onFallback?.(first.fromSeq, last.toSeq, error);
      fallback = true;
      for (const reply of group) {
        for (const item of reply.items) {
          const r = this.#applyAlone(item);
          outcomes.push(r.outcome);
          events += r.events;
        }
      }
    }
    if (committed !== undefined) {
      // Outside the try: once committed, nothing may send the range to the fallback.
      outcomes = committed;
      events = this.#o.events.pendingCount();
      this.#o.events.committed();
    }
    this.#cursor = last.toSeq;
    let mapNs = 0;
    let parseNs = 0;
    for (const reply of group) {
      parseNs += reply.parseNs;
      for (const item of reply.items) mapNs += item.ns;
    }
    this.#o.onCommitted({
      fromSeq: first.fromSeq,
      toSeq: last.toSeq,
      ranges: group.length,
      outcomes,
      events,
      applyNs: Math.round((performance.now() - t0) * 1e6),
      mapNs,
      parseNs,
      fallback,
    });
  }

  /**
   * Applies one message again outside the cursor's order (`pacslink reprocess`): in its own
   * transaction, without moving the cursor; on success its dead letter is removed, on
   * failure it is updated (attempts + 1). Events are appended as in the live run.
   */
  reapply(item: ConvertedItem): ItemOutcome {
    const { env, events } = this.#o;
    let o: CommittedRange['outcomes'][number];
    try {
      o = env.transactionSync(() => this.#applyItem(item, true), TXN_FLAGS);
    } catch (error) {
      events.rolledBack();
      const internal = applyFailure(error);
      env.transactionSync(() => this.#deadLetter(item.seq, internal, item.messageType ?? typeOf(item), item.controlId ?? controlIdOf(item), true));
      events.committed();
      return 'dead-letter';
    }
    events.committed();
    return o.outcome;
  }

  /** One message in its own transaction; a throw turns it into an `INTERNAL` dead letter. */
  #applyAlone(item: ConvertedItem): { outcome: CommittedRange['outcomes'][number]; events: number } {
    const { env, state, events } = this.#o;
    let outcome: CommittedRange['outcomes'][number] | undefined;
    try {
      outcome = env.transactionSync(() => {
        const o = this.#applyItem(item);
        state.setCursor(item.seq);
        return o;
      }, TXN_FLAGS);
    } catch (error) {
      events.rolledBack();
      const internal = applyFailure(error);
      const type = typeOf(item);
      env.transactionSync(() => {
        this.#deadLetter(item.seq, internal, item.messageType ?? type, item.controlId ?? controlIdOf(item), item.seq > this.#silentThrough);
        state.setCursor(item.seq);
      });
      const n = events.pendingCount();
      events.committed();
      return { outcome: { seq: item.seq, outcome: 'dead-letter', type }, events: n };
    }
    const n = events.pendingCount();
    events.committed();
    return { outcome, events: n };
  }

  /** Applies one message inside the open transaction. */
  #applyItem(item: ConvertedItem, loud = false): CommittedRange['outcomes'][number] {
    const silent = !loud && item.seq <= this.#silentThrough;
    const r = item.result;
    const type = typeOf(item);
    if (r.kind === 'missing') return { seq: item.seq, outcome: 'missing', type };
    if (r.kind === 'error') {
      this.#deadLetter(item.seq, r.error, item.messageType ?? '', item.controlId ?? '', !silent);
      return { seq: item.seq, outcome: 'dead-letter', type };
    }
    const emitted: NewEvent[] = [];
    const applied = this.#o.repository.apply({ context: r.context, changes: r.changes }, item.seq, (e) => emitted.push(e));
    if (applied.kind === 'rejected') {
      this.#deadLetter(item.seq, applied.error, type, r.context.controlId, !silent);
      return { seq: item.seq, outcome: 'dead-letter', type };
    }
    if (!silent) {
      for (const e of emitted) this.#o.events.append(e);
      const derived = this.#o.derive?.({ context: r.context, changes: r.changes, events: emitted, messageSeq: item.seq }) ?? [];
      for (const e of derived) this.#o.events.append(e);
    }
    // A message converted after all (reprocess) leaves the table.
    if (this.#o.deadLetters.get(item.seq) !== undefined) this.#o.deadLetters.remove(item.seq);
    return { seq: item.seq, outcome: r.changes.length === 0 ? 'ignored' : 'applied', type };
  }

  #deadLetter(seq: number, error: ConversionError, messageType: string, controlId: string, loud: boolean): void {
    const letter = this.#o.deadLetters.put(seq, error, { messageType, controlId }, this.#now());
    if (loud) this.#o.events.append({ type: EventType.MessageRejected, messageSeq: seq, data: { deadLetter: letter } });
  }
}

function typeOf(item: ConvertedItem): string {
  const r = item.result;
  if (r.kind === 'changes') return `${r.context.messageCode}^${r.context.triggerEvent}`;
  if (item.messageType === undefined) return '';
  // MSH-9.1^MSH-9.2 of the wire form (its component separator is its first non-letter).
  const m = /^([A-Za-z0-9]*)([^A-Za-z0-9])?([A-Za-z0-9]*)/.exec(item.messageType);
  return m === null ? '' : m[3] !== '' ? `${m[1]}^${m[3]}` : (m[1] ?? '');
}

function controlIdOf(item: ConvertedItem): string {
  return item.result.kind === 'changes' ? item.result.context.controlId : '';
}

/** The dead-letter error for a message whose apply threw (an engine fault, not the message's). */
function applyFailure(error: unknown): ConversionError {
  return {
    code: ConversionErrorCode.Internal,
    errCode: 207,
    message: `applying the message failed: ${(error as Error).message ?? String(error)}`,
  };
}
