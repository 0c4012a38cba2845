/**
 * `npm run bench`: runs every benchmark, one child process each so that none warms up or
 * disturbs another, and prints where each wrote its JSON. Arguments after `--` are passed
 * to every benchmark (e.g. `npm run bench -- --time 500`), which ignore flags they do not know
 * only if they say so; by default none are passed.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCHES: Array<{ file: string; what: string; result: string }> = [
  { file: 'parser.bench.js', what: 'HL7 parser against peer npm parsers', result: 'bench/results/parser.json' },
  { file: 'queue.bench.js', what: 'durable LMDB inbound log appends at 1, 8, 64 appenders', result: 'bench/results/queue.json' },
  { file: 'ingest.bench.js', what: 'durable MLLP ingest at C = 1, 8, 64 against the ACK-only reference', result: 'bench/results/ingest.json' },
  { file: 'convert.bench.js', what: 'conversion of a full inbound log (20 000 corpus messages) with 1, 2, 4 workers; parse / map / apply shares', result: 'bench/results/convert.json' },
];

const only = process.argv.slice(2);
let failed = 0;
for (const bench of BENCHES) {
  if (only.length > 0 && !only.some((name) => bench.file.startsWith(name))) continue;
  process.stdout.write(`\n=== ${bench.file}: ${bench.what}\n`);
  const result = spawnSync(process.execPath, [fileURLToPath(new URL(bench.file, import.meta.url))], { stdio: 'inherit' });
  if (result.status !== 0) {
    failed++;
    process.stdout.write(`!!! ${bench.file} exited with ${result.status ?? result.signal}\n`);
  } else {
    process.stdout.write(`--> ${bench.result}\n`);
  }
}
process.exitCode = failed === 0 ? 0 : 1;
