/**
 * A small structured logger: one JSON object per line on stderr (or any writable), with
 * `time` (ISO 8601), `level` and `msg`, plus the fields given. Never log message contents
 * or anything taken from PID/PV1/OBX: patient data stays out of logs. Control IDs, seqs,
 * listener names and peer addresses are fine.
 */

/** Log levels, lowest first. */
export const LogLevel = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevel = keyof typeof LogLevel;

/** Fields attached to a log line. */
export type LogFields = Record<string, string | number | boolean | undefined | null>;

/** The logger used across the engine. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Destination. Default `process.stderr`. */
  stream?: NodeJS.WritableStream;
  /** Lowest level written. Default `info`. */
  level?: LogLevel;
  /** Fields on every line. */
  base?: LogFields;
}

/** Creates a JSON-lines logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const stream = options.stream ?? process.stderr;
  const min = LogLevel[options.level ?? 'info'];
  const make = (base: LogFields): Logger => {
    const write = (level: LogLevel, msg: string, fields?: LogFields): void => {
      if (LogLevel[level] < min) return;
      const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...base, ...fields });
      stream.write(line + '\n');
    };
    return {
      debug: (m, f) => write('debug', m, f),
      info: (m, f) => write('info', m, f),
      warn: (m, f) => write('warn', m, f),
      error: (m, f) => write('error', m, f),
      child: (f) => make({ ...base, ...f }),
    };
  };
  return make(options.base ?? {});
}

/** A logger that writes nothing (tests, benchmarks). */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};
