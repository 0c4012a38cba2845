/**
 * Maps LMDB write failures to the stable reject codes of {@link AppendOutcome}.
 */
import { AppendRejectCode } from './types.js';

/**
 * Whether an error from LMDB or the file system means "out of space": LMDB's MDB_MAP_FULL
 * (map size limit reached), ENOSPC (disk full) or EDQUOT (quota exceeded).
 *
 * The native addon reports these only through the message text (`MDB_MAP_FULL: ...`) or the
 * errno code, so this is the one place that inspects error text; callers branch on the code.
 */
export function isStorageFullError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === -30792) return true;
  return typeof message === 'string' && /MDB_MAP_FULL|ENOSPC|EDQUOT|No space left|quota exceeded|-30792/i.test(message);
}

/** The reject code for a failed write: `STORAGE_FULL` or `STORAGE_FAILED`. */
export function rejectCodeOf(error: unknown): AppendRejectCode {
  return isStorageFullError(error) ? AppendRejectCode.StorageFull : AppendRejectCode.StorageFailed;
}

/**
 * lmdb-js rejects the writes of a failed commit with a generic `Commit failed` error whose
 * `commitError` promise rejects with the real cause; this resolves to that cause.
 */
export async function underlyingCommitError(error: unknown): Promise<unknown> {
  const commitError = (error as { commitError?: PromiseLike<unknown> } | null)?.commitError;
  if (commitError === undefined || typeof commitError.then !== 'function') return error;
  try {
    await commitError;
    return error;
  } catch (cause) {
    return cause;
  }
}

const noop = (): void => undefined;

/**
 * Marks a failed lmdb-js write's `commitError` promise as handled. lmdb-js 3.5 rejects that
 * promise even when nobody asked for it, which Node turns into a process-ending unhandled
 * rejection (kriszyp/lmdb-js#368); every catch of an lmdb-js write calls this first.
 */
export function handleCommitRejection(error: unknown): void {
  const commitError = (error as { commitError?: PromiseLike<unknown> } | null)?.commitError;
  if (commitError !== undefined && typeof commitError.then === 'function') commitError.then(noop, noop);
}

/**
 * Call right after issuing lmdb-js writes in an event-loop turn. At the end of the turn
 * lmdb-js may create a commit promise of its own for the batch (in `writeBatchStart`) that
 * nothing awaits; if that transaction fails, the rejection would be unhandled and end the
 * process. This attaches a handler to it through `committed`, once lmdb-js has created it
 * (this `setImmediate` is queued after lmdb-js's end-of-turn task, so it runs after it).
 */
export function guardLmdbTurn(root: { committed: PromiseLike<unknown> }): void {
  setImmediate(() => {
    root.committed.then(noop, handleCommitRejection);
  });
}
