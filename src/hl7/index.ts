/**
 * The HL7 v2 core: pure code, no I/O, shared by the listener, the converter workers, the CLI,
 * tests and benchmarks.
 */
export { Hl7Message, Presence, ParseWarning, parseMessage, isHl7Error, type ParseOptions } from './message.js';
export { type FieldPath, compilePath, path, packSegmentId, isFieldPath } from './path.js';
export { type Delimiters, DEFAULT_DELIMITERS, Render, escapeValue } from './escape.js';
export { type Charset, type CharsetResolution, UTF8, ASCII, WINDOWS_1252, resolveCharset } from './charset.js';
export { type Hl7Error, Hl7ErrorCode, ErrCode, hl7Error } from './errors.js';
export { type MessageHeader, type HeaderResult, AckMode, readHeader, messageStructureOf } from './header.js';
export { AckCode, AckTypeForm, type AckError, type AckOptions, buildAck, acceptAckWanted, formatTimestamp } from './ack.js';
export { type SplitResult, type BatchPart, splitMessages } from './batch.js';
export { type JsonValue, type JsonSegment, messageToJson } from './json.js';
export { type Hl7Time, Hl7TimePrecision, parseHl7Time, hl7TimeToIso, hl7TimeToEpochMs, hl7DateOnly, systemTimeZone } from './datetime.js';
