/**
 * The dead-letter table (`dead-letters` in the repository environment): one entry per
 * inbound message that could not be converted, keyed by its inbound seq, with the error
 * code, the HL7 table 0357 code, the location (segment/field) and a readable reason
 * (DOMAIN.md §3.3). Writes happen inside the applier's transaction.
 */
import type { Database, RootDatabase } from 'lmdb';
import type { ConversionError } from './changes.js';

/** Name of the table's database in the repository environment. */
export const DEAD_LETTERS_DB = 'dead-letters';

/** A dead letter as stored and served (`GET /api/dead-letters`). */
export interface DeadLetter {
  /** Inbound seq of the message. */
  seq: number;
  /** Stable conversion error code (`ConversionErrorCode`). */
  code: string;
  /** HL7 table 0357 code (what an AE's ERR-3 carries). */
  errCode: number;
  segment?: string;
  field?: number;
  /** Readable reason. */
  message: string;
  /** When the last attempt failed, ISO 8601. */
  time: string;
  /** MSH-9 and MSH-10 in wire form (`''` when unreadable). */
  messageType: string;
  controlId: string;
  /** Conversion attempts so far (1 for the live run; `reprocess` adds one each time). */
  attempts: number;
}

/** Builds the {@link ConversionError} a dead letter records. */
export function errorOf(d: DeadLetter): ConversionError {
  return {
    code: d.code,
    errCode: d.errCode,
    message: d.message,
    ...(d.segment !== undefined ? { segment: d.segment } : {}),
    ...(d.field !== undefined ? { field: d.field } : {}),
  };
}

/** The table. `put`/`remove`/`clear` must run inside the caller's write transaction. */
export interface DeadLetterTable {
  get(seq: number): DeadLetter | undefined;
  /** Dead letters with `seq > afterSeq`, in seq order, at most `limit`. */
  list(afterSeq?: number, limit?: number): DeadLetter[];
  count(): number;
  /** Records a failure of `seq` (attempts continue from an existing entry). */
  put(seq: number, error: ConversionError, header: { messageType: string; controlId: string }, time: Date): DeadLetter;
  remove(seq: number): void;
  clear(): void;
}

/** Opens the table in `env`. */
export function openDeadLetters(env: RootDatabase): DeadLetterTable {
  const db: Database<DeadLetter, number> = env.openDB<DeadLetter, number>(DEAD_LETTERS_DB, { encoding: 'msgpack' });
  return {
    get: (seq) => db.get(seq),
    list(afterSeq = 0, limit = 1000) {
      const out: DeadLetter[] = [];
      for (const { value } of db.getRange({ start: Math.floor(afterSeq) + 1, limit })) out.push(value);
      return out;
    },
    count: () => db.getKeysCount(),
    put(seq, error, header, time) {
      const previous = db.get(seq);
      const letter: DeadLetter = {
        seq,
        code: error.code,
        errCode: error.errCode,
        ...(error.segment !== undefined ? { segment: error.segment } : {}),
        ...(error.field !== undefined ? { field: error.field } : {}),
        message: error.message,
        time: time.toISOString(),
        messageType: header.messageType,
        controlId: header.controlId,
        attempts: (previous?.attempts ?? 0) + 1,
      };
      db.putSync(seq, letter);
      return letter;
    },
    remove(seq) {
      db.removeSync(seq);
    },
    clear() {
      for (const key of db.getKeys()) db.removeSync(key);
    },
  };
}
