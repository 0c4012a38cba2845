/**
 * The dispatcher: follows the inbound log from the converter's cursor and hands contiguous
 * seq ranges of at most `batchSize` messages to the worker pool, with at most
 * `maxInFlight` ranges outstanding. A range stays outstanding until the applier has
 * committed it (not merely until a worker answered), so the results waiting to be put back
 * in order never exceed `maxInFlight × batchSize` messages: memory is bounded whatever the
 * backlog, and a slow applier slows dispatch down (backpressure).
 *
 * The log is followed up to `lastSeq()`, the highest seq durable together with every seq
 * below it, so only records that survive a crash are converted. New records are noticed by
 * {@link Dispatcher.wake} (the listener calls it after a durable append) or by polling
 * every `pollIntervalMs` while idle.
 */
import type { ConvertReply, ConvertTask } from './work.js';

/** Runs a task on a worker (Piscina's `run`). */
export type TaskRunner = (task: ConvertTask) => Promise<ConvertReply>;

/** Settings and collaborators of a {@link Dispatcher}. */
export interface DispatcherOptions {
  run: TaskRunner;
  /** Highest seq that may be converted (the log's durable prefix). */
  lastSeq: () => number;
  /** The last seq already converted: dispatch starts after it. */
  startAfter: number;
  batchSize: number;
  maxInFlight: number;
  /** Idle polling period, ms. */
  pollIntervalMs: number;
  /** Called with each worker reply, in completion order (not seq order). */
  onReply: (reply: ConvertReply) => void;
  /** A task failed (the worker threw or died): it is retried after `retryMs`. */
  onTaskError: (task: ConvertTask, error: unknown) => void;
  /** Delay before a failed task runs again, ms. Default 1000. */
  retryMs?: number;
}

/** Hands out seq ranges to the pool; see the module comment. */
export class Dispatcher {
  readonly #o: DispatcherOptions;
  /** Next seq to dispatch. */
  #next: number;
  #outstanding = 0;
  #peakOutstanding = 0;
  #running = false;
  #stopping = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #retries = new Set<ReturnType<typeof setTimeout>>();
  #pending = new Set<Promise<unknown>>();

  constructor(options: DispatcherOptions) {
    this.#o = options;
    this.#next = options.startAfter + 1;
  }

  /** Ranges dispatched and not yet released by the applier. */
  get outstanding(): number {
    return this.#outstanding;
  }

  /** Most ranges ever outstanding at once. */
  get peakOutstanding(): number {
    return this.#peakOutstanding;
  }

  /** Next seq that will be dispatched. */
  get nextSeq(): number {
    return this.#next;
  }

  start(): void {
    this.#running = true;
    this.wake();
  }

  /** Dispatches whatever there is room for now; arms the idle poll when caught up. */
  wake(): void {
    if (!this.#running || this.#stopping) return;
    const { batchSize, maxInFlight } = this.#o;
    const last = this.#o.lastSeq();
    while (this.#outstanding < maxInFlight && this.#next <= last) {
      const task: ConvertTask = { fromSeq: this.#next, toSeq: Math.min(this.#next + batchSize - 1, last) };
      this.#next = task.toSeq + 1;
      this.#outstanding++;
      if (this.#outstanding > this.#peakOutstanding) this.#peakOutstanding = this.#outstanding;
      this.#dispatch(task);
    }
    if (this.#next > last && this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.wake();
      }, this.#o.pollIntervalMs);
      this.#timer.unref();
    }
  }

  /** The applier committed `ranges` ranges: their slots are free again. */
  release(ranges = 1): void {
    this.#outstanding -= ranges;
    this.wake();
  }

  #dispatch(task: ConvertTask): void {
    const p = this.#o.run(task).then(
      (reply) => {
        if (this.#running) this.#o.onReply(reply);
      },
      (error: unknown) => {
        if (!this.#running || this.#stopping) return;
        this.#o.onTaskError(task, error);
        const t = setTimeout(() => {
          this.#retries.delete(t);
          if (this.#running) this.#dispatch(task);
        }, this.#o.retryMs ?? 1000);
        this.#retries.add(t);
      },
    );
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }

  /**
   * Stops dispatching. With `drain`, waits for the tasks running in workers and hands their
   * replies to `onReply` first; without, their replies are dropped (they are converted
   * again after a restart, since the cursor has not passed them).
   */
  async stop(drain: boolean): Promise<void> {
    this.#stopping = true;
    if (!drain) this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const t of this.#retries) clearTimeout(t);
    this.#retries.clear();
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    this.#running = false;
  }
}
