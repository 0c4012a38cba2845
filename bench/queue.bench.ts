/**
 * Durable append throughput of the inbound log: N concurrent appenders (1, 8, 64), each
 * awaiting its append (durable: committed and fsync'd) before issuing the next, ~1 KiB
 * messages with dedup keys. Prints msgs/s and p50/p99 append latency per configuration,
 * side by side with bare lmdb-js (`put` + `flushed`, no dedup, no metadata) as the
 * reference, and writes the results as JSON.
 *
 * Run: `npx tsc -p tsconfig.json && node dist/bench/queue.bench.js [--seconds 2] [--out path]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { open } from 'lmdb';
import { dedupKeyOf, openLmdbInboundLog } from '../src/queue/index.js';
import type { InboundRecordInput } from '../src/queue/index.js';
import { fmt, ownPeakRssMb, writeReport } from './results.js';

const MESSAGE_BYTES = 1024;
const CONCURRENCY = [1, 8, 64] as const;

/** One measured cell of the table. */
export interface QueueBenchRow {
  config: string;
  appenders: number;
  messages: number;
  msgsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Messages per LMDB transaction: the group commit at work. */
  perTxn: number;
}

function message(id: number): InboundRecordInput {
  const head = `MSH|^~\\&|HIS|HOSP|PACS|RAD|20250101120000||ORM^O01^ORM_O01|B${id}|P|2.5.1\rPID|1||${id}^^^HOSP^MR||DOE^JOHN\rOBR|1|`;
  const raw = Buffer.alloc(MESSAGE_BYTES, 0x41);
  raw.write(head, 'latin1');
  raw[MESSAGE_BYTES - 1] = 0x0d;
  return {
    raw,
    receivedAt: Date.now(),
    listener: 'bench',
    remote: '127.0.0.1:5000',
    messageType: 'ORM^O01^ORM_O01',
    controlId: `B${id}`,
    dedupKey: dedupKeyOf('HIS', 'HOSP', `B${id}`),
  };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

/** Runs `appenders` loops calling `appendOne` for `seconds`; returns throughput and latency. */
type Measured = Omit<QueueBenchRow, 'config' | 'appenders' | 'perTxn'>;

/** Transactions committed so far in the environment at `dir` (opened after the run). */
function txnCount(dir: string): number {
  const env = open({ path: dir, maxDbs: 16 });
  const n = (env.getStats() as { lastTxnId: number }).lastTxnId;
  void env.close();
  return n;
}

async function drive(appenders: number, seconds: number, appendOne: (id: number) => Promise<void>): Promise<Measured> {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: appenders }, async () => {
      while (performance.now() < deadline) {
        const id = next++;
        const t0 = performance.now();
        await appendOne(id);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  return {
    messages: latencies.length,
    msgsPerSec: Math.round(latencies.length / elapsed),
    p50Ms: Number(percentile(sorted, 0.5).toFixed(3)),
    p99Ms: Number(percentile(sorted, 0.99).toFixed(3)),
  };
}

async function benchLog(overlappingSync: boolean, appenders: number, seconds: number): Promise<QueueBenchRow> {
  const dir = mkdtempSync(join(tmpdir(), 'pacslink-queue-bench-'));
  try {
    const log = await openLmdbInboundLog({ path: dir, overlappingSync });
    const r = await drive(appenders, seconds, async (id) => {
      const o = await log.append(message(id));
      if (o.kind !== 'appended') throw new Error(`append failed: ${JSON.stringify(o)}`);
    });
    await log.close();
    const perTxn = Number((r.messages / txnCount(dir)).toFixed(1));
    return { config: `pacslink log, overlappingSync ${overlappingSync ? 'on' : 'off'}`, appenders, ...r, perTxn };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchBareLmdb(appenders: number, seconds: number): Promise<QueueBenchRow> {
  const dir = mkdtempSync(join(tmpdir(), 'pacslink-queue-bench-'));
  try {
    const root = open({ path: dir, maxDbs: 4, separateFlushed: true });
    const raw = root.openDB<Buffer, number>('raw', { encoding: 'binary', keyEncoding: 'uint32' });
    const r = await drive(appenders, seconds, async (id) => {
      const p = raw.put(id + 1, message(id).raw as Buffer) as Promise<boolean> & { flushed?: PromiseLike<unknown> };
      await p;
      await p.flushed;
    });
    await root.close();
    const perTxn = Number((r.messages / txnCount(dir)).toFixed(1));
    return { config: 'bare lmdb-js put + flushed (reference)', appenders, ...r, perTxn };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs every configuration at every concurrency. */
export async function runQueueBench(seconds: number): Promise<QueueBenchRow[]> {
  const rows: QueueBenchRow[] = [];
  for (const appenders of CONCURRENCY) {
    rows.push(await benchLog(true, appenders, seconds));
    rows.push(await benchLog(false, appenders, seconds));
    rows.push(await benchBareLmdb(appenders, seconds));
  }
  return rows;
}

function table(rows: QueueBenchRow[]): string {
  const head = ['configuration', 'appenders', 'msgs/s', 'p50 ms', 'p99 ms', 'msgs/txn'];
  const body = rows.map((r) => [r.config, String(r.appenders), String(r.msgsPerSec), r.p50Ms.toFixed(3), r.p99Ms.toFixed(3), String(r.perTxn)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(head), ...body.map(line)].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string', default: '2' },
      out: { type: 'string', default: fileURLToPath(new URL('../../bench/results/queue.json', import.meta.url)) },
    },
  });
  const seconds = Number(values.seconds);
  if (!(seconds > 0 && seconds <= 600)) throw new RangeError('--seconds must be between 0 and 600');
  const rows = await runQueueBench(seconds);
  process.stdout.write(`Durable appends, ${MESSAGE_BYTES}-byte messages, ${seconds} s per cell, Node ${process.version}\n${table(rows)}\n`);
  const at = (appenders: number): QueueBenchRow | undefined => rows.find((r) => r.appenders === appenders && r.config.endsWith('overlappingSync on'));
  const bare = (appenders: number): QueueBenchRow | undefined => rows.find((r) => r.appenders === appenders && r.config.startsWith('bare'));
  writeReport(
    {
      suite: 'queue',
      title: 'durable appends to the LMDB inbound log',
      command: `node dist/bench/queue.bench.js --seconds ${seconds}`,
      headline: CONCURRENCY.map((c) => ({
        name: `durable appends, ${c} appender${c === 1 ? '' : 's'}`,
        value: at(c)?.msgsPerSec ?? NaN,
        unit: 'msgs/s',
        note: `${fmt((at(c)?.msgsPerSec ?? 0) / (bare(c)?.msgsPerSec ?? 1), 2)}× bare lmdb-js; p99 ${fmt(at(c)?.p99Ms ?? NaN, 2)} ms`,
      })),
      tables: [
        {
          title: `${MESSAGE_BYTES}-byte messages, ${seconds} s per cell`,
          columns: ['configuration', 'appenders', 'msgs/s', 'p50 ms', 'p99 ms', 'msgs/txn'],
          rows: rows.map((r) => [r.config, String(r.appenders), fmt(r.msgsPerSec), fmt(r.p50Ms, 3), fmt(r.p99Ms, 3), String(r.perTxn)]),
        },
      ],
      peakRssMb: { bench: ownPeakRssMb() },
      data: { messageBytes: MESSAGE_BYTES, seconds, rows },
    },
    values.out,
  );
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main(process.argv.slice(2));
}
