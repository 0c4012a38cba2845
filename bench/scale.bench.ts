/**
 * The scale run: how ingest and conversion cost grow with the data already stored. For each
 * size N (default 0, 1 M, 5 M):
 *
 * 1. prefill: N corpus messages (bench/mllp-load.ts `messageStream`: fresh MSH-10 and fresh
 *    identifiers on every pass over the corpus, dedup keys as the listener computes them)
 *    are appended straight through the inbound log's `append` in batches of concurrent
 *    appends (group commits), with no network; the converter's cursor is then set to N, so
 *    the repository starts empty and conversion is measured on a fresh tail. Pre-filled
 *    stores are kept under `--cache` (default `$TMPDIR/pacslink-bench-scale/nN`) and reused
 *    by later runs: they only grow by what each run adds;
 * 2. ingest: the engine (`pacslink start`, converter off) takes C connections of closed-loop
 *    MLLP load for `--duration` seconds; msgs/s and ACK p50/p99;
 * 3. conversion: `--tail` more messages are appended straight to the log, then the converter
 *    (the engine's stage: Piscina workers, applier, repository, event log) converts
 *    everything after its cursor (the ingest's messages and the tail); msgs/s from start
 *    (worker start-up included) to the last commit.
 *
 * So the inbound log (records and dedup index) grows to N; the repository holds only what
 * earlier runs on the same cached store converted. Ratios are to the N = 0 row.
 *
 * `node dist/bench/scale.bench.js [--scale 0,1e6,5e6] [--duration 5] [-c 8] [--tail 20000] [--cache DIR] [--out FILE]`
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { resolveEngineOptions, type EngineInput } from '../src/config.js';
import { openConversionStore, startConverter } from '../src/converter/stage.js';
import { readHeader } from '../src/hl7/index.js';
import { silentLogger } from '../src/log.js';
import { dedupKeyOf, openLmdbInboundLog, type LmdbInboundLog } from '../src/queue/index.js';
import { messageStream, runLoad, type LoadResult } from './mllp-load.js';
import { startChildEngine, stopChild } from './pipeline-rig.js';
import { fmt, ownPeakRssMb, printReport, processPeakRssMb, progress, writeReport, type SuiteReport } from './results.js';

const GiB = 2 ** 30;
/** The scale run stores more than the engine's default 16 GiB limit allows at 5 M. */
const CONFIG: EngineInput = { maxStorageBytes: 256 * GiB };

/** Options of {@link runScaleBench}. */
export interface ScaleBenchOptions {
  sizes: number[];
  durationMs: number;
  warmupMs: number;
  connections: number;
  tail: number;
  cacheDir: string;
  /** Concurrent appends per prefill batch. */
  batch: number;
}

/** One size. */
export interface ScaleRow {
  /** Messages requested. */
  size: number;
  /** Messages stored in the log before the run (≥ size on a reused cache). */
  stored: number;
  prefillSeconds: number;
  reusedCache: boolean;
  storeGb: number;
  ingest: LoadResult;
  conversion: { messages: number; seconds: number; msgsPerSec: number };
  enginePeakRssMb: number | undefined;
}

const stream = messageStream(2000, true);

/** Appends messages `from .. to-1` of the stream straight to the log, `batch` at a time. */
async function appendRange(log: LmdbInboundLog, from: number, to: number, batch: number, prefix: string, onProgress?: (done: number) => void): Promise<void> {
  for (let i = from; i < to; i += batch) {
    const end = Math.min(to, i + batch);
    const appends = [];
    for (let g = i; g < end; g++) {
      const id = `${prefix}${g}`;
      const raw = stream(g, id);
      const h = readHeader(raw);
      if (!h.ok) throw new Error('the corpus produced a message without a readable header');
      appends.push(
        log.append({
          raw,
          receivedAt: Date.now(),
          listener: 'mllp',
          remote: '127.0.0.1:1',
          messageType: h.header.messageType,
          controlId: id,
          dedupKey: dedupKeyOf(h.header.sendingApplication, h.header.sendingFacility, id),
        }),
      );
    }
    for (const o of await Promise.all(appends)) if (o.kind !== 'appended') throw new Error(`prefill append: ${JSON.stringify(o)}`);
    onProgress?.(end);
  }
}

/** `prefill.json` of a cached store; a store with another `format` is filled again. */
interface Marker {
  size: number;
  format: number;
}

/** Bump when the prefill's content or the log's layout changes. */
const PREFILL_FORMAT = 1;

function isCurrent(m: Partial<Marker>, size: number): boolean {
  return m.size === size && m.format === PREFILL_FORMAT;
}

/** Opens (and pre-fills, unless cached) the store for `size`; returns its directory. */
async function prepare(o: ScaleBenchOptions, size: number): Promise<{ dir: string; reused: boolean; seconds: number; temporary: boolean }> {
  if (size === 0) return { dir: mkdtempSync(join(tmpdir(), 'pacslink-scale-')), reused: false, seconds: 0, temporary: true };
  const dir = join(o.cacheDir, `n${size}`);
  const markerFile = join(dir, 'prefill.json');
  if (existsSync(markerFile) && isCurrent(JSON.parse(readFileSync(markerFile, 'utf8')) as Marker, size)) {
    return { dir, reused: true, seconds: 0, temporary: false };
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const options = resolveEngineOptions({ ...CONFIG, dataDir: dir });
  const t0 = performance.now();
  const log = await openLmdbInboundLog({ path: join(dir, 'inbound'), maxStorageBytes: options.maxStorageBytes, dedupWindowMs: options.dedupWindowMs });
  let reported = 0;
  await appendRange(log, 0, size, o.batch, 'F', (done) => {
    if (done - reported >= 250_000 || done === size) {
      reported = done;
      const s = (performance.now() - t0) / 1000;
      progress('scale', `prefill ${fmt(done)}/${fmt(size)} (${fmt(done / s)} msgs/s)`);
    }
  });
  await log.close();
  const store = await openConversionStore(options);
  store.repository.env.transactionSync(() => store.state.setCursor(size));
  await store.repository.close();
  writeFileSync(markerFile, JSON.stringify({ size, format: PREFILL_FORMAT } satisfies Marker));
  return { dir, reused: false, seconds: (performance.now() - t0) / 1000, temporary: false };
}

/** Bytes allocated to the LMDB data files (their apparent sizes are the sparse map sizes). */
function duBytes(dir: string): number {
  let total = 0;
  for (const sub of ['inbound', 'repository']) {
    try {
      total += statSync(join(dir, sub, 'data.mdb')).blocks * 512;
    } catch {
      // Absent (no repository yet).
    }
  }
  return total;
}

/** Runs every size. */
export async function runScaleBench(o: ScaleBenchOptions): Promise<SuiteReport> {
  const rows: ScaleRow[] = [];
  const runId = Date.now().toString(36);
  for (const size of o.sizes) {
    progress('scale', `${fmt(size)} stored: preparing`);
    const prep = await prepare(o, size);
    try {
      const options = resolveEngineOptions({ ...CONFIG, dataDir: prep.dir });
      // What is stored now, and where this run's messages continue the stream.
      let stored: number;
      {
        const log = await openLmdbInboundLog({ path: join(prep.dir, 'inbound'), maxStorageBytes: options.maxStorageBytes });
        stored = log.lastSeq();
        await log.close();
      }
      progress('scale', `${fmt(stored)} stored: ingest, C=${o.connections}, ${o.durationMs / 1000} s`);
      const engine = await startChildEngine(prep.dir, { ...CONFIG, converter: { enabled: false } });
      let ingest: LoadResult;
      let rss: number | undefined;
      try {
        ingest = await runLoad({
          host: '127.0.0.1',
          port: engine.ports.mllp,
          connections: o.connections,
          durationMs: o.durationMs,
          warmupMs: o.warmupMs,
          corpusSize: 2000,
          uniqueIdentifiers: true,
          startAt: stored,
          idPrefix: `S${runId}-`,
        });
        rss = processPeakRssMb(engine.child.pid);
      } finally {
        await stopChild(engine.child);
      }
      progress('scale', `${fmt(stored)} stored: ${fmt(ingest.msgsPerSec)} msgs/s ingest; conversion of the tail`);
      const log = await openLmdbInboundLog({ path: join(prep.dir, 'inbound'), maxStorageBytes: options.maxStorageBytes });
      const store = await openConversionStore(options);
      let conversion: ScaleRow['conversion'];
      try {
        const before = log.lastSeq();
        await appendRange(log, before, before + o.tail, Math.min(o.batch, o.tail), `T${runId}-`);
        const from = store.state.cursor();
        const last = log.lastSeq();
        const t0 = performance.now();
        const converter = startConverter(options, store, { log, inboundPath: log.path, logger: silentLogger });
        await converter.idle(last);
        const seconds = (performance.now() - t0) / 1000;
        await converter.stop();
        conversion = { messages: last - from, seconds, msgsPerSec: (last - from) / seconds };
      } finally {
        await store.repository.close();
        await log.close();
      }
      rows.push({
        size,
        stored,
        prefillSeconds: prep.seconds,
        reusedCache: prep.reused,
        storeGb: duBytes(prep.dir) / 1e9,
        ingest,
        conversion,
        enginePeakRssMb: rss,
      });
      progress('scale', `${fmt(stored)} stored: conversion ${fmt(conversion.msgsPerSec)} msgs/s`);
    } finally {
      if (prep.temporary) rmSync(prep.dir, { recursive: true, force: true });
    }
  }
  const base = rows[0];
  const ratio = (a: number, b: number | undefined): string => (b !== undefined && b > 0 ? `${fmt(a / b, 2)}×` : '');
  const last = rows[rows.length - 1];
  return {
    suite: 'scale',
    title: 'ingest and conversion with data already stored',
    command: `node dist/bench/scale.bench.js --scale ${o.sizes.join(',')} --duration ${o.durationMs / 1000} -c ${o.connections} --tail ${o.tail}`,
    headline: rows.map((r) => ({
      name: `ingest with ${fmt(r.stored)} stored`,
      value: r.ingest.msgsPerSec,
      unit: 'msgs/s',
      note: `${ratio(r.ingest.msgsPerSec, base?.ingest.msgsPerSec)} of empty; conversion ${fmt(r.conversion.msgsPerSec)} msgs/s${r === last && rows.length > 1 ? ' (target: ingest within 10% of empty)' : ''}`,
    })),
    tables: [
      {
        title: `C=${o.connections} closed loop for ingest; conversion of the ingest's messages plus a ${fmt(o.tail)}-message tail`,
        columns: ['stored', 'store GB', 'ingest msgs/s', 'vs empty', 'ACK p50 ms', 'ACK p99 ms', 'conversion msgs/s', 'vs empty', 'converted', 'prefill s'],
        rows: rows.map((r) => [
          fmt(r.stored),
          fmt(r.storeGb, 1),
          fmt(r.ingest.msgsPerSec),
          ratio(r.ingest.msgsPerSec, base?.ingest.msgsPerSec),
          fmt(r.ingest.p50, 2),
          fmt(r.ingest.p99, 2),
          fmt(r.conversion.msgsPerSec),
          ratio(r.conversion.msgsPerSec, base?.conversion.msgsPerSec),
          fmt(r.conversion.messages),
          r.reusedCache ? 'cached' : fmt(r.prefillSeconds),
        ]),
      },
    ],
    peakRssMb: { bench: ownPeakRssMb(), engine: Math.max(0, ...rows.map((r) => r.enginePeakRssMb ?? 0)) },
    data: { options: o, rows },
  };
}

/** Parses `0,1e6,5e6`. */
export function parseSizes(text: string): number[] {
  const sizes = text.split(',').map((s) => Number(s.trim()));
  if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 0 || n > 50e6)) {
    throw new RangeError('--scale must be a comma-separated list of message counts between 0 and 5e7');
  }
  return sizes;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scale: { type: 'string', default: '0,1e6,5e6' },
      duration: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      connections: { type: 'string', short: 'c', default: '8' },
      tail: { type: 'string', default: '20000' },
      batch: { type: 'string', default: '10000' },
      cache: { type: 'string', default: join(tmpdir(), 'pacslink-bench-scale') },
      out: { type: 'string' },
    },
  });
  const report = await runScaleBench({
    sizes: parseSizes(values.scale),
    durationMs: Number(values.duration) * 1000,
    warmupMs: Number(values.warmup) * 1000,
    connections: Number(values.connections),
    tail: Number(values.tail),
    batch: Number(values.batch),
    cacheDir: values.cache,
  });
  printReport(report);
  writeReport(report, values.out);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
