/**
 * A stand-in for the repository in converter infrastructure tests (ordering, backpressure,
 * dead letters): it records which seqs were applied in which order, in a database of the
 * environment (so a rolled-back transaction leaves nothing), and can reject or throw on
 * chosen seqs. The real repository is used by the integration tests.
 */
import { open, type Database, type RootDatabase } from 'lmdb';
import type { ApplyTarget } from '../../src/converter/applier.js';
import type { ConversionError } from '../../src/converter/changes.js';

export class FakeRepository implements ApplyTarget {
  readonly env: RootDatabase;
  readonly #applied: Database<number, number>;
  /** Seqs in the order apply() was called and committed (in memory, for order checks). */
  readonly calls: number[] = [];
  rejectSeqs = new Set<number>();
  throwSeqs = new Set<number>();

  constructor(path: string) {
    this.env = open({ path, maxDbs: 16 });
    this.#applied = this.env.openDB<number, number>('fake.applied', { encoding: 'msgpack' });
  }

  apply(
    result: Parameters<ApplyTarget['apply']>[0],
    seq: number,
    emit: Parameters<ApplyTarget['apply']>[2],
  ): { kind: 'applied' } | { kind: 'rejected'; error: ConversionError } {
    if (this.throwSeqs.has(seq)) throw new Error(`injected failure at ${seq}`);
    if (this.rejectSeqs.has(seq)) {
      return { kind: 'rejected', error: { code: 'UNKNOWN_PATIENT', errCode: 204, message: 'injected rejection', segment: 'PID', field: 3 } };
    }
    this.calls.push(seq);
    this.#applied.putSync(seq, result.changes.length);
    emit({ type: 'patient.updated', messageSeq: seq, data: { changes: result.changes.length } });
    return { kind: 'applied' };
  }

  /** Seqs recorded durably, in key order. */
  appliedSeqs(): number[] {
    return [...this.#applied.getKeys()];
  }

  close(): Promise<void> {
    return this.env.close();
  }
}
