/**
 * Durable ingest throughput: pacslink (`pacslink start`, LMDB log, fsync'd group commit,
 * converter disabled by configuration) against the ACK-only reference server (frames and
 * answers, stores nothing) and the npm peers' MLLP servers (bench/peer-servers.ts:
 * @medplum/hl7's Hl7Server and node-hl7-server's Server, each answering AA and storing
 * nothing), at C = 1, 8 and 64 connections, in the same invocation. Each server runs in its
 * own process; the load generator (bench/mllp-load.ts) runs in this one, closed loop (each
 * connection sends its next message after the last one's ACK).
 *
 * node-hl7-server 2.5.0 never clears its receive buffer after a message, so a second
 * message on a connection is parsed together with the first (wrong ACKs, quadratic work):
 * it serves one message per connection. It is measured that way (a new connection per
 * message), next to pacslink measured the same way, and the ratio is between those two.
 *
 * Prints the tables (msgs/s, ACK latency p50/p99/max, ratios) and writes
 * bench/results/ingest.json through the common results writer. A last table gives the
 * inbound log's own rate at the same concurrency without any network (appends straight
 * from this process), which bounds what the listener can reach.
 *
 * At the concurrencies of `--steady-at` (default 64) each round also runs pacslink on a log in
 * steady state: one that has held more messages than the run writes, all since deleted by
 * retention, as a log that has run longer than its retention period has. Its new records
 * reuse the pages on LMDB's freelist instead of growing the file; on ext4 a commit that
 * grows the file also commits the file system's journal for the new blocks (measured, 128 KiB
 * write + fdatasync: ≈185 µs into new blocks, ≈110 µs into blocks written before). It also
 * shows what searching LMDB's free-page list costs, which is why logs have 16 KiB pages
 * (lmdb-log.ts). The fresh log stays the headline figure.
 *
 * `node dist/bench/ingest.bench.js [--duration 5] [--warmup 1] [--connections 1,8,64] [--steady-at 64] [--no-peers] [--out FILE]`
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { dedupKeyOf, openLmdbInboundLog } from '../src/queue/index.js';
import { generateCorpus } from './corpus.js';
import { runLoad, type LoadResult } from './mllp-load.js';
import { PEER_LABELS, PEER_SERVERS, type PeerServerName } from './peer-servers.js';
import { fmt, ownPeakRssMb, printReport, processPeakRssMb, progress, writeReport, type SuiteReport } from './results.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Server {
  child: ChildProcess;
  port: number;
}

/** Starts a server script that prints `{"port": N}` on its first line. */
async function startServerScript(args: string[]): Promise<Server> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) return { child, port: (JSON.parse(line) as { port: number }).port };
  throw new Error(`${args.join(' ')} did not start`);
}

const startReference = (): Promise<Server> => startServerScript([join(ROOT, 'dist/bench/ack-only-server.js')]);
const startPeer = (name: PeerServerName): Promise<Server> => startServerScript([join(ROOT, 'dist/bench/peer-servers.js'), name]);

async function startPacslink(dataDir: string, settings: Record<string, unknown> = {}): Promise<Server> {
  // The converter stays off: this measures the listener and the log alone (conversion has
  // its own benchmark, convert.bench.ts).
  await mkdir(dataDir, { recursive: true });
  const config = join(dataDir, 'bench-config.json');
  await writeFile(config, JSON.stringify({ converter: { enabled: false }, ...settings }));
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
  /** pacslink / reference of the median round. */
  ratio: number;
  /** Lowest and highest ratio over the rounds. */
  ratioRange: [number, number];
  /** Every round's pair. */
  rounds: Array<{ reference: LoadResult; pacslink: LoadResult; ratio: number }>;
  /** pacslink with duplicate detection off (`dedupWindowMs: 0`), one run. */
  pacslinkNoDedup: LoadResult;
  /** pacslink on a log in steady state, once per round (at the `--steady-at` levels). */
  steady?: SteadyCell;
  /** The npm peers, persistent connections (node-hl7-server: a connection per message). */
  peers: Array<{ name: string; label: string; reconnect: boolean; result: LoadResult; pacslinkRatio: number }>;
  /** pacslink with a new connection per message, when a peer needed that mode. */
  pacslinkReconnect?: LoadResult;
  /** Durable appends/s straight into the LMDB log with C concurrent appenders, no network. */
  logOnly: number;
}

/** pacslink on a log in steady state: the round with the median ratio, and every round. */
interface SteadyCell {
  pacslink: LoadResult;
  ratio: number;
  ratioRange: [number, number];
  rounds: Array<{ pacslink: LoadResult; ratio: number; records: number; fileGrowthMb: number }>;
}

const DAY_MS = 24 * 3600_000;
/** Records deleted before a steady-state run, per second of the run (warm-up included). */
const STEADY_RECORDS_PER_SECOND = 60_000;

/**
 * A data directory whose inbound log is in steady state: `records` corpus messages received
 * 40 days ago (past the 30-day retention) appended and then deleted by a retention sweep, so
 * that LMDB's freelist holds their pages. The log's own code does it all (append, cursor,
 * sweep), as a log that has run for more than its retention period would have.
 */
async function steadyStateDir(records: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pacslink-steady-'));
  const log = await openLmdbInboundLog({ path: join(dir, 'inbound') });
  const corpus = generateCorpus({ seed: 11, count: 500 });
  const receivedAt = Date.now() - 40 * DAY_MS;
  const appenders = 64;
  await Promise.all(
    Array.from({ length: appenders }, async (_, c) => {
      for (let i = c; i < records; i += appenders) {
        const id = `S${i}`;
        const outcome = await log.append({
          raw: corpus[i % corpus.length]!,
          receivedAt,
          listener: 'bench',
          remote: '127.0.0.1:1',
          messageType: 'ADT^A01',
          controlId: id,
          dedupKey: dedupKeyOf('RIS', 'HOSP', id),
        });
        if (outcome.kind !== 'appended') throw new Error(`steady-state fill: append ${id} was ${outcome.kind}`);
      }
    }),
  );
  // Retention deletes only what every cursor has passed (retention.ts).
  await log.setCursor('bench', log.lastSeq());
  const swept = await log.runRetention();
  await log.close();
  if (swept.deleted !== records) throw new Error(`steady-state fill: retention deleted ${swept.deleted} of ${records} records`);
  return dir;
}

const fileMb = async (dir: string): Promise<number> => (await stat(join(dir, 'inbound', 'data.mdb'))).size / 2 ** 20;

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

/** The round with the median ratio (the lower middle one of an even count), and the lowest and highest ratio. */
function medianRound<T extends { ratio: number }>(rounds: readonly T[]): { median: T; range: [number, number] } {
  const sorted = [...rounds].sort((a, b) => a.ratio - b.ratio);
  return { median: sorted[Math.floor((sorted.length - 1) / 2)]!, range: [sorted[0]!.ratio, sorted[sorted.length - 1]!.ratio] };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      connections: { type: 'string', default: '1,8,64' },
      'steady-at': { type: 'string', default: '64' },
      'no-peers': { type: 'boolean', default: false },
      rounds: { type: 'string', default: '3' },
      out: { type: 'string' },
    },
  });
  const durationMs = Number(values.duration) * 1000;
  const warmupMs = Number(values.warmup) * 1000;
  const levels = values.connections.split(',').map(Number);
  const steadyAt = new Set(values['steady-at'].split(',').filter((x) => x !== '').map(Number));
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer');
  const rows: Row[] = [];
  let engineRss = 0;
  const load = (port: number, c: number, reconnect = false): Promise<LoadResult> =>
    runLoad({ host: '127.0.0.1', port, connections: c, durationMs, warmupMs, ...(reconnect ? { reconnectEachMessage: true } : {}) });
  for (const c of levels) {
    // The reference and pacslink alternate `rounds` times, each run on a fresh server (and a
    // fresh log), and the pair with the median ratio is reported: on a shared 2-core VM
    // either figure moves by ±10% from one run to the next.
    const pairs: Array<{ reference: LoadResult; pacslink: LoadResult; ratio: number }> = [];
    const steadyRounds: SteadyCell['rounds'] = [];
    let pl: Server | undefined;
    let dir = '';
    for (let round = 1; round <= rounds; round++) {
      progress('ingest', `C=${c}: ACK-only reference (round ${round}/${rounds})`);
      const ref = await startReference();
      const reference = await load(ref.port, c);
      await stop(ref);
      progress('ingest', `C=${c}: pacslink durable (round ${round}/${rounds})`);
      if (pl !== undefined) {
        engineRss = Math.max(engineRss, processPeakRssMb(pl.child.pid) ?? 0);
        await stop(pl);
        await rm(dir, { recursive: true, force: true });
      }
      dir = await mkdtemp(join(tmpdir(), 'pacslink-ingest-'));
      pl = await startPacslink(dir);
      const pacslink = await load(pl.port, c);
      pairs.push({ reference, pacslink, ratio: pacslink.msgsPerSec / reference.msgsPerSec });
      if (steadyAt.has(c)) {
        const records = Math.ceil((durationMs + warmupMs) / 1000) * STEADY_RECORDS_PER_SECOND;
        progress('ingest', `C=${c}: pacslink durable, log in steady state (${fmt(records)} records deleted first; round ${round}/${rounds})`);
        const steadyDir = await steadyStateDir(records);
        const before = await fileMb(steadyDir);
        const server = await startPacslink(steadyDir);
        const result = await load(server.port, c);
        engineRss = Math.max(engineRss, processPeakRssMb(server.child.pid) ?? 0);
        await stop(server);
        const fileGrowthMb = (await fileMb(steadyDir)) - before;
        await rm(steadyDir, { recursive: true, force: true });
        steadyRounds.push({ pacslink: result, ratio: result.msgsPerSec / reference.msgsPerSec, records, fileGrowthMb });
      }
    }
    const { median, range: ratioRange } = medianRound(pairs);
    const { reference, pacslink } = median;
    if (pl === undefined) throw new Error('unreachable: no round ran');
    let pacslinkReconnect: LoadResult | undefined;
    if (!values['no-peers']) {
      progress('ingest', `C=${c}: pacslink durable, a connection per message`);
      pacslinkReconnect = await load(pl.port, c, true);
    }
    engineRss = Math.max(engineRss, processPeakRssMb(pl.child.pid) ?? 0);
    await stop(pl);
    await rm(dir, { recursive: true, force: true });
    // What duplicate detection costs: the same engine with dedupWindowMs 0 (one run).
    progress('ingest', `C=${c}: pacslink durable, duplicate detection off`);
    const plainDir = await mkdtemp(join(tmpdir(), 'pacslink-ingest-'));
    const plain = await startPacslink(plainDir, { dedupWindowMs: 0 });
    const pacslinkNoDedup = await load(plain.port, c);
    await stop(plain);
    await rm(plainDir, { recursive: true, force: true });
    const peers: Row['peers'] = [];
    if (!values['no-peers']) {
      for (const name of PEER_SERVERS) {
        const reconnect = name === 'node-hl7-server';
        progress('ingest', `C=${c}: ${PEER_LABELS[name]}${reconnect ? ', a connection per message' : ''}`);
        const peer = await startPeer(name);
        const result = await load(peer.port, c, reconnect);
        await stop(peer);
        const own = reconnect ? pacslinkReconnect! : pacslink;
        peers.push({ name, label: PEER_LABELS[name], reconnect, result, pacslinkRatio: own.msgsPerSec / result.msgsPerSec });
      }
    }
    const steadyMedian = steadyRounds.length > 0 ? medianRound(steadyRounds) : undefined;
    const steady: SteadyCell | undefined =
      steadyMedian === undefined
        ? undefined
        : { pacslink: steadyMedian.median.pacslink, ratio: steadyMedian.median.ratio, ratioRange: steadyMedian.range, rounds: steadyRounds };
    rows.push({ connections: c, reference, pacslink, ratio: median.ratio, ratioRange, rounds: pairs, pacslinkNoDedup, peers, ...(pacslinkReconnect !== undefined ? { pacslinkReconnect } : {}), ...(steady !== undefined ? { steady } : {}), logOnly: 0 });
    progress('ingest', `C=${c}: pacslink ${fmt(pacslink.msgsPerSec)} msgs/s, reference ${fmt(reference.msgsPerSec)} msgs/s`);
  }
  // The log-alone runs append in this process, which is also the load generator: run them
  // after every network cell, so that the generator's heap (and its GC pauses, which a
  // closed loop waiting on fsync feels more than the reference does) is the same for all.
  for (const r of rows) {
    progress('ingest', `C=${r.connections}: inbound log alone`);
    r.logOnly = await logOnly(r.connections, durationMs);
  }
  const ms = (n: number): string => fmt(n, 3);
  const line = (c: number, name: string, x: LoadResult, ratio: string): string[] => [String(c), name, fmt(x.msgsPerSec), ms(x.p50), ms(x.p99), ms(x.max), String(x.errors), ratio];
  const serverRows: string[][] = [];
  for (const r of rows) {
    serverRows.push(line(r.connections, 'ACK-only reference (stores nothing)', r.reference, ''));
    serverRows.push(line(r.connections, 'pacslink durable (fsync before ACK)', r.pacslink, `${fmt(r.ratio, 2)}× reference (rounds ${fmt(r.ratioRange[0], 2)}–${fmt(r.ratioRange[1], 2)}×)`));
    if (r.steady !== undefined) {
      const s = r.steady;
      const growth = Math.max(...s.rounds.map((x) => x.fileGrowthMb));
      const file = growth > 0 ? `the file grew by up to ${fmt(growth, 0)} MB` : 'the file did not grow';
      serverRows.push(line(r.connections, 'pacslink durable, log in steady state (freed pages reused)', s.pacslink, `${fmt(s.ratio, 2)}× reference (rounds ${fmt(s.ratioRange[0], 2)}–${fmt(s.ratioRange[1], 2)}×; ${file})`));
    }
    serverRows.push(line(r.connections, 'pacslink durable, duplicate detection off', r.pacslinkNoDedup, `${fmt(r.pacslinkNoDedup.msgsPerSec / r.reference.msgsPerSec, 2)}× reference`));
    for (const p of r.peers.filter((x) => !x.reconnect)) serverRows.push(line(r.connections, `${p.label} (stores nothing)`, p.result, `pacslink ${fmt(p.pacslinkRatio, 2)}×`));
    if (r.pacslinkReconnect !== undefined) serverRows.push(line(r.connections, 'pacslink durable, connection per message', r.pacslinkReconnect, ''));
    for (const p of r.peers.filter((x) => x.reconnect)) serverRows.push(line(r.connections, `${p.label}, connection per message (stores nothing)`, p.result, `pacslink ${fmt(p.pacslinkRatio, 2)}×`));
  }
  const report: SuiteReport = {
    suite: 'ingest',
    title: 'durable MLLP ingest against the ACK-only reference and the npm peers',
    command: `node dist/bench/ingest.bench.js --duration ${values.duration} --warmup ${values.warmup} --connections ${values.connections} --steady-at '${values['steady-at']}' --rounds ${rounds}${values['no-peers'] ? ' --no-peers' : ''}`,
    headline: rows.flatMap((r) => [
      {
        name: `durable ingest C=${r.connections}`,
        value: r.pacslink.msgsPerSec,
        unit: 'msgs/s',
        note: `${fmt(r.ratio, 2)}× ACK-only (${fmt(r.reference.msgsPerSec)}), median of ${r.rounds.length} rounds (${fmt(r.ratioRange[0], 2)}–${fmt(r.ratioRange[1], 2)}×); ACK p99 ${ms(r.pacslink.p99)} ms; fresh log`,
      },
      ...(r.steady !== undefined
        ? [
            {
              name: `durable ingest C=${r.connections}, log in steady state`,
              value: r.steady.pacslink.msgsPerSec,
              unit: 'msgs/s',
              note: `${fmt(r.steady.ratio, 2)}× ACK-only of the same rounds, median of ${r.steady.rounds.length} (${fmt(r.steady.ratioRange[0], 2)}–${fmt(r.steady.ratioRange[1], 2)}×); new records reuse pages retention freed`,
            },
          ]
        : []),
      ...r.peers.map((p) => ({
        name: `${p.label} C=${r.connections}${p.reconnect ? ' (conn/msg)' : ''}`,
        value: p.result.msgsPerSec,
        unit: 'msgs/s',
        note: `pacslink ${fmt(p.pacslinkRatio, 2)}× (durable vs storing nothing)`,
      })),
    ]),
    tables: [
      {
        title: `MLLP servers, closed loop, ${durationMs / 1000} s per cell after ${warmupMs / 1000} s warm-up`,
        columns: ['C', 'server', 'msgs/s', 'ACK p50 ms', 'ACK p99 ms', 'ACK max ms', 'errors', 'ratio'],
        rows: serverRows,
      },
      { title: 'the inbound log alone (no network), durable appends', columns: ['C', 'appends/s'], rows: rows.map((r) => [String(r.connections), fmt(r.logOnly)]) },
    ],
    peakRssMb: { bench: ownPeakRssMb(), engine: engineRss },
    data: { durationMs, warmupMs, rows },
  };
  printReport(report);
  writeReport(report, values.out);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
