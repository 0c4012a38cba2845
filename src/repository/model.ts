/**
 * The repository's entities as stored and as served (INTERFACE.md "Core shapes"; JSON is
 * camelCase, times ISO 8601 with an offset, identifiers always with their authority).
 *
 * Values are encoded with msgpackr in LMDB named databases (src/repository/store.ts). Keys:
 * patient `P<n>`, visit `V<n>`, order `O<n>`, report `R<n>`, attachment `A<n>` — opaque,
 * stable strings allocated by the applier, never reused (a merged patient's key stays as a
 * tombstone that points at its survivor).
 */

/**
 * A patient identifier (CX) normalised one way (src/repository/identity.ts): `id` trimmed;
 * `authority` the assigning authority's namespace ID (HD-1) when present, else its universal
 * ID (HD-2); the universal ID and its type kept beside it; `type` the CX-5 identifier type.
 */
export interface Identifier {
  id: string;
  /** Namespace ID, or the universal ID when the sender gave no namespace. `''` when CX-4 is empty. */
  authority: string;
  /** HD-2 universal ID (e.g. an OID), `''` when absent. */
  authorityUid: string;
  /** HD-3 universal ID type (e.g. `ISO`), `''` when absent. */
  authorityUidType: string;
  /** CX-5 identifier type code (`MR`, `PI`, `AN`, ...), `''` when absent. */
  type: string;
}

/** A person name (XPN) in HL7 component order; DICOM PN order is derived at the edges. */
export interface PersonName {
  family: string;
  given: string;
  middle: string;
  suffix: string;
  prefix: string;
  degree?: string;
  /** XPN-7 name type (`L` legal, ...). */
  type?: string;
}

/** A postal address (XAD, the first one of PID-11). */
export interface Address {
  street: string;
  other: string;
  city: string;
  state: string;
  postalCode: string;
  country: string;
}

/** A patient as stored and served. */
export interface Patient {
  key: string;
  identifiers: Identifier[];
  name: PersonName | null;
  /** HL7 date (`YYYYMMDD`) as sent, or null. */
  birthDate: string | null;
  /** PID-8 as sent (F/M/O/U/A/N), or null. */
  sex: string | null;
  address: Address | null;
  phone: string | null;
  /** PID-18 patient account number. */
  accountNumber: string | null;
  /** PID-29 death time, ISO 8601, or null. */
  deathTime: string | null;
  /** Set on a merged (absorbed) patient: the key of the patient it was merged into. */
  mergedInto?: string;
  /** Keys of patients cross-referenced by A24 (removed by A37). */
  links: string[];
  /** Event time (ISO) of the newest event applied to the demographics (out-of-order guard). */
  updatedAt: string | null;
  /** Inbound seq of the message that created it. */
  createdBySeq: number;
  /** Inbound seq of the last message that changed it. */
  updatedBySeq: number;
}

/** Visit states. */
export const VisitStatus = { Pending: 'pending', Open: 'open', Closed: 'closed', Cancelled: 'cancelled' } as const;
export type VisitStatus = (typeof VisitStatus)[keyof typeof VisitStatus];

/** A patient location (PL). */
export interface Location {
  pointOfCare: string;
  room: string;
  bed: string;
  facility: string;
}

/** A visit (PV1), keyed by visit number (PV1-19) when the sender gives one. */
export interface Visit {
  key: string;
  patientKey: string;
  visitNumber: string | null;
  /** PV1-2 patient class (I/O/E/P/R/B/N/U). */
  patientClass: string | null;
  location: Location | null;
  priorLocation: Location | null;
  attendingDoctor: string | null;
  referringDoctor: string | null;
  admitTime: string | null;
  dischargeTime: string | null;
  status: VisitStatus;
  history: Array<{ status: VisitStatus; time: string | null; messageSeq: number; event: string }>;
  updatedAt: string | null;
}

/** Order status words (INTERFACE.md). */
export const OrderStatus = {
  Scheduled: 'scheduled',
  InProgress: 'in-progress',
  Completed: 'completed',
  Cancelled: 'cancelled',
  Discontinued: 'discontinued',
} as const;
export type OrderStatus = (typeof OrderStatus)[keyof typeof OrderStatus];

/** A coded value (CE/CWE): code, text, coding system. */
export interface Coded {
  code: string;
  text: string;
  system: string;
}

/** An order / requested procedure (ORM ORC+OBR[+ZDS], OMI ORC+TQ1+OBR+IPC), one per accession or placer/filler number. */
export interface Order {
  key: string;
  patientKey: string;
  visitKey: string | null;
  accession: string | null;
  placerOrderNumber: string | null;
  fillerOrderNumber: string | null;
  requestedProcedureId: string | null;
  scheduledProcedureStepId: string | null;
  studyInstanceUid: string | null;
  status: OrderStatus;
  /** Scheduled start (ORC-7.4 / TQ1-7 / SCH-11.4), ISO 8601. */
  scheduledAt: string | null;
  modality: string | null;
  /** OBR-4 universal service ID. */
  procedure: Coded | null;
  /** OBR-44 procedure code, when sent. */
  procedureCode: Coded | null;
  /** Body part / region, when the sender codes it (e.g. OBR-15 or the procedure table). */
  bodyPart: string | null;
  priority: string | null;
  orderingProvider: string | null;
  stationAeTitle: string | null;
  /** SIU SCH-1.1 placer appointment ID, when the order was booked or matched by SIU (absent otherwise). */
  placerAppointmentId?: string;
  /** SIU SCH-2.1 filler appointment ID, when the order was booked or matched by SIU (absent otherwise). */
  fillerAppointmentId?: string;
  history: Array<{ status: OrderStatus; time: string | null; messageSeq: number; control: string }>;
  updatedAt: string | null;
}

/** Report status words (INTERFACE.md). Each status change is a new version. */
export const ReportStatus = { Preliminary: 'preliminary', Final: 'final', Corrected: 'corrected', Cancelled: 'cancelled' } as const;
export type ReportStatus = (typeof ReportStatus)[keyof typeof ReportStatus];

/** One version of a report. */
export interface ReportVersion {
  status: ReportStatus;
  /** Observation / status-change time (OBR-22, else OBR-7, else the message time), ISO 8601. */
  time: string | null;
  /** Principal result interpreter (OBR-32) or TXA-9/22 author, as text. */
  author: string | null;
  text: string;
  messageSeq: number;
  /** Attachment IDs of this version (ED values, e.g. PDF). */
  attachments: string[];
}

/** A clinical report (ORU^R01) or document (MDM^T02…T11), keyed by accession or filler number (reports) or TXA-12 (documents). */
export interface Report {
  id: string;
  kind: 'report' | 'document';
  patientKey: string;
  accession: string | null;
  placerOrderNumber: string | null;
  fillerOrderNumber: string | null;
  studyInstanceUid: string | null;
  /** MDM: TXA-2 document type, TXA-12 unique number, TXA-13 parent, TXA-17, TXA-19. */
  documentType?: string;
  documentNumber?: string;
  parentDocument?: string;
  completionStatus?: string;
  availability?: string;
  status: ReportStatus;
  versions: ReportVersion[];
  /** The current version's text. */
  text: string;
  updatedAt: string | null;
}

/** An embedded document (OBX ED), stored once, served as bytes. */
export interface Attachment {
  id: string;
  reportId: string;
  /** MIME type, e.g. `application/pdf`. */
  contentType: string;
  size: number;
  messageSeq: number;
}

/** One entry of a patient's merge / identifier history (auditable, DOMAIN.md §4.3). */
export interface MergeRecord {
  /** `merge` (A40/A34), `change-id` (A47), `link` (A24), `unlink` (A37), `account-move` (A35). */
  kind: 'merge' | 'change-id' | 'link' | 'unlink' | 'account-move';
  survivorKey: string;
  sourceKey: string | null;
  /** Identifiers as they were before the operation. */
  sourceIdentifiers: Identifier[];
  priorName: PersonName | null;
  movedOrders: string[];
  movedReports: string[];
  movedVisits: string[];
  messageSeq: number;
  time: string | null;
}
