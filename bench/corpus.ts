/**
 * A seeded, deterministic corpus of HL7 v2 messages shaped like a radiology interface's
 * traffic: ADT from the HIS, orders (ORM^O01 with the IHE SWF ZDS segment, OMI^O23 with
 * TQ1 and IPC), reports (ORU^R01 with 10–60 TX/FT OBX lines carrying escape sequences) and
 * schedules (SIU^S12). Segments end with CR (HL7 v2.5.1 §2.5.4); about a quarter of the
 * messages declare `UNICODE UTF-8` in MSH-18 and carry non-ASCII names and report text.
 *
 * The four values the parser benchmark reads (MSH-10, PID-3.1, PID-5.1, OBR-4.1) never hold
 * escape sequences, so every parser, escape-aware or not, can agree on them; they are
 * returned as `expected` by {@link generateLabelledCorpus}.
 *
 * No dependencies and no I/O except {@link writeCorpusFile}.
 */
import { writeFileSync } from 'node:fs';

/** The message types of the mix, as MSH-9.1^MSH-9.2. */
export const MESSAGE_KINDS = [
  'ADT^A01', 'ADT^A04', 'ADT^A08', 'ADT^A03', 'ADT^A40',
  'ORM^O01', 'OMI^O23', 'ORU^R01', 'SIU^S12',
] as const;

/** One message type of the mix. */
export type MessageKind = (typeof MESSAGE_KINDS)[number];

/** Relative share of each message type in a day of a mid-size radiology department's feed. */
export const DEFAULT_WEIGHTS: Readonly<Record<MessageKind, number>> = Object.freeze({
  'ADT^A01': 8, 'ADT^A04': 10, 'ADT^A08': 14, 'ADT^A03': 6, 'ADT^A40': 2,
  'ORM^O01': 22, 'OMI^O23': 8, 'ORU^R01': 22, 'SIU^S12': 8,
});

/** Size bounds of every generated message, in bytes (UTF-8, CR terminators included). */
export const CORPUS_SIZE_BOUNDS: Readonly<{ min: number; max: number }> = Object.freeze({ min: 256, max: 9216 });

/** Options of {@link generateCorpus}. */
export interface CorpusOptions {
  /** PRNG seed, an unsigned 32-bit integer. The same seed always yields the same bytes. */
  seed: number;
  /** Number of messages, 0 to 1,000,000. */
  count: number;
  /** Relative weights per type; missing types use {@link DEFAULT_WEIGHTS}, 0 leaves a type out. */
  weights?: Partial<Record<MessageKind, number>>;
  /** Share of messages sent as `UNICODE UTF-8` with non-ASCII text, 0–1. Default 0.25. */
  utf8Share?: number;
}

/** The values of the four fields the parser benchmark reads, `''` where the segment is absent. */
export interface ExpectedValues {
  msh10: string;
  pid3_1: string;
  pid5_1: string;
  obr4_1: string;
}

/** One generated message with what was put in it. */
export interface CorpusMessage {
  kind: MessageKind;
  /** The message as it arrives from the network: UTF-8 bytes, each segment ending in CR. */
  bytes: Uint8Array;
  expected: ExpectedValues;
  /** True when MSH-18 is `UNICODE UTF-8`. */
  utf8: boolean;
}

/** A seeded uniform random source. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number;
  /** One element of a non-empty list. */
  pick<T>(list: readonly T[]): T;
  /** True with probability `p`. */
  chance(p: number): boolean;
}

/** mulberry32: a tiny 32-bit PRNG, good enough for test data and fully reproducible. */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  return { next, int, pick, chance: (p) => next() < p };
}

// ---- reference tables -------------------------------------------------------------------

const FAMILY = ['SMITH', 'JOHNSON', 'WILLIAMS', 'BROWN', 'JONES', 'GARCIA', 'MILLER', 'DAVIS', 'RODRIGUEZ',
  'MARTINEZ', 'HERNANDEZ', 'LOPEZ', 'WILSON', 'ANDERSON', 'THOMAS', 'TAYLOR', 'MOORE', 'JACKSON', 'LEE',
  "O'BRIEN", 'NGUYEN', 'PATEL', 'KOWALSKI', 'VAN DER BERG', 'MCALLISTER', 'SCHMIDT', 'DUBOIS', 'OKAFOR'];
const FAMILY_UTF8 = ['MÜLLER', 'GARCÍA', 'NÚÑEZ', 'BJÖRK', 'DVOŘÁK', 'SØRENSEN', 'ŁUKASIEWICZ', 'FRANÇOIS',
  'ÖZTÜRK', 'ИВАНОВ', 'NGUYỄN', '山田', '王', 'ΠΑΠΑΔΟΠΟΥΛΟΣ', 'JÄÄSKELÄINEN'];
const GIVEN = ['JOHN', 'MARY', 'ROBERT', 'PATRICIA', 'MICHAEL', 'LINDA', 'JAMES', 'BARBARA', 'DAVID',
  'ELIZABETH', 'WEI', 'PRIYA', 'AHMED', 'FATIMA', 'CARLOS', 'ANNA', 'CHIDI', 'SOPHIE'];
const GIVEN_UTF8 = ['JOSÉ', 'ZOË', 'RENÉE', 'SØREN', 'ÉLODIE', 'JÜRGEN', '太郎', 'ÅSA', 'ŽELJKO', 'MAŁGORZATA', 'СЕРГЕЙ'];
const CITIES: ReadonlyArray<readonly [string, string, string]> = [
  ['SPRINGFIELD', 'IL', '62701'], ['MADISON', 'WI', '53703'], ['AUSTIN', 'TX', '73301'],
  ['PORTLAND', 'OR', '97201'], ['ALBANY', 'NY', '12207'], ['COLUMBUS', 'OH', '43215'], ['DENVER', 'CO', '80202'],
];
const STREETS = ['MAIN ST', 'OAK AVE', 'MAPLE DR', 'ELM ST', 'PARK BLVD', 'LAKEVIEW RD', 'CEDAR LN'];
const PROVIDERS = ['1234567890^HOUSE^GREGORY^M', '2345678901^QUINN^MICHAELA^A', '3456789012^GREY^MEREDITH',
  '4567890123^CARTER^JOHN^T', '5678901234^ROSS^DOUGLAS', '6789012345^BAILEY^MIRANDA^L', '7890123456^SHEPHERD^DEREK'];
const RADIOLOGISTS = ['8901234567^ROENTGEN^WILHELM^C', '9012345678^CURIE^MARIE', '1122334455^HOUNSFIELD^GODFREY^N'];
const LOCATIONS = ['ED^ED12^01^MAIN^^^MAIN^1', 'RAD^XR1^^MAIN^^^MAIN^B', '4W^412^B^MAIN^^^MAIN^4',
  'ICU^ICU03^01^MAIN^^^MAIN^3', 'OPC^CLINIC2^^NORTH^^^NORTH^1', 'RAD^CT2^^MAIN^^^MAIN^B', 'RAD^MR1^^NORTH^^^NORTH^G'];

interface Procedure { code: string; text: string; system: string; modality: string }
const PROCEDURES: readonly Procedure[] = [
  { code: '71020', text: 'CHEST XRAY 2 VIEWS', system: 'CPT4', modality: 'CR' },
  { code: '71045', text: 'XRAY CHEST 1 VIEW', system: 'CPT4', modality: 'DX' },
  { code: '70450', text: 'CT HEAD W/O CONTRAST', system: 'CPT4', modality: 'CT' },
  { code: '74177', text: 'CT ABD \\T\\ PELVIS W CONTRAST', system: 'CPT4', modality: 'CT' },
  { code: '71250', text: 'CT THORAX W/O CONTRAST', system: 'CPT4', modality: 'CT' },
  { code: '71275', text: 'CTA CHEST', system: 'CPT4', modality: 'CT' },
  { code: '70551', text: 'MRI BRAIN W/O CONTRAST', system: 'CPT4', modality: 'MR' },
  { code: '72148', text: 'MRI LUMBAR SPINE W/O CONTRAST', system: 'CPT4', modality: 'MR' },
  { code: '73721', text: 'MRI KNEE W/O CONTRAST', system: 'CPT4', modality: 'MR' },
  { code: '76700', text: 'US ABDOMEN COMPLETE', system: 'CPT4', modality: 'US' },
  { code: '76856', text: 'US PELVIS COMPLETE', system: 'CPT4', modality: 'US' },
  { code: '77067', text: 'SCREENING MAMMOGRAPHY BILATERAL', system: 'CPT4', modality: 'MG' },
  { code: '78815', text: 'PET/CT SKULL BASE TO MID-THIGH', system: 'CPT4', modality: 'PT' },
  { code: '73610', text: 'XRAY ANKLE 3 VIEWS', system: 'CPT4', modality: 'CR' },
  { code: '77080', text: 'DXA BONE DENSITY AXIAL', system: 'CPT4', modality: 'BMD' },
  { code: 'RAD1042', text: 'FLUORO SWALLOW STUDY', system: 'L', modality: 'RF' },
];

const FINDINGS = [
  'Lungs are clear. No focal consolidation, pleural effusion or pneumothorax.',
  'Heart size is normal \\T\\ the mediastinal contours are unremarkable.',
  'No acute intracranial hemorrhage, mass effect or midline shift.',
  'Gray-white matter differentiation is preserved.',
  'Mild degenerative disc disease at L4-L5 \\T\\ L5-S1 without canal stenosis.',
  'Liver, spleen and pancreas are unremarkable. No biliary ductal dilatation.',
  'Stable 4 mm nodule in the right upper lobe (series 3, image 42).',
  'Osseous structures are intact.\\.br\\No acute fracture or dislocation.',
  'Small hiatal hernia. Otherwise normal appearance of the upper GI tract.',
  'Scattered fibroglandular densities (BI-RADS density B).',
  'Visualized soft tissues are within normal limits.',
  'Trace free fluid in the pelvis, likely physiologic.',
  'Findings were discussed with the ordering provider by telephone\\X0D0A\\at the time of dictation.',
  'Ratio of AP to transverse diameter 3\\S\\2, unchanged.',
  'Report template: normal \\F\\ abnormal sections completed.',
  '\\H\\CRITICAL RESULT\\N\\ communicated per department policy.',
];
const FINDINGS_UTF8 = ['Lesion measures 12 × 8 mm, previously 11 × 8 mm.', 'Knee flexion limited to 35° on the scout images.',
  'Befund: kein Anhalt für Fraktur; Größe unverändert.', 'Ø 5 mm calcified granuloma, unchanged.'];
const IMPRESSIONS = ['No acute cardiopulmonary process.', 'No acute intracranial abnormality.',
  'Stable examination compared with prior.', 'BI-RADS 1: negative.',
  'Recommend follow-up CT in 6-12 months\\X0D0A\\per Fleischner Society guidelines.',
  '1. Degenerative changes.\\.br\\2. No acute osseous abnormality.'];

// ---- field builders ---------------------------------------------------------------------

const ROOT_UID = '1.2.840.113619.2.55.3';

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** A DTM in the second half of 2024 or 2025, seconds precision, some with a UTC offset. */
function timestamp(r: Random): string {
  const d = new Date(Date.UTC(2024, 6, 1) + r.int(0, 540 * 86400) * 1000);
  const base = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}` +
    `${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}`;
  return r.chance(0.3) ? `${base}${r.pick(['-0500', '-0600', '+0100'])}` : base;
}

function birthDate(r: Random): string {
  return `${r.int(1930, 2023)}${pad(r.int(1, 12), 2)}${pad(r.int(1, 28), 2)}`;
}

function digits(r: Random, n: number): string {
  let s = String(r.int(1, 9));
  while (s.length < n) s += String(r.int(0, 9));
  return s;
}

/** Builds a segment from field values by position (1-based); gaps stay empty. */
function segment(id: string, fields: Record<number, string>): string {
  const max = Math.max(...Object.keys(fields).map(Number));
  const out: string[] = [id];
  for (let i = 1; i <= max; i++) out.push(fields[i] ?? '');
  return out.join('|');
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00) { n += 4; i++; } else n += 3;
  }
  return n;
}

/** What the messages of one patient encounter share. */
interface Context {
  r: Random;
  kind: MessageKind;
  utf8: boolean;
  mrn: string;
  family: string;
  ts: string;
  proc: Procedure;
  accession: string;
  studyUid: string;
  placer: string;
  filler: string;
}

const VERSION: Record<MessageKind, readonly string[]> = {
  'ADT^A01': ['2.3', '2.4', '2.5'], 'ADT^A04': ['2.3', '2.4', '2.5'], 'ADT^A08': ['2.3', '2.4', '2.5'],
  'ADT^A03': ['2.3', '2.5'], 'ADT^A40': ['2.4', '2.5'], 'ORM^O01': ['2.3', '2.3.1'], 'OMI^O23': ['2.5.1'],
  'ORU^R01': ['2.3', '2.4', '2.5.1'], 'SIU^S12': ['2.5'],
};
const STRUCTURE: Record<MessageKind, string> = {
  'ADT^A01': 'ADT_A01', 'ADT^A04': 'ADT_A01', 'ADT^A08': 'ADT_A01', 'ADT^A03': 'ADT_A03', 'ADT^A40': 'ADT_A39',
  'ORM^O01': 'ORM_O01', 'OMI^O23': 'OMI_O23', 'ORU^R01': 'ORU_R01', 'SIU^S12': 'SIU_S12',
};
const SENDERS: Record<string, readonly string[]> = {
  ADT: ['EPICADT^HOSP', 'CERNER^HOSP', 'HIS^1.2.3.4.10^ISO'], ORM: ['RIS^RADIOLOGY', 'EPICRAD^HOSP'],
  OMI: ['RIS^RADIOLOGY'], ORU: ['POWERSCRIBE^RADIOLOGY', 'RIS^RADIOLOGY'], SIU: ['RIS^RADIOLOGY', 'EPICCADENCE^HOSP'],
};

function msh(c: Context, controlId: string): string {
  const [type, event] = c.kind.split('^') as [string, string];
  const sender = c.r.pick(SENDERS[type] ?? ['HIS^HOSP']).split('^');
  const app = sender.length > 2 ? sender.join('^') : sender[0] ?? '';
  const fac = sender.length > 2 ? 'HOSP' : sender[1] ?? '';
  // MSH-9.3 (message structure) arrived with v2.3.1; MSH-17/18 are only sent with a charset.
  const version = c.r.pick(VERSION[c.kind]);
  const type9 = version === '2.3' ? `${type}^${event}` : `${type}^${event}^${STRUCTURE[c.kind]}`;
  const fields: Record<number, string> = {
    3: app, 4: fac, 5: 'PACSLINK', 6: 'RADIOLOGY', 7: c.ts, 9: type9, 10: controlId, 11: 'P', 12: version,
  };
  if (c.r.chance(0.5)) { fields[15] = 'AL'; fields[16] = 'NE'; }
  if (c.utf8) { fields[17] = 'USA'; fields[18] = 'UNICODE UTF-8'; }
  // MSH-1 is the field separator itself, so MSH-2 follows the segment ID directly.
  fields[2] = '^~\\&';
  return segment('MSH', fields).replace('MSH||', 'MSH|');
}

function evn(c: Context): string {
  return segment('EVN', { 1: c.kind.slice(4), 2: c.ts, 5: `${digits(c.r, 6)}^REGISTRAR^JANE` });
}

function pid(c: Context): string {
  const { r } = c;
  const ids = [`${c.mrn}^^^HOSP&1.2.3.4&ISO^MR`];
  if (r.chance(0.6)) ids.push(`${digits(r, 9)}^^^EMPI&1.2.3.4.5&ISO^PI`);
  if (r.chance(0.3)) ids.push(`${digits(r, 9)}^^^SSA&2.16.840.1.113883.4.1&ISO^SS`);
  const given = c.utf8 && r.chance(0.5) ? r.pick(GIVEN_UTF8) : r.pick(GIVEN);
  let name = `${c.family}^${given}^${r.pick(['A', 'B', 'J', 'M', ''])}^^${r.pick(['MR', 'MRS', 'MS', ''])}^^L`;
  if (r.chance(0.1)) name += `~${r.pick(FAMILY)}^${given}^^^^^M`;
  const [city, state, zip] = r.pick(CITIES);
  return segment('PID', {
    1: '1', 3: ids.join('~'), 5: name, 7: birthDate(r), 8: r.pick(['F', 'M', 'O', 'U']),
    10: r.pick(['2106-3^White^CDCREC', '2054-5^Black or African American^CDCREC', '2028-9^Asian^CDCREC', '']),
    11: `${r.int(1, 9999)} ${r.pick(STREETS)}^^${city}^${state}^${zip}^USA^H`,
    13: `^PRN^PH^^1^${r.int(200, 989)}^${digits(r, 7)}`, 16: r.pick(['M', 'S', 'D', 'W', '']),
    18: `${digits(r, 10)}^^^HOSP&1.2.3.4&ISO^AN`,
  });
}

function pv1(c: Context, discharged = false): string {
  const { r } = c;
  const fields: Record<number, string> = {
    1: '1', 2: r.pick(['I', 'O', 'E']), 3: r.pick(LOCATIONS), 7: `${r.pick(PROVIDERS)}^^^DR^^^NPI&2.16.840.1.113883.4.6&ISO`,
    8: r.chance(0.5) ? `${r.pick(PROVIDERS)}^^^DR` : '', 10: r.pick(['RAD', 'MED', 'SUR', 'EMR']),
    19: `${digits(r, 9)}^^^HOSP&1.2.3.4&ISO^VN`, 44: c.ts,
  };
  if (discharged) { fields[36] = r.pick(['01', '02', '07']); fields[45] = c.ts; }
  return segment('PV1', fields);
}

/** ORC-5 values that make a valid DOMAIN.md §4.4 pair with each ORC-1 the corpus sends. */
const ORDER_STATUS_FOR: Readonly<Record<string, readonly string[]>> = { NW: ['SC', 'IP', 'SC'], XO: ['SC', 'CM', 'SC'], SC: ['IP', 'CM', 'A'] };

function orc(c: Context, control: string): string {
  const { r } = c;
  return segment('ORC', {
    1: control, 2: `${c.placer}^EPIC`, 3: `${c.filler}^RIS`, 5: control === 'CA' ? 'CA' : r.pick(ORDER_STATUS_FOR[control] ?? ['SC']),
    7: `^^^${c.ts}^^${r.pick(['R', 'S', 'A'])}`, 9: c.ts, 10: `${digits(r, 6)}^ENTRY^CLERK`,
    12: `${r.pick(PROVIDERS)}^^^DR`, 13: r.pick(LOCATIONS),
  });
}

function obr(c: Context, extra: Record<number, string> = {}): string {
  const { r, proc } = c;
  return segment('OBR', {
    1: '1', 2: `${c.placer}^EPIC`, 3: `${c.filler}^RIS`, 4: `${proc.code}^${proc.text}^${proc.system}`, 7: c.ts,
    13: r.chance(0.4) ? r.pick(['Rule out pneumonia', 'Fall, pain', 'Follow-up nodule', 'Headache \\T\\ dizziness']) : '',
    16: `${r.pick(PROVIDERS)}^^^DR`, 18: c.accession, 19: `RP${digits(r, 7)}`, 20: `SPS${digits(r, 7)}`,
    24: proc.modality, 27: `^^^${c.ts}^^${r.pick(['R', 'S'])}`, 31: `^${r.pick(['Cough', 'Trauma', 'Screening', 'Pain'])}`,
    ...extra,
  });
}

// ---- message builders -------------------------------------------------------------------

function adt(c: Context, out: string[]): void {
  const { r } = c;
  out.push(evn(c), pid(c));
  if (c.kind === 'ADT^A40') {
    out.push(segment('MRG', { 1: `${digits(r, 8)}^^^HOSP&1.2.3.4&ISO^MR`, 3: `${digits(r, 10)}^^^HOSP&1.2.3.4&ISO^AN` }));
    if (r.chance(0.5)) out.push(pv1(c));
    return;
  }
  if (c.kind !== 'ADT^A03' && r.chance(0.6)) {
    out.push(segment('NK1', { 1: '1', 2: `${r.pick(FAMILY)}^${r.pick(GIVEN)}`, 3: 'SPO^Spouse^HL70063', 5: `^PRN^PH^^1^555^${digits(r, 7)}` }));
  }
  out.push(pv1(c, c.kind === 'ADT^A03'));
  if (c.kind === 'ADT^A03') return;
  if (r.chance(0.5)) out.push(segment('PV2', { 3: `^${r.pick(['Chest pain', 'Abdominal pain', 'Trauma', 'Shortness of breath'])}` }));
  for (let i = 1, n = r.int(0, 3); i <= n; i++) {
    out.push(segment('AL1', { 1: String(i), 2: 'DA', 3: `${r.pick(['70618^Penicillin', '2670^Codeine', '4-IODINE^Iodinated contrast'])}^RXNORM`, 4: r.pick(['SV', 'MO', 'MI']) }));
  }
  if (r.chance(0.6)) out.push(segment('DG1', { 1: '1', 3: `${r.pick(['R07.9^Chest pain', 'R10.9^Abdominal pain', 'S72.001A^Fracture of femur'])}^I10`, 6: 'A' }));
  if (r.chance(0.5)) {
    out.push(segment('IN1', { 1: '1', 2: `${r.pick(['BCBS', 'AETNA', 'MEDICARE'])}^^HL70072`, 3: digits(r, 6), 4: r.pick(['BLUE CROSS', 'AETNA', 'MEDICARE']), 36: digits(r, 10) }));
  }
}

function order(c: Context, out: string[]): void {
  const { r } = c;
  out.push(pid(c), pv1(c));
  if (c.kind === 'ORM^O01') {
    out.push(orc(c, r.pick(['NW', 'NW', 'NW', 'NW', 'XO', 'CA', 'SC'])), obr(c));
    if (r.chance(0.3)) out.push(segment('NTE', { 1: '1', 3: 'Pt claustrophobic \\T\\ requests sedation. Creatinine 0.9 mg/dL.' }));
    out.push(segment('ZDS', { 1: `${c.studyUid}^PACS^Application^DICOM` }));
    return;
  }
  out.push(orc(c, r.pick(['NW', 'NW', 'XO', 'CA'])));
  const end = c.ts.slice(0, 12);
  out.push(segment('TQ1', { 1: '1', 7: c.ts, 8: end, 9: r.pick(['R^Routine^HL70485', 'S^Stat^HL70485', 'A^ASAP^HL70485']) }));
  out.push(obr(c));
  for (let i = 1, n = r.int(1, 2); i <= n; i++) {
    out.push(segment('IPC', {
      1: c.accession, 2: `RP${digits(r, 7)}`, 3: `${c.studyUid}^PACS^Application^DICOM`, 4: `SPS${digits(r, 7)}-${i}`,
      5: c.proc.modality, 6: `P${r.int(100, 999)}^${c.proc.text} PROTOCOL^99LOCAL`, 7: `${c.proc.modality}SCANNER${r.int(1, 4)}`,
      8: r.pick(LOCATIONS).split('^').slice(0, 2).join('^'), 9: `${c.proc.modality}_AE${r.int(1, 4)}`,
    }));
  }
}

function report(c: Context, out: string[]): void {
  const { r, proc } = c;
  out.push(pid(c), pv1(c), orc(c, 'RE'));
  const rad = r.pick(RADIOLOGISTS).split('^').join('&');
  out.push(obr(c, { 22: c.ts, 25: r.pick(['F', 'F', 'F', 'P', 'C']), 32: `${rad}&&&DR` }));
  const ft = r.chance(0.3);
  const type = ft ? 'FT' : 'TX';
  const target = r.int(10, 60);
  let size = out.reduce((n, s) => n + utf8Length(s) + 1, 0);
  const lines = [
    `EXAM: ${proc.text}`, `ACCESSION: ${c.accession}`, `CLINICAL HISTORY: ${r.pick(['Cough \\T\\ fever', 'Fall', 'Follow-up', 'Pain'])}.`,
    `TECHNIQUE: ${r.pick(['PA and lateral views', 'Axial images without contrast', 'Multiplanar multisequence imaging'])}.`,
    `COMPARISON: ${r.pick(['None.', 'Prior study of 2024-03-02.', 'CT 2023-11-02 \\T\\ radiograph 2024-01-15.'])}`, 'FINDINGS:',
  ];
  for (let n = 1; n <= target; n++) {
    let text: string;
    if (n <= lines.length) text = lines[n - 1] as string;
    else if (n === target - 2) text = 'IMPRESSION:';
    else if (n === target - 1) text = r.pick(IMPRESSIONS);
    else if (n === target) text = `Electronically signed by: ${rad.split('&').slice(1, 3).join(', ')}, MD on ${c.ts.slice(0, 12)}`;
    else text = c.utf8 && r.chance(0.2) ? r.pick(FINDINGS_UTF8) : r.pick(FINDINGS);
    if (ft && r.chance(0.4)) text += `\\.br\\${r.pick(FINDINGS)}`;
    const sub = n > target - 3 ? 'IMP' : 'GDT';
    const line = segment('OBX', { 1: String(n), 2: type, 3: `${proc.code}&${sub}^${proc.text}^${proc.system}`, 4: '1', 5: text, 11: 'F', 14: c.ts });
    // Keep the largest report within the size bound: stop before the budget runs out.
    if (size + utf8Length(line) + 1 > CORPUS_SIZE_BOUNDS.max) break;
    out.push(line);
    size += utf8Length(line) + 1;
  }
}

function schedule(c: Context, out: string[]): void {
  const { r, proc } = c;
  const minutes = r.pick([15, 20, 30, 45, 60]);
  out.push(segment('SCH', {
    1: `${c.placer}^EPIC`, 2: `${c.filler}^RIS`, 6: `${r.pick(['NEW', 'RESCHED'])}^${r.pick(['New appointment', 'Rescheduled'])}`,
    7: `${proc.code}^${proc.text}^${proc.system}`, 8: 'ROUTINE^Routine^HL70276', 9: String(minutes), 10: 'MIN',
    11: `^^${minutes}^${c.ts}^${c.ts}`, 16: `${r.pick(PROVIDERS)}^^^DR`, 20: `${digits(r, 6)}^SCHEDULER^SAM`, 25: 'Booked',
  }));
  out.push(pid(c), pv1(c), segment('RGS', { 1: '1', 2: 'A' }));
  out.push(segment('AIS', { 1: '1', 2: 'A', 3: `${proc.code}^${proc.text}^${proc.system}`, 4: c.ts, 5: '0', 6: 'MIN', 7: String(minutes), 8: 'MIN' }));
  out.push(segment('AIL', { 1: '1', 2: 'A', 3: r.pick(LOCATIONS).split('^').slice(0, 2).join('^') }));
  out.push(segment('AIP', { 1: '1', 2: 'A', 3: `${r.pick(RADIOLOGISTS)}^^^DR`, 4: 'RAD^Radiologist' }));
}

// ---- corpus -----------------------------------------------------------------------------

/** Splits `count` over the weighted kinds exactly (largest remainder), every weighted kind at least once when there is room. */
function allocate(count: number, weights: Record<MessageKind, number>): MessageKind[] {
  const kinds = MESSAGE_KINDS.filter((k) => weights[k] > 0);
  const total = kinds.reduce((s, k) => s + weights[k], 0);
  const quota = kinds.map((k) => ({ k, exact: (count * weights[k]) / total, n: Math.floor((count * weights[k]) / total) }));
  let rest = count - quota.reduce((s, q) => s + q.n, 0);
  for (const q of [...quota].sort((a, b) => (b.exact - b.n) - (a.exact - a.n))) {
    if (rest === 0) break;
    q.n++;
    rest--;
  }
  if (count >= kinds.length) {
    for (const q of quota) {
      if (q.n > 0) continue;
      const donor = quota.reduce((a, b) => (b.n > a.n ? b : a));
      donor.n--;
      q.n++;
    }
  }
  return quota.flatMap((q) => new Array<MessageKind>(q.n).fill(q.k));
}

function validate(options: CorpusOptions): void {
  const { seed, count, utf8Share } = options;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError('corpus.seed must be an integer between 0 and 4294967295');
  if (!Number.isInteger(count) || count < 0 || count > 1_000_000) throw new RangeError('corpus.count must be an integer between 0 and 1000000');
  if (utf8Share !== undefined && !(utf8Share >= 0 && utf8Share <= 1)) throw new RangeError('corpus.utf8Share must be between 0 and 1');
  for (const [kind, w] of Object.entries(options.weights ?? {})) {
    if (!(MESSAGE_KINDS as readonly string[]).includes(kind)) throw new RangeError(`corpus.weights has an unknown message type '${kind}'`);
    if (!(typeof w === 'number' && w >= 0 && Number.isFinite(w))) throw new RangeError(`corpus.weights['${kind}'] must be a finite number >= 0`);
  }
}

/**
 * Generates `count` messages in a seeded order, each with its type and the values of
 * MSH-10, PID-3.1, PID-5.1 and OBR-4.1 it carries. Same options, same bytes.
 */
export function generateLabelledCorpus(options: CorpusOptions): CorpusMessage[] {
  validate(options);
  const r = createRandom(options.seed);
  const weights = { ...DEFAULT_WEIGHTS, ...options.weights };
  const utf8Share = options.utf8Share ?? 0.25;
  const kinds = allocate(options.count, weights);
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = r.int(0, i);
    [kinds[i], kinds[j]] = [kinds[j] as MessageKind, kinds[i] as MessageKind];
  }
  const encoder = new TextEncoder();
  const runId = digits(r, 4);
  return kinds.map((kind, index) => {
    const utf8 = r.chance(utf8Share);
    const ts = timestamp(r);
    const year = ts.slice(2, 4);
    const c: Context = {
      r, kind, utf8, ts,
      mrn: r.chance(0.2) ? `M${digits(r, 7)}` : digits(r, r.int(7, 10)),
      family: utf8 && r.chance(0.6) ? r.pick(FAMILY_UTF8) : r.pick(FAMILY),
      proc: r.pick(PROCEDURES),
      accession: `A${year}${digits(r, 7)}`,
      studyUid: `${ROOT_UID}.${digits(r, 8)}.${ts.slice(0, 14)}.${r.int(1, 99999)}`,
      placer: `ORD${digits(r, 8)}`,
      filler: `RIS${digits(r, 8)}`,
    };
    const controlId = r.chance(0.7) ? `${runId}${pad(index + 1, 8)}` : `${c.kind.slice(0, 3)}${ts.slice(0, 14)}${pad(index % 1000, 3)}`;
    const segments = [msh(c, controlId)];
    if (kind.startsWith('ADT')) adt(c, segments);
    else if (kind === 'ORU^R01') report(c, segments);
    else if (kind === 'SIU^S12') schedule(c, segments);
    else order(c, segments);
    const hasObr = kind === 'ORM^O01' || kind === 'OMI^O23' || kind === 'ORU^R01';
    return {
      kind, utf8,
      bytes: encoder.encode(`${segments.join('\r')}\r`),
      expected: { msh10: controlId, pid3_1: c.mrn, pid5_1: c.family, obr4_1: hasObr ? c.proc.code : '' },
    };
  });
}

/** Generates `count` messages as UTF-8 bytes (CR-terminated segments). See {@link generateLabelledCorpus}. */
export function generateCorpus(options: CorpusOptions): Uint8Array[] {
  return generateLabelledCorpus(options).map((m) => m.bytes);
}

/**
 * Writes messages to `path` as plain text: each message's CR-terminated segments, then a
 * newline (LF) between messages. Returns the number of bytes written.
 */
export function writeCorpusFile(path: string, messages: readonly Uint8Array[]): number {
  const total = messages.reduce((n, m) => n + m.length + 1, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const m of messages) {
    out.set(m, at);
    out[at + m.length] = 0x0a;
    at += m.length + 1;
  }
  writeFileSync(path, out);
  return total;
}
