/**
 * An in-memory InboundLog for listener tests: appends wait for an explicit "commit" when
 * `hold` is on, so tests can observe what happens before and after durability; duplicate
 * detection follows the port's contract (same key and same bytes within the window).
 */
import type { AppendOutcome, InboundLog, InboundRecord, InboundRecordInput } from '../../src/queue/types.js';

export class FakeLog implements InboundLog {
  records: InboundRecord[] = [];
  durable = new Set<number>();
  hold = false;
  reject: 'STORAGE_FULL' | 'STORAGE_FAILED' | undefined;
  appendCalls = 0;
  #pending: { bytes: number; commit: () => void }[] = [];
  #pendingBytes = 0;
  #onAppend: (() => void)[] = [];
  closed = false;

  async append(input: InboundRecordInput): Promise<AppendOutcome> {
    this.appendCalls++;
    for (const f of this.#onAppend.splice(0)) f();
    if (this.reject !== undefined) return { kind: 'rejected', code: this.reject, message: 'test' };
    if (input.dedupKey !== undefined) {
      const earlier = this.records.find((r) => r.dedupKey === input.dedupKey);
      if (earlier !== undefined && Buffer.compare(earlier.raw, input.raw) === 0) return { kind: 'duplicate', seq: earlier.seq };
    }
    const collision = input.dedupKey !== undefined && this.records.some((r) => r.dedupKey === input.dedupKey);
    const seq = this.records.length + 1;
    this.records.push({ ...input, raw: Uint8Array.from(input.raw), seq });
    const bytes = input.raw.length;
    this.#pendingBytes += bytes;
    if (this.hold) await new Promise<void>((resolve) => this.#pending.push({ bytes, commit: resolve }));
    this.#pendingBytes -= bytes;
    this.durable.add(seq);
    return { kind: 'appended', seq, dedupCollision: collision };
  }
  /** Resolves at the next append call. */
  nextAppend(): Promise<void> {
    return new Promise((resolve) => this.#onAppend.push(resolve));
  }
  /** Commits every held append. */
  release(): void {
    this.hold = false;
    for (const p of this.#pending.splice(0)) p.commit();
  }
  get heldCount(): number {
    return this.#pending.length;
  }
  get(seq: number): InboundRecord | undefined {
    return this.records[seq - 1];
  }
  *range(from: number, to: number): Iterable<InboundRecord> {
    for (const r of this.records) if (r.seq >= from && r.seq <= to) yield r;
  }
  lastSeq(): number {
    return this.records.length;
  }
  firstSeq(): number {
    return this.records.length > 0 ? 1 : 0;
  }
  getCursor(): number {
    return 0;
  }
  async setCursor(): Promise<void> {}
  pendingBytes(): number {
    return this.#pendingBytes;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}
