import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VisitEvent } from '../../src/converter/changes.js';
import { at, name, pid, tempRepository } from './helpers.js';

const ward = (poc: string) => ({ pointOfCare: poc, room: '1', bed: 'A', facility: 'HOSP' });

test('A04 → A08 → A02 → A03 → A13 opens, updates, transfers, closes and reopens one visit', async (t) => {
  const h = await tempRepository(t);
  assert.deepEqual(
    h.ok(
      { triggerEvent: 'A04', eventTime: at('2024-01-01T10:00:00Z') },
      { op: 'patient.upsert', patient: pid('123', { name: name('DOE', 'JOHN'), sex: 'M' }), visit: { event: VisitEvent.Register, data: { visitNumber: 'V1', patientClass: 'O', location: ward('ER') } } },
    ),
    ['patient.created', 'visit.created'],
  );
  assert.deepEqual(
    h.ok(
      { triggerEvent: 'A08', eventTime: at('2024-01-01T11:00:00Z') },
      { op: 'patient.upsert', patient: pid('123', { birthDate: '19700101' }), visit: { event: VisitEvent.Update, data: { visitNumber: 'V1', patientClass: 'I' } } },
    ),
    ['patient.updated', 'visit.updated'],
  );
  assert.deepEqual(
    h.ok({ triggerEvent: 'A02', eventTime: at('2024-01-01T12:00:00Z') }, { op: 'patient.upsert', patient: pid('123'), visit: { event: VisitEvent.Transfer, data: { visitNumber: 'V1', location: ward('ICU') } } }),
    ['visit.updated'],
  );
  const p = h.patientById('123');
  assert.ok(p);
  let v = h.repo.visitsOf(p.key).items[0];
  assert.equal(v?.location?.pointOfCare, 'ICU');
  assert.equal(v?.priorLocation?.pointOfCare, 'ER');
  assert.equal(v?.patientClass, 'I');
  assert.deepEqual(
    h.ok({ triggerEvent: 'A03', eventTime: at('2024-01-02T09:00:00Z') }, { op: 'patient.upsert', patient: pid('123'), visit: { event: VisitEvent.Discharge, data: { visitNumber: 'V1' } } }),
    ['visit.closed'],
  );
  v = h.repo.visitsOf(p.key).items[0];
  assert.equal(v?.status, 'closed');
  assert.equal(v?.dischargeTime, '2024-01-02T09:00:00.000Z');
  assert.deepEqual(
    h.ok({ triggerEvent: 'A13', eventTime: at('2024-01-02T10:00:00Z') }, { op: 'patient.upsert', patient: pid('123'), visit: { event: VisitEvent.CancelDischarge, data: {} } }),
    ['visit.updated'],
  );
  v = h.repo.visitsOf(p.key).items[0];
  assert.equal(v?.status, 'open');
  assert.equal(v?.dischargeTime, null);
  assert.deepEqual(
    v?.history.map((x) => x.status),
    ['open', 'closed', 'open'],
  );
  assert.equal(h.repo.visitsOf(p.key).items.length, 1);
  // Demographics of A04 kept where A08 said nothing, replaced where it did.
  const after = h.repo.getPatient(p.key);
  assert.equal(after?.name?.family, 'DOE');
  assert.equal(after?.birthDate, '19700101');
});

test('A11 cancels the visit and the patient stays', async (t) => {
  const h = await tempRepository(t);
  h.ok({ triggerEvent: 'A01', eventTime: at('2024-01-01T10:00:00Z') }, { op: 'patient.upsert', patient: pid('1'), visit: { event: VisitEvent.Admit, data: { visitNumber: 'V9' } } });
  assert.deepEqual(
    h.ok({ triggerEvent: 'A11', eventTime: at('2024-01-01T10:05:00Z') }, { op: 'patient.upsert', patient: pid('1'), visit: { event: VisitEvent.CancelAdmit, data: { visitNumber: 'V9' } } }),
    ['visit.cancelled'],
  );
  const p = h.patientById('1');
  assert.ok(p);
  assert.equal(h.repo.visitsOf(p.key).items[0]?.status, 'cancelled');
});

test('A12 restores the location held before the transfer', async (t) => {
  const h = await tempRepository(t);
  h.ok({ triggerEvent: 'A01', eventTime: at('2024-01-01T10:00:00Z') }, { op: 'patient.upsert', patient: pid('1'), visit: { event: VisitEvent.Admit, data: { visitNumber: 'V1', location: ward('W1') } } });
  h.ok({ triggerEvent: 'A02', eventTime: at('2024-01-01T11:00:00Z') }, { op: 'patient.upsert', patient: pid('1'), visit: { event: VisitEvent.Transfer, data: { visitNumber: 'V1', location: ward('W2') } } });
  h.ok({ triggerEvent: 'A12', eventTime: at('2024-01-01T11:10:00Z') }, { op: 'patient.upsert', patient: pid('1'), visit: { event: VisitEvent.CancelTransfer, data: { visitNumber: 'V1' } } });
  const p = h.patientById('1');
  assert.ok(p);
  const v = h.repo.visitsOf(p.key).items[0];
  assert.equal(v?.location?.pointOfCare, 'W1');
  assert.equal(v?.priorLocation, null);
});

test('a resent A04 without a visit number (quirk 13, new MSH-10) is a no-op: no second visit, no event', async (t) => {
  const h = await tempRepository(t);
  const change = { op: 'patient.upsert' as const, patient: pid('1', { name: name('A') }), visit: { event: VisitEvent.Register, data: { admitTime: '2024-01-01T10:00:00.000Z' } } };
  h.ok({ triggerEvent: 'A04', eventTime: at('2024-01-01T10:00:00Z') }, change);
  assert.deepEqual(h.ok({ triggerEvent: 'A04', eventTime: at('2024-01-01T10:00:00Z'), controlId: 'OTHER' }, change), []);
  const p = h.patientById('1');
  assert.ok(p);
  assert.equal(h.repo.visitsOf(p.key).items.length, 1);
});

test('A05 pre-admits a pending visit that the A01 without a visit number then opens', async (t) => {
  const h = await tempRepository(t);
  assert.deepEqual(
    h.ok({ triggerEvent: 'A05', eventTime: at('2024-01-01T10:00:00Z') }, { op: 'patient.upsert', patient: pid('1'), visit: { event: VisitEvent.PreAdmit, data: { admitTime: '2024-01-03T08:00:00.000Z' } } }),
    ['patient.created', 'visit.created'],
  );
  const p = h.patientById('1');
  assert.ok(p);
  assert.equal(h.repo.visitsOf(p.key).items[0]?.status, 'pending');
  h.ok({ triggerEvent: 'A01', eventTime: at('2024-01-03T08:10:00Z') }, { op: 'patient.upsert', patient: pid('1'), visit: { event: VisitEvent.Admit, data: { admitTime: '2024-01-03T08:10:00.000Z' } } });
  const visits = h.repo.visitsOf(p.key).items;
  assert.equal(visits.length, 1);
  assert.equal(visits[0]?.status, 'open');
  assert.equal(visits[0]?.admitTime, '2024-01-03T08:10:00.000Z');
});
