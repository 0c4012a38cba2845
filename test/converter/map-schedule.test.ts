/** SIU^S12–S15 mapping (DOMAIN.md §4.5). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Change, MappingResult } from '../../src/converter/changes.js';
import { createMappingOptions, mapMessage } from '../../src/converter/map/index.js';
import { hl7, parseOk } from '../helpers/hl7.js';

type Sched = Extract<Change, { op: 'schedule.upsert' }>;
const msh = (event: string): string => `MSH|^~\\&|RIS|RAD|PACS|RAD|20240102120000||SIU^${event}^SIU_S12|S1|P|2.5.1`;
const SCH = 'SCH|APT-P^RIS|APT-F^RIS||||||||30^min|^^^20240110093000^20240110100000||||||||||||||Booked|ORD-P^EPIC|ORD-F^RIS';
const PID = 'PID|1||12345^^^HOSP^MR||DOE^JOHN';
const OPTS = createMappingOptions({ timeZone: 'Europe/Berlin' });

function map(text: string): MappingResult {
  return mapMessage(parseOk(text), OPTS);
}
function one(r: MappingResult): Sched {
  assert.equal(r.kind, 'changes', JSON.stringify(r));
  const changes = r.kind === 'changes' ? r.changes : [];
  assert.equal(changes.length, 1);
  assert.equal(changes[0]!.op, 'schedule.upsert');
  return changes[0] as Sched;
}

test('S12 books an appointment with SCH numbers, start, filler status, AIS procedure, AIG modality and the patient', () => {
  const c = one(map(hl7(msh('S12'), SCH, 'TQ1|1', PID, 'PV1|1|O', 'RGS|1', 'AIS|1||71250^CT THORAX^CPT4|20240110093000', 'AIG|1||CT1^CT scanner 1|CT^Computed Tomography^DCM', 'AIL|1||RAD^CT1')));
  assert.equal(c.event, 'booked');
  assert.deepEqual(c.appointment, {
    placerAppointmentId: 'APT-P', fillerAppointmentId: 'APT-F', placerOrderNumber: 'ORD-P', fillerOrderNumber: 'ORD-F', fillerStatus: 'Booked',
    scheduledAt: '2024-01-10T09:30:00+01:00', procedure: { code: '71250', text: 'CT THORAX', system: 'CPT4' }, modality: 'CT',
  });
  assert.deepEqual(c.patient?.identifiers.map((i) => i.id), ['12345']);
});

test('S13, S14 and S15 are rescheduled, modified and cancelled', () => {
  for (const [event, word] of [['S13', 'rescheduled'], ['S14', 'modified'], ['S15', 'cancelled']]) {
    assert.equal(one(map(hl7(msh(event!), SCH, PID))).event, word);
  }
});

test('without SCH-11.4 the start is the first AIS-4, else the first AIL-6', () => {
  const noStart = 'SCH|APT-P|APT-F';
  assert.equal(one(map(hl7(msh('S12'), noStart, 'RGS|1', 'AIS|1||X|20240111080000', 'AIL|1||R|||20240112080000'))).appointment.scheduledAt, '2024-01-11T08:00:00+01:00');
  assert.equal(one(map(hl7(msh('S12'), noStart, 'RGS|1', 'AIL|1||R|||20240112080000'))).appointment.scheduledAt, '2024-01-12T08:00:00+01:00');
  assert.equal(one(map(hl7(msh('S12'), noStart))).appointment.scheduledAt, undefined);
});

test('a resource that is not a modality code gives no modality; no PID gives no patient', () => {
  const c = one(map(hl7(msh('S12'), SCH, 'RGS|1', 'AIG|1||DR1|PHYSICIAN^Physician^L')));
  assert.equal(c.appointment.modality, undefined);
  assert.equal(c.patient, undefined);
});

test('other SIU triggers are ignored; SIU without SCH is 101 at SCH-1', () => {
  const r = map(hl7(msh('S17'), SCH));
  assert.ok(r.kind === 'changes' && r.changes.length === 0 && r.ignored === 'unsupported SIU event S17');
  const e = map(hl7(msh('S12'), PID));
  assert.ok(e.kind === 'error' && e.error.segment === 'SCH' && e.error.errCode === 101);
});
