/**
 * The peak finder: raises the offered load step by step (open loop, C connections, one
 * engine for all steps, so the store grows as it would in service) and reports the highest
 * rate the full pipeline sustains. A step passes when
 *
 * - every message offered was sent and ACKed AA (no sends skipped for want of ACKs),
 * - the ACKed rate is at least 95% of the offered rate,
 * - ACK p99 < 50 ms (`--ack-p99`), and
 * - the queue does not grow: the sink's lag (ACKed seq − last seq with an event) grew by at
 *   most max(500, 5% of the messages offered in the step) over the step, and drains within
 *   30 s after it.
 *
 * When the start rate already fails it halves the rate until a step passes (down to
 * `--min`). After a failed step it tries once halfway between the last pass and the failure. Then it
 * measures, on the same engine, ACK latency at half of the peak, end-to-end latency at
 * 1 000 msgs/s, and reads the engine's peak RSS.
 *
 * `node dist/bench/peak.bench.js [--start 1000] [--min 100] [--factor 1.25] [--max 100000] [--step 3] [-c 8] [--sink auto|ws|inproc] [--out FILE]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { runLoad, type LoadResult } from './mllp-load.js';
import { runPhase, settle, startRig, type PhaseResult, type Rig, type SinkKind } from './pipeline-rig.js';
import { fmt, ownPeakRssMb, printReport, progress, writeReport, type SuiteReport } from './results.js';

/** Options of {@link runPeakBench}. */
export interface PeakBenchOptions {
  startRate: number;
  /** Lowest rate tried when the start rate already fails. */
  minRate: number;
  factor: number;
  maxRate: number;
  stepMs: number;
  warmupMs: number;
  connections: number;
  ackP99LimitMs: number;
  /** Duration of the half-peak and 1 000 msgs/s measurements (ms). */
  measureMs: number;
  sink: SinkKind;
}

/** One step of the search. */
export interface PeakStep {
  offered: number;
  load: LoadResult;
  lagStart: number;
  lagEnd: number;
  drained: boolean;
  pass: boolean;
  /** Why the step failed ('' when it passed). */
  reason: string;
}

async function step(rig: Rig, o: PeakBenchOptions, rate: number): Promise<PeakStep> {
  let lagStart = 0;
  let lagEnd = 0;
  const t1 = setTimeout(() => (lagStart = rig.tracker.lag()), o.warmupMs);
  const t2 = setTimeout(() => (lagEnd = rig.tracker.lag()), o.warmupMs + o.stepMs - 20);
  const load = await runLoad({
    host: '127.0.0.1',
    port: rig.mllpPort,
    connections: o.connections,
    rate,
    durationMs: o.stepMs,
    warmupMs: o.warmupMs,
    corpusSize: 2000,
    uniqueIdentifiers: true,
    idPrefix: `P${rig.phases}-`,
    startAt: rig.streamPosition,
    onAck: rig.tracker.onAck,
  });
  clearTimeout(t1);
  clearTimeout(t2);
  rig.phases++;
  rig.streamPosition += load.sent;
  const t0 = performance.now();
  await settle(rig, 2000, 30_000);
  const drained = rig.tracker.lag() <= 500 && performance.now() - t0 < 30_000;
  const allowedGrowth = Math.max(500, 0.05 * rate * (o.stepMs / 1000));
  const reasons: string[] = [];
  if (load.errors > 0) reasons.push(`${load.errors} errors`);
  if ((load.skipped ?? 0) > 0) reasons.push(`${load.skipped} sends skipped`);
  if (load.msgsPerSec < 0.95 * rate) reasons.push(`ACKed ${fmt(load.msgsPerSec)} msgs/s`);
  if (load.p99 >= o.ackP99LimitMs) reasons.push(`ACK p99 ${fmt(load.p99, 1)} ms`);
  if (lagEnd - lagStart > allowedGrowth) reasons.push(`queue grew ${fmt(lagStart)} → ${fmt(lagEnd)}`);
  if (!drained) reasons.push('queue did not drain');
  return { offered: rate, load, lagStart, lagEnd, drained, pass: reasons.length === 0, reason: reasons.join('; ') };
}

/** Runs the search and the measurements around the peak. */
export async function runPeakBench(o: PeakBenchOptions): Promise<SuiteReport> {
  const suite = 'peak';
  const dir = mkdtempSync(join(tmpdir(), 'pacslink-peak-'));
  const rig = await startRig({ dataDir: dir, sink: o.sink });
  const steps: PeakStep[] = [];
  let half: PhaseResult | undefined;
  let at1000: PhaseResult | undefined;
  let engineRss: number | undefined;
  let best = 0;
  try {
    progress(suite, `sink ${rig.sink}; stepping from ${fmt(o.startRate)} msgs/s ×${o.factor}, ${o.stepMs / 1000} s a step`);
    let failed = 0;
    for (let rate = o.startRate; rate <= o.maxRate; rate = Math.round(rate * o.factor)) {
      const s = await step(rig, o, rate);
      steps.push(s);
      progress(suite, `${fmt(rate)} msgs/s: ${s.pass ? 'pass' : `FAIL (${s.reason})`}, ACK p99 ${fmt(s.load.p99, 2)} ms, lag ${fmt(s.lagStart)} → ${fmt(s.lagEnd)}`);
      if (!s.pass) {
        failed = rate;
        break;
      }
      best = rate;
    }
    // Nothing passed at the start rate: halve it until a step passes (down to --min).
    for (let rate = Math.round(o.startRate / 2); best === 0 && rate >= o.minRate; rate = Math.round(rate / 2)) {
      const s = await step(rig, o, rate);
      steps.push(s);
      progress(suite, `${fmt(rate)} msgs/s: ${s.pass ? 'pass' : `FAIL (${s.reason})`}, ACK p99 ${fmt(s.load.p99, 2)} ms`);
      if (s.pass) best = rate;
      else failed = rate;
    }
    if (failed > 0 && best > 0 && failed - best > 0.05 * best) {
      const mid = Math.round((best + failed) / 2);
      const s = await step(rig, o, mid);
      steps.push(s);
      progress(suite, `${fmt(mid)} msgs/s: ${s.pass ? 'pass' : `FAIL (${s.reason})`}, ACK p99 ${fmt(s.load.p99, 2)} ms`);
      if (s.pass) best = mid;
    }
    if (best > 0) {
      progress(suite, `half of peak: ${fmt(best / 2)} msgs/s`);
      half = await runPhase(rig, { connections: o.connections, rate: best / 2, durationMs: o.measureMs, warmupMs: o.warmupMs });
    }
    progress(suite, 'end-to-end latency at 1,000 msgs/s');
    at1000 = await runPhase(rig, { connections: o.connections, rate: 1000, durationMs: o.measureMs, warmupMs: o.warmupMs });
    engineRss = rig.enginePeakRssMb();
  } finally {
    await rig.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const ms = (n: number | undefined): string => (n !== undefined && Number.isFinite(n) ? fmt(n, 2) : '–');
  return {
    suite,
    title: 'peak sustained rate of the full pipeline',
    command: `node dist/bench/peak.bench.js --start ${o.startRate} --factor ${o.factor} --step ${o.stepMs / 1000} -c ${o.connections} --sink ${o.sink}`,
    headline: [
      {
        name: `peak sustained (ACK p99 < ${o.ackP99LimitMs} ms, queue not growing)`,
        value: best,
        unit: 'msgs/s',
        note: best > 0 ? `target ≥ 20,000; sink ${rig.sink}` : `no step passed, down to ${fmt(Math.min(...steps.map((s) => s.offered)))} msgs/s; sink ${rig.sink}`,
      },
      { name: `ACK p99 at half of peak (${fmt(best / 2)} msgs/s)`, value: half?.load.p99 ?? NaN, unit: 'ms', note: 'target < 5' },
      { name: 'e2e p99 at 1,000 msgs/s', value: at1000?.e2e.p99 ?? NaN, unit: 'ms', note: 'target < 20' },
      { name: 'engine peak RSS', value: engineRss ?? NaN, unit: 'MB', note: 'target < 512' },
    ],
    tables: [
      {
        title: `steps (open loop, C=${o.connections}, ${o.stepMs / 1000} s each)`,
        columns: ['offered msgs/s', 'ACKed msgs/s', 'ACK p50 ms', 'ACK p99 ms', 'lag start', 'lag end', 'result'],
        rows: steps.map((s) => [fmt(s.offered), fmt(s.load.msgsPerSec), ms(s.load.p50), ms(s.load.p99), fmt(s.lagStart), fmt(s.lagEnd), s.pass ? 'pass' : `fail: ${s.reason}`]),
      },
      {
        title: 'around the peak',
        columns: ['load', 'ACKed msgs/s', 'ACK p50 ms', 'ACK p99 ms', 'e2e p50 ms', 'e2e p99 ms'],
        rows: [
          ...(half !== undefined ? [[`half of peak, ${fmt(best / 2)} msgs/s`, fmt(half.load.msgsPerSec), ms(half.load.p50), ms(half.load.p99), ms(half.e2e.p50), ms(half.e2e.p99)]] : []),
          ...(at1000 !== undefined ? [['1,000 msgs/s', fmt(at1000.load.msgsPerSec), ms(at1000.load.p50), ms(at1000.load.p99), ms(at1000.e2e.p50), ms(at1000.e2e.p99)]] : []),
        ],
      },
    ],
    peakRssMb: { bench: ownPeakRssMb(), ...(rig.sink === 'ws' && engineRss !== undefined ? { engine: engineRss } : {}) },
    data: { options: o, sink: rig.sink, peak: best, steps, half, at1000 },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      start: { type: 'string', default: '1000' },
      min: { type: 'string', default: '100' },
      factor: { type: 'string', default: '1.25' },
      max: { type: 'string', default: '100000' },
      step: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '0.5' },
      measure: { type: 'string', default: '5' },
      connections: { type: 'string', short: 'c', default: '8' },
      'ack-p99': { type: 'string', default: '50' },
      sink: { type: 'string', default: 'auto' },
      out: { type: 'string' },
    },
  });
  const sink = values.sink as SinkKind;
  if (!['auto', 'ws', 'inproc'].includes(sink)) throw new RangeError('--sink must be auto, ws or inproc');
  const factor = Number(values.factor);
  if (!(factor > 1)) throw new RangeError('--factor must be greater than 1');
  const report = await runPeakBench({
    startRate: Number(values.start),
    minRate: Number(values.min),
    factor,
    maxRate: Number(values.max),
    stepMs: Number(values.step) * 1000,
    warmupMs: Number(values.warmup) * 1000,
    measureMs: Number(values.measure) * 1000,
    connections: Number(values.connections),
    ackP99LimitMs: Number(values['ack-p99']),
    sink,
  });
  printReport(report);
  writeReport(report, values.out);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
