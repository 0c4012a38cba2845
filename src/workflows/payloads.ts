/**
 * The `data` of the events the workflows stage appends (INTERFACE.md "WebSocket /events"):
 * `prefetch.requested` and `sync.requested`. Identifiers always travel with their assigning
 * authority; times are ISO 8601 with an offset.
 */
import type { Coded, Identifier, OrderStatus, ReportStatus } from '../repository/model.js';
import type { DicomChange, DicomTruncation } from './dicom.js';
import type { PrefetchTrigger, SyncChange } from './options.js';

/** The patient of a pre-fetch request: every identifier the PACS may hold studies under. */
export interface PrefetchPatient {
  /** The surviving patient's key. */
  key: string;
  /** Its own identifiers (PID-3), with their authorities. */
  identifiers: Identifier[];
  /** Identifiers of patients merged into it (A40/A34), following merge chains. */
  mergedIdentifiers: Identifier[];
  /** Identifiers of patients cross-referenced with it (A24), and of those merged into them. */
  linkedIdentifiers: Identifier[];
}

/** An order a pre-fetch is for. */
export interface PrefetchOrder {
  key: string;
  accession: string | null;
  placerOrderNumber: string | null;
  fillerOrderNumber: string | null;
  studyInstanceUid: string | null;
  modality: string | null;
  /** OBR-4 universal service ID. */
  procedure: Coded | null;
  /** OBR-44 procedure code. */
  procedureCode: Coded | null;
  /** Body region from the relevance table, else the order's body part; null when unknown. */
  bodyRegion: string | null;
  /** Scheduled start, ISO 8601 with offset (as received), or null. */
  scheduledAt: string | null;
  /** When the pre-fetch should have happened: `scheduledAt` minus the lead time, ISO 8601 in the configured zone; null without `scheduledAt`. */
  fetchAt: string | null;
}

/** A relevant prior study known to the repository: an order (with its report, if any) or a report without an order. */
export interface PrefetchPrior {
  orderKey: string | null;
  reportId: string | null;
  /** The patient key the prior belongs to (the survivor, or a linked patient). */
  patientKey: string;
  accession: string | null;
  studyInstanceUid: string | null;
  modality: string | null;
  procedure: Coded | null;
  bodyRegion: string | null;
  /** The study's time: the order's scheduled start, else its first status time, else the report's first version time. */
  studyTime: string;
  orderStatus: OrderStatus | null;
  reportStatus: ReportStatus | null;
}

/** `prefetch.requested` data. */
export interface PrefetchRequestedData {
  /** What triggered it: a message trigger (`order`, `S12`, `A04`, `A05`) or `daily`. */
  trigger: PrefetchTrigger | 'daily';
  patient: PrefetchPatient;
  /** The order the request is for (the daily run: the patient's earliest in the window). */
  order: PrefetchOrder;
  /** Every order of the patient the request covers (per-order triggers: just `order`). */
  orders: PrefetchOrder[];
  /** Relevant priors, most recent first, at most `maxPriors` per order. */
  priors: PrefetchPrior[];
  /** The daily run: the date it ran for and its window (`from` inclusive, `to` exclusive). */
  run?: { date: string; window: { from: string; to: string } };
}

/** The keys by which the PACS finds a study a sync applies to (DICOM keywords). */
export interface SyncStudyKey {
  orderKey: string | null;
  reportId: string | null;
  AccessionNumber: string;
  StudyInstanceUID: string;
}

/** `sync.requested` data. */
export interface SyncRequestedData {
  /** The kind of change. */
  reason: SyncChange;
  /** The message's MSH-9.1^MSH-9.2 (e.g. `ADT^A08`). */
  message: string;
  /** The repository event that caused it (`patient.updated`, `patient.merged`, ...). */
  cause: string;
  /** The patient the studies belong to now (the survivor of a merge). */
  patientKey: string;
  /** Merges: the absorbed patient. */
  sourcePatientKey?: string;
  /** Order changes: the order. */
  orderKey?: string;
  /** The attribute changes, each with its previous value. */
  changes: DicomChange[];
  /**
   * The patient the PACS holds the studies under before this change: the previous PatientID
   * and IssuerOfPatientID (the absorbed patient's for a merge).
   */
  match: { PatientID: string; IssuerOfPatientID: string };
  /**
   * Studies the change applies to, as known to the repository (for order changes, the keys
   * before the change). For patient-level changes, every study the PACS holds under `match`
   * is concerned, including ones the repository never heard of.
   */
  studies: SyncStudyKey[];
  /** Values cut to their VR's length (SH 16, LO 64, PN 64). */
  truncated: DicomTruncation[];
}
