import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { open } from 'lmdb';
import { dedupKeyOf, storedDedupKey } from '../../src/queue/dedup.js';
import { decodeSeqs, dedupMergeSlices, encodeSeqs, forgetDedupSeq, MERGE_SLICE, sortDedupPairs } from '../../src/queue/dedup-entries.js';
import { DedupIndex, type DedupIndexStores, type DedupIndexTuning } from '../../src/queue/dedup-index.js';
import { DbName, encodeRecord, hashDedupKey, StateKey } from '../../src/queue/schema.js';
import { hl7, tempDir } from './helpers.js';

const WINDOW = 7 * 86_400_000;
const TUNING: DedupIndexTuning = { flushIntervalMs: 10_000, flushKeys: 1 << 18 };

/** An environment laid out like the inbound log's. */
function stores(path: string): DedupIndexStores {
  const root = open({ path, maxDbs: 16 });
  const db: DedupIndexStores = {
    root,
    records: root.openDB<Buffer, number>(DbName.Raw, { keyEncoding: 'uint32', encoding: 'binary' }),
    dedup: root.openDB<Buffer, number>(DbName.Dedup, { keyEncoding: 'uint32', encoding: 'binary' }),
    state: root.openDB<number, string>(DbName.State, { encoding: 'msgpack' }),
  };
  return db;
}

/** A temporary environment (closed after the test) and the receive time of record 0. */
async function setup(t: TestContext): Promise<{ path: string; t0: number; db: DedupIndexStores }> {
  const path = await tempDir(t);
  const db = stores(path);
  t.after(() => db.root.close());
  return { path, t0: 1_700_000_000_000, db };
}

/** Commits records 1..n, each with its dedup key. */
async function addRecords(db: DedupIndexStores, n: number, t0: number): Promise<void> {
  const puts: Promise<boolean>[] = [];
  for (let seq = 1; seq <= n; seq++) {
    const id = `K${seq}`;
    puts.push(db.records.put(seq, encodeRecord({ raw: hl7(id), receivedAt: t0 + seq, listener: 'adt', remote: '10.0.0.1:1', messageType: 'ADT^A01', controlId: id, dedupKey: dedupKeyOf('HIS', 'HOSP', id) })));
  }
  await Promise.all(puts);
}

/** A DedupIndex over `db` (flush worker at `workerPath`, if given) told of records 1..n as they commit. */
async function indexWith(db: DedupIndexStores, n: number, t0: number, workerPath: string | undefined): Promise<DedupIndex> {
  let committed = 0;
  const index = new DedupIndex(db, WINDOW, () => committed, TUNING, workerPath);
  await addRecords(db, n, t0);
  for (let seq = 1; seq <= n; seq++) {
    index.committed(hashDedupKey(keyOf(seq)), seq);
    committed = seq;
  }
  return index;
}

function keyOf(seq: number): string {
  return storedDedupKey(dedupKeyOf('HIS', 'HOSP', `K${seq}`));
}

/** The seqs `inbound.dedup-hash` holds under the hash of the key of record `seq`. */
function indexed(db: DedupIndexStores, seq: number): number[] {
  const stored = db.dedup.getBinary(hashDedupKey(keyOf(seq)));
  return stored === undefined ? [] : decodeSeqs(stored);
}

/** Checks that `inbound.dedup-hash` holds every key 1..n pointing at its seq, and the state marker. */
function assertIndexed(db: DedupIndexStores, n: number): void {
  for (let seq = 1; seq <= n; seq++) assert.deepEqual(indexed(db, seq), [seq], `key of seq ${seq} is in inbound.dedup-hash`);
  assert.equal(db.state.get(StateKey.DedupIndexedThrough), n);
}

test('sortDedupPairs orders pairs by hash, natively up to its run length and with a comparator above', () => {
  const pairs = new Uint32Array(2 * 5000);
  for (let i = 0; i < 5000; i++) {
    pairs[2 * i] = Math.imul(i, 0x9e3779b1) >>> 0 >>> (i % 3 === 0 ? 20 : 0);
    pairs[2 * i + 1] = i + 1;
  }
  const expected = [...Array(5000).keys()].map((i) => [pairs[2 * i]!, pairs[2 * i + 1]!] as const).sort((a, b) => a[0] - b[0]);
  for (const run of [1 << 21, 64]) {
    const sorted = sortDedupPairs(pairs, run);
    const got = [...Array(5000).keys()].map((i) => [sorted[2 * i]!, sorted[2 * i + 1]!] as const);
    assert.deepEqual(got.map((p) => p[0]), expected.map((p) => p[0]), `hashes in order (run ${run})`);
    assert.deepEqual(new Set(got.map((p) => `${p[0]}:${p[1]}`)), new Set(expected.map((p) => `${p[0]}:${p[1]}`)), `same pairs (run ${run})`);
  }
});

test('a merge runs in slices of MERGE_SLICE pairs, one transaction each; only the last sets dedupIndexedThrough', async (t) => {
  const { path, t0, db } = await setup(t);
  const n = 2 * MERGE_SLICE + 5;
  await addRecords(db, n, t0);
  const pairs = new Uint32Array(2 * n);
  for (let seq = 1; seq <= n; seq++) {
    pairs[2 * seq - 2] = hashDedupKey(keyOf(seq));
    pairs[2 * seq - 1] = seq;
  }
  const slices = [...dedupMergeSlices(db, pairs, n)];
  assert.equal(slices.length, 3);
  db.root.transactionSync(slices[0]!);
  assert.equal(db.state.get(StateKey.DedupIndexedThrough), undefined);
  assert.equal((db.dedup.getStats() as { entryCount: number }).entryCount, MERGE_SLICE);
  db.root.transactionSync(slices[1]!);
  db.root.transactionSync(slices[2]!);
  assertIndexed(db, n);
  // Merging the same pairs again (a merge redone after a crash) leaves the same entries.
  for (const slice of dedupMergeSlices(db, pairs, n)) db.root.transactionSync(slice);
  assertIndexed(db, n);
  assert.equal((db.dedup.getStats() as { entryCount: number }).entryCount, n);
  const index = new DedupIndex(db, WINDOW, () => n, TUNING, path);
  assert.deepEqual(index.find(keyOf(n), hashDedupKey(keyOf(n)), hl7(`K${n}`), t0 + 1000), { seq: n, same: true });
  await index.close();
});

for (const mode of ['the flush worker', 'this thread'] as const) {
  test(`a flush in ${mode} writes every committed key and dedupIndexedThrough, then forgets them`, async (t) => {
    const { path, t0, db } = await setup(t);
    const index = await indexWith(db, 300, t0, mode === 'the flush worker' ? path : undefined);
    assert.equal(index.unflushed, 300);
    assert.deepEqual(indexed(db, 1), []);
    await index.flush();
    assert.equal(index.unflushed, 0);
    assertIndexed(db, 300);
    // Found through inbound.dedup-hash now, with the byte comparison against the record.
    assert.deepEqual(index.find(keyOf(7), hashDedupKey(keyOf(7)), hl7('K7'), t0 + 1000), { seq: 7, same: true });
    assert.deepEqual(index.find(keyOf(7), hashDedupKey(keyOf(7)), hl7('K7', 'X'), t0 + 1000), { seq: 7, same: false });
    assert.equal(index.find(keyOf(301), hashDedupKey(keyOf(301)), hl7('K301'), t0 + 1000), undefined);
    await index.close();
  });
}

test('when the flush worker cannot run, the flush keeps its keys and the next one runs in this thread', async (t) => {
  const { path, t0, db } = await setup(t);
  // A regular file where the worker expects the environment's directory: its open() throws.
  const notADir = join(path, 'not-a-directory');
  await writeFile(notADir, 'x');
  const index = await indexWith(db, 50, t0, notADir);
  await index.flush();
  assert.equal(index.unflushed, 50, 'the failed flush kept every key');
  assert.equal(db.state.get(StateKey.DedupIndexedThrough), undefined);
  assert.deepEqual(index.find(keyOf(9), hashDedupKey(keyOf(9)), hl7('K9'), t0 + 1000), { seq: 9, same: true });
  await index.flush();
  assert.equal(index.unflushed, 0);
  assertIndexed(db, 50);
  await index.close();
});

test('reopening reads the keys of records after dedupIndexedThrough back into memory', async (t) => {
  const { path, t0, db } = await setup(t);
  await addRecords(db, 20, t0);
  await db.state.put(StateKey.DedupIndexedThrough, 12);
  const index = new DedupIndex(db, WINDOW, () => 20, TUNING, path);
  assert.equal(index.unflushed, 8);
  assert.deepEqual(index.find(keyOf(15), hashDedupKey(keyOf(15)), hl7('K15'), t0 + 1000), { seq: 15, same: true });
  // Out of the window: absent.
  assert.equal(index.find(keyOf(15), hashDedupKey(keyOf(15)), hl7('K15'), t0 + 15 + WINDOW), undefined);
  await index.close();
  assert.equal(db.state.get(StateKey.DedupIndexedThrough), 20);
});

test('reopening merges the records after dedupIndexedThrough in slices of flushKeys, holding only the rest', async (t) => {
  const { path, t0, db } = await setup(t);
  await addRecords(db, 50, t0);
  const index = new DedupIndex(db, WINDOW, () => 50, { flushIntervalMs: 10_000, flushKeys: 16 }, path);
  assert.equal(db.state.get(StateKey.DedupIndexedThrough), 48);
  assert.equal(index.unflushed, 2);
  for (const seq of [1, 16, 17, 48, 49, 50]) assert.deepEqual(index.find(keyOf(seq), hashDedupKey(keyOf(seq)), hl7(`K${seq}`), t0 + 1000), { seq, same: true });
  assert.deepEqual(indexed(db, 48), [48]);
  assert.deepEqual(indexed(db, 49), []);
  await index.close();
  assertIndexed(db, 50);
});

test('a merge keeps the latest seq of a key stored again, wherever the two fall in the batch', async (t) => {
  const { path, t0, db } = await setup(t);
  await addRecords(db, 3, t0);
  // Record 4 has the key of record 2, with other bytes; committed before record 3's key.
  await db.records.put(4, encodeRecord({ raw: hl7('K2', 'X'), receivedAt: t0 + 4, listener: 'adt', remote: '10.0.0.1:1', messageType: 'ADT^A01', controlId: 'K2', dedupKey: dedupKeyOf('HIS', 'HOSP', 'K2') }));
  const index = new DedupIndex(db, WINDOW, () => 4, TUNING, path);
  for (const seq of [1, 4, 2, 3]) index.committed(hashDedupKey(keyOf(seq)), seq);
  await index.flush();
  assert.deepEqual(indexed(db, 2), [4]);
  assert.deepEqual(index.find(keyOf(2), hashDedupKey(keyOf(2)), hl7('K2', 'X'), t0 + 1000), { seq: 4, same: true });
  assert.deepEqual(index.find(keyOf(2), hashDedupKey(keyOf(2)), hl7('K2'), t0 + 1000), { seq: 4, same: false });
  await index.close();
});

test('once the filter is complete, a key whose hash it lacks is not looked up in LMDB; an index opening non-empty waits for the worker\'s scan', async (t) => {
  const { path, t0, db } = await setup(t);
  const index = await indexWith(db, 20, t0, path);
  assert.equal(index.filterReady, true, 'an index that opened empty has a complete filter at once');
  await index.flush();
  assert.equal(index.filterReady, true);
  for (let seq = 1; seq <= 20; seq++) assert.deepEqual(index.find(keyOf(seq), hashDedupKey(keyOf(seq)), hl7(`K${seq}`), t0 + 1000), { seq, same: true });
  // Record 21 and its index entry, written behind the index's back: its hash is not in the
  // filter, so the lookup does not reach LMDB (every entry the log writes goes through a merge).
  await addRecords(db, 21, t0);
  await db.dedup.put(hashDedupKey(keyOf(21)), Buffer.from([21, 0, 0, 0]));
  assert.equal(index.find(keyOf(21), hashDedupKey(keyOf(21)), hl7('K21'), t0 + 1000), undefined);
  await index.close();
  // A new index's worker scans the index first, so the entry is found once the filter is built.
  const reopened = new DedupIndex(db, WINDOW, () => 21, TUNING, path);
  assert.equal(reopened.filterReady, false, 'not empty: no filter before the worker has scanned the index');
  assert.deepEqual(reopened.find(keyOf(21), hashDedupKey(keyOf(21)), hl7('K21'), t0 + 1000), { seq: 21, same: true }, 'found in LMDB while no filter is built');
  reopened.committed(hashDedupKey(keyOf(1)), 1);
  await reopened.flush();
  assert.equal(reopened.filterReady, true);
  assert.deepEqual(reopened.find(keyOf(21), hashDedupKey(keyOf(21)), hl7('K21'), t0 + 1000), { seq: 21, same: true });
  await reopened.close();
});

test('forgetDedupSeq removes one seq from an entry holding several, and the entry with its last seq', async (t) => {
  const { db } = await setup(t);
  await db.dedup.put(7, encodeSeqs([3, 5]));
  const forget = (seq: number): void => db.root.transactionSync(() => forgetDedupSeq(db.dedup, 7, seq));
  forget(4);
  assert.deepEqual(decodeSeqs(db.dedup.getBinary(7)!), [3, 5]);
  forget(3);
  assert.deepEqual(decodeSeqs(db.dedup.getBinary(7)!), [5]);
  forget(5);
  assert.equal(db.dedup.getBinary(7), undefined);
  forget(5);
  assert.equal(db.dedup.getBinary(7), undefined);
});
