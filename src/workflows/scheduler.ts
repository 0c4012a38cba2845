/**
 * The daily pre-fetch scheduler: fires the run of each local day at `daily.time` in the
 * configured time zone, for the date `daysAhead` later.
 *
 * Restart rules, from the last day recorded as done (state.ts, written in the run's own
 * transaction):
 * - a day is run at most once: its run and its "done" mark commit together;
 * - no day is skipped: at start, and at each wake-up, every day after the last one done
 *   whose run time has passed is run, oldest first (an engine down over a weekend runs
 *   Saturday's and Sunday's runs on Monday morning, in that order);
 * - with no day done yet (first start), today's run happens if its time has passed.
 *
 * Timers are at most an hour long and every wake-up recomputes from the clock, so clock
 * changes and daylight-saving days (a `02:30` run on a spring-forward night fires at 03:30;
 * on a fall-back night, the first 02:30) are handled. The clock and the timers are
 * injectable for tests.
 */
import { addDays, localDate, localToEpoch } from './local-time.js';
import type { DailyPrefetch } from './daily.js';
import type { PrefetchOptions } from './options.js';
import type { WorkflowsState } from './state.js';
import type { PrefetchRunResult } from './types.js';

/** The clock and timers a scheduler uses. */
export interface SchedulerClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock; timers are unref'd (the scheduler never keeps the process alive). */
export const systemClock: SchedulerClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** What a {@link DailyScheduler} needs. */
export interface DailySchedulerDeps {
  daily: DailyPrefetch;
  state: WorkflowsState;
  options: PrefetchOptions;
  clock?: SchedulerClock;
  /** Awaited before each run (the engine waits for the converter to catch up with the inbound log). */
  beforeRun?: () => Promise<void>;
  /** Told of each run, or of a run that failed (it is tried again at the next wake-up). */
  onRun?: (day: string, outcome: { result: PrefetchRunResult } | { error: unknown }) => void;
}

const MAX_SLEEP_MS = 3_600_000;
const RETRY_MS = 60_000;

/** Fires the daily runs; see the module comment. */
export class DailyScheduler {
  readonly #d: DailySchedulerDeps;
  readonly #clock: SchedulerClock;
  #timer: unknown;
  #running: Promise<PrefetchRunResult[]> | undefined;
  #stopped = true;

  constructor(deps: DailySchedulerDeps) {
    this.#d = deps;
    this.#clock = deps.clock ?? systemClock;
  }

  /** The days whose run is due now (after the last one done, run time passed), oldest first. */
  dueDays(): string[] {
    const { time } = this.#d.options.daily;
    const tz = this.#d.options.timeZone;
    const now = this.#clock.now();
    const today = localDate(now, tz);
    const last = this.#d.state.lastDailyDay();
    const out: string[] = [];
    let day = last === undefined ? today : addDays(last, 1);
    // A last day in the future (the clock went back) leaves nothing due until today passes it.
    while (day <= today) {
      if (localToEpoch(day, time, tz) <= now) out.push(day);
      day = addDays(day, 1);
    }
    return out;
  }

  /** The instant of the next run: now when a run is overdue (one failed), else the next day's run time not done. */
  nextRunAt(): number {
    const { time } = this.#d.options.daily;
    const tz = this.#d.options.timeZone;
    const now = this.#clock.now();
    if (this.dueDays().length > 0) return now;
    const last = this.#d.state.lastDailyDay();
    let day = localDate(now, tz);
    if (last !== undefined && last >= day) day = addDays(last, 1);
    let at = localToEpoch(day, time, tz);
    if (at <= now) at = localToEpoch(addDays(day, 1), time, tz);
    return at;
  }

  /** Starts: runs what is due, then sleeps until the next run. Resolves after the first pass. */
  start(): Promise<PrefetchRunResult[]> {
    if (!this.#stopped) return this.#running ?? Promise.resolve([]);
    this.#stopped = false;
    return this.tick();
  }

  /**
   * Runs every due day now, in order, then re-arms the timer. Concurrent calls share the
   * same pass. Resolves with the results of the runs made.
   */
  tick(): Promise<PrefetchRunResult[]> {
    if (this.#running !== undefined) return this.#running;
    // `finally` runs after this assignment even when the pass completes synchronously.
    const pass = this.#pass().finally(() => {
      this.#running = undefined;
      this.#arm();
    });
    this.#running = pass;
    return pass;
  }

  async #pass(): Promise<PrefetchRunResult[]> {
    const results: PrefetchRunResult[] = [];
    for (const day of this.dueDays()) {
      if (this.#stopped) break;
      await this.#d.beforeRun?.();
      if (this.#stopped) break;
      // Read again: another scheduler over the same data directory could have run it meanwhile.
      const last = this.#d.state.lastDailyDay();
      if (last !== undefined && last >= day) continue;
      try {
        const result = this.#d.daily.run(addDays(day, this.#d.options.daily.daysAhead), day);
        results.push(result);
        this.#d.onRun?.(day, { result });
      } catch (error) {
        this.#d.onRun?.(day, { error });
        break;
      }
    }
    return results;
  }

  #arm(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#stopped) return;
    const ahead = this.nextRunAt() - this.#clock.now();
    // Overdue means the last run failed (storage): try again in a minute.
    const wait = ahead <= 0 ? RETRY_MS : Math.min(MAX_SLEEP_MS, ahead);
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      void this.tick();
    }, wait);
  }

  /** Stops the timer and waits for a run in progress. Idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
