import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openLmdbInboundLog } from '../../src/queue/lmdb-log.js';
import { input, seqOf, sized, tempDir } from './helpers.js';

const DAY = 86_400_000;
const NOW = 1_800_000_000_000;

test('retention deletes only records older than maxAge and behind every cursor', async (t) => {
  const log = await openLmdbInboundLog({ path: await tempDir(t), retention: { maxAgeMs: 30 * DAY } });
  t.after(() => log.close());
  // seqs 1..10 are 40 days old, 11..20 are 1 day old
  for (let i = 1; i <= 20; i++) await log.append(sized(`R${i}`, 100, NOW - (i <= 10 ? 40 : 1) * DAY));
  // no cursor: nothing is behind every cursor, nothing goes
  assert.deepEqual(await log.runRetention(NOW), { deleted: 0, expiredDedupKeys: 0 });
  await log.setCursor('converter', 6);
  await log.setCursor('audit', 15);
  assert.equal((await log.runRetention(NOW)).deleted, 6, 'behind the slowest cursor (6)');
  assert.equal(log.firstSeq(), 7);
  assert.equal(log.get(6), undefined);
  assert.equal(log.get(7)?.controlId, 'R7');
  await log.setCursor('converter', 20);
  assert.equal((await log.runRetention(NOW)).deleted, 4, 'cursors at 15 and 20, but 11.. are too young');
  assert.equal(log.firstSeq(), 11);
  assert.equal(log.lastSeq(), 20);
  assert.deepEqual([...log.range(1, 100)].map((r) => r.seq), [11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
});

test('retention works in batches while appends continue, and never deletes what it must keep', async (t) => {
  const log = await openLmdbInboundLog({ path: await tempDir(t), retentionBatchSize: 50 });
  t.after(() => log.close());
  const old = NOW - 60 * DAY;
  const first = await Promise.all(Array.from({ length: 1000 }, (_, i) => log.append(sized(`O${i}`, 200, old))));
  assert.equal(seqOf(first[999] ?? { kind: 'none' }), 1000);
  await log.setCursor('converter', 900);
  let batches = 0;
  let running = true;
  const sweep = log.runRetention(NOW).finally(() => (running = false));
  // appends issued while the sweep runs all complete, interleaved with its transactions
  const during: Promise<unknown>[] = [];
  let lastSeenFirst = 1;
  while (running) {
    during.push(log.append(sized(`N${during.length}`, 200, NOW)));
    await new Promise((resolve) => setImmediate(resolve));
    const f = log.firstSeq();
    if (f !== lastSeenFirst) {
      batches++;
      lastSeenFirst = f;
    }
  }
  const { deleted } = await sweep;
  const appended = await Promise.all(during);
  assert.equal(deleted, 900);
  assert.ok(batches >= 2, `deletions were spread over several transactions (${batches} observed)`);
  assert.ok(appended.length > 1);
  assert.ok(appended.every((o) => (o as { kind: string }).kind === 'appended'));
  assert.equal(log.firstSeq(), 901);
  assert.equal(log.lastSeq(), 1000 + appended.length);
});

test('retention drops expired dedup keys but keeps those in the window', async (t) => {
  const log = await openLmdbInboundLog({ path: await tempDir(t), dedupWindowMs: DAY, retention: { maxAgeMs: 0 } });
  t.after(() => log.close());
  await log.append(input('E1', { receivedAt: NOW - 2 * DAY }));
  await log.append(input('E2', { receivedAt: NOW - 1000 }));
  assert.deepEqual(await log.runRetention(NOW), { deleted: 0, expiredDedupKeys: 1 });
  // E2 is still a duplicate, E1 is new again (and no collision: the key was forgotten)
  assert.deepEqual(await log.append(input('E2', { receivedAt: NOW })), { kind: 'duplicate', seq: 2 });
  assert.deepEqual(await log.append(input('E1', { receivedAt: NOW - 2 * DAY })), { kind: 'appended', seq: 3, dedupCollision: false });
  // records themselves are kept (maxAgeMs 0 disables record retention)
  assert.equal(log.firstSeq(), 1);
});

test('after retention empties the log, seq numbering still continues across a restart', async (t) => {
  const path = await tempDir(t);
  const log = await openLmdbInboundLog({ path });
  for (let i = 0; i < 5; i++) await log.append(sized(`E${i}`, 100, NOW - 90 * DAY));
  await log.setCursor('converter', 5);
  assert.equal((await log.runRetention(NOW)).deleted, 5);
  assert.equal(log.firstSeq(), 0);
  await log.close();
  const reopened = await openLmdbInboundLog({ path });
  t.after(() => reopened.close());
  assert.equal(reopened.lastSeq(), 5);
  assert.equal(seqOf(await reopened.append(sized('E5', 100))), 6);
});

test('the background timer runs the sweep every intervalMs', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const log = await openLmdbInboundLog({ path: await tempDir(t), retention: { maxAgeMs: DAY, intervalMs: 5000 } });
  t.after(() => log.close());
  for (let i = 0; i < 3; i++) await log.append(sized(`T${i}`, 100, Date.now() - 2 * DAY));
  await log.setCursor('converter', 3);
  t.mock.timers.tick(4999);
  assert.equal(log.firstSeq(), 1, 'not yet');
  t.mock.timers.tick(1);
  // the timer started a sweep (with the current time); a concurrent call shares it. Had it
  // not, this call would sweep as of epoch 0 and delete nothing.
  assert.deepEqual(await log.runRetention(0), { deleted: 3, expiredDedupKeys: 0 });
  assert.equal(log.firstSeq(), 0);
});

test('runRetention after close does nothing', async (t) => {
  const log = await openLmdbInboundLog({ path: await tempDir(t) });
  await log.close();
  assert.deepEqual(await log.runRetention(), { deleted: 0, expiredDedupKeys: 0 });
});

test('deleting a record also forgets its dedup key: a resend is then new, not a duplicate of a deleted record', async (t) => {
  const log = await openLmdbInboundLog({ path: await tempDir(t), dedupWindowMs: 7 * DAY, retention: { maxAgeMs: DAY } });
  t.after(() => log.close());
  await log.append(input('K1', { receivedAt: NOW - 2 * DAY }));
  await log.append(input('K2', { receivedAt: NOW - 2 * DAY }));
  // K2's key now points at seq 3, which retention keeps (too young)
  assert.equal(seqOf(await log.append(input('K2', { receivedAt: NOW - 1000, body: 'NEW' }))), 3);
  await log.setCursor('converter', 3);
  assert.deepEqual(await log.runRetention(NOW), { deleted: 2, expiredDedupKeys: 0 });
  assert.deepEqual(await log.append(input('K1', { receivedAt: NOW })), { kind: 'appended', seq: 4, dedupCollision: false });
  assert.deepEqual(await log.append(input('K2', { receivedAt: NOW, body: 'NEW' })), { kind: 'duplicate', seq: 3 });
});

test('dedup expiry resumes where the last sweep stopped and survives a restart', async (t) => {
  const path = await tempDir(t);
  const log = await openLmdbInboundLog({ path, dedupWindowMs: DAY, retention: { maxAgeMs: 0 }, retentionBatchSize: 2 });
  for (let i = 0; i < 5; i++) await log.append(input(`X${i}`, { receivedAt: NOW - 3 * DAY + i * 3_600_000 }));
  await log.append(input('Y0', { receivedAt: NOW - 2 * DAY + 1000 }));
  // batches of 2: X0..X4 expire over three transactions, Y0 stays in the window
  assert.deepEqual(await log.runRetention(NOW - DAY), { deleted: 0, expiredDedupKeys: 5 });
  assert.deepEqual(await log.runRetention(NOW - DAY), { deleted: 0, expiredDedupKeys: 0 }, 'nothing is walked twice');
  await log.close();
  const reopened = await openLmdbInboundLog({ path, dedupWindowMs: DAY, retention: { maxAgeMs: 0 } });
  t.after(() => reopened.close());
  assert.deepEqual(await reopened.runRetention(NOW), { deleted: 0, expiredDedupKeys: 1 }, 'only Y0 is left to expire');
  assert.deepEqual(await reopened.append(input('X1', { receivedAt: NOW })), { kind: 'appended', seq: 7, dedupCollision: false });
  assert.deepEqual(await reopened.append(input('Y0', { receivedAt: NOW - 1000 })), { kind: 'appended', seq: 8, dedupCollision: false });
});
