/**
 * `pacslink rebuild` reaches the state of the live run: over ~2000 messages of the bench
 * corpus the rebuilt repository's digest equals the live one, the dead letters are the same,
 * and no event is appended.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openEventLog } from '../../src/events/log.js';
import { openRepository } from '../../src/repository/index.js';
import { convertAll, corpus, filledLog, pacslink, tempDir } from './helpers.js';

describe('pacslink rebuild', () => {
  it('rebuilds the live repository exactly (same digest, same dead letters) and appends no event', { timeout: 120_000 }, async (t) => {
    const dir = await tempDir(t);
    const log = await filledLog(join(dir, 'inbound'), corpus(2000));
    await log.close();
    const live = await convertAll(dir, { converter: { workers: 2, batchSize: 32 } });
    assert.equal(live.stats.position, 2000);
    assert.ok(live.stats.applied > 1500, `most messages apply (${live.stats.applied})`);
    assert.ok(live.events > live.stats.applied, 'the live run announced its changes');

    const run = await pacslink(['rebuild', '--data', dir]);
    assert.equal(run.code, 0, run.stderr);
    const before = /digest before\t([0-9a-f]{64})/.exec(run.stdout)?.[1];
    const after = /digest after\t([0-9a-f]{64})/.exec(run.stdout)?.[1];
    assert.equal(before, live.digest);
    assert.equal(after, live.digest, 'the rebuilt repository equals the live one');

    const repo = await openRepository({ path: join(dir, 'repository') });
    t.after(() => repo.close());
    assert.equal(repo.digest(), live.digest);
    const events = openEventLog(repo.env);
    assert.equal(events.lastSeq(), live.events, 'rebuild appended no event');
    const { openDeadLetters } = await import('../../src/converter/dead-letters.js');
    assert.deepEqual(openDeadLetters(repo.env).list(0, 1e9).map((d) => d.seq), live.deadLetters);
  });

  it('a rebuild finished by the engine after an interruption still appends nothing for the messages it covered', { timeout: 60_000 }, async (t) => {
    const dir = await tempDir(t);
    const log = await filledLog(join(dir, 'inbound'), corpus(300, 7));
    await log.close();
    const live = await convertAll(dir, { converter: { workers: 1 } });
    // Simulate a rebuild interrupted right after its first transaction.
    const { openConversionStore } = await import('../../src/converter/stage.js');
    const { resolveEngineOptions } = await import('../../src/config.js');
    const store = await openConversionStore(resolveEngineOptions({ dataDir: dir }));
    store.repository.env.transactionSync(() => {
      store.repository.clearAll();
      store.deadLetters.clear();
      store.state.setCursor(0);
      store.state.setSilentThrough(300);
    });
    await store.repository.close();
    const resumed = await convertAll(dir, { converter: { workers: 1 } });
    assert.equal(resumed.digest, live.digest);
    assert.equal(resumed.events, live.events, 'no event for the messages the rebuild covered');
  });

  it('after retention trimmed the log, a rebuild converts what is left and skips what is gone', { timeout: 60_000 }, async (t) => {
    const dir = await tempDir(t);
    const { openLmdbInboundLog } = await import('../../src/queue/index.js');
    const { appendAll } = await import('./helpers.js');
    const log = await filledLog(join(dir, 'inbound'), corpus(40, 11));
    await log.close();
    await convertAll(dir, { converter: { workers: 1 } }); // mirrors the cursor: retention may delete
    const again = await openLmdbInboundLog({ path: join(dir, 'inbound') });
    const swept = await again.runRetention(Date.now() + 40 * 86_400_000);
    assert.equal(swept.deleted, 40);
    await appendAll(again, corpus(10, 12));
    assert.equal(again.firstSeq(), 41);
    await again.close();
    const run = await pacslink(['rebuild', '--data', dir]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^converted\t10\t/m, 'only the 10 messages still stored');
    assert.match(run.stdout, /missing 0/, 'nothing dispatched below the first stored seq');

    // Emptied entirely: the converter starts after the last seq, not at 1.
    const empty = await openLmdbInboundLog({ path: join(dir, 'inbound') });
    assert.equal((await empty.runRetention(Date.now() + 40 * 86_400_000)).deleted, 10);
    assert.equal(empty.firstSeq(), 0);
    assert.equal(empty.lastSeq(), 50);
    await empty.close();
    const emptied = await pacslink(['rebuild', '--data', dir]);
    assert.equal(emptied.code, 0, emptied.stderr);
    assert.match(emptied.stdout, /^converted\t0\t.*missing 0/m);
  });

  it('refuses a data directory held by a running engine', async (t) => {
    const dir = await tempDir(t);
    const { writeFile } = await import('node:fs/promises');
    const { spawn } = await import('node:child_process');
    // A live process that is not this one: a child that waits.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    t.after(() => child.kill('SIGKILL'));
    await writeFile(join(dir, 'engine.pid'), `${child.pid}\n`);
    const rebuild = await pacslink(['rebuild', '--data', dir]);
    assert.equal(rebuild.code, 1);
    assert.match(rebuild.stderr, /in use by a running engine \(pid \d+\).*\[DATA_DIR_IN_USE\]/);
    const reprocess = await pacslink(['reprocess', '--all-dead', '--data', dir]);
    assert.equal(reprocess.code, 1);
    assert.match(reprocess.stderr, /DATA_DIR_IN_USE/);
    assert.equal((await pacslink(['reprocess', '--data', dir])).code, 2, 'neither SEQ nor --all-dead is bad usage');
  });
});
