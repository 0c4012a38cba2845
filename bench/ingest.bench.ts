/**
 * Durable ingest throughput: pacslink (`pacslink start`, LMDB log, fsync'd group commit,
 * converter disabled by configuration) against the ACK-only reference server (frames and answers, stores
 * nothing), at C = 1, 8 and 64 connections, in the same invocation. Each server runs in its
 * own process; the load generator (bench/mllp-load.ts) runs in this one.
 *
 * Prints a table (msgs/s, ACK latency p50/p99/max, ratio to the reference) and writes
 * bench/results/ingest.json. A second table gives the inbound log's own rate at the same
 * concurrency without any network (appends straight from this process), which bounds what
 * the listener can reach.
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
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { dedupKeyOf, openLmdbInboundLog } from '../src/queue/index.js';
import { generateCorpus } from './corpus.js';
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
  // The converter stays off: this measures the listener and the log alone (conversion has
  // its own benchmark, convert.bench.ts).
  await mkdir(dataDir, { recursive: true });
  const config = join(dataDir, 'bench-config.json');
  await writeFile(config, JSON.stringify({ converter: { enabled: false } }));
  const child = spawn(process.execPath, [join(ROOT, 'bin/pacslink.js'), 'start', '--data', dataDir, '--config', config, '--mllp', '127.0.0.1:0', '--http', '127.0.0.1:0'], {
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
  /** Durable appends/s straight into the LMDB log with C concurrent appenders, no network. */
  logOnly: number;
}

/**
 * The inbound log alone: C concurrent appenders, each awaiting its durable append before the
 * next, for `durationMs`. Shows how much of the gap to the reference is the log's.
 */
async function logOnly(connections: number, durationMs: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'pacslink-logonly-'));
  const log = await openLmdbInboundLog({ path: dir });
  const corpus = generateCorpus({ seed: 7, count: 500 });
  let n = 0;
  const end = performance.now() + durationMs;
  await Promise.all(
    Array.from({ length: connections }, async (_, c) => {
      for (let i = 0; performance.now() < end; i++) {
        const raw = corpus[(c * 7919 + i) % corpus.length]!;
        const id = `L${c}-${i}`;
        await log.append({
          raw,
          receivedAt: Date.now(),
          listener: 'bench',
          remote: '127.0.0.1:1',
          messageType: 'ADT^A01',
          controlId: id,
          dedupKey: dedupKeyOf('RIS', 'HOSP', id),
        });
        n++;
      }
    }),
  );
  await log.close();
  await rm(dir, { recursive: true, force: true });
  return n / (durationMs / 1000);
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
    const logRate = await logOnly(c, durationMs);
    rows.push({ connections: c, reference, pacslink, ratio: pacslink.msgsPerSec / reference.msgsPerSec, logOnly: logRate });
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
  lines.push('', '| C | inbound log alone (no network), appends/s |', '|---|---|');
  for (const r of rows) lines.push(`| ${r.connections} | ${f(r.logOnly)} |`);
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
