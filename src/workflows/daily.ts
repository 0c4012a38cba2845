/**
 * The daily pre-fetch run (DOMAIN.md §5: "a nightly run over tomorrow's schedule"): for a
 * local date D, every order in status `scheduled` whose scheduled start falls in the window
 * `[D 00:00, D + windowDays 00:00)` of the configured time zone is requested, one
 * `prefetch.requested` per patient (its orders in the window, the relevant priors of each).
 * A request already made for the same patient and window is not repeated (suppressed), so a
 * run on demand after the scheduled one, or a second run of the same date, adds only patients
 * new to the window.
 *
 * A run is one write transaction on the repository environment holding its events
 * (messageSeq 0), its suppression markers and, for a scheduled run, the day it marks as done:
 * it happens entirely or not at all. Like the applier it runs synchronously on the main
 * thread, so the two single writers never interleave inside a transaction.
 */
import type { RootDatabase } from 'lmdb';
import type { EventLog } from '../events/log.js';
import { EventType } from '../events/types.js';
import { OrderStatus, type Order } from '../repository/model.js';
import { dailyRequest } from './derive.js';
import { dayWindow, isLocalDate, isoInZone } from './local-time.js';
import type { WorkflowsOptions } from './options.js';
import { all, type RepositoryView } from './prefetch.js';
import type { WorkflowsState } from './state.js';
import type { PrefetchRunResult } from './types.js';

/** Markers of windows that ended this long before the run (or before its window, if earlier) are pruned, ms. */
const KEEP_MARKERS_MS = 30 * 86_400_000;

/** What a {@link DailyPrefetch} works with. */
export interface DailyPrefetchDeps {
  env: RootDatabase;
  view: RepositoryView;
  events: EventLog;
  state: WorkflowsState;
  options: WorkflowsOptions;
  /** Wall clock, epoch ms (for pruning only). Default `Date.now`. */
  now?: () => number;
}

/** Runs the daily pre-fetch for a date (see the module comment). */
export class DailyPrefetch {
  readonly #d: DailyPrefetchDeps;

  constructor(deps: DailyPrefetchDeps) {
    this.#d = deps;
  }

  /**
   * Runs for local date `date` (`YYYY-MM-DD`); when `doneDay` is given, records that day's
   * scheduled run as done in the same transaction. Throws RangeError for a bad date.
   */
  run(date: string, doneDay?: string): PrefetchRunResult {
    if (typeof date !== 'string' || !isLocalDate(date)) throw new RangeError(`date must be a calendar date YYYY-MM-DD, got ${JSON.stringify(date)}`);
    const { env, view, events, state, options } = this.#d;
    const tz = options.prefetch.timeZone;
    const win = dayWindow(date, options.prefetch.daily.windowDays, tz);
    const window = { from: isoInZone(win.from, tz), to: isoInZone(win.to, tz) };
    const fromUtc = new Date(win.from).toISOString();
    const toUtc = new Date(win.to).toISOString();
    let requested = 0;
    let suppressed = 0;
    try {
      env.transactionSync(() => {
        // Reads inside the transaction: the schedule as of this instant, the applier's last commit included.
        const orders = all<Order>((o) => view.findOrders({ scheduledFrom: fromUtc, scheduledTo: toUtc }, o)).filter((o) => o.status === OrderStatus.Scheduled && Date.parse(o.scheduledAt as string) < win.to);
        const byPatient = new Map<string, Order[]>();
        for (const o of orders) {
          const key = view.resolvePatient(o.patientKey)?.patient.key ?? o.patientKey;
          const list = byPatient.get(key);
          if (list === undefined) byPatient.set(key, [o]);
          else list.push(o);
        }
        for (const [patientKey, list] of byPatient) {
          if (state.patientRequested(patientKey, fromUtc, toUtc)) {
            suppressed++;
            continue;
          }
          const data = dailyRequest(view, options, list, { date, window });
          if (data === undefined) continue;
          const e = events.append({ type: EventType.PrefetchRequested, messageSeq: 0, data: data as unknown as Record<string, unknown> });
          state.markPatientRequested(patientKey, fromUtc, toUtc, e.seq);
          requested++;
        }
        // Markers of windows long past go; a run for a far date never prunes today's.
        state.prune(new Date(Math.min((this.#d.now ?? Date.now)(), win.from) - KEEP_MARKERS_MS).toISOString());
        if (doneDay !== undefined) state.setLastDailyDay(doneDay);
      });
    } catch (err) {
      events.rolledBack();
      throw err;
    }
    events.committed();
    return { date, window, requested, suppressed };
  }
}
