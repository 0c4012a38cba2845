/**
 * Durable ingest throughput: pacslink (`pacslink start`, LMDB log, fsync'd group commit,
 * converter idle) against the ACK-only reference server (frames and answers, stores
 * nothing), at C = 1, 8 and 64 connections, in the same invocation. Each server runs in its
 * own process; the load generator (bench/mllp-load.ts) runs in this one.
 *
 * Prints a table (msgs/s, ACK latency p50/p99/max, ratio to the reference) and writes
 * bench/results/ingest.json.
 *
 * `node dist/bench/ingest.bench.js [--duration 5] [--warmup 1] [--connections 1,8,64]`
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runLoad, type LoadResult } from './mllp-load.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Server {
  child: ChildProcess;
  port: number;
}

async function startReference(): Promise<Server> {
  const child = spawn(process.execPath, [join(ROOT, 'dist/bench/ack-only-server.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) return { child, port: (JSON.parse(line) as { port: number }).port };
  throw new Error('reference server did not start');
}

async function startPacslink(dataDir: string): Promise<Server> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/pacslink.js'), 'start', '--data', dataDir, '--mllp', '127.0.0.1:0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines = createInterface({ input: child.stderr! });
  for await (const line of lines) {
    const entry = JSON.parse(line) as { msg: string; port?: number };
    if (entry.msg === 'mllp listener started' && entry.port !== undefined) {
      lines.on('line', () => {});
      return { child, port: entry.port };
    }
  }
  throw new Error('pacslink did not start');
}

async function stop(server: Server): Promise<void> {
  const exited = once(server.child, 'exit');
  server.child.kill('SIGTERM');
  await exited;
}

interface Row {
  connections: number;
  reference: LoadResult;
  pacslink: LoadResult;
  ratio: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      connections: { type: 'string', default: '1,8,64' },
    },
  });
  const durationMs = Number(values.duration) * 1000;
  const warmupMs = Number(values.warmup) * 1000;
  const levels = values.connections.split(',').map(Number);
  const rows: Row[] = [];
  for (const c of levels) {
    const ref = await startReference();
    const reference = await runLoad({ host: '127.0.0.1', port: ref.port, connections: c, durationMs, warmupMs });
    await stop(ref);
    const dir = await mkdtemp(join(tmpdir(), 'pacslink-ingest-'));
    const pl = await startPacslink(dir);
    const pacslink = await runLoad({ host: '127.0.0.1', port: pl.port, connections: c, durationMs, warmupMs });
    await stop(pl);
    await rm(dir, { recursive: true, force: true });
    rows.push({ connections: c, reference, pacslink, ratio: pacslink.msgsPerSec / reference.msgsPerSec });
    process.stderr.write(`C=${c} done\n`);
  }
  const f = (n: number, d = 0): string => n.toFixed(d);
  const lines = [
    '| C | server | msgs/s | p50 ms | p99 ms | max ms | errors | ratio |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    for (const [name, x] of [['ack-only reference', r.reference], ['pacslink durable', r.pacslink]] as const) {
      lines.push(
        `| ${r.connections} | ${name} | ${f(x.msgsPerSec)} | ${f(x.p50, 3)} | ${f(x.p99, 3)} | ${f(x.max, 3)} | ${x.errors} | ${name === 'pacslink durable' ? f(r.ratio, 2) : ''} |`,
      );
    }
  }
  console.log(lines.join('\n'));
  const resultsDir = join(ROOT, 'bench/results');
  await mkdir(resultsDir, { recursive: true });
  await writeFile(
    join(resultsDir, 'ingest.json'),
    JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        durationMs,
        warmupMs,
        rows,
      },
      null,
      2,
    ) + '\n',
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
