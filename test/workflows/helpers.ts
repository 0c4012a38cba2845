/**
 * Helpers of the workflows tests: HL7 message builders and a harness that applies messages
 * through the real mapping, repository and applier (with the workflows' hook), one message
 * per transaction, and returns the events each appended.
 */
import type { TestContext } from 'node:test';
import type { Applier } from '../../src/converter/applier.js';
import { mapBytes } from '../../src/converter/map/index.js';
import { offlineApplier, openConversionStore, type ConversionStore } from '../../src/converter/stage.js';
import { resolveEngineOptions, type EngineInput, type EngineOptions } from '../../src/config.js';
import type { EngineEvent } from '../../src/events/types.js';
import { Hl7Message } from '../../src/hl7/index.js';
import type { PrefetchRequestedData, SyncRequestedData, Workflows } from '../../src/workflows/index.js';
import { tempDir } from '../converter/helpers.js';

export { tempDir };

function seg(id: string, fields: Record<number, string>): string {
  const n = Math.max(0, ...Object.keys(fields).map(Number));
  const out: string[] = [id];
  for (let i = 1; i <= n; i++) out.push(fields[i] ?? '');
  return out.join('|');
}

let control = 0;
function msh(type: string, time: string): string {
  return `MSH|^~\\&|RIS|HOSP|PACS|RAD|${time}||${type}|M${++control}|P|2.5.1`;
}

/** PID with identifiers `ids` (`ID^^^AUTH^MR`, `~` between repetitions) and demographics. */
export function pidSeg(ids: string, o: { name?: string; dob?: string; sex?: string } = {}): string {
  return seg('PID', { 1: '1', 3: ids, 5: o.name ?? 'DOE^JOHN', 7: o.dob ?? '19700101', 8: o.sex ?? 'M' });
}

/** An ADT message: `event` with PID (and MRG for merges / identifier changes). */
export function adt(event: string, ids: string, o: { name?: string; dob?: string; sex?: string; mrg?: string; time?: string } = {}): Uint8Array {
  const time = o.time ?? '20240102120000';
  const structure = { A40: 'ADT_A39', A34: 'ADT_A30', A47: 'ADT_A30', A31: 'ADT_A05', A05: 'ADT_A05' }[event] ?? 'ADT_A01';
  const segs = [msh(`ADT^${event}^${structure}`, time), `EVN|${event}|${time}`, pidSeg(ids, o)];
  if (o.mrg !== undefined) segs.push(`MRG|${o.mrg}`);
  else segs.push('PV1|1|O|RAD^XR1');
  return Buffer.from(segs.join('\r') + '\r', 'utf8');
}

/** Order fields for {@link orm}. */
export interface OrderSpec {
  ids?: string;
  accession: string;
  placer?: string;
  filler?: string;
  modality?: string;
  /** OBR-4 `code^text^system`. */
  service?: string;
  /** OBR-44 `code^text^system`. */
  procedureCode?: string;
  bodyPart?: string;
  /** HL7 time of ORC-7.4, or '' for none. */
  scheduled?: string;
  uid?: string;
  control?: string;
  status?: string;
  time?: string;
}

/** An ORM^O01 (IHE RAD-4/13) with ZDS. */
export function orm(o: OrderSpec): Uint8Array {
  const time = o.time ?? '20240102120000';
  const placer = o.placer ?? `P-${o.accession}`;
  const filler = o.filler ?? `F-${o.accession}`;
  const segs = [
    msh('ORM^O01', time),
    pidSeg(o.ids ?? '1001^^^HOSP^MR'),
    seg('ORC', { 1: o.control ?? 'NW', 2: placer, 3: filler, 5: o.status ?? 'SC', 7: o.scheduled === '' ? '' : `^^^${o.scheduled ?? '20240110090000'}` }),
    seg('OBR', {
      1: '1',
      2: placer,
      3: filler,
      4: o.service ?? '71250^CT THORAX^CPT4',
      15: o.bodyPart === undefined ? '' : `^^^${o.bodyPart}`,
      18: o.accession,
      24: o.modality ?? 'CT',
      44: o.procedureCode ?? '',
    }),
  ];
  if (o.uid !== undefined) segs.push(`ZDS|${o.uid}^PACS^Application^DICOM`);
  return Buffer.from(segs.join('\r') + '\r', 'utf8');
}

/** An SIU (S12 by default) for the order with placer/filler numbers, starting at `start`. */
export function siu(event: string, o: { ids?: string; placer: string; filler: string; start: string; accession?: string; time?: string }): Uint8Array {
  const time = o.time ?? '20240102120000';
  const sch = seg('SCH', { 1: `APT-${o.placer}`, 2: `APTF-${o.filler}`, 11: `^^^${o.start}`, 25: 'Booked', 26: o.placer, 27: o.filler });
  const segs = [msh(`SIU^${event}^SIU_S12`, time), sch, pidSeg(o.ids ?? '1001^^^HOSP^MR'), 'RGS|1', `AIS|1||71250^CT THORAX^CPT4|${o.start}`];
  return Buffer.from(segs.join('\r') + '\r', 'utf8');
}

/** An ORU^R01 final report for `accession`. */
export function oru(o: { ids?: string; accession: string; time: string; status?: string; service?: string }): Uint8Array {
  const segs = [
    msh('ORU^R01', o.time),
    pidSeg(o.ids ?? '1001^^^HOSP^MR'),
    seg('OBR', { 1: '1', 3: `F-${o.accession}`, 4: o.service ?? '71250^CT THORAX^CPT4', 7: o.time, 18: o.accession, 22: o.time, 25: o.status ?? 'F' }),
    'OBX|1|TX|18748-4^Diagnostic Imaging Report^LN||No acute findings.||||||F',
  ];
  return Buffer.from(segs.join('\r') + '\r', 'utf8');
}

/** A conversion store with the workflows, and an applier fed one message at a time. */
export class Harness {
  readonly options: EngineOptions;
  readonly store: ConversionStore;
  readonly workflows: Workflows;
  readonly #applier: Applier;
  readonly #parser = new Hl7Message();
  seq = 0;

  constructor(options: EngineOptions, store: ConversionStore) {
    this.options = options;
    this.store = store;
    this.workflows = store.workflows as Workflows;
    this.#applier = offlineApplier(store, { derive: this.workflows.derive });
    this.seq = store.state.cursor();
  }

  /** Applies messages in order; returns the events they appended. Throws if one is dead-lettered. */
  send(...messages: Uint8Array[]): EngineEvent[] {
    const before = this.store.events.lastSeq();
    for (const raw of messages) {
      const seq = ++this.seq;
      const result = mapBytes(raw, this.options.mapping, this.#parser);
      this.#applier.accept({ fromSeq: seq, toSeq: seq, items: [{ seq, result, ns: 0 }], parseNs: 0, ns: 0 });
      this.#applier.flush();
      const letter = this.store.deadLetters.get(seq);
      if (letter !== undefined) throw new Error(`message ${seq} dead-lettered: ${letter.code} ${letter.message}`);
    }
    return this.store.events.range(before, 1e6);
  }

  /** All events so far. */
  all(): EngineEvent[] {
    return this.store.events.range(0, 1e6);
  }
}

/** Opens a harness over a fresh data directory (closed after the test). */
export async function harness(t: TestContext, input: EngineInput = {}): Promise<Harness> {
  const dir = await tempDir(t, 'pacslink-wf-');
  const options = resolveEngineOptions({ mapping: { timeZone: 'Europe/Berlin' }, ...input, dataDir: dir });
  const store = await openConversionStore(options);
  t.after(() => store.repository.close());
  return new Harness(options, store);
}

/** The `prefetch.requested` data among `events`. */
export function prefetches(events: readonly EngineEvent[]): PrefetchRequestedData[] {
  return events.filter((e) => e.type === 'prefetch.requested').map((e) => e.data as unknown as PrefetchRequestedData);
}

/** The `sync.requested` data among `events`. */
export function syncs(events: readonly EngineEvent[]): SyncRequestedData[] {
  return events.filter((e) => e.type === 'sync.requested').map((e) => e.data as unknown as SyncRequestedData);
}
