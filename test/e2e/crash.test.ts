/**
 * Crash safety: many connections send while the engine process is killed with SIGKILL at
 * random moments and restarted, several times. Senders behave like real MLLP senders: a
 * message whose ACK was lost is sent again on the next connection. Afterwards every
 * acknowledged message is in the log exactly once (resends were recognised as duplicates),
 * sequence numbers are contiguous from 1, and the log reads back without error.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { MllpClient, readAck } from '../../src/mllp/client.js';
import { openLmdbInboundLog } from '../../src/queue/index.js';
import { message } from '../listener/helpers.js';

const BIN = fileURLToPath(new URL('../../../bin/pacslink.js', import.meta.url));
const CONNECTIONS = 24;
const KILLS = 5;

interface Running {
  child: ChildProcess;
  port: number;
  exited: Promise<number | null>;
}

/** Starts the engine as a child process and resolves once its listener has logged its port. */
async function startChild(dataDir: string): Promise<Running> {
  const child = spawn(process.execPath, [BIN, 'start', '--data', dataDir, '--mllp', '127.0.0.1:0', '--http', '127.0.0.1:0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const lines = createInterface({ input: child.stderr! });
  for await (const line of lines) {
    const entry = JSON.parse(line) as { msg: string; port?: number };
    if (entry.msg === 'mllp listener started' && entry.port !== undefined) {
      lines.on('line', () => {});
      return { child, port: entry.port, exited };
    }
  }
  throw new Error(`engine exited before listening (code ${await exited})`);
}

describe('crash safety', () => {
  it('after repeated SIGKILLs, every acknowledged message is in the log exactly once', { timeout: 180_000 }, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'pacslink-crash-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const dataDir = join(dir, 'data');

    let current = await startChild(dataDir);
    let ready: Promise<number> = Promise.resolve(current.port);
    let markReady: (port: number) => void = () => {};
    const acked = new Set<string>();
    let totalAcks = 0;
    let killAt = 200 + Math.floor(Math.random() * 800);
    let kills = 0;
    let done = false;
    let restarting: Promise<void> | undefined;
    let resent = 0;

    const killAndRestart = async (): Promise<void> => {
      ready = new Promise((resolve) => (markReady = resolve));
      current.child.kill('SIGKILL');
      await current.exited;
      kills++;
      current = await startChild(dataDir);
      killAt = totalAcks + 200 + Math.floor(Math.random() * 1500);
      markReady(current.port);
    };

    const sender = async (c: number): Promise<void> => {
      let n = 0;
      let inflight: { id: string; bytes: Buffer } | undefined;
      while (!done) {
        let client: MllpClient;
        try {
          client = await MllpClient.connect({ host: '127.0.0.1', port: await ready, ackTimeoutMs: 20_000 });
        } catch {
          await ready.then(() => undefined);
          if (restarting !== undefined) await restarting;
          continue;
        }
        try {
          if (inflight !== undefined) resent++;
          while (!done) {
            if (inflight === undefined) {
              const id = `C${c}-${n++}`;
              inflight = { id, bytes: message(id, { sender: `S${c}` }) };
            }
            const ack = readAck(await client.send(inflight.bytes));
            assert.equal(ack.controlId, inflight.id, 'MSA-2 answers the message sent');
            assert.equal(ack.code, 'AA');
            acked.add(inflight.id);
            inflight = undefined;
            totalAcks++;
            if (kills < KILLS && totalAcks >= killAt && restarting === undefined) {
              restarting = killAndRestart().finally(() => (restarting = undefined));
            }
            if (kills >= KILLS && totalAcks >= killAt) done = true;
          }
          await client.close();
        } catch (err) {
          if ((err as { code?: string }).code === 'ERR_ASSERTION') throw err;
          client.socket.destroy();
          if (restarting !== undefined) await restarting;
        }
      }
    };

    await Promise.all(Array.from({ length: CONNECTIONS }, (_, c) => sender(c)));
    assert.equal(kills, KILLS);
    current.child.kill('SIGTERM');
    assert.equal(await current.exited, 0, 'graceful stop exits 0');

    const log = await openLmdbInboundLog({ path: join(dataDir, 'inbound') });
    try {
      const counts = new Map<string, number>();
      let expectSeq = 1;
      for (const r of log.range(1, log.lastSeq())) {
        assert.equal(r.seq, expectSeq++, 'seqs are contiguous');
        counts.set(r.controlId, (counts.get(r.controlId) ?? 0) + 1);
      }
      assert.equal(expectSeq - 1, log.lastSeq());
      for (const id of acked) assert.equal(counts.get(id), 1, `${id} stored exactly once`);
      for (const [id, n] of counts) assert.equal(n, 1, `${id} never stored twice`);
      t.diagnostic(`kills ${kills}, acknowledged ${acked.size}, stored ${expectSeq - 1}, resent after a kill ${resent}`);
      assert.ok(acked.size >= 1000, `enough traffic (${acked.size} acknowledged)`);
    } finally {
      await log.close();
    }
  });
});
