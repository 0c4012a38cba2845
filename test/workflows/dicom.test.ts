/** DICOM mapping of each sync field (PS3.5 VRs, DOMAIN.md §4.1) and the local-time helpers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { birthDate, limit, orderAttributes, patientAttributes, patientSex, personName, type Truncations } from '../../src/workflows/dicom.js';
import { addDays, dayWindow, isLocalDate, isoInZone, localDate, localToEpoch } from '../../src/workflows/local-time.js';
import type { Order, Patient } from '../../src/repository/model.js';

const nm = (family: string, given = '', middle = '', suffix = '', prefix = '') => ({ family, given, middle, suffix, prefix });

test('PatientName: XPN components 4 (suffix) and 5 (prefix) swap; trailing empty components go; no name is empty', () => {
  const t: Truncations = [];
  assert.equal(personName(nm('DOE', 'JOHN', 'Q', 'JR', 'DR'), t), 'DOE^JOHN^Q^DR^JR');
  assert.equal(personName(nm('DOE', 'JOHN', '', 'JR', ''), t), 'DOE^JOHN^^^JR');
  assert.equal(personName(nm('DOE', '', '', '', 'MRS'), t), 'DOE^^^MRS');
  assert.equal(personName(nm('DOE', 'JOHN'), t), 'DOE^JOHN');
  assert.equal(personName(null, t), '');
  assert.equal(t.length, 0);
  const cut = personName(nm('A'.repeat(62), 'BCD'), t);
  assert.equal(cut, 'A'.repeat(62) + '^B');
  assert.equal(personName(nm('A'.repeat(64), 'B'), t), 'A'.repeat(64), 'a cut never ends with a separator');
  assert.deepEqual((t as Truncations).map((x) => [x.keyword, x.vr, x.maxLength, x.value.length]), [['PatientName', 'PN', 64, 64], ['PatientName', 'PN', 64, 64]]);
});

test('PatientSex: M, F, O; A and N are O; U, empty and unknown codes are empty', () => {
  const table: Record<string, string> = { M: 'M', F: 'F', O: 'O', A: 'O', N: 'O', U: '', '': '', X: '', m: 'M' };
  for (const [hl7, dicom] of Object.entries(table)) assert.equal(patientSex(hl7), dicom, hl7);
  assert.equal(patientSex(null), '');
});

test('PatientBirthDate: the first 8 characters of an HL7 date, empty otherwise', () => {
  assert.equal(birthDate('19800229'), '19800229');
  assert.equal(birthDate('198002291230+0100'), '19800229');
  assert.equal(birthDate('1980'), '');
  assert.equal(birthDate(null), '');
});

test('SH 16 and LO 64 limits cut and report; shorter values pass untouched', () => {
  const t: Truncations = [];
  assert.equal(limit('1234567890123456', 'SH', 'AccessionNumber', t), '1234567890123456');
  assert.equal(limit('12345678901234567', 'SH', 'AccessionNumber', t), '1234567890123456');
  assert.equal(limit('x'.repeat(65), 'LO', 'PatientID', t), 'x'.repeat(64));
  assert.deepEqual(t, [
    { keyword: 'AccessionNumber', vr: 'SH', maxLength: 16, original: '12345678901234567', value: '1234567890123456' },
    { keyword: 'PatientID', vr: 'LO', maxLength: 64, original: 'x'.repeat(65), value: 'x'.repeat(64) },
  ]);
});

test('patient attributes: PatientID and issuer from the primary authority, the others in OtherPatientIDsSequence with their universal IDs', () => {
  const p = {
    key: 'P1',
    identifiers: [
      { id: 'N1', authority: 'NATID', authorityUid: '2.16.1', authorityUidType: 'ISO', type: 'NI' },
      { id: 'M1', authority: '', authorityUid: '1.2.3', authorityUidType: 'ISO', type: 'MR' },
    ],
    name: nm('DOE', 'JANE'),
    birthDate: '19800101',
    sex: 'F',
  } as unknown as Patient;
  const t: Truncations = [];
  assert.deepEqual(patientAttributes(p, '1.2.3', t), {
    PatientName: 'DOE^JANE',
    PatientID: 'M1',
    IssuerOfPatientID: '1.2.3',
    PatientBirthDate: '19800101',
    PatientSex: 'F',
    OtherPatientIDsSequence: [
      { PatientID: 'N1', IssuerOfPatientID: 'NATID', TypeOfPatientID: 'TEXT', IssuerOfPatientIDQualifiersSequence: [{ UniversalEntityID: '2.16.1', UniversalEntityIDType: 'ISO' }] },
    ],
  });
  assert.equal(patientAttributes(p, undefined, t).PatientID, 'N1', 'no primary authority: the first identifier');
  assert.equal(patientAttributes(p, 'ELSEWHERE', t).PatientID, 'N1', 'an absent authority: the first identifier');
});

test('order attributes: accession (SH), UID never cut, procedure description and code sequence (OBR-44 before OBR-4)', () => {
  const o = {
    accession: 'A1',
    studyInstanceUid: '1.2.' + '3'.repeat(80),
    procedure: { code: 'P4', text: 'CT HEAD', system: 'L' },
    procedureCode: { code: 'P44', text: 'CT HEAD W/O', system: 'LOCAL-CODING-SYSTEM-NAME' },
  } as unknown as Order;
  const t: Truncations = [];
  const a = orderAttributes(o, t);
  assert.equal(a.StudyInstanceUID.length, 84);
  assert.equal(a.RequestedProcedureDescription, 'CT HEAD');
  assert.deepEqual(a.RequestedProcedureCodeSequence, [{ CodeValue: 'P44', CodingSchemeDesignator: 'LOCAL-CODING-SYS', CodeMeaning: 'CT HEAD W/O' }]);
  assert.deepEqual(t.map((x) => x.keyword), ['RequestedProcedureCodeSequence.CodingSchemeDesignator']);
});

test('local time: dates, windows and ISO offsets in a zone, across midnight and daylight-saving changes', () => {
  assert.ok(isLocalDate('2024-02-29'));
  assert.ok(!isLocalDate('2023-02-29'));
  assert.ok(!isLocalDate('2024-13-01'));
  assert.ok(!isLocalDate('20240101'));
  assert.equal(addDays('2024-02-28', 2), '2024-03-01');
  assert.equal(addDays('2024-01-01', -1), '2023-12-31');
  assert.equal(localDate(Date.parse('2024-01-10T23:30:00Z'), 'Europe/Berlin'), '2024-01-11');
  assert.equal(localDate(Date.parse('2024-01-10T03:30:00Z'), 'America/New_York'), '2024-01-09');
  assert.equal(isoInZone(Date.parse('2024-03-31T01:30:00Z'), 'Europe/Berlin'), '2024-03-31T03:30:00+02:00');
  assert.equal(isoInZone(Date.parse('2024-07-01T12:00:00Z'), 'Asia/Kolkata'), '2024-07-01T17:30:00+05:30');
  assert.equal(new Date(localToEpoch('2024-03-31', '02:30', 'Europe/Berlin')).toISOString(), '2024-03-31T01:30:00.000Z', 'a time in the gap lands after it');
  assert.equal(new Date(localToEpoch('2024-10-27', '02:30', 'Europe/Berlin')).toISOString(), '2024-10-27T00:30:00.000Z', 'a repeated time is the first');
  const w = dayWindow('2024-11-03', 1, 'America/New_York');
  assert.equal((w.to - w.from) / 3600_000, 25);
});
