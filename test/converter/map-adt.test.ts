/** ADT mapping (DOMAIN.md §4.2, §4.3): every event, the null rule per field, A40 groups, quirks 10 and 17. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Change, MappingResult } from '../../src/converter/changes.js';
import { createMappingOptions, mapMessage, type MappingOptionsInput } from '../../src/converter/map/index.js';
import { hl7, parseOk } from '../helpers/hl7.js';

const OPTS = createMappingOptions({ timeZone: 'Europe/Berlin' });
const msh = (event: string, structure = ''): string => `MSH|^~\\&|HIS|HOSP|PACS|RAD|20240102120000||ADT^${event}${structure === '' ? '' : `^${structure}`}|C${event}|P|2.5.1`;
const EVN = 'EVN||20240102115500';
const PID = 'PID|1||12345^^^HOSP&1.2.3&ISO^MR~998877^^^EMPI^PI||DOE^JOHN^Q^JR^DR||19800131|m||2106-3|1 MAIN ST^APT 2^BERLIN^BE^10115^DE||030123456^PRN|||||AC-77';
const PV1 = seg('PV1', { 1: '1', 2: 'I', 3: 'WARD1^101^A^MAIN', 7: '1234^SMITH^ANNA', 8: '5678^JONES^BOB', 19: 'V-900', 44: '20240102110000' });

function map(text: string, options: MappingOptionsInput = { timeZone: 'Europe/Berlin' }): MappingResult {
  return mapMessage(parseOk(text), createMappingOptions(options));
}
function changesOf(r: MappingResult): Change[] {
  assert.equal(r.kind, 'changes', JSON.stringify(r));
  return r.kind === 'changes' ? r.changes : [];
}
/** The change member whose `op` admits T. */
type Of<T extends Change['op']> = Change extends infer C ? (C extends { op: infer O } ? (T extends O ? C : never) : never) : never;
function only<T extends Change['op']>(r: MappingResult, op: T): Of<T> {
  const changes = changesOf(r);
  assert.equal(changes.length, 1);
  assert.equal(changes[0]!.op, op);
  return changes[0] as Of<T>;
}
/** A segment with the given fields at their numbers (1-based), the rest empty. */
function seg(id: string, fields: Record<number, string>): string {
  const n = Math.max(...Object.keys(fields).map(Number));
  const out: string[] = [id];
  for (let i = 1; i <= n; i++) out.push(fields[i] ?? '');
  return out.join('|');
}

test('A01 upserts the patient with every PID field and opens a visit with the PV1 fields', () => {
  const c = only(map(hl7(msh('A01', 'ADT_A01'), EVN, PID, PV1)), 'patient.upsert');
  assert.deepEqual(c.patient, {
    identifiers: [
      { id: '12345', authority: 'HOSP', authorityUid: '1.2.3', authorityUidType: 'ISO', type: 'MR' },
      { id: '998877', authority: 'EMPI', authorityUid: '', authorityUidType: '', type: 'PI' },
    ],
    name: { family: 'DOE', given: 'JOHN', middle: 'Q', suffix: 'JR', prefix: 'DR' },
    birthDate: '19800131',
    sex: 'M',
    address: { street: '1 MAIN ST', other: 'APT 2', city: 'BERLIN', state: 'BE', postalCode: '10115', country: 'DE' },
    phone: '030123456',
    accountNumber: 'AC-77',
  });
  assert.deepEqual(c.visit, {
    event: 'admit',
    data: {
      patientClass: 'I',
      location: { pointOfCare: 'WARD1', room: '101', bed: 'A', facility: 'MAIN' },
      attendingDoctor: 'SMITH^ANNA',
      referringDoctor: 'JONES^BOB',
      visitNumber: 'V-900',
      admitTime: '2024-01-02T11:00:00+01:00',
    },
  });
});

test('the context carries MSH-9, the sender, MSH-10 and EVN-2 as the event time in the configured zone', () => {
  const r = map(hl7(msh('A04'), EVN, PID));
  assert.equal(r.kind, 'changes');
  if (r.kind !== 'changes') return;
  assert.deepEqual(r.context, {
    messageCode: 'ADT',
    triggerEvent: 'A04',
    sender: 'HIS^HOSP',
    controlId: 'CA04',
    eventTime: Date.parse('2024-01-02T11:55:00+01:00'),
    messageTime: Date.parse('2024-01-02T12:00:00+01:00'),
  });
});

test('the event time falls back to EVN-6, then MSH-7', () => {
  const r1 = map(hl7(msh('A08'), seg('EVN', { 6: '20240102101010' }), PID));
  const r2 = map(hl7(msh('A08'), PID));
  assert.ok(r1.kind === 'changes' && r2.kind === 'changes');
  assert.equal(r1.context.eventTime, Date.parse('2024-01-02T10:10:10+01:00'));
  assert.equal(r2.context.eventTime, Date.parse('2024-01-02T12:00:00+01:00'));
});

test('each visit event maps to its visit event word', () => {
  const expected: Record<string, string> = {
    A01: 'admit', A04: 'register', A05: 'pre-admit', A08: 'update', A02: 'transfer', A03: 'discharge',
    A06: 'class-change', A07: 'class-change', A11: 'cancel-admit', A12: 'cancel-transfer', A13: 'cancel-discharge',
  };
  for (const [event, word] of Object.entries(expected)) {
    const c = only(map(hl7(msh(event), EVN, PID, PV1)), 'patient.upsert');
    assert.equal(c.visit?.event, word, event);
  }
});

test('A02 carries the new location and PV1-6 as the prior location; A03 the discharge time', () => {
  const a02 = only(map(hl7(msh('A02'), EVN, PID, 'PV1|1|I|WARD2^202^B^MAIN|||WARD1^101^A^MAIN')), 'patient.upsert');
  assert.deepEqual(a02.visit?.data.location, { pointOfCare: 'WARD2', room: '202', bed: 'B', facility: 'MAIN' });
  assert.deepEqual(a02.visit?.data.priorLocation, { pointOfCare: 'WARD1', room: '101', bed: 'A', facility: 'MAIN' });
  const a03 = only(map(hl7(msh('A03'), EVN, PID, seg('PV1', { 1: '1', 2: 'I', 3: 'WARD1', 19: 'V-900', 45: '20240103090000' }))), 'patient.upsert');
  assert.equal(a03.visit?.data.dischargeTime, '2024-01-03T09:00:00+01:00');
  assert.equal(a03.visit?.data.visitNumber, 'V-900');
});

test('missing EVN and PV1 are fine: the visit event is still given, with no data (quirk 10)', () => {
  const c = only(map(hl7(msh('A03'), PID)), 'patient.upsert');
  assert.deepEqual(c.visit, { event: 'discharge', data: {} });
});

test('A31 and A28 with the dummy PV1||N carry no visit; with a real PV1 a visit update', () => {
  for (const event of ['A31', 'A28']) {
    const dummy = only(map(hl7(msh(event), EVN, PID, 'PV1||N')), 'patient.upsert');
    assert.equal(dummy.visit, undefined, event);
    const none = only(map(hl7(msh(event), EVN, PID)), 'patient.upsert');
    assert.equal(none.visit, undefined, event);
    const real = only(map(hl7(msh(event), EVN, PID, PV1)), 'patient.upsert');
    assert.equal(real.visit?.event, 'update', event);
    assert.equal(real.visit?.data.visitNumber, 'V-900');
  }
});

test('A08 with a dummy PV1 updates demographics only', () => {
  const c = only(map(hl7(msh('A08'), EVN, PID, 'PV1||N')), 'patient.upsert');
  assert.equal(c.visit, undefined);
});

test('null rule: "" deletes, empty and absent keep, a value sets (PID)', () => {
  const c = only(map(hl7(msh('A08'), EVN, seg('PID', { 1: '1', 3: '12345^^^HOSP', 5: '""', 7: '""', 8: '""', 11: '""', 13: '""', 18: '""', 29: '""' }))), 'patient.upsert');
  assert.deepEqual(c.patient, {
    identifiers: [{ id: '12345', authority: 'HOSP', authorityUid: '', authorityUidType: '', type: '' }],
    name: null, birthDate: null, sex: null, address: null, phone: null, accountNumber: null, deathTime: null,
  });
  const keep = only(map(hl7(msh('A08'), EVN, 'PID|1||12345^^^HOSP||||||||||||||||')), 'patient.upsert');
  assert.deepEqual(Object.keys(keep.patient), ['identifiers']);
  const absent = only(map(hl7(msh('A08'), EVN, 'PID|1||12345^^^HOSP')), 'patient.upsert');
  assert.deepEqual(Object.keys(absent.patient), ['identifiers']);
});

test('null rule: "" deletes, empty keeps (PV1)', () => {
  const c = only(map(hl7(msh('A08'), EVN, PID, seg('PV1', { 1: '1', 2: '""', 3: '""', 6: '""', 7: '""', 8: '""', 19: '""', 44: '""', 45: '""' }))), 'patient.upsert');
  assert.deepEqual(c.visit?.data, {
    patientClass: null, location: null, priorLocation: null, attendingDoctor: null, referringDoctor: null,
    visitNumber: null, admitTime: null, dischargeTime: null,
  });
  const keep = only(map(hl7(msh('A08'), EVN, PID, 'PV1|1|O||||||||||||||||||')), 'patient.upsert');
  assert.deepEqual(keep.visit?.data, { patientClass: 'O' });
});

test('a "" component inside a composite value is read as an empty string, not a delete', () => {
  const c = only(map(hl7(msh('A08'), EVN, 'PID|1||12345^^^HOSP||DOE^""^Q')), 'patient.upsert');
  assert.deepEqual(c.patient.name, { family: 'DOE', given: '', middle: 'Q', suffix: '', prefix: '' });
});

test('PID-5 prefers the repetition of type L (legal)', () => {
  const c = only(map(hl7(msh('A08'), EVN, 'PID|1||12345^^^HOSP||JD^J^^^^^A~DOE^JANE^^^^^L')), 'patient.upsert');
  assert.deepEqual(c.patient.name, { family: 'DOE', given: 'JANE', middle: '', suffix: '', prefix: '', type: 'L' });
});

test('PID-7 with a time is stored as the date only; PID-29 as ISO (quirk 19)', () => {
  const c = only(map(hl7(msh('A08'), EVN, seg('PID', { 1: '1', 3: '12345^^^HOSP', 5: 'DOE', 7: '198001311230+0100', 29: '20240101083000' }))), 'patient.upsert');
  assert.equal(c.patient.birthDate, '19800131');
  assert.equal(c.patient.deathTime, '2024-01-01T08:30:00+01:00');
});

test('PID-13 without XTN-1 is composed from country, area and local number (v2.5 senders)', () => {
  const c = only(map(hl7(msh('A08'), EVN, seg('PID', { 3: '1^^^H', 13: '^PRN^PH^^1^896^6014664~^NET^Internet^a@b.org' }))), 'patient.upsert');
  assert.equal(c.patient.phone, '+1 896 6014664');
  const d = only(map(hl7(msh('A08'), EVN, seg('PID', { 3: '1^^^H', 13: '^^^^^^^^^^^0301234' }))), 'patient.upsert');
  assert.equal(d.patient.phone, '0301234');
});

test('HL7 times of every precision, with or without zone, become ISO; unknown parts and bad values are no information (quirk 19)', () => {
  const visit = (admit: string): unknown => only(map(hl7(msh('A01'), EVN, 'PID|1||1^^^H', seg('PV1', { 2: 'I', 44: admit }))), 'patient.upsert').visit?.data.admitTime;
  assert.equal(visit('2024'), '2024-01-01T00:00:00+01:00');
  assert.equal(visit('202407'), '2024-07-01T00:00:00+02:00');
  assert.equal(visit('202407151230'), '2024-07-15T12:30:00+02:00');
  assert.equal(visit('20240715123045.1234+0000'), '2024-07-15T12:30:45.1234+00:00');
  assert.equal(visit('20241345'), undefined);
  assert.equal(visit('garbage'), undefined);
  const birth = (value: string): unknown => only(map(hl7(msh('A08'), EVN, seg('PID', { 3: '1^^^H', 7: value }))), 'patient.upsert').patient.birthDate;
  assert.equal(birth('19800131'), '19800131');
  assert.equal(birth('19800131000000-0500'), '19800131');
  assert.equal(birth('19800000'), undefined, 'a birth date without day is not a DICOM DA: left out');
  assert.equal(birth('1980'), undefined);
});

test('PID-3 is a full snapshot: every repetition, in order, whatever the count', () => {
  const c = only(map(hl7(msh('A08'), EVN, 'PID|1||A1^^^X~B2^^^Y~C3^^^Z')), 'patient.upsert');
  assert.deepEqual(c.patient.identifiers.map((i) => `${i.id}@${i.authority}`), ['A1@X', 'B2@Y', 'C3@Z']);
});

test('an empty CX-4 takes the sender default authority; the primary authority is listed first', () => {
  const options = { timeZone: 'Europe/Berlin', senders: { HIS: { defaultAuthority: 'HOSP', primaryAuthority: 'EMPI' } } };
  const c = only(map(hl7(msh('A08'), EVN, 'PID|1||A1~B2^^^EMPI'), options), 'patient.upsert');
  assert.deepEqual(c.patient.identifiers.map((i) => `${i.id}@${i.authority}`), ['B2@EMPI', 'A1@HOSP']);
});

test('identity options normalise identifiers (leading zeros stripped for a configured authority)', () => {
  const c = only(map(hl7(msh('A08'), EVN, 'PID|1||00042^^^HOSP'), { timeZone: 'UTC', identity: { stripLeadingZeros: ['HOSP'] } }), 'patient.upsert');
  assert.equal(c.patient.identifiers[0]?.id, '42');
});

test('legacy PID-2 and PID-4 are used only when PID-3 is empty (quirk 17)', () => {
  const legacy = only(map(hl7(msh('A08'), EVN, 'PID|1|OLD1^^^HOSP||OLD2^^^HOSP~OLD3^^^LAB|DOE')), 'patient.upsert');
  assert.deepEqual(legacy.patient.identifiers.map((i) => i.id), ['OLD1', 'OLD2', 'OLD3']);
  const modern = only(map(hl7(msh('A08'), EVN, 'PID|1|OLD1^^^HOSP|NEW^^^HOSP|OLD2^^^HOSP|DOE')), 'patient.upsert');
  assert.deepEqual(modern.patient.identifiers.map((i) => i.id), ['NEW']);
});

test('missing PID-3 is MISSING_FIELD 101 at PID-3; so is a missing PID', () => {
  for (const text of [hl7(msh('A08'), EVN, 'PID|1||""|||DOE'), hl7(msh('A08'), EVN), hl7(msh('A01'), EVN, 'PID|1||||DOE')]) {
    const r = map(text);
    assert.equal(r.kind, 'error');
    if (r.kind !== 'error') continue;
    assert.deepEqual({ ...r.error, message: '' }, { code: 'MISSING_FIELD', errCode: 101, segment: 'PID', field: 3, message: '' });
  }
});

test('A40 with repeating {PID, MRG} groups gives one merge per group, in order, MRG-1 all repetitions and MRG-7', () => {
  const r = map(hl7(msh('A40', 'ADT_A39'), EVN,
    'PID|1||T1^^^HOSP||SURVIVOR^ONE', 'MRG|S1^^^HOSP~S1B^^^EMPI||||||OLDNAME^ONE',
    'PID|2||T2^^^HOSP||SURVIVOR^TWO', 'PV1||N', 'MRG|S2^^^HOSP'));
  const changes = changesOf(r);
  assert.equal(changes.length, 2);
  const [m1, m2] = changes as Array<Extract<Change, { op: 'patient.merge' }>>;
  assert.equal(m1!.op, 'patient.merge');
  assert.equal(m1!.trigger, 'A40');
  assert.deepEqual(m1!.target.identifiers.map((i) => i.id), ['T1']);
  assert.deepEqual(m1!.source.map((i) => `${i.id}@${i.authority}`), ['S1@HOSP', 'S1B@EMPI']);
  assert.deepEqual(m1!.priorName, { family: 'OLDNAME', given: 'ONE', middle: '', suffix: '', prefix: '' });
  assert.deepEqual(m2!.target.identifiers.map((i) => i.id), ['T2']);
  assert.deepEqual(m2!.source.map((i) => i.id), ['S2']);
  assert.equal(m2!.priorName, undefined);
});

test('A40 without MRG is MISSING_FIELD 101 at MRG-1, also when only a later group lacks it', () => {
  for (const text of [hl7(msh('A40'), EVN, 'PID|1||T1^^^HOSP'), hl7(msh('A40'), EVN, 'PID|1||T1^^^HOSP', 'MRG|S1^^^HOSP', 'PID|2||T2^^^HOSP')]) {
    const r = map(text);
    assert.ok(r.kind === 'error');
    assert.equal(r.error.code, 'MISSING_FIELD');
    assert.equal(r.error.segment, 'MRG');
    assert.equal(r.error.field, 1);
  }
});

test('A34 (legacy) is a merge like A40, with its own trigger', () => {
  const c = only(map(hl7(msh('A34', 'ADT_A30'), EVN, 'PID|1||T1^^^HOSP', 'MRG|S1^^^HOSP')), 'patient.merge');
  assert.equal(c.trigger, 'A34');
  assert.deepEqual(c.source.map((i) => i.id), ['S1']);
});

test('A35 moves the MRG-3 account; without MRG-3 it is 101 at MRG-3', () => {
  const c = only(map(hl7(msh('A35'), EVN, 'PID|1||T1^^^HOSP', 'MRG|||ACC-OLD')), 'account.move');
  assert.equal(c.sourceAccount, 'ACC-OLD');
  assert.deepEqual(c.target.identifiers.map((i) => i.id), ['T1']);
  const r = map(hl7(msh('A35'), EVN, 'PID|1||T1^^^HOSP', 'MRG|S1'));
  assert.ok(r.kind === 'error' && r.error.segment === 'MRG' && r.error.field === 3);
});

test('A47 relabels MRG-1 as PID-3', () => {
  const c = only(map(hl7(msh('A47', 'ADT_A30'), EVN, 'PID|1||NEW1^^^HOSP', 'MRG|OLD1^^^HOSP')), 'patient.change-id');
  assert.deepEqual(c.patient.identifiers.map((i) => i.id), ['NEW1']);
  assert.deepEqual(c.source.map((i) => i.id), ['OLD1']);
});

test('A24 links and A37 unlinks the two PIDs; a missing second PID is 101', () => {
  const link = only(map(hl7(msh('A24'), EVN, 'PID|1||P1^^^HOSP', 'PV1||O', 'PID|2||P2^^^EMPI')), 'patient.link');
  assert.deepEqual([link.a.identifiers[0]?.id, link.b.identifiers[0]?.id], ['P1', 'P2']);
  const unlink = only(map(hl7(msh('A37'), EVN, 'PID|1||P1^^^HOSP', 'PID|2||P2^^^EMPI')), 'patient.unlink');
  assert.equal(unlink.b.identifiers[0]?.authority, 'EMPI');
  const r = map(hl7(msh('A24'), EVN, 'PID|1||P1^^^HOSP'));
  assert.ok(r.kind === 'error' && r.error.errCode === 101 && r.error.segment === 'PID');
});

test('an unknown ADT trigger is accepted and ignored, not an error', () => {
  const r = map(hl7(msh('A60'), EVN, PID));
  assert.ok(r.kind === 'changes');
  assert.deepEqual(r.changes, []);
  assert.equal(r.ignored, 'unsupported ADT event A60');
});

test('triggers in the sender ignoreEvents are accepted and ignored; other senders are not affected', () => {
  const options = { timeZone: 'UTC', senders: { HIS: { ignoreEvents: ['A02'] } } };
  const r = map(hl7(msh('A02'), EVN, PID, PV1), options);
  assert.ok(r.kind === 'changes');
  assert.deepEqual(r.changes, []);
  assert.match(r.ignored ?? '', /A02/);
  const other = map(hl7(msh('A02').replace('|HIS|', '|OTHER|'), EVN, PID, PV1), options);
  assert.ok(other.kind === 'changes' && other.changes.length === 1);
});

test('MSH-9 without the structure maps the same as with it (quirk 8)', () => {
  const a = map(hl7(msh('A40'), EVN, 'PID|1||T1^^^HOSP', 'MRG|S1^^^HOSP'));
  const b = map(hl7(msh('A40', 'ADT_A39'), EVN, 'PID|1||T1^^^HOSP', 'MRG|S1^^^HOSP'));
  assert.deepEqual(a, b);
});

test('PID-8 is kept as sent, uppercased; the attending doctor without a name is its ID', () => {
  const c = only(map(hl7(msh('A01'), EVN, 'PID|1||1^^^H|||||u', 'PV1|1|E||||||DOC77')), 'patient.upsert');
  assert.equal(c.patient.sex, 'U');
  assert.equal(c.visit?.data.attendingDoctor, undefined);
  const d = only(map(hl7(msh('A01'), EVN, 'PID|1||1^^^H', 'PV1|1|E||||||DOC77')), 'patient.upsert');
  assert.equal(d.visit?.data.referringDoctor, 'DOC77');
});

test('mapping is deterministic and does not depend on earlier calls', () => {
  const text = hl7(msh('A01'), EVN, PID, PV1);
  assert.deepEqual(mapMessage(parseOk(text), OPTS), mapMessage(parseOk(text), OPTS));
});
