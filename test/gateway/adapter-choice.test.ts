/**
 * Choosing the gateway adapter (issue 5, native-free fallback): `auto` serves with
 * uWebSockets.js when it loads and falls back to `ws` with a warning that says why; `uws`
 * refuses to start without it; `ws` never tries it. Checked on chooseAdapter and through real
 * engine starts: the `gateway started` log line and `pacslink_native_adapter` say which.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { wsAdapter } from '../../native-free/ws-adapter.js';
import { resolveEngineOptions } from '../../src/config.js';
import { startEngine, type Engine } from '../../src/engine.js';
import { chooseAdapter, type LoadNativeAdapter } from '../../src/gateway/gateway.js';
import type { GatewayOptions } from '../../src/gateway/options.js';
import { loadUwsAdapter } from '../../src/gateway/uws-adapter.js';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { FakeLog } from '../listener/fake-log.js';
import { fetchRaw, UWS_NODE_MAJORS } from './conformance.js';

const cannotLoad: LoadNativeAdapter = () => Promise.reject(new Error('no binary for this Node ABI (test)'));
const uwsLoads = UWS_NODE_MAJORS.includes(Number(process.versions.node.split('.')[0]));

const fallbackWarning = (l: Line): boolean => l.level === 'warn' && /uWebSockets\.js/.test(l.msg);

interface Line {
  level: string;
  msg: string;
  [field: string]: unknown;
}

function capture(): { logger: ReturnType<typeof createLogger>; lines: Line[] } {
  const lines: Line[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as Line);
      done();
    },
  });
  return { logger: createLogger({ stream, level: 'debug' }), lines };
}

async function start(
  adapter: GatewayOptions['adapter'],
  loadNativeGateway?: LoadNativeAdapter,
): Promise<{ engine: Engine; lines: Line[]; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'pacslink-adapter-'));
  const { logger, lines } = capture();
  const options = resolveEngineOptions({ dataDir: dir, http: { port: 0, adapter }, listeners: [{ host: '127.0.0.1', port: 0 }] });
  try {
    const engine = await startEngine(options, {
      logger,
      metrics: createMetrics({ defaultMetrics: false }),
      openLog: async () => new FakeLog(),
      ...(loadNativeGateway !== undefined ? { loadNativeGateway } : {}),
    });
    return {
      engine,
      lines,
      close: async () => {
        await engine.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Checks the log line, the metric and that HTTP answers through the adapter. */
async function assertServedBy(e: { engine: Engine; lines: Line[] }, impl: 'uws' | 'ws'): Promise<void> {
  assert.equal(e.engine.gateway.impl, impl);
  const started = e.lines.find((l) => l.msg === 'gateway started');
  assert.equal(started?.adapter, impl);
  assert.equal(started.port, e.engine.ports.http);
  const metrics = await fetchRaw(`http://127.0.0.1:${e.engine.ports.http}/metrics`);
  assert.equal(metrics.status, 200);
  const text = metrics.body.toString();
  assert.match(text, new RegExp(`pacslink_native_adapter\\{port="gateway",impl="${impl}"\\} 1`));
  const other = impl === 'uws' ? 'ws' : 'uws';
  assert.match(text, new RegExp(`pacslink_native_adapter\\{port="gateway",impl="${other}"\\} 0`));
  if (impl === 'uws') assert.equal(metrics.headers.uwebsockets, '20', 'answered by uWS');
  else assert.equal(metrics.headers.uwebsockets, undefined, 'answered by node:http');
}

describe('gateway adapter choice', () => {
  it('auto falls back to ws with a warning that gives the reason when uWebSockets.js cannot load', async () => {
    const { logger, lines } = capture();
    const adapter = await chooseAdapter('auto', logger, cannotLoad);
    assert.equal(adapter, wsAdapter);
    const warn = lines.find((l) => l.level === 'warn');
    assert.match(warn?.msg ?? '', /uWebSockets.js cannot load; serving HTTP and WebSocket with the native-free ws adapter/);
    assert.equal(warn?.reason, 'no binary for this Node ABI (test)');
  });

  it('uws fails with a message that names the setting and the reason', async () => {
    const { logger } = capture();
    await assert.rejects(chooseAdapter('uws', logger, cannotLoad), {
      message: 'http.adapter "uws": uWebSockets.js cannot load: no binary for this Node ABI (test)',
    });
  });

  it('ws never tries to load uWebSockets.js', async () => {
    const { logger, lines } = capture();
    let tried = false;
    const adapter = await chooseAdapter('ws', logger, () => {
      tried = true;
      return cannotLoad();
    });
    assert.equal(adapter, wsAdapter);
    assert.equal(tried, false);
    assert.equal(lines.length, 0);
  });

  it(`the real loader ${uwsLoads ? 'loads' : 'refuses, with the Node ABI in the reason,'} on Node ${process.versions.node}`, async () => {
    if (uwsLoads) {
      assert.equal((await loadUwsAdapter()).impl, 'uws');
    } else {
      await assert.rejects(loadUwsAdapter(), new RegExp(`Node ABI ${process.versions.modules}`));
    }
  });

  it("refuses an ABI the build has no binary for (Node 24's 137) with the reason, so auto falls back", async () => {
    await assert.rejects(loadUwsAdapter('137'), /uWebSockets\.js: no binary for .* Node ABI 137 .*this build has ABIs .*115/);
    const { logger, lines } = capture();
    assert.equal(await chooseAdapter('auto', logger, () => loadUwsAdapter('137')), wsAdapter);
    assert.match(String(lines.find(fallbackWarning)?.reason), /Node ABI 137/);
  });

  it('an engine with auto and a failing loader serves through ws, says so in the log and the metric', async (t) => {
    const e = await start('auto', cannotLoad);
    t.after(() => e.close());
    await assertServedBy(e, 'ws');
    assert.ok(e.lines.some((l) => l.level === 'warn' && l.reason === 'no binary for this Node ABI (test)'));
  });

  it(`an engine with auto and the real loader serves through ${uwsLoads ? 'uws' : 'ws'}`, async (t) => {
    const e = await start('auto');
    t.after(() => e.close());
    await assertServedBy(e, uwsLoads ? 'uws' : 'ws');
    assert.equal(e.lines.some(fallbackWarning), !uwsLoads);
  });

  it('an engine with http.adapter "ws" serves through ws without trying uWebSockets.js', async (t) => {
    const e = await start('ws', () => Promise.reject(new Error('must not be called')));
    t.after(() => e.close());
    await assertServedBy(e, 'ws');
    assert.equal(e.lines.some(fallbackWarning), false);
  });

  it('an engine with http.adapter "uws" refuses to start when uWebSockets.js cannot load', async () => {
    await assert.rejects(start('uws', cannotLoad), /http.adapter "uws": uWebSockets.js cannot load: no binary for this Node ABI/);
  });

  it('an engine with http.adapter "uws" serves through uws where it loads', { skip: uwsLoads ? false : `uWebSockets.js does not load on Node ${process.versions.node}` }, async (t) => {
    const e = await start('uws');
    t.after(() => e.close());
    await assertServedBy(e, 'uws');
  });
});
