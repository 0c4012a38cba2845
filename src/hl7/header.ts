/**
 * Reading the message header (MSH) only: what a listener needs to store, deduplicate and
 * acknowledge a message without interpreting it (ARCHITECTURE.md stage 1, DOMAIN.md §3).
 */
import { ErrCode, type Hl7Error, Hl7ErrorCode, hl7Error } from './errors.js';
import { Hl7Message, type ParseOptions } from './message.js';

/**
 * The MSH fields that acknowledgement, routing and duplicate detection use. Fields said to be
 * in wire form are byte strings (one character per byte, escapes kept), so that an ACK can
 * copy them back byte for byte; the others are decoded.
 */
export interface MessageHeader {
  /** MSH-1. */
  fieldSeparator: string;
  /** MSH-2, verbatim. */
  encodingCharacters: string;
  /** MSH-3, wire form (a whole HD). */
  sendingApplication: string;
  /** MSH-4, wire form. */
  sendingFacility: string;
  /** MSH-5, wire form. */
  receivingApplication: string;
  /** MSH-6, wire form. */
  receivingFacility: string;
  /** MSH-9, wire form (e.g. `ADT^A01^ADT_A01`). */
  messageType: string;
  /** MSH-9.1, e.g. `ADT`. */
  messageCode: string;
  /** MSH-9.2, e.g. `A01`. */
  triggerEvent: string;
  /** MSH-9.3, e.g. `ADT_A01`; `''` when the sender left it out. */
  messageStructure: string;
  /** MSH-10, wire form, verbatim (MSA-2 of the ACK). */
  controlId: string;
  /** MSH-11.1, e.g. `P`. */
  processingId: string;
  /** MSH-11, wire form. */
  processingIdRaw: string;
  /** MSH-12.1, e.g. `2.5.1`. */
  version: string;
  /** MSH-12, wire form. */
  versionRaw: string;
  /** MSH-15 accept acknowledgement type (`AL`, `NE`, `ER`, `SU` or `''`). */
  acceptAckType: string;
  /** MSH-16 application acknowledgement type. */
  applicationAckType: string;
  /** MSH-18 first repetition, trimmed. */
  charset: string;
  /** MSH-18, wire form (copied into the ACK). */
  charsetRaw: string;
  /** Original mode when MSH-15 and MSH-16 are both empty, else enhanced (DOMAIN.md §3.1). */
  ackMode: AckMode;
}

/** Acknowledgement modes (DOMAIN.md §3.1). */
export const AckMode = { Original: 'original', Enhanced: 'enhanced' } as const;
export type AckMode = (typeof AckMode)[keyof typeof AckMode];

/** The outcome of {@link readHeader}: the header, or an error with what could be read. */
export type HeaderResult =
  | { ok: true; header: MessageHeader }
  | { ok: false; error: Hl7Error; header?: Partial<MessageHeader> };

const shared = new Hl7Message();

/**
 * Reads the MSH segment of a message (only the first line is tokenised). Fails with an
 * error value when there is no usable MSH, or when MSH-9 or MSH-10 is missing (table 0357
 * code 101, with the field), keeping what could be read so that an AR can still be built.
 */
export function readHeader(bytes: Uint8Array, options?: Omit<ParseOptions, 'headerOnly'>): HeaderResult {
  const msg = shared;
  const error = msg.parse(bytes, { ...options, headerOnly: true });
  if (error !== undefined) return { ok: false, error };
  if (msg.segmentName(0) !== 'MSH') {
    return { ok: false, error: hl7Error(Hl7ErrorCode.NoHeader, `expected an MSH segment, found ${msg.segmentName(0)}`, ErrCode.SegmentSequence, { segment: 'MSH' }) };
  }
  const wire = (field: number): string => msg.wireAt(0, field);
  const comp = (field: number, c: number): string => msg.value(0, field, 1, c, 0);
  const d = msg.delimiters;
  const acceptAckType = comp(15, 0).trim().toUpperCase();
  const applicationAckType = comp(16, 0).trim().toUpperCase();
  const header: MessageHeader = {
    fieldSeparator: d.field,
    encodingCharacters: wire(2),
    sendingApplication: wire(3),
    sendingFacility: wire(4),
    receivingApplication: wire(5),
    receivingFacility: wire(6),
    messageType: wire(9),
    messageCode: comp(9, 1).trim(),
    triggerEvent: comp(9, 2).trim(),
    messageStructure: comp(9, 3).trim(),
    controlId: wire(10),
    processingId: comp(11, 1).trim(),
    processingIdRaw: wire(11),
    version: comp(12, 1).trim(),
    versionRaw: wire(12),
    acceptAckType,
    applicationAckType,
    charset: msg.value(0, 18, 1, 0, 0).trim(),
    charsetRaw: wire(18),
    ackMode: acceptAckType === '' && applicationAckType === '' ? AckMode.Original : AckMode.Enhanced,
  };
  if (header.messageCode === '') {
    return { ok: false, header, error: hl7Error(Hl7ErrorCode.MissingField, 'MSH-9 (message type) is missing', ErrCode.RequiredFieldMissing, { segment: 'MSH', field: 9 }) };
  }
  if (header.controlId === '') {
    return { ok: false, header, error: hl7Error(Hl7ErrorCode.MissingField, 'MSH-10 (message control ID) is missing', ErrCode.RequiredFieldMissing, { segment: 'MSH', field: 10 }) };
  }
  return { ok: true, header };
}

/**
 * Message structure for an MSH-9 that omits it (DOMAIN.md §6 quirk 8), from HAPI's v2.5.1
 * event map for the events pacslink handles; `''` when unknown.
 */
export function messageStructureOf(messageCode: string, triggerEvent: string, declared = ''): string {
  if (declared !== '') return declared;
  const key = `${messageCode}^${triggerEvent}`;
  return STRUCTURES[key] ?? (messageCode === '' || triggerEvent === '' ? '' : `${messageCode}_${triggerEvent}`);
}

const STRUCTURES: Record<string, string> = {
  'ADT^A01': 'ADT_A01', 'ADT^A04': 'ADT_A01', 'ADT^A08': 'ADT_A01', 'ADT^A13': 'ADT_A01',
  'ADT^A02': 'ADT_A02', 'ADT^A03': 'ADT_A03', 'ADT^A05': 'ADT_A05', 'ADT^A14': 'ADT_A05',
  'ADT^A28': 'ADT_A05', 'ADT^A31': 'ADT_A05', 'ADT^A06': 'ADT_A06', 'ADT^A07': 'ADT_A06',
  'ADT^A09': 'ADT_A09', 'ADT^A10': 'ADT_A09', 'ADT^A11': 'ADT_A09', 'ADT^A12': 'ADT_A12',
  'ADT^A24': 'ADT_A24', 'ADT^A34': 'ADT_A30', 'ADT^A35': 'ADT_A30', 'ADT^A47': 'ADT_A30',
  'ADT^A37': 'ADT_A37', 'ADT^A38': 'ADT_A38', 'ADT^A39': 'ADT_A39', 'ADT^A40': 'ADT_A39',
  'ADT^A41': 'ADT_A39', 'ADT^A42': 'ADT_A39',
  'ORM^O01': 'ORM_O01', 'OMI^O23': 'OMI_O23', 'OMG^O19': 'OMG_O19', 'ORU^R01': 'ORU_R01',
  'SIU^S12': 'SIU_S12', 'SIU^S13': 'SIU_S12', 'SIU^S14': 'SIU_S12', 'SIU^S15': 'SIU_S12',
  'MDM^T02': 'MDM_T02', 'MDM^T04': 'MDM_T02', 'MDM^T06': 'MDM_T02', 'MDM^T08': 'MDM_T02',
  'MDM^T10': 'MDM_T02', 'MDM^T11': 'MDM_T01',
};
