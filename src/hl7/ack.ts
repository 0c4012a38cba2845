/**
 * Building acknowledgements (DOMAIN.md §3.2): same delimiters as the inbound message,
 * MSH-3/4 and MSH-5/6 swapped with whole HDs copied, a new MSH-7 and MSH-10,
 * MSH-9 `ACK^<trigger>^ACK`, MSH-11/12/18 copied, MSA-2 = inbound MSH-10 verbatim, MSA-3
 * text, and an ERR segment in v2.5 form (ERR-1 form for v2.1 to v2.4).
 */
import { type MessageHeader, AckMode } from './header.js';
import { type Delimiters, escapeValue } from './escape.js';

/** Acknowledgement codes: original mode AA/AE/AR, enhanced mode accept acks CA/CE/CR. */
export const AckCode = { AA: 'AA', AE: 'AE', AR: 'AR', CA: 'CA', CE: 'CE', CR: 'CR' } as const;
export type AckCode = (typeof AckCode)[keyof typeof AckCode];

/** Forms of the ACK's MSH-9 that senders insist on (DOMAIN.md §6 quirk 25). */
export const AckTypeForm = {
  /** `ACK^A01^ACK` (dcm4che; default). */
  Full: 'full',
  /** `ACK^A01`. */
  Trigger: 'trigger',
  /** `ACK`. */
  Bare: 'bare',
} as const;
export type AckTypeForm = (typeof AckTypeForm)[keyof typeof AckTypeForm];

/** An ERR segment's content. */
export interface AckError {
  /** HL7 table 0357 code (ERR-3, or ERR-1.4 before v2.5). */
  errCode: number;
  /** Text of the code; defaults to table 0357's wording. */
  text?: string;
  /** ERR-4 severity. Default `E`. */
  severity?: 'E' | 'W' | 'I';
  /** Error location: segment ID, its 1-based sequence in the message (default 1), field. */
  segment?: string;
  sequence?: number;
  field?: number;
  /** A readable explanation for the sender's staff (ERR-8 user message; ERR-1 text before v2.5). */
  diagnostics?: string;
}

/** What {@link buildAck} needs. */
export interface AckOptions {
  /** The inbound header from readHeader; partial or undefined when the MSH could not be read. */
  header: Partial<MessageHeader> | undefined;
  code: AckCode;
  /** The ACK's own MSH-10. */
  controlId: string;
  /** MSH-7, epoch milliseconds. */
  time: number;
  /** MSA-3 text (at most 80 characters are sent). */
  text?: string;
  error?: AckError;
  /** MSH-9 form. Default `full`. */
  typeForm?: AckTypeForm;
  /** MSH-3/MSH-4 used when the inbound MSH-5/MSH-6 are empty. Default `PACSLINK` and `''`. */
  application?: string;
  facility?: string;
  /** Offset of MSH-7 from UTC in minutes. Default: the system time zone's at `time`. */
  utcOffsetMinutes?: number;
}

const ERR_TEXT: Record<number, string> = {
  0: 'Message accepted',
  100: 'Segment sequence error',
  101: 'Required field missing',
  102: 'Data type error',
  103: 'Table value not found',
  200: 'Unsupported message type',
  201: 'Unsupported event code',
  202: 'Unsupported processing id',
  203: 'Unsupported version id',
  204: 'Unknown key identifier',
  205: 'Duplicate key identifier',
  206: 'Application record locked',
  207: 'Application internal error',
};

/**
 * Builds an ACK message (payload only, without MLLP framing), segments ending with CR.
 * Copied header fields keep their exact bytes; texts we add are escaped and written in
 * UTF-8 when the message is UTF-8, else with non-ASCII characters replaced by `?`.
 */
export function buildAck(options: AckOptions): Uint8Array {
  const h = options.header ?? {};
  const fs = h.fieldSeparator !== undefined && h.fieldSeparator.length === 1 ? h.fieldSeparator : '|';
  const enc = h.encodingCharacters !== undefined && h.encodingCharacters.length >= 4 ? h.encodingCharacters : '^~\\&';
  const d: Delimiters = {
    field: fs,
    component: enc[0]!,
    repetition: enc[1]!,
    escape: enc[2]!,
    subcomponent: enc[3]!,
    truncation: enc[4] ?? '',
  };
  const utf8 = isUtf8Charset(h.charset ?? '');
  const text = (value: string): string => toWire(escapeControls(escapeValue(value, d), d.escape), utf8);
  const trigger = h.triggerEvent ?? '';
  const form = options.typeForm ?? AckTypeForm.Full;
  const type = trigger === '' || form === AckTypeForm.Bare ? 'ACK' : form === AckTypeForm.Trigger ? `ACK${d.component}${trigger}` : `ACK${d.component}${trigger}${d.component}ACK`;
  const msh = trimTrailing([
    'MSH',
    enc,
    nonEmpty(h.receivingApplication, text(options.application ?? 'PACSLINK')),
    nonEmpty(h.receivingFacility, text(options.facility ?? '')),
    h.sendingApplication ?? '',
    h.sendingFacility ?? '',
    formatTimestamp(options.time, options.utcOffsetMinutes),
    '',
    type,
    text(options.controlId),
    h.processingIdRaw ?? '',
    h.versionRaw ?? '',
    '', '', '', '', '',
    h.charsetRaw ?? '',
  ]).join(fs);
  const msa = trimTrailing(['MSA', options.code, h.controlId ?? '', text(cut(options.text ?? '', 80))]).join(fs);
  let out = `${msh}\r${msa}\r`;
  if (options.error !== undefined) out += `${errSegment(options.error, h.version ?? '', d, text)}\r`;
  return Buffer.from(out, 'latin1');
}

function errSegment(e: AckError, version: string, d: Delimiters, text: (v: string) => string): string {
  const codeText = text(e.text ?? ERR_TEXT[e.errCode] ?? 'Error');
  const seg = e.segment ?? '';
  const seq = seg === '' ? '' : String(e.sequence ?? 1);
  const field = e.field === undefined ? '' : String(e.field);
  if (isBeforeV25(version)) {
    // ERR-1 ELD: segment ID ^ sequence ^ field position ^ code (CE: id & text & table).
    const code = [String(e.errCode), codeText, 'HL70357'].join(d.subcomponent);
    const eld = trimTrailing([seg, seq, field, code]).join(d.component);
    return `ERR${d.field}${eld}`;
  }
  const erl = trimTrailing([seg, seq, field]).join(d.component);
  const code = [String(e.errCode), codeText, 'HL70357'].join(d.component);
  return trimTrailing(['ERR', '', erl, code, e.severity ?? 'E', '', '', '', text(e.diagnostics ?? '')]).join(d.field);
}

function isBeforeV25(version: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version.trim());
  if (m === null) return false;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  return major < 2 || (major === 2 && minor < 5);
}

function isUtf8Charset(msh18: string): boolean {
  const v = msh18.trim().toUpperCase();
  return v === '' || v === 'UNICODE UTF-8' || v === 'UNICODE' || v === 'UTF-8' || v === 'UTF8';
}

/**
 * Writes the other C0 controls as `\Xhh\` too: a 0x0B or 0x1C in our text (an error message
 * quoting the input) would otherwise break the MLLP framing of the ACK.
 */
function escapeControls(value: string, e: string): string {
  return value.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, (ch) => `${e}X${ch.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}${e}`);
}

/** The first `max` UTF-16 units of `value`, without splitting a surrogate pair. */
function cut(value: string, max: number): string {
  if (value.length <= max) return value;
  const last = value.charCodeAt(max - 1);
  return value.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}

function toWire(value: string, utf8: boolean): string {
  if (/^[\x00-\x7f]*$/.test(value)) return value;
  return utf8 ? Buffer.from(value, 'utf8').toString('latin1') : value.replace(/[^\x00-\x7f]/g, '?');
}

function nonEmpty(value: string | undefined, fallback: string): string {
  return value === undefined || value === '' ? fallback : value;
}

function trimTrailing(fields: string[]): string[] {
  let n = fields.length;
  while (n > 1 && fields[n - 1] === '') n--;
  return fields.slice(0, n);
}

/**
 * Formats an HL7 TS `YYYYMMDDHHMMSS.SSS±ZZZZ` for epoch milliseconds, in the system time zone
 * or at a fixed offset from UTC (minutes).
 */
export function formatTimestamp(time: number, utcOffsetMinutes?: number): string {
  const offset = utcOffsetMinutes ?? -new Date(time).getTimezoneOffset();
  const t = new Date(time + offset * 60_000);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${t.getUTCFullYear()}${p(t.getUTCMonth() + 1)}${p(t.getUTCDate())}${p(t.getUTCHours())}${p(t.getUTCMinutes())}${p(t.getUTCSeconds())}.${p(t.getUTCMilliseconds(), 3)}${sign}${p(Math.floor(abs / 60))}${p(abs % 60)}`;
}

/**
 * Whether an enhanced-mode sender wants an accept acknowledgement for this outcome
 * (MSH-15, table 0155): AL always, NE never, ER only on error, SU only on success. An empty
 * MSH-15 in enhanced mode is taken as AL. Original mode always gets an acknowledgement.
 */
export function acceptAckWanted(header: Pick<MessageHeader, 'ackMode' | 'acceptAckType'>, success: boolean): boolean {
  if (header.ackMode === AckMode.Original) return true;
  switch (header.acceptAckType) {
    case 'NE':
      return false;
    case 'ER':
      return !success;
    case 'SU':
      return success;
    default:
      return true;
  }
}
