/**
 * The full pipeline: MLLP in, durable log, converter, repository, events out to WebSocket
 * subscribers (bench/pipeline-rig.ts). Three measurements, each on a fresh engine:
 *
 * 1. sustained throughput: 64 connections sending as fast as ACKs come (closed loop); the
 *    ingest rate, ACK latency, the rate at which the pipeline delivered the first event of
 *    every message, end-to-end latency under that load, and how long events trailed after
 *    the load stopped;
 * 2. latency at a fixed rate (default 1 000 msgs/s, open loop): ACK and end-to-end p50/p99;
 * 3. fan-out: the same fixed rate with 1, 4, 16 WebSocket subscribers (ws sink only): events
 *    delivered to every subscriber, and end-to-end latency at the first.
 *
 * Peak RSS of the engine is read from the engine process (VmHWM).
 *
 * `node dist/bench/pipeline.bench.js [--duration 5] [--warmup 1] [-c 8] [--sustained-connections 64] [--rate 1000] [--fanout 1,4,16] [--sink auto|ws|inproc] [--out FILE]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runPhase, startRig, type PhaseResult, type SinkKind } from './pipeline-rig.js';
import { fmt, ownPeakRssMb, printReport, progress, writeReport, type ReportTable, type SuiteReport } from './results.js';

/** Options of {@link runPipelineBench}. */
export interface PipelineBenchOptions {
  durationMs: number;
  warmupMs: number;
  /** Connections of the fixed-rate and fan-out phases. */
  connections: number;
  /** Connections of the closed-loop (sustained) phase: more connections, bigger group commits. */
  sustainedConnections: number;
  /** Fixed offered rate for the latency and fan-out phases (msgs/s). */
  rate: number;
  fanout: number[];
  sink: SinkKind;
}

interface FanoutRow {
  subscribers: number;
  phase: PhaseResult;
  /** Events received by each subscriber. */
  received: number[];
  /** Deliveries per second across all subscribers over the window plus drain. */
  deliveriesPerSec: number;
}

async function withRig<T>(sink: SinkKind, subscribers: number, fn: (rig: Awaited<ReturnType<typeof startRig>>) => Promise<T>): Promise<{ value: T; sink: 'ws' | 'inproc'; rss: number | undefined }> {
  const dir = mkdtempSync(join(tmpdir(), 'pacslink-pipeline-'));
  const rig = await startRig({ dataDir: dir, sink, subscribers });
  try {
    const value = await fn(rig);
    return { value, sink: rig.sink, rss: rig.enginePeakRssMb() };
  } finally {
    await rig.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const ms = (n: number): string => (Number.isFinite(n) ? fmt(n, 2) : '–');

/** Runs the three measurements and returns the report. */
export async function runPipelineBench(o: PipelineBenchOptions): Promise<SuiteReport> {
  const suite = 'pipeline';
  progress(suite, `sustained throughput, C=${o.sustainedConnections}, ${o.durationMs / 1000} s`);
  const sustained = await withRig(o.sink, 1, (rig) => runPhase(rig, { connections: o.sustainedConnections, durationMs: o.durationMs, warmupMs: o.warmupMs }));
  const sink = sustained.sink;
  progress(suite, `sink ${sink}: ${fmt(sustained.value.load.msgsPerSec)} msgs/s in, ${fmt(sustained.value.pipelineMsgsPerSec)} msgs/s through`);
  progress(suite, `fixed rate ${o.rate} msgs/s`);
  const fixed = await withRig(o.sink, 1, (rig) => runPhase(rig, { connections: o.connections, durationMs: o.durationMs, warmupMs: o.warmupMs, rate: o.rate }));
  progress(suite, `end-to-end p99 ${ms(fixed.value.e2e.p99)} ms`);
  const fanout: FanoutRow[] = [];
  if (sink === 'ws') {
    for (const n of o.fanout) {
      progress(suite, `fan-out to ${n} subscribers at ${o.rate} msgs/s`);
      const r = await withRig('ws', n, async (rig) => {
        const t0 = performance.now();
        const phase = await runPhase(rig, { connections: o.connections, durationMs: o.durationMs, warmupMs: o.warmupMs, rate: o.rate });
        const received = rig.eventsReceived();
        const seconds = (performance.now() - t0) / 1000;
        return { subscribers: n, phase, received, deliveriesPerSec: received.reduce((a, b) => a + b, 0) / seconds };
      });
      fanout.push(r.value);
    }
  } else {
    progress(suite, 'fan-out skipped: it needs the WebSocket sink');
  }
  const rss = Math.max(sustained.rss ?? 0, fixed.rss ?? 0);

  const phaseRow = (name: string, p: PhaseResult): string[] => [
    name,
    fmt(p.load.msgsPerSec),
    ms(p.load.p50),
    ms(p.load.p99),
    fmt(p.pipelineMsgsPerSec),
    ms(p.e2e.p50),
    ms(p.e2e.p99),
    fmt(p.drainMs),
    `${p.e2e.withEvent}/${p.e2e.written}`,
    String(p.load.errors),
  ];
  const tables: ReportTable[] = [
    {
      title: `full pipeline, ${sink === 'ws' ? 'WebSocket subscriber (msgpack)' : 'in-process event sink'}`,
      columns: ['load', 'ACKed msgs/s', 'ACK p50 ms', 'ACK p99 ms', 'pipeline msgs/s', 'e2e p50 ms', 'e2e p99 ms', 'drain ms', 'msgs with events', 'errors'],
      rows: [phaseRow(`closed loop, C=${o.sustainedConnections}`, sustained.value), phaseRow(`open loop ${fmt(o.rate)} msgs/s, C=${o.connections}`, fixed.value)],
    },
  ];
  if (fanout.length > 0) {
    tables.push({
      title: `fan-out at ${fmt(o.rate)} msgs/s`,
      columns: ['subscribers', 'events per subscriber (min–max)', 'deliveries/s', 'e2e p50 ms', 'e2e p99 ms', 'ACK p99 ms'],
      rows: fanout.map((f) => [
        String(f.subscribers),
        `${fmt(Math.min(...f.received))}–${fmt(Math.max(...f.received))}`,
        fmt(f.deliveriesPerSec),
        ms(f.phase.e2e.p50),
        ms(f.phase.e2e.p99),
        ms(f.phase.load.p99),
      ]),
    });
  }
  return {
    suite,
    title: 'full pipeline (MLLP in, events out)',
    command: `node dist/bench/pipeline.bench.js --duration ${o.durationMs / 1000} -c ${o.connections} --sustained-connections ${o.sustainedConnections} --rate ${o.rate} --sink ${o.sink}`,
    headline: [
      { name: `pipeline sustained, C=${o.sustainedConnections}`, value: sustained.value.pipelineMsgsPerSec, unit: 'msgs/s', note: `target ≥ 20,000; ingest ${fmt(sustained.value.load.msgsPerSec)} msgs/s; sink ${sink}` },
      { name: `e2e p99 at ${fmt(o.rate)} msgs/s`, value: fixed.value.e2e.p99, unit: 'ms', note: 'target < 20' },
      { name: `ACK p99 at ${fmt(o.rate)} msgs/s`, value: fixed.value.load.p99, unit: 'ms' },
      ...fanout.map((f) => ({ name: `fan-out ${f.subscribers} subscribers, e2e p99`, value: f.phase.e2e.p99, unit: 'ms', note: `${fmt(f.deliveriesPerSec)} deliveries/s` })),
    ],
    tables,
    peakRssMb: { bench: ownPeakRssMb(), ...(sink === 'ws' ? { engine: rss } : {}) },
    data: { options: o, sink, sustained: sustained.value, fixed: fixed.value, fanout },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      connections: { type: 'string', short: 'c', default: '8' },
      'sustained-connections': { type: 'string', default: '64' },
      rate: { type: 'string', default: '1000' },
      fanout: { type: 'string', default: '1,4,16' },
      sink: { type: 'string', default: 'auto' },
      out: { type: 'string' },
    },
  });
  const sink = values.sink as SinkKind;
  if (!['auto', 'ws', 'inproc'].includes(sink)) throw new RangeError('--sink must be auto, ws or inproc');
  const report = await runPipelineBench({
    durationMs: Number(values.duration) * 1000,
    warmupMs: Number(values.warmup) * 1000,
    connections: Number(values.connections),
    sustainedConnections: Number(values['sustained-connections']),
    rate: Number(values.rate),
    fanout: values.fanout.split(',').map(Number),
    sink,
  });
  printReport(report);
  writeReport(report, values.out);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
