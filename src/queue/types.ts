/**
 * The inbound log's port: what the listener and the converter need from durable storage,
 * independent of the engine behind it (LMDB natively; a native-free adapter may follow).
 *
 * The log is append-only and keyed by a sequence number that starts at 1, increases by 1
 * per appended message and survives restarts. Each record keeps the message's bytes exactly
 * as received (the MLLP payload between 0x0B and 0x1C 0x0D), plus metadata.
 */

/** What the listener hands to {@link InboundLog.append}. */
export interface InboundRecordInput {
  /**
   * The message bytes exactly as received, never modified. The log may read them until the
   * append's promise settles (lmdb-js copies them into the transaction on its write
   * thread), so the caller must not modify or reuse this memory before then.
   */
  raw: Uint8Array;
  /** Receive time, epoch milliseconds. */
  receivedAt: number;
  /** Name of the listener that received it. */
  listener: string;
  /** Remote address and port, `ip:port` (IPv6 in brackets). */
  remote: string;
  /** MSH-9 in wire form (e.g. `ADT^A01^ADT_A01`). */
  messageType: string;
  /** MSH-10 in wire form, verbatim. */
  controlId: string;
  /**
   * Duplicate-detection key (MSH-3, MSH-4, MSH-10 in wire form, joined with U+001F), or
   * undefined to skip duplicate detection for this message. When it matches an earlier
   * message within the window, the bytes decide: the same bytes are a duplicate, different
   * bytes a new message reusing the key.
   */
  dedupKey?: string;
}

/** A record read back from the log. */
export interface InboundRecord extends InboundRecordInput {
  seq: number;
}

/** Metadata of a record without its bytes, for listings. */
export type InboundRecordMeta = Omit<InboundRecord, 'raw'>;

/**
 * The outcome of an append. Expected outcomes are values, not exceptions:
 * - `appended`: stored durably under `seq`;
 * - `duplicate`: the same dedup key and the same bytes were stored within the dedup window under
 *   `seq`; nothing was appended;
 * - `rejected`: storage cannot accept writes (full, failing, closing); nothing was written.
 *   `code` is stable: `STORAGE_FULL`, `STORAGE_FAILED`, `CLOSING`.
 */
export type AppendOutcome =
  | { kind: 'appended'; seq: number; dedupCollision: boolean }
  | { kind: 'duplicate'; seq: number }
  | { kind: 'rejected'; code: AppendRejectCode; message: string };

/** Stable codes of a rejected append. */
export const AppendRejectCode = {
  StorageFull: 'STORAGE_FULL',
  StorageFailed: 'STORAGE_FAILED',
  Closing: 'CLOSING',
} as const;
export type AppendRejectCode = (typeof AppendRejectCode)[keyof typeof AppendRejectCode];

/** Retention settings, applied in the background. */
export interface RetentionOptions {
  /** Records older than this (ms) and behind every cursor are deleted. 0 disables. Default 30 days. */
  maxAgeMs: number;
  /** How often the background sweep runs (ms). Default 60 000. */
  intervalMs: number;
}

/** The inbound log port. */
export interface InboundLog {
  /**
   * Appends one message. Resolves only once the record is durable on disk (its commit
   * fsync'd); appends from all callers are group-committed.
   */
  append(record: InboundRecordInput): Promise<AppendOutcome>;
  /** Reads one record, or undefined if absent (never stored, or removed by retention). */
  get(seq: number): InboundRecord | undefined;
  /** Reads records with `fromSeq <= seq <= toSeq`, in order. */
  range(fromSeq: number, toSeq: number): Iterable<InboundRecord>;
  /** The highest sequence number appended so far (0 when empty). */
  lastSeq(): number;
  /** The lowest sequence number still stored (0 when empty). */
  firstSeq(): number;
  /** A named consumer cursor: the last seq the consumer has finished (0 if never set). */
  getCursor(name: string): number;
  /** Durably sets a named cursor. */
  setCursor(name: string, seq: number): Promise<void>;
  /** Bytes waiting to be committed: the listener pauses sockets above a high-water mark. */
  pendingBytes(): number;
  /** Resolves when everything appended so far is durable, then closes storage. */
  close(): Promise<void>;
}
