/**
 * What the offline commands (`reprocess`, `rebuild`) share: options from `--config` and
 * `--data` (then `PACSLINK_DATA`), the refusal to touch a data directory held by a running
 * engine, and opening the inbound log and the conversion store.
 */
import { parseArgs } from 'node:util';
import { loadConfigFile, resolveEngineOptions, type EngineInput, type EngineOptions } from '../config.js';
import { openConversionStore, type ConversionStore } from '../converter/stage.js';
import { assertNotInUse } from '../data-lock.js';
import { openDefaultLog } from '../engine.js';
import { UsageError } from '../errors.js';
import type { LmdbInboundLog } from '../queue/lmdb-log.js';

/** Parsed flags of an offline command. */
export interface OfflineArgs {
  options: EngineOptions;
  positionals: string[];
  flags: Record<string, boolean>;
}

/** Parses `[--config FILE] [--data DIR]` plus the command's own boolean flags and positionals. */
export async function offlineArgs(args: string[], env: NodeJS.ProcessEnv, booleans: string[]): Promise<OfflineArgs> {
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args,
      options: {
        config: { type: 'string' },
        data: { type: 'string' },
        ...Object.fromEntries(booleans.map((b) => [b, { type: 'boolean' as const }])),
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  try {
    const input: EngineInput = typeof v.config === 'string' ? await loadConfigFile(v.config) : {};
    const data = typeof v.data === 'string' ? v.data : env.PACSLINK_DATA;
    if (data !== undefined && data !== '') input.dataDir = data;
    const options = resolveEngineOptions(input);
    const flags = Object.fromEntries(booleans.map((b) => [b, v[b] === true]));
    return { options, positionals: parsed.positionals, flags };
  } catch (err) {
    if (err instanceof RangeError || err instanceof TypeError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
}

/** The inbound log and the conversion store of a data directory not held by an engine. */
export interface OfflineData {
  log: LmdbInboundLog;
  store: ConversionStore;
  close(): Promise<void>;
}

/**
 * Opens the data directory for an offline command, refusing (`DATA_DIR_IN_USE`, exit 1) when
 * a live engine holds it (`DIR/engine.pid`, see data-lock.ts).
 */
export async function openOffline(options: EngineOptions): Promise<OfflineData> {
  await assertNotInUse(options.dataDir);
  const log = (await openDefaultLog(options)) as LmdbInboundLog;
  let store: ConversionStore;
  try {
    store = await openConversionStore(options);
  } catch (err) {
    await log.close();
    throw err;
  }
  return {
    log,
    store,
    async close() {
      await store.repository.close();
      await log.close();
    },
  };
}
