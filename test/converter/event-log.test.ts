import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { open, type RootDatabase } from 'lmdb';
import { openEventLog } from '../../src/events/log.js';
import type { EngineEvent } from '../../src/events/types.js';

async function env(t: TestContext): Promise<{ root: RootDatabase; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'pacslink-events-'));
  const root = open({ path: dir, maxDbs: 8 });
  t.after(async () => {
    await root.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { root, dir };
}

describe('event log', () => {
  it('assigns seqs from 1 inside the caller transaction, tells listeners after commit, reads ranges', async (t) => {
    const { root } = await env(t);
    const fixed = new Date('2024-01-02T03:04:05.000Z');
    const log = openEventLog(root, { now: () => fixed });
    const heard: EngineEvent[][] = [];
    const off = log.onAppended((events) => heard.push([...events]));
    root.transactionSync(() => {
      const a = log.append({ type: 'patient.created', messageSeq: 7, data: { key: 'P1' } });
      const b = log.append({ type: 'order.scheduled', messageSeq: 7, data: { key: 'O1' } });
      assert.equal(a.seq, 1);
      assert.equal(b.seq, 2);
      assert.equal(a.time, '2024-01-02T03:04:05.000Z');
      // nothing is announced or visible as committed before the commit
      assert.equal(heard.length, 0);
      assert.equal(log.lastSeq(), 0);
    });
    log.committed();
    assert.equal(log.lastSeq(), 2);
    assert.deepEqual(heard.map((batch) => batch.map((e) => e.seq)), [[1, 2]]);
    assert.deepEqual(log.range(0, 10).map((e) => [e.seq, e.type, e.messageSeq]), [
      [1, 'patient.created', 7],
      [2, 'order.scheduled', 7],
    ]);
    assert.deepEqual(log.range(1, 10).map((e) => e.seq), [2]);
    assert.deepEqual(log.range(2, 10), []);
    assert.deepEqual(log.range(0, 1).map((e) => e.seq), [1]);
    off();
    root.transactionSync(() => log.append({ type: 'report.created', messageSeq: 8, data: {} }));
    log.committed();
    assert.equal(heard.length, 1, 'a removed listener hears nothing');
  });

  it('an aborted transaction leaves no event and its seqs are handed out again (no gap)', async (t) => {
    const { root } = await env(t);
    const log = openEventLog(root);
    assert.throws(() =>
      root.transactionSync(() => {
        log.append({ type: 'patient.created', messageSeq: 1, data: {} });
        throw new Error('boom');
      }),
    );
    log.rolledBack();
    assert.equal(log.lastSeq(), 0);
    assert.deepEqual(log.range(0, 10), []);
    root.transactionSync(() => log.append({ type: 'patient.updated', messageSeq: 2, data: {} }));
    log.committed();
    assert.deepEqual(log.range().map((e) => [e.seq, e.type]), [[1, 'patient.updated']]);
  });

  it('numbering continues after reopening the environment', async (t) => {
    const { root, dir } = await env(t);
    const first = openEventLog(root);
    root.transactionSync(() => {
      first.append({ type: 'patient.created', messageSeq: 1, data: {} });
      first.append({ type: 'patient.updated', messageSeq: 2, data: {} });
    });
    first.committed();
    const other = open({ path: dir, maxDbs: 8 });
    t.after(() => other.close());
    const again = openEventLog(other);
    assert.equal(again.lastSeq(), 2);
    other.transactionSync(() => assert.equal(again.append({ type: 'visit.created', messageSeq: 3, data: {} }).seq, 3));
    again.committed();
  });
});
