import { test } from 'node:test';
import assert from 'node:assert/strict';
import { at, pid, tempRepository } from './helpers.js';

const orm = { messageCode: 'ORM', triggerEvent: 'O01', eventTime: at('2024-01-01T10:00:00Z') };

test('by default an A08, ORM or ORU for an unknown patient creates it (quirk 15, as dcm4chee)', async (t) => {
  const h = await tempRepository(t);
  assert.deepEqual(h.ok({ triggerEvent: 'A08' }, { op: 'patient.upsert', patient: pid('1') }), ['patient.created']);
  assert.deepEqual(h.ok(orm, { op: 'order.upsert', patient: pid('2'), order: { accession: 'A' }, status: 'scheduled', control: 'NW', orderStatus: 'SC' }), [
    'patient.created',
    'order.scheduled',
  ]);
  assert.deepEqual(h.ok({ messageCode: 'ORU', triggerEvent: 'R01' }, { op: 'report.upsert', patient: pid('3'), report: { accession: 'B', status: 'final', text: 'x', attachments: [] } }), [
    'patient.created',
    'report.created',
  ]);
});

test('createUnknownPatients: false rejects A08/ORM/ORU/SIU/MDM for an unknown patient with 204 and writes nothing', async (t) => {
  const h = await tempRepository(t, { createUnknownPatients: false });
  const cases = [
    h.apply({ triggerEvent: 'A08' }, { op: 'patient.upsert', patient: pid('1') }),
    h.apply(orm, { op: 'order.upsert', patient: pid('1'), order: { accession: 'A' }, status: 'scheduled', control: 'NW', orderStatus: 'SC' }),
    h.apply({ messageCode: 'ORU', triggerEvent: 'R01' }, { op: 'report.upsert', patient: pid('1'), report: { accession: 'B', status: 'final', text: 'x', attachments: [] } }),
    h.apply({ messageCode: 'SIU', triggerEvent: 'S12' }, { op: 'schedule.upsert', patient: pid('1'), appointment: { accession: 'C' }, event: 'booked' }),
    h.apply(
      { messageCode: 'MDM', triggerEvent: 'T02' },
      { op: 'document.upsert', patient: pid('1'), document: { documentType: 'DI', documentNumber: 'D1', status: 'final', text: 'x', attachments: [] }, trigger: 'T02' },
    ),
  ];
  for (const c of cases) {
    assert.equal(c.outcome.kind, 'rejected');
    if (c.outcome.kind === 'rejected') {
      assert.equal(c.outcome.error.code, 'UNKNOWN_PATIENT');
      assert.equal(c.outcome.error.errCode, 204);
    }
    assert.deepEqual(c.events, []);
  }
  assert.equal(h.repo.findPatients({ identifier: '1' }).items.length, 0);
  // A registration still creates.
  assert.deepEqual(h.ok({ triggerEvent: 'A04' }, { op: 'patient.upsert', patient: pid('1') }), ['patient.created']);
  assert.equal(h.ok({ triggerEvent: 'A08' }, { op: 'patient.upsert', patient: pid('1', { sex: 'M' }) })[0], 'patient.updated');
});
