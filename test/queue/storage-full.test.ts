import assert from 'node:assert/strict';
import { test } from 'node:test';
import { open } from 'lmdb';
import { openLmdbInboundLog } from '../../src/queue/lmdb-log.js';
import { DbName, MAX_SEQ, StateKey } from '../../src/queue/schema.js';
import { isStorageFullError, rejectCodeOf } from '../../src/queue/storage-errors.js';
import { seqOf, sized, tempDir } from './helpers.js';

const DAY = 86_400_000;

test('STORAGE_FULL leaves the log readable and unchanged; appends continue without a gap once space is freed', async (t) => {
  const path = await tempDir(t);
  const limit = 256 * 1024;
  const log = await openLmdbInboundLog({ path, maxStorageBytes: limit });
  const old = Date.now() - 40 * DAY;
  let last = 0;
  let outcome;
  for (let i = 0; ; i++) {
    outcome = await log.append(sized(`F${i}`, 2000, old));
    if (outcome.kind !== 'appended') break;
    last = outcome.seq;
    assert.ok(i < 1000, 'the limit is reached');
  }
  assert.equal(outcome.kind, 'rejected');
  assert.equal(outcome.code, 'STORAGE_FULL');
  assert.ok(last > 10);
  assert.ok(log.storageBytes() <= limit);
  // rejected appends consume no seq and write nothing
  const again = await Promise.all([log.append(sized('G1', 2000)), log.append(sized('G2', 2000))]);
  assert.deepEqual(
    again.map((o) => (o.kind === 'rejected' ? o.code : o.kind)),
    ['STORAGE_FULL', 'STORAGE_FULL'],
  );
  assert.equal(log.lastSeq(), last);
  assert.equal(log.pendingBytes(), 0);
  assert.equal([...log.range(1, last + 5)].length, last);
  assert.equal(log.get(last)?.controlId, `F${last - 1}`);
  assert.equal(log.get(last + 1), undefined);
  // a small message still fits, it is only the size that counts
  // free space: every consumer has passed the old records, retention removes them
  await log.setCursor('converter', last);
  const { deleted } = await log.runRetention();
  assert.equal(deleted, last);
  assert.equal(seqOf(await log.append(sized('H1', 2000))), last + 1);
  await log.close();
  // raising the limit also lets appends continue, still without a gap
  const raised = await openLmdbInboundLog({ path, maxStorageBytes: 0 });
  t.after(() => raised.close());
  assert.equal(seqOf(await raised.append(sized('H2', 2000))), last + 2);
});

test('the limit is checked against data not yet committed, so a burst cannot overshoot it', async (t) => {
  const limit = 128 * 1024;
  const log = await openLmdbInboundLog({ path: await tempDir(t), maxStorageBytes: limit });
  t.after(() => log.close());
  const outcomes = await Promise.all(Array.from({ length: 200 }, (_, i) => log.append(sized(`B${i}`, 2000))));
  const appended = outcomes.filter((o) => o.kind === 'appended');
  assert.ok(appended.length > 0 && appended.length < 200);
  // the appended ones are exactly the first ones: seqs 1..n, no gap
  assert.deepEqual(
    appended.map(seqOf),
    Array.from({ length: appended.length }, (_, i) => i + 1),
  );
  assert.ok(log.storageBytes() <= limit, `${log.storageBytes()} <= ${limit}`);
});

test('LMDB map-full and ENOSPC errors map to STORAGE_FULL, anything else to STORAGE_FAILED', () => {
  assert.ok(isStorageFullError(new Error('MDB_MAP_FULL: Environment mapsize limit reached')));
  assert.ok(isStorageFullError(Object.assign(new Error('write failed'), { code: 'ENOSPC' })));
  assert.ok(isStorageFullError(new Error('No space left on device')));
  assert.equal(rejectCodeOf(new Error('MDB_MAP_FULL: Environment mapsize limit reached')), 'STORAGE_FULL');
  assert.equal(rejectCodeOf(new Error('Input/output error')), 'STORAGE_FAILED');
  assert.equal(rejectCodeOf(undefined), 'STORAGE_FAILED');
});

test('the 32-bit seq space is a hard limit: the last seq is 4294967295, then STORAGE_FULL', async (t) => {
  const path = await tempDir(t);
  // pretend retention has removed everything up to 2^32 - 2
  const env = open({ path, maxDbs: 16 });
  await env.openDB<number, string>(DbName.State, { encoding: 'msgpack' }).put(StateKey.DeletedThrough, MAX_SEQ - 1);
  await env.close();
  const log = await openLmdbInboundLog({ path });
  t.after(() => log.close());
  assert.equal(log.lastSeq(), MAX_SEQ - 1);
  assert.equal(seqOf(await log.append(sized('LAST', 100))), MAX_SEQ);
  assert.equal(log.get(MAX_SEQ)?.controlId, 'LAST');
  const after = await log.append(sized('NEXT', 100));
  assert.equal(after.kind === 'rejected' && after.code, 'STORAGE_FULL');
});
