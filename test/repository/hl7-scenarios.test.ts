/** End-to-end through the real parser and mappers: HL7 text → parse → mapMessage → apply → queries. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMappingOptions, mapMessage } from '../../src/converter/map/index.js';
import type { ApplyOutcome } from '../../src/repository/index.js';
import { hl7, parseOk } from '../helpers/hl7.js';
import { tempRepository, type Harness } from './helpers.js';

const OPTS = createMappingOptions({ timeZone: 'Europe/Berlin' });
let n = 0;
const msh = (type: string, time = '20240102120000'): string => `MSH|^~\\&|HIS|HOSP|PACS|RAD|${time}||${type}|M${++n}|P|2.5.1`;

function feed(h: Harness, ...segments: string[]): { outcome: ApplyOutcome; types: string[] } {
  const r = mapMessage(parseOk(hl7(...segments)), OPTS);
  assert.equal(r.kind, 'changes', JSON.stringify(r));
  if (r.kind !== 'changes') throw new Error('unreachable');
  const { outcome, events } = h.apply(r.context, ...r.changes);
  return { outcome, types: events.map((e) => e.type) };
}

test('A04, ORM with ZDS, ORU with a base64 PDF, then A40: the report and order follow the survivor and the old ID finds it', async (t) => {
  const h = await tempRepository(t);
  assert.deepEqual(feed(h, msh('ADT^A04'), 'EVN||20240102115500', 'PID|1||111^^^HOSP^MR||DOE^JOHN||19800131|M', 'PV1|1|O|RAD^1^A||||||||||||||||V-1').types, [
    'patient.created',
    'visit.created',
  ]);
  assert.deepEqual(
    feed(h, msh('ORM^O01'), 'PID|1||111^^^HOSP^MR||DOE^JOHN', 'ORC|NW|PL1|FL1||SC||^^^20240103083000^^S', 'OBR|1|PL1|FL1|71250^CT THORAX^CPT4||||||||||||||ACC1|RP1|SPS1||||CT', 'ZDS|1.2.840.1.1^PACS^Application^DICOM').types,
    ['order.scheduled'],
  );
  const pdf = Buffer.from('%PDF-1.4 tiny\n%%EOF');
  assert.deepEqual(
    feed(
      h,
      msh('ORU^R01^ORU_R01'),
      'PID|1||111^^^HOSP^MR||DOE^JOHN',
      'OBR|1|PL1|FL1|71250^CT THORAX^CPT4|||20240102090000|||||||||||ACC1|||||||F',
      'OBX|1|TX|18748-4^Diagnostic Imaging Report^LN||No acute findings.||||||F',
      `OBX|2|ED|18748-4^Diagnostic Imaging Report^LN||^Application^PDF^Base64^${pdf.toString('base64')}||||||F`,
    ).types,
    ['report.created'],
  );
  const order = h.repo.findOrders({ accession: 'ACC1' }).items[0];
  assert.equal(order?.studyInstanceUid, '1.2.840.1.1');
  assert.equal(order?.scheduledAt, '2024-01-03T08:30:00+01:00');
  const report = h.repo.findReports({ accession: 'ACC1' }).items[0];
  assert.equal(report?.status, 'final');
  assert.match(report?.text ?? '', /No acute findings/);
  const att = h.repo.getAttachment(report?.versions[0]?.attachments[0] ?? '');
  assert.ok(att?.bytes.equals(pdf));

  // A04 without PV1 still opens a visit (DOMAIN.md §4.2), with nothing but its status.
  assert.deepEqual(feed(h, msh('ADT^A04'), 'EVN||20240102130000', 'PID|1||222^^^HOSP^MR||DOE^JOHN||19800131|M').types, ['patient.created', 'visit.created']);
  assert.deepEqual(feed(h, msh('ADT^A40^ADT_A39'), 'EVN||20240102140000', 'PID|1||222^^^HOSP^MR||DOE^JOHN', 'MRG|111^^^HOSP').types, ['patient.merged']);
  const survivor = h.repo.findPatients({ identifier: '111', authority: 'HOSP' }).items[0];
  assert.equal(survivor?.identifiers[0]?.id, '222');
  assert.equal(h.repo.findOrders({ accession: 'ACC1' }).items[0]?.patientKey, survivor?.key);
  assert.equal(h.repo.findReports({ accession: 'ACC1' }).items[0]?.patientKey, survivor?.key);
});

test('an A08 with "" deletes and an empty field keeps; an older A08 does not overwrite', async (t) => {
  const h = await tempRepository(t);
  feed(h, msh('ADT^A04'), 'EVN||20240102110000', 'PID|1||111^^^HOSP^MR||DOE^JOHN||19800131|M|||1 MAIN ST^^BERLIN||030123');
  assert.deepEqual(feed(h, msh('ADT^A08'), 'EVN||20240102120000', 'PID|1||111^^^HOSP^MR||DOE^JOHN||""|M|||||""', 'PV1||N').types, ['patient.updated']);
  let p = h.repo.findPatients({ identifier: '111' }).items[0];
  assert.equal(p?.birthDate, null);
  assert.equal(p?.phone, null);
  assert.equal(p?.address?.city, 'BERLIN');
  feed(h, msh('ADT^A08'), 'EVN||20240102100000', 'PID|1||111^^^HOSP^MR||ROE^JANE||19700101|F', 'PV1||N');
  p = h.repo.findPatients({ identifier: '111' }).items[0];
  assert.equal(p?.name?.family, 'DOE');
  assert.equal(p?.sex, 'M');
  assert.equal(p?.birthDate, '19700101', 'the older message still fills the deleted birth date');
});

test('an A40 with two {PID, MRG} groups whose second is source = target applies neither', async (t) => {
  const h = await tempRepository(t);
  feed(h, msh('ADT^A04'), 'PID|1||S1^^^HOSP');
  feed(h, msh('ADT^A04'), 'PID|1||T1^^^HOSP');
  feed(h, msh('ADT^A04'), 'PID|1||T2^^^HOSP');
  const before = h.repo.digest();
  const { outcome, types } = feed(h, msh('ADT^A40^ADT_A39'), 'EVN||20240102140000', 'PID|1||T1^^^HOSP', 'MRG|S1^^^HOSP', 'PID|2||T2^^^HOSP', 'MRG|T2^^^HOSP');
  assert.equal(outcome.kind, 'rejected');
  if (outcome.kind === 'rejected') assert.equal(outcome.error.errCode, 205);
  assert.deepEqual(types, []);
  assert.equal(h.repo.digest(), before);
});

test('XO without ORC-5 keeps the status; CA cancels without deleting', async (t) => {
  const h = await tempRepository(t);
  feed(h, msh('ORM^O01'), 'PID|1||111^^^HOSP', 'ORC|SC|PL1|FL1||IP', 'OBR|1|PL1|FL1|||||||||||||||ACC1');
  feed(h, msh('ORM^O01', '20240102130000'), 'PID|1||111^^^HOSP', 'ORC|XO|PL1|FL1', 'OBR|1|PL1|FL1|||||||||||||||ACC1||||||MR');
  let o = h.repo.findOrders({ accession: 'ACC1' }).items[0];
  assert.equal(o?.status, 'in-progress');
  assert.equal(o?.modality, 'MR');
  feed(h, msh('ORM^O01', '20240102140000'), 'PID|1||111^^^HOSP', 'ORC|CA|PL1|FL1||CA', 'OBR|1|PL1|FL1|||||||||||||||ACC1');
  o = h.repo.findOrders({ accession: 'ACC1' }).items[0];
  assert.equal(o?.status, 'cancelled');
});

test('with stripLeadingZeros for HOSP, 00123 and 123 are one patient end to end (quirk 18)', async (t) => {
  const h = await tempRepository(t);
  const opts = createMappingOptions({ timeZone: 'Europe/Berlin', identity: { stripLeadingZeros: ['HOSP'] } });
  for (const mrn of ['00123', '123']) {
    const r = mapMessage(parseOk(hl7(msh('ADT^A08'), `PID|1||${mrn}^^^HOSP||DOE`, 'PV1||N')), opts);
    assert.equal(r.kind, 'changes');
    if (r.kind === 'changes') h.apply(r.context, ...r.changes);
  }
  assert.equal(h.repo.findPatients({ identifier: '123' }).items.length, 1);
  assert.equal(h.events.filter((e) => e.type === 'patient.created').length, 1);
});
