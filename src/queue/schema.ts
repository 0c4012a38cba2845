/**
 * The on-disk layout of the inbound log, shared by the writer and by read-only readers (the
 * converter's Piscina workers open the same environment and read `raw` without decoding).
 *
 * Named databases in one LMDB environment:
 * - `inbound.raw`: key seq (`uint32`), value the message bytes exactly as received
 *   (`binary` encoding: read them with no decode step and no copy through `viewRaw`, never
 *   with `getBinaryFast` directly, whose buffer is 16 MiB long, see raw-view.ts);
 * - `inbound.meta`: key seq (`uint32`), value a msgpack tuple, see {@link MetaTuple};
 * - `inbound.dedup`: key dedup key (string), value {@link DedupEntry};
 * - `inbound.dedup-age`: key seq (`uint32`), value `[receivedAt, dedupKey]`: the order in
 *   which dedup keys expire, so expiry walks only expired entries;
 * - `inbound.cursors`: key cursor name, value the last seq that consumer finished;
 * - `inbound.state`: small bookkeeping values, see {@link StateKey}.
 */
import type { InboundRecordMeta } from './types.js';

/** Names of the log's LMDB databases. */
export const DbName = {
  Raw: 'inbound.raw',
  Meta: 'inbound.meta',
  Dedup: 'inbound.dedup',
  DedupAge: 'inbound.dedup-age',
  Cursors: 'inbound.cursors',
  State: 'inbound.state',
} as const;
export type DbName = (typeof DbName)[keyof typeof DbName];

/** Keys of the `inbound.state` database. */
export const StateKey = {
  /**
   * Highest seq ever deleted by retention. With it the next seq survives a restart even
   * when retention has emptied the log.
   */
  DeletedThrough: 'deletedThrough',
} as const;

/** Largest seq a `uint32` key can hold. */
export const MAX_SEQ = 0xffff_ffff;

/**
 * Metadata as stored: `[version 1, receivedAt, listener, remote, messageType, controlId,
 * dedupKey | null, bodyHash | null]`. A tuple rather than an object keeps property names
 * out of every record.
 */
export type MetaTuple = [1, number, string, string, string, string, string | null, string | null];

/** A dedup index entry: `[seq, bodyHash, receivedAt]` of the last message with the key. */
export type DedupEntry = [number, string, number];

/** Encodes metadata for `inbound.meta`. */
export function encodeMeta(m: Omit<InboundRecordMeta, 'seq'>): MetaTuple {
  return [1, m.receivedAt, m.listener, m.remote, m.messageType, m.controlId, m.dedupKey ?? null, m.bodyHash ?? null];
}

/** Decodes a `inbound.meta` value. */
export function decodeMeta(seq: number, t: MetaTuple): InboundRecordMeta {
  const meta: InboundRecordMeta = {
    seq,
    receivedAt: t[1],
    listener: t[2],
    remote: t[3],
    messageType: t[4],
    controlId: t[5],
  };
  if (t[6] !== null) meta.dedupKey = t[6];
  if (t[7] !== null) meta.bodyHash = t[7];
  return meta;
}

/**
 * LMDB keys are at most 1978 bytes; a dedup key built from oversized MSH-3/4/10 values is
 * stored under its SHA-256 instead so that no input can make a put throw.
 */
export const MAX_DEDUP_KEY_BYTES = 1024;
