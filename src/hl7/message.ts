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
const K_SEGMENT = 1;
const K_FIELD = 2;
/** Delimiter kinds inside a field; their order is the nesting order. */
const K_REP = 3;
const K_COMP = 4;
const K_SUB = 5;
/** A byte value no byte can have: disables a delimiter a short MSH-2 does not declare. */
const NONE = 256;

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
  #segId = new Int32Array(64);
  /** Index of each segment's first field (field 0 is the segment ID); entry `segmentCount` is a sentinel. */
  #segField = new Int32Array(65);
  #fStart = new Int32Array(512);
  #fEnd = new Int32Array(512);
  /** Index into the delimiter arrays of each field's first inner delimiter; one sentinel past the last field. */
  #fDelim = new Int32Array(513);
  #dPos = new Int32Array(1024);
  #dKind = new Uint8Array(1024);
  #nf = 0;
  #nd = 0;
  #ls = 0;
  #le = 0;
  #leaf = false;

  /**
   * Parses `bytes` (one message; a batch is split first, see batch.ts). Returns undefined on
   * success or an error value; never throws on any input.
   */
  parse(bytes: Uint8Array, options?: ParseOptions): Hl7Error | undefined {
    this.bytes = bytes;
    this.warnings = 0;
    this.segmentCount = 0;
    this.#nf = 0;
    this.#nd = 0;
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
    const msh18 = this.segmentCount > 0 && isHeaderId(this.#segId[0]!) ? this.#ascii(0, 18, 1) : '';
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
    this.#nf = 0;
    this.#nd = 0;
    let end = buf.length;
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
    const joinLines = options?.joinContinuationLines !== false;
    const headerOnly = options?.headerOnly === true;
    let i = this.#startSegment(buf, p, end);
    let fieldEnd = end;
    const u8 = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    for (; i < end; i++) {
      const c = cls[u8[i]!]!;
      if (c === 0) continue;
      if (c === K_FIELD) {
        const nf = this.#nf;
        this.#fEnd[nf] = i;
        if (nf + 2 >= this.#fStart.length) this.#growFields();
        this.#fStart[nf + 1] = i + 1;
        this.#fDelim[nf + 1] = this.#nd;
        this.#nf = nf + 1;
        continue;
      }
      if (c !== K_SEGMENT) {
        const nd = this.#nd;
        if (nd >= this.#dPos.length) this.#growDelimiters();
        this.#dPos[nd] = i;
        this.#dKind[nd] = c;
        this.#nd = nd + 1;
        continue;
      }
      const next = this.#skipBlankLines(buf, i, end);
      if (next >= end) {
        fieldEnd = i;
        break;
      }
      if (joinLines && !this.#isSegmentStart(buf, next, end)) {
        this.warnings |= ParseWarning.ContinuationLines;
        i = next - 1;
        continue;
      }
      if (headerOnly) {
        fieldEnd = i;
        break;
      }
      this.#fEnd[this.#nf] = i;
      this.#nf++;
      i = this.#startSegment(buf, next, end) - 1;
    }
    this.#fEnd[this.#nf] = fieldEnd;
    this.#nf++;
    this.#fDelim[this.#nf] = this.#nd;
    this.#segField[this.segmentCount] = this.#nf;
    return undefined;
  }

  /** Reads MSH-1/MSH-2 at `p` and loads the delimiter class table. */
  #readDelimiters(buf: SliceBuffer, p: number, end: number): Hl7Error | undefined {
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
    const ch = (b: number): string => (b === NONE ? '' : String.fromCharCode(b));
    const d = this.delimiters;
    if (d.field !== ch(sep) || d.component !== ch(comp) || d.repetition !== ch(rep) || d.escape !== ch(esc) || d.subcomponent !== ch(sub) || d.truncation !== ch(trunc)) {
      this.delimiters = Object.freeze({ field: ch(sep), component: ch(comp), repetition: ch(rep), escape: ch(esc), subcomponent: ch(sub), truncation: ch(trunc) });
    }
    return undefined;
  }

  /** Opens a segment at `p`; returns where scanning continues (an open field begins there). */
  #startSegment(buf: SliceBuffer, p: number, end: number): number {
    const ns = this.segmentCount;
    if (ns + 2 >= this.#segId.length) this.#growSegments();
    const id = p + 2 < end ? (buf[p]! << 16) | (buf[p + 1]! << 8) | buf[p + 2]! : 0;
    this.#segId[ns] = id;
    this.#segField[ns] = this.#nf;
    this.segmentCount = ns + 1;
    let nf = this.#nf;
    if (nf + 4 >= this.#fStart.length) this.#growFields();
    this.#fStart[nf] = p;
    this.#fDelim[nf] = this.#nd;
    if (!isHeaderId(id) || p + 3 >= end || this.#cls[buf[p + 3]!] !== K_FIELD) return p;
    // MSH-1 is the separator itself and MSH-2 the encoding characters: neither is tokenised.
    this.#fEnd[nf] = p + 3;
    nf++;
    this.#fStart[nf] = p + 3;
    this.#fEnd[nf] = p + 4;
    this.#fDelim[nf] = this.#nd;
    nf++;
    let q = p + 4;
    while (q < end && this.#cls[buf[q]!] !== K_FIELD && buf[q] !== CR && buf[q] !== LF) q++;
    this.#fStart[nf] = p + 4;
    this.#fDelim[nf] = this.#nd;
    this.#nf = nf;
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
    const id = new Int32Array(n);
    id.set(this.#segId);
    this.#segId = id;
    const sf = new Int32Array(n + 1);
    sf.set(this.#segField);
    this.#segField = sf;
  }

  #growFields(): void {
    const n = this.#fStart.length * 2;
    const s = new Int32Array(n);
    s.set(this.#fStart);
    this.#fStart = s;
    const e = new Int32Array(n);
    e.set(this.#fEnd);
    this.#fEnd = e;
    const d = new Int32Array(n + 1);
    d.set(this.#fDelim);
    this.#fDelim = d;
  }

  #growDelimiters(): void {
    const n = this.#dPos.length * 2;
    const p = new Int32Array(n);
    p.set(this.#dPos);
    this.#dPos = p;
    const k = new Uint8Array(n);
    k.set(this.#dKind);
    this.#dKind = k;
  }

  // ---- locating ------------------------------------------------------------------------

  /**
   * Finds a location and leaves its byte range in #ls/#le and whether it is a leaf in #leaf.
   * `rep`, `comp`, `sub` are 1-based, 0 meaning "the whole of the level above".
   */
  #locate(seg: number, field: number, rep: number, comp: number, sub: number): boolean {
    if (seg < 0 || seg >= this.segmentCount || field < 0) return false;
    const fi = this.#segField[seg]! + field;
    if (fi >= this.#segField[seg + 1]!) return false;
    const fs = this.#fStart[fi]!;
    const fe = this.#fEnd[fi]!;
    const d0 = this.#fDelim[fi]!;
    const d1 = this.#fDelim[fi + 1]!;
    if (rep === 0 && comp === 0) {
      this.#ls = fs;
      this.#le = fe;
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
    const dPos = this.#dPos;
    const dKind = this.#dKind;
    for (let k = d0; k <= d1; k++) {
      const pos = k < d1 ? dPos[k]! : fe;
      if (curRep === r && (comp === 0 || curComp === comp) && (sub === 0 || curSub === sub)) {
        if (first < 0) first = tokStart;
        last = pos;
        count++;
      } else if (first >= 0) {
        break;
      }
      if (k === d1) break;
      const kind = dKind[k]!;
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
    return field <= 2 && field >= 1 && isHeaderId(this.#segId[seg]!);
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
    const s = this.#fStart[this.#segField[seg]!]!;
    return this.#buf.latin1Slice(s, Math.min(s + 3, this.#fEnd[this.#segField[seg]!]!));
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
    return this.#segField[seg + 1]! - this.#segField[seg]! - 1;
  }

  /** Number of repetitions of a field: 0 when absent or empty. */
  repetitionCount(seg: number, field: number): number {
    if (!this.#locate(seg, field, 0, 0, 0) || this.#ls === this.#le) return 0;
    if (this.#isHeaderEncodingField(seg, field)) return 1;
    const fi = this.#segField[seg]! + field;
    let n = 1;
    for (let k = this.#fDelim[fi]!; k < this.#fDelim[fi + 1]!; k++) if (this.#dKind[k] === K_REP) n++;
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
    if (this.#isHeaderEncodingField(seg, field)) return 1;
    const s = this.#ls;
    const e = this.#le;
    const fi = this.#segField[seg]! + field;
    let n = 1;
    for (let k = this.#fDelim[fi]!; k < this.#fDelim[fi + 1]!; k++) {
      const pos = this.#dPos[k]!;
      if (pos >= e) break;
      if (pos >= s && this.#dKind[k] === kind) n++;
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
    return [this.#fStart[this.#segField[seg]!]!, this.#fEnd[this.#segField[seg + 1]! - 1]!];
  }

  /** The buffer that offsets refer to: the input, or its UTF-8 transcoding (see ParseWarning.Transcoded). */
  get parsedBytes(): Uint8Array {
    return this.#buf;
  }

  // ---- public access by path ------------------------------------------------------------

  #resolve(path: string | FieldPath): { seg: number; p: FieldPath } | undefined {
    const p = typeof path === 'string' ? compilePath(path) : path;
    if ('code' in p) return undefined;
    const seg = this.segmentIndex(p.segmentId, p.occurrence);
    return seg < 0 ? undefined : { seg, p };
  }

  /**
   * The value at a field path (INTERFACE.md "Field paths"). Absent and invalid paths give
   * `''`; the HL7 null gives `""`; a path that stops above its leaves gives wire form.
   */
  get(path: string | FieldPath, render: Render = Render.Raw): string {
    const r = this.#resolve(path);
    if (r === undefined) return '';
    const { seg, p } = r;
    if (p.field === 0) {
      const [s, e] = this.segmentRange(seg);
      return decodeRange(this.#buf, s, e, this.charset);
    }
    return this.value(seg, p.field, p.repetition, p.component, p.subcomponent, render);
  }

  /** What the location at a field path holds. */
  presence(path: string | FieldPath): Presence {
    const r = this.#resolve(path);
    if (r === undefined) return Presence.Absent;
    if (r.p.field === 0) return Presence.Value;
    return this.presenceAt(r.seg, r.p.field, r.p.repetition, r.p.component, r.p.subcomponent);
  }

  /** The raw bytes at a field path, as a view (no copy), or undefined when absent. */
  bytesAt(path: string | FieldPath): Uint8Array | undefined {
    const r = this.#resolve(path);
    if (r === undefined) return undefined;
    if (r.p.field === 0) {
      const [s, e] = this.segmentRange(r.seg);
      return this.#buf.subarray(s, e);
    }
    return this.rawAt(r.seg, r.p.field, r.p.repetition, r.p.component, r.p.subcomponent);
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
