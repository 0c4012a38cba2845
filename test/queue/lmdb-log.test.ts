import assert from 'node:assert/strict';
import { test } from 'node:test';
import { open } from 'lmdb';
import { openLmdbInboundLog } from '../../src/queue/lmdb-log.js';
import { lmdbInboundLogDefaults } from '../../src/queue/options.js';
import { DbName, encodeRecord } from '../../src/queue/schema.js';
import { input, seqOf, sized, tempDir } from './helpers.js';

test('append stores the exact bytes and metadata under seq 1, 2, 3', async (t) => {
  const log = await openLmdbInboundLog({ path: await tempDir(t) });
  t.after(() => log.close());
  assert.equal(log.lastSeq(), 0);
  assert.equal(log.firstSeq(), 0);
  const a = input('A1');
  const binary = sized('B1', 3000);
  binary.raw[2000] = 0x00; // bytes are stored verbatim, NUL and high bytes included
  binary.raw[2001] = 0xff;
  const outcomes = await Promise.all([log.append(a), log.append(binary), log.append(input('C1', { dedup: false }))]);
  assert.deepEqual(outcomes, [
    { kind: 'appended', seq: 1, dedupCollision: false },
    { kind: 'appended', seq: 2, dedupCollision: false },
    { kind: 'appended', seq: 3, dedupCollision: false },
  ]);
  const r1 = log.get(1);
  assert.ok(r1);
  assert.deepEqual(Buffer.from(r1.raw), Buffer.from(a.raw));
  assert.equal(r1.seq, 1);
  assert.equal(r1.receivedAt, a.receivedAt);
  assert.equal(r1.listener, 'adt');
  assert.equal(r1.remote, '10.0.0.1:4000');
  assert.equal(r1.messageType, 'ADT^A01^ADT_A01');
  assert.equal(r1.controlId, 'A1');
  assert.equal(r1.dedupKey, a.dedupKey);
  assert.deepEqual(Buffer.from(log.get(2)?.raw ?? []), Buffer.from(binary.raw));
  assert.equal(log.get(3)?.dedupKey, undefined);
  assert.equal(log.get(4), undefined);
  assert.equal(log.get(0), undefined);
  assert.equal(log.lastSeq(), 3);
  assert.equal(log.firstSeq(), 1);
  assert.deepEqual([...log.range(2, 10)].map((r) => r.seq), [2, 3]);
  assert.deepEqual([...log.range(3, 2)], []);
});

test('seq numbering continues after close and reopen', async (t) => {
  const path = await tempDir(t);
  let log = await openLmdbInboundLog({ path });
  for (let i = 0; i < 5; i++) seqOf(await log.append(input(`M${i}`)));
  await log.close();
  log = await openLmdbInboundLog({ path });
  t.after(() => log.close());
  assert.equal(log.lastSeq(), 5);
  assert.equal(seqOf(await log.append(input('M5'))), 6);
  assert.equal(log.get(3)?.controlId, 'M2');
});

for (const gatherMs of [0, 1, 100]) {
  test(`concurrent appends from many callers are all durable, in call order, without gaps (gatherMs ${gatherMs})`, async (t) => {
    const path = await tempDir(t);
    // gatherMs 100: a gather window far longer than a commit must still end (by the appenders'
    // return or its timer) without losing or reordering anything.
    const log = await openLmdbInboundLog({ path, gatherMs });
    const callers = 64;
    const perCaller = 20;
    const order: string[] = [];
    const results = new Map<string, number>();
    await Promise.all(
      Array.from({ length: callers }, async (_, c) => {
        for (let i = 0; i < perCaller; i++) {
          const id = `C${c}-${i}`;
          order.push(id);
          const p = log.append(input(id));
          results.set(id, seqOf(await p));
        }
      }),
    );
    const total = callers * perCaller;
    assert.equal(log.lastSeq(), total);
    // seq order is call order
    assert.deepEqual(
      order.map((id) => results.get(id)),
      Array.from({ length: total }, (_, i) => i + 1),
    );
    await log.close();
    // everything was durable before close: a fresh open sees every record with its bytes
    const reopened = await openLmdbInboundLog({ path });
    t.after(() => reopened.close());
    const seen = [...reopened.range(1, total)];
    assert.equal(seen.length, total);
    for (const r of seen) assert.equal(r.controlId, order[r.seq - 1]);
  });
}

test('records keep their bytes while their encoding space is reused: many megabytes appended concurrently read back exact', async (t) => {
  const path = await tempDir(t);
  const log = await openLmdbInboundLog({ path });
  // ≈11 MB through 1 MiB record slabs, 64 appenders of 20–40 KB at once: one batch (≈1.4 MB)
  // fills more than a slab, so slabs fill and are written again while records of the same
  // and of earlier batches still wait for their transaction (schema.ts RecordSlab).
  const callers = 64;
  const perCaller = 8;
  const body = (c: number, i: number): string => `|${String(c * 100 + i).padStart(6, '0')}|`.repeat(2500 + ((c * 7 + i * 13) % 2500));
  const sent = new Map<number, Buffer>();
  await Promise.all(
    Array.from({ length: callers }, async (_, c) => {
      for (let i = 0; i < perCaller; i++) {
        const rec = input(`R${c}-${i}`, { body: body(c, i) });
        sent.set(seqOf(await log.append(rec)), Buffer.from(rec.raw));
      }
    }),
  );
  const bytes = [...sent.values()].reduce((n, b) => n + b.length, 0);
  assert.ok(bytes > 8 << 20, `several slabs' worth was appended (${bytes} bytes)`);
  await log.close();
  const reopened = await openLmdbInboundLog({ path });
  t.after(() => reopened.close());
  let checked = 0;
  for (const r of reopened.range(1, callers * perCaller)) {
    assert.deepEqual(Buffer.from(r.raw), sent.get(r.seq), `record ${r.seq} is byte for byte what was appended`);
    checked++;
  }
  assert.equal(checked, callers * perCaller);
});

test('pendingBytes counts appended bytes until they are durable, then returns to 0', async (t) => {
  const log = await openLmdbInboundLog({ path: await tempDir(t) });
  t.after(() => log.close());
  assert.equal(log.pendingBytes(), 0);
  const a = sized('P1', 1000);
  const b = sized('P2', 2500);
  const pa = log.append(a);
  assert.equal(log.pendingBytes(), 1000);
  const pb = log.append(b);
  assert.equal(log.pendingBytes(), 3500);
  await Promise.all([pa, pb]);
  assert.equal(log.pendingBytes(), 0);
});

test('close waits for in-flight appends and later appends are rejected with CLOSING', async (t) => {
  const path = await tempDir(t);
  const log = await openLmdbInboundLog({ path });
  const inflight = Array.from({ length: 200 }, (_, i) => log.append(input(`F${i}`)));
  const settled: number[] = [];
  for (const p of inflight) void p.then((o) => settled.push(seqOf(o)));
  const closed = log.close();
  assert.deepEqual(await log.append(input('late')), { kind: 'rejected', code: 'CLOSING', message: 'the inbound log is closing' });
  await closed;
  assert.equal(settled.length, 200, 'every in-flight append settled before close resolved');
  assert.equal(log.close(), closed, 'close is idempotent');
  const reopened = await openLmdbInboundLog({ path });
  t.after(() => reopened.close());
  assert.equal(reopened.lastSeq(), 200);
});

test('cursors are durable across reopen and start at 0', async (t) => {
  const path = await tempDir(t);
  const log = await openLmdbInboundLog({ path });
  assert.equal(log.getCursor('converter'), 0);
  for (let i = 0; i < 3; i++) await log.append(input(`K${i}`));
  await log.setCursor('converter', 2);
  await log.setCursor('audit', 1);
  await log.setCursor('converter', 3);
  await log.close();
  const reopened = await openLmdbInboundLog({ path });
  t.after(() => reopened.close());
  assert.equal(reopened.getCursor('converter'), 3);
  assert.equal(reopened.getCursor('audit'), 1);
  assert.equal(reopened.getCursor('other'), 0);
  await assert.rejects(reopened.setCursor('', 1), { name: 'RangeError', message: 'cursor name must be a non-empty string of at most 256 bytes' });
  await assert.rejects(reopened.setCursor('x', -1), { name: 'RangeError', message: 'cursor seq must be an integer between 0 and 4294967295' });
});

test('options are validated once with exact messages and defaults are frozen', async (t) => {
  const path = await tempDir(t);
  assert.ok(Object.isFrozen(lmdbInboundLogDefaults));
  assert.ok(Object.isFrozen(lmdbInboundLogDefaults.retention));
  assert.equal(lmdbInboundLogDefaults.dedupWindowMs, 7 * 86_400_000);
  assert.equal(lmdbInboundLogDefaults.maxStorageBytes, 0);
  await assert.rejects(openLmdbInboundLog({ path: '' }), { name: 'TypeError', message: 'inboundLog.path must be a non-empty string' });
  await assert.rejects(openLmdbInboundLog({ path, dedupWindowMs: -1 }), {
    name: 'RangeError',
    message: 'inboundLog.dedupWindowMs must be an integer between 0 and 365 days',
  });
  await assert.rejects(openLmdbInboundLog({ path, maxStorageBytes: 1.5 }), {
    name: 'RangeError',
    message: 'inboundLog.maxStorageBytes must be a non-negative integer',
  });
  await assert.rejects(openLmdbInboundLog({ path, retention: { intervalMs: 10 } }), {
    name: 'RangeError',
    message: 'inboundLog.retention.intervalMs must be an integer between 1 s and 1 day',
  });
  await assert.rejects(openLmdbInboundLog({ path, retentionBatchSize: 5000 }), {
    name: 'RangeError',
    message: 'inboundLog.retentionBatchSize must be an integer between 1 and 1000',
  });
  await assert.rejects(openLmdbInboundLog({ path, maxBatchRecords: 0 }), {
    name: 'RangeError',
    message: 'inboundLog.maxBatchRecords must be an integer between 1 and 100000',
  });
  await assert.rejects(openLmdbInboundLog({ path, gatherMs: 101 }), {
    name: 'RangeError',
    message: 'inboundLog.gatherMs must be an integer between 0 and 100',
  });
  for (const pageSize of [2048, 12_288, 131_072, 4096.5]) {
    await assert.rejects(openLmdbInboundLog({ path, pageSize }), {
      name: 'RangeError',
      message: 'inboundLog.pageSize must be a power of two between 4096 and 65536',
    });
  }
});

test('a new log has 16 KiB pages; a log keeps the page size it was created with', async (t) => {
  const pageSizeOf = (path: string): number => {
    const env = open({ path, maxDbs: 16, readOnly: true });
    try {
      return (env.getStats() as { pageSize: number }).pageSize;
    } finally {
      void env.close();
    }
  };
  const fresh = await tempDir(t);
  const log = await openLmdbInboundLog({ path: fresh });
  await log.append(sized('P1', 7000));
  await log.close();
  assert.equal(pageSizeOf(fresh), 16_384);
  // A log created with 4 KiB pages (every log before this default) is opened as it is, and
  // reads back what it held and what is appended now.
  const older = await tempDir(t);
  const first = await openLmdbInboundLog({ path: older, pageSize: 4096 });
  await first.append(sized('P2', 7000));
  await first.close();
  const reopened = await openLmdbInboundLog({ path: older });
  await reopened.append(sized('P3', 7000));
  assert.deepEqual([...reopened.range(1, 2)].map((r) => [r.controlId, r.raw.byteLength]), [['P2', 7000], ['P3', 7000]]);
  await reopened.close();
  assert.equal(pageSizeOf(older), 4096);
});

test('a batch larger than maxBatchRecords is split across transactions, order kept', async (t) => {
  const log = await openLmdbInboundLog({ path: await tempDir(t), maxBatchRecords: 7 });
  t.after(() => log.close());
  const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append(input(`S${i}`))));
  assert.deepEqual(
    outcomes.map(seqOf),
    Array.from({ length: 50 }, (_, i) => i + 1),
  );
  assert.deepEqual([...log.range(1, 50)].map((r) => r.controlId), Array.from({ length: 50 }, (_, i) => `S${i}`));
});

test('append refuses an empty or non-binary message without consuming a seq', async (t) => {
  const log = await openLmdbInboundLog({ path: await tempDir(t) });
  t.after(() => log.close());
  const empty = { ...input('E0'), raw: new Uint8Array(0) };
  await assert.rejects(log.append(empty), { name: 'TypeError', message: 'append: raw must be a non-empty Uint8Array' });
  await assert.rejects(log.append({ ...input('E1'), receivedAt: Number.NaN }), {
    name: 'TypeError',
    message: 'append: receivedAt must be a finite number',
  });
  assert.equal(seqOf(await log.append(input('E2'))), 1);
});

test('an environment of the earlier layout (inbound.meta) is refused at open, not silently restarted at seq 1', async (t) => {
  const path = await tempDir(t);
  const env = open({ path, maxDbs: 16 });
  await env.openDB<unknown, number>('inbound.meta', { keyEncoding: 'uint32' }).put(1, [1, 0, 'a', 'b', 'c', 'd', null, null]);
  await env.close();
  await assert.rejects(openLmdbInboundLog({ path }), { name: 'PacslinkError', code: 'ERR_LOG_LAYOUT' });
});

test('records are appended in seq order; should a record above the next seq appear, that append is refused and numbering resumes above it', async (t) => {
  const path = await tempDir(t);
  const log = await openLmdbInboundLog({ path });
  t.after(() => log.close());
  assert.equal(seqOf(await log.append(input('A1'))), 1);
  // Another writer (never the log itself) puts seq 5 behind the log's back.
  const other = open({ path, maxDbs: 16 });
  const raw = other.openDB<Buffer, number>(DbName.Raw, { keyEncoding: 'uint32', encoding: 'binary' });
  await raw.put(5, encodeRecord(input('X5')));
  const refused = await log.append(input('A2'));
  assert.equal(refused.kind, 'rejected');
  assert.equal((refused as { code: string }).code, 'STORAGE_FAILED');
  assert.match((refused as { message: string }).message, /refused the append/);
  assert.equal(log.get(2), undefined, 'nothing was stored under the refused seq');
  assert.equal(seqOf(await log.append(input('A3'))), 6);
  assert.equal(log.get(6)?.controlId, 'A3');
  assert.equal(log.get(5)?.controlId, 'X5');
});
