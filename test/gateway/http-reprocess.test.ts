/**
 * `POST /api/dead-letters/{seq}/reprocess` goes through {@link Converter.reprocess}: the
 * running converter's single writer, queued behind the ranges in flight. Here a range is
 * held in its worker while a reprocess is asked for: the reprocess waits for it and its
 * events come after the range's.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Piscina } from 'piscina';
import { resolveEngineOptions } from '../../src/config.js';
import { Converter } from '../../src/converter/converter.js';
import { openConversionStore } from '../../src/converter/stage.js';
import type { ConvertReply, ConvertTask, WorkerConfig } from '../../src/converter/work.js';
import { openDefaultLog } from '../../src/engine.js';
import { silentLogger } from '../../src/log.js';
import type { LmdbInboundLog } from '../../src/queue/lmdb-log.js';
import { a04, a04WithoutId, appendAll, tempDir } from '../converter/helpers.js';

const WORKER = new URL('../../src/converter/worker-entry.cjs', import.meta.url).href;

it('a reprocess waits for the ranges in flight and is applied after them, through the same applier', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t, 'pacslink-http-reprocess-');
  const options = resolveEngineOptions({ dataDir: dir });
  const log = (await openDefaultLog(options)) as LmdbInboundLog;
  t.after(() => log.close());
  await appendAll(log, [a04WithoutId('D1')]);
  const store = await openConversionStore(options);
  t.after(() => store.repository.close());
  const workerData: WorkerConfig = { inboundPath: log.path, mapping: options.mapping };
  const pool = new Piscina<ConvertTask, ConvertReply>({ filename: WORKER, minThreads: 1, maxThreads: 1, workerData });
  t.after(() => pool.destroy());
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let held!: () => void;
  const holding = new Promise<void>((resolve) => (held = resolve));
  const run = async (task: ConvertTask): Promise<ConvertReply> => {
    if (task.fromSeq >= 2) {
      held();
      await released;
    }
    return pool.run(task);
  };
  const converter = new Converter(
    { workers: 1, batchSize: 8, maxInFlightBatches: 2, pollIntervalMs: 5 },
    { log, inboundPath: log.path, repository: store.repository, events: store.events, mapping: options.mapping, logger: silentLogger, run },
  );
  t.after(() => converter.stop());
  await converter.idle(1);
  assert.equal(converter.deadLetters.get(1)?.attempts, 1);

  await appendAll(log, [a04('C2', '555')]);
  converter.wake();
  await holding;
  let settled = false;
  const reprocess = converter.reprocess(1).finally(() => (settled = true));
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  assert.equal(settled, false, 'the reprocess waits while range 2 is in its worker');
  release();
  const outcome = await reprocess;
  assert.equal(outcome.kind, 'dead-letter');
  assert.equal(outcome.kind === 'dead-letter' ? outcome.deadLetter.attempts : 0, 2);
  const events = store.events.range(0).map((e) => [e.messageSeq, e.type]);
  assert.deepEqual(events, [
    [1, 'message.rejected'],
    [2, 'patient.created'],
    [2, 'visit.created'],
    [1, 'message.rejected'],
  ]);
  assert.equal(converter.position(), 2, 'the reprocess did not move the position');
  assert.deepEqual(await converter.reprocess(2), { kind: 'not-dead-lettered' });
  await converter.stop();
  assert.deepEqual(await converter.reprocess(1), { kind: 'unavailable' });
});
