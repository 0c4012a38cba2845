/**
 * `pacslink bench [--only SUITE[,SUITE...]] [--quick] [--scale 0,1e6,5e6] [--sink auto|ws|inproc] [--out DIR]`
 * (INTERFACE.md): runs the benchmark suites with the same runner as `npm run bench`
 * (bench/run.ts): live progress on stderr, the final tables on stdout, JSON per suite and
 * `summary.md` under `bench/results/` (or `--out DIR`). Exit code 1 when a suite failed.
 *
 * The benchmarks live in the source checkout (`dist/bench/`), not in the published package:
 * there the command says so and exits 1.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CommandIo } from '../cli.js';
import { UsageError } from '../errors.js';

/** Runs `bench`. */
export async function run(args: string[], io: CommandIo): Promise<number> {
  const runner = new URL('../../bench/run.js', import.meta.url);
  if (!existsSync(fileURLToPath(runner))) {
    io.stderr.write('pacslink bench: the benchmarks are not part of this installation; run it from a source checkout after npm run build\n');
    return 1;
  }
  const bench = (await import(runner.href)) as typeof import('../../bench/run.js');
  let options: ReturnType<typeof bench.parseRunArgs>;
  try {
    options = bench.parseRunArgs(args);
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err });
  }
  const outcome = await bench.runBenchmarks({
    ...options,
    command: ['pacslink bench', ...args].join(' '),
    progress: io.stderr,
    out: io.stdout,
  });
  return outcome.failed.length === 0 ? 0 : 1;
}
