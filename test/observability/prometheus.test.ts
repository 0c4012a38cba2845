/**
 * The dashboard against the real thing: the engine runs as `pacslink start` (a child
 * process, HTTP and MLLP on port 0), takes a steady trickle of MLLP traffic (good messages,
 * resends, frame errors, dead letters) and has a named WebSocket subscriber that does not
 * acknowledge; Debian's Prometheus scrapes its /metrics every second; then every PromQL
 * expression of grafana/dashboards/pacslink.json, with Grafana's variables replaced as
 * Grafana would, must return at least one sample, and the example alerting rules must
 * evaluate without errors. `promtool check config` must accept the example
 * grafana/prometheus.yml (and its rules), also with its bearer-token example enabled.
 *
 * Prometheus is installed by .ci/run (apt-get install prometheus). Under CI (`CI` set) a
 * missing binary fails the test; elsewhere the test is skipped and says why.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { dashboardQueries, grafanaToPromQL, loadDashboard, ROOT, sendLoad } from './helpers.js';
import { evaluatedRules, executable, instantQuery, PROMETHEUS, PROMTOOL, sleep, startPrometheus, stopChild, waitForScrapes } from './prometheus.js';

const run = promisify(execFile);
const ci = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';

/** Why the tests cannot run here, or undefined when they can. */
async function unavailable(): Promise<string | undefined> {
  const absent: string[] = [];
  for (const p of [PROMETHEUS, PROMTOOL]) if (!(await executable(p))) absent.push(p);
  return absent.length === 0 ? undefined : `${absent.join(' and ')} not installed (apt-get install prometheus; .ci/run does)`;
}

/** Skips outside CI, fails under CI, when Prometheus is not installed. */
function requirePrometheus(t: TestContext, reason: string | undefined): boolean {
  if (reason === undefined) return true;
  if (ci) assert.fail(`CI must run the Prometheus tests: ${reason}`);
  t.skip(reason);
  return false;
}

/** Cleanups run in reverse order of registration when the test ends (node:test runs after-hooks first-in, first-out). */
function cleanupStack(t: TestContext): (fn: () => unknown) => void {
  const stack: Array<() => unknown> = [];
  t.after(async () => {
    for (const fn of stack.reverse()) await fn();
  });
  return (fn) => stack.push(fn);
}

/** A `pacslink start` child process with its ports. */
interface EngineProcess {
  mllp: number;
  http: number;
  stop(): Promise<void>;
}

async function startEngineProcess(defer: (fn: () => unknown) => void, dataDir: string): Promise<EngineProcess> {
  const bin = fileURLToPath(new URL('bin/pacslink.js', ROOT));
  const child = spawn(process.execPath, [bin, 'start', '--data', dataDir, '--mllp', '127.0.0.1:0', '--http', '127.0.0.1:0'], {
    cwd: fileURLToPath(ROOT),
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    stderr += s;
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = (): Promise<void> => stopChild(child, exited);
  defer(stop);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pacslink start exited with code ${child.exitCode}: ${stderr}`);
    try {
      const ports = JSON.parse(await readFile(join(dataDir, 'ports.json'), 'utf8')) as { mllp?: number; http?: number };
      if (typeof ports.mllp === 'number' && typeof ports.http === 'number') return { mllp: ports.mllp, http: ports.http, stop };
    } catch {
      // not written yet
    }
    if (Date.now() > deadline) throw new Error(`pacslink start wrote no ports.json with mllp and http within 30 s: ${stderr}`);
    await sleep(100);
  }
}

/** A named subscriber on /events that never acknowledges (so its lag is the events published). */
function namedSubscriber(defer: (fn: () => unknown) => void, http: number, name: string): Promise<{ received: () => number }> {
  return new Promise((resolve, reject) => {
    let received = 0;
    const socket = new WebSocket(`ws://127.0.0.1:${http}/events?name=${name}`);
    defer(
      () =>
        new Promise<void>((done) => {
          if (socket.readyState === WebSocket.CLOSED) return done();
          socket.once('close', () => done());
          socket.close();
        }),
    );
    socket.on('message', () => received++);
    socket.once('open', () => resolve({ received: () => received }));
    socket.once('error', reject);
  });
}

/**
 * Until the event hub (a separate branch) replaces the placeholder src/gateway/hub.ts,
 * `/events` answers 503 and nothing sets `pacslink_ws_subscriber_lag`: the subscriber checks
 * then run as a todo, reported in the test output, and become required as soon as the real
 * hub is in the source tree.
 */
const HUB_SOURCE = new URL('src/gateway/hub.ts', ROOT);
const NO_HUB =
  existsSync(HUB_SOURCE) && !readFileSync(HUB_SOURCE, 'utf8').includes('events are not served yet')
    ? undefined
    : 'the event hub is still the placeholder (src/gateway/hub.ts): /events answers 503 and no subscriber lag is reported';

describe('the dashboard against a real Prometheus scraping a running engine', async () => {
  const reason = await unavailable();

  it('promtool check config accepts grafana/prometheus.yml, and its bearer-token example once enabled', async (t) => {
    if (!requirePrometheus(t, reason)) return;
    const example = fileURLToPath(new URL('grafana/prometheus.yml', ROOT));
    const { stdout } = await run(PROMTOOL, ['check', 'config', example]);
    assert.match(stdout, /SUCCESS/);
    const dir = await mkdtemp(join(tmpdir(), 'pacslink-promtool-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const token = join(dir, 'pacslink-read.token');
    await writeFile(token, 'example-token\n', { mode: 0o600 });
    const text = await readFile(example, 'utf8');
    const enabled = text
      .replace(/^ {4}# authorization:$/m, '    authorization:')
      .replace(/^ {4}# {3}type: Bearer$/m, '      type: Bearer')
      .replace(/^ {4}# {3}credentials_file: \S+$/m, `      credentials_file: ${token}`);
    assert.notEqual(enabled, text, 'the example has a commented authorization block');
    assert.match(enabled, /^ {4}authorization:\n {6}type: Bearer\n {6}credentials_file: /m);
    const withToken = join(dir, 'prometheus.yml');
    await writeFile(withToken, enabled);
    await copyFile(new URL('grafana/pacslink-alerts.yml', ROOT), join(dir, 'pacslink-alerts.yml'));
    await run(PROMTOOL, ['check', 'config', withToken]);
  });

  it('answers every query of the dashboard with data', { timeout: 180_000 }, async (t) => {
    if (!requirePrometheus(t, reason)) return;
    const defer = cleanupStack(t);
    const dir = await mkdtemp(join(tmpdir(), 'pacslink-prom-'));
    defer(() => rm(dir, { recursive: true, force: true }));
    const engine = await startEngineProcess(defer, join(dir, 'data'));
    const subscriber = NO_HUB === undefined ? await namedSubscriber(defer, engine.http, 'dashboard-test') : undefined;

    // A steady trickle, so rates over the last 30 s are not all zero while the queries run.
    let loading = true;
    let rounds = 0;
    let loadError: unknown;
    const load = (async () => {
      for (let n = 0; loading; n++) {
        const sent = await sendLoad(engine.mllp, 5, `PROM${n}-`);
        assert.ok(sent.acks.every((code) => code === 'AA'), `every message is acknowledged AA: ${sent.acks.join(' ')}`);
        rounds += 5;
        await sleep(200);
      }
    })().catch((err: unknown) => {
      loadError = err;
    });
    defer(async () => {
      loading = false;
      await load;
    });

    const alerts = fileURLToPath(new URL('grafana/pacslink-alerts.yml', ROOT));
    const prometheus = await startPrometheus(dir, `127.0.0.1:${engine.http}`, { ruleFiles: [alerts] });
    defer(() => prometheus.stop());
    await waitForScrapes(prometheus, 'pacslink', 6);
    assert.ok(rounds > 0, 'the load is running');

    const dashboard = await loadDashboard();
    const queries = dashboardQueries(dashboard);
    const bySubscriber = (q: { expr: string }): boolean => q.expr.includes('pacslink_ws_subscriber_lag');
    const empty: string[] = [];
    for (const q of queries.filter((x) => NO_HUB === undefined || !bySubscriber(x))) {
      const promql = grafanaToPromQL(q.expr, '30s');
      const result = await instantQuery(prometheus, promql);
      if (result.length === 0) empty.push(`${q.panel} ${q.refId}: ${promql}`);
    }
    assert.deepEqual(empty, [], `queries without data:\n${empty.join('\n')}`);

    await t.test('reports the lag of a named subscriber that does not acknowledge', { todo: NO_HUB ?? false }, async () => {
      assert.ok(subscriber !== undefined && subscriber.received() > 0, 'the subscriber gets events');
      const [lag] = await instantQuery(prometheus, 'pacslink_ws_subscriber_lag{subscriber="dashboard-test"}');
      assert.ok(lag !== undefined && Number(lag.value[1]) > 0, 'the named subscriber that never acknowledges lags');
      for (const q of queries.filter(bySubscriber)) {
        const result = await instantQuery(prometheus, grafanaToPromQL(q.expr, '30s'));
        assert.ok(result.length > 0, `${q.panel} ${q.refId} has data`);
      }
    });

    // The numbers behind a few panels are the engine's, not just present.
    const [received] = await instantQuery(prometheus, 'sum(pacslink_mllp_messages_received_total)');
    assert.ok(Number(received!.value[1]) > 0);
    const [dead] = await instantQuery(prometheus, 'sum(pacslink_dead_letters)');
    assert.ok(Number(dead!.value[1]) > 0, 'the load leaves dead letters');

    // The example alerting rules evaluate without errors against the same data, and the load's dead letters fire one.
    const rules = await evaluatedRules(prometheus);
    assert.equal(rules.length, 6);
    for (const r of rules) assert.equal(r.health, 'ok', `${r.name}: ${r.lastError ?? ''}`);
    assert.equal(rules.find((r) => r.name === 'PacslinkDeadLetters')?.state, 'firing');
    assert.equal(rules.find((r) => r.name === 'PacslinkDown')?.state, 'inactive');

    loading = false;
    await load;
    assert.equal(loadError, undefined, 'the load ran without errors');
  });
});
