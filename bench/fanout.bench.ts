/**
 * Event fan-out over WebSocket `/events`: 1, 10 and 100 subscribers, under each gateway
 * adapter (uWebSockets.js and node:http + ws) side by side in the same run.
 *
 * The gateway and its event hub run in this process over a real LMDB event log; events
 * (about 700 bytes of JSON, the size of an `order.scheduled`) are committed here exactly as
 * the converter's applier commits them. The subscribers run in a child process, so their
 * decoding does not share the engine's thread. Two phases per row:
 *
 * - throughput: `events` events committed in transactions of 50 as fast as the subscribers
 *   take them (the producer waits while any subscriber's send buffer holds over 1 MiB, so
 *   none is cut off): events/s = events / (last receipt at the slowest subscriber - first
 *   commit), and deliveries/s = that times the subscribers;
 * - latency: `rate` events/s for `latencySeconds`; delivery latency = receipt time - the
 *   event's `time` (both wall clock, millisecond `time`), p50 / p99 / max over every
 *   delivery to every subscriber.
 *
 * `node dist/bench/fanout.bench.js [--subscribers 1,10,100] [--adapters uws,ws] [--events 5000]
 * [--rate 1000] [--latency-seconds 2] [--format json|msgpack]` prints a table and writes bench/results/fanout.json (the common results writer).
 * Importers call {@link runFanout}.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { open, type RootDatabase } from 'lmdb';
import { unpack } from 'msgpackr';
import { WebSocket } from 'ws';
import { resolveEngineOptions } from '../src/config.js';
import type { ConversionStore } from '../src/converter/stage.js';
import { openEventLog, type EventLog } from '../src/events/log.js';
import { Authenticator } from '../src/gateway/auth.js';
import type { GatewayContext } from '../src/gateway/context.js';
import type { EventFormat } from '../src/gateway/events-query.js';
import { startGateway, type Gateway } from '../src/gateway/gateway.js';
import type { GatewayAdapter, GatewayImpl } from '../src/gateway/port.js';
import { loadUwsAdapter } from '../src/gateway/uws-adapter.js';
import { silentLogger } from '../src/log.js';
import { createMetrics } from '../src/metrics.js';
import type { InboundLog } from '../src/queue/types.js';
import { wsAdapter } from '../native-free/ws-adapter.js';
import { ownPeakRssMb, printReport, writeReport, type SuiteReport } from './results.js';

const SELF = fileURLToPath(import.meta.url);
const TXN_EVENTS = 50;
const PRODUCER_HIGH_WATER = 1024 * 1024;

/** Options of {@link runFanout}; every field has a default. */
export interface FanoutOptions {
  /** Subscriber counts. Default [1, 10, 100]. */
  subscribers?: number[];
  /** Adapters. Default ['uws', 'ws'] (one that cannot load is reported, not run). */
  adapters?: GatewayImpl[];
  /** Events in the throughput phase. Default 5000. */
  events?: number;
  /** Events/s in the latency phase. Default 1000. */
  rate?: number;
  /** Length of the latency phase (s). Default 2. */
  latencySeconds?: number;
  /** Wire format of the subscribers. Default `json`. */
  format?: EventFormat;
}

/** One adapter at one subscriber count. */
export interface FanoutRow {
  adapter: GatewayImpl;
  format: EventFormat;
  subscribers: number;
  /** Events in the throughput phase. */
  events: number;
  /** Events/s delivered to every subscriber (the slowest one's pace). */
  eventsPerSec: number;
  /** Frames/s delivered in all (eventsPerSec × subscribers). */
  deliveriesPerSec: number;
  /** Delivery latency at `rate` events/s (ms). */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Subscribers the hub cut off (should be 0). */
  cutOff: number;
}

/** What {@link runFanout} returns. */
export interface FanoutResult {
  rows: FanoutRow[];
  /** Adapters that could not run, and why. */
  unavailable: Array<{ adapter: GatewayImpl; reason: string }>;
  options: Required<FanoutOptions>;
}

/** Messages between the bench and its subscriber process. */
type ToClient = { connect: string; count: number } | { expect: { from: number; to: number; latency: boolean } } | { quit: true };
type FromClient =
  | { ready: true }
  | { done: true; firstMs: number; lastMs: number; latencies: number[] }
  | { failed: string };

interface Producer {
  gateway: Gateway;
  events: EventLog;
  env: RootDatabase;
  dir: string;
  commit(count: number): void;
}

async function startProducer(adapter: GatewayAdapter): Promise<Producer> {
  const dir = await mkdtemp(join(tmpdir(), 'pacslink-fanout-'));
  const env = open({ path: join(dir, 'repository'), maxDbs: 16 });
  const events = openEventLog(env);
  const options = resolveEngineOptions({ dataDir: dir, http: { port: 0, maxSubscribers: 1000 } });
  const ctx: GatewayContext = {
    options,
    log: undefined as unknown as InboundLog,
    store: { events, repository: { env } } as unknown as ConversionStore,
    converter: undefined,
    workflows: undefined,
    metrics: createMetrics({ defaultMetrics: false }),
    logger: silentLogger,
    auth: new Authenticator([]),
    readiness: () => ({ storage: true, listeners: true, converter: true }),
    subscribers: () => [],
  };
  const gateway = await startGateway(ctx, adapter);
  // An order-sized payload (about 700 bytes of JSON).
  const order = { key: 'o-0000000001', patientKey: 'p-0000000001', accession: 'ACC0000001', status: 'scheduled', modality: 'CT', note: 'x'.repeat(420) };
  let n = 0;
  return {
    gateway,
    events,
    env,
    dir,
    commit(count) {
      env.transactionSync(() => {
        for (let i = 0; i < count; i++) events.append({ type: 'order.scheduled', messageSeq: ++n, data: { order } });
      });
      events.committed();
    },
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function nextMessage(child: ChildProcess): Promise<FromClient> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: FromClient): void => {
      child.off('exit', onExit);
      if ('failed' in m) reject(new Error(`subscriber process: ${m.failed}`));
      else resolve(m);
    };
    const onExit = (code: number | null): void => {
      child.off('message', onMessage);
      reject(new Error(`subscriber process exited ${code}`));
    };
    child.once('message', onMessage);
    child.once('exit', onExit);
  });
}

const round2 = (x: number): number => Math.round(x * 100) / 100;
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function runRow(adapter: GatewayAdapter, subscribers: number, o: Required<FanoutOptions>): Promise<FanoutRow> {
  const p = await startProducer(adapter);
  const child = fork(SELF, ['--client'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const send = (m: ToClient): void => void child.send(m);
    send({ connect: `ws://127.0.0.1:${p.gateway.port}/events?format=${o.format}`, count: subscribers });
    await nextMessage(child);
    while (p.gateway.hub.subscribers().length < subscribers) await tick();
    let cutOff = 0;
    const backpressure = async (): Promise<void> => {
      for (;;) {
        const subs = p.gateway.hub.subscribers();
        cutOff = Math.max(cutOff, subscribers - subs.length);
        if (!subs.some((s) => s.bufferedBytes > PRODUCER_HIGH_WATER)) return;
        await sleep(1);
      }
    };

    // Throughput.
    let from = p.events.lastSeq();
    send({ expect: { from: from + 1, to: from + o.events, latency: false } });
    const done1 = nextMessage(child);
    const t0 = Date.now();
    for (let left = o.events; left > 0; left -= TXN_EVENTS) {
      p.commit(Math.min(TXN_EVENTS, left));
      await backpressure();
      await tick();
    }
    const r1 = (await done1) as Extract<FromClient, { done: true }>;
    const seconds = Math.max(1, r1.lastMs - t0) / 1000;
    const eventsPerSec = o.events / seconds;

    // Latency at a steady rate: a commit every 10 ms.
    const perTick = Math.max(1, Math.round(o.rate / 100));
    const total = perTick * Math.round((o.latencySeconds * 1000) / 10);
    from = p.events.lastSeq();
    send({ expect: { from: from + 1, to: from + total, latency: true } });
    const done2 = nextMessage(child);
    const start = Date.now();
    for (let sent = 0, k = 1; sent < total; k++) {
      p.commit(perTick);
      sent += perTick;
      await sleep(Math.max(0, start + k * 10 - Date.now()));
    }
    const r2 = (await done2) as Extract<FromClient, { done: true }>;
    cutOff = Math.max(cutOff, subscribers - p.gateway.hub.subscribers().length);
    const sorted = r2.latencies.sort((a, b) => a - b);
    return {
      adapter: p.gateway.impl,
      format: o.format,
      subscribers,
      events: o.events,
      eventsPerSec: Math.round(eventsPerSec),
      deliveriesPerSec: Math.round(eventsPerSec * subscribers),
      p50Ms: round2(percentile(sorted, 50)),
      p99Ms: round2(percentile(sorted, 99)),
      maxMs: round2(sorted[sorted.length - 1] ?? NaN),
      cutOff,
    };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      if (child.connected) child.send({ quit: true } satisfies ToClient);
      else child.kill();
      await exited;
    }
    await p.gateway.close();
    await p.env.close();
    await rm(p.dir, { recursive: true, force: true });
  }
}

/** Runs the fan-out benchmark and returns its rows (nothing is printed or written). */
export async function runFanout(options: FanoutOptions = {}): Promise<FanoutResult> {
  const o: Required<FanoutOptions> = {
    subscribers: options.subscribers ?? [1, 10, 100],
    adapters: options.adapters ?? ['uws', 'ws'],
    events: options.events ?? 5000,
    rate: options.rate ?? 1000,
    latencySeconds: options.latencySeconds ?? 2,
    format: options.format ?? 'json',
  };
  const adapters: GatewayAdapter[] = [];
  const unavailable: FanoutResult['unavailable'] = [];
  for (const name of o.adapters) {
    if (name === 'ws') adapters.push(wsAdapter);
    else {
      try {
        adapters.push(await loadUwsAdapter());
      } catch (err) {
        unavailable.push({ adapter: 'uws', reason: (err as Error).message });
      }
    }
  }
  const rows: FanoutRow[] = [];
  for (const n of o.subscribers) {
    for (const adapter of adapters) rows.push(await runRow(adapter, n, o));
  }
  return { rows, unavailable, options: o };
}

/** The subscriber process: opens the connections, then reports each expected range's deliveries. */
function clientMain(): void {
  const sockets: WebSocket[] = [];
  let expect: { from: number; to: number; latency: boolean } | undefined;
  let latencies: number[] = [];
  let reached = 0;
  let firstMs = 0;
  let lastMs = 0;
  const reply = (m: FromClient): void => void process.send!(m);
  process.on('message', (m: ToClient) => {
    if ('quit' in m) {
      for (const ws of sockets) ws.terminate();
      process.exit(0);
    }
    if ('expect' in m) {
      expect = m.expect;
      latencies = [];
      reached = 0;
      firstMs = 0;
      return;
    }
    let open = 0;
    for (let i = 0; i < m.count; i++) {
      const ws = new WebSocket(m.connect, { perMessageDeflate: false });
      sockets.push(ws);
      ws.on('open', () => {
        if (++open === m.count) reply({ ready: true });
      });
      ws.on('error', (err) => reply({ failed: err.message }));
      ws.on('close', (code) => {
        if (code !== 1001 && code !== 1005 && code !== 1006) reply({ failed: `a subscriber was closed ${code}` });
      });
      ws.on('message', (data: Buffer, binary: boolean) => {
        const now = performance.timeOrigin + performance.now();
        const event = (binary ? unpack(data) : JSON.parse(data.toString('utf8'))) as { seq: number; time: string };
        if (expect === undefined || event.seq < expect.from || event.seq > expect.to) return;
        if (firstMs === 0) firstMs = now;
        if (expect.latency) latencies.push(now - Date.parse(event.time));
        if (event.seq === expect.to && ++reached === sockets.length) {
          lastMs = now;
          expect = undefined;
          reply({ done: true, firstMs, lastMs, latencies });
        }
      });
    }
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      subscribers: { type: 'string' },
      adapters: { type: 'string' },
      events: { type: 'string' },
      rate: { type: 'string' },
      'latency-seconds': { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string' },
    },
    strict: true,
  });
  const list = (s: string | undefined): number[] | undefined => s?.split(',').map(Number);
  const options: FanoutOptions = {};
  const subscribers = list(values.subscribers);
  if (subscribers !== undefined) options.subscribers = subscribers;
  if (values.adapters !== undefined) options.adapters = values.adapters.split(',') as GatewayImpl[];
  if (values.events !== undefined) options.events = Number(values.events);
  if (values.rate !== undefined) options.rate = Number(values.rate);
  if (values['latency-seconds'] !== undefined) options.latencySeconds = Number(values['latency-seconds']);
  if (values.format !== undefined) options.format = values.format as EventFormat;
  const result = await runFanout(options);
  const report = fanoutReport(result);
  printReport(report);
  process.stdout.write(`results: ${writeReport(report, values.out)}\n`);
}

/** The fan-out result as a suite report of the common results writer (bench/results.ts). */
export function fanoutReport(result: FanoutResult): SuiteReport {
  const columns = ['adapter', 'format', 'subscribers', 'events/s', 'deliveries/s', 'p50 ms', 'p99 ms', 'max ms', 'cut off'];
  const rows = result.rows.map((r) => [r.adapter, r.format, r.subscribers, r.eventsPerSec, r.deliveriesPerSec, r.p50Ms, r.p99Ms, r.maxMs, r.cutOff].map(String));
  for (const u of result.unavailable) rows.push([u.adapter, '-', '-', '-', '-', '-', '-', '-', `unavailable: ${u.reason}`]);
  return {
    suite: 'fanout',
    title: 'Event fan-out to WebSocket subscribers, both gateway adapters',
    command: 'node dist/bench/fanout.bench.js',
    headline: result.rows.map((r) => ({
      name: `fan-out ${r.adapter} ${r.subscribers} subscribers`,
      value: r.eventsPerSec,
      unit: 'events/s',
      note: `p99 ${r.p99Ms} ms at ${result.options.rate} events/s`,
    })),
    tables: [{ title: `fan-out (${result.options.events} events; latency at ${result.options.rate} events/s)`, columns, rows }],
    peakRssMb: { bench: ownPeakRssMb() },
    data: result,
  };
}

if (process.argv[1] === SELF) {
  if (process.argv.includes('--client')) clientMain();
  else await main();
}
