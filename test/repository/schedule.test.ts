import { test } from 'node:test';
import assert from 'node:assert/strict';
import { at, pid, tempRepository } from './helpers.js';

const siu = (trigger: string, iso = '2024-01-01T10:00:00Z') => ({ messageCode: 'SIU', triggerEvent: trigger, eventTime: at(iso) });

test('S12 books (creates a scheduled order), S13 reschedules it, S15 cancels it', async (t) => {
  const h = await tempRepository(t);
  assert.deepEqual(
    h.ok(siu('S12'), { op: 'schedule.upsert', patient: pid('1'), appointment: { placerOrderNumber: 'P1', accession: 'A1', scheduledAt: '2024-02-01T08:00:00Z', modality: 'MR' }, event: 'booked' }),
    ['patient.created', 'order.scheduled'],
  );
  assert.deepEqual(h.ok(siu('S13', '2024-01-01T11:00:00Z'), { op: 'schedule.upsert', appointment: { accession: 'A1', scheduledAt: '2024-02-03T08:00:00Z' }, event: 'rescheduled' }), ['order.updated']);
  let o = h.repo.findOrders({ accession: 'A1' }).items[0];
  assert.equal(o?.scheduledAt, '2024-02-03T08:00:00Z');
  assert.equal(o?.status, 'scheduled');
  assert.equal(o?.modality, 'MR');
  assert.deepEqual(h.ok(siu('S15', '2024-01-01T12:00:00Z'), { op: 'schedule.upsert', appointment: { accession: 'A1' }, event: 'cancelled' }), ['order.cancelled']);
  o = h.repo.findOrders({ accession: 'A1' }).items[0];
  assert.equal(o?.status, 'cancelled');
  assert.equal(o?.history.at(-1)?.control, 'S15');
});

test('S12 updates the order an ORM already created, matched by order number', async (t) => {
  const h = await tempRepository(t);
  h.ok({ messageCode: 'ORM', triggerEvent: 'O01' }, { op: 'order.upsert', patient: pid('1'), order: { accession: 'A1', placerOrderNumber: 'P1' }, status: 'scheduled', control: 'NW', orderStatus: 'SC' });
  h.ok(siu('S12'), { op: 'schedule.upsert', appointment: { placerOrderNumber: 'P1', scheduledAt: '2024-02-01T08:00:00Z' }, event: 'booked' });
  const all = h.repo.findOrders({ placerOrderNumber: 'P1' }).items;
  assert.equal(all.length, 1);
  assert.equal(all[0]?.scheduledAt, '2024-02-01T08:00:00Z');
});

test('S14 (modified) on a cancelled order does not revive it', async (t) => {
  const h = await tempRepository(t);
  h.ok(siu('S15'), { op: 'schedule.upsert', patient: pid('1'), appointment: { accession: 'A1' }, event: 'cancelled' });
  h.ok(siu('S14', '2024-01-01T11:00:00Z'), { op: 'schedule.upsert', appointment: { accession: 'A1', modality: 'CT' }, event: 'modified' });
  const o = h.repo.findOrders({ accession: 'A1' }).items[0];
  assert.equal(o?.status, 'cancelled');
  assert.equal(o?.modality, 'CT');
});

test('an SIU with only appointment IDs (no order number) books an order that later SIUs find by SCH-2 / SCH-1', async (t) => {
  const h = await tempRepository(t);
  assert.deepEqual(h.ok(siu('S12'), { op: 'schedule.upsert', patient: pid('1'), appointment: { placerAppointmentId: 'PA1', fillerAppointmentId: 'FA1', scheduledAt: '2024-02-01T08:00:00Z' }, event: 'booked' }), [
    'patient.created',
    'order.scheduled',
  ]);
  assert.deepEqual(h.ok(siu('S13', '2024-01-01T11:00:00Z'), { op: 'schedule.upsert', appointment: { fillerAppointmentId: 'FA1', scheduledAt: '2024-02-02T08:00:00Z' }, event: 'rescheduled' }), ['order.updated']);
  assert.deepEqual(h.ok(siu('S15', '2024-01-01T12:00:00Z'), { op: 'schedule.upsert', appointment: { placerAppointmentId: 'PA1' }, event: 'cancelled' }), ['order.cancelled']);
  const o = h.repo.findOrders({ patientKey: h.patientById('1')?.key ?? '' }).items;
  assert.equal(o.length, 1);
  assert.equal(o[0]?.scheduledAt, '2024-02-02T08:00:00Z');
  assert.equal(o[0]?.fillerAppointmentId, 'FA1');
  assert.equal(o[0]?.status, 'cancelled');
});
