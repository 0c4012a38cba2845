/**
 * The converter's infrastructure with the real workers and mappers and a recording stand-in
 * for the repository: seq order under parallel workers, bounded in-flight ranges, dead
 * letters that do not stop the messages behind them, the per-message fallback, the cursor
 * and its mirror in the inbound log.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Piscina } from 'piscina';
import { Converter, type ConverterSettings } from '../../src/converter/converter.js';
import type { ConvertReply, ConvertTask, WorkerConfig } from '../../src/converter/work.js';
import { createMappingOptions } from '../../src/converter/map/index.js';
import { openEventLog } from '../../src/events/log.js';
import { silentLogger } from '../../src/log.js';
import { FakeRepository } from './fake-repository.js';
import { a04, a04WithoutId, corpus, filledLog, tempDir } from './helpers.js';

const mapping = createMappingOptions({ timeZone: 'UTC' });
const WORKER = new URL('../../src/converter/worker-entry.cjs', import.meta.url).href;

function settings(over: Partial<ConverterSettings> = {}): ConverterSettings {
  return { workers: 2, batchSize: 8, maxInFlightBatches: 4, pollIntervalMs: 5, ...over };
}

describe('converter pipeline', () => {
  it('applies strictly in seq order although two workers finish ranges out of order', async (t) => {
    const dir = await tempDir(t);
    const messages = corpus(400);
    const log = await filledLog(join(dir, 'inbound'), messages);
    t.after(() => log.close());
    const repo = new FakeRepository(join(dir, 'repo'));
    t.after(() => repo.close());
    const workerData: WorkerConfig = { inboundPath: log.path, mapping };
    const pool = new Piscina<ConvertTask, ConvertReply>({ filename: WORKER, minThreads: 2, maxThreads: 2, workerData });
    t.after(() => pool.destroy());
    // Every other range is held back a little, so later ranges overtake it.
    let n = 0;
    const arrived: number[] = [];
    const run = async (task: ConvertTask): Promise<ConvertReply> => {
      const reply = await pool.run(task);
      if (n++ % 2 === 0) await new Promise((r) => setTimeout(r, 3));
      arrived.push(reply.fromSeq);
      return reply;
    };
    const converter = new Converter(settings(), {
      log,
      inboundPath: log.path,
      repository: repo,
      events: openEventLog(repo.env),
      mapping,
      logger: silentLogger,
      run,
    });
    await converter.idle(400);
    const stats = converter.stats();
    await converter.stop();
    assert.ok(
      arrived.some((seq, i) => i > 0 && seq < arrived[i - 1]!),
      'some replies arrived before the range ahead of them',
    );
    assert.equal(stats.position, 400);
    const applied = repo.calls;
    for (let i = 1; i < applied.length; i++) assert.ok(applied[i - 1]! < applied[i]!, `seq ${applied[i]} applied after ${applied[i - 1]}`);
    assert.equal(stats.applied + stats.ignored + stats.deadLettered, 400);
    assert.equal(converter.state.cursor(), 400);
    assert.equal(log.getCursor('converter'), 400, 'the position is mirrored into the inbound log');
  });

  it('never has more than maxInFlightBatches ranges outstanding, however long the backlog', async (t) => {
    const dir = await tempDir(t);
    const log = await filledLog(join(dir, 'inbound'), corpus(300));
    t.after(() => log.close());
    const repo = new FakeRepository(join(dir, 'repo'));
    t.after(() => repo.close());
    const pool = new Piscina<ConvertTask, ConvertReply>({ filename: WORKER, minThreads: 2, maxThreads: 2, workerData: { inboundPath: log.path, mapping } });
    t.after(() => pool.destroy());
    const held: Array<() => void> = [];
    let running = 0;
    let peak = 0;
    const run = async (task: ConvertTask): Promise<ConvertReply> => {
      running++;
      peak = Math.max(peak, running);
      const reply = await pool.run(task);
      await new Promise<void>((resolve) => held.push(resolve));
      running--;
      return reply;
    };
    const converter = new Converter(settings({ batchSize: 10, maxInFlightBatches: 3 }), {
      log,
      inboundPath: log.path,
      repository: repo,
      events: openEventLog(repo.env),
      mapping,
      logger: silentLogger,
      run,
    });
    const done = converter.idle(300);
    // Release held replies one at a time, newest first, checking the bound each time.
    while (converter.position() < 300) {
      await new Promise((r) => setImmediate(r));
      assert.ok(converter.stats().inFlight <= 3);
      const release = held.pop();
      release?.();
    }
    await done;
    await converter.stop();
    assert.equal(peak, 3, 'the pool is kept busy up to the limit and not beyond');
    const stats = converter.stats();
    assert.ok(stats.peakInFlight <= 3);
    assert.equal(stats.position, 300);
    assert.equal(repo.calls.length, stats.applied + stats.ignored);
    assert.equal(stats.applied + stats.ignored + stats.deadLettered, 300);
  });

  it('dead-letters what cannot be converted or is rejected, with a message.rejected event, and the messages behind go on', async (t) => {
    const dir = await tempDir(t);
    const log = await filledLog(join(dir, 'inbound'), [
      a04('C1', 'MRN1'),
      a04WithoutId('C2'), // mapping error: PID-3 missing
      a04('C3', 'MRN3'), // rejected by the repository
      a04('C4', 'MRN4'), // throws in the repository: INTERNAL
      a04('C5', 'MRN5'),
    ]);
    t.after(() => log.close());
    const repo = new FakeRepository(join(dir, 'repo'));
    t.after(() => repo.close());
    repo.rejectSeqs.add(3);
    repo.throwSeqs.add(4);
    const events = openEventLog(repo.env);
    const converter = new Converter(settings({ batchSize: 64 }), {
      log,
      inboundPath: log.path,
      repository: repo,
      events,
      mapping,
      logger: silentLogger,
    });
    const outcomes = await Promise.all([1, 2, 3, 4, 5].map((seq) => converter.waitFor(seq)));
    await converter.stop();
    assert.deepEqual(outcomes.map((o) => o.kind), ['applied', 'dead-letter', 'dead-letter', 'dead-letter', 'applied']);
    const missing = outcomes[1]!;
    assert.ok(missing.kind === 'dead-letter');
    assert.equal(missing.error.code, 'MISSING_FIELD');
    assert.equal(missing.error.errCode, 101);
    assert.equal(missing.error.segment, 'PID');
    assert.equal(missing.error.field, 3);
    const letters = converter.deadLetters.list();
    assert.deepEqual(letters.map((d) => [d.seq, d.code, d.controlId, d.attempts]), [
      [2, 'MISSING_FIELD', 'C2', 1],
      [3, 'UNKNOWN_PATIENT', 'C3', 1],
      [4, 'INTERNAL', 'C4', 1],
    ]);
    assert.equal(letters[0]!.messageType, 'ADT^A04^ADT_A01');
    assert.deepEqual(repo.appliedSeqs(), [1, 5], 'the failed range left nothing of messages 2-4 behind');
    const log2 = events.range(0, 100);
    assert.deepEqual(log2.map((e) => e.seq), [1, 2, 3, 4, 5], 'event seqs are contiguous');
    assert.deepEqual(log2.map((e) => [e.type, e.messageSeq]), [
      ['patient.updated', 1],
      ['message.rejected', 2],
      ['message.rejected', 3],
      ['message.rejected', 4],
      ['patient.updated', 5],
    ]);
    assert.equal((log2[1]!.data.deadLetter as { code: string }).code, 'MISSING_FIELD');
    assert.equal(converter.stats().fallbacks, 1);
    // A seq already converted answers at once with the stored outcome.
    assert.equal((await converter.waitFor(2)).kind, 'dead-letter');
    assert.equal((await converter.waitFor(1)).kind, 'applied');
  });

  it('retries a range whose task failed (a worker died) and still applies everything once, in order', async (t) => {
    const dir = await tempDir(t);
    const log = await filledLog(join(dir, 'inbound'), [a04('F1', 'M1'), a04('F2', 'M2'), a04('F3', 'M3')]);
    t.after(() => log.close());
    const repo = new FakeRepository(join(dir, 'repo'));
    t.after(() => repo.close());
    const pool = new Piscina<ConvertTask, ConvertReply>({ filename: WORKER, minThreads: 1, maxThreads: 1, workerData: { inboundPath: log.path, mapping } });
    t.after(() => pool.destroy());
    const failures: ConvertTask[] = [];
    let first = true;
    const run = (task: ConvertTask): Promise<ConvertReply> => {
      if (first) {
        first = false;
        return Promise.reject(new Error('worker exited'));
      }
      return pool.run(task);
    };
    const logger = { ...silentLogger, error: (_m: string, f?: Record<string, unknown>) => failures.push(f as unknown as ConvertTask), child: () => logger };
    const converter = new Converter(settings({ batchSize: 1 }), {
      log,
      inboundPath: log.path,
      repository: repo,
      events: openEventLog(repo.env),
      mapping,
      logger,
      run,
      retryMs: 1,
    });
    await converter.idle(3);
    await converter.stop();
    assert.equal(failures.length, 1);
    assert.equal(failures[0]!.fromSeq, 1);
    assert.deepEqual(repo.calls, [1, 2, 3]);
  });

  it('when the repository cannot be written at all, stalls without losing anything and resumes once it can', async (t) => {
    const dir = await tempDir(t);
    const log = await filledLog(join(dir, 'inbound'), [a04('S1', 'M1'), a04('S2', 'M2'), a04('S3', 'M3')]);
    t.after(() => log.close());
    const repo = new FakeRepository(join(dir, 'repo'));
    t.after(() => repo.close());
    let failing = true;
    const env = new Proxy(repo.env, {
      get(target, prop, receiver) {
        if (prop === 'transactionSync') {
          return (fn: () => unknown, flags?: number) => {
            if (failing) throw new Error('MDB_MAP_FULL: Environment mapsize limit reached');
            return target.transactionSync(fn, flags);
          };
        }
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    let stalled!: () => void;
    const stall = new Promise<void>((resolve) => (stalled = resolve));
    const logger = {
      ...silentLogger,
      error: (msg: string) => {
        if (msg.includes('cannot write the repository')) stalled();
      },
      child: () => logger,
    };
    const converter = new Converter(settings(), {
      log,
      inboundPath: log.path,
      repository: { env, apply: repo.apply.bind(repo) },
      events: openEventLog(repo.env),
      mapping,
      logger,
      retryMs: 5,
    });
    await stall;
    assert.equal(converter.position(), 0, 'nothing was committed while storage failed');
    assert.equal(converter.state.cursor(), 0);
    failing = false;
    await converter.idle(3);
    await converter.stop();
    assert.deepEqual(repo.appliedSeqs(), [1, 2, 3]);
    assert.equal(converter.state.cursor(), 3);
  });

  it('resumes after its cursor: a second converter on the same store applies only the new messages', async (t) => {
    const dir = await tempDir(t);
    const log = await filledLog(join(dir, 'inbound'), [a04('R1', 'M1'), a04('R2', 'M2')]);
    t.after(() => log.close());
    const repo = new FakeRepository(join(dir, 'repo'));
    t.after(() => repo.close());
    const events = openEventLog(repo.env);
    const deps = { log, inboundPath: log.path, repository: repo, events, mapping, logger: silentLogger };
    const first = new Converter(settings(), deps);
    await first.idle(2);
    await first.stop();
    await log.append({ raw: a04('R3', 'M3'), receivedAt: Date.now(), listener: 't', remote: 'x', messageType: 'ADT^A04', controlId: 'R3' });
    const second = new Converter(settings(), deps);
    assert.equal(second.position(), 2);
    await second.idle(3);
    await second.stop();
    assert.deepEqual(repo.calls, [1, 2, 3]);
    assert.deepEqual(events.range().map((e) => e.messageSeq), [1, 2, 3]);
  });
});
