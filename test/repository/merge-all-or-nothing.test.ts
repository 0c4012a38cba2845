import { test } from 'node:test';
import assert from 'node:assert/strict';
import { at, id, pid, tempRepository } from './helpers.js';

test('an A40 whose second {PID, MRG} group is rejected leaves the first group unapplied and emits nothing', async (t) => {
  const h = await tempRepository(t);
  for (const m of ['A', 'B', 'C']) {
    h.ok({ messageCode: 'ORM', triggerEvent: 'O01' }, { op: 'order.upsert', patient: pid(m), order: { accession: 'ACC-' + m }, status: 'scheduled', control: 'NW', orderStatus: 'SC' });
  }
  const before = h.repo.digest();
  const { outcome, events } = h.apply(
    { triggerEvent: 'A40', eventTime: at('2024-02-01T10:00:00Z') },
    { op: 'patient.merge', target: pid('B'), source: [id('A')], trigger: 'A40' },
    { op: 'patient.merge', target: pid('C'), source: [id('C')], trigger: 'A40' },
  );
  assert.equal(outcome.kind, 'rejected');
  assert.deepEqual(events, []);
  assert.equal(h.repo.digest(), before, 'nothing of the message remains');
  assert.equal(h.patientById('A')?.mergedInto, undefined);
  // Counters were not consumed either: the next patient gets the next key.
  h.ok({ triggerEvent: 'A04' }, { op: 'patient.upsert', patient: pid('D') });
  assert.equal(h.patientById('D')?.key, 'P4');
});

test('a later group of one message sees what an earlier group wrote', async (t) => {
  const h = await tempRepository(t);
  const events = h.ok(
    { triggerEvent: 'A40' },
    { op: 'patient.merge', target: pid('T'), source: [id('S1')], trigger: 'A40' },
    { op: 'patient.merge', target: pid('T'), source: [id('S2')], trigger: 'A40' },
  );
  assert.deepEqual(events, ['patient.created', 'patient.merged', 'patient.merged']);
  const t1 = h.patientById('T');
  assert.equal(h.patientById('S1')?.key, t1?.key);
  assert.equal(h.patientById('S2')?.key, t1?.key);
});
