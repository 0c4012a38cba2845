/**
 * Character sets of HL7 v2 (MSH-18, table 0211) mapped to decoders (DOMAIN.md §2.6).
 *
 * - Single-byte sets and UTF-8 never put a byte below 0x80 inside a multi-byte character, so
 *   the tokenizer can split on ASCII delimiters first and decode each field afterwards.
 * - Shift_JIS, Big5, GBK/GB18030 and ISO-2022-JP can carry `\`, `|`, `^`, `~` or `&` as the
 *   trail byte of a character: those messages are decoded whole first and then tokenised
 *   (`transcode: true`), so a character is never split at a delimiter byte.
 * - An empty or unknown MSH-18 uses the configured default (UTF-8 unless configured; ASCII is
 *   a subset of it). When strict decoding fails, the message is decoded as windows-1252 and
 *   flagged, the usual truth of an empty MSH-18 with high bytes.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import { TextDecoder } from 'node:util';

/**
 * A Buffer with Node's internal single-encoding slicers, which skip the encoding-name lookup
 * of `toString` (they exist on every Buffer; @types/node does not declare them).
 */
export type SliceBuffer = Buffer & {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
};

/** A resolved character set. */
export interface Charset {
  /** The HL7 name (table 0211) this resolves to, e.g. `UNICODE UTF-8`, `8859/1`. */
  readonly name: string;
  /** The decoder label: `ascii`, `utf-8`, `latin1`, or a WHATWG encoding label. */
  readonly encoding: string;
  /** True when the message must be decoded whole before it is tokenised. */
  readonly transcode: boolean;
  /** The DICOM Specific Character Set (0008,0005) term, `''` for the default repertoire. */
  readonly dicom: string | undefined;
}

function cs(name: string, encoding: string, dicom: string | undefined, transcode = false): Charset {
  return Object.freeze({ name, encoding, transcode, dicom });
}

/** UTF-8: `UNICODE UTF-8`, also used for the legacy `UNICODE` (as HAPI and dcm4che do). */
export const UTF8: Charset = cs('UNICODE UTF-8', 'utf-8', 'ISO_IR 192');
/** 7-bit ASCII, the standard's meaning of an empty MSH-18. */
export const ASCII: Charset = cs('ASCII', 'ascii', '');
/** windows-1252, the fallback when strict decoding fails. */
export const WINDOWS_1252: Charset = cs('WINDOWS-1252', 'windows-1252', undefined);

const TABLE = new Map<string, Charset>();
function add(keys: string[], charset: Charset): void {
  for (const key of keys) TABLE.set(key, charset);
}
add(['ASCII', 'US-ASCII', 'ISO IR6', 'ISO_IR 6'], ASCII);
add(['UNICODE UTF-8', 'UNICODE', 'UTF-8', 'UTF8', 'ISO_IR 192'], UTF8);
add(['8859/1', 'ISO-8859-1', 'ISO8859-1', 'LATIN1', 'ISO_IR 100'], cs('8859/1', 'latin1', 'ISO_IR 100'));
const ISO8859: Array<[number, string]> = [
  [2, 'ISO_IR 101'], [3, 'ISO_IR 109'], [4, 'ISO_IR 110'], [5, 'ISO_IR 144'], [6, 'ISO_IR 127'],
  [7, 'ISO_IR 126'], [8, 'ISO_IR 138'], [9, 'ISO_IR 148'], [15, 'ISO_IR 203'],
];
for (const [n, dicom] of ISO8859) {
  add([`8859/${n}`, `ISO-8859-${n}`, `ISO8859-${n}`, dicom], cs(`8859/${n}`, `iso-8859-${n}`, dicom));
}
add(['ISO IR14', 'ISO_IR 13'], cs('ISO IR14', 'shift_jis', 'ISO_IR 13', true));
add(['ISO IR87', 'ISO-2022-JP', 'ISO 2022 IR 87'], cs('ISO IR87', 'iso-2022-jp', 'ISO 2022 IR 87', true));
add(['SHIFT_JIS', 'SHIFT-JIS', 'SJIS'], cs('SHIFT_JIS', 'shift_jis', undefined, true));
add(['EUC-JP'], cs('EUC-JP', 'euc-jp', undefined));
add(['GB 18030-2000', 'GB18030', 'GB 18030'], cs('GB 18030-2000', 'gb18030', 'GB18030', true));
add(['GBK', 'GB2312'], cs('GBK', 'gbk', 'GBK', true));
add(['KS X 1001', 'EUC-KR', 'ISO 2022 IR 149'], cs('KS X 1001', 'euc-kr', 'ISO 2022 IR 149'));
add(['BIG-5', 'BIG5'], cs('BIG-5', 'big5', undefined, true));
add(['WINDOWS-1252', 'CP1252'], WINDOWS_1252);

/** The outcome of resolving MSH-18: the charset to use, and whether the name was unknown. */
export interface CharsetResolution {
  charset: Charset;
  /** True when MSH-18 was valued but not understood (or cannot be carried, e.g. UTF-16). */
  unknown: boolean;
}

/**
 * Maps an MSH-18 value (first repetition) to a charset. Empty uses `fallback`; an unknown
 * or uncarriable name (`UNICODE UTF-16`, `CNS 11643-1992`, `ISO IR159`) uses `fallback` too
 * and says so.
 */
export function resolveCharset(msh18: string, fallback: Charset = UTF8): CharsetResolution {
  const key = msh18.trim().toUpperCase();
  if (key === '') return { charset: fallback, unknown: false };
  const found = TABLE.get(key) ?? TABLE.get(key.replace(/_/g, ' '));
  return found === undefined ? { charset: fallback, unknown: true } : { charset: found, unknown: false };
}

const decoders = new Map<string, TextDecoder>();
const fatalDecoders = new Map<string, TextDecoder>();

function decoderFor(encoding: string, fatal: boolean): TextDecoder {
  const cache = fatal ? fatalDecoders : decoders;
  let decoder = cache.get(encoding);
  if (decoder === undefined) {
    decoder = new TextDecoder(encoding, { fatal });
    cache.set(encoding, decoder);
  }
  return decoder;
}

/**
 * Whether `bytes` decode strictly in `charset`: ASCII holds only 7-bit bytes, UTF-8 is well
 * formed, and other sets have no byte sequence without a mapping. Single-byte Latin-1 always
 * decodes.
 */
export function decodesStrictly(bytes: Uint8Array, charset: Charset): boolean {
  switch (charset.encoding) {
    case 'ascii':
      return isAscii(bytes);
    case 'utf-8':
      return isUtf8(bytes);
    case 'latin1':
      return true;
    default:
      if (charset.encoding.startsWith('iso-8859-')) return true;
      try {
        decoderFor(charset.encoding, true).decode(bytes);
        return true;
      } catch {
        return false;
      }
  }
}

/**
 * Decodes `bytes[start, end)` in `charset`. ASCII and Latin-1 decode byte for byte; UTF-8
 * with Node's decoder; the rest with the WHATWG decoder of Node's ICU.
 */
export function decodeRange(bytes: SliceBuffer, start: number, end: number, charset: Charset): string {
  switch (charset.encoding) {
    case 'ascii':
    case 'latin1':
      return bytes.latin1Slice(start, end);
    case 'utf-8':
      return bytes.utf8Slice(start, end);
    case 'windows-1252':
      return decodeWindows1252(bytes, start, end);
    default:
      return decoderFor(charset.encoding, false).decode(bytes.subarray(start, end));
  }
}

/** windows-1252 code points of bytes 0x80-0x9F (undefined bytes keep their C1 code point). */
const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

/**
 * windows-1252, decoded here because Node 20's TextDecoder reads the label as ISO-8859-1
 * (fixed in later Node versions): Latin-1 plus the 0x80-0x9F punctuation and letters.
 */
function decodeWindows1252(bytes: SliceBuffer, start: number, end: number): string {
  const text = bytes.latin1Slice(start, end);
  return /[\x80-\x9f]/.test(text) ? text.replace(/[\x80-\x9f]/g, (ch) => String.fromCharCode(CP1252_HIGH[ch.charCodeAt(0) - 0x80]!)) : text;
}

/** Decodes a whole message in a `transcode` charset to a string, or undefined if strict decoding fails. */
export function decodeWhole(bytes: Uint8Array, charset: Charset): string | undefined {
  try {
    return decoderFor(charset.encoding, true).decode(bytes);
  } catch {
    return undefined;
  }
}
