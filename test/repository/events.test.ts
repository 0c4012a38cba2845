import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VisitEvent } from '../../src/converter/changes.js';
import { at, name, pid, tempRepository } from './helpers.js';

test('events carry the entity, the previous one and the message seq; an identical message emits none', async (t) => {
  const h = await tempRepository(t);
  const c = { op: 'patient.upsert' as const, patient: pid('1', { name: name('DOE') }), visit: { event: VisitEvent.Admit, data: { visitNumber: 'V1' } } };
  h.ok({ triggerEvent: 'A01', eventTime: at('2024-01-01T10:00:00Z') }, c);
  assert.deepEqual(h.ok({ triggerEvent: 'A08', eventTime: at('2024-01-01T10:00:00Z') }, { ...c, visit: { event: VisitEvent.Update, data: { visitNumber: 'V1' } } }), []);
  const { events } = h.apply({ triggerEvent: 'A08', eventTime: at('2024-01-01T11:00:00Z') }, { op: 'patient.upsert', patient: pid('1', { name: name('ROE') }) });
  assert.equal(events.length, 1);
  const e = events[0];
  assert.equal(e?.type, 'patient.updated');
  assert.equal(e?.messageSeq, 3);
  const data = e?.data as { patient: { name: { family: string } }; previous: { name: { family: string } } };
  assert.equal(data.patient.name.family, 'ROE');
  assert.equal(data.previous.name.family, 'DOE');
});

test('a rejected message emits nothing and an accepted one emits in change order', async (t) => {
  const h = await tempRepository(t, { createUnknownPatients: false });
  const r = h.apply(
    { triggerEvent: 'A04' },
    { op: 'patient.upsert', patient: pid('1') },
    { op: 'order.upsert', patient: pid('2'), order: { accession: 'X' }, status: 'scheduled', control: 'NW', orderStatus: 'SC' },
  );
  assert.equal(r.outcome.kind, 'rejected');
  assert.deepEqual(r.events, []);
  assert.equal(h.repo.findPatients({ identifier: '1' }).items.length, 0);
  assert.deepEqual(
    h.ok({ triggerEvent: 'A04' }, { op: 'patient.upsert', patient: pid('1') }, { op: 'order.upsert', patient: pid('1'), order: { accession: 'X' }, status: 'scheduled', control: 'NW', orderStatus: 'SC' }),
    ['patient.created', 'order.scheduled'],
  );
});
