/**
 * Storage of the repository: the named LMDB databases (all prefixed `repo.`), the value codec
 * and the per-message write overlay that makes `apply` all-or-nothing.
 *
 * Every database uses binary keys (UTF-8 of a string key, so order = byte order) and binary
 * values encoded here with one msgpackr `Packr` without shared structures, so that the bytes
 * depend only on the value (the digest and a rebuild compare them). Secondary indexes are
 * separate databases whose keys are `value \0 entityKey` with an empty value; a lookup is a
 * prefix range, a list is a range in key order.
 */
import { Packr } from 'msgpackr';
import type { Database, RootDatabase } from 'lmdb';
import { identifierKey, type IdentityOptions } from './identity.js';
import type { Order, Patient, Report, Visit } from './model.js';

/** Names of the repository's databases in the shared environment. */
export const DbName = {
  Meta: 'repo.meta',
  Patients: 'repo.patients',
  Visits: 'repo.visits',
  Orders: 'repo.orders',
  Reports: 'repo.reports',
  Attachments: 'repo.attachments',
  AttachmentMeta: 'repo.attachment-meta',
  Merges: 'repo.merges',
  IdxIdentifier: 'repo.idx.identifier',
  IdxName: 'repo.idx.name',
  IdxAccount: 'repo.idx.account',
  IdxPatientVisits: 'repo.idx.patient-visits',
  IdxVisitNumber: 'repo.idx.visit-number',
  IdxPatientOrders: 'repo.idx.patient-orders',
  IdxOrderAccession: 'repo.idx.order-accession',
  IdxOrderPlacer: 'repo.idx.order-placer',
  IdxOrderFiller: 'repo.idx.order-filler',
  IdxOrderStudyUid: 'repo.idx.order-study-uid',
  IdxOrderStatus: 'repo.idx.order-status',
  IdxOrderSchedule: 'repo.idx.order-schedule',
  IdxOrderAppointment: 'repo.idx.order-appointment',
  IdxPatientReports: 'repo.idx.patient-reports',
  IdxReportKey: 'repo.idx.report-key',
} as const;
export type DbName = (typeof DbName)[keyof typeof DbName];

/** Key separator inside composite index keys. */
export const SEP = '\u0000';
const EMPTY = Buffer.alloc(0);
const packr = new Packr({ useRecords: false, moreTypes: false });

/** Encodes a stored value (plain data; `undefined` properties must be left out). */
export function encodeValue(value: unknown): Buffer {
  return packr.pack(value);
}

/** Decodes a stored value. */
export function decodeValue<T>(bytes: Uint8Array): T {
  return packr.unpack(bytes) as T;
}

/** The opened databases. */
export type Stores = Record<DbName, Database<Buffer, Buffer>>;

/** Opens (creating if needed) every `repo.*` database in `env`. */
export function openStores(env: RootDatabase): Stores {
  const out: Partial<Stores> = {};
  for (const name of Object.values(DbName)) {
    out[name] = env.openDB<Buffer, Buffer>(name, { keyEncoding: 'binary', encoding: 'binary' });
  }
  return out as Stores;
}

/** Entity kinds with a primary database and secondary indexes. */
export type EntityKind = 'patient' | 'visit' | 'order' | 'report';
type EntityOf<K extends EntityKind> = K extends 'patient' ? Patient : K extends 'visit' ? Visit : K extends 'order' ? Order : Report;

const primaryDb: Record<EntityKind, DbName> = {
  patient: DbName.Patients,
  visit: DbName.Visits,
  order: DbName.Orders,
  report: DbName.Reports,
};

/**
 * Cuts an index key component so a composite key stays far below LMDB's key size limit
 * (lookups cut their value the same way, so a longer value still finds its entity).
 */
export function part(v: string): string {
  return v.length > 200 ? v.slice(0, 200) : v;
}

/** A sortable UTC form of an ISO time, or undefined when it does not parse. */
export function scheduleSortKey(iso: string): string | undefined {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** Lower-cased, trimmed name component used by the name index. */
export function nameKey(v: string | undefined | null): string {
  return part((v ?? '').trim().toLowerCase());
}

/** The secondary index entries of an entity as `[db, key]` pairs. */
export function indexEntries(kind: EntityKind, e: Patient | Visit | Order | Report, identity: IdentityOptions): Array<[DbName, string]> {
  const out: Array<[DbName, string]> = [];
  switch (kind) {
    case 'patient': {
      const p = e as Patient;
      for (const id of p.identifiers) out.push([DbName.IdxIdentifier, part(identifierKey(id, identity)) + SEP + ek(p.key)]);
      if (p.mergedInto === undefined) {
        if (p.name !== null && p.name.family.trim() !== '') {
          out.push([DbName.IdxName, nameKey(p.name.family) + SEP + nameKey(p.name.given) + SEP + ek(p.key)]);
        }
        if (p.accountNumber !== null) out.push([DbName.IdxAccount, part(p.accountNumber) + SEP + ek(p.key)]);
      }
      break;
    }
    case 'visit': {
      const v = e as Visit;
      out.push([DbName.IdxPatientVisits, v.patientKey + SEP + ek(v.key)]);
      if (v.visitNumber !== null) out.push([DbName.IdxVisitNumber, v.patientKey + SEP + part(v.visitNumber) + SEP + ek(v.key)]);
      break;
    }
    case 'order': {
      const o = e as Order;
      out.push([DbName.IdxPatientOrders, o.patientKey + SEP + ek(o.key)]);
      if (o.accession !== null) out.push([DbName.IdxOrderAccession, part(o.accession) + SEP + ek(o.key)]);
      if (o.placerOrderNumber !== null) out.push([DbName.IdxOrderPlacer, part(o.placerOrderNumber) + SEP + ek(o.key)]);
      if (o.fillerOrderNumber !== null) out.push([DbName.IdxOrderFiller, part(o.fillerOrderNumber) + SEP + ek(o.key)]);
      if (o.studyInstanceUid !== null) out.push([DbName.IdxOrderStudyUid, part(o.studyInstanceUid) + SEP + ek(o.key)]);
      out.push([DbName.IdxOrderStatus, o.status + SEP + ek(o.key)]);
      const when = o.scheduledAt === null ? undefined : scheduleSortKey(o.scheduledAt);
      if (when !== undefined) out.push([DbName.IdxOrderSchedule, when + SEP + ek(o.key)]);
      if (o.placerAppointmentId !== undefined) out.push([DbName.IdxOrderAppointment, 'P' + SEP + part(o.placerAppointmentId) + SEP + ek(o.key)]);
      if (o.fillerAppointmentId !== undefined) out.push([DbName.IdxOrderAppointment, 'F' + SEP + part(o.fillerAppointmentId) + SEP + ek(o.key)]);
      break;
    }
    case 'report': {
      const r = e as Report;
      out.push([DbName.IdxPatientReports, r.patientKey + SEP + ek(r.id)]);
      if (r.accession !== null) out.push([DbName.IdxReportKey, 'acc' + SEP + part(r.accession) + SEP + ek(r.id)]);
      if (r.fillerOrderNumber !== null) out.push([DbName.IdxReportKey, 'fil' + SEP + part(r.fillerOrderNumber) + SEP + ek(r.id)]);
      if (r.documentNumber !== undefined) out.push([DbName.IdxReportKey, 'doc' + SEP + part(r.documentNumber) + SEP + ek(r.id)]);
      break;
    }
  }
  return out;
}

function keyBytes(key: string): Buffer {
  return Buffer.from(key, 'utf8');
}

/** The end bound of a prefix range: no UTF-8 string contains byte 0xFF. */
function prefixEnd(prefix: string): Buffer {
  return Buffer.concat([keyBytes(prefix), Buffer.from([0xff])]);
}

/**
 * Reads the committed state through a write overlay. `apply` collects one message's writes
 * here (reads see them) and {@link Overlay.flush}es them into the surrounding transaction
 * only when the whole message is accepted; a rejected message's overlay is dropped. Queries
 * use an empty overlay, i.e. plain reads of the committed state.
 */
export class Overlay {
  readonly #stores: Stores;
  readonly #identity: IdentityOptions;
  readonly #writes = new Map<DbName, Map<string, Buffer | null>>();

  constructor(stores: Stores, identity: IdentityOptions) {
    this.#stores = stores;
    this.#identity = identity;
  }

  /** Raw bytes of a key, or undefined. */
  getRaw(db: DbName, key: string): Buffer | undefined {
    const w = this.#writes.get(db)?.get(key);
    if (w !== undefined) return w ?? undefined;
    const v = this.#stores[db].get(keyBytes(key));
    return v === undefined ? undefined : Buffer.from(v);
  }

  /** A decoded value, or undefined. Each call returns a fresh copy. */
  get<T>(db: DbName, key: string): T | undefined {
    const raw = this.getRaw(db, key);
    return raw === undefined ? undefined : decodeValue<T>(raw);
  }

  /** Writes raw bytes. */
  putRaw(db: DbName, key: string, value: Buffer): void {
    let m = this.#writes.get(db);
    if (m === undefined) this.#writes.set(db, (m = new Map()));
    m.set(key, value);
  }

  /** Writes an encoded value. */
  put(db: DbName, key: string, value: unknown): void {
    this.putRaw(db, key, encodeValue(value));
  }

  /** Deletes a key. */
  del(db: DbName, key: string): void {
    let m = this.#writes.get(db);
    if (m === undefined) this.#writes.set(db, (m = new Map()));
    m.set(key, null);
  }

  /** Reads an entity by key. */
  entity<K extends EntityKind>(kind: K, key: string): EntityOf<K> | undefined {
    return this.get<EntityOf<K>>(primaryDb[kind], key);
  }

  /** Writes an entity and keeps its secondary indexes in step (old entries removed, new added). */
  putEntity<K extends EntityKind>(kind: K, entity: EntityOf<K>): void {
    const key = kind === 'report' ? (entity as Report).id : (entity as Patient).key;
    const previous = this.entity(kind, key);
    const oldEntries = previous === undefined ? [] : indexEntries(kind, previous, this.#identity);
    const newEntries = indexEntries(kind, entity, this.#identity);
    const newSet = new Set(newEntries.map(([db, k]) => db + '|' + k));
    const oldSet = new Set(oldEntries.map(([db, k]) => db + '|' + k));
    for (const [db, k] of oldEntries) if (!newSet.has(db + '|' + k)) this.del(db, k);
    for (const [db, k] of newEntries) if (!oldSet.has(db + '|' + k)) this.putRaw(db, k, EMPTY);
    this.put(primaryDb[kind], key, entity);
  }

  /**
   * Keys starting with `prefix`, committed and overlaid, in byte order, after `after` when
   * given (exclusive), at most `limit`.
   */
  scan(db: DbName, prefix: string, options: { after?: string; limit?: number; end?: string } = {}): string[] {
    let start = keyBytes(prefix);
    if (options.after !== undefined) {
      // A cursor from another query must not widen the range below the prefix.
      const after = Buffer.concat([keyBytes(options.after), Buffer.from([0])]);
      if (Buffer.compare(after, start) > 0) start = after;
    }
    const end = options.end !== undefined ? keyBytes(options.end) : prefixEnd(prefix);
    const limit = options.limit ?? Infinity;
    const w = this.#writes.get(db);
    if (w === undefined || w.size === 0) {
      const out: string[] = [];
      if (limit <= 0) return out;
      for (const raw of this.#stores[db].getKeys({ start, end, ...(Number.isFinite(limit) ? { limit } : {}) })) {
        out.push(Buffer.from(raw).toString('utf8'));
      }
      return out;
    }
    // Inside apply: the prefixes scanned are small (one patient's visits, one accession), so
    // the committed keys are merged with the overlay's in full and then cut.
    const live = new Map<string, Buffer>();
    for (const raw of this.#stores[db].getKeys({ start, end })) {
      const b = Buffer.from(raw);
      live.set(b.toString('utf8'), b);
    }
    for (const [k, v] of w) {
      const b = keyBytes(k);
      if (Buffer.compare(b, start) < 0 || Buffer.compare(b, end) >= 0) continue;
      if (v === null) live.delete(k);
      else live.set(k, b);
    }
    return [...live.entries()]
      .sort((x, y) => Buffer.compare(x[1], y[1]))
      .slice(0, Number.isFinite(limit) ? limit : undefined)
      .map(([k]) => k);
  }

  /** Allocates the next number of a counter (`P`, `V`, `O`, `R`, `A`, `M`), stored in `repo.meta`. */
  next(counter: string): number {
    const n = (this.get<number>(DbName.Meta, 'counter:' + counter) ?? 0) + 1;
    this.put(DbName.Meta, 'counter:' + counter, n);
    return n;
  }

  /** Writes the overlay into the current transaction (the caller's `transactionSync`). */
  flush(env: RootDatabase): void {
    if (this.#writes.size === 0) return;
    env.transactionSync(() => {
      for (const [db, m] of this.#writes) {
        const store = this.#stores[db];
        for (const [k, v] of m) {
          if (v === null) store.removeSync(keyBytes(k));
          else store.putSync(keyBytes(k), v);
        }
      }
    });
    this.#writes.clear();
  }
}

/**
 * An entity key as the last component of an index key: the counter zero-padded (`V2` →
 * `V0000000002`) so that one patient's visits, orders and reports list oldest first.
 */
export function ek(key: string): string {
  return /^[A-Z]\d+$/.test(key) ? key[0] + key.slice(1).padStart(10, '0') : key;
}

/** The last component of a composite index key: the entity key (undoing {@link ek}). */
export function lastPart(indexKey: string): string {
  const i = indexKey.lastIndexOf(SEP);
  const last = i < 0 ? indexKey : indexKey.slice(i + 1);
  return /^[A-Z]\d+$/.test(last) ? last[0] + String(Number(last.slice(1))) : last;
}
