/**
 * Crash safety of conversion: an engine child process converts a pre-filled inbound log and
 * is SIGKILLed at random moments, several times, restarted each time (the last run goes to
 * the end). The result is compared with an uninterrupted run over a copy of the same log:
 *
 * - the repository digests are equal (no change lost or applied twice);
 * - the event logs are equal event by event (type, messageSeq and data; `time` aside):
 *   seqs contiguous from 1, and no message's events appear twice or are missing;
 * - the dead-letter tables hold the same seqs.
 *
 * At least one kill must land mid-conversion (0 < cursor < N), or the test says so and fails.
 * Kills are placed at random instants: after the child's cursor passes a random point, plus
 * a random 0-15 ms. Checked against mutations of the applier: committing the cursor in its
 * own transaction before the changes (a crash in between loses changes) fails this test
 * 5 runs out of 5; committing it after the changes (a crash in between replays a range)
 * passed, because replaying these messages changed neither the repository nor the events.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { resolveEngineOptions } from '../../src/config.js';
import { openConversionStore } from '../../src/converter/stage.js';
import type { EngineEvent } from '../../src/events/types.js';
import { convertAll, corpus, filledLog, tempDir } from './helpers.js';

const BIN = fileURLToPath(new URL('../../../bin/pacslink.js', import.meta.url));
const N = 3000;
const KILLS = 5;
const CONFIG = { converter: { workers: 2, batchSize: 16, maxInFlightBatches: 4 } };

interface Child {
  child: ChildProcess;
  exited: Promise<unknown>;
}

/** Starts `pacslink start` on the data dir; resolves once its converter has started. */
async function startChild(dataDir: string, config: string): Promise<Child> {
  const child = spawn(process.execPath, [BIN, 'start', '--data', dataDir, '--config', config, '--mllp', '127.0.0.1:0', '--http', '127.0.0.1:0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stderr! });
  for await (const line of lines) {
    if (line.includes('"converter started"')) {
      lines.on('line', () => {});
      return { child, exited };
    }
  }
  throw new Error('the engine exited before its converter started');
}

async function snapshot(dataDir: string): Promise<{ cursor: number; digest: string; events: EngineEvent[]; dead: number[] }> {
  const store = await openConversionStore(resolveEngineOptions({ dataDir, ...CONFIG }));
  try {
    return {
      cursor: store.state.cursor(),
      digest: store.repository.digest(),
      events: store.events.range(0, 1e9),
      dead: store.deadLetters.list(0, 1e9).map((d) => d.seq),
    };
  } finally {
    await store.repository.close();
  }
}

describe('conversion crash safety', () => {
  it('after repeated SIGKILLs during conversion, repository, events and dead letters equal an uninterrupted run', { timeout: 240_000 }, async (t) => {
    const root = await tempDir(t, 'pacslink-conv-crash-');
    const crashed = join(root, 'crashed');
    const reference = join(root, 'reference');
    const log = await filledLog(join(crashed, 'inbound'), corpus(N, 4242));
    await log.close();
    await cp(join(crashed, 'inbound'), join(reference, 'inbound'), { recursive: true });
    const config = join(root, 'config.json');
    await writeFile(config, JSON.stringify(CONFIG));

    const cursors: number[] = [];
    // The child's progress, read from its repository (LMDB allows readers in other processes).
    const { open } = await import('lmdb');
    let previous = 0;
    for (let k = 0; k < KILLS; k++) {
      const { child, exited } = await startChild(crashed, config);
      const env = open({ path: join(crashed, 'repository'), readOnly: true, maxDbs: 64 });
      const state = env.openDB<number, string>('conv.state', { encoding: 'msgpack' });
      // A random moment: once the cursor has passed a random point of what is left.
      const target = previous + 1 + Math.floor(Math.random() * ((N - previous) / (KILLS - k + 1)));
      const deadline = Date.now() + 60_000;
      for (;;) {
        env.resetReadTxn();
        if ((state.get('cursor') ?? 0) >= target || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 1));
      }
      // The cursor was just written: move the kill to a random instant of the ranges after it.
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 15)));
      child.kill('SIGKILL');
      await exited;
      await env.close();
      const { cursor } = await snapshot(crashed);
      cursors.push(cursor);
      previous = cursor;
      if (cursor >= N) break;
    }
    t.diagnostic(`cursor after each kill: ${cursors.join(', ')}`);
    assert.ok(cursors.some((c) => c > 0 && c < N), `a kill landed mid-conversion (cursors ${cursors.join(', ')})`);

    // The restart that finishes the job (in-process: the same converter code).
    const finished = await convertAll(crashed, CONFIG);
    assert.equal(finished.stats.position, N);
    const ref = await convertAll(reference, CONFIG);
    const a = await snapshot(crashed);
    const b = await snapshot(reference);
    assert.equal(a.digest, ref.digest, 'the repository equals that of the uninterrupted run');
    assert.equal(b.digest, ref.digest);
    assert.deepEqual(a.dead, b.dead, 'the same dead letters');
    assert.equal(a.events.length, b.events.length, 'as many events');
    a.events.forEach((e, i) => {
      assert.equal(e.seq, i + 1, 'event seqs contiguous from 1');
      const r = b.events[i]!;
      assert.equal(e.type, r.type);
      assert.equal(e.messageSeq, r.messageSeq, `event ${e.seq}: same message`);
      if (e.type !== 'message.rejected') assert.deepEqual(e.data, r.data, `event ${e.seq}: same data`);
    });
  });
});
