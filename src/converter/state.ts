/**
 * The converter's own state (`conv.state` in the repository environment): the cursor, the
 * last inbound seq whose conversion is committed. It is written in the same transaction as
 * the repository changes and events of the messages it moves past, which is what makes a
 * crash at any instant leave the three consistent: after a restart conversion resumes at
 * `cursor + 1`, and nothing below it is applied again.
 */
import type { Database, RootDatabase } from 'lmdb';

/** Name of the state database in the repository environment. */
export const CONVERTER_STATE_DB = 'conv.state';

/** Keys of `conv.state`. */
export const ConverterStateKey = {
  /** Last inbound seq converted (applied or dead-lettered). */
  Cursor: 'cursor',
  /**
   * Messages up to this seq are converted without appending events: set by `pacslink
   * rebuild` to the log's last seq when it starts, so that a rebuild interrupted by a crash
   * and finished by the engine (or a second rebuild) still announces nothing twice.
   */
  SilentThrough: 'silentThrough',
} as const;

/** The converter state. `setCursor` must run inside the caller's write transaction. */
export interface ConverterState {
  cursor(): number;
  setCursor(seq: number): void;
  silentThrough(): number;
  setSilentThrough(seq: number): void;
}

/** Opens `conv.state` in `env`. */
export function openConverterState(env: RootDatabase): ConverterState {
  const db: Database<number, string> = env.openDB<number, string>(CONVERTER_STATE_DB, { encoding: 'msgpack' });
  return {
    cursor: () => db.get(ConverterStateKey.Cursor) ?? 0,
    setCursor(seq) {
      db.putSync(ConverterStateKey.Cursor, seq);
    },
    silentThrough: () => db.get(ConverterStateKey.SilentThrough) ?? 0,
    setSilentThrough(seq) {
      db.putSync(ConverterStateKey.SilentThrough, seq);
    },
  };
}
