/**
 * A real Prometheus server for the observability tests: Debian's `prometheus` on a free
 * loopback port with a temporary configuration and storage, scraping one target every
 * second; and its HTTP API (`/api/v1/targets`, `/api/v1/query`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { access, constants, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';

export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';

/** Whether `path` exists and is executable. */
export async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A port free on 127.0.0.1 now (closed again before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** A running Prometheus. */
export interface PrometheusServer {
  url: string;
  /** Its stderr so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/** Starts Prometheus in `dir` scraping `target` (`HOST:PORT`) at `/metrics` every second, evaluating `ruleFiles` every second. */
export async function startPrometheus(dir: string, target: string, options: { job?: string; ruleFiles?: string[] } = {}): Promise<PrometheusServer> {
  const job = options.job ?? 'pacslink';
  const config = join(dir, 'prometheus.yml');
  await writeFile(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      '  evaluation_interval: 1s',
      ...(options.ruleFiles !== undefined ? ['rule_files:', ...options.ruleFiles.map((f) => `  - '${f}'`)] : []),
      'scrape_configs:',
      `  - job_name: ${job}`,
      '    metrics_path: /metrics',
      '    static_configs:',
      `      - targets: ['${target}']`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const child = spawn(
    PROMETHEUS,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    stderr += s;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const server: PrometheusServer = {
    url: `http://127.0.0.1:${port}`,
    output: () => stderr,
    stop: () => stopChild(child, exited),
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with code ${child.exitCode}: ${stderr}`);
    try {
      const res = await fetch(`${server.url}/-/ready`);
      if (res.ok) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`prometheus not ready within 20 s: ${stderr}`);
    }
    await sleep(100);
  }
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
export async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** One series of an instant query. */
export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** Runs an instant query; throws with Prometheus' error text when it refuses the query. */
export async function instantQuery(server: PrometheusServer, query: string): Promise<PromSample[]> {
  const res = await fetch(`${server.url}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: unknown } };
  if (body.status !== 'success') throw new Error(`query refused (${res.status}): ${body.error ?? '?'}: ${query}`);
  const data = body.data!;
  if (data.resultType === 'vector') return data.result as PromSample[];
  if (data.resultType === 'scalar') return [{ metric: {}, value: data.result as [number, string] }];
  throw new Error(`unexpected result type ${data.resultType}: ${query}`);
}

/** Waits until the job's target is up and at least `scrapes` scrapes have succeeded. */
export async function waitForScrapes(server: PrometheusServer, job: string, scrapes: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const res = await fetch(`${server.url}/api/v1/targets`);
    const body = (await res.json()) as { data: { activeTargets: Array<{ labels: Record<string, string>; health: string; lastError: string }> } };
    const target = body.data.activeTargets.find((x) => x.labels.job === job);
    last = target === undefined ? 'no target yet' : `health ${target.health}${target.lastError !== '' ? `: ${target.lastError}` : ''}`;
    if (target?.health === 'up') {
      const [sample] = await instantQuery(server, `sum_over_time(up{job="${job}"}[5m])`);
      if (sample !== undefined && Number(sample.value[1]) >= scrapes) return;
    }
    if (Date.now() > deadline) throw new Error(`fewer than ${scrapes} successful scrapes of ${job} within ${timeoutMs} ms (${last}); prometheus said: ${server.output()}`);
    await sleep(250);
  }
}

/** A rule as `/api/v1/rules` reports it. */
export interface PromRule {
  name: string;
  query: string;
  health: string;
  lastError?: string;
  state?: string;
  lastEvaluation: string;
}

/** Every rule loaded, once each has been evaluated at least once. */
export async function evaluatedRules(server: PrometheusServer, timeoutMs = 30_000): Promise<PromRule[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${server.url}/api/v1/rules`);
    const body = (await res.json()) as { data: { groups: Array<{ rules: PromRule[] }> } };
    const rules = body.data.groups.flatMap((g) => g.rules);
    if (rules.length > 0 && rules.every((r) => !r.lastEvaluation.startsWith('0001-'))) return rules;
    if (Date.now() > deadline) throw new Error(`rules not evaluated within ${timeoutMs} ms: ${JSON.stringify(rules)}`);
    await sleep(250);
  }
}
