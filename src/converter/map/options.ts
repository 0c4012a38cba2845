/**
 * Options of the mapping functions (src/converter/map/*.ts): the time zone HL7 times without
 * an offset are read in, identifier normalisation, and per-sender settings keyed by MSH-3
 * (DOMAIN.md §4.4: "make it configurable per sender"; §5: filter noisy ADT feeds).
 *
 * Build them once with {@link createMappingOptions}, which fills defaults, validates (throwing
 * RangeError with an exact message) and freezes; the mappers take the result as trusted.
 */
import { systemTimeZone } from '../../hl7/index.js';
import type { IdentityOptions } from '../../repository/identity.js';
import { OrderStatus } from '../../repository/model.js';

/** Where a sender puts the accession number (DOMAIN.md §4.4, §6 quirk 22). */
export const ACCESSION_LOCATIONS = ['OBR-18', 'OBR-19', 'OBR-20', 'OBR-3', 'ORC-3', 'ORC-2', 'IPC-1'] as const;
/** One accession location. */
export type AccessionLocation = (typeof ACCESSION_LOCATIONS)[number];

/** Settings that may differ per sender. */
export interface SenderOptions {
  /**
   * Where ORM^O01 and ORU^R01 carry the accession number. Default `'OBR-18'` (IHE RAD-4).
   * `'IPC-1'` finds nothing in these messages (they have no IPC).
   */
  accession: AccessionLocation;
  /** Where OMI^O23 (and OMG^O19) carry the accession number. Default `'IPC-1'` (IHE SWF.b). */
  omiAccession: AccessionLocation;
  /** Assigning authority given to a CX whose CX-4 is empty (PID-3, MRG-1, ...). Default `''` (none). */
  defaultAuthority: string;
  /** Authority whose identifiers are listed first in `PatientData.identifiers`. Default none (message order). */
  primaryAuthority?: string;
  /** ADT trigger events (e.g. `['A02']`) accepted with AA but not applied. Default none. */
  ignoreEvents: readonly string[];
  /**
   * Extra or overriding rows of the ORC-1 × ORC-5 table (order-status.ts) for a sender with
   * non-IHE combinations (quirk 23), keyed `ORC1_ORC5` (`XO_IP`, `NW_` for an empty ORC-5),
   * valued with an order status word or `'ignore'` (acknowledged, not applied). Default none.
   */
  orderStatusMap?: Readonly<Record<string, OrderStatus | 'ignore'>>;
}

/** Options of {@link mapMessage}. */
export interface MappingOptions {
  /** IANA time zone for HL7 times without an offset. Default: the system's, resolved once at load. */
  timeZone: string;
  /** Identifier normalisation (authority aliases, leading zeros). Default none. */
  identity: IdentityOptions;
  /** Settings for every sender not listed in `senders`. Default {@link MAPPING_DEFAULTS}`.defaults`. */
  defaults: SenderOptions;
  /**
   * Per-sender overrides of `defaults`, keyed by MSH-3 (its namespace ID or whole wire form)
   * or by `MSH-3^MSH-4`; the `MSH-3^MSH-4` key wins over the MSH-3 key. Default none.
   */
  senders: Readonly<Record<string, Partial<SenderOptions>>>;
}

/** Options as a caller writes them: every part optional. */
export interface MappingOptionsInput {
  timeZone?: string;
  identity?: IdentityOptions;
  defaults?: Partial<SenderOptions>;
  senders?: Record<string, Partial<SenderOptions>>;
}

/** The default options (frozen). */
export const MAPPING_DEFAULTS: MappingOptions = Object.freeze({
  timeZone: systemTimeZone(),
  identity: Object.freeze({}),
  defaults: Object.freeze({ accession: 'OBR-18', omiAccession: 'IPC-1', defaultAuthority: '', ignoreEvents: Object.freeze([]) as readonly string[] }),
  senders: Object.freeze({}),
});

/** Fills defaults, validates and freezes mapping options. Throws RangeError on a bad value. */
export function createMappingOptions(input: MappingOptionsInput = {}): MappingOptions {
  const timeZone = input.timeZone ?? MAPPING_DEFAULTS.timeZone;
  if (typeof timeZone !== 'string' || !isTimeZone(timeZone)) {
    throw new RangeError(`mapping.timeZone must be an IANA time zone name, got ${JSON.stringify(timeZone)}`);
  }
  const defaults = checkSender({ ...MAPPING_DEFAULTS.defaults, ...input.defaults }, 'mapping.defaults') as SenderOptions;
  const senders: Record<string, Partial<SenderOptions>> = {};
  for (const [key, value] of Object.entries(input.senders ?? {})) {
    if (key.trim() === '') throw new RangeError('mapping.senders keys must be MSH-3 or MSH-3^MSH-4, not empty');
    senders[key] = checkSender({ ...value }, `mapping.senders[${JSON.stringify(key)}]`);
  }
  const identity = input.identity ?? MAPPING_DEFAULTS.identity;
  return Object.freeze({ timeZone, identity: Object.freeze({ ...identity }), defaults, senders: Object.freeze(senders) });
}

/** The settings for one sender: `senders["MSH-3^MSH-4"]`, else `senders[MSH-3]`, over `defaults`. */
export function senderOptions(options: MappingOptions, msh3: string, msh4: string): SenderOptions {
  const ns3 = msh3.split('&')[0] ?? '';
  const ns4 = msh4.split('&')[0] ?? '';
  const byApp = options.senders[msh3] ?? options.senders[ns3];
  const byBoth = options.senders[`${msh3}^${msh4}`] ?? options.senders[`${ns3}^${ns4}`];
  if (byApp === undefined && byBoth === undefined) return options.defaults;
  return { ...options.defaults, ...byApp, ...byBoth };
}

function checkSender(s: Partial<SenderOptions>, where: string): Partial<SenderOptions> {
  for (const key of ['accession', 'omiAccession'] as const) {
    const v = s[key];
    if (v !== undefined && !(ACCESSION_LOCATIONS as readonly string[]).includes(v)) {
      throw new RangeError(`${where}.${key} must be one of ${ACCESSION_LOCATIONS.join(', ')}`);
    }
  }
  if (s.defaultAuthority !== undefined && typeof s.defaultAuthority !== 'string') {
    throw new RangeError(`${where}.defaultAuthority must be a string`);
  }
  if (s.primaryAuthority !== undefined && typeof s.primaryAuthority !== 'string') {
    throw new RangeError(`${where}.primaryAuthority must be a string`);
  }
  if (s.orderStatusMap !== undefined) {
    const allowed: readonly string[] = [...Object.values(OrderStatus), 'ignore'];
    for (const [key, value] of Object.entries(s.orderStatusMap)) {
      if (!/^[A-Z0-9]{2}_[A-Z0-9]{0,2}$/.test(key) || !allowed.includes(value)) {
        throw new RangeError(`${where}.orderStatusMap entries must be ORC1_ORC5 (e.g. "XO_IP") mapped to one of ${allowed.join(', ')}`);
      }
    }
    s.orderStatusMap = Object.freeze({ ...s.orderStatusMap });
  }
  if (s.ignoreEvents !== undefined) {
    if (!Array.isArray(s.ignoreEvents) || !s.ignoreEvents.every((e) => typeof e === 'string' && /^[A-Z][0-9A-Z]{2}$/.test(e))) {
      throw new RangeError(`${where}.ignoreEvents must be a list of trigger events such as "A02"`);
    }
    s.ignoreEvents = Object.freeze([...s.ignoreEvents]);
  }
  return Object.freeze(s);
}

/** True when `name` is an IANA time zone this Node knows (the check the mapping and workflows options share). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return name !== '';
  } catch {
    return false;
  }
}
