/**
 * The HL7 traffic the HTTP tests run through the converter, and what it leaves behind:
 * two patients merged, a visit, an order, a report in two versions (preliminary with FT
 * formatting and markup-like text, then final with an embedded PDF), a report that waits
 * for its patient (dead letter, converted by reprocessing), a message that can never be
 * converted (dead letter), and an ISO 8859-1 message.
 */
import { hl7 } from '../../converter/helpers.js';

let n = 0;
const msh = (type: string, time: string, charset = ''): string => `MSH|^~\\&|HIS|HOSP|PACS|RAD|${time}||${type}|F${++n}|P|2.5.1${charset === '' ? '' : `||||||${charset}`}`;

/** The bytes of the PDF embedded in the final report. */
export const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n');

/** Inbound seqs of the fixture's messages (1-based, in order). */
export const SEQ = {
  a04First: 1,
  order: 2,
  preliminary: 3,
  final: 4,
  a04Second: 5,
  merge: 6,
  noId: 7,
  waitingReport: 8,
  a04Waiting: 9,
  latin1: 10,
} as const;

/** Builds the fixture's messages (control IDs F1…). */
export function fixtureMessages(): Uint8Array[] {
  n = 0;
  return [
    hl7(msh('ADT^A04^ADT_A01', '20240102115500'), 'EVN|A04|20240102115500', 'PID|1||111^^^HOSP^MR||DOE^JOHN||19800131|M', 'PV1|1|O|RAD^1^A||||||||||||||||V-1'),
    hl7(
      msh('ORM^O01', '20240102120000'),
      'PID|1||111^^^HOSP^MR||DOE^JOHN',
      'ORC|NW|PL1|FL1||SC||^^^20240103083000^^S',
      'OBR|1|PL1|FL1|71250^CT THORAX^CPT4||||||||||||||ACC1|RP1|SPS1||||CT',
      'ZDS|1.2.840.1.1^PACS^Application^DICOM',
    ),
    hl7(
      msh('ORU^R01^ORU_R01', '20240102123000'),
      'PID|1||111^^^HOSP^MR||DOE^JOHN',
      'OBR|1|PL1|FL1|71250^CT THORAX^CPT4|||20240102090000|||||||||||ACC1||||20240102123000|||P|||||||RAD1&SMITH&JANE',
      'OBX|1|FT|18748-4^Diagnostic Imaging Report^LN||FINDINGS:\\.br\\  No <script>alert("x")</script> & no effusion.\\.sp\\\\.in 4\\IMPRESSION: normal||||||P',
    ),
    hl7(
      msh('ORU^R01^ORU_R01', '20240102133000'),
      'PID|1||111^^^HOSP^MR||DOE^JOHN',
      'OBR|1|PL1|FL1|71250^CT THORAX^CPT4|||20240102090000|||||||||||ACC1||||20240102133000|||F|||||||RAD2&JONES&ANN',
      'OBX|1|TX|18748-4^Diagnostic Imaging Report^LN||No acute findings.||||||F',
      `OBX|2|ED|18748-4^Diagnostic Imaging Report^LN||^Application^PDF^Base64^${PDF.toString('base64')}||||||F`,
    ),
    hl7(msh('ADT^A04^ADT_A01', '20240102130000'), 'EVN|A04|20240102130000', 'PID|1||222^^^HOSP^MR||DOE^JOHN||19800131|M'),
    hl7(msh('ADT^A40^ADT_A39', '20240102140000'), 'EVN||20240102140000', 'PID|1||222^^^HOSP^MR||DOE^JOHN', 'MRG|111^^^HOSP'),
    hl7(msh('ADT^A04^ADT_A01', '20240102141000'), 'EVN|A04|20240102141000', 'PID|1||||NOID^JOHN||19700101|M'),
    hl7(
      msh('ORU^R01^ORU_R01', '20240102150000'),
      'PID|1||333^^^HOSP^MR||ROE^RICHARD',
      'OBR|1|PL3|FL3|71020^CHEST^CPT4|||20240102150000|||||||||||ACC3||||20240102150000|||F',
      'OBX|1|TX|18748-4^Diagnostic Imaging Report^LN||Clear lungs.||||||F',
    ),
    hl7(msh('ADT^A04^ADT_A01', '20240102151000'), 'EVN|A04|20240102151000', 'PID|1||333^^^HOSP^MR||ROE^RICHARD||19900505|M'),
    Buffer.concat([
      Buffer.from(msh('ADT^A04^ADT_A01', '20240102160000', '8859/1') + '\r', 'latin1'),
      Buffer.from('EVN|A04|20240102160000\rPID|1||444^^^HOSP^MR||M\xdcLLER^J\xdcRGEN||19600229|M\r', 'latin1'),
    ]),
  ];
}

/** Engine configuration of the fixture: reports for unknown patients are refused (dead letters). */
export const FIXTURE_INPUT = { repository: { policies: { createUnknownPatients: false } } } as const;
