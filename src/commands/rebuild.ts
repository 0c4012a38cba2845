/**
 * `pacslink rebuild [--config FILE] [--data DIR]`: rebuilds the repository from the inbound
 * log, on a data directory no engine is running on (exit 1 otherwise). Prints the
 * repository digest before and after.
 *
 * In one transaction it empties the repository (`clearAll`) and the dead-letter table, sets
 * the converter cursor to 0 and marks every message now in the log as silent
 * (`silentThrough`, see src/converter/state.ts); then the converter (the same pool, mapping
 * and applier as the live run) converts every message still in the inbound log, in seq
 * order, recreating the dead letters. No event is appended: the event log stays as it is,
 * so subscribers see no duplicates. Because the silent mark and the cursor are stored, a
 * rebuild interrupted by a crash is finished, still silently, by the next rebuild or by
 * the engine.
 *
 * The result equals the live run's repository when the log still holds every message since
 * the first (retention has deleted nothing) and the configuration is the same; messages
 * deleted by retention are missing from the rebuilt repository.
 */
import type { CommandIo } from '../cli.js';
import { CONVERTER_CURSOR } from '../converter/converter.js';
import { startConverter } from '../converter/stage.js';
import { UsageError } from '../errors.js';
import { createLogger } from '../log.js';
import { offlineArgs, openOffline } from './offline.js';

/** Runs the command; resolves with the exit code. */
export async function run(args: string[], io: CommandIo): Promise<number> {
  const { options, positionals } = await offlineArgs(args, io.env, []);
  if (positionals.length > 0) throw new UsageError(`rebuild takes no arguments, got '${positionals[0]}'`);
  const data = await openOffline(options);
  try {
    const { store, log } = data;
    const { repository, deadLetters, state } = store;
    const last = log.lastSeq();
    io.stdout.write(`digest before\t${repository.digest()}\n`);
    // Keep retention from deleting what is about to be read again.
    await log.setCursor(CONVERTER_CURSOR, 0);
    repository.env.transactionSync(() => {
      repository.clearAll();
      deadLetters.clear();
      state.setCursor(0);
      state.setSilentThrough(Math.max(state.silentThrough(), last));
    });
    const started = Date.now();
    const converter = startConverter(options, store, {
      log,
      inboundPath: log.path,
      logger: createLogger({ stream: io.stderr, level: 'warn' }),
    });
    await converter.idle(last);
    const stats = converter.stats();
    await converter.stop();
    const seconds = (Date.now() - started) / 1000;
    io.stdout.write(`digest after\t${repository.digest()}\n`);
    io.stdout.write(
      `converted\t${stats.applied + stats.ignored + stats.deadLettered}\tapplied ${stats.applied}\tignored ${stats.ignored}\tdead-letters ${stats.deadLettered}\tmissing ${stats.missing}\t${seconds.toFixed(1)} s\n`,
    );
    return 0;
  } finally {
    await data.close();
  }
}
