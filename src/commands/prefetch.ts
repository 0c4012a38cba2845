/**
 * `pacslink prefetch --date YYYY-MM-DD [--config FILE] [--data DIR] [--token TOKEN]`: runs the
 * daily pre-fetch for a date now (src/workflows/daily.ts): every order scheduled in that
 * date's window gets a `prefetch.requested`, except patients already requested for the window.
 *
 * When an engine holds the data directory (`DIR/engine.pid` names a live process), the run
 * is asked of it over HTTP, `POST /api/prefetch/runs?date=...` at the `http` port of
 * `DIR/ports.json`, with `--token` (else `PACSLINK_TOKEN`) as the bearer token; otherwise the
 * data directory is opened and the run made here. Prints the run's result as one JSON line
 * (`{"date","window":{"from","to"},"requested","suppressed"}`). Exit 0 on success, 1 when the
 * run failed or the engine refused it, 2 for bad usage.
 */
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CommandIo } from '../cli.js';
import { loadConfigFile, resolveEngineOptions, type EngineInput, type EngineOptions } from '../config.js';
import { liveOwner } from '../data-lock.js';
import { PacslinkError, UsageError } from '../errors.js';
import { isLocalDate } from '../workflows/local-time.js';
import type { PrefetchRunResult } from '../workflows/types.js';
import { openOffline } from './offline.js';

/** Runs the command; resolves with the exit code. */
export async function run(args: string[], io: CommandIo): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: { date: { type: 'string' }; config: { type: 'string' }; data: { type: 'string' }; token: { type: 'string' } }; strict: true; allowPositionals: true }>>;
  try {
    parsed = parseArgs({
      args,
      options: { date: { type: 'string' }, config: { type: 'string' }, data: { type: 'string' }, token: { type: 'string' } },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (parsed.positionals.length > 0) throw new UsageError(`prefetch takes no arguments, got '${parsed.positionals[0]}'`);
  if (v.date === undefined) throw new UsageError('prefetch needs --date YYYY-MM-DD');
  if (!isLocalDate(v.date)) throw new UsageError(`--date must be a calendar date YYYY-MM-DD, got '${v.date}'`);
  let options: EngineOptions;
  try {
    const input: EngineInput = v.config !== undefined ? await loadConfigFile(v.config) : {};
    const data = v.data ?? io.env.PACSLINK_DATA;
    if (data !== undefined && data !== '') input.dataDir = data;
    options = resolveEngineOptions(input);
  } catch (err) {
    if (err instanceof RangeError || err instanceof TypeError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
  const token = v.token ?? io.env.PACSLINK_TOKEN;
  const result = (await liveOwner(options.dataDir)) !== undefined ? await viaEngine(options, v.date, token) : await offline(options, v.date);
  io.stdout.write(JSON.stringify(result) + '\n');
  return 0;
}

async function offline(options: EngineOptions, date: string): Promise<PrefetchRunResult> {
  const data = await openOffline(options);
  try {
    const wf = data.store.workflows;
    if (wf === undefined) throw new PacslinkError('WORKFLOWS_UNAVAILABLE', 'the workflows are not configured');
    return await wf.api.runPrefetch(date);
  } finally {
    await data.close();
  }
}

/** The host to reach the engine's HTTP server at: its bind address, a wildcard meaning this host. */
function connectHost(host: string): string {
  return host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
}

/** Asks the running engine for the run (`POST /api/prefetch/runs?date=`). */
async function viaEngine(options: EngineOptions, date: string, token: string | undefined): Promise<PrefetchRunResult> {
  const dir = options.dataDir;
  let port: unknown;
  try {
    port = (JSON.parse(await readFile(join(dir, 'ports.json'), 'utf8')) as { http?: unknown }).http;
  } catch {
    port = undefined;
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port <= 0) {
    throw new PacslinkError('ENGINE_UNREACHABLE', `an engine holds ${dir} but ${join(dir, 'ports.json')} has no http port; run prefetch through its HTTP API or stop it first`);
  }
  const host = connectHost(options.http.host);
  const path = `/api/prefetch/runs?date=${encodeURIComponent(date)}`;
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      {
        host,
        port,
        method: 'POST',
        path,
        headers: { accept: 'application/json', 'content-length': 0, ...(token !== undefined && token !== '' ? { authorization: `Bearer ${token}` } : {}) },
        timeout: 600_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 600 s')));
    req.on('error', reject);
    req.end();
  }).catch((err: Error) => {
    throw new PacslinkError('ENGINE_UNREACHABLE', `cannot reach the engine at http://${host}:${port}: ${err.message}`, { cause: err });
  });
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  if (status < 200 || status > 299) {
    const e = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const detail = e !== undefined ? `${String(e.code)}: ${String(e.message)}` : body.slice(0, 200);
    const hint = status === 401 || status === 403 ? ' (give a token with the admin role: --token or PACSLINK_TOKEN)' : '';
    throw new PacslinkError('ENGINE_REFUSED', `the engine answered ${status} ${detail}${hint}`);
  }
  const r = json as PrefetchRunResult | undefined;
  if (r === undefined || typeof r.requested !== 'number' || typeof r.suppressed !== 'number') {
    throw new PacslinkError('ENGINE_REFUSED', 'the engine answered without a pre-fetch run result');
  }
  return r;
}
