/**
 * Pre-fetch requests (DOMAIN.md §5 "Prefetch of relevant priors"): the patient across all of
 * its identifiers, merges and links, and the relevant priors the repository knows for an
 * order, chosen by the rules of `workflows.prefetch`:
 *
 * - Same patient: the survivor's orders and reports (a merge moves the absorbed patient's to
 *   the survivor) and those of patients linked to it by A24.
 * - Relevance table (options.ts {@link RelevanceRule}): the current order's row gives the
 *   prior modalities (default its own modality) and its body region (else the order's body
 *   part). A prior is relevant when its modality is among them (`*` any; a prior without a
 *   modality only under `*`) and, when both regions are known, its region (from its own row,
 *   else its body part) is the same.
 * - Look-back: studies strictly before the order's scheduled start (else the message's time)
 *   and no older than `lookBackDays`; the `maxPriors` most recent. Cancelled orders had no
 *   exam and are left out; a report whose accession matches no order stands for its study.
 *
 * Reads only committed or same-transaction state through the repository's queries, and no
 * clock: the same repository gives the same request (a rebuild or a crash replays it exactly).
 */
import type { ListOptions, Page, Queries } from '../repository/queries.js';
import { OrderStatus, type Identifier, type MergeRecord, type Order, type Patient, type Report } from '../repository/model.js';
import type { PrefetchOptions, RelevanceRule } from './options.js';
import type { PrefetchOrder, PrefetchPatient, PrefetchPrior } from './payloads.js';
import { isoInZone } from './local-time.js';

/** The repository reads the workflows use. */
export type RepositoryView = Pick<Queries, 'getPatient' | 'resolvePatient' | 'findPatients' | 'findOrders' | 'findReports' | 'getOrder' | 'getReport' | 'mergeHistory'>;

const DAY_MS = 86_400_000;

/** Every item of a paginated query, read 1000 at a time. */
export function all<T>(page: (options: ListOptions) => Page<T>): T[] {
  const out: T[] = [];
  let cursor: string | undefined;
  for (;;) {
    const p = page(cursor === undefined ? { limit: 1000 } : { limit: 1000, cursor });
    out.push(...p.items);
    if (p.next === null) return out;
    cursor = p.next;
  }
}

/** The procedure code an order is looked up by: OBR-44, else OBR-4.1. */
export function procedureCodeOf(o: Pick<Order, 'procedure' | 'procedureCode'>): string | undefined {
  const c = o.procedureCode?.code || o.procedure?.code;
  return c === undefined || c === '' ? undefined : c;
}

/** The relevance row of an order: the most specific match, first listed among equals. */
export function ruleFor(o: Pick<Order, 'procedure' | 'procedureCode' | 'modality'>, rules: readonly RelevanceRule[]): RelevanceRule | undefined {
  const code = procedureCodeOf(o);
  const modality = o.modality?.trim().toUpperCase() || undefined;
  let best: RelevanceRule | undefined;
  let bestScore = -1;
  for (const r of rules) {
    if (r.procedureCode !== undefined && r.procedureCode !== code) continue;
    if (r.modality !== undefined && r.modality !== modality) continue;
    const score = (r.procedureCode !== undefined ? 2 : 0) + (r.modality !== undefined ? 1 : 0);
    if (score > bestScore) {
      best = r;
      bestScore = score;
    }
  }
  return best;
}

/** The body region of an order: its row's, else its body part (upper case), else null. */
export function bodyRegionOf(o: Pick<Order, 'procedure' | 'procedureCode' | 'modality' | 'bodyPart'>, rules: readonly RelevanceRule[]): string | null {
  return ruleFor(o, rules)?.bodyRegion ?? (o.bodyPart?.trim() ? o.bodyPart.trim().toUpperCase() : null);
}

/** The order as a request carries it. */
export function requestOrder(o: Order, options: PrefetchOptions): PrefetchOrder {
  const when = o.scheduledAt === null ? NaN : Date.parse(o.scheduledAt);
  return {
    key: o.key,
    accession: o.accession,
    placerOrderNumber: o.placerOrderNumber,
    fillerOrderNumber: o.fillerOrderNumber,
    studyInstanceUid: o.studyInstanceUid,
    modality: o.modality,
    procedure: o.procedure,
    procedureCode: o.procedureCode,
    bodyRegion: bodyRegionOf(o, options.relevance),
    scheduledAt: o.scheduledAt,
    fetchAt: Number.isNaN(when) ? null : isoInZone(when - options.leadTimeMinutes * 60_000, options.timeZone),
  };
}

/** Survivors merged into `key` (following chains), oldest merge first. */
function mergedInto(view: RepositoryView, key: string, seen: Set<string>): Patient[] {
  const out: Patient[] = [];
  const records = all<MergeRecord>((o) => view.mergeHistory(key, o));
  for (const r of records) {
    if (r.kind !== 'merge' || r.survivorKey !== key || r.sourceKey === null || seen.has(r.sourceKey)) continue;
    seen.add(r.sourceKey);
    const p = view.getPatient(r.sourceKey);
    if (p === undefined) continue;
    out.push(p, ...mergedInto(view, p.key, seen));
  }
  return out;
}

function pushIds(out: Identifier[], ids: readonly Identifier[], seen: Set<string>): void {
  for (const i of ids) {
    const k = `${i.id}\u001f${i.authority}\u001f${i.authorityUid}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(i);
  }
}

/** The survivor of `patientKey` with every identifier it is known by, and the keys whose studies count as its own. */
export function requestPatient(view: RepositoryView, patientKey: string): { patient: PrefetchPatient; keys: string[] } | undefined {
  const survivor = view.resolvePatient(patientKey)?.patient;
  if (survivor === undefined) return undefined;
  const seen = new Set<string>();
  const identifiers: Identifier[] = [];
  pushIds(identifiers, survivor.identifiers, seen);
  const visited = new Set([survivor.key]);
  const mergedIdentifiers: Identifier[] = [];
  for (const m of mergedInto(view, survivor.key, visited)) pushIds(mergedIdentifiers, m.identifiers, seen);
  const linkedIdentifiers: Identifier[] = [];
  const keys = [survivor.key];
  for (const l of survivor.links) {
    const linked = view.resolvePatient(l)?.patient;
    if (linked === undefined || keys.includes(linked.key)) continue;
    keys.push(linked.key);
    visited.add(linked.key);
    pushIds(linkedIdentifiers, linked.identifiers, seen);
    for (const m of mergedInto(view, linked.key, visited)) pushIds(linkedIdentifiers, m.identifiers, seen);
  }
  return { patient: { key: survivor.key, identifiers, mergedIdentifiers, linkedIdentifiers }, keys };
}

/** A candidate prior with its epoch time, for sorting. */
interface Candidate {
  prior: PrefetchPrior;
  ms: number;
}

/** Every study of the patients `keys` the repository knows, as prior candidates (unfiltered). */
export function candidatesOf(view: RepositoryView, keys: readonly string[], options: PrefetchOptions): Candidate[] {
  const out: Candidate[] = [];
  for (const key of keys) {
    const orders = all<Order>((o) => view.findOrders({ patientKey: key }, o));
    const reports = all<Report>((o) => view.findReports({ patientKey: key }, o));
    const reportByAccession = new Map<string, Report>();
    for (const r of reports) if (r.accession !== null && r.kind === 'report' && !reportByAccession.has(r.accession)) reportByAccession.set(r.accession, r);
    const orderAccessions = new Set<string>();
    for (const o of orders) {
      if (o.accession !== null) orderAccessions.add(o.accession);
      if (o.status === OrderStatus.Cancelled) continue;
      const time = o.scheduledAt ?? o.history[0]?.time ?? null;
      const ms = time === null ? NaN : Date.parse(time);
      if (time === null || Number.isNaN(ms)) continue;
      const report = o.accession === null ? undefined : reportByAccession.get(o.accession);
      out.push({
        ms,
        prior: {
          orderKey: o.key,
          reportId: report?.id ?? null,
          patientKey: key,
          accession: o.accession,
          studyInstanceUid: o.studyInstanceUid ?? report?.studyInstanceUid ?? null,
          modality: o.modality,
          procedure: o.procedure,
          bodyRegion: bodyRegionOf(o, options.relevance),
          studyTime: time,
          orderStatus: o.status,
          reportStatus: report?.status ?? null,
        },
      });
    }
    for (const r of reports) {
      if (r.kind !== 'report' || (r.accession !== null && orderAccessions.has(r.accession))) continue;
      const time = r.versions[0]?.time ?? null;
      const ms = time === null ? NaN : Date.parse(time);
      if (time === null || Number.isNaN(ms)) continue;
      out.push({
        ms,
        prior: {
          orderKey: null,
          reportId: r.id,
          patientKey: key,
          accession: r.accession,
          studyInstanceUid: r.studyInstanceUid,
          modality: null,
          procedure: null,
          bodyRegion: null,
          studyTime: time,
          orderStatus: null,
          reportStatus: r.status,
        },
      });
    }
  }
  return out;
}

/**
 * The relevant priors of `order` among `candidates` (see the module comment). `referenceMs`
 * is the order's scheduled start, else the message's time; undefined lifts the time bounds.
 */
export function relevantPriors(order: Order, candidates: readonly Candidate[], options: PrefetchOptions, referenceMs: number | undefined, exclude: ReadonlySet<string>): PrefetchPrior[] {
  const rule = ruleFor(order, options.relevance);
  const own = order.modality?.trim().toUpperCase() || undefined;
  const modalities = rule?.priorModalities ?? (own === undefined ? ['*'] : [own]);
  const anyModality = modalities.includes('*');
  const region = bodyRegionOf(order, options.relevance);
  const oldest = referenceMs === undefined ? -Infinity : referenceMs - options.lookBackDays * DAY_MS;
  const picked = candidates.filter(({ prior, ms }) => {
    if (prior.orderKey !== null && exclude.has(prior.orderKey)) return false;
    if (referenceMs !== undefined && (ms >= referenceMs || ms < oldest)) return false;
    const m = prior.modality?.trim().toUpperCase();
    if (!anyModality && (m === undefined || m === '' || !modalities.includes(m))) return false;
    return region === null || prior.bodyRegion === null || prior.bodyRegion === region;
  });
  // Most recent first; equal times in key order, so the choice is stable.
  picked.sort((a, b) => b.ms - a.ms || (a.prior.orderKey ?? a.prior.reportId ?? '').localeCompare(b.prior.orderKey ?? b.prior.reportId ?? ''));
  return picked.slice(0, options.maxPriors).map((c) => c.prior);
}

/** The reference time of an order: its scheduled start, else `fallbackMs`. */
export function referenceOf(order: Order, fallbackMs: number | undefined): number | undefined {
  const ms = order.scheduledAt === null ? NaN : Date.parse(order.scheduledAt);
  return Number.isNaN(ms) ? fallbackMs : ms;
}
