import assert from 'node:assert/strict';
import { test } from 'node:test';
import { open } from 'lmdb';
import { dedupKeyOf, hashBody } from '../../src/queue/dedup.js';
import { openLmdbInboundLog } from '../../src/queue/lmdb-log.js';
import { hashDedupKey } from '../../src/queue/schema.js';
import { input, seqOf, tempDir } from './helpers.js';

const DAY = 86_400_000;

test('dedupKeyOf joins MSH-3, MSH-4 and MSH-10 with U+001F; hashBody is SHA-256 hex', () => {
  assert.equal(dedupKeyOf('HIS', 'HOSP', '123'), 'HIS\u001fHOSP\u001f123');
  assert.notEqual(dedupKeyOf('A', 'BC', '1'), dedupKeyOf('AB', 'C', '1'));
  assert.equal(hashBody(Buffer.from('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('a resend with the same key and body is a duplicate of the original seq; nothing is appended', async (t) => {
  const log = await openLmdbInboundLog({ path: await tempDir(t) });
  t.after(() => log.close());
  const t0 = 1_700_000_000_000;
  assert.equal(seqOf(await log.append(input('X1', { receivedAt: t0 }))), 1);
  assert.equal(seqOf(await log.append(input('X2', { receivedAt: t0 }))), 2);
  assert.deepEqual(await log.append(input('X1', { receivedAt: t0 + DAY })), { kind: 'duplicate', seq: 1 });
  assert.equal(log.lastSeq(), 2);
  // the same control id from another sender is a different message
  assert.equal(seqOf(await log.append(input('X1', { receivedAt: t0, sender: 'LAB' }))), 3);
});

test('the same key with a different body is appended as new with dedupCollision, and the index moves to it', async (t) => {
  const log = await openLmdbInboundLog({ path: await tempDir(t) });
  t.after(() => log.close());
  const t0 = 1_700_000_000_000;
  await log.append(input('Y1', { receivedAt: t0 }));
  assert.deepEqual(await log.append(input('Y1', { receivedAt: t0 + 1000, body: 'CHANGED' })), {
    kind: 'appended',
    seq: 2,
    dedupCollision: true,
  });
  assert.deepEqual(await log.append(input('Y1', { receivedAt: t0 + 2000, body: 'CHANGED' })), { kind: 'duplicate', seq: 2 });
  // the original body is now a collision again (the index points at seq 2)
  assert.deepEqual(await log.append(input('Y1', { receivedAt: t0 + 3000 })), { kind: 'appended', seq: 3, dedupCollision: true });
});

test('a key older than the dedup window is ignored: the resend is appended, without collision', async (t) => {
  const log = await openLmdbInboundLog({ path: await tempDir(t), dedupWindowMs: 60_000 });
  t.after(() => log.close());
  const t0 = 1_700_000_000_000;
  await log.append(input('Z1', { receivedAt: t0 }));
  assert.deepEqual(await log.append(input('Z1', { receivedAt: t0 + 59_999 })), { kind: 'duplicate', seq: 1 });
  assert.deepEqual(await log.append(input('Z1', { receivedAt: t0 + 60_000 })), { kind: 'appended', seq: 2, dedupCollision: false });
});

test('two appends of the same key before the first commits: the second waits and answers duplicate', async (t) => {
  const log = await openLmdbInboundLog({ path: await tempDir(t) });
  t.after(() => log.close());
  const first = log.append(input('Q1'));
  const second = log.append(input('Q1'));
  const third = log.append(input('Q1', { body: 'OTHER' }));
  const fourth = log.append(input('Q1', { body: 'OTHER' }));
  assert.deepEqual(await Promise.all([first, second, third, fourth]), [
    { kind: 'appended', seq: 1, dedupCollision: false },
    { kind: 'duplicate', seq: 1 },
    { kind: 'appended', seq: 2, dedupCollision: true },
    { kind: 'duplicate', seq: 2 },
  ]);
  assert.equal(log.lastSeq(), 2);
});

test('the bytes decide on a key hit: one differing byte, or a longer or shorter body, is a collision', async (t) => {
  const log = await openLmdbInboundLog({ path: await tempDir(t) });
  t.after(() => log.close());
  const a = input('H1');
  await log.append(a);
  const flippedRaw = Buffer.from(a.raw);
  flippedRaw.writeUInt8(flippedRaw.readUInt8(flippedRaw.length - 2) ^ 1, flippedRaw.length - 2);
  const flipped = { ...input('H1'), raw: flippedRaw };
  const longer = input('H1', { body: 'X' });
  const shorter = input('H1');
  shorter.raw = a.raw.subarray(0, a.raw.length - 1);
  assert.deepEqual(await log.append(flipped), { kind: 'appended', seq: 2, dedupCollision: true });
  assert.deepEqual(await log.append(longer), { kind: 'appended', seq: 3, dedupCollision: true });
  assert.deepEqual(await log.append(shorter), { kind: 'appended', seq: 4, dedupCollision: true });
  // a copy of the bytes in another buffer (a resend) is a duplicate of the last one stored
  assert.deepEqual(await log.append({ ...shorter, raw: Buffer.from(shorter.raw) }), { kind: 'duplicate', seq: 4 });
});

test('duplicate detection survives a restart', async (t) => {
  const path = await tempDir(t);
  const t0 = 1_700_000_000_000;
  const log = await openLmdbInboundLog({ path });
  await log.append(input('R1', { receivedAt: t0 }));
  await log.append(input('R2', { receivedAt: t0 }));
  await log.close();
  const reopened = await openLmdbInboundLog({ path });
  t.after(() => reopened.close());
  assert.deepEqual(await reopened.append(input('R2', { receivedAt: t0 + 5000 })), { kind: 'duplicate', seq: 2 });
  assert.deepEqual(await reopened.append(input('R1', { receivedAt: t0 + 5000, body: 'NEW' })), {
    kind: 'appended',
    seq: 3,
    dedupCollision: true,
  });
});

test('a dedup key too long for an LMDB key is still detected (stored hashed)', async (t) => {
  const log = await openLmdbInboundLog({ path: await tempDir(t) });
  t.after(() => log.close());
  const long = 'L'.repeat(5000);
  const a = input(long);
  assert.equal(seqOf(await log.append(a)), 1);
  assert.equal(log.get(1)?.dedupKey, a.dedupKey);
  assert.deepEqual(await log.append(input(long)), { kind: 'duplicate', seq: 1 });
});

test('dedupWindowMs 0 disables duplicate detection', async (t) => {
  const log = await openLmdbInboundLog({ path: await tempDir(t), dedupWindowMs: 0 });
  t.after(() => log.close());
  await log.append(input('D1'));
  assert.deepEqual(await log.append(input('D1')), { kind: 'appended', seq: 2, dedupCollision: false });
});

// Two control IDs whose dedup keys (sender HIS, facility HOSP) share one 32-bit FNV-1a hash,
// the hash the log's in-memory key tables and its index on disk are keyed by.
const COLLIDING = ['Cwz9m', 'C1kcb0'] as const;

test('dedup keys with the same in-memory hash are told apart: pending, committed, flushed and after a restart', async (t) => {
  const [a, b] = COLLIDING;
  assert.equal(hashDedupKey(dedupKeyOf('HIS', 'HOSP', a)), hashDedupKey(dedupKeyOf('HIS', 'HOSP', b)));
  const path = await tempDir(t);
  const t0 = Date.now();
  const log = await openLmdbInboundLog({ path });
  // Pending: both issued before either commits.
  const [first, second, again] = await Promise.all([
    log.append(input(a, { receivedAt: t0 })),
    log.append(input(b, { receivedAt: t0 })),
    log.append(input(a, { receivedAt: t0 })),
  ]);
  assert.deepEqual([first, second, again], [
    { kind: 'appended', seq: 1, dedupCollision: false },
    { kind: 'appended', seq: 2, dedupCollision: false },
    { kind: 'duplicate', seq: 1 },
  ]);
  // Committed, held in memory.
  assert.deepEqual(await log.append(input(b, { receivedAt: t0 })), { kind: 'duplicate', seq: 2 });
  assert.deepEqual(await log.append(input(a, { receivedAt: t0 })), { kind: 'duplicate', seq: 1 });
  // Merged into inbound.dedup-hash (a retention sweep flushes the index first): both keys
  // under one hash there.
  await log.runRetention(t0);
  assert.deepEqual(await log.append(input(b, { receivedAt: t0 })), { kind: 'duplicate', seq: 2 });
  assert.deepEqual(await log.append(input(a, { receivedAt: t0, body: 'NEW' })), { kind: 'appended', seq: 3, dedupCollision: true });
  await log.close();
  const reopened = await openLmdbInboundLog({ path });
  t.after(() => reopened.close());
  assert.deepEqual(await reopened.append(input(a, { receivedAt: t0, body: 'NEW' })), { kind: 'duplicate', seq: 3 });
  assert.deepEqual(await reopened.append(input(b, { receivedAt: t0 })), { kind: 'duplicate', seq: 2 });
  assert.equal(reopened.lastSeq(), 3);
});

const FLUSH_MS = 50;

test('a resend is found wherever its key is: in memory, merged by the timer, or merged by later flushes', async (t) => {
  const log = await openLmdbInboundLog({ path: await tempDir(t), dedupFlushIntervalMs: FLUSH_MS });
  t.after(() => log.close());
  const t0 = Date.now();
  for (let i = 1; i <= 50; i++) assert.equal(seqOf(await log.append(input(`F${i}`, { receivedAt: t0 }))), i);
  // Past the flush interval, the next batch issues a merge of the first 50 keys.
  await new Promise((resolve) => setTimeout(resolve, FLUSH_MS + 20));
  assert.equal(seqOf(await log.append(input('F51', { receivedAt: t0 }))), 51);
  await new Promise((resolve) => setTimeout(resolve, FLUSH_MS + 20));
  assert.equal(seqOf(await log.append(input('F52', { receivedAt: t0 }))), 52);
  for (let i = 1; i <= 52; i++) assert.deepEqual(await log.append(input(`F${i}`, { receivedAt: t0 })), { kind: 'duplicate', seq: i });
  assert.equal(log.lastSeq(), 52);
});

test('merges due by key count keep every key findable, across a restart, with one control id reused for other bytes', async (t) => {
  const path = await tempDir(t);
  const opts = { path, dedupFlushKeys: 8 };
  const log = await openLmdbInboundLog(opts);
  const t0 = Date.now();
  // 200 keys, 8 per merge; R is stored again with other bytes every 10 messages.
  let r = 0;
  for (let i = 1; i <= 200; i++) {
    const outcome = await log.append(i % 10 === 0 ? input('R', { receivedAt: t0, body: `v${i}` }) : input(`G${i}`, { receivedAt: t0 }));
    assert.equal(seqOf(outcome), i);
    if (i % 10 === 0) r = i;
  }
  await log.close();
  const reopened = await openLmdbInboundLog(opts);
  t.after(() => reopened.close());
  for (let i = 1; i <= 200; i++) {
    if (i % 10 === 0) continue;
    assert.deepEqual(await reopened.append(input(`G${i}`, { receivedAt: t0 })), { kind: 'duplicate', seq: i });
  }
  // Only R's latest message counts: an earlier version is a new message with a reused key.
  assert.deepEqual(await reopened.append(input('R', { receivedAt: t0, body: `v${r}` })), { kind: 'duplicate', seq: r });
  assert.deepEqual(await reopened.append(input('R', { receivedAt: t0, body: 'v10' })), { kind: 'appended', seq: 201, dedupCollision: true });
});

test('a log whose dedup index is keyed by key strings (inbound.dedup) drops it at open and rebuilds the index from the records', async (t) => {
  const path = await tempDir(t);
  const t0 = Date.now();
  const log = await openLmdbInboundLog({ path });
  for (let i = 1; i <= 5; i++) assert.equal(seqOf(await log.append(input(`M${i}`, { receivedAt: t0 }))), i);
  await log.close();
  // Lay the environment out as before: the index under its old name, marked complete.
  const root = open({ path, maxDbs: 16 });
  root.openDB<Buffer, number>('inbound.dedup-hash', { keyEncoding: 'uint32', encoding: 'binary' }).dropSync();
  const old = root.openDB<Buffer, string>('inbound.dedup', { encoding: 'binary' });
  await old.put(dedupKeyOf('HIS', 'HOSP', 'M1'), Buffer.alloc(12));
  await root.openDB<number, string>('inbound.state', { encoding: 'msgpack' }).put('dedupIndexedThrough', 5);
  assert.ok([...root.getKeys()].includes('inbound.dedup'));
  await root.close();

  const reopened = await openLmdbInboundLog({ path });
  for (let i = 1; i <= 5; i++) assert.deepEqual(await reopened.append(input(`M${i}`, { receivedAt: t0 })), { kind: 'duplicate', seq: i });
  await reopened.close();
  const after = open({ path, maxDbs: 16 });
  t.after(() => after.close());
  assert.ok(![...after.getKeys()].includes('inbound.dedup'), 'the old index is gone');
  const index = after.openDB<Buffer, number>('inbound.dedup-hash', { keyEncoding: 'uint32', encoding: 'binary' });
  for (let i = 1; i <= 5; i++) assert.ok(index.get(hashDedupKey(dedupKeyOf('HIS', 'HOSP', `M${i}`))) !== undefined, `M${i} is in the new index`);
});
