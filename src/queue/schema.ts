/**
 * The on-disk layout of the inbound log, shared by the writer and by read-only readers (the
 * converter's Piscina workers open the same environment and read a record's bytes without
 * decoding anything but a 4-byte offset).
 *
 * Named databases in one LMDB environment (layout 2):
 * - `inbound.raw`: key seq (`uint32`), value one record, `binary` encoding: a small header
 *   (metadata, see {@link encodeRecord}) followed by the message bytes exactly as received.
 *   One put per record: metadata and bytes are one B-tree entry, so a transaction touches
 *   one tree for its records instead of two. Read the bytes through `viewRaw` (zero-copy,
 *   skips the header), never with `getBinaryFast` directly, whose buffer is 16 MiB long and
 *   starts with the header, see raw-view.ts;
 * - `inbound.dedup-hash`: the dedup index. Key the 32-bit hash of a dedup key
 *   ({@link hashDedupKey}, `uint32`), value the seqs of the latest record of each key with
 *   that hash (u32 LE each, ascending; almost always one). A hit is confirmed against the key
 *   in the record's own header, so a hash collision never makes two keys one;
 * - `inbound.cursors`: key cursor name, value the last seq that consumer finished;
 * - `inbound.state`: small bookkeeping values, see {@link StateKey}.
 *
 * There is no age index of dedup keys: records are in seq order, which is receive order, so
 * the records themselves (whose header holds the dedup key) are the order in which dedup
 * keys expire (retention.ts). An index of an earlier form, keyed by the dedup key itself
 * (`inbound.dedup`, {@link SUPERSEDED_DEDUP_DB}), is dropped at open and rebuilt from the
 * records, which hold every key. Layout 1 (bare bytes in `inbound.raw`, msgpack metadata in
 * `inbound.meta`, `inbound.dedup-age`, msgpack dedup entries) is not read: an environment
 * holding `inbound.meta` or `inbound.dedup-age` is refused at open.
 */
import type { InboundRecordMeta } from './types.js';

/** Names of the log's LMDB databases. */
export const DbName = {
  Raw: 'inbound.raw',
  Dedup: 'inbound.dedup-hash',
  Cursors: 'inbound.cursors',
  State: 'inbound.state',
} as const;
export type DbName = (typeof DbName)[keyof typeof DbName];

/**
 * The dedup index keyed by the dedup key string, superseded by `inbound.dedup-hash`. Opening
 * a log that has it drops it and rebuilds the index from the records (dedup-index.ts).
 */
export const SUPERSEDED_DEDUP_DB = 'inbound.dedup';

/** Databases of layout 1; an environment holding one is refused. */
export const LEGACY_DB_NAMES: readonly string[] = ['inbound.meta', 'inbound.dedup-age'];

/** Keys of the `inbound.state` database. */
export const StateKey = {
  /**
   * Highest seq ever deleted by retention. With it the next seq survives a restart even
   * when retention has emptied the log.
   */
  DeletedThrough: 'deletedThrough',
  /** Every record up to this seq has its dedup key in `inbound.dedup-hash` (see dedup-index.ts). */
  DedupIndexedThrough: 'dedupIndexedThrough',
  /** Highest seq whose dedup key retention has already expired (or found still kept). */
  DedupExpiredThrough: 'dedupExpiredThrough',
} as const;

/** Largest seq a `uint32` key can hold. */
export const MAX_SEQ = 0xffff_ffff;

/** Version byte of a record header. */
const RECORD_VERSION = 2;
const FLAG_DEDUP_KEY = 1;
/** Fixed part of the header: u32 header length, u8 version, u8 flags, u16 zero, f64 receivedAt. */
const FIXED_HEADER = 16;

/**
 * FNV-1a over the key's UTF-16 code units: a 32-bit hash, computed without allocating. It is
 * the key of `inbound.dedup-hash`, so changing it changes the layout.
 */
export function hashDedupKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Bytes of one {@link RecordSlab} slab. */
const SLAB_BYTES = 1 << 20;
/** Records of at least this many bytes get a buffer of their own instead of slab space. */
const SLAB_MAX_RECORD = SLAB_BYTES >> 3;
/** Released slabs kept for reuse. */
const SLAB_SPARES = 2;
/**
 * Full slabs followed until their records are released. Beyond this many (records never
 * released, which the log does not do) the oldest is no longer followed: it is then never
 * reused, only freed by the garbage collector once no view of it is left.
 */
const SLAB_RETIRED_MAX = 64;

/**
 * Memory for encoded records, carved in order from slabs of 1 MiB, and reused.
 *
 * Why slabs: `Buffer.allocUnsafe` takes a record of the usual 1–3 KB from Node's 8 KiB
 * pool, so a new `ArrayBuffer` is allocated every few records (and one per record above
 * 4 KiB), each one more object for the garbage collector to track; a slab serves ≈500
 * records. Measured (corpus records, ≈2 KB): `encodeRecord` ≈1.1 µs per record from the
 * pool, ≈0.75 µs from a slab.
 *
 * Why reuse: a new slab is fresh memory, whose pages the kernel must fault in and zero as
 * the records are copied in (1.4 % of the engine's main-thread CPU at C = 64, perf), and
 * 1 MiB of external memory that V8 counts towards its next full collection. Once every
 * record of a full slab is released, the slab is written again instead. Measured, durable
 * ingest at C = 64, 5 alternating 5 s rounds on fresh logs (scratch A/B): median 35,759
 * msgs/s with reuse against 33,198 without, ACK p99 7.3–8.8 ms against 9.2–10.3.
 *
 * Safety: space is only ever taken after the last record, and a slab is written again only
 * after every record taken from it has been {@link release}d. The log releases a record once
 * its transaction has committed (lmdb-js reads the bytes by address until then) and the
 * append has settled, so no one reads a record's bytes after it is overwritten.
 */
export class RecordSlab {
  #slab: Buffer = Buffer.allocUnsafeSlow(SLAB_BYTES);
  #at = 0;
  /** Records of the current slab not released yet. */
  #live = 0;
  /** Full slabs with records not released yet, oldest first. */
  readonly #retired: Array<{ slab: Buffer; live: number }> = [];
  readonly #spares: Buffer[] = [];

  /** A view of `bytes` bytes of unused space; {@link used} then says how many were written. */
  take(bytes: number): Buffer {
    if (bytes >= SLAB_MAX_RECORD) return Buffer.allocUnsafe(bytes);
    if (this.#at + bytes > SLAB_BYTES) this.#nextSlab();
    return this.#slab.subarray(this.#at, this.#at + bytes);
  }

  /** Ends the last {@link take}: `bytes` of it were written. Keeps the next record 8-byte aligned. */
  used(view: Buffer, bytes: number): void {
    if (view.buffer !== this.#slab.buffer) return;
    this.#at = (view.byteOffset - this.#slab.byteOffset + bytes + 7) & ~7;
    this.#live++;
  }

  /**
   * The record `view` (as returned by `encodeRecord` with this slab) will not be read again:
   * its space may be written once every other record of its slab is released too. Call once
   * per record; a view this slab did not give out is ignored.
   */
  release(view: Uint8Array): void {
    if (view.buffer === this.#slab.buffer) {
      this.#live--;
      return;
    }
    const retired = this.#retired;
    for (let i = 0; i < retired.length; i++) {
      const r = retired[i]!;
      if (r.slab.buffer !== view.buffer) continue;
      if (--r.live === 0) {
        retired.splice(i, 1);
        if (this.#spares.length < SLAB_SPARES) this.#spares.push(r.slab);
      }
      return;
    }
  }

  #nextSlab(): void {
    if (this.#live === 0) {
      // Every record of this slab is released: write it again from the start.
      this.#at = 0;
      return;
    }
    this.#retired.push({ slab: this.#slab, live: this.#live });
    if (this.#retired.length > SLAB_RETIRED_MAX) this.#retired.shift();
    this.#slab = this.#spares.pop() ?? Buffer.allocUnsafeSlow(SLAB_BYTES);
    this.#at = 0;
    this.#live = 0;
  }
}

/**
 * Encodes a record: header then `m.raw`, in one buffer (from `slab` when given, else new).
 *
 * Header: u32 LE header length H (the message bytes start at H), u8 version 2, u8 flags
 * (1: a dedup key follows), u16 0, f64 LE receivedAt, then listener, remote, messageType,
 * controlId and (if flagged) dedupKey, each as u32 LE byte length + UTF-8.
 */
export function encodeRecord(m: Omit<InboundRecordMeta, 'seq'> & { raw: Uint8Array }, slab?: RecordSlab): Buffer {
  const dedupKey = m.dedupKey;
  // Upper bound (3 bytes per UTF-16 unit) so that strings are written once, unmeasured.
  const room =
    FIXED_HEADER +
    20 +
    3 * (m.listener.length + m.remote.length + m.messageType.length + m.controlId.length + (dedupKey?.length ?? 0));
  const b = slab === undefined ? Buffer.allocUnsafe(room + m.raw.byteLength) : slab.take(room + m.raw.byteLength);
  let at = FIXED_HEADER;
  const str = (s: string): void => {
    const n = b.write(s, at + 4, 'utf8');
    b.writeUInt32LE(n, at);
    at += 4 + n;
  };
  str(m.listener);
  str(m.remote);
  str(m.messageType);
  str(m.controlId);
  if (dedupKey !== undefined) str(dedupKey);
  b.writeUInt32LE(at, 0);
  b[4] = RECORD_VERSION;
  b[5] = dedupKey !== undefined ? FLAG_DEDUP_KEY : 0;
  b[6] = 0;
  b[7] = 0;
  b.writeDoubleLE(m.receivedAt, 8);
  b.set(m.raw, at);
  const size = at + m.raw.byteLength;
  slab?.used(b, size);
  return b.subarray(0, size);
}

/** Where the message bytes of an encoded record start. */
export function rawOffset(record: Uint8Array): number {
  return (record[0]! | (record[1]! << 8) | (record[2]! << 16) | (record[3]! << 24)) >>> 0;
}

/** The receive time (epoch ms) of an encoded record. */
export function receivedAtOf(record: Uint8Array): number {
  return new DataView(record.buffer, record.byteOffset + 8, 8).getFloat64(0, true);
}

/** The dedup key stored in an encoded record, if any (the key as given, not hashed). */
export function recordDedupKey(record: Uint8Array): string | undefined {
  if ((record[5]! & FLAG_DEDUP_KEY) === 0) return undefined;
  const b = Buffer.from(record.buffer, record.byteOffset, rawOffset(record));
  let at = FIXED_HEADER;
  for (let i = 0; i < 4; i++) at += 4 + b.readUInt32LE(at);
  return b.toString('utf8', at + 4, at + 4 + b.readUInt32LE(at));
}

/** Decodes an encoded record's metadata; `raw` is a view of `record`'s message bytes. */
export function decodeRecord(seq: number, record: Uint8Array): InboundRecordMeta & { raw: Uint8Array } {
  const end = rawOffset(record);
  const b = Buffer.from(record.buffer, record.byteOffset, end);
  let at = FIXED_HEADER;
  const str = (): string => {
    const n = b.readUInt32LE(at);
    const s = b.toString('utf8', at + 4, at + 4 + n);
    at += 4 + n;
    return s;
  };
  const meta: InboundRecordMeta & { raw: Uint8Array } = {
    seq,
    receivedAt: b.readDoubleLE(8),
    listener: str(),
    remote: str(),
    messageType: str(),
    controlId: str(),
    raw: record.subarray(end),
  };
  if ((b[5]! & FLAG_DEDUP_KEY) !== 0) meta.dedupKey = str();
  return meta;
}

/**
 * A dedup key built from MSH-3/4/10 values longer than this is compared and indexed by its
 * SHA-256 instead (dedup.ts `storedDedupKey`).
 */
export const MAX_DEDUP_KEY_BYTES = 1024;
