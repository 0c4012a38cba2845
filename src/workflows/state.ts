/**
 * What the workflows remember, in a named database (`wf.state`) of the repository's LMDB
 * environment, written in the same transaction as the events it accounts for:
 *
 * - `daily:last`: the last local day whose daily pre-fetch run is done (`YYYY-MM-DD`);
 * - `o\0<scheduled UTC>\0<order key>`: a per-order request was made for the order at that
 *   scheduled time (a repeat trigger, e.g. ORM then SIU^S12, is not requested again);
 * - `p\0<window end UTC>\0<window start UTC>\0<patient key>`: a daily request was made for the
 *   patient and window (duplicates suppressed).
 *
 * Marker keys begin with a time so that old ones are pruned by a range delete.
 */
import type { Database, RootDatabase } from 'lmdb';

/** Name of the database in the repository environment. */
export const WORKFLOWS_DB = 'wf.state';

const SEP = '\u0000';

/** The workflows' state. Writes must happen inside the caller's `transactionSync`. */
export class WorkflowsState {
  readonly #db: Database<unknown, string>;

  constructor(env: RootDatabase) {
    this.#db = env.openDB<unknown, string>(WORKFLOWS_DB, { encoding: 'msgpack' });
  }

  /** The last local day whose daily run is done, or undefined. */
  lastDailyDay(): string | undefined {
    const v = this.#db.get('daily:last');
    return typeof v === 'string' ? v : undefined;
  }

  /** Records the daily run of `day` as done. */
  setLastDailyDay(day: string): void {
    this.#db.putSync('daily:last', day);
  }

  #orderKey(orderKey: string, scheduledUtc: string): string {
    return `o${SEP}${scheduledUtc}${SEP}${orderKey}`;
  }

  #patientKey(patientKey: string, fromUtc: string, toUtc: string): string {
    return `p${SEP}${toUtc}${SEP}${fromUtc}${SEP}${patientKey}`;
  }

  /** Whether a per-order request was made for the order at this scheduled time (UTC ISO, or `''`). */
  orderRequested(orderKey: string, scheduledUtc: string): boolean {
    return this.#db.get(this.#orderKey(orderKey, scheduledUtc)) !== undefined;
  }

  markOrderRequested(orderKey: string, scheduledUtc: string, messageSeq: number): void {
    this.#db.putSync(this.#orderKey(orderKey, scheduledUtc), messageSeq);
  }

  /** Whether a daily request was made for the patient and window. */
  patientRequested(patientKey: string, fromUtc: string, toUtc: string): boolean {
    return this.#db.get(this.#patientKey(patientKey, fromUtc, toUtc)) !== undefined;
  }

  markPatientRequested(patientKey: string, fromUtc: string, toUtc: string, eventSeq: number): void {
    this.#db.putSync(this.#patientKey(patientKey, fromUtc, toUtc), eventSeq);
  }

  /**
   * Deletes markers whose time (scheduled time, window end) is before `beforeUtc`; an
   * unscheduled order's marker (`''`) stays. Returns how many were deleted.
   */
  prune(beforeUtc: string): number {
    let n = 0;
    for (const prefix of ['o', 'p']) {
      const start = `${prefix}${SEP}0`;
      for (const key of this.#db.getKeys({ start, end: `${prefix}${SEP}${beforeUtc}` })) {
        this.#db.removeSync(key);
        n++;
      }
    }
    return n;
  }
}
