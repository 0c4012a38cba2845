import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openLmdbInboundLog } from '../../src/queue/lmdb-log.js';
import { crashMessage, tempDir } from './helpers.js';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'append-loop.js');

/** Runs the child until it has printed `target` acknowledged appends, then SIGKILLs it. */
async function runAndKill(dir: string, start: number, target: number, mode = 'plain'): Promise<Array<[number, number]>> {
  const child = spawn(process.execPath, [fixture, dir, String(start), '16', mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  const acked: Array<[number, number]> = [];
  let buffered = '';
  const exited = once(child, 'exit');
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (line === 'ready') continue;
      const [seq, i] = line.split(' ').map(Number);
      if (seq === undefined || i === undefined) continue;
      acked.push([seq, i]);
      if (acked.length === target) child.kill('SIGKILL');
    }
  });
  const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
  assert.equal(signal, 'SIGKILL', `child was killed, not exited with ${code}`);
  return acked;
}

test('SIGKILL at a random moment loses no acknowledged append and duplicates no seq', { timeout: 30_000 }, async (t) => {
  const dir = await tempDir(t);
  const allAcked = new Map<number, number>();
  for (let run = 0; run < 4; run++) {
    const target = 50 + Math.floor(Math.random() * 1500);
    const acked = await runAndKill(dir, run * 1_000_000, target);
    assert.ok(acked.length >= target);
    for (const [seq, i] of acked) {
      assert.equal(allAcked.has(seq), false, `seq ${seq} acknowledged twice`);
      allAcked.set(seq, i);
    }
    const log = await openLmdbInboundLog({ path: dir });
    try {
      for (const [seq, i] of allAcked) {
        const r = log.get(seq);
        assert.ok(r, `acknowledged seq ${seq} (message ${i}) survived run ${run}`);
        assert.deepEqual(Buffer.from(r.raw), crashMessage(i).raw, `seq ${seq} holds message ${i}`);
        assert.equal(r.controlId, `P${i}`);
      }
      // the log is gap-free and every stored message is stored once
      const ids = new Set<string>();
      let expected = 1;
      for (const r of log.range(1, log.lastSeq())) {
        assert.equal(r.seq, expected++, 'no gap in seq');
        assert.equal(ids.has(r.controlId), false, `${r.controlId} stored twice`);
        ids.add(r.controlId);
        assert.deepEqual(Buffer.from(r.raw), crashMessage(Number(r.controlId.slice(1))).raw);
      }
      assert.equal(expected - 1, log.lastSeq());
    } finally {
      await log.close();
    }
  }
});

for (const [mode, what] of [
  ['dedup', 'dedup keys are never lost'],
  ['dedup-merge', 'nor when the kill lands in a merge of the dedup index'],
] as const) {
  test(`after SIGKILL every acknowledged message is still a duplicate when resent (${what})`, { timeout: 30_000 }, async (t) => {
    const dir = await tempDir(t);
    const acked = new Map<number, number>();
    for (let run = 0; run < 2; run++) {
      for (const [seq, i] of await runAndKill(dir, run * 1_000_000, 200 + Math.floor(Math.random() * 1500), mode)) acked.set(seq, i);
      const log = await openLmdbInboundLog({ path: dir, dedupWindowMs: 365 * 86_400_000, ...(mode === 'dedup-merge' ? { dedupFlushKeys: 64 } : {}) });
      try {
        const last = log.lastSeq();
        for (const [seq, i] of acked) assert.deepEqual(await log.append(crashMessage(i, true)), { kind: 'duplicate', seq }, `message ${i}`);
        assert.equal(log.lastSeq(), last, 'no resend was stored again');
      } finally {
        await log.close();
      }
    }
  });
}
