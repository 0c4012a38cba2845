/**
 * Writing the dedup index entries of a range of records (`inbound.dedup`), shared by the
 * flush worker (dedup-flush-worker.ts) and the in-process fallback (dedup-index.ts).
 *
 * The keys are read from the records' headers first, outside any write transaction, and
 * written in key order, so that the write transaction holds LMDB's single write lock (and
 * keeps the records' group commits waiting) only for the B-tree inserts themselves, which
 * in key order walk the leaf pages once instead of jumping between them.
 */
import type { Database } from 'lmdb';
import { storedDedupKey } from './dedup.js';
import { encodeDedupEntry, receivedAtOf, recordDedupKey, StateKey } from './schema.js';

/** The entries of one flush, in key order. */
export interface DedupEntries {
  keys: string[];
  values: Buffer[];
}

/** Reads the dedup keys of records `from`..`through` (absent records and keyless ones are skipped). */
export function collectDedupEntries(records: Database<Buffer, number>, from: number, through: number): DedupEntries {
  const found: Array<{ key: string; value: Buffer }> = [];
  for (let seq = from; seq <= through; seq++) {
    const record = records.getBinaryFast(seq);
    if (record === undefined) continue;
    const key = recordDedupKey(record);
    if (key === undefined) continue;
    found.push({ key: storedDedupKey(key), value: encodeDedupEntry(seq, receivedAtOf(record)) });
  }
  // Later seqs win for a repeated key: a stable sort keeps them after the earlier ones.
  found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { keys: found.map((e) => e.key), values: found.map((e) => e.value) };
}

/** Puts the entries and `dedupIndexedThrough = through`; call inside a write transaction. */
export function putDedupEntries(dedup: Database<Buffer, string>, state: Database<number, string>, entries: DedupEntries, through: number): void {
  const { keys, values } = entries;
  for (let i = 0; i < keys.length; i++) dedup.putSync(keys[i]!, values[i]!);
  state.putSync(StateKey.DedupIndexedThrough, through);
}
