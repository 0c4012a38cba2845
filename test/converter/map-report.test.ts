/** ORU^R01 mapping (DOMAIN.md §4.6): text from every OBX, ED attachments, status precedence, quirks 11, 20, 21. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Change, MappingResult, ReportData } from '../../src/converter/changes.js';
import { createMappingOptions, mapMessage, reportStatusOf, type MappingOptionsInput } from '../../src/converter/map/index.js';
import { hl7, parseOk } from '../helpers/hl7.js';

type Rep = Extract<Change, { op: 'report.upsert' }>;
const MSH = 'MSH|^~\\&|REPORTS|RAD|PACS|RAD|20240102120000||ORU^R01^ORU_R01|R1|P|2.5.1';
const PID = 'PID|1||12345^^^HOSP^MR||DOE^JOHN';

function seg(id: string, fields: Record<number, string>): string {
  const n = Math.max(...Object.keys(fields).map(Number));
  const out: string[] = [id];
  for (let i = 1; i <= n; i++) out.push(fields[i] ?? '');
  return out.join('|');
}
const obr = (extra: Record<number, string> = {}): string =>
  seg('OBR', { 1: '1', 2: 'PL1', 3: 'FL1', 4: '71250^CT THORAX^CPT4', 7: '20240102090000', 18: 'ACC1', 25: 'F', 32: '123&CURIE&MARIE&&&DR', ...extra });
const obx = (n: number, type: string, value: string, status = 'F', subId = ''): string =>
  seg('OBX', { 1: String(n), 2: type, 3: '18748-4^Diagnostic Imaging Report^LN', 4: subId, 5: value, 11: status });

function map(text: string, options: MappingOptionsInput = { timeZone: 'Europe/Berlin' }): MappingResult {
  return mapMessage(parseOk(text), createMappingOptions(options));
}
function reports(r: MappingResult): Rep[] {
  assert.equal(r.kind, 'changes', JSON.stringify(r));
  return r.kind === 'changes' ? (r.changes as Rep[]) : [];
}
function one(text: string, options?: MappingOptionsInput): ReportData {
  const list = reports(map(text, options));
  assert.equal(list.length, 1);
  assert.equal(list[0]!.op, 'report.upsert');
  return list[0]!.report;
}

test('a report of 40 TX/FT lines with escapes is assembled in order, leading spaces kept, FT rendered', () => {
  const lines: string[] = [];
  const segs: string[] = [];
  for (let i = 1; i <= 40; i++) {
    if (i % 2 === 0) {
      segs.push(obx(i, 'TX', `  line ${i}: Smith \\T\\ Sons \\F\\ 5\\S\\2 \\E\\path`));
      lines.push(`  line ${i}: Smith & Sons | 5^2 \\path`);
    } else {
      segs.push(obx(i, 'FT', `FT ${i}\\.br\\second \\H\\bold\\N\\ part`));
      lines.push(`FT ${i}\nsecond bold part`);
    }
  }
  const r = one(hl7(MSH, PID, obr(), ...segs));
  assert.equal(r.text, lines.join('\n'));
  assert.equal(r.text.split('\n').length, 60);
});

test('TX repetitions are lines; ST, CE, NM and TS values are rendered as text', () => {
  const r = one(hl7(MSH, PID, obr(),
    obx(1, 'TX', 'FINDINGS:~  normal~'),
    obx(2, 'ST', 'Impression: stable'),
    obx(3, 'CE', 'RID1^Normal study^RADLEX'),
    obx(4, 'CE', 'CODEONLY'),
    seg('OBX', { 1: '5', 2: 'NM', 3: 'DOSE', 5: '12.5', 6: 'mGy^milligray^UCUM', 11: 'F' }),
    obx(6, 'TS', '20240102083000')));
  assert.equal(r.text, ['FINDINGS:', '  normal', '', 'Impression: stable', 'Normal study', 'CODEONLY', '12.5 milligray', '2024-01-02T08:30:00+01:00'].join('\n'));
});

test('OBX-4 sub-IDs order the text when every line has one; message order otherwise', () => {
  const sorted = one(hl7(MSH, PID, obr(), obx(1, 'TX', 'third', 'F', '3'), obx(2, 'TX', 'first', 'F', '1'), obx(3, 'TX', 'second', 'F', '2'), obx(4, 'TX', 'second b', 'F', '2')));
  assert.equal(sorted.text, 'first\nsecond\nsecond b\nthird');
  const dotted = one(hl7(MSH, PID, obr(), obx(1, 'TX', 'b', 'F', '1.10'), obx(2, 'TX', 'a', 'F', '1.2')));
  assert.equal(dotted.text, 'a\nb');
  const mixed = one(hl7(MSH, PID, obr(), obx(1, 'TX', 'x', 'F', '2'), obx(2, 'TX', 'y', 'F', '')));
  assert.equal(mixed.text, 'x\ny');
});

test('lines whose OBX-11 is D or W are left out of the text', () => {
  const r = one(hl7(MSH, PID, obr(), obx(1, 'TX', 'keep'), obx(2, 'TX', 'deleted', 'D'), obx(3, 'TX', 'wrong patient', 'W'), obx(4, 'TX', 'keep too')));
  assert.equal(r.text, 'keep\nkeep too');
});

test('every field of the report: numbers, accession, time OBR-22, author OBR-32', () => {
  const r = one(hl7(MSH, PID, obr({ 22: '20240102101500' }), obx(1, 'TX', 'text')));
  assert.deepEqual(r, {
    status: 'final', text: 'text', attachments: [], accession: 'ACC1', placerOrderNumber: 'PL1', fillerOrderNumber: 'FL1',
    time: '2024-01-02T10:15:00+01:00', author: 'CURIE^MARIE',
  });
});

test('the time falls back from OBR-22 to OBR-7 to MSH-7; the author to the OBR-32 ID', () => {
  assert.equal(one(hl7(MSH, PID, obr(), obx(1, 'TX', 't'))).time, '2024-01-02T09:00:00+01:00');
  const r = one(hl7(MSH, PID, obr({ 7: '', 32: 'DR77' }), obx(1, 'TX', 't')));
  assert.equal(r.time, '2024-01-02T12:00:00+01:00');
  assert.equal(r.author, 'DR77');
});

test('the Study Instance UID comes from the DCM 113014 OBX and is not part of the text', () => {
  const r = one(hl7(MSH, PID, obr(), seg('OBX', { 1: '1', 2: 'UI', 3: '113014^Study Instance UID^DCM', 5: '1.2.840.99.1', 11: 'F' }), obx(2, 'TX', 'report')));
  assert.equal(r.studyInstanceUid, '1.2.840.99.1');
  assert.equal(r.text, 'report');
});

test('an ED PDF split over 2 OBX with CR/LF inside the base64 is one attachment with the exact bytes (quirk 20)', () => {
  const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n' + 'x'.repeat(500) + '\n%%EOF\n', 'latin1');
  const b64 = pdf.toString('base64');
  const cut = 301; // not a multiple of 4: the halves are not valid base64 on their own
  const wrap = (s: string): string => s.replace(/(.{76})/g, '$1\r\n');
  const text = hl7(MSH, PID, obr(),
    obx(1, 'TX', 'see attached'),
    seg('OBX', { 1: '2', 2: 'ED', 3: 'PDF^Report^L', 4: '1', 5: `^application^pdf^Base64^${wrap(b64.slice(0, cut))}`, 11: 'F' }),
    seg('OBX', { 1: '3', 2: 'ED', 3: 'PDF^Report^L', 4: '1', 5: `^application^pdf^Base64^${wrap(b64.slice(cut))}`, 11: 'F' }));
  const r = one(text);
  assert.equal(r.attachments.length, 1);
  assert.equal(r.attachments[0]!.contentType, 'application/pdf');
  assert.deepEqual(Buffer.from(r.attachments[0]!.dataBase64, 'base64'), pdf);
  assert.equal(r.text, 'see attached');
});

test('an ED continuation OBX holding only data joins the ED before it; Hex and A encodings become base64', () => {
  const r = one(hl7(MSH, PID, obr(),
    seg('OBX', { 1: '1', 2: 'ED', 3: 'A', 4: '1', 5: '^AP^PDF^Base64^SGVsbG8g', 11: 'F' }),
    seg('OBX', { 1: '2', 2: 'ED', 3: 'A', 4: '2', 5: 'V29ybGQ=', 11: 'F' }),
    seg('OBX', { 1: '3', 2: 'ED', 3: 'B', 4: '3', 5: '^IM^JPEG^Hex^FFD8FF', 11: 'F' }),
    seg('OBX', { 1: '4', 2: 'ED', 3: 'C', 4: '4', 5: '^TEXT^plain^A^plain text', 11: 'F' })));
  assert.deepEqual(r.attachments, [
    { contentType: 'application/pdf', dataBase64: Buffer.from('Hello World').toString('base64') },
    { contentType: 'image/jpeg', dataBase64: Buffer.from([0xff, 0xd8, 0xff]).toString('base64') },
    { contentType: 'text/plain', dataBase64: Buffer.from('plain text').toString('base64') },
  ]);
});

test('status from OBR-25: P, F, C, X and the not-final codes', () => {
  const expected: Record<string, string> = { P: 'preliminary', F: 'final', C: 'corrected', X: 'cancelled', A: 'preliminary', I: 'preliminary', R: 'preliminary', S: 'preliminary', O: 'preliminary' };
  for (const [code, status] of Object.entries(expected)) {
    assert.equal(one(hl7(MSH, PID, obr({ 25: code }), obx(1, 'TX', 't', ''))).status, status, code);
  }
});

test('OBX-11 precedence (quirk 21): C lines under a final OBR make a correction; OBR-25 P or X wins over the lines', () => {
  assert.equal(one(hl7(MSH, PID, obr({ 25: 'F' }), obx(1, 'TX', 'a', 'C'), obx(2, 'TX', 'b', 'C'))).status, 'corrected');
  assert.equal(one(hl7(MSH, PID, obr({ 25: 'F' }), obx(1, 'TX', 'a', 'F'), obx(2, 'TX', 'b', 'C'))).status, 'corrected');
  assert.equal(one(hl7(MSH, PID, obr({ 25: 'P' }), obx(1, 'TX', 'a', 'F'))).status, 'preliminary');
  assert.equal(one(hl7(MSH, PID, obr({ 25: 'X' }), obx(1, 'TX', 'a', 'C'))).status, 'cancelled');
  assert.equal(one(hl7(MSH, PID, obr({ 25: '' }), obx(1, 'TX', 'a', 'F'))).status, 'final');
  assert.equal(one(hl7(MSH, PID, obr({ 25: '' }), obx(1, 'TX', 'a', 'C'))).status, 'corrected');
  assert.equal(one(hl7(MSH, PID, obr({ 25: '' }), obx(1, 'TX', 'a', 'P'))).status, 'preliminary');
  assert.equal(one(hl7(MSH, PID, obr({ 25: 'F' }), obx(1, 'TX', 'a', 'F'), obx(2, 'TX', 'old', 'W'))).status, 'final');
  assert.equal(reportStatusOf('F', ['C']), 'corrected');
});

test('one report per OBR group, each with the PID before it, ORC numbers as fallback (quirk 11)', () => {
  const list = reports(map(hl7(MSH,
    PID, 'PV1|1|O', 'ORC|RE|ORCPL|ORCFL', obr({ 2: '', 3: '', 18: 'A1' }), obx(1, 'TX', 'one'), 'NTE|1||comment',
    obr({ 18: 'A2', 25: 'P' }), obx(1, 'TX', 'two'),
    'PID|1||999^^^HOSP', obr({ 18: 'A3' }), obx(1, 'TX', 'three'))));
  assert.deepEqual(list.map((c) => [c.report.accession, c.report.text, c.report.status, c.patient?.identifiers[0]?.id]), [
    ['A1', 'one', 'final', '12345'], ['A2', 'two', 'preliminary', '12345'], ['A3', 'three', 'final', '999'],
  ]);
  assert.equal(list[0]!.report.placerOrderNumber, 'ORCPL');
  assert.equal(list[0]!.report.fillerOrderNumber, 'ORCFL');
});

test('the accession follows the sender option (OBR-18 default, OBR-3, ORC-3)', () => {
  const text = hl7(MSH, PID, 'ORC|RE|P|ORC3', obr({ 3: 'OBR3', 18: 'OBR18' }), obx(1, 'TX', 't'));
  assert.equal(one(text).accession, 'OBR18');
  assert.equal(one(text, { timeZone: 'UTC', senders: { REPORTS: { accession: 'OBR-3' } } }).accession, 'OBR3');
  assert.equal(one(text, { timeZone: 'UTC', senders: { REPORTS: { accession: 'ORC-3' } } }).accession, 'ORC3');
});

test('an ORU without PID gives reports without patient; without OBR it is 101 at OBR', () => {
  const [c] = reports(map(hl7(MSH, obr(), obx(1, 'TX', 't'))));
  assert.equal(c!.patient, undefined);
  const r = map(hl7(MSH, PID));
  assert.ok(r.kind === 'error' && r.error.segment === 'OBR' && r.error.errCode === 101);
});
