/** `pacslink prefetch --date`: offline on a stopped engine's data directory, through the engine's HTTP API when one holds it. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { resolveEngineOptions } from '../../src/config.js';
import { openConversionStore } from '../../src/converter/stage.js';
import { openEventLog } from '../../src/events/log.js';
import { openRepository } from '../../src/repository/index.js';
import { repositoryPath } from '../../src/converter/stage.js';
import { Harness, orm, tempDir } from './helpers.js';
import { pacslink } from '../converter/helpers.js';

const CONFIG = { mapping: { timeZone: 'Europe/Berlin' }, workflows: { prefetch: { triggers: [] } } };

describe('pacslink prefetch', () => {
  it('offline: runs the date\'s window on the data directory, prints the result, suppresses a repeat', async (t) => {
    const dir = await tempDir(t, 'pacslink-wf-cli-');
    const options = resolveEngineOptions({ ...CONFIG, dataDir: dir } as never);
    const store = await openConversionStore(options);
    new Harness(options, store).send(
      orm({ ids: '1^^^HOSP^MR', accession: 'C-1', scheduled: '20240110090000' }),
      orm({ ids: '2^^^HOSP^MR', accession: 'C-2', scheduled: '20240110100000' }),
    );
    await store.repository.close();
    const config = join(dir, 'config.json');
    await writeFile(config, JSON.stringify(CONFIG));

    const r = await pacslink(['prefetch', '--date', '2024-01-10', '--config', config, '--data', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      date: '2024-01-10',
      window: { from: '2024-01-10T00:00:00+01:00', to: '2024-01-11T00:00:00+01:00' },
      requested: 2,
      suppressed: 0,
    });
    const again = await pacslink(['prefetch', '--date', '2024-01-10', '--config', config], { PACSLINK_DATA: dir });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual([JSON.parse(again.stdout).requested, JSON.parse(again.stdout).suppressed], [0, 2]);

    const repo = await openRepository({ path: repositoryPath(dir) });
    try {
      const events = openEventLog(repo.env).range(0, 100).filter((e) => e.type === 'prefetch.requested');
      assert.deepEqual(events.map((e) => [e.messageSeq, (e.data as { order: { accession: string } }).order.accession]), [[0, 'C-1'], [0, 'C-2']]);
    } finally {
      await repo.close();
    }
  });

  it('bad usage exits 2 with a one-line reason', async () => {
    for (const [args, message] of [
      [['prefetch'], 'prefetch needs --date YYYY-MM-DD'],
      [['prefetch', '--date', '2024-1-10'], "--date must be a calendar date YYYY-MM-DD, got '2024-1-10'"],
      [['prefetch', '--date', '2024-01-10', 'extra'], "prefetch takes no arguments, got 'extra'"],
      [['prefetch', '--date', '2024-01-10', '--bogus'], "Unknown option '--bogus'"],
    ] as const) {
      const r = await pacslink([...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.ok(r.stderr.startsWith(`pacslink prefetch: `) && r.stderr.includes(message), r.stderr);
    }
  });

  it('with an engine holding the data directory: POST /api/prefetch/runs?date= with the bearer token, and clear errors', async (t) => {
    const dir = await tempDir(t, 'pacslink-wf-cli-');
    // A live process (the test runner) stands for the engine; a tiny HTTP server for its gateway.
    await writeFile(join(dir, 'engine.pid'), `${process.ppid}\n`);
    const seen: Array<{ method: string | undefined; url: string | undefined; auth: string | undefined }> = [];
    let answer: { status: number; body: unknown } = { status: 200, body: {} };
    const server = createServer((req: IncomingMessage, res) => {
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization });
      const url = new URL(req.url ?? '', 'http://x');
      const ok = req.method === 'POST' && url.pathname === '/api/prefetch/runs' && url.searchParams.get('date') === '2024-01-10';
      const authorized = req.headers.authorization === 'Bearer s3cret';
      res.setHeader('content-type', 'application/json');
      if (!ok) {
        res.statusCode = 404;
        res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no such route' } }));
      } else if (!authorized) {
        res.statusCode = 401;
        res.end(JSON.stringify({ error: { code: 'UNAUTHORIZED', message: 'a valid bearer token is required' } }));
      } else {
        res.statusCode = answer.status;
        res.end(JSON.stringify(answer.body));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const noPorts = await pacslink(['prefetch', '--date', '2024-01-10', '--data', dir]);
    assert.equal(noPorts.code, 1);
    assert.match(noPorts.stderr, /an engine holds .* but .*ports\.json has no http port.*\[ENGINE_UNREACHABLE\]/);

    const port = (server.address() as AddressInfo).port;
    await writeFile(join(dir, 'ports.json'), JSON.stringify({ mllp: 1, http: port }));
    const result = { date: '2024-01-10', window: { from: '2024-01-10T00:00:00+01:00', to: '2024-01-11T00:00:00+01:00' }, requested: 7, suppressed: 3 };
    answer = { status: 200, body: result };
    const r = await pacslink(['prefetch', '--date', '2024-01-10', '--data', dir, '--token', 's3cret']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), result);
    assert.deepEqual(seen.at(-1), { method: 'POST', url: '/api/prefetch/runs?date=2024-01-10', auth: 'Bearer s3cret' });

    const env = await pacslink(['prefetch', '--date', '2024-01-10', '--data', dir], { PACSLINK_TOKEN: 's3cret' });
    assert.equal(env.code, 0, env.stderr);
    assert.equal(seen.at(-1)!.auth, 'Bearer s3cret', 'PACSLINK_TOKEN when --token is absent');

    const denied = await pacslink(['prefetch', '--date', '2024-01-10', '--data', dir, '--token', 'wrong']);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /the engine answered 401 UNAUTHORIZED: a valid bearer token is required \(give a token with the admin role: --token or PACSLINK_TOKEN\) \[ENGINE_REFUSED\]/);

    answer = { status: 200, body: { hello: 'world' } };
    const odd = await pacslink(['prefetch', '--date', '2024-01-10', '--data', dir, '--token', 's3cret']);
    assert.equal(odd.code, 1);
    assert.match(odd.stderr, /without a pre-fetch run result/);

    await new Promise<void>((resolve) => server.close(() => resolve()));
    const down = await pacslink(['prefetch', '--date', '2024-01-10', '--data', dir, '--token', 's3cret']);
    assert.equal(down.code, 1);
    assert.match(down.stderr, new RegExp(`cannot reach the engine at http://127\\.0\\.0\\.1:${port}`));
  });
});
