/**
 * `npm run bench` / `pacslink bench`: runs the benchmark suites, one child process each so
 * that none warms up or disturbs another. Each suite's own output (progress and tables) goes
 * to stderr as it runs; at the end the runner prints the headline table and every suite's
 * tables to stdout, and writes `bench/results/<suite>.json` (each suite, through the common
 * results writer) and `bench/results/summary.md` (machine, date, command, all tables).
 *
 * `node dist/bench/run.js [--only parser,ingest,...] [--quick] [--scale 0,1e6,5e6] [--sink auto|ws|inproc] [--out DIR]`
 * (bare suite names, as in `npm run bench -- parser`, work like `--only`).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { headlineTable, readReport, renderSummary, RESULTS_DIR, textTable, type WrittenReport } from './results.js';

/** A suite the runner knows: its script and its arguments for a full and a quick run. */
export interface SuiteSpec {
  name: string;
  file: string;
  what: string;
  full: string[];
  quick: string[];
}

/** Every suite, in run order. */
export const SUITES: readonly SuiteSpec[] = [
  { name: 'parser', file: 'parser.bench.js', what: 'HL7 parser against the npm parsers', full: ['--time', '1000'], quick: ['--time', '100', '--warmup', '20', '--count', '200', '--min-passes', '2'] },
  { name: 'queue', file: 'queue.bench.js', what: 'durable LMDB inbound log appends at 1, 8, 64 appenders', full: ['--seconds', '2'], quick: ['--seconds', '0.3'] },
  {
    name: 'ingest',
    file: 'ingest.bench.js',
    what: 'durable MLLP ingest at C = 1, 8, 64 against the ACK-only reference and the npm peers',
    full: ['--duration', '5', '--warmup', '1'],
    quick: ['--duration', '0.5', '--warmup', '0.2'],
  },
  { name: 'convert', file: 'convert.bench.js', what: 'conversion of a full inbound log with 1, 2, 4 workers', full: ['--count', '20000'], quick: ['--count', '1000'] },
  {
    name: 'pipeline',
    file: 'pipeline.bench.js',
    what: 'full pipeline: sustained throughput, end-to-end latency, fan-out',
    full: ['--duration', '5', '--warmup', '1'],
    quick: ['--duration', '1', '--warmup', '0.3', '--fanout', '1,4'],
  },
  {
    name: 'fanout',
    file: 'fanout.bench.js',
    what: 'event fan-out to 1, 10, 100 WebSocket subscribers, uWebSockets.js and ws side by side',
    full: [],
    quick: ['--subscribers', '1,4', '--events', '500', '--latency-seconds', '0.5'],
  },
  {
    name: 'peak',
    file: 'peak.bench.js',
    what: 'peak finder: highest sustained rate, ACK p99 at half of it, e2e p99 at 1,000 msgs/s',
    full: ['--step', '3', '--measure', '5'],
    quick: ['--step', '0.7', '--warmup', '0.2', '--measure', '0.7', '--factor', '2', '--max', '4000'],
  },
  {
    name: 'scale',
    file: 'scale.bench.js',
    what: 'ingest and conversion with 0, 1 M, 5 M messages stored',
    full: ['--scale', '0,1e6,5e6', '--duration', '5'],
    quick: ['--scale', '0,20000', '--duration', '0.5', '--warmup', '0.2', '--tail', '1000'],
  },
];

/** Options of {@link runBenchmarks}. */
export interface RunOptions {
  /** Suite names; empty or absent runs all. */
  only?: string[];
  quick?: boolean;
  /** Sizes for the scale suite (`0,1e6,5e6`). */
  scale?: string;
  /** Event sink for pipeline and peak. */
  sink?: string;
  /** Results directory. Default `bench/results/`. */
  outDir?: string;
  /** The command line to record in summary.md. */
  command?: string;
  /** Where progress and the suites' own output go. Default process.stderr. */
  progress?: NodeJS.WritableStream;
  /** Where the final tables go. Default process.stdout. */
  out?: NodeJS.WritableStream;
}

/** What {@link runBenchmarks} did. */
export interface RunOutcome {
  reports: WrittenReport[];
  failed: string[];
  summaryPath: string;
}

/** Validates suite names; throws a RangeError naming the unknown ones. */
export function selectSuites(only: readonly string[] | undefined): SuiteSpec[] {
  if (only === undefined || only.length === 0) return [...SUITES];
  const unknown = only.filter((n) => !SUITES.some((s) => s.name === n));
  if (unknown.length > 0) throw new RangeError(`unknown suite ${unknown.join(', ')}; suites: ${SUITES.map((s) => s.name).join(', ')}`);
  return SUITES.filter((s) => only.includes(s.name));
}

function runChild(args: string[], progress: NodeJS.WritableStream): Promise<number> {
  return new Promise((resolveExit) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => progress.write(chunk));
    child.stderr.on('data', (chunk: Buffer) => progress.write(chunk));
    child.on('exit', (code, signal) => resolveExit(code ?? (signal !== null ? 128 : 1)));
  });
}

/** Runs the selected suites and writes the results; resolves when all have ended. */
export async function runBenchmarks(options: RunOptions = {}): Promise<RunOutcome> {
  const suites = selectSuites(options.only);
  const outDir = resolve(options.outDir ?? RESULTS_DIR);
  const progress = options.progress ?? process.stderr;
  const out = options.out ?? process.stdout;
  mkdirSync(outDir, { recursive: true });
  const reports: WrittenReport[] = [];
  const failed: string[] = [];
  const t0 = Date.now();
  for (const [i, suite] of suites.entries()) {
    const path = join(outDir, `${suite.name}.json`);
    rmSync(path, { force: true });
    const args = [...(options.quick === true ? suite.quick : suite.full)];
    if (suite.name === 'scale' && options.scale !== undefined) {
      const at = args.indexOf('--scale');
      args.splice(at, 2, '--scale', options.scale);
    }
    if ((suite.name === 'pipeline' || suite.name === 'peak') && options.sink !== undefined) args.push('--sink', options.sink);
    progress.write(`\n=== [${i + 1}/${suites.length}] ${suite.name}: ${suite.what} (${Math.round((Date.now() - t0) / 1000)} s elapsed)\n`);
    const code = await runChild([fileURLToPath(new URL(suite.file, import.meta.url)), ...args, '--out', path], progress);
    if (code !== 0 || !existsSync(path)) {
      failed.push(suite.name);
      progress.write(`!!! ${suite.name} exited with ${code}\n`);
      continue;
    }
    try {
      reports.push(readReport(path));
      progress.write(`--> ${path}\n`);
    } catch (err) {
      failed.push(suite.name);
      progress.write(`!!! ${suite.name}: ${(err as Error).message}\n`);
    }
  }
  const command = options.command ?? 'npm run bench';
  const summaryPath = join(outDir, 'summary.md');
  writeFileSync(summaryPath, renderSummary(reports, { command, failed }));
  const lines = ['', `pacslink benchmarks (${command})`, '', textTable(headlineTable(reports))];
  for (const r of reports) for (const t of r.tables) lines.push('', `${r.suite}: ${t.title}`, textTable(t));
  if (failed.length > 0) lines.push('', `failed: ${failed.join(', ')}`);
  lines.push('', `results: ${outDir}/<suite>.json and ${summaryPath}`, '');
  out.write(lines.join('\n'));
  return { reports, failed, summaryPath };
}

/** Parses the runner's arguments (also used by `pacslink bench`). Throws a TypeError/RangeError on bad usage. */
export function parseRunArgs(args: string[]): RunOptions {
  const { values, positionals } = parseArgs({
    args,
    options: {
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      scale: { type: 'string' },
      sink: { type: 'string' },
      out: { type: 'string' },
    },
    strict: true,
    allowPositionals: true,
  });
  const only = [...(values.only?.split(',').map((s) => s.trim()).filter((s) => s !== '') ?? []), ...positionals];
  selectSuites(only);
  if (values.sink !== undefined && !['auto', 'ws', 'inproc'].includes(values.sink)) throw new RangeError('--sink must be auto, ws or inproc');
  if (values.scale !== undefined && !/^\s*[0-9.e+]+(\s*,\s*[0-9.e+]+)*\s*$/i.test(values.scale)) throw new RangeError('--scale must be a comma-separated list of message counts, e.g. 0,1e6,5e6');
  return {
    only,
    quick: values.quick,
    ...(values.scale !== undefined ? { scale: values.scale } : {}),
    ...(values.sink !== undefined ? { sink: values.sink } : {}),
    ...(values.out !== undefined ? { outDir: values.out } : {}),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let options: RunOptions;
  try {
    options = parseRunArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const args = process.argv.slice(2);
  const outcome = await runBenchmarks({ ...options, command: `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}` });
  process.exitCode = outcome.failed.length === 0 ? 0 : 1;
}
