/**
 * What the mapping functions produce and the applier consumes: change records.
 *
 * Mapping (src/converter/map/*.ts) is pure: one parsed message in, a {@link MappingResult}
 * out, no repository access. Everything that depends on stored state (does this patient
 * exist? is the merge source already merged? is this event older than what we hold?) is
 * decided by the applier (src/repository/apply.ts) inside the write transaction. Results
 * cross the worker boundary by structured clone, so they are plain data.
 *
 * Update values follow HL7's null semantics (v2.5 §2.5.3, DOMAIN.md §2.5), written
 * {@link Upd}: `undefined` (the property is absent) = no information, keep the stored value;
 * `null` = the HL7 null `""`, delete the stored value; a value = replace. A repeating field
 * that is present is a full snapshot that replaces the stored list.
 */
import type { Address, Coded, Identifier, Location, OrderStatus, PersonName, ReportStatus } from '../repository/model.js';

/** An update of one value: absent = keep, null = delete, value = replace. */
export type Upd<T> = T | null | undefined;

/** What a PID segment says about a patient. */
export interface PatientData {
  /** PID-3, the whole list (a snapshot), normalised; at least one entry for a usable patient. */
  identifiers: Identifier[];
  name?: Upd<PersonName>;
  birthDate?: Upd<string>;
  sex?: Upd<string>;
  address?: Upd<Address>;
  phone?: Upd<string>;
  accountNumber?: Upd<string>;
  /** ISO 8601. */
  deathTime?: Upd<string>;
}

/** What a PV1 segment says about a visit. */
export interface VisitData {
  visitNumber?: Upd<string>;
  patientClass?: Upd<string>;
  location?: Upd<Location>;
  priorLocation?: Upd<Location>;
  attendingDoctor?: Upd<string>;
  referringDoctor?: Upd<string>;
  /** ISO 8601. */
  admitTime?: Upd<string>;
  dischargeTime?: Upd<string>;
}

/** ADT visit events (DOMAIN.md §4.2), applied to the visit named by PV1-19 (or the patient's current visit). */
export const VisitEvent = {
  Admit: 'admit', // A01
  Register: 'register', // A04
  PreAdmit: 'pre-admit', // A05
  Update: 'update', // A08 (and A31 with a real PV1)
  Transfer: 'transfer', // A02
  Discharge: 'discharge', // A03
  ClassChange: 'class-change', // A06, A07
  CancelAdmit: 'cancel-admit', // A11: void the visit, the patient stays
  CancelTransfer: 'cancel-transfer', // A12: restore the prior location
  CancelDischarge: 'cancel-discharge', // A13: reopen the visit
} as const;
export type VisitEvent = (typeof VisitEvent)[keyof typeof VisitEvent];

/** What an ORC/OBR (+ZDS, TQ1, IPC) group says about one requested procedure. */
export interface OrderData {
  accession?: Upd<string>;
  placerOrderNumber?: Upd<string>;
  fillerOrderNumber?: Upd<string>;
  requestedProcedureId?: Upd<string>;
  scheduledProcedureStepId?: Upd<string>;
  studyInstanceUid?: Upd<string>;
  /** ISO 8601. */
  scheduledAt?: Upd<string>;
  modality?: Upd<string>;
  procedure?: Upd<Coded>;
  procedureCode?: Upd<Coded>;
  bodyPart?: Upd<string>;
  priority?: Upd<string>;
  orderingProvider?: Upd<string>;
  stationAeTitle?: Upd<string>;
}

/** What an ORU OBR group (or an MDM TXA) says about one report version. */
export interface ReportData {
  accession?: string;
  placerOrderNumber?: string;
  fillerOrderNumber?: string;
  studyInstanceUid?: string;
  /** The status of this version (OBR-25 / OBX-11 precedence resolved by the mapper). */
  status: ReportStatus;
  /** ISO 8601. */
  time?: string;
  author?: string;
  /** The text assembled from every OBX in order (TX/FT/ST/CE), FT formatting rendered. */
  text: string;
  /** Embedded documents (OBX ED): base64-decoded by the applier from `dataBase64`. */
  attachments: Array<{ contentType: string; dataBase64: string }>;
}

/** What an MDM TXA says about a document. */
export interface DocumentData extends ReportData {
  documentType: string;
  /** TXA-12 unique document number (the version key). */
  documentNumber: string;
  /** TXA-13 parent document number (addendum / replacement). */
  parentDocument?: string;
  /** TXA-17 completion status. */
  completionStatus?: string;
  /** TXA-19 availability status. */
  availability?: string;
}

/** What an SIU SCH (+AIS/AIL/AIP) says about an appointment for an order. */
export interface AppointmentData {
  placerAppointmentId?: string;
  fillerAppointmentId?: string;
  placerOrderNumber?: string;
  fillerOrderNumber?: string;
  accession?: string;
  /** ISO 8601 (SCH-11.4 or AIS/AIL start). */
  scheduledAt?: Upd<string>;
  modality?: Upd<string>;
  procedure?: Upd<Coded>;
  /** SCH-25 filler status code. */
  fillerStatus?: string;
}

/** One change record. */
export type Change =
  /** A01/A04/A05/A08/A28/A31…: upsert the patient (and its visit when `visit` is given). */
  | { op: 'patient.upsert'; patient: PatientData; visit?: { event: VisitEvent; data: VisitData } }
  /** A40/A34 (and each {PID, MRG} group of an A40): merge `source` into `target`. */
  | { op: 'patient.merge'; target: PatientData; source: Identifier[]; priorName?: PersonName; trigger: string }
  /** A35: move the account `sourceAccount` to the target patient (no patient merge). */
  | { op: 'account.move'; target: PatientData; sourceAccount: string }
  /** A47: relabel `source` as the identifiers of `patient` on the same patient. */
  | { op: 'patient.change-id'; patient: PatientData; source: Identifier[] }
  /** A24 / A37: add or remove a cross-reference between two patients; no data moves. */
  | { op: 'patient.link' | 'patient.unlink'; a: PatientData; b: PatientData }
  /** ORM^O01 / OMI^O23 group, status resolved from ORC-1 × ORC-5 by the mapper. */
  | { op: 'order.upsert'; patient?: PatientData; visit?: VisitData; order: OrderData; status: OrderStatus; control: string; orderStatus: string }
  /** SIU^S12–S15. */
  | { op: 'schedule.upsert'; patient?: PatientData; appointment: AppointmentData; event: 'booked' | 'rescheduled' | 'modified' | 'cancelled' }
  /** ORU^R01 OBR group. */
  | { op: 'report.upsert'; patient?: PatientData; report: ReportData }
  /** MDM^T02/T04/T06/T08/T10/T11. */
  | { op: 'document.upsert'; patient?: PatientData; document: DocumentData; trigger: string };

/** Facts about the message every change shares. */
export interface MessageContext {
  /** MSH-9.1 and MSH-9.2. */
  messageCode: string;
  triggerEvent: string;
  /** MSH-3^MSH-4 wire form: the sender, for per-sender options. */
  sender: string;
  controlId: string;
  /** The event's time, epoch ms: EVN-2 (recorded), else EVN-6, else MSH-7; undefined if none parses. */
  eventTime?: number;
  /** MSH-7, epoch ms. */
  messageTime?: number;
}

/**
 * The outcome of mapping one message (expected outcomes are values, STYLE.md):
 * `changes` (possibly empty for a message deliberately ignored, which is still AA),
 * or `error`: the message cannot be converted and goes to the dead-letter table.
 */
export type MappingResult =
  | { kind: 'changes'; context: MessageContext; changes: Change[]; ignored?: string }
  | { kind: 'error'; error: ConversionError };

/** Why a message could not be converted: stable code, HL7 table 0357 code, location, readable reason. */
export interface ConversionError {
  /** Stable code, e.g. `PARSE`, `MISSING_FIELD`, `UNKNOWN_ORDER_CONTROL`, `MERGE_CONFLICT`. */
  code: string;
  /** HL7 table 0357 code for an AE's ERR-3 (101, 102, 103, 204, 205, 207, ...). */
  errCode: number;
  message: string;
  segment?: string;
  field?: number;
}

/** Stable conversion error codes. */
export const ConversionErrorCode = {
  Parse: 'PARSE',
  MissingField: 'MISSING_FIELD',
  BadValue: 'BAD_VALUE',
  UnsupportedMessage: 'UNSUPPORTED_MESSAGE',
  UnknownOrderControl: 'UNKNOWN_ORDER_CONTROL',
  UnknownPatient: 'UNKNOWN_PATIENT',
  MergeConflict: 'MERGE_CONFLICT',
  IdentifierConflict: 'IDENTIFIER_CONFLICT',
  Internal: 'INTERNAL',
} as const;
