/**
 * The boundary between listeners and the inbound log: every append goes through here, so
 * one place knows how many bytes wait for a commit and can pause and resume readers.
 *
 * When the log's pending bytes pass the high-water mark, connections asking
 * {@link AppendGate.overHighWater} pause their sockets and register a resume callback; each
 * completed append re-checks the level and, below the low-water mark (half the high-water
 * mark), resumes them all. Because only appends raise the level and each append completes,
 * a paused reader is always woken.
 */
import type { AppendOutcome, InboundLog, InboundRecordInput } from '../queue/types.js';

/** Shared append path with backpressure; one per engine. */
export class AppendGate {
  readonly log: InboundLog;
  readonly #high: number;
  readonly #low: number;
  readonly #waiters = new Set<() => void>();

  /** @param highWaterBytes pending bytes above which readers pause. */
  constructor(log: InboundLog, highWaterBytes: number) {
    this.log = log;
    this.#high = highWaterBytes;
    this.#low = Math.floor(highWaterBytes / 2);
  }

  /** True when readers should stop reading. */
  overHighWater(): boolean {
    return this.log.pendingBytes() > this.#high;
  }

  /** Calls `resume` once the level falls below the low-water mark. */
  whenRoom(resume: () => void): void {
    this.#waiters.add(resume);
  }

  /** Forgets a waiter (its connection closed). */
  forget(resume: () => void): void {
    this.#waiters.delete(resume);
  }

  /**
   * Appends through the log and, once the append has settled, wakes paused readers if the
   * level has dropped. Returns the log's own promise: no async wrapper, whose extra promise
   * and resumption cost ≈0.2 µs per message on the path every ACK waits for.
   */
  append(record: InboundRecordInput): Promise<AppendOutcome> {
    const outcome = this.log.append(record);
    outcome.then(this.#settled, this.#settled);
    return outcome;
  }

  readonly #settled = (): void => {
    if (this.#waiters.size > 0 && this.log.pendingBytes() <= this.#low) {
      const waiters = [...this.#waiters];
      this.#waiters.clear();
      for (const w of waiters) w();
    }
  };
}
