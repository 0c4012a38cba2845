/**
 * Options of the workflows stage (ARCHITECTURE.md stage 6; DOMAIN.md §5 "Prefetch of relevant
 * priors" and "RIS–PACS synchronisation"): the `workflows` section of the engine
 * configuration. Build them once with {@link resolveWorkflowsOptions}, which fills defaults,
 * validates with exact messages and freezes.
 */
import { isTimeZone } from '../converter/map/options.js';
import { checkInt } from '../options-check.js';

/** What may trigger a per-order `prefetch.requested` (DOMAIN.md §5 "Trigger"). */
export const PrefetchTrigger = {
  /** A new order in status `scheduled` from ORM^O01 / OMI^O23 (IHE RAD-4). */
  Order: 'order',
  /** An SIU^S12 booking (RAD-48, by site agreement) that creates or books a scheduled order. */
  S12: 'S12',
  /** ADT^A04 registration: a request for each of the patient's scheduled orders still to come. */
  A04: 'A04',
  /** ADT^A05 pre-admission: as A04. */
  A05: 'A05',
} as const;
export type PrefetchTrigger = (typeof PrefetchTrigger)[keyof typeof PrefetchTrigger];

/** The kinds of change that make a `sync.requested` (DOMAIN.md §5 "RIS–PACS synchronisation"). */
export const SyncChange = {
  /** Name, birth date, sex or identifiers changed by an update (A08, A31, ...). */
  Demographics: 'demographics',
  /** A47 identifier change. */
  Identifiers: 'identifiers',
  /** A40 / A34 merge. */
  Merge: 'merge',
  /** Accession, requested procedure or Study Instance UID of an order changed (RAD-13). */
  Order: 'order',
} as const;
export type SyncChange = (typeof SyncChange)[keyof typeof SyncChange];

/**
 * One row of the relevance table: for a current order matching `procedureCode` and/or
 * `modality`, which prior modalities are relevant and which body region the order examines.
 * A row with neither key is the default row. The most specific matching row wins (both keys,
 * then procedure code, then modality, then the default); among equals the first listed.
 */
export interface RelevanceRule {
  /** Procedure code of the order (OBR-44, else OBR-4.1), compared exactly. */
  procedureCode?: string;
  /** Modality of the order (OBR-24 / IPC-5), compared case-insensitively. */
  modality?: string;
  /** Body region the matching orders examine (e.g. `CHEST`); also used to classify priors. */
  bodyRegion?: string;
  /**
   * Modalities of relevant priors; `"*"` any. Default: the order's own modality (and any
   * modality when the order has none).
   */
  priorModalities?: string[];
}

/** The daily pre-fetch run (DOMAIN.md §5: "a nightly run over tomorrow's schedule"). */
export interface DailyPrefetchOptions {
  /** Run it. Default true. */
  enabled: boolean;
  /** Local time of day the run fires, `HH:MM` (24 h) in `timeZone`. Default `18:00`. */
  time: string;
  /** Days between the day of the run and the first day of its window. Default 1 (tomorrow); 0 to 30. */
  daysAhead: number;
  /** Length of the window in local days. Default 1; 1 to 31. */
  windowDays: number;
}

/** Pre-fetch of relevant priors. */
export interface PrefetchOptions {
  /** Emit per-order requests. Default true (the daily run has its own switch). */
  enabled: boolean;
  /** Messages that trigger a per-order request. Default `["order", "S12"]`; `A04`, `A05` optional. */
  triggers: readonly PrefetchTrigger[];
  /** Relevance table keyed by procedure code and modality. Default none (same modality, any region). */
  relevance: readonly RelevanceRule[];
  /** Look-back period: priors older than this before the order's scheduled time are left out, days. Default 1825 (5 years); 1 to 36 500. */
  lookBackDays: number;
  /** At most this many priors, the most recent first. Default 5; 1 to 1000. */
  maxPriors: number;
  /** How far ahead of the scheduled time the pre-fetch should happen (`fetchAt` in the request), minutes. Default 720 (12 h); 0 to 525 600. */
  leadTimeMinutes: number;
  /** The daily run. */
  daily: DailyPrefetchOptions;
  /** IANA time zone of `daily.time`, of dates and of the times written in requests. Default: the engine's `mapping.timeZone`. */
  timeZone: string;
}

/** RIS-PACS synchronisation. */
export interface SyncOptions {
  /** Emit `sync.requested`. Default true. */
  enabled: boolean;
  /** Which kinds of change are synchronised. Default all four. */
  changes: readonly SyncChange[];
  /**
   * Assigning authority whose identifier is the DICOM PatientID (the others go to
   * OtherPatientIDsSequence). Default: the patient's first identifier.
   */
  primaryAuthority?: string;
}

/** The `workflows` section. */
export interface WorkflowsOptions {
  prefetch: PrefetchOptions;
  sync: SyncOptions;
}

/** The section as written in a config file: every part optional. */
export interface WorkflowsInput {
  prefetch?: Partial<Omit<PrefetchOptions, 'daily'>> & { daily?: Partial<DailyPrefetchOptions> };
  sync?: Partial<SyncOptions>;
}

/** Defaults (the time zone comes from the engine). */
export const WORKFLOWS_DEFAULTS = Object.freeze({
  prefetch: Object.freeze({
    enabled: true,
    triggers: Object.freeze([PrefetchTrigger.Order, PrefetchTrigger.S12]) as readonly PrefetchTrigger[],
    relevance: Object.freeze([]) as readonly RelevanceRule[],
    lookBackDays: 1825,
    maxPriors: 5,
    leadTimeMinutes: 720,
    daily: Object.freeze({ enabled: true, time: '18:00', daysAhead: 1, windowDays: 1 }),
  }),
  sync: Object.freeze({
    enabled: true,
    changes: Object.freeze(Object.values(SyncChange)) as readonly SyncChange[],
  }),
});

function isObject(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function checkRule(rule: unknown, i: number): RelevanceRule {
  const where = `workflows.prefetch.relevance[${i}]`;
  if (!isObject(rule)) throw new TypeError(`${where} must be an object`);
  const r = rule as Record<string, unknown>;
  for (const k of Object.keys(r)) {
    if (!['procedureCode', 'modality', 'bodyRegion', 'priorModalities'].includes(k)) {
      throw new RangeError(`${where} has an unknown field "${k}" (known: procedureCode, modality, bodyRegion, priorModalities)`);
    }
  }
  for (const k of ['procedureCode', 'modality', 'bodyRegion'] as const) {
    const v = r[k];
    if (v !== undefined && (typeof v !== 'string' || v.trim() === '')) throw new RangeError(`${where}.${k} must be a non-empty string`);
  }
  const pm = r.priorModalities;
  if (pm !== undefined && (!Array.isArray(pm) || pm.length === 0 || !pm.every((m) => typeof m === 'string' && m.trim() !== ''))) {
    throw new RangeError(`${where}.priorModalities must be a non-empty list of modalities (or "*")`);
  }
  const out: RelevanceRule = {};
  if (typeof r.procedureCode === 'string') out.procedureCode = r.procedureCode.trim();
  if (typeof r.modality === 'string') out.modality = r.modality.trim().toUpperCase();
  if (typeof r.bodyRegion === 'string') out.bodyRegion = r.bodyRegion.trim().toUpperCase();
  if (Array.isArray(pm)) out.priorModalities = Object.freeze(pm.map((m: string) => m.trim().toUpperCase())) as string[];
  return Object.freeze(out);
}

/**
 * Fills defaults, validates and freezes the `workflows` section. `engineTimeZone` (the
 * engine's `mapping.timeZone`) is the default of `prefetch.timeZone`. Throws RangeError or
 * TypeError with an exact message naming the field.
 */
export function resolveWorkflowsOptions(input: WorkflowsInput | undefined, engineTimeZone: string): WorkflowsOptions {
  const i = input === undefined ? {} : input;
  if (!isObject(i)) throw new TypeError('workflows must be an object');
  const pIn = i.prefetch === undefined ? {} : i.prefetch;
  if (!isObject(pIn)) throw new TypeError('workflows.prefetch must be an object');
  const dIn = pIn.daily === undefined ? {} : pIn.daily;
  if (!isObject(dIn)) throw new TypeError('workflows.prefetch.daily must be an object');
  const sIn = i.sync === undefined ? {} : i.sync;
  if (!isObject(sIn)) throw new TypeError('workflows.sync must be an object');
  const dp = WORKFLOWS_DEFAULTS.prefetch;

  const enabled = pIn.enabled ?? dp.enabled;
  if (typeof enabled !== 'boolean') throw new TypeError('workflows.prefetch.enabled must be a boolean');
  const triggers = pIn.triggers ?? dp.triggers;
  const known: readonly string[] = Object.values(PrefetchTrigger);
  if (!Array.isArray(triggers) || !triggers.every((t) => known.includes(t))) {
    throw new RangeError(`workflows.prefetch.triggers must be a list of ${known.map((t) => `"${t}"`).join(', ')}`);
  }
  const relevanceIn = pIn.relevance ?? dp.relevance;
  if (!Array.isArray(relevanceIn)) throw new TypeError('workflows.prefetch.relevance must be an array');
  const relevance = relevanceIn.map((r, n) => checkRule(r, n));
  const lookBackDays = pIn.lookBackDays ?? dp.lookBackDays;
  checkInt(lookBackDays, 1, 36_500, 'workflows.prefetch.lookBackDays must be between 1 and 36500');
  const maxPriors = pIn.maxPriors ?? dp.maxPriors;
  checkInt(maxPriors, 1, 1000, 'workflows.prefetch.maxPriors must be between 1 and 1000');
  const leadTimeMinutes = pIn.leadTimeMinutes ?? dp.leadTimeMinutes;
  checkInt(leadTimeMinutes, 0, 525_600, 'workflows.prefetch.leadTimeMinutes must be between 0 and 525600');
  const timeZone = pIn.timeZone ?? engineTimeZone;
  if (typeof timeZone !== 'string' || !isTimeZone(timeZone)) {
    throw new RangeError(`workflows.prefetch.timeZone must be an IANA time zone name, got ${JSON.stringify(timeZone)}`);
  }

  const daily: DailyPrefetchOptions = {
    enabled: dIn.enabled ?? dp.daily.enabled,
    time: dIn.time ?? dp.daily.time,
    daysAhead: dIn.daysAhead ?? dp.daily.daysAhead,
    windowDays: dIn.windowDays ?? dp.daily.windowDays,
  };
  if (typeof daily.enabled !== 'boolean') throw new TypeError('workflows.prefetch.daily.enabled must be a boolean');
  if (typeof daily.time !== 'string' || !/^([01]\d|2[0-3]):[0-5]\d$/.test(daily.time)) {
    throw new RangeError('workflows.prefetch.daily.time must be HH:MM between 00:00 and 23:59');
  }
  checkInt(daily.daysAhead, 0, 30, 'workflows.prefetch.daily.daysAhead must be between 0 and 30');
  checkInt(daily.windowDays, 1, 31, 'workflows.prefetch.daily.windowDays must be between 1 and 31');

  const ds = WORKFLOWS_DEFAULTS.sync;
  const syncEnabled = sIn.enabled ?? ds.enabled;
  if (typeof syncEnabled !== 'boolean') throw new TypeError('workflows.sync.enabled must be a boolean');
  const changes = sIn.changes ?? ds.changes;
  const kinds: readonly string[] = Object.values(SyncChange);
  if (!Array.isArray(changes) || !changes.every((c) => kinds.includes(c))) {
    throw new RangeError(`workflows.sync.changes must be a list of ${kinds.map((c) => `"${c}"`).join(', ')}`);
  }
  const primary = sIn.primaryAuthority;
  if (primary !== undefined && (typeof primary !== 'string' || primary.trim() === '')) {
    throw new RangeError('workflows.sync.primaryAuthority must be a non-empty string');
  }
  const sync: SyncOptions = { enabled: syncEnabled, changes: Object.freeze([...new Set(changes)]) };
  if (primary !== undefined) sync.primaryAuthority = primary.trim();

  return Object.freeze({
    prefetch: Object.freeze({
      enabled,
      triggers: Object.freeze([...new Set(triggers)]),
      relevance: Object.freeze(relevance),
      lookBackDays,
      maxPriors,
      leadTimeMinutes,
      daily: Object.freeze(daily),
      timeZone,
    }),
    sync: Object.freeze(sync),
  });
}
