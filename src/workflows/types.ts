/**
 * What the rest of the engine sees of the workflows stage (ARCHITECTURE.md stage 6): the
 * daily pre-fetch run on demand (`POST /api/prefetch/runs`, `pacslink prefetch --date`).
 * Per-order pre-fetch and RIS-PACS synchronisation happen inside the applier's transaction.
 */

/** The outcome of one daily pre-fetch run. */
export interface PrefetchRunResult {
  /** The local date the run is for (`YYYY-MM-DD`). */
  date: string;
  /** The window of scheduled times covered, ISO 8601 with offset, `from` inclusive, `to` exclusive. */
  window: { from: string; to: string };
  /** `prefetch.requested` events appended. */
  requested: number;
  /** Requests not repeated because one for the same patient and window exists. */
  suppressed: number;
}

/** The workflows stage as the gateway calls it. */
export interface WorkflowsApi {
  /**
   * Runs the daily pre-fetch for `date` (`YYYY-MM-DD`, local to the configured time zone) now:
   * the window starting at that date's midnight (src/workflows/daily.ts). Rejects with a
   * RangeError (an HTTP 400) when `date` is not a calendar date `YYYY-MM-DD`.
   */
  runPrefetch(date: string): Promise<PrefetchRunResult>;
}
