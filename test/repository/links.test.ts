import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pid, tempRepository } from './helpers.js';

test('A24 links two patients both ways without moving data; A37 removes the link', async (t) => {
  const h = await tempRepository(t);
  h.ok({ messageCode: 'ORM', triggerEvent: 'O01' }, { op: 'order.upsert', patient: pid('A'), order: { accession: 'A1' }, status: 'scheduled', control: 'NW', orderStatus: 'SC' });
  h.ok({ triggerEvent: 'A04' }, { op: 'patient.upsert', patient: pid('B') });
  assert.deepEqual(h.ok({ triggerEvent: 'A24' }, { op: 'patient.link', a: pid('A'), b: pid('B') }), ['patient.linked']);
  const a = h.patientById('A');
  const b = h.patientById('B');
  assert.ok(a && b);
  assert.deepEqual(a.links, [b.key]);
  assert.deepEqual(b.links, [a.key]);
  assert.equal(h.repo.findOrders({ patientKey: a.key }).items.length, 1);
  assert.equal(h.repo.findOrders({ patientKey: b.key }).items.length, 0);
  assert.deepEqual(h.ok({ triggerEvent: 'A24' }, { op: 'patient.link', a: pid('A'), b: pid('B') }), [], 'already linked: no-op');
  assert.deepEqual(h.ok({ triggerEvent: 'A37' }, { op: 'patient.unlink', a: pid('A'), b: pid('B') }), ['patient.unlinked']);
  assert.deepEqual(h.patientById('A')?.links, []);
  assert.deepEqual(h.patientById('B')?.links, []);
  assert.deepEqual(
    h.repo.mergeHistory(a.key).items.map((r) => r.kind),
    ['link', 'unlink'],
  );
  assert.deepEqual(h.ok({ triggerEvent: 'A37' }, { op: 'patient.unlink', a: pid('A'), b: pid('Z') }), [], 'unknown patient: no-op');
});
