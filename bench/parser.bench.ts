/**
 * Parser benchmark: pacslink's byte-level HL7 v2 parser against the peer libraries of
 * peers.ts, on one seeded radiology corpus (corpus.ts), in one process.
 *
 * Each task is "for every message of the corpus: parse in full, then read MSH-10, PID-3.1,
 * PID-5.1 and OBR-4.1"; one tinybench sample is one pass over the whole corpus, and rates
 * are taken over the median pass. Before any timing, a correctness pass checks every
 * parser's four values against what the generator put in each message; a peer that
 * disagrees on any message (or throws) is reported with its counts and left out of the
 * timing, and a pacslink disagreement aborts the run.
 *
 * Input: pacslink gets the message bytes, as the network delivers them (it decodes the
 * fields it reads itself, in the MSH-18 charset). Peers get JS strings decoded once before
 * timing, their native input; that decode is not timed, which favours the peers.
 *
 * Run: `npx tsc -p tsconfig.json && node dist/bench/parser.bench.js [--time 1000]
 * [--warmup 250] [--min-passes 5] [--seed 1] [--count 2000] [--out FILE | --no-write]`.
 */
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import { Hl7Message } from '../src/hl7/index.js';
import { type CorpusMessage, type ExpectedValues, generateLabelledCorpus } from './corpus.js';
import { fmt, ownPeakRssMb, writeReport, type SuiteReport } from './results.js';
import { type PeerAdapter, createPeers } from './peers.js';

/** Options of {@link runParserBench}. */
export interface ParserBenchOptions {
  /** Corpus seed. Default 1. */
  seed?: number;
  /** Corpus size in messages. Default 2000. */
  count?: number;
  /** Minimum measured time per task, in ms. Default 1000. */
  timeMs?: number;
  /** Warm-up time per task, in ms. Default 250. */
  warmupMs?: number;
  /** Minimum number of corpus passes per task. Default 5. */
  minPasses?: number;
  /** Where to write the JSON results; `null` writes nothing. Default `bench/results/parser.json` in the repository. */
  out?: string | null;
  /** Print the table to stdout. Default true. */
  print?: boolean;
}

/** Defaults of {@link ParserBenchOptions}. */
export const PARSER_BENCH_DEFAULTS = Object.freeze({
  seed: 1,
  count: 2000,
  timeMs: 1000,
  warmupMs: 250,
  minPasses: 5,
  out: fileURLToPath(new URL('../../bench/results/parser.json', import.meta.url)),
  print: true,
});

/** How one parser's values compared with the corpus. */
export interface Agreement {
  name: string;
  /** Messages where all four values matched. */
  agree: number;
  /** Messages where the parser returned and at least one value differed. */
  disagree: number;
  /** Messages where the parser threw or returned an error. */
  errors: number;
  /** Up to three differing messages, for the report. */
  examples: Array<{ index: number; kind: string; expected: ExpectedValues; got: ExpectedValues | string }>;
  /** True when the parser was left out of the timing. */
  excluded: boolean;
}

/** One timed parser. */
export interface ParserBenchRow {
  name: string;
  version: string;
  /** What the task feeds the parser. */
  input: 'bytes' | 'string';
  tokenizesWholeMessage: boolean;
  tokenizesReason: string;
  /** Messages per second over the median corpus pass. */
  msgsPerSec: number;
  /** Megabytes (10^6 bytes of UTF-8 message) per second over the median corpus pass. */
  mbPerSec: number;
  /** Messages per second over the mean corpus pass. */
  meanMsgsPerSec: number;
  /** pacslink's msgs/s divided by this parser's (1 for pacslink). */
  pacslinkRatio: number;
  /** Relative margin of error of the per-pass latency, in percent. */
  rmePercent: number;
  /** Number of timed corpus passes. */
  passes: number;
}

/** Everything {@link runParserBench} measured. */
export interface ParserBenchResult {
  meta: {
    date: string;
    node: string;
    platform: string;
    cpu: string;
    seed: number;
    count: number;
    corpusBytes: number;
    timeMs: number;
    warmupMs: number;
    note: string;
    /** Sum of the lengths of every value read in every timed pass (proves the reads happened). */
    checksum: number;
  };
  agreement: Agreement[];
  rows: ParserBenchRow[];
}

const INPUT_NOTE = 'pacslink parses the UTF-8 bytes and decodes what it reads; peers get pre-decoded JS strings (decode not timed), which favours them';

/** A parser as the benchmark drives it. */
interface Contender {
  name: string;
  version: string;
  input: 'bytes' | 'string';
  tokenizesWholeMessage: boolean;
  tokenizesReason: string;
  /** Parses message `i` and returns its four values (correctness pass). */
  check(i: number): ExpectedValues | string;
  /** Parses every message and reads the four values; returns a checksum so nothing is optimised away. */
  pass(): number;
}

function pacslinkContender(corpus: readonly CorpusMessage[]): Contender {
  const bytes = corpus.map((m) => m.bytes);
  // One instance for the whole run: its typed arrays are reused from message to message.
  const msg = new Hl7Message();
  return {
    name: 'pacslink',
    version: 'workspace',
    input: 'bytes',
    tokenizesWholeMessage: true,
    tokenizesReason: 'one pass records the offset of every segment, field and inner delimiter; strings are decoded only for fields read',
    check(i) {
      const error = msg.parse(bytes[i] as Uint8Array);
      if (error !== undefined) return `${error.code}: ${error.message}`;
      return { msh10: msg.get('MSH-10'), pid3_1: msg.get('PID-3.1'), pid5_1: msg.get('PID-5.1'), obr4_1: msg.get('OBR-4.1') };
    },
    pass() {
      let sum = 0;
      for (let i = 0; i < bytes.length; i++) {
        msg.parse(bytes[i] as Uint8Array);
        sum += msg.get('MSH-10').length + msg.get('PID-3.1').length + msg.get('PID-5.1').length + msg.get('OBR-4.1').length;
      }
      return sum;
    },
  };
}

function peerContender(peer: PeerAdapter, texts: readonly string[]): Contender {
  return {
    name: peer.name,
    version: peer.version,
    input: 'string',
    tokenizesWholeMessage: peer.tokenizesWholeMessage,
    tokenizesReason: peer.tokenizesReason,
    check(i) {
      try {
        return peer.read(texts[i] as string);
      } catch (error) {
        return String(error);
      }
    },
    pass() {
      let sum = 0;
      for (let i = 0; i < texts.length; i++) {
        const v = peer.read(texts[i] as string);
        sum += v.msh10.length + v.pid3_1.length + v.pid5_1.length + v.obr4_1.length;
      }
      return sum;
    },
  };
}

function compare(c: Contender, corpus: readonly CorpusMessage[]): Agreement {
  const a: Agreement = { name: c.name, agree: 0, disagree: 0, errors: 0, examples: [], excluded: false };
  for (let i = 0; i < corpus.length; i++) {
    const m = corpus[i] as CorpusMessage;
    const got = c.check(i);
    const e = m.expected;
    if (typeof got === 'string') a.errors++;
    else if (got.msh10 === e.msh10 && got.pid3_1 === e.pid3_1 && got.pid5_1 === e.pid5_1 && got.obr4_1 === e.obr4_1) {
      a.agree++;
      continue;
    } else a.disagree++;
    if (a.examples.length < 3) a.examples.push({ index: i, kind: m.kind, expected: e, got });
  }
  a.excluded = a.disagree + a.errors > 0;
  return a;
}

function optionsWithDefaults(options: ParserBenchOptions): Required<Omit<ParserBenchOptions, 'out'>> & { out: string | null } {
  const o = { ...PARSER_BENCH_DEFAULTS, ...options };
  if (!(Number.isFinite(o.timeMs) && o.timeMs >= 10)) throw new RangeError('parserBench.timeMs must be a number >= 10');
  if (!(Number.isFinite(o.warmupMs) && o.warmupMs >= 0)) throw new RangeError('parserBench.warmupMs must be a number >= 0');
  if (!(Number.isInteger(o.minPasses) && o.minPasses >= 1)) throw new RangeError('parserBench.minPasses must be an integer >= 1');
  return o;
}

/**
 * Generates the corpus, checks every parser's values, times pacslink and each agreeing
 * peer, prints the table (unless `print` is false) and writes the JSON (unless `out` is null).
 */
export function runParserBench(options: ParserBenchOptions = {}): ParserBenchResult {
  const o = optionsWithDefaults(options);
  const corpus = generateLabelledCorpus({ seed: o.seed, count: o.count });
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const texts = corpus.map((m) => decoder.decode(m.bytes));
  const corpusBytes = corpus.reduce((n, m) => n + m.bytes.length, 0);

  const contenders = [pacslinkContender(corpus), ...createPeers().map((p) => peerContender(p, texts))];
  const agreement = contenders.map((c) => compare(c, corpus));
  const own = agreement[0] as Agreement;
  if (own.excluded) {
    throw new Error(`pacslink disagrees with the corpus on ${own.disagree} messages and failed on ${own.errors}: ` +
      JSON.stringify(own.examples));
  }

  const bench = new Bench({
    time: o.timeMs, iterations: o.minPasses, warmup: o.warmupMs > 0, warmupTime: o.warmupMs, warmupIterations: 1,
  });
  const timed = contenders.filter((_, i) => !(agreement[i] as Agreement).excluded);
  // The checksum keeps the values read observable, so no engine can drop the reads.
  let checksum = 0;
  for (const c of timed) bench.add(c.name, () => { checksum += c.pass(); });
  bench.runSync();

  const rows: ParserBenchRow[] = [];
  for (const c of timed) {
    const r = bench.getTask(c.name)?.result;
    if (r === undefined || !('period' in r)) throw new Error(`task ${c.name} did not complete: ${r?.state ?? 'missing'}`);
    // The median pass resists the bursts of other work on a shared machine better than the mean.
    const perSec = 1000 / r.latency.p50;
    rows.push({
      name: c.name, version: c.version, input: c.input,
      tokenizesWholeMessage: c.tokenizesWholeMessage, tokenizesReason: c.tokenizesReason,
      msgsPerSec: o.count * perSec, mbPerSec: (corpusBytes * perSec) / 1e6, meanMsgsPerSec: (o.count * 1000) / r.period,
      pacslinkRatio: 0, rmePercent: r.latency.rme, passes: r.latency.samplesCount,
    });
  }
  const ownRate = (rows[0] as ParserBenchRow).msgsPerSec;
  for (const row of rows) row.pacslinkRatio = ownRate / row.msgsPerSec;

  const result: ParserBenchResult = {
    meta: {
      date: new Date().toISOString(), node: process.version, platform: `${process.platform}-${process.arch}`,
      cpu: cpus()[0]?.model ?? 'unknown', seed: o.seed, count: o.count, corpusBytes,
      timeMs: o.timeMs, warmupMs: o.warmupMs, note: INPUT_NOTE, checksum,
    },
    agreement, rows,
  };
  if (o.print) console.log(formatTable(result));
  if (o.out !== null) writeReport(parserReport(result), o.out);
  return result;
}

/** The results as a {@link SuiteReport} for the common results writer. */
export function parserReport(result: ParserBenchResult): SuiteReport {
  const { meta } = result;
  return {
    suite: 'parser',
    title: 'HL7 v2 parser against the npm parsers',
    command: `node dist/bench/parser.bench.js --time ${meta.timeMs} --count ${meta.count} --seed ${meta.seed}`,
    headline: result.rows.map((r, i) => ({
      name: i === 0 ? `parse + read 4 fields, ${r.name}` : `${r.name}@${r.version}`,
      value: r.msgsPerSec,
      unit: 'msgs/s',
      note: i === 0 ? `${fmt(r.mbPerSec, 1)} MB/s` : `pacslink ${fmt(r.pacslinkRatio, 2)}×`,
    })),
    tables: [
      {
        title: `parse + read MSH-10, PID-3.1, PID-5.1, OBR-4.1; corpus seed ${meta.seed}, ${meta.count} messages, ${fmt(meta.corpusBytes / 1e6, 2)} MB`,
        columns: ['parser', 'input', 'tokenizes all', 'msgs/s', 'MB/s', '±rme', 'pacslink ×'],
        rows: result.rows.map((r) => [
          `${r.name}@${r.version}`, r.input, r.tokenizesWholeMessage ? 'yes' : 'no (lazy)', fmt(r.msgsPerSec),
          fmt(r.mbPerSec, 1), `${fmt(r.rmePercent, 1)}%`, `${fmt(r.pacslinkRatio, 2)}×`,
        ]),
      },
    ],
    peakRssMb: { bench: ownPeakRssMb() },
    data: result,
  };
}

/** Renders the results as a fixed-width text table with its footnotes. */
export function formatTable(result: ParserBenchResult): string {
  const fmt = (n: number, digits: number): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const header = ['parser', 'input', 'tokenizes all', 'msgs/s', 'MB/s', '±rme', 'pacslink ×'];
  const body = result.rows.map((r) => [
    `${r.name}@${r.version}`, r.input, r.tokenizesWholeMessage ? 'yes' : 'no (lazy)', fmt(r.msgsPerSec, 0),
    fmt(r.mbPerSec, 1), `${fmt(r.rmePercent, 1)}%`, `${fmt(r.pacslinkRatio, 2)}×`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] as string).length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 || i === 1 || i === 2 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  const { meta } = result;
  const out = [
    `HL7 v2 parse + read MSH-10, PID-3.1, PID-5.1, OBR-4.1 — corpus seed ${meta.seed}, ${meta.count} messages, ${fmt(meta.corpusBytes / 1e6, 2)} MB (${meta.node}, ${meta.cpu})`,
    line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line), '',
    `Rates over the median corpus pass; ±rme is the relative margin of error of the mean pass.`,
    `Note: ${meta.note}.`,
  ];
  for (const a of result.agreement) {
    const total = a.agree + a.disagree + a.errors;
    out.push(a.excluded
      ? `Excluded ${a.name}: agreed on ${a.agree}/${total}, disagreed on ${a.disagree}, failed on ${a.errors}; e.g. ${JSON.stringify(a.examples[0])}`
      : `${a.name}: all four values agree on ${a.agree}/${total} messages`);
  }
  return out.join('\n');
}

function main(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      time: { type: 'string' }, warmup: { type: 'string' }, seed: { type: 'string' }, count: { type: 'string' },
      'min-passes': { type: 'string' }, out: { type: 'string' }, 'no-write': { type: 'boolean' },
    },
  });
  const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
  const options: ParserBenchOptions = {};
  if (values.time !== undefined) options.timeMs = num(values.time);
  if (values.warmup !== undefined) options.warmupMs = num(values.warmup);
  if (values.seed !== undefined) options.seed = num(values.seed);
  if (values.count !== undefined) options.count = num(values.count);
  if (values['min-passes'] !== undefined) options.minPasses = num(values['min-passes']);
  if (values.out !== undefined) options.out = resolve(values.out);
  if (values['no-write'] === true) options.out = null;
  runParserBench(options);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2));
}
