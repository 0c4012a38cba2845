/**
 * The converter (ARCHITECTURE.md stage 3): a {@link Dispatcher} that follows the inbound
 * log and hands seq ranges to a Piscina pool of workers (worker.ts: read in place, parse,
 * map), and an {@link Applier} that puts the results back in seq order and commits each
 * range in one transaction with its events and the cursor.
 *
 * After each commit the position is mirrored into the inbound log's `converter` cursor, so
 * retention may delete converted records (the repository's own cursor in `conv.state` is
 * the authority; the mirror may lag behind it, never run ahead). Callers waiting for a seq
 * ({@link Converter.waitFor}, used by listeners with `ackOn: "apply"`) learn its outcome.
 */
import { Piscina } from 'piscina';
import type { RootDatabase } from 'lmdb';
import type { EventLog } from '../events/log.js';
import type { Logger } from '../log.js';
import { Hl7Message } from '../hl7/index.js';
import type { InboundLog } from '../queue/types.js';
import { Applier, type ApplyTarget, type CommittedRange, type DeriveEvents } from './applier.js';
import type { ConversionError } from './changes.js';
import { errorOf, openDeadLetters, type DeadLetter, type DeadLetterTable } from './dead-letters.js';
import { Dispatcher, type TaskRunner } from './dispatcher.js';
import { mapBytes, type MappingOptions } from './map/index.js';
import { openConverterState, type ConverterState } from './state.js';
import type { ConvertReply, ConvertTask, WorkerConfig } from './work.js';
import type { PoolStats } from '../metrics.js';

/** Name of the converter's cursor in the inbound log. */
export const CONVERTER_CURSOR = 'converter';

/** Converter settings (the engine's `converter` configuration section). */
export interface ConverterSettings {
  /** Worker threads. */
  workers: number;
  /** Messages per task and per applied transaction. */
  batchSize: number;
  /** Ranges dispatched and not yet committed, at most. */
  maxInFlightBatches: number;
  /** Idle polling period of the log, ms. */
  pollIntervalMs: number;
}

/** What the converter is built from. */
export interface ConverterDeps {
  /** The inbound log (read: `lastSeq`, `firstSeq`, `get` for reprocessing; written: the `converter` cursor). */
  log: Pick<InboundLog, 'lastSeq' | 'firstSeq' | 'setCursor'> & Partial<Pick<InboundLog, 'get'>>;
  /** Directory of the inbound log's LMDB environment, opened read-only by the workers. */
  inboundPath: string;
  /** The repository: its environment and its `apply`. */
  repository: ApplyTarget & { env: RootDatabase };
  events: EventLog;
  /** Resolved mapping options, handed to the workers. */
  mapping: unknown;
  logger: Logger;
  /** Mirror the position into the inbound log's cursor (default true). */
  mirrorCursor?: boolean;
  /** Called after each committed range (metrics). */
  onCommitted?: (range: CommittedRange) => void;
  /** Events derived from each applied message's (the workflows' hook). */
  derive?: DeriveEvents;
  /** Replaces the Piscina pool (tests). */
  run?: TaskRunner;
  /**
   * Delay before a failed task (a worker that threw or died) runs again, and before applying
   * again after the repository could not be written, ms. Default 1000.
   */
  retryMs?: number;
}

/** The outcome of a message's conversion, as {@link Converter.waitFor} reports it. */
export type ConversionOutcome =
  | { kind: 'applied' }
  | { kind: 'dead-letter'; error: ConversionError }
  /** The converter stopped before reaching the message. */
  | { kind: 'unavailable' };

/**
 * The outcome of {@link Converter.reprocess}: `converted` (applied, or ignored as a message
 * with nothing to change; the dead letter is gone), `dead-letter` (failed again: the entry
 * now holds the new reason and attempts + 1), `not-dead-lettered` (no such dead letter),
 * `gone` (the message left the inbound log through retention), `unavailable` (stopping, or
 * the log cannot be read).
 */
export type ReprocessOutcome =
  | { kind: 'converted'; outcome: 'applied' | 'ignored' }
  | { kind: 'dead-letter'; deadLetter: DeadLetter }
  | { kind: 'not-dead-lettered' }
  | { kind: 'gone' }
  | { kind: 'unavailable' };

/** Counters of a running converter. */
export interface ConverterStats {
  /** Last seq converted. */
  position: number;
  /** The log's last durable seq. */
  lastSeq: number;
  applied: number;
  ignored: number;
  deadLettered: number;
  missing: number;
  events: number;
  /** Worker ranges applied. */
  ranges: number;
  /** Applier transactions committed (each holds one or more ranges). */
  transactions: number;
  fallbacks: number;
  /** Main-thread apply + commit time, ns (sum). */
  applyNs: number;
  /** Worker parse + map time, ns (sum). */
  mapNs: number;
  /** Worker parse time (part of `mapNs`), ns (sum). */
  parseNs: number;
  inFlight: number;
  peakInFlight: number;
  peakWaiting: number;
}

type Waiter = (outcome: ConversionOutcome) => void;

/** A running converter. */
export class Converter {
  readonly deadLetters: DeadLetterTable;
  readonly state: ConverterState;
  readonly #deps: ConverterDeps;
  readonly #pool: Piscina<ConvertTask, ConvertReply> | undefined;
  readonly #dispatcher: Dispatcher;
  readonly #applier: Applier;
  readonly #waiters = new Map<number, Waiter[]>();
  readonly #idle: Array<{ seq: number; resolve: () => void }> = [];
  readonly #stats: ConverterStats;
  #mirroring: Promise<void> | undefined;
  /** The last reprocess queued: each one runs after the one before it. */
  #reprocessing: Promise<unknown> = Promise.resolve();
  #mirrorNext = -1;
  #reprocessParser: Hl7Message | undefined;
  #stopped: Promise<void> | undefined;

  constructor(settings: ConverterSettings, deps: ConverterDeps) {
    this.#deps = deps;
    const env = deps.repository.env;
    this.deadLetters = openDeadLetters(env);
    this.state = openConverterState(env);
    // Records below the log's first seq are gone (retention): start at the first one stored,
    // or after the last one when retention has emptied the log.
    const first = deps.log.firstSeq();
    const start = Math.max(this.state.cursor(), first > 0 ? first - 1 : deps.log.lastSeq());
    let run = deps.run;
    if (run === undefined) {
      const workerData: WorkerConfig = { inboundPath: deps.inboundPath, mapping: deps.mapping };
      const pool = new Piscina<ConvertTask, ConvertReply>({
        filename: new URL('./worker-entry.cjs', import.meta.url).href,
        minThreads: settings.workers,
        maxThreads: settings.workers,
        // The dispatcher never has more than maxInFlightBatches tasks out; the queue only
        // holds those not yet picked up by a worker.
        maxQueue: settings.maxInFlightBatches,
        idleTimeout: 60_000,
        workerData,
      });
      this.#pool = pool;
      run = (task) => pool.run(task);
    }
    this.#stats = {
      position: start,
      lastSeq: deps.log.lastSeq(),
      applied: 0,
      ignored: 0,
      deadLettered: 0,
      missing: 0,
      events: 0,
      ranges: 0,
      transactions: 0,
      fallbacks: 0,
      applyNs: 0,
      mapNs: 0,
      parseNs: 0,
      inFlight: 0,
      peakInFlight: 0,
      peakWaiting: 0,
    };
    this.#applier = new Applier({
      env,
      repository: deps.repository,
      events: deps.events,
      deadLetters: this.deadLetters,
      state: this.state,
      startAfter: start,
      maxMessagesPerTransaction: settings.batchSize * settings.maxInFlightBatches,
      ...(deps.derive !== undefined ? { derive: deps.derive } : {}),
      ...(deps.retryMs !== undefined ? { stallRetryMs: deps.retryMs } : {}),
      onCommitted: (range) => this.#onCommitted(range),
      onStall: (error) =>
        deps.logger.error('converter cannot write the repository; retrying', { error: (error as Error).message ?? String(error) }),
      onFallback: (fromSeq, toSeq, error) =>
        deps.logger.error('converter range failed; applying it message by message', {
          fromSeq,
          toSeq,
          error: (error as Error).message ?? String(error),
        }),
    });
    this.#dispatcher = new Dispatcher({
      run,
      lastSeq: () => deps.log.lastSeq(),
      startAfter: start,
      batchSize: settings.batchSize,
      maxInFlight: settings.maxInFlightBatches,
      pollIntervalMs: settings.pollIntervalMs,
      onReply: (reply) => this.#applier.accept(reply),
      ...(deps.retryMs !== undefined ? { retryMs: deps.retryMs } : {}),
      onTaskError: (task, error) =>
        deps.logger.error('converter task failed; retrying', {
          fromSeq: task.fromSeq,
          toSeq: task.toSeq,
          error: (error as Error).message ?? String(error),
        }),
    });
    this.#dispatcher.start();
  }

  /** Last seq converted (applied or dead-lettered). */
  position(): number {
    return this.#applier.cursor;
  }

  /** A snapshot of the counters. */
  stats(): ConverterStats {
    return {
      ...this.#stats,
      position: this.#applier.cursor,
      lastSeq: this.#deps.log.lastSeq(),
      inFlight: this.#dispatcher.outstanding,
      peakInFlight: this.#dispatcher.peakOutstanding,
      peakWaiting: this.#applier.peakWaiting,
    };
  }

  /**
   * The worker pool's state for the metrics (read on scrape): threads, tasks queued for a
   * worker, Piscina's utilisation estimate, ranges in flight. Undefined without a pool
   * (a runner injected by tests).
   */
  poolStats(): PoolStats | undefined {
    const pool = this.#pool;
    if (pool === undefined) return undefined;
    return {
      threads: pool.threads.length,
      queueSize: pool.queueSize,
      utilization: pool.utilization,
      inFlight: this.#dispatcher.outstanding,
    };
  }

  /** Tells the converter the log has grown (saves waiting for the next poll). */
  wake(): void {
    this.#dispatcher.wake();
  }

  /**
   * The conversion outcome of inbound `seq` once it is committed: `applied`, or
   * `dead-letter` with its error while the message stays in the dead-letter table (so a
   * duplicate asking again gets the stored outcome, and AA once reprocessed).
   */
  waitFor(seq: number): Promise<ConversionOutcome> {
    if (seq <= this.#applier.cursor) return Promise.resolve(this.#outcomeOf(seq));
    if (this.#stopped !== undefined) return Promise.resolve({ kind: 'unavailable' });
    return new Promise((resolve) => {
      const list = this.#waiters.get(seq);
      if (list === undefined) this.#waiters.set(seq, [resolve]);
      else list.push(resolve);
      this.#dispatcher.wake();
    });
  }

  /** Resolves once everything up to `seq` (default: the log's last seq now) is converted. */
  idle(seq: number = this.#deps.log.lastSeq()): Promise<void> {
    if (seq <= this.#applier.cursor) return Promise.resolve();
    return new Promise((resolve) => {
      this.#idle.push({ seq, resolve });
      this.#dispatcher.wake();
    });
  }

  /**
   * Converts dead letter `seq` again (`POST /api/dead-letters/{seq}/reprocess`) through this
   * converter's applier, the repository's single writer, as `pacslink reprocess` does on a
   * stopped engine: mapped with the current options, applied in its own transaction without
   * moving the cursor, events appended as in the live run.
   *
   * Calls are queued one behind the other, and each waits for the ranges in flight when its
   * turn comes (dispatched to the workers, at most `maxInFlightBatches`) to be committed, then
   * runs in a turn of its own, so it never interleaves with a range's transaction and comes
   * after every message the converter had started on. The message's bytes are parsed on the
   * main thread (one message).
   */
  reprocess(seq: number): Promise<ReprocessOutcome> {
    const run = this.#reprocessing
      .then(() => (this.#stopped === undefined ? this.idle(this.#dispatcher.nextSeq - 1) : undefined))
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(() => this.#reprocessNow(seq));
    this.#reprocessing = run.catch(() => undefined);
    return run;
  }

  #reprocessNow(seq: number): ReprocessOutcome {
    if (this.#stopped !== undefined) return { kind: 'unavailable' };
    if (this.deadLetters.get(seq) === undefined) return { kind: 'not-dead-lettered' };
    const read = this.#deps.log.get;
    if (read === undefined) return { kind: 'unavailable' };
    const record = read.call(this.#deps.log, seq);
    if (record === undefined) return { kind: 'gone' };
    this.#applier.flush();
    this.#reprocessParser ??= new Hl7Message();
    const result = mapBytes(record.raw, this.#deps.mapping as MappingOptions, this.#reprocessParser);
    const outcome = this.#applier.reapply({ seq, result, ns: 0, messageType: record.messageType, controlId: record.controlId });
    if (outcome === 'dead-letter') {
      const letter = this.deadLetters.get(seq);
      if (letter === undefined) throw new Error(`reprocess of ${seq} failed without a dead letter`);
      return { kind: 'dead-letter', deadLetter: letter };
    }
    if (outcome === 'missing') return { kind: 'gone' };
    return { kind: 'converted', outcome };
  }

  /**
   * Stops: no new ranges are dispatched, the ranges running in workers are finished and
   * applied, the pool is closed, the cursor mirror is written. Waiters for later seqs get
   * `unavailable`. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      await this.#dispatcher.stop(true);
      this.#applier.flush();
      this.#applier.close();
      await this.#pool?.close({ force: false }).catch(() => this.#pool?.destroy());
      for (const [, list] of this.#waiters) for (const w of list) w({ kind: 'unavailable' });
      this.#waiters.clear();
      for (const i of this.#idle.splice(0)) i.resolve();
      while (this.#mirroring !== undefined) await this.#mirroring;
    })();
    return this.#stopped;
  }

  #outcomeOf(seq: number): ConversionOutcome {
    const letter = this.deadLetters.get(seq);
    return letter === undefined ? { kind: 'applied' } : { kind: 'dead-letter', error: errorOf(letter) };
  }

  #onCommitted(range: CommittedRange): void {
    const s = this.#stats;
    s.ranges += range.ranges;
    s.transactions++;
    if (range.fallback) s.fallbacks++;
    s.events += range.events;
    s.applyNs += range.applyNs;
    s.mapNs += range.mapNs;
    s.parseNs += range.parseNs;
    for (const o of range.outcomes) {
      if (o.outcome === 'applied') s.applied++;
      else if (o.outcome === 'ignored') s.ignored++;
      else if (o.outcome === 'dead-letter') s.deadLettered++;
      else s.missing++;
    }
    this.#deps.onCommitted?.(range);
    if (this.#waiters.size > 0) {
      for (const o of range.outcomes) {
        const list = this.#waiters.get(o.seq);
        if (list === undefined) continue;
        this.#waiters.delete(o.seq);
        const outcome = this.#outcomeOf(o.seq);
        for (const w of list) w(outcome);
      }
    }
    if (this.#idle.length > 0) {
      for (let i = this.#idle.length - 1; i >= 0; i--) {
        const entry = this.#idle[i]!;
        if (entry.seq <= range.toSeq) {
          this.#idle.splice(i, 1);
          entry.resolve();
        }
      }
    }
    if (this.#deps.mirrorCursor ?? true) this.#mirror(range.toSeq);
    this.#dispatcher.release(range.ranges);
  }

  /** Writes the inbound log's cursor, one write at a time, always the latest position. */
  #mirror(seq: number): void {
    this.#mirrorNext = seq;
    if (this.#mirroring !== undefined) return;
    this.#mirroring = (async () => {
      while (this.#mirrorNext >= 0) {
        const next = this.#mirrorNext;
        this.#mirrorNext = -1;
        try {
          await this.#deps.log.setCursor(CONVERTER_CURSOR, next);
        } catch (error) {
          this.#deps.logger.warn('could not mirror the converter cursor into the inbound log', {
            seq: next,
            error: (error as Error).message ?? String(error),
          });
        }
      }
      this.#mirroring = undefined;
    })();
  }
}
