/**
 * Read queries behind INTERFACE.md's HTTP routes. Each one walks a secondary index (never the
 * whole primary table); lists are paginated with `limit` and an opaque `cursor` (the last
 * index key read). Usable outside transactions (they read the committed state).
 */
import { authorityMatches, type IdentityOptions } from './identity.js';
import type { Attachment, MergeRecord, Order, OrderStatus, Patient, Report, Visit } from './model.js';
import { DbName, Overlay, SEP, lastPart, nameKey, part, scheduleSortKey, type Stores } from './store.js';

/** A page of a list: `next` is the cursor of the following page, or null at the end. */
export interface Page<T> {
  items: T[];
  next: string | null;
}

/** Pagination: `limit` 1–1000 (default 100), `cursor` from a previous page's `next`. */
export interface ListOptions {
  limit?: number;
  cursor?: string;
}

/** A patient lookup by identifier (`authority`: namespace ID, universal ID or whole HD) or by name. */
export type PatientQuery = { identifier: string; authority?: string } | { family: string; given?: string; birthDate?: string };

/** Order filters; the first given of accession, filler, placer, UID, patient, status, schedule range picks the index. */
export interface OrderQuery {
  accession?: string;
  fillerOrderNumber?: string;
  placerOrderNumber?: string;
  studyInstanceUid?: string;
  patientKey?: string;
  status?: OrderStatus;
  /** Inclusive bounds on the scheduled start, any form `Date.parse` reads (ISO 8601). */
  scheduledFrom?: string;
  scheduledTo?: string;
}

/** Report filters. */
export interface ReportQuery {
  accession?: string;
  patientKey?: string;
}

/** A patient as answered for a key: the survivor, and the key asked for when it was merged. */
export interface ResolvedPatient {
  patient: Patient;
  mergedFrom?: string;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

function limitOf(o: ListOptions): number {
  const l = o.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(l) || l < 1 || l > MAX_LIMIT) throw new RangeError(`limit must be an integer between 1 and ${MAX_LIMIT}`);
  return l;
}

function decodeCursor(c: string | undefined): string | undefined {
  return c === undefined || c === '' ? undefined : Buffer.from(c, 'base64url').toString('utf8');
}

/** The read side of the repository. */
export class Queries {
  readonly #stores: Stores;
  readonly #identity: IdentityOptions;

  constructor(stores: Stores, identity: IdentityOptions) {
    this.#stores = stores;
    this.#identity = identity;
  }

  #tx(): Overlay {
    return new Overlay(this.#stores, this.#identity);
  }

  /** Walks an index range, loading and filtering entities, one page at a time. */
  #page<T>(db: DbName, prefix: string, o: ListOptions, load: (indexKey: string) => T | undefined, end?: string): Page<T> {
    const tx = this.#tx();
    const limit = limitOf(o);
    const items: T[] = [];
    let after = decodeCursor(o.cursor);
    for (;;) {
      const keys = tx.scan(db, prefix, { ...(after !== undefined ? { after } : {}), limit, ...(end !== undefined ? { end } : {}) });
      for (const k of keys) {
        after = k;
        const item = load(k);
        if (item !== undefined) items.push(item);
        if (items.length === limit) {
          const more = tx.scan(db, prefix, { after: k, limit: 1, ...(end !== undefined ? { end } : {}) }).length > 0;
          return { items, next: more ? Buffer.from(k, 'utf8').toString('base64url') : null };
        }
      }
      if (keys.length < limit) return { items, next: null };
    }
  }

  /** The patient stored under `key` as is (a merged one is a tombstone with `mergedInto`). */
  getPatient(key: string): Patient | undefined {
    return this.#tx().entity('patient', key);
  }

  /** The patient for `key`, following merges to the survivor; `mergedFrom` is `key` when it was merged. */
  resolvePatient(key: string): ResolvedPatient | undefined {
    const tx = this.#tx();
    let p = tx.entity('patient', key);
    const seen = new Set<string>();
    while (p?.mergedInto !== undefined && !seen.has(p.key)) {
      seen.add(p.key);
      p = tx.entity('patient', p.mergedInto);
    }
    if (p === undefined) return undefined;
    return p.key === key ? { patient: p } : { patient: p, mergedFrom: key };
  }

  /**
   * Patients by identifier (any authority, or those `authorityMatches` accepts; a merged
   * identifier answers with its survivor, once) or by name (family and given compared
   * case-insensitively and whole; `birthDate` a prefix of the stored `YYYYMMDD…`; survivors only).
   */
  findPatients(q: PatientQuery, o: ListOptions = {}): Page<Patient> {
    const seen = new Set<string>();
    if ('identifier' in q) {
      const id = q.identifier.trim();
      return this.#page(DbName.IdxIdentifier, part(id) + '\u001f', o, (k) => {
        const raw = this.getPatient(lastPart(k));
        if (raw === undefined) return undefined;
        if (q.authority !== undefined) {
          const ok = raw.identifiers.some((i) => i.id === id && authorityMatches(i, q.authority as string, this.#identity));
          if (!ok) return undefined;
        }
        const p = this.resolvePatient(raw.key)?.patient;
        if (p === undefined || seen.has(p.key)) return undefined;
        seen.add(p.key);
        return p;
      });
    }
    const given = q.given === undefined || q.given.trim() === '' ? '' : nameKey(q.given) + SEP;
    return this.#page(DbName.IdxName, nameKey(q.family) + SEP + given, o, (k) => {
      const p = this.getPatient(lastPart(k));
      if (p === undefined) return undefined;
      if (q.birthDate !== undefined && q.birthDate !== '' && !(p.birthDate ?? '').startsWith(q.birthDate)) return undefined;
      return p;
    });
  }

  /** The visits of a patient (after merges, the survivor's include the moved ones), oldest first. */
  visitsOf(patientKey: string, o: ListOptions = {}): Page<Visit> {
    const key = this.resolvePatient(patientKey)?.patient.key ?? patientKey;
    return this.#page(DbName.IdxPatientVisits, key + SEP, o, (k) => this.#tx().entity('visit', lastPart(k)));
  }

  /** One order. */
  getOrder(key: string): Order | undefined {
    return this.#tx().entity('order', key);
  }

  /** Orders matching every given filter; an empty query lists orders by status index. */
  findOrders(q: OrderQuery, o: ListOptions = {}): Page<Order> {
    const matches = (x: Order): boolean =>
      (q.accession === undefined || x.accession === q.accession) &&
      (q.fillerOrderNumber === undefined || x.fillerOrderNumber === q.fillerOrderNumber) &&
      (q.placerOrderNumber === undefined || x.placerOrderNumber === q.placerOrderNumber) &&
      (q.studyInstanceUid === undefined || x.studyInstanceUid === q.studyInstanceUid) &&
      (patientKey === undefined || x.patientKey === patientKey) &&
      (q.status === undefined || x.status === q.status) &&
      inRange(x);
    const from = q.scheduledFrom === undefined ? undefined : scheduleSortKey(q.scheduledFrom);
    const to = q.scheduledTo === undefined ? undefined : scheduleSortKey(q.scheduledTo);
    if ((q.scheduledFrom !== undefined && from === undefined) || (q.scheduledTo !== undefined && to === undefined)) {
      throw new RangeError('scheduledFrom and scheduledTo must be ISO 8601 times');
    }
    const inRange = (x: Order): boolean => {
      if (from === undefined && to === undefined) return true;
      const w = x.scheduledAt === null ? undefined : scheduleSortKey(x.scheduledAt);
      return w !== undefined && (from === undefined || w >= from) && (to === undefined || w <= to);
    };
    const patientKey = q.patientKey === undefined ? undefined : (this.resolvePatient(q.patientKey)?.patient.key ?? q.patientKey);
    const load = (k: string): Order | undefined => {
      const x = this.getOrder(lastPart(k));
      return x !== undefined && matches(x) ? x : undefined;
    };
    if (q.accession !== undefined) return this.#page(DbName.IdxOrderAccession, part(q.accession) + SEP, o, load);
    if (q.fillerOrderNumber !== undefined) return this.#page(DbName.IdxOrderFiller, part(q.fillerOrderNumber) + SEP, o, load);
    if (q.placerOrderNumber !== undefined) return this.#page(DbName.IdxOrderPlacer, part(q.placerOrderNumber) + SEP, o, load);
    if (q.studyInstanceUid !== undefined) return this.#page(DbName.IdxOrderStudyUid, part(q.studyInstanceUid) + SEP, o, load);
    if (patientKey !== undefined) return this.#page(DbName.IdxPatientOrders, patientKey + SEP, o, load);
    if (from !== undefined || to !== undefined) {
      // Keys are `UTC-ISO \0 orderKey`; '\u0001' after the upper bound keeps every key at that instant.
      return this.#page(DbName.IdxOrderSchedule, from ?? '', o, load, (to ?? '\u007f') + '\u0001');
    }
    if (q.status !== undefined) return this.#page(DbName.IdxOrderStatus, q.status + SEP, o, load);
    return this.#page(DbName.IdxOrderStatus, '', o, load);
  }

  /** One report or document (versions included, attachment bytes not). */
  getReport(id: string): Report | undefined {
    return this.#tx().entity('report', id);
  }

  /** Reports and documents by accession or patient (a merged key answers with the survivor's). */
  findReports(q: ReportQuery, o: ListOptions = {}): Page<Report> {
    const patientKey = q.patientKey === undefined ? undefined : (this.resolvePatient(q.patientKey)?.patient.key ?? q.patientKey);
    const load = (k: string): Report | undefined => {
      const r = this.getReport(lastPart(k));
      if (r === undefined) return undefined;
      if (q.accession !== undefined && r.accession !== q.accession) return undefined;
      if (patientKey !== undefined && r.patientKey !== patientKey) return undefined;
      return r;
    };
    if (q.accession !== undefined) return this.#page(DbName.IdxReportKey, 'acc' + SEP + part(q.accession) + SEP, o, load);
    if (patientKey !== undefined) return this.#page(DbName.IdxPatientReports, patientKey + SEP, o, load);
    throw new TypeError('findReports needs accession or patientKey');
  }

  /** An embedded document: its metadata and its exact bytes. */
  getAttachment(id: string): { meta: Attachment; bytes: Buffer } | undefined {
    const tx = this.#tx();
    const meta = tx.get<Attachment>(DbName.AttachmentMeta, id);
    const bytes = tx.getRaw(DbName.Attachments, id);
    return meta === undefined || bytes === undefined ? undefined : { meta, bytes };
  }

  /** The merge, identifier-change, link and account history of a patient (as survivor or source), oldest first. */
  mergeHistory(patientKey: string, o: ListOptions = {}): Page<MergeRecord> {
    return this.#page(DbName.Merges, patientKey + SEP, o, (k) => this.#tx().get<MergeRecord>(DbName.Merges, k));
  }

}
