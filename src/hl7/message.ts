/**
 * The zero-copy HL7 v2 tokenizer and field access (DOMAIN.md §2).
 *
 * One pass over the message bytes records, as offsets in typed arrays, where every segment
 * and field begins and ends and where every repetition, component and subcomponent
 * separator stands. Nothing is decoded to a string until a field is read. An instance keeps
 * its typed arrays across `parse` calls, so a worker that reuses one instance allocates
 * nothing per message but the strings it reads. The input bytes are referenced, never copied
 * (except for the few multi-byte charsets that must be decoded whole, see charset.ts).
 *
 * Tolerated on the way (DOMAIN.md §6): a leading BOM or whitespace; CR, LF or CRLF segment
 * terminators; blank lines; a 5-character MSH-2 (truncation character); a line that does not
 * start with a segment ID (e.g. base64 or report text broken by a line break) is taken as the
 * continuation of the segment before it and flagged.
 */
import {
  type Charset,
  type SliceBuffer,
  UTF8,
  WINDOWS_1252,
  decodeRange,
  decodeWhole,
  decodesStrictly,
  resolveCharset,
} from './charset.js';
import { ErrCode, type Hl7Error, Hl7ErrorCode, hl7Error } from './errors.js';
import { type Delimiters, Render, unescapeRange } from './escape.js';
import { type FieldPath, compilePath, packSegmentId } from './path.js';

/** What a location holds: HL7 distinguishes "not there", "empty" and the null `""` (v2.5 §2.5.3). */
export const Presence = {
  /** Past the end of the data: the segment, field or component is not in the message. */
  Absent: 0,
  /** Present and empty (`||`): no information, keep the stored value. */
  Empty: 1,
  /** The HL7 null `""`: delete the stored value. */
  Null: 2,
  /** A value. */
  Value: 3,
} as const;
export type Presence = (typeof Presence)[keyof typeof Presence];

/** Bit flags describing what the parser had to tolerate. */
export const ParseWarning = {
  /** Lines not starting with a segment ID were joined to the segment before them. */
  ContinuationLines: 1,
  /** The bytes did not decode strictly in the declared charset; windows-1252 was used. */
  CharsetFallback: 2,
  /** MSH-18 named a charset that is unknown or cannot be carried; the default was used. */
  UnknownCharset: 4,
  /** The message was decoded whole and re-encoded as UTF-8 before tokenising (see charset.ts). */
  Transcoded: 8,
} as const;
export type ParseWarning = (typeof ParseWarning)[keyof typeof ParseWarning];

/** Options of {@link Hl7Message.parse}. */
export interface ParseOptions {
  /** Charset used when MSH-18 is empty or unknown. Default: UTF-8 (ASCII is a subset of it). */
  defaultCharset?: Charset;
  /** Stop after the first segment (the MSH): enough for a listener. Default false. */
  headerOnly?: boolean;
  /**
   * Join lines that do not start with a segment ID to the segment before them (base64 or
   * report text broken by CR/LF). When false, such a line becomes a segment of its own.
   * Default true.
   */
  joinContinuationLines?: boolean;
}

const CR = 0x0d;
const LF = 0x0a;
/** Byte classes of the tokenizer's table; field to subcomponent are also token kinds. */
const K_SEGMENT = 1;
const K_FIELD = 2;
const K_REP = 3;
const K_COMP = 4;
const K_SUB = 5;
/** A byte value no byte can have: disables a delimiter a short MSH-2 does not declare. */
const NONE = 256;
/** Tokens pack a byte offset in 28 bits: the parser reads messages up to 256 MiB. */
const MAX_MESSAGE_BYTES = (1 << 28) - 1;

const ID_MSH = packSegmentId('MSH');
const ID_FHS = packSegmentId('FHS');
const ID_BHS = packSegmentId('BHS');

function isHeaderId(id: number): boolean {
  return id === ID_MSH || id === ID_FHS || id === ID_BHS;
}

function isUpper(b: number): boolean {
  return b >= 0x41 && b <= 0x5a;
}

function isUpperOrDigit(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39);
}

function isValidDelimiter(b: number): boolean {
  // Not alphanumeric, not a terminator, not a space, not MLLP framing, printable ASCII.
  return b > 0x20 && b < 0x7f && !isUpperOrDigit(b) && !(b >= 0x61 && b <= 0x7a);
}

function asSliceBuffer(bytes: Uint8Array): SliceBuffer {
  return (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) as SliceBuffer;
}

/** Token count left by the last {@link scanTokens} call (saves allocating a result object). */
let scannedTokens = 0;

/**
 * The tokenizer's hot loop, kept small so that V8 optimises it on its own: records a token
 * `position << 3 | kind` for every separator in `u8[i, limit)` and stops at the first
 * segment terminator. Returns its position (or `limit`); the token count is left in
 * {@link scannedTokens}. The caller guarantees room for `limit - i` tokens.
 */
function scanTokens(u8: Uint8Array, i: number, limit: number, cls: Uint8Array, tok: Int32Array, nt: number): number {
  for (; i < limit; i++) {
    const c = cls[u8[i]!]!;
    if (c === 0) continue;
    if (c === K_SEGMENT) break;
    tok[nt++] = (i << 3) | c;
  }
  scannedTokens = nt;
  return i;
}

/**
 * A parsed HL7 v2 message: a view over the bytes it was parsed from.
 *
 * Reuse one instance for many messages (`parse` resets it); a parsed view stays valid until
 * the next `parse`. Locations are addressed by field path (`PID-3[2].4.2`) or, in mapping
 * code, by segment index and 1-based field, repetition, component and subcomponent numbers.
 */
export class Hl7Message {
  /** The bytes given to the last `parse` (not copied). */
  bytes: Uint8Array = new Uint8Array(0);
  /** The delimiters declared by MSH-1/MSH-2 (or FHS/BHS). */
  delimiters: Delimiters = { field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&', truncation: '' };
  /** The charset field values are decoded in. */
  charset: Charset = UTF8;
  /** {@link ParseWarning} flags of the last parse. */
  warnings = 0;
  /** Number of segments. */
  segmentCount = 0;

  #buf: SliceBuffer = Buffer.alloc(0) as SliceBuffer;
  #escape = 0x5c;
  #cls = new Uint8Array(256);
  #set: number[] = [];
  #delimKey: Uint8Array = new Uint8Array(0);
  /** Per segment: packed ID, first byte, end (exclusive), first token, whether it is a header (MSH/FHS/BHS) segment. */
  #segId: Int32Array = new Int32Array(64);
  #segStart: Int32Array = new Int32Array(64);
  #segEnd: Int32Array = new Int32Array(64);
  /** Index of each segment's first token; entry `segmentCount` is a sentinel. */
  #segTok: Int32Array = new Int32Array(65);
  #segHeader: Uint8Array = new Uint8Array(64);
  /**
   * Every separator inside the segments, in order: `position << 3 | kind` (field, repetition,
   * component, subcomponent). One write per separator keeps the byte loop tight; field
   * boundaries are found by walking a segment's tokens when a field is read.
   */
  #tok: Int32Array = new Int32Array(4096);
  #nt = 0;
  // The last located element: byte range, whether it is a leaf, and its field's token range.
  #ls = 0;
  #le = 0;
  #leaf = false;
  #fk0 = 0;
  #fk1 = 0;
  #rseg = 0;
  // Field index of one segment (#fcSeg): field start byte and first inner token per field.
  #fcSeg = -1;
  #fcN = 0;
  #fcPos: Int32Array = new Int32Array(64);
  #fcK: Int32Array = new Int32Array(64);

  /**
   * Parses `bytes` (one message; a batch is split first, see batch.ts). Returns undefined on
   * success or an error value; never throws on any input.
   */
  parse(bytes: Uint8Array, options?: ParseOptions): Hl7Error | undefined {
    this.bytes = bytes;
    this.warnings = 0;
    const buf = asSliceBuffer(bytes);
    const error = this.#tokenize(buf, options);
    if (error !== undefined) return error;
    if (options?.headerOnly === true) {
      this.charset = resolveCharset(this.#ascii(0, 18, 1), options.defaultCharset ?? UTF8).charset;
      return undefined;
    }
    return this.#settleCharset(bytes, options);
  }

  #settleCharset(bytes: Uint8Array, options: ParseOptions | undefined): Hl7Error | undefined {
    const msh18 = this.segmentCount > 0 && this.#segHeader[0] === 1 ? this.#ascii(0, 18, 1) : '';
    const { charset, unknown } = resolveCharset(msh18, options?.defaultCharset ?? UTF8);
    let warnings = unknown ? ParseWarning.UnknownCharset : 0;
    if (charset.transcode) {
      const text = decodeWhole(bytes, charset);
      if (text !== undefined) {
        const utf8 = Buffer.from(text, 'utf8');
        const error = this.#tokenize(utf8 as SliceBuffer, options);
        this.bytes = bytes;
        this.charset = UTF8;
        this.warnings |= warnings | ParseWarning.Transcoded;
        return error;
      }
      this.charset = WINDOWS_1252;
      warnings |= ParseWarning.CharsetFallback;
    } else if (decodesStrictly(bytes, charset)) {
      this.charset = charset;
    } else {
      this.charset = WINDOWS_1252;
      warnings |= ParseWarning.CharsetFallback;
    }
    this.warnings |= warnings;
    return undefined;
  }

  #tokenize(buf: SliceBuffer, options: ParseOptions | undefined): Hl7Error | undefined {
    this.#buf = buf;
    this.segmentCount = 0;
    this.#nt = 0;
    this.#fcSeg = -1;
    const headerOnly = options?.headerOnly === true;
    // Only the first line is read in header-only mode, so any message size will do there.
    let end = headerOnly ? Math.min(buf.length, MAX_MESSAGE_BYTES) : buf.length;
    if (end > MAX_MESSAGE_BYTES) {
      return hl7Error(Hl7ErrorCode.TooLarge, `message of ${end} bytes exceeds the parser's limit of ${MAX_MESSAGE_BYTES} bytes`, ErrCode.InternalError, { offset: 0 });
    }
    let p = 0;
    if (end >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) p = 3;
    while (p < end && (buf[p] === 0x20 || buf[p] === 0x09 || buf[p] === CR || buf[p] === LF)) p++;
    while (end > p && (buf[end - 1] === CR || buf[end - 1] === LF)) end--;
    if (p >= end) return hl7Error(Hl7ErrorCode.Empty, 'empty message', ErrCode.SegmentSequence, { offset: 0 });
    if (end - p < 4 || !isHeaderId((buf[p]! << 16) | (buf[p + 1]! << 8) | buf[p + 2]!)) {
      return hl7Error(Hl7ErrorCode.NoHeader, 'message does not begin with an MSH segment', ErrCode.SegmentSequence, { segment: 'MSH', offset: p });
    }
    const error = this.#readDelimiters(buf, p, end);
    if (error !== undefined) return error;

    const cls = this.#cls;
    const u8 = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    const joinLines = options?.joinContinuationLines !== false;
    let i = this.#startSegment(buf, p, end);
    let segEnd = end;
    let tok = this.#tok;
    let cap = tok.length;
    let nt = 0;
    for (;;) {
      // Scan up to the next terminator; `limit` keeps the token array from overflowing
      // (at most one token per byte), so the hot loop needs no capacity check.
      if (cap - nt < 64 && cap - nt < end - i) {
        tok = this.#growTokens(end - i);
        cap = tok.length;
      }
      const limit = Math.min(end, i + (cap - nt));
      i = scanTokens(u8, i, limit, cls, tok, nt);
      nt = scannedTokens;
      if (i >= end) break;
      if (i >= limit) continue;
      // A terminator. Trailing terminators were trimmed, so i + 1 < end. Fast path: one CR
      // or LF, then an ordinary segment ID and a separator.
      const ns = this.segmentCount;
      if (i + 4 < end && !headerOnly && ns + 1 < this.#segId.length) {
        const b0 = u8[i + 1]!;
        const b1 = u8[i + 2]!;
        const b2 = u8[i + 3]!;
        if (isUpper(b0) && isUpperOrDigit(b1) && isUpperOrDigit(b2) && cls[u8[i + 4]!]! !== 0 && cls[u8[i + 4]!]! <= K_FIELD) {
          const id = (b0 << 16) | (b1 << 8) | b2;
          if (!isHeaderId(id)) {
            this.#segEnd[ns - 1] = i;
            this.#segId[ns] = id;
            this.#segStart[ns] = i + 1;
            this.#segTok[ns] = nt;
            this.#segHeader[ns] = 0;
            this.segmentCount = ns + 1;
            i += 4;
            continue;
          }
        }
      }
      const next = this.#skipBlankLines(buf, i, end);
      if (next >= end) {
        segEnd = i;
        break;
      }
      // The header line never takes continuation lines: a stray line after it would end up
      // inside MSH-12.. and be copied into the ACK with its CR/LF.
      if (joinLines && this.#segHeader[ns - 1] !== 1 && !this.#isSegmentStart(buf, next, end)) {
        this.warnings |= ParseWarning.ContinuationLines;
        i = next;
        continue;
      }
      if (headerOnly) {
        segEnd = i;
        break;
      }
      this.#segEnd[ns - 1] = i;
      this.#nt = nt;
      i = this.#startSegment(buf, next, end);
    }
    this.#nt = nt;
    this.#segEnd[this.segmentCount - 1] = segEnd;
    this.#segTok[this.segmentCount] = nt;
    return undefined;
  }

  /** Reads MSH-1/MSH-2 at `p` and loads the delimiter class table. */
  #readDelimiters(buf: SliceBuffer, p: number, end: number): Hl7Error | undefined {
    // Most feeds repeat the same delimiters: skip the table rebuild when MSH-1..MSH-3's first
    // byte are what the previous message declared.
    const key = this.#delimKey;
    if (key.length > 0 && p + key.length <= end) {
      let same = true;
      for (let k = 0; k < key.length; k++) {
        if (buf[p + 3 + k] !== key[k]) {
          same = false;
          break;
        }
      }
      if (same) return undefined;
    }
    const sep = buf[p + 3]!;
    if (!isValidDelimiter(sep)) {
      return hl7Error(Hl7ErrorCode.BadDelimiters, `invalid field separator (byte 0x${sep.toString(16).padStart(2, '0')}) in MSH-1`, ErrCode.DataType, { segment: 'MSH', field: 1, offset: p + 3 });
    }
    let q = p + 4;
    while (q < end && buf[q] !== sep && buf[q] !== CR && buf[q] !== LF) q++;
    const n = q - (p + 4);
    if (n < 1 || n > 5) {
      return hl7Error(Hl7ErrorCode.BadDelimiters, `MSH-2 must hold 1 to 5 encoding characters, found ${n}`, ErrCode.DataType, { segment: 'MSH', field: 2, offset: p + 4 });
    }
    const chars = [sep];
    for (let k = p + 4; k < q; k++) {
      const b = buf[k]!;
      if (!isValidDelimiter(b) || chars.includes(b)) {
        return hl7Error(Hl7ErrorCode.BadDelimiters, `MSH-2 encoding characters must be distinct punctuation, found '${buf.latin1Slice(p + 4, q)}'`, ErrCode.DataType, { segment: 'MSH', field: 2, offset: k });
      }
      chars.push(b);
    }
    const [, comp = NONE, rep = NONE, esc = NONE, sub = NONE, trunc = NONE] = chars;
    const cls = this.#cls;
    for (const b of this.#set) cls[b] = 0;
    cls[CR] = K_SEGMENT;
    cls[LF] = K_SEGMENT;
    cls[sep] = K_FIELD;
    if (rep !== NONE) cls[rep] = K_REP;
    if (comp !== NONE) cls[comp] = K_COMP;
    if (sub !== NONE) cls[sub] = K_SUB;
    this.#set = [sep, rep, comp, sub].filter((b) => b !== NONE);
    this.#escape = esc;
    // The key covers MSH-1, MSH-2 and the separator after it (a shorter MSH-2 must not match).
    this.#delimKey = q < end && buf[q] === sep ? Uint8Array.from(buf.subarray(p + 3, q + 1)) : new Uint8Array(0);
    const ch = (b: number): string => (b === NONE ? '' : String.fromCharCode(b));
    const d = this.delimiters;
    if (d.field !== ch(sep) || d.component !== ch(comp) || d.repetition !== ch(rep) || d.escape !== ch(esc) || d.subcomponent !== ch(sub) || d.truncation !== ch(trunc)) {
      this.delimiters = Object.freeze({ field: ch(sep), component: ch(comp), repetition: ch(rep), escape: ch(esc), subcomponent: ch(sub), truncation: ch(trunc) });
    }
    return undefined;
  }

  /** Opens a segment at `p`; returns where scanning continues. */
  #startSegment(buf: SliceBuffer, p: number, end: number): number {
    const ns = this.segmentCount;
    if (ns + 1 >= this.#segId.length) this.#growSegments();
    const id = p + 2 < end ? (buf[p]! << 16) | (buf[p + 1]! << 8) | buf[p + 2]! : 0;
    this.#segId[ns] = id;
    this.#segStart[ns] = p;
    this.#segTok[ns] = this.#nt;
    this.segmentCount = ns + 1;
    const header = isHeaderId(id) && p + 3 < end && this.#cls[buf[p + 3]!] === K_FIELD;
    this.#segHeader[ns] = header ? 1 : 0;
    if (!header) return p;
    // MSH-1 is the separator itself and MSH-2 the encoding characters: neither is tokenised.
    let q = p + 4;
    while (q < end && this.#cls[buf[q]!] !== K_FIELD && buf[q] !== CR && buf[q] !== LF) q++;
    return q;
  }

  /** From a terminator at `i`, skips terminators and whitespace-only lines; returns the next line's start. */
  #skipBlankLines(buf: SliceBuffer, i: number, end: number): number {
    let j = i;
    for (;;) {
      while (j < end && (buf[j] === CR || buf[j] === LF)) j++;
      let k = j;
      while (k < end && (buf[k] === 0x20 || buf[k] === 0x09)) k++;
      if (k >= end) return end;
      if (buf[k] !== CR && buf[k] !== LF) return j;
      j = k;
    }
  }

  #isSegmentStart(buf: SliceBuffer, j: number, end: number): boolean {
    if (j + 3 > end || !isUpper(buf[j]!) || !isUpperOrDigit(buf[j + 1]!) || !isUpperOrDigit(buf[j + 2]!)) return false;
    if (j + 3 === end) return true;
    const b = buf[j + 3]!;
    return this.#cls[b] === K_FIELD || b === CR || b === LF;
  }

  #growSegments(): void {
    const n = this.#segId.length * 2;
    const grow32 = (a: Int32Array, size: number): Int32Array => {
      const b = new Int32Array(size);
      b.set(a);
      return b;
    };
    this.#segId = grow32(this.#segId, n);
    this.#segStart = grow32(this.#segStart, n);
    this.#segEnd = grow32(this.#segEnd, n);
    this.#segTok = grow32(this.#segTok, n + 1);
    const h = new Uint8Array(n);
    h.set(this.#segHeader);
    this.#segHeader = h;
  }

  #growTokens(atLeast: number): Int32Array {
    const t = new Int32Array(Math.max(this.#tok.length * 2, this.#tok.length + atLeast));
    t.set(this.#tok);
    this.#tok = t;
    return t;
  }

  // ---- locating ------------------------------------------------------------------------

  /**
   * Finds field `field` of segment `seg`: its byte range in #ls/#le and its tokens in
   * #fk0/#fk1. Field 0 is the segment ID; on MSH/FHS/BHS fields 1 and 2 are the separator
   * and the encoding characters.
   */
  #locateField(seg: number, field: number): boolean {
    if (seg < 0 || seg >= this.segmentCount || field < 0) return false;
    const s0 = this.#segStart[seg]!;
    const s1 = this.#segEnd[seg]!;
    const t0 = this.#segTok[seg]!;
    const t1 = this.#segTok[seg + 1]!;
    const tok = this.#tok;
    let skip = field;
    if (this.#segHeader[seg] === 1) {
      if (field <= 2) {
        this.#ls = field === 0 ? s0 : field === 1 ? s0 + 3 : s0 + 4;
        this.#le = field === 0 ? s0 + 3 : field === 1 ? s0 + 4 : t0 < t1 ? tok[t0]! >> 3 : s1;
        this.#fk0 = t0;
        this.#fk1 = t0;
        return true;
      }
      skip = field - 2;
    }
    // Mapping code reads many fields of one segment in a row: index that segment's fields
    // once (one walk over its tokens) and answer each read from the index.
    if (this.#fcSeg !== seg) this.#indexFields(seg, t0, t1);
    if (skip >= this.#fcN) return false;
    const fs = this.#fcPos[skip]!;
    const k = this.#fcK[skip]!;
    let fe = s1;
    let kEnd = t1;
    if (skip + 1 < this.#fcN) {
      kEnd = this.#fcK[skip + 1]! - 1;
      fe = tok[kEnd]! >> 3;
    }
    this.#ls = fs;
    this.#le = fe;
    this.#fk0 = k;
    this.#fk1 = kEnd;
    return true;
  }

  /** Indexes the fields of segment `seg`: the byte start and first inner token of each. */
  #indexFields(seg: number, t0: number, t1: number): void {
    const tok = this.#tok;
    let n = 1;
    for (let k = t0; k < t1; k++) if ((tok[k]! & 7) === K_FIELD) n++;
    if (n > this.#fcPos.length) {
      this.#fcPos = new Int32Array(n * 2);
      this.#fcK = new Int32Array(n * 2);
    }
    const pos = this.#fcPos;
    const first = this.#fcK;
    pos[0] = this.#segStart[seg]!;
    first[0] = t0;
    let f = 1;
    for (let k = t0; k < t1; k++) {
      const t = tok[k]!;
      if ((t & 7) === K_FIELD) {
        pos[f] = (t >> 3) + 1;
        first[f] = k + 1;
        f++;
      }
    }
    this.#fcN = n;
    this.#fcSeg = seg;
  }

  /**
   * Finds a location and leaves its byte range in #ls/#le and whether it is a leaf in #leaf.
   * `rep`, `comp`, `sub` are 1-based, 0 meaning "the whole of the level above".
   */
  #locate(seg: number, field: number, rep: number, comp: number, sub: number): boolean {
    if (!this.#locateField(seg, field)) return false;
    const fs = this.#ls;
    const fe = this.#le;
    const d0 = this.#fk0;
    const d1 = this.#fk1;
    if (rep === 0 && comp === 0) {
      this.#leaf = d0 === d1;
      return true;
    }
    const r = rep === 0 ? 1 : rep;
    let curRep = 1;
    let curComp = 1;
    let curSub = 1;
    let tokStart = fs;
    let first = -1;
    let last = -1;
    let count = 0;
    const tok = this.#tok;
    for (let k = d0; k <= d1; k++) {
      const t = k < d1 ? tok[k]! : (fe << 3);
      const pos = t >> 3;
      if (curRep === r && (comp === 0 || curComp === comp) && (sub === 0 || curSub === sub)) {
        if (first < 0) first = tokStart;
        last = pos;
        count++;
      } else if (first >= 0) {
        break;
      }
      if (k === d1) break;
      const kind = t & 7;
      if (kind === K_REP) {
        if (curRep === r) break;
        curRep++;
        curComp = 1;
        curSub = 1;
      } else if (kind === K_COMP) {
        curComp++;
        curSub = 1;
      } else {
        curSub++;
      }
      tokStart = pos + 1;
    }
    if (first < 0) return false;
    this.#ls = first;
    this.#le = last;
    this.#leaf = count === 1;
    return true;
  }

  #isHeaderEncodingField(seg: number, field: number): boolean {
    return field <= 2 && field >= 1 && this.#segHeader[seg] === 1;
  }

  /** Decodes the located range: leaf values unescaped, others in wire form. */
  #decodeLocated(seg: number, field: number, render: Render): string {
    const buf = this.#buf;
    const s = this.#ls;
    const e = this.#le;
    if (!this.#leaf || this.#isHeaderEncodingField(seg, field)) return decodeRange(buf, s, e, this.charset);
    const esc = this.#escape;
    for (let k = s; k < e; k++) {
      if (buf[k] === esc) return unescapeRange(buf, s, e, this.delimiters, esc, this.charset, render);
    }
    return decodeRange(buf, s, e, this.charset);
  }

  /** Reads an ASCII header field directly (used before the charset is known). */
  #ascii(seg: number, field: number, rep: number): string {
    return this.#locate(seg, field, rep, 0, 0) ? this.#buf.latin1Slice(this.#ls, this.#le).trim() : '';
  }

  // ---- public access by coordinates -----------------------------------------------------

  /** The packed segment ID of segment `seg` (see {@link packSegmentId}). */
  segmentIdAt(seg: number): number {
    return seg >= 0 && seg < this.segmentCount ? this.#segId[seg]! : 0;
  }

  /** The segment ID (e.g. `PID`) of segment `seg`, or `''`. */
  segmentName(seg: number): string {
    if (seg < 0 || seg >= this.segmentCount) return '';
    const s = this.#segStart[seg]!;
    return this.#buf.latin1Slice(s, Math.min(s + 3, this.#segEnd[seg]!));
  }

  /** Index of the `occurrence`-th (1-based) segment with this ID at or after `from`, or -1. */
  segmentIndex(id: string | number, occurrence = 1, from = 0): number {
    const want = typeof id === 'number' ? id : packSegmentId(id);
    let seen = 0;
    for (let s = Math.max(0, from); s < this.segmentCount; s++) {
      if (this.#segId[s] === want && ++seen === occurrence) return s;
    }
    return -1;
  }

  /** Number of fields of segment `seg` after its ID (trailing empty fields omitted by the sender are not counted). */
  fieldCount(seg: number): number {
    if (seg < 0 || seg >= this.segmentCount) return 0;
    let n = this.#segHeader[seg] === 1 ? 2 : 0;
    for (let k = this.#segTok[seg]!; k < this.#segTok[seg + 1]!; k++) if ((this.#tok[k]! & 7) === K_FIELD) n++;
    return n;
  }

  /** Number of repetitions of a field: 0 when absent or empty. */
  repetitionCount(seg: number, field: number): number {
    if (!this.#locateField(seg, field) || this.#ls === this.#le) return 0;
    let n = 1;
    for (let k = this.#fk0; k < this.#fk1; k++) if ((this.#tok[k]! & 7) === K_REP) n++;
    return n;
  }

  /** Number of components of a repetition (1-based `rep`): 0 when absent or empty. */
  componentCount(seg: number, field: number, rep = 1): number {
    return this.#countWithin(seg, field, rep, 0, K_COMP);
  }

  /** Number of subcomponents of a component: 0 when absent or empty. */
  subcomponentCount(seg: number, field: number, rep: number, comp: number): number {
    return this.#countWithin(seg, field, rep, comp, K_SUB);
  }

  #countWithin(seg: number, field: number, rep: number, comp: number, kind: number): number {
    if (!this.#locate(seg, field, rep, comp, 0) || this.#ls === this.#le) return 0;
    const s = this.#ls;
    const e = this.#le;
    let n = 1;
    for (let k = this.#fk0; k < this.#fk1; k++) {
      const t = this.#tok[k]!;
      const pos = t >> 3;
      if (pos >= e) break;
      if (pos >= s && (t & 7) === kind) n++;
    }
    return n;
  }

  /**
   * The decoded value at a location (1-based numbers; `comp`/`sub` 0 for the whole of the
   * level above). A leaf is unescaped and decoded from the charset; an element with deeper
   * delimiters comes back in wire form. Absent is `''`; the HL7 null is the string `""`.
   */
  value(seg: number, field: number, rep = 1, comp = 0, sub = 0, render: Render = Render.Raw): string {
    if (!this.#locate(seg, field, rep, comp, sub)) return '';
    return this.#decodeLocated(seg, field, render);
  }

  /** What a location holds: absent, empty, the HL7 null, or a value. */
  presenceAt(seg: number, field: number, rep = 1, comp = 0, sub = 0): Presence {
    if (!this.#locate(seg, field, rep, comp, sub)) return Presence.Absent;
    return this.#presenceOfLocated();
  }

  #presenceOfLocated(): Presence {
    const len = this.#le - this.#ls;
    if (len === 0) return Presence.Empty;
    if (len === 2 && this.#buf[this.#ls] === 0x22 && this.#buf[this.#ls + 1] === 0x22) return Presence.Null;
    return Presence.Value;
  }

  /** The raw bytes of a location as a view into the parsed buffer (no copy), or undefined when absent. */
  rawAt(seg: number, field: number, rep = 1, comp = 0, sub = 0): Uint8Array | undefined {
    if (!this.#locate(seg, field, rep, comp, sub)) return undefined;
    return this.#buf.subarray(this.#ls, this.#le);
  }

  /**
   * The location in wire form as a byte string (one character per byte, latin1), escapes and
   * delimiters kept: written back with `Buffer.from(s, 'latin1')` it gives the exact bytes.
   */
  wireAt(seg: number, field: number, rep = 0, comp = 0, sub = 0): string {
    if (!this.#locate(seg, field, rep, comp, sub)) return '';
    return this.#buf.latin1Slice(this.#ls, this.#le);
  }

  /** The byte range `[start, end)` of the whole segment `seg` in the parsed buffer. */
  segmentRange(seg: number): [number, number] {
    if (seg < 0 || seg >= this.segmentCount) return [0, 0];
    return [this.#segStart[seg]!, this.#segEnd[seg]!];
  }

  /** The buffer that offsets refer to: the input, or its UTF-8 transcoding (see ParseWarning.Transcoded). */
  get parsedBytes(): Uint8Array {
    return this.#buf;
  }

  // ---- public access by path ------------------------------------------------------------

  /** Resolves a path to its compiled form and segment index (in #rseg), without allocating. */
  #resolve(path: string | FieldPath): FieldPath | undefined {
    const p = typeof path === 'string' ? compilePath(path) : path;
    if ('code' in p) return undefined;
    const seg = this.segmentIndex(p.segmentId, p.occurrence);
    if (seg < 0) return undefined;
    this.#rseg = seg;
    return p;
  }

  /**
   * The value at a field path (INTERFACE.md "Field paths"). Absent and invalid paths give
   * `''`; the HL7 null gives `""`; a path that stops above its leaves gives wire form.
   */
  get(path: string | FieldPath, render: Render = Render.Raw): string {
    const p = this.#resolve(path);
    if (p === undefined) return '';
    const seg = this.#rseg;
    if (p.field === 0) {
      const [s, e] = this.segmentRange(seg);
      return decodeRange(this.#buf, s, e, this.charset);
    }
    return this.value(seg, p.field, p.repetition, p.component, p.subcomponent, render);
  }

  /** What the location at a field path holds. */
  presence(path: string | FieldPath): Presence {
    const p = this.#resolve(path);
    if (p === undefined) return Presence.Absent;
    if (p.field === 0) return Presence.Value;
    return this.presenceAt(this.#rseg, p.field, p.repetition, p.component, p.subcomponent);
  }

  /** The raw bytes at a field path, as a view (no copy), or undefined when absent. */
  bytesAt(path: string | FieldPath): Uint8Array | undefined {
    const p = this.#resolve(path);
    if (p === undefined) return undefined;
    if (p.field === 0) {
      const [s, e] = this.segmentRange(this.#rseg);
      return this.#buf.subarray(s, e);
    }
    return this.rawAt(this.#rseg, p.field, p.repetition, p.component, p.subcomponent);
  }
}

/** Parses one message into a new {@link Hl7Message}, or returns the error. */
export function parseMessage(bytes: Uint8Array | string, options?: ParseOptions): Hl7Message | Hl7Error {
  const msg = new Hl7Message();
  const error = msg.parse(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes, options);
  return error ?? msg;
}

/** True when a parse result is an error. */
export function isHl7Error(value: unknown): value is Hl7Error {
  return typeof value === 'object' && value !== null && 'code' in value && 'errCode' in value;
}
