import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VisitEvent } from '../../src/converter/changes.js';
import { at, name, pid, tempRepository } from './helpers.js';

test('an A08 older than the stored update does not overwrite demographics but fills what is missing (quirk 14)', async (t) => {
  const h = await tempRepository(t);
  h.ok({ triggerEvent: 'A08', eventTime: at('2024-01-01T12:00:00Z') }, { op: 'patient.upsert', patient: pid('1', { name: name('NEW') }) });
  const events = h.ok({ triggerEvent: 'A08', eventTime: at('2024-01-01T09:00:00Z') }, { op: 'patient.upsert', patient: pid('1', { name: name('OLD'), birthDate: '19700101' }) });
  const p = h.patientById('1');
  assert.equal(p?.name?.family, 'NEW');
  assert.equal(p?.birthDate, '19700101');
  assert.equal(p?.updatedAt, '2024-01-01T12:00:00.000Z');
  assert.deepEqual(events, ['patient.updated']);
});

test('an A08 before the A04 creates the patient; the late A04 does not roll it back', async (t) => {
  const h = await tempRepository(t);
  assert.deepEqual(h.ok({ triggerEvent: 'A08', eventTime: at('2024-01-01T12:00:00Z') }, { op: 'patient.upsert', patient: pid('1', { name: name('UPDATED') }) }), ['patient.created']);
  h.ok({ triggerEvent: 'A04', eventTime: at('2024-01-01T08:00:00Z') }, { op: 'patient.upsert', patient: pid('1', { name: name('REGISTERED') }), visit: { event: VisitEvent.Register, data: { visitNumber: 'V1' } } });
  const p = h.patientById('1');
  assert.equal(p?.name?.family, 'UPDATED');
  assert.ok(p);
  assert.equal(h.repo.visitsOf(p.key).items.length, 1, 'what is missing is still created');
});

test('an A03 before the A01 creates a closed visit; the late A01 neither reopens it nor moves it', async (t) => {
  const h = await tempRepository(t);
  h.ok({ triggerEvent: 'A03', eventTime: at('2024-01-02T12:00:00Z') }, { op: 'patient.upsert', patient: pid('1'), visit: { event: VisitEvent.Discharge, data: { visitNumber: 'V1', location: { pointOfCare: 'W2', room: '', bed: '', facility: '' } } } });
  h.ok({ triggerEvent: 'A01', eventTime: at('2024-01-01T08:00:00Z') }, { op: 'patient.upsert', patient: pid('1'), visit: { event: VisitEvent.Admit, data: { visitNumber: 'V1', location: { pointOfCare: 'W1', room: '', bed: '', facility: '' }, admitTime: '2024-01-01T08:00:00.000Z' } } });
  const p = h.patientById('1');
  assert.ok(p);
  const v = h.repo.visitsOf(p.key).items[0];
  assert.equal(v?.status, 'closed');
  assert.equal(v?.location?.pointOfCare, 'W2');
  assert.equal(v?.admitTime, '2024-01-01T08:00:00.000Z', 'empty field filled from the older message');
});

test('an older XO does not change a newer order status or its fields', async (t) => {
  const h = await tempRepository(t);
  const ctx = (iso: string) => ({ messageCode: 'ORM', triggerEvent: 'O01', eventTime: at(iso) });
  h.ok(ctx('2024-01-01T10:00:00Z'), { op: 'order.upsert', patient: pid('1'), order: { accession: 'A1', modality: 'CT' }, status: 'scheduled', control: 'NW', orderStatus: 'SC' });
  h.ok(ctx('2024-01-01T12:00:00Z'), { op: 'order.upsert', order: { accession: 'A1' }, status: 'completed', control: 'XO', orderStatus: 'CM' });
  h.ok(ctx('2024-01-01T11:00:00Z'), { op: 'order.upsert', order: { accession: 'A1', modality: 'MR' }, status: 'scheduled', control: 'XO', orderStatus: 'SC' });
  const o = h.repo.findOrders({ accession: 'A1' }).items[0];
  assert.equal(o?.status, 'completed');
  assert.equal(o?.modality, 'CT');
});

test('an order before the registration (quirk 14): the late A04 replaces the demographics the ORM created', async (t) => {
  const h = await tempRepository(t);
  h.ok({ messageCode: 'ORM', triggerEvent: 'O01', eventTime: at('2024-01-01T12:00:00Z') }, { op: 'order.upsert', patient: pid('1', { name: name('ORDERNAME') }), order: { accession: 'A1' }, status: 'scheduled', control: 'NW', orderStatus: 'SC' });
  assert.deepEqual(h.ok({ triggerEvent: 'A04', eventTime: at('2024-01-01T08:00:00Z') }, { op: 'patient.upsert', patient: pid('1', { name: name('REGNAME') }) }), ['patient.updated']);
  const p = h.patientById('1');
  assert.equal(p?.name?.family, 'REGNAME');
  assert.equal(p?.updatedAt, '2024-01-01T08:00:00.000Z');
  assert.equal(h.repo.findOrders({ accession: 'A1' }).items[0]?.patientKey, p?.key);
});
