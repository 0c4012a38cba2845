import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { open } from 'lmdb';
import { dedupKeyOf, storedDedupKey } from '../../src/queue/dedup.js';
import { DedupIndex, hashDedupKey, type DedupIndexStores } from '../../src/queue/dedup-index.js';
import { DbName, decodeDedupEntry, encodeRecord, StateKey } from '../../src/queue/schema.js';
import { hl7, tempDir } from './helpers.js';

const WINDOW = 7 * 86_400_000;

/** An environment laid out like the inbound log's. */
function stores(path: string): DedupIndexStores {
  const root = open({ path, maxDbs: 16 });
  const db: DedupIndexStores = {
    root,
    records: root.openDB<Buffer, number>(DbName.Raw, { keyEncoding: 'uint32', encoding: 'binary' }),
    dedup: root.openDB<Buffer, string>(DbName.Dedup, { encoding: 'binary' }),
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
  for (let seq = 1; seq <= n; seq++) {
    const id = `K${seq}`;
    await db.records.put(seq, encodeRecord({ raw: hl7(id), receivedAt: t0 + seq, listener: 'adt', remote: '10.0.0.1:1', messageType: 'ADT^A01', controlId: id, dedupKey: dedupKeyOf('HIS', 'HOSP', id) }));
  }
}

/** A DedupIndex over `db` (flush worker at `workerPath`, if given) told of records 1..n as they commit. */
async function indexWith(db: DedupIndexStores, n: number, t0: number, workerPath: string | undefined): Promise<DedupIndex> {
  let committed = 0;
  const index = new DedupIndex(db, WINDOW, () => committed, workerPath);
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

/** Checks that `inbound.dedup` holds every key 1..n pointing at its seq, and the state marker. */
function assertIndexed(db: DedupIndexStores, n: number, t0: number): void {
  for (let seq = 1; seq <= n; seq++) {
    const stored = db.dedup.getBinary(keyOf(seq));
    assert.ok(stored !== undefined, `key of seq ${seq} is in inbound.dedup`);
    assert.deepEqual(decodeDedupEntry(stored), { seq, receivedAt: t0 + seq });
  }
  assert.equal(db.state.get(StateKey.DedupIndexedThrough), n);
}

for (const mode of ['the flush worker', 'this thread'] as const) {
  test(`a flush in ${mode} writes every committed key and dedupIndexedThrough, then forgets them`, async (t) => {
    const { path, t0, db } = await setup(t);
    const index = await indexWith(db, 300, t0, mode === 'the flush worker' ? path : undefined);
    assert.equal(index.unflushed, 300);
    assert.equal(db.dedup.getBinary(keyOf(1)), undefined);
    await index.flush();
    assert.equal(index.unflushed, 0);
    assertIndexed(db, 300, t0);
    // Found through inbound.dedup now, with the byte comparison against the record.
    assert.deepEqual(index.find(keyOf(7), hl7('K7'), t0 + 1000), { seq: 7, same: true });
    assert.deepEqual(index.find(keyOf(7), hl7('K7', 'X'), t0 + 1000), { seq: 7, same: false });
    assert.equal(index.find(keyOf(301), hl7('K301'), t0 + 1000), undefined);
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
  assert.deepEqual(index.find(keyOf(9), hl7('K9'), t0 + 1000), { seq: 9, same: true });
  await index.flush();
  assert.equal(index.unflushed, 0);
  assertIndexed(db, 50, t0);
  await index.close();
});

test('reopening reads the keys of records after dedupIndexedThrough back into memory', async (t) => {
  const { path, t0, db } = await setup(t);
  await addRecords(db, 20, t0);
  await db.state.put(StateKey.DedupIndexedThrough, 12);
  const index = new DedupIndex(db, WINDOW, () => 20, path);
  assert.equal(index.unflushed, 8);
  assert.deepEqual(index.find(keyOf(15), hl7('K15'), t0 + 1000), { seq: 15, same: true });
  // Out of the window: absent.
  assert.equal(index.find(keyOf(15), hl7('K15'), t0 + 15 + WINDOW), undefined);
  await index.close();
  assert.equal(db.state.get(StateKey.DedupIndexedThrough), 20);
});
