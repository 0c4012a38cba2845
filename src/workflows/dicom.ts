/**
 * Repository values in DICOM terms (PS3.6 keywords and tags, PS3.5 value representations),
 * for `sync.requested` (DOMAIN.md §4.1, §5 PIR). Pure.
 *
 * - PatientName (PN): HL7 XPN `family^given^middle^suffix^prefix` becomes DICOM
 *   `family^given^middle^prefix^suffix` (components 4 and 5 swapped), trailing empty
 *   components dropped; at most 64 characters (PS3.5 §6.2, per component group).
 * - PatientBirthDate (DA): the first 8 characters of the HL7 date.
 * - PatientSex (CS): M, F, O; A and N → O; U and anything else → empty (as dcm4chee).
 * - PatientID, IssuerOfPatientID (LO, 64): the identifier of the primary authority (or the
 *   first one) and its namespace (else its universal ID); the others go to
 *   OtherPatientIDsSequence, each with its issuer and, when known, the
 *   IssuerOfPatientIDQualifiersSequence (UniversalEntityID / UniversalEntityIDType).
 * - AccessionNumber (SH, 16); RequestedProcedureDescription (LO, 64);
 *   RequestedProcedureCodeSequence (CodeValue SH 16, CodingSchemeDesignator SH 16,
 *   CodeMeaning LO 64); StudyInstanceUID (UI) is never cut (a cut UID names another study).
 *
 * A value longer than its VR allows is cut to the limit and the cut is recorded in the
 * {@link Truncations} the caller passes, so the event can say so.
 */
import type { Coded, Identifier, Order, Patient, PersonName } from '../repository/model.js';

/** One value cut to its VR's length limit. */
export interface DicomTruncation {
  /** Keyword of the attribute (inside a sequence: `OtherPatientIDsSequence.PatientID`). */
  keyword: string;
  vr: 'SH' | 'LO' | 'PN';
  /** The VR's limit, characters. */
  maxLength: number;
  /** The value as the repository holds it. */
  original: string;
  /** The value as sent. */
  value: string;
}

/** Collects the truncations of one event. */
export type Truncations = DicomTruncation[];

/** An item of OtherPatientIDsSequence (0010,1002). */
export interface OtherPatientIdItem {
  PatientID: string;
  IssuerOfPatientID: string;
  /** `TEXT` (PS3.3 C.7.1.1: the only value for HL7-sourced IDs). */
  TypeOfPatientID: 'TEXT';
  IssuerOfPatientIDQualifiersSequence?: Array<{ UniversalEntityID: string; UniversalEntityIDType: string }>;
}

/** An item of a code sequence. */
export interface CodeItem {
  CodeValue: string;
  CodingSchemeDesignator: string;
  CodeMeaning: string;
}

/** A DICOM value as carried in events: a string (empty = no value) or sequence items. */
export type DicomValue = string | OtherPatientIdItem[] | CodeItem[];

/** Tag (`GGGGEEEE`) and VR of each keyword the workflows write. */
export const DICOM_ATTRIBUTES = {
  PatientName: { tag: '00100010', vr: 'PN' },
  PatientID: { tag: '00100020', vr: 'LO' },
  IssuerOfPatientID: { tag: '00100021', vr: 'LO' },
  PatientBirthDate: { tag: '00100030', vr: 'DA' },
  PatientSex: { tag: '00100040', vr: 'CS' },
  OtherPatientIDsSequence: { tag: '00101002', vr: 'SQ' },
  AccessionNumber: { tag: '00080050', vr: 'SH' },
  StudyInstanceUID: { tag: '0020000D', vr: 'UI' },
  RequestedProcedureDescription: { tag: '00321060', vr: 'LO' },
  RequestedProcedureCodeSequence: { tag: '00321064', vr: 'SQ' },
} as const;
/** A keyword of {@link DICOM_ATTRIBUTES}. */
export type DicomKeyword = keyof typeof DICOM_ATTRIBUTES;

const LIMITS = { SH: 16, LO: 64, PN: 64 } as const;

/** Cuts `value` to the limit of `vr`, recording the cut under `keyword`. */
export function limit(value: string, vr: 'SH' | 'LO' | 'PN', keyword: string, t: Truncations): string {
  const max = LIMITS[vr];
  if (value.length <= max) return value;
  let cut = value.slice(0, max);
  if (vr === 'PN') cut = cut.replace(/\^+$/, '');
  t.push({ keyword, vr, maxLength: max, original: value, value: cut });
  return cut;
}

/** PN from an XPN name: components 4 (suffix) and 5 (prefix) swapped; `''` for no name. */
export function personName(name: PersonName | null, t: Truncations, keyword = 'PatientName'): string {
  if (name === null) return '';
  const pn = [name.family, name.given, name.middle, name.prefix, name.suffix].join('^').replace(/\^+$/, '');
  return limit(pn, 'PN', keyword, t);
}

/** DA from an HL7 date (first 8 characters), `''` when absent or not a date. */
export function birthDate(value: string | null): string {
  return value !== null && /^\d{8}/.test(value) ? value.slice(0, 8) : '';
}

/** CS PatientSex from HL7 PID-8 (table 0001). */
export function patientSex(value: string | null): '' | 'M' | 'F' | 'O' {
  switch ((value ?? '').trim().toUpperCase()) {
    case 'M':
      return 'M';
    case 'F':
      return 'F';
    case 'O':
    case 'A':
    case 'N':
      return 'O';
    default:
      return '';
  }
}

/** The identifier that becomes PatientID: the first of `primaryAuthority` (namespace or universal ID), else the first. */
export function primaryIdentifier(ids: readonly Identifier[], primaryAuthority: string | undefined): Identifier | undefined {
  if (primaryAuthority !== undefined) {
    const hit = ids.find((i) => i.authority === primaryAuthority || i.authorityUid === primaryAuthority);
    if (hit !== undefined) return hit;
  }
  return ids[0];
}

/** IssuerOfPatientID of an identifier: its namespace, else its universal ID. */
export function issuerOf(id: Identifier): string {
  return id.authority !== '' ? id.authority : id.authorityUid;
}

/** PatientID and IssuerOfPatientID of a list of identifiers (`''` when there is none). */
export function patientIdKeys(ids: readonly Identifier[], primaryAuthority: string | undefined, t: Truncations): { PatientID: string; IssuerOfPatientID: string } {
  const p = primaryIdentifier(ids, primaryAuthority);
  if (p === undefined) return { PatientID: '', IssuerOfPatientID: '' };
  return { PatientID: limit(p.id, 'LO', 'PatientID', t), IssuerOfPatientID: limit(issuerOf(p), 'LO', 'IssuerOfPatientID', t) };
}

/** The patient attributes a PACS keeps, in DICOM terms. */
export interface PatientAttributes {
  PatientName: string;
  PatientID: string;
  IssuerOfPatientID: string;
  PatientBirthDate: string;
  PatientSex: string;
  OtherPatientIDsSequence: OtherPatientIdItem[];
}

/** A patient's attributes in DICOM terms. */
export function patientAttributes(p: Patient, primaryAuthority: string | undefined, t: Truncations): PatientAttributes {
  const primary = primaryIdentifier(p.identifiers, primaryAuthority);
  const others: OtherPatientIdItem[] = [];
  for (const i of p.identifiers) {
    if (i === primary) continue;
    const item: OtherPatientIdItem = {
      PatientID: limit(i.id, 'LO', 'OtherPatientIDsSequence.PatientID', t),
      IssuerOfPatientID: limit(issuerOf(i), 'LO', 'OtherPatientIDsSequence.IssuerOfPatientID', t),
      TypeOfPatientID: 'TEXT',
    };
    if (i.authorityUid !== '') {
      item.IssuerOfPatientIDQualifiersSequence = [{ UniversalEntityID: limit(i.authorityUid, 'LO', 'UniversalEntityID', t), UniversalEntityIDType: i.authorityUidType }];
    }
    others.push(item);
  }
  return {
    PatientName: personName(p.name, t),
    ...patientIdKeys(p.identifiers, primaryAuthority, t),
    PatientBirthDate: birthDate(p.birthDate),
    PatientSex: patientSex(p.sex),
    OtherPatientIDsSequence: others,
  };
}

/** The order attributes a PACS keeps, in DICOM terms. */
export interface OrderAttributes {
  AccessionNumber: string;
  StudyInstanceUID: string;
  RequestedProcedureDescription: string;
  RequestedProcedureCodeSequence: CodeItem[];
}

function codeItem(c: Coded, t: Truncations): CodeItem {
  return {
    CodeValue: limit(c.code, 'SH', 'RequestedProcedureCodeSequence.CodeValue', t),
    CodingSchemeDesignator: limit(c.system, 'SH', 'RequestedProcedureCodeSequence.CodingSchemeDesignator', t),
    CodeMeaning: limit(c.text, 'LO', 'RequestedProcedureCodeSequence.CodeMeaning', t),
  };
}

/** An order's attributes in DICOM terms (the procedure code: OBR-44, else OBR-4). */
export function orderAttributes(o: Order, t: Truncations): OrderAttributes {
  const code = o.procedureCode ?? o.procedure;
  return {
    AccessionNumber: limit(o.accession ?? '', 'SH', 'AccessionNumber', t),
    StudyInstanceUID: o.studyInstanceUid ?? '',
    RequestedProcedureDescription: limit(o.procedure?.text ?? o.procedureCode?.text ?? '', 'LO', 'RequestedProcedureDescription', t),
    RequestedProcedureCodeSequence: code === null || code.code === '' ? [] : [codeItem(code, t)],
  };
}

/** One attribute change: keyword, tag, VR, the new value and the previous one. */
export interface DicomChange {
  keyword: DicomKeyword;
  tag: string;
  vr: string;
  value: DicomValue;
  previous: DicomValue;
}

/** The attributes whose values differ between `previous` and `next`, in the order of `next`'s keys. */
export function diffAttributes<T extends Partial<Record<DicomKeyword, DicomValue>>>(previous: T, next: T): DicomChange[] {
  const out: DicomChange[] = [];
  for (const k of Object.keys(next) as DicomKeyword[]) {
    const a = previous[k] as DicomValue;
    const b = next[k] as DicomValue;
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    const { tag, vr } = DICOM_ATTRIBUTES[k];
    out.push({ keyword: k, tag, vr, value: b, previous: a });
  }
  return out;
}
