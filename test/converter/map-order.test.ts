/** Order mapping (DOMAIN.md §4.4): ORM^O01 + ZDS, OMI^O23 + IPC, the ORC-1 × ORC-5 table, every group, accession per sender. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Change, MappingResult } from '../../src/converter/changes.js';
import { createMappingOptions, mapMessage, type MappingOptionsInput } from '../../src/converter/map/index.js';
import { hl7, parseOk } from '../helpers/hl7.js';

type Order = Extract<Change, { op: 'order.upsert' }>;
const ORM = 'MSH|^~\\&|RIS|RAD|PACS|RAD|20240102120000||ORM^O01|C1|P|2.3.1';
const OMI = 'MSH|^~\\&|RIS|RAD|PACS|RAD|20240102120000||OMI^O23^OMI_O23|C2|P|2.5.1';
const PID = 'PID|1||12345^^^HOSP^MR||DOE^JOHN';
const PV1 = 'PV1|1|O|RAD^CT1';

function seg(id: string, fields: Record<number, string>): string {
  const n = Math.max(...Object.keys(fields).map(Number));
  const out: string[] = [id];
  for (let i = 1; i <= n; i++) out.push(fields[i] ?? '');
  return out.join('|');
}
const orc = (control: string, status = 'SC', extra: Record<number, string> = {}): string =>
  seg('ORC', { 1: control, 2: 'PL1^EPIC', 3: 'FL1^RIS', 5: status, 7: '^^^20240103083000^^S', 12: '99^HOUSE^GREGORY', ...extra });
const obr = (extra: Record<number, string> = {}): string =>
  seg('OBR', { 1: '1', 2: 'PL1^EPIC', 3: 'FL1^RIS', 4: '71250^CT THORAX^CPT4', 15: '^^^CHEST^Chest', 16: '77^GREY^MEREDITH', 18: 'ACC1', 19: 'RP1', 20: 'SPS1', 24: 'CT', 44: 'P1^CT CHEST PROC^LOCAL', ...extra });
const ZDS = 'ZDS|1.2.840.1.1^PACS^Application^DICOM';

function map(text: string, options: MappingOptionsInput = { timeZone: 'Europe/Berlin' }): MappingResult {
  return mapMessage(parseOk(text), createMappingOptions(options));
}
function orders(r: MappingResult): Order[] {
  assert.equal(r.kind, 'changes', JSON.stringify(r));
  if (r.kind !== 'changes') return [];
  for (const c of r.changes) assert.equal(c.op, 'order.upsert');
  return r.changes as Order[];
}

test('ORM^O01 NW/SC with ZDS maps every order field, the patient and the visit', () => {
  const [c, ...rest] = orders(map(hl7(ORM, PID, PV1, orc('NW'), obr(), 'NTE|1||remark', ZDS)));
  assert.equal(rest.length, 0);
  assert.deepEqual(c!.order, {
    placerOrderNumber: 'PL1',
    fillerOrderNumber: 'FL1',
    accession: 'ACC1',
    requestedProcedureId: 'RP1',
    scheduledProcedureStepId: 'SPS1',
    modality: 'CT',
    procedure: { code: '71250', text: 'CT THORAX', system: 'CPT4' },
    procedureCode: { code: 'P1', text: 'CT CHEST PROC', system: 'LOCAL' },
    bodyPart: 'CHEST',
    orderingProvider: 'HOUSE^GREGORY',
    scheduledAt: '2024-01-03T08:30:00+01:00',
    priority: 'S',
    studyInstanceUid: '1.2.840.1.1',
  });
  assert.equal(c!.status, 'scheduled');
  assert.equal(c!.control, 'NW');
  assert.equal(c!.orderStatus, 'SC');
  assert.deepEqual(c!.patient?.identifiers.map((i) => i.id), ['12345']);
  assert.deepEqual(c!.visit, { patientClass: 'O', location: { pointOfCare: 'RAD', room: 'CT1', bed: '', facility: '' } });
});

test('without ZDS or IPC there is no Study Instance UID (absent, not null) (quirk 22)', () => {
  const [c] = orders(map(hl7(ORM, PID, orc('NW'), obr())));
  assert.equal('studyInstanceUid' in c!.order, false);
  const [d] = orders(map(hl7(OMI, PID, orc('NW'), 'TQ1|1', obr())));
  assert.equal('studyInstanceUid' in d!.order, false);
});

test('the ORC-1 × ORC-5 table, row by row', () => {
  const rows: Array<[string, string, string]> = [
    ['NW', 'SC', 'scheduled'], ['NW', 'IP', 'scheduled'], ['NW', '', 'scheduled'],
    ['XO', 'SC', 'scheduled'], ['XO', '', 'scheduled'], ['XO', 'CM', 'completed'],
    ['SC', 'CM', 'completed'], ['SC', 'A', 'completed'], ['SC', 'IP', 'in-progress'],
    ['CA', 'CA', 'cancelled'], ['CA', '', 'cancelled'], ['OC', 'CA', 'cancelled'],
    ['DC', 'CA', 'discontinued'], ['DC', '', 'discontinued'],
  ];
  for (const [control, status, expected] of rows) {
    const [c] = orders(map(hl7(ORM, PID, orc(control, status), obr())));
    assert.equal(c!.status, expected, `${control}/${status}`);
    assert.equal(c!.control, control);
    assert.equal(c!.orderStatus, status, 'XO without ORC-5 keeps orderStatus "" so the applier keeps the stored status');
  }
});

test('unknown ORC-1/ORC-5 combinations are UNKNOWN_ORDER_CONTROL 103 at ORC-1 (quirk 23)', () => {
  for (const [control, status] of [['NW', 'CM'], ['XO', 'IP'], ['SC', 'SC'], ['ZZ', 'SC'], ['', 'SC'], ['OC', '']]) {
    const r = map(hl7(ORM, PID, orc(control!, status), obr()));
    assert.equal(r.kind, 'error', `${control}/${status}`);
    if (r.kind !== 'error') continue;
    assert.equal(r.error.code, 'UNKNOWN_ORDER_CONTROL');
    assert.equal(r.error.errCode, 103);
    assert.equal(r.error.segment, 'ORC');
    assert.equal(r.error.field, 1);
  }
});

test('reply codes are acknowledged and ignored', () => {
  for (const control of ['OK', 'NA', 'UA', 'CR', 'UC', 'XR', 'DR', 'OR']) {
    const r = map(hl7(ORM, PID, orc(control, ''), obr()));
    assert.ok(r.kind === 'changes', control);
    assert.deepEqual(r.changes, []);
    assert.match(r.ignored ?? '', new RegExp(control));
  }
});

test('a sender orderStatusMap adds rows (XO/IP → in-progress) and can ignore a combination', () => {
  const options = { timeZone: 'UTC', senders: { RIS: { orderStatusMap: { XO_IP: 'in-progress' as const, NW_CM: 'ignore' as const } } } };
  const [c] = orders(map(hl7(ORM, PID, orc('XO', 'IP'), obr()), options));
  assert.equal(c!.status, 'in-progress');
  const r = map(hl7(ORM, PID, orc('NW', 'CM'), obr()), options);
  assert.ok(r.kind === 'changes' && r.changes.length === 0 && r.ignored !== undefined);
});

test('every ORC group is mapped, in order (quirk 11), and a reply group among them is left out', () => {
  const r = map(hl7(ORM, PID,
    orc('NW', 'SC', { 2: 'PA' }), obr({ 2: 'PA', 18: 'ACC-A' }), ZDS,
    orc('OK', ''), obr({ 18: 'ACC-R' }),
    orc('CA', 'CA', { 2: 'PB' }), obr({ 2: 'PB', 18: 'ACC-B', 24: 'MR' }), 'OBX|1|ST|X||note'));
  const list = orders(r);
  assert.deepEqual(list.map((c) => [c.order.accession, c.status, c.order.modality, c.order.studyInstanceUid]), [
    ['ACC-A', 'scheduled', 'CT', '1.2.840.1.1'],
    ['ACC-B', 'cancelled', 'MR', undefined],
  ]);
});

test('an ORC without OBR still gives an order (e.g. CA with only ORC), with its ORC numbers', () => {
  const [c] = orders(map(hl7(ORM, PID, orc('CA', 'CA'))));
  assert.equal(c!.status, 'cancelled');
  assert.equal(c!.order.placerOrderNumber, 'PL1');
  assert.equal(c!.order.fillerOrderNumber, 'FL1');
  assert.equal(c!.order.accession, undefined);
});

test('placer and filler fall back to OBR-2/OBR-3 when ORC-2/ORC-3 are empty', () => {
  const [c] = orders(map(hl7(ORM, PID, orc('NW', 'SC', { 2: '', 3: '' }), obr({ 2: 'OBRPL', 3: 'OBRFL' }))));
  assert.equal(c!.order.placerOrderNumber, 'OBRPL');
  assert.equal(c!.order.fillerOrderNumber, 'OBRFL');
});

test('the accession is read where the sender puts it (quirk 22), and kept whole beyond 16 characters', () => {
  const text = hl7(ORM, PID, orc('NW', 'SC', { 2: 'ORC2', 3: 'ORC3' }), obr({ 3: 'OBR3', 18: 'OBR18-ACCESSION-LONGER-THAN-16', 19: 'OBR19', 20: 'OBR20' }));
  const expected: Record<string, string | undefined> = {
    'OBR-18': 'OBR18-ACCESSION-LONGER-THAN-16', 'OBR-19': 'OBR19', 'OBR-20': 'OBR20', 'OBR-3': 'OBR3', 'ORC-3': 'ORC3', 'ORC-2': 'ORC2', 'IPC-1': undefined,
  };
  for (const [where, value] of Object.entries(expected)) {
    const [c] = orders(map(text, { timeZone: 'UTC', senders: { RIS: { accession: where as 'OBR-18' } } }));
    assert.equal(c!.order.accession, value, where);
  }
  const [byBoth] = orders(map(text, { timeZone: 'UTC', senders: { RIS: { accession: 'OBR-19' }, 'RIS^RAD': { accession: 'ORC-3' } } }));
  assert.equal(byBoth!.order.accession, 'ORC3', 'the MSH-3^MSH-4 key wins over MSH-3');
});

test('OMI^O23 gives one order per IPC with the IPC fields, TQ1 start and priority', () => {
  const r = map(hl7(OMI, PID, PV1, orc('NW', 'SC', { 7: '' }), 'TQ1|1||||||20240105101500|20240105111500|R^Routine^HL70485', obr({ 18: 'OBR18' }),
    'IPC|ACC-1|RP-1|1.2.3.1^PACS^Application^DICOM|SPS-1|CT|P1^Protocol^L|CT1|RAD^CT1|CT_AE1',
    'IPC|ACC-1|RP-1|1.2.3.1|SPS-2|MR|||RAD^MR1|MR_AE1'));
  const list = orders(r);
  assert.equal(list.length, 2);
  assert.deepEqual(list.map((c) => [c.order.accession, c.order.requestedProcedureId, c.order.studyInstanceUid, c.order.scheduledProcedureStepId, c.order.modality, c.order.stationAeTitle]), [
    ['ACC-1', 'RP-1', '1.2.3.1', 'SPS-1', 'CT', 'CT_AE1'],
    ['ACC-1', 'RP-1', '1.2.3.1', 'SPS-2', 'MR', 'MR_AE1'],
  ]);
  assert.equal(list[0]!.order.scheduledAt, '2024-01-05T10:15:00+01:00');
  assert.equal(list[0]!.order.priority, 'R');
  assert.equal(list[0]!.order.placerOrderNumber, 'PL1');
});

test('OMI: every ORC group and every IPC of each', () => {
  const list = orders(map(hl7(OMI, PID,
    orc('NW', 'SC', { 2: 'PA' }), 'TQ1|1', obr({ 2: 'PA' }), 'IPC|A1|R1|1.1|S1|CT', 'IPC|A1|R1|1.1|S2|CT',
    orc('NW', 'SC', { 2: 'PB' }), 'TQ1|1', obr({ 2: 'PB' }), 'IPC|A2|R2|1.2|S3|MR')));
  assert.deepEqual(list.map((c) => `${c.order.placerOrderNumber}/${c.order.accession}/${c.order.scheduledProcedureStepId}`), ['PA/A1/S1', 'PA/A1/S2', 'PB/A2/S3']);
});

test('OMI accession defaults to IPC-1 whatever the ORM setting; omiAccession moves it', () => {
  const text = hl7(OMI, PID, orc('NW'), 'TQ1|1', obr({ 18: 'OBR18' }), 'IPC|IPC1|R|1.1|S|CT');
  const [a] = orders(map(text, { timeZone: 'UTC', senders: { RIS: { accession: 'OBR-19' } } }));
  assert.equal(a!.order.accession, 'IPC1');
  const [b] = orders(map(text, { timeZone: 'UTC', senders: { RIS: { omiAccession: 'OBR-18' } } }));
  assert.equal(b!.order.accession, 'OBR18');
});

test('OMI without IPC gives one order from the OBR', () => {
  const [c, ...rest] = orders(map(hl7(OMI, PID, orc('NW'), 'TQ1|1||||||20240105101500', obr())));
  assert.equal(rest.length, 0);
  assert.equal(c!.order.accession, undefined);
  assert.equal(c!.order.requestedProcedureId, 'RP1');
  assert.equal(c!.order.scheduledAt, '2024-01-05T10:15:00+01:00');
});

test('OMG^O19 is read like OMI', () => {
  const [c] = orders(map(hl7(OMI.replace('OMI^O23^OMI_O23', 'OMG^O19'), PID, orc('NW'), 'TQ1|1', obr())));
  assert.equal(c!.order.procedure && c!.order.procedure.code, '71250');
});

test('null rule on order fields: "" deletes, empty keeps', () => {
  const [c] = orders(map(hl7(ORM, PID, orc('XO', 'SC', { 7: '', 12: '""' }), obr({ 4: '""', 15: '', 16: '', 18: '""', 24: '""', 44: '' }), 'ZDS|""')));
  assert.equal(c!.order.procedure, null);
  assert.equal(c!.order.accession, null);
  assert.equal(c!.order.modality, null);
  assert.equal(c!.order.orderingProvider, null);
  assert.equal(c!.order.studyInstanceUid, null);
  assert.equal('procedureCode' in c!.order, false);
  assert.equal('bodyPart' in c!.order, false);
  assert.equal('scheduledAt' in c!.order, false);
});

test('missing PID (quirk 10) gives an order without patient; a PID without identifiers is 101', () => {
  const [c] = orders(map(hl7(ORM, orc('NW'), obr())));
  assert.equal(c!.patient, undefined);
  const r = map(hl7(ORM, 'PID|1||||DOE', orc('NW'), obr()));
  assert.ok(r.kind === 'error' && r.error.code === 'MISSING_FIELD' && r.error.segment === 'PID');
});

test('an ORM without ORC is 101 at ORC-1', () => {
  const r = map(hl7(ORM, PID, obr()));
  assert.ok(r.kind === 'error' && r.error.errCode === 101 && r.error.segment === 'ORC');
});

test('the dummy PV1 gives no visit; the ordering provider falls back to OBR-16', () => {
  const [c] = orders(map(hl7(ORM, PID, 'PV1||N', orc('NW', 'SC', { 12: '' }), obr())));
  assert.equal(c!.visit, undefined);
  assert.equal(c!.order.orderingProvider, 'GREY^MEREDITH');
});

test('Z-segments and unexpected segments in a group do not disturb it (quirk 9)', () => {
  const [c] = orders(map(hl7(ORM, 'ZPI|x', PID, orc('NW'), 'ZXX|1|2', obr(), 'AL1|1', ZDS, 'ZZZ|9')));
  assert.equal(c!.order.studyInstanceUid, '1.2.840.1.1');
});
