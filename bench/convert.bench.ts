/**
 * Conversion throughput: the inbound log is filled first with N messages of the bench corpus
 * (corpus.ts: ADT, ORM, OMI, ORU, SIU in a radiology mix), then the converter (Piscina pool,
 * in-order applier, real mappers and repository) converts all of them into an empty
 * repository, with 1, 2 and 4 workers. Prints messages applied per second (from start,
 * worker start-up included, to the last commit) and where the time goes:
 *
 * - parse: worker time in `Hl7Message.parse`, per message;
 * - map: worker time in the mapping functions, per message;
 * - apply: main-thread time applying and committing (one transaction per range), per message.
 *
 * Parse and map run in parallel on the workers; apply is serial on the main thread, so with
 * enough workers apply bounds the throughput. The shares are of parse + map + apply.
 * Each run's repository digest is checked equal to the others (same result whatever the
 * number of workers). Writes bench/results/convert.json.
 *
 * Run: `npx tsc -p tsconfig.json && node dist/bench/convert.bench.js [--count 20000] [--batch 64] [--in-flight 8] [--out path]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Converter } from '../src/converter/converter.js';
import { createMappingOptions } from '../src/converter/map/index.js';
import { openEventLog } from '../src/events/log.js';
import { readHeader } from '../src/hl7/index.js';
import { silentLogger } from '../src/log.js';
import { openLmdbInboundLog } from '../src/queue/index.js';
import { openRepository } from '../src/repository/index.js';
import { generateCorpus } from './corpus.js';
import { ownPeakRssMb, writeReport } from './results.js';

const WORKERS = [1, 2, 4] as const;

/** One row of the table. */
export interface ConvertBenchRow {
  workers: number;
  messages: number;
  seconds: number;
  msgsPerSec: number;
  /** Per message, microseconds. */
  parseUs: number;
  mapUs: number;
  applyUs: number;
  /** Shares of parse + map + apply, percent. */
  parsePct: number;
  mapPct: number;
  applyPct: number;
  applied: number;
  ignored: number;
  deadLettered: number;
  events: number;
  transactions: number;
  digest: string;
  /** Dead letters by error code. */
  deadLetterCodes: Record<string, number>;
}

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '20000' },
    batch: { type: 'string', default: '64' },
    'in-flight': { type: 'string', default: '8' },
    out: { type: 'string', default: fileURLToPath(new URL('../../bench/results/convert.json', import.meta.url)) },
  },
});
const count = Number(values.count);
const batchSize = Number(values.batch);
const maxInFlightBatches = Number(values['in-flight']);

const root = mkdtempSync(join(tmpdir(), 'pacslink-convert-bench-'));
try {
  process.stdout.write(`filling the inbound log with ${count} corpus messages...\n`);
  const log = await openLmdbInboundLog({ path: join(root, 'inbound') });
  const messages = generateCorpus({ seed: 20250101, count });
  let bytes = 0;
  for (let i = 0; i < messages.length; i += 1000) {
    await Promise.all(
      messages.slice(i, i + 1000).map((raw) => {
        bytes += raw.byteLength;
        const h = readHeader(raw);
        return log.append({ raw, receivedAt: Date.now(), listener: 'bench', remote: '127.0.0.1:1', messageType: h.header?.messageType ?? '', controlId: h.header?.controlId ?? '' });
      }),
    );
  }
  const mapping = createMappingOptions({ timeZone: 'UTC' });
  // Warm-up (JIT of the main thread's apply path), not measured: a throwaway repository.
  {
    const repository = await openRepository({ path: join(root, 'warm-up') });
    const converter = new Converter(
      { workers: 1, batchSize, maxInFlightBatches, pollIntervalMs: 10 },
      { log, inboundPath: log.path, repository, events: openEventLog(repository.env), mapping, logger: silentLogger, mirrorCursor: false },
    );
    await converter.idle(Math.min(count, 3000));
    await converter.stop();
    await repository.close();
  }
  const rows: ConvertBenchRow[] = [];
  for (const workers of WORKERS) {
    const repository = await openRepository({ path: join(root, `repository-${workers}`) });
    const events = openEventLog(repository.env);
    let transactions = 0;
    const started = performance.now();
    const converter = new Converter(
      { workers, batchSize, maxInFlightBatches, pollIntervalMs: 10 },
      {
        log,
        inboundPath: log.path,
        repository,
        events,
        mapping,
        logger: silentLogger,
        mirrorCursor: false,
        onCommitted: () => transactions++,
      },
    );
    await converter.idle(count);
    const seconds = (performance.now() - started) / 1000;
    const s = converter.stats();
    await converter.stop();
    if (events.lastSeq() !== s.events) throw new Error(`event log holds ${events.lastSeq()} events, stats say ${s.events}`);
    const parseUs = s.parseNs / count / 1000;
    const mapUs = (s.mapNs - s.parseNs) / count / 1000;
    const applyUs = s.applyNs / count / 1000;
    const total = parseUs + mapUs + applyUs;
    rows.push({
      workers,
      messages: count,
      seconds,
      msgsPerSec: count / seconds,
      parseUs,
      mapUs,
      applyUs,
      parsePct: (100 * parseUs) / total,
      mapPct: (100 * mapUs) / total,
      applyPct: (100 * applyUs) / total,
      applied: s.applied,
      ignored: s.ignored,
      deadLettered: s.deadLettered,
      events: s.events,
      transactions,
      digest: repository.digest(),
      deadLetterCodes: Object.fromEntries(
        [...converter.deadLetters.list(0, Number.MAX_SAFE_INTEGER).reduce((m, d) => m.set(d.code, (m.get(d.code) ?? 0) + 1), new Map<string, number>())].sort(),
      ),
    });
    await repository.close();
  }
  await log.close();

  const digests = new Set(rows.map((r) => r.digest));
  const f = (n: number, d = 0): string => n.toFixed(d);
  process.stdout.write(
    `\nconversion of ${count} messages (${f(bytes / 1e6, 1)} MB), batch ${batchSize}, ${maxInFlightBatches} ranges in flight, ${availableParallelism()} CPUs, Node ${process.version}\n`,
  );
  process.stdout.write('workers  msgs/s   seconds  parse µs  map µs  apply µs  parse %  map %  apply %  applied  dead  events  txns\n');
  for (const r of rows) {
    process.stdout.write(
      `${String(r.workers).padStart(7)}  ${f(r.msgsPerSec).padStart(6)}  ${f(r.seconds, 2).padStart(7)}  ${f(r.parseUs, 1).padStart(8)}  ${f(r.mapUs, 1).padStart(6)}  ${f(r.applyUs, 1).padStart(8)}  ${f(r.parsePct).padStart(7)}  ${f(r.mapPct).padStart(5)}  ${f(r.applyPct).padStart(7)}  ${String(r.applied).padStart(7)}  ${String(r.deadLettered).padStart(4)}  ${String(r.events).padStart(6)}  ${String(r.transactions).padStart(4)}\n`,
    );
  }
  process.stdout.write(`dead letters by code: ${JSON.stringify(rows[0]?.deadLetterCodes ?? {})}\n`);
  process.stdout.write(digests.size === 1 ? 'same repository digest for every worker count\n' : 'DIGESTS DIFFER between worker counts\n');
  writeReport(
    {
      suite: 'convert',
      title: 'conversion of a full inbound log',
      command: `node dist/bench/convert.bench.js --count ${count} --batch ${batchSize} --in-flight ${maxInFlightBatches}`,
      headline: rows.map((r) => ({
        name: `conversion, ${r.workers} worker${r.workers === 1 ? '' : 's'}`,
        value: r.msgsPerSec,
        unit: 'msgs/s',
        note: `parse ${f(r.parsePct)}% / map ${f(r.mapPct)}% / apply ${f(r.applyPct)}%`,
      })),
      tables: [
        {
          title: `${count} corpus messages (${f(bytes / 1e6, 1)} MB), batch ${batchSize}, ${maxInFlightBatches} ranges in flight; same digest for every worker count: ${digests.size === 1 ? 'yes' : 'NO'}`,
          columns: ['workers', 'msgs/s', 'seconds', 'parse µs', 'map µs', 'apply µs', 'parse %', 'map %', 'apply %', 'applied', 'dead', 'events', 'txns'],
          rows: rows.map((r) => [
            String(r.workers), f(r.msgsPerSec), f(r.seconds, 2), f(r.parseUs, 1), f(r.mapUs, 1), f(r.applyUs, 1),
            f(r.parsePct), f(r.mapPct), f(r.applyPct), String(r.applied), String(r.deadLettered), String(r.events), String(r.transactions),
          ]),
        },
      ],
      peakRssMb: { bench: ownPeakRssMb() },
      data: { count, bytes, batchSize, maxInFlightBatches, sameDigest: digests.size === 1, rows },
    },
    values.out,
  );
  if (digests.size !== 1) process.exitCode = 1;
} finally {
  rmSync(root, { recursive: true, force: true });
}
