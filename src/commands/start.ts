/**
 * `pacslink start [--config FILE] [--data DIR] [--mllp HOST:PORT] [--http HOST:PORT]`
 * (INTERFACE.md): runs the engine until SIGTERM/SIGINT, then shuts down gracefully.
 *
 * Precedence: flags, then `PACSLINK_DATA` / `PACSLINK_MLLP` / `PACSLINK_HTTP`, then the
 * config file, then defaults. `--mllp` sets the first listener's address.
 */
import { parseArgs } from 'node:util';
import type { CommandIo } from '../cli.js';
import {
  loadConfigFile,
  parseHostPort,
  resolveEngineOptions,
  type EngineInput,
  type EngineOptions,
} from '../config.js';
import { startEngine, stopOnSignals } from '../engine.js';
import { UsageError } from '../errors.js';
import { createLogger } from '../log.js';

/** Builds the engine options from flags, environment and the config file. */
export async function optionsFromArgs(args: string[], env: NodeJS.ProcessEnv): Promise<EngineOptions> {
  let values: { config?: string; data?: string; mllp?: string; http?: string };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        config: { type: 'string' },
        data: { type: 'string' },
        mllp: { type: 'string' },
        http: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  try {
    const input: EngineInput = values.config !== undefined ? await loadConfigFile(values.config) : {};
    const data = values.data ?? env.PACSLINK_DATA;
    if (data !== undefined && data !== '') input.dataDir = data;
    const mllp = values.mllp ?? env.PACSLINK_MLLP;
    if (mllp !== undefined && mllp !== '') {
      const { host, port } = parseHostPort(mllp, '--mllp');
      const [first, ...rest] = input.listeners ?? [{}];
      input.listeners = [{ ...first, host, port }, ...rest];
    }
    const http = values.http ?? env.PACSLINK_HTTP;
    if (http !== undefined && http !== '') {
      // The flag moves the address only; tokens, TLS and limits stay those of the file.
      const section = typeof input.http === 'object' && input.http !== null ? input.http : {};
      input.http = { ...section, ...parseHostPort(http, '--http') };
    }
    return resolveEngineOptions(input);
  } catch (err) {
    if (err instanceof RangeError || err instanceof TypeError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
}

/** Runs the engine; resolves with the exit code once it has stopped. */
export async function run(args: string[], io: CommandIo): Promise<number> {
  const options = await optionsFromArgs(args, io.env);
  const logger = createLogger({ stream: io.stderr });
  const engine = await startEngine(options, { logger });
  logger.info('engine started', { dataDir: options.dataDir, mllp: engine.ports.mllp });
  return await new Promise<number>((resolve) => {
    const remove = stopOnSignals(engine, logger, (code) => {
      remove();
      resolve(code);
    });
  });
}
