/**
 * `pacslink subscribe`: JSON lines from a real engine, reconnection across an engine restart
 * without gaps or duplicates, exit 0 on SIGINT, exit 2 on bad usage, exit 1 with the status
 * and the server's message when refused.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import type { EngineEvent } from '../../src/events/types.js';
import { runCli } from '../helpers/cli.js';
import { testEngine, until, type TestEngine } from '../listener/helpers.js';
import { range, sendOrders } from '../gateway/events-client.js';

const BIN = fileURLToPath(new URL('../../../bin/pacslink.js', import.meta.url));

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  await once(server, 'close');
  return port;
}

describe('pacslink subscribe', () => {
  it('rejects bad usage with exit 2 and a one-line reason', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /--url is required/],
      [['--url', 'not a url'], /is not a URL/],
      [['--url', 'ftp://host/events'], /--url must be/],
      [['--url', 'ws://127.0.0.1:1/events', '--from=-3'], /--from must be/],
      [['--url', 'ws://127.0.0.1:1/events', '--from', '1.5'], /--from must be/],
      [['--url', 'ws://127.0.0.1:1/events', '--format', 'xml'], /--format must be/],
      [['--url', 'ws://127.0.0.1:1/events', '--topics', 'order,studies'], /unknown topic "studies"/],
      [['--url', 'ws://127.0.0.1:1/events', '--name', 'has space'], /--name must be/],
      [['--url', 'ws://127.0.0.1:1/events', '--since', '3'], /Unknown option '--since'/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(['subscribe', ...args]);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
  });

  it('exits 1 with the status and the server\'s message when the upgrade is refused', { timeout: 30_000 }, async (t) => {
    const e = await testEngine(undefined, {}, {
      http: { port: 0, tokens: [{ token: 'reader-token-00000001', roles: ['read'], name: 'reader' }] },
    });
    t.after(() => e.close());
    const url = `ws://127.0.0.1:${e.engine.ports.http}/events`;
    const none = await runCli(['subscribe', '--url', url]);
    assert.equal(none.code, 1);
    assert.equal(none.stderr, 'pacslink subscribe: refused: 401 a bearer token is required\n');
    const reader = await runCli(['subscribe', '--url', url], { env: { PACSLINK_TOKEN: 'reader-token-00000001' } });
    assert.equal(reader.code, 1);
    assert.equal(reader.stderr, 'pacslink subscribe: refused: 403 token "reader" does not have the subscribe role\n');
    const down = await runCli(['subscribe', '--url', `ws://127.0.0.1:${await freePort()}/events`]);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /^pacslink subscribe: cannot connect to ws:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  });

  it('prints events as JSON lines, resumes after an engine restart without gap or duplicate, exits 0 on SIGINT', { timeout: 90_000 }, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'pacslink-subscribe-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const port = await freePort();
    const start = (): Promise<TestEngine> => testEngine(undefined, {}, { dataDir: dir, http: { port } });
    let e = await start();
    t.after(() => e.close());
    await sendOrders(e.port, 1, 3);
    const child = spawn(process.execPath, [BIN, 'subscribe', '--url', `http://127.0.0.1:${port}`, '--name', 'cli', '--format', 'msgpack'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = once(child, 'exit');
    t.after(() => child.kill('SIGKILL'));
    const lines: string[] = [];
    createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    await until(() => e.engine.converter!.position() === 3, 'orders converted', 30_000);
    const last1 = e.engine.store!.events.lastSeq();
    await until(() => lines.length >= last1, 'the events of 3 orders', 30_000);
    const first = lines.map((l) => JSON.parse(l) as EngineEvent);
    assert.deepEqual(first.map((ev) => ev.seq), range(0, last1));
    assert.deepEqual(first, e.engine.store!.events.range(0, 1000), 'each line is the event as the log holds it');
    assert.deepEqual(Object.keys(first[0]!), ['seq', 'type', 'time', 'messageSeq', 'data']);
    assert.equal(first[1]!.type, 'order.scheduled');
    // The acknowledgement follows the printing.
    await until(() => e.engine.gateway.hub.subscribers()[0]?.ackedSeq === last1, 'ack of the printed events', 30_000);
    await e.close();
    e = await start();
    await sendOrders(e.port, 4, 5);
    await until(() => e.engine.converter!.position() === 5, 'orders converted', 30_000);
    const last2 = e.engine.store!.events.lastSeq();
    await until(() => lines.length >= last2, 'events after the restart', 30_000);
    assert.match(stderr, new RegExp(`closed 1001 .*reconnecting in \\d+ ms after seq ${last1}`));
    child.kill('SIGINT');
    const [code] = await exited;
    assert.equal(code, 0);
    assert.deepEqual(lines.map((l) => (JSON.parse(l) as EngineEvent).seq), range(0, last2));
  });
});
