/**
 * Splitting input into messages (DOMAIN.md §2.7): MLLP frames, plain messages one after
 * another, and batch files `[FHS] {[BHS] {MSH…} [BTS]} [FTS]` with BTS-1 (messages in the
 * batch) and FTS-1 (batches in the file) checked. Messages come back as byte ranges of the
 * input (views, no copy); each is then parsed under its own MSH.
 */
import { ErrCode, type Hl7Error, Hl7ErrorCode, hl7Error } from './errors.js';

/** One batch of a batch file: its BHS and BTS lines (if present) and its message count. */
export interface BatchPart {
  /** Byte range of the BHS segment, if the batch has one. */
  header?: [number, number];
  /** Byte range of the BTS segment, if present. */
  trailer?: [number, number];
  /** Number of messages in the batch. */
  messageCount: number;
}

/** The result of {@link splitMessages}. */
export interface SplitResult {
  /** Each message as a view into the input (MSH up to, not including, the next header line). */
  messages: Uint8Array[];
  /** Byte range of the FHS segment, if the input is a batch file. */
  fileHeader?: [number, number];
  /** Byte range of the FTS segment, if present. */
  fileTrailer?: [number, number];
  /** The batches (BHS…BTS) found; empty for plain messages. */
  batches: BatchPart[];
  /** Problems found: count mismatches, stray trailers, bytes outside any message. Messages are still returned. */
  errors: Hl7Error[];
}

const VT = 0x0b;
const FS = 0x1c;
const CR = 0x0d;
const LF = 0x0a;

/**
 * Splits `bytes` into messages. Input that begins (after whitespace) with the MLLP start
 * byte is read as MLLP frames, each of which may hold a message or a batch; so is input whose
 * first start byte comes before any header line (junk before the first frame, reported);
 * anything else is read line by line, a message beginning at every line that starts with `MSH`.
 */
export function splitMessages(bytes: Uint8Array): SplitResult {
  let p = 0;
  while (p < bytes.length && isSpace(bytes[p]!)) p++;
  if (p < bytes.length && bytes[p] === VT) return splitFrames(bytes, p);
  const vt = bytes.indexOf(VT, p);
  if (vt > 0 && !hasHeaderLine(bytes, p, vt)) return splitFrames(bytes, p);
  return splitLines(bytes, 0, bytes.length);
}

/** Whether a line in `bytes[from, to)` starts with MSH, FHS or BHS. */
function hasHeaderLine(bytes: Uint8Array, from: number, to: number): boolean {
  let s = from;
  while (s < to) {
    let e = s;
    while (e < to && bytes[e] !== CR && bytes[e] !== LF) e++;
    const id = lineId(bytes, s, e);
    if (id === 'MSH' || id === 'FHS' || id === 'BHS') return true;
    s = e + 1;
  }
  return false;
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === CR || b === LF;
}

function splitFrames(bytes: Uint8Array, from: number): SplitResult {
  const result: SplitResult = { messages: [], batches: [], errors: [] };
  let i = from;
  while (i < bytes.length) {
    if (bytes[i] !== VT) {
      if (!isSpace(bytes[i]!)) {
        result.errors.push(hl7Error(Hl7ErrorCode.BatchStructure, `byte 0x${bytes[i]!.toString(16)} outside an MLLP frame at offset ${i} ignored`, ErrCode.SegmentSequence, { offset: i }));
        while (i < bytes.length && bytes[i] !== VT) i++;
        continue;
      }
      i++;
      continue;
    }
    let end = i + 1;
    while (end < bytes.length && bytes[end] !== FS && bytes[end] !== VT) end++;
    if (end >= bytes.length || bytes[end] === VT) {
      result.errors.push(hl7Error(Hl7ErrorCode.BatchStructure, `MLLP frame at offset ${i} has no end block`, ErrCode.SegmentSequence, { offset: i }));
    }
    const inner = splitLines(bytes, i + 1, end);
    result.messages.push(...inner.messages);
    result.batches.push(...inner.batches);
    result.errors.push(...inner.errors);
    if (inner.fileHeader !== undefined) result.fileHeader ??= inner.fileHeader;
    if (inner.fileTrailer !== undefined) result.fileTrailer ??= inner.fileTrailer;
    i = end < bytes.length && bytes[end] === FS ? end + 1 : end;
  }
  return result;
}

/** The line's 3-letter segment ID if it is followed by a separator (or ends there), else ''. */
function lineId(bytes: Uint8Array, s: number, e: number): string {
  if (e - s < 3) return '';
  for (let k = s; k < s + 3; k++) {
    const b = bytes[k]!;
    if (!((b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39))) return '';
  }
  if (e - s > 3) {
    const b = bytes[s + 3]!;
    if ((b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39)) return '';
  }
  return String.fromCharCode(bytes[s]!, bytes[s + 1]!, bytes[s + 2]!);
}

/** The first field of a trailer line (BTS-1, FTS-1) as a number, or undefined. */
function firstFieldNumber(bytes: Uint8Array, s: number, e: number): number | undefined {
  if (e - s <= 4) return undefined;
  const sep = bytes[s + 3]!;
  let k = s + 4;
  let text = '';
  while (k < e && bytes[k] !== sep) text += String.fromCharCode(bytes[k++]!);
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : undefined;
}

function splitLines(bytes: Uint8Array, from: number, to: number): SplitResult {
  const result: SplitResult = { messages: [], batches: [], errors: [] };
  let msgStart = -1;
  let msgEnd = -1;
  let batch: BatchPart | undefined;
  let strayStart = -1;
  // Messages since the last batch or file boundary that no batch holds: BHS is optional
  // (`{[BHS] {MSH…} [BTS]}`), so a BTS after them closes a batch of them.
  let loose = 0;
  const closeMessage = (): void => {
    if (msgStart < 0) return;
    result.messages.push(bytes.subarray(msgStart, msgEnd));
    if (batch !== undefined) batch.messageCount++;
    else loose++;
    msgStart = -1;
  };
  const closeBatch = (): void => {
    if (batch !== undefined) result.batches.push(batch);
    batch = undefined;
    loose = 0;
  };
  let i = from;
  while (i < to) {
    let e = i;
    while (e < to && bytes[e] !== CR && bytes[e] !== LF) e++;
    let s = i;
    if (s === from && to - s >= 3 && bytes[s] === 0xef && bytes[s + 1] === 0xbb && bytes[s + 2] === 0xbf) s += 3;
    let next = e;
    while (next < to && (bytes[next] === CR || bytes[next] === LF)) next++;
    let blank = true;
    for (let k = s; k < e; k++) if (bytes[k] !== 0x20 && bytes[k] !== 0x09) blank = false;
    if (!blank) {
      const id = lineId(bytes, s, e);
      switch (id) {
        case 'MSH':
          closeMessage();
          msgStart = s;
          msgEnd = e;
          if (batch === undefined && (result.fileHeader !== undefined || result.batches.length > 0)) batch = { messageCount: 0 };
          break;
        case 'FHS':
          closeMessage();
          closeBatch();
          if (result.fileHeader !== undefined) {
            result.errors.push(hl7Error(Hl7ErrorCode.BatchStructure, 'a second FHS segment starts a new file inside the input', ErrCode.SegmentSequence, { segment: 'FHS', offset: s }));
          }
          result.fileHeader = [s, e];
          break;
        case 'BHS':
          closeMessage();
          closeBatch();
          batch = { header: [s, e], messageCount: 0 };
          break;
        case 'BTS': {
          closeMessage();
          if (batch === undefined) {
            if (loose === 0) result.errors.push(hl7Error(Hl7ErrorCode.BatchStructure, 'BTS segment without a batch', ErrCode.SegmentSequence, { segment: 'BTS', offset: s }));
            batch = { messageCount: loose };
          }
          batch.trailer = [s, e];
          const declared = firstFieldNumber(bytes, s, e);
          if (declared !== undefined && declared !== batch.messageCount) {
            result.errors.push(hl7Error(Hl7ErrorCode.BatchCount, `BTS-1 declares ${declared} messages but the batch holds ${batch.messageCount}`, ErrCode.SegmentSequence, { segment: 'BTS', field: 1, offset: s }));
          }
          closeBatch();
          break;
        }
        case 'FTS': {
          closeMessage();
          closeBatch();
          result.fileTrailer = [s, e];
          const declared = firstFieldNumber(bytes, s, e);
          if (declared !== undefined && declared !== result.batches.length) {
            result.errors.push(hl7Error(Hl7ErrorCode.BatchCount, `FTS-1 declares ${declared} batches but the file holds ${result.batches.length}`, ErrCode.SegmentSequence, { segment: 'FTS', field: 1, offset: s }));
          }
          break;
        }
        default:
          if (msgStart >= 0) {
            msgEnd = e;
          } else if (strayStart < 0) {
            strayStart = s;
            result.errors.push(hl7Error(Hl7ErrorCode.NoHeader, `data before any MSH segment at offset ${s} ignored`, ErrCode.SegmentSequence, { offset: s }));
          }
      }
    }
    i = next;
  }
  closeMessage();
  closeBatch();
  return result;
}
