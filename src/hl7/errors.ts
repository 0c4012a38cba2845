/**
 * Parse errors of the HL7 core. They are values, never exceptions: every function that
 * reads untrusted bytes returns one of these when the input cannot be read, with a stable
 * `code`, the HL7 table 0357 error code an ACK would carry, and where it happened.
 */

/** Stable codes of HL7 parse errors. */
export const Hl7ErrorCode = {
  /** No bytes, or only whitespace. */
  Empty: 'EMPTY',
  /** The message does not begin with an MSH (or FHS/BHS) segment. */
  NoHeader: 'NO_MSH',
  /** MSH-1/MSH-2 do not declare a usable set of delimiters. */
  BadDelimiters: 'BAD_DELIMITERS',
  /** A field required to process or acknowledge the message is missing (MSH-9, MSH-10). */
  MissingField: 'MISSING_FIELD',
  /** MSH-18 names a character set that cannot be carried or decoded. */
  UnsupportedCharset: 'UNSUPPORTED_CHARSET',
  /** A batch's BTS-1 or FTS-1 count disagrees with its content, or its structure is broken. */
  BatchCount: 'BATCH_COUNT',
  /** A batch file or batch is structurally broken (e.g. a trailer without a header). */
  BatchStructure: 'BATCH_STRUCTURE',
  /** The message is larger than the parser can address (256 MiB). */
  TooLarge: 'TOO_LARGE',
  /** A field path does not follow the grammar `SEG[occ]-FIELD[rep].COMP.SUB`. */
  BadPath: 'BAD_PATH',
} as const;
export type Hl7ErrorCode = (typeof Hl7ErrorCode)[keyof typeof Hl7ErrorCode];

/** HL7 table 0357 (message error condition codes) values used by the core. */
export const ErrCode = {
  Accepted: 0,
  SegmentSequence: 100,
  RequiredFieldMissing: 101,
  DataType: 102,
  TableValueNotFound: 103,
  UnsupportedMessageType: 200,
  UnsupportedEvent: 201,
  UnsupportedProcessingId: 202,
  UnsupportedVersion: 203,
  UnknownKey: 204,
  DuplicateKey: 205,
  RecordLocked: 206,
  InternalError: 207,
} as const;
export type ErrCode = (typeof ErrCode)[keyof typeof ErrCode];

/** A parse error: what went wrong, the table 0357 code, and where (segment, field). */
export interface Hl7Error {
  code: Hl7ErrorCode;
  message: string;
  /** HL7 table 0357 code an ACK's ERR-3 should carry. */
  errCode: number;
  /** Segment ID where the error was found, e.g. `MSH`. */
  segment?: string;
  /** 1-based field number within `segment`. */
  field?: number;
  /** Byte offset in the input where the error was found. */
  offset?: number;
}

/** Builds an {@link Hl7Error}. */
export function hl7Error(
  code: Hl7ErrorCode,
  message: string,
  errCode: number,
  where: { segment?: string; field?: number; offset?: number } = {},
): Hl7Error {
  return { code, message, errCode, ...where };
}
