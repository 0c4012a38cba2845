import { test } from 'node:test';
import assert from 'node:assert/strict';
import { id, pid, tempRepository } from './helpers.js';

test('A47 relabels the MRG-1 identifier on the same patient and keeps its data', async (t) => {
  const h = await tempRepository(t);
  h.ok({ triggerEvent: 'A04' }, { op: 'patient.upsert', patient: pid('OLD', {}, [id('N1', 'NAT')]) });
  h.ok({ messageCode: 'ORM', triggerEvent: 'O01' }, { op: 'order.upsert', patient: pid('OLD'), order: { accession: 'A1' }, status: 'scheduled', control: 'NW', orderStatus: 'SC' });
  const before = h.patientById('OLD');
  assert.ok(before);
  assert.deepEqual(h.ok({ triggerEvent: 'A47' }, { op: 'patient.change-id', patient: pid('NEW'), source: [id('OLD')] }), ['patient.identifiers-changed']);
  const after = h.patientById('NEW');
  assert.equal(after?.key, before.key);
  assert.deepEqual(
    after?.identifiers.map((i) => i.id),
    ['N1', 'NEW'],
  );
  assert.equal(h.repo.findPatients({ identifier: 'OLD' }).items.length, 0);
  assert.equal(h.repo.findOrders({ accession: 'A1' }).items[0]?.patientKey, before.key);
  assert.equal(h.repo.mergeHistory(before.key).items[0]?.kind, 'change-id');
  // Repeating it is a no-op.
  assert.deepEqual(h.ok({ triggerEvent: 'A47' }, { op: 'patient.change-id', patient: pid('NEW'), source: [id('OLD')] }), []);
});

test('A47 onto an identifier that belongs to another patient is rejected with 205 and changes nothing', async (t) => {
  const h = await tempRepository(t);
  h.ok({ triggerEvent: 'A04' }, { op: 'patient.upsert', patient: pid('X') });
  h.ok({ triggerEvent: 'A04' }, { op: 'patient.upsert', patient: pid('Y') });
  const before = h.repo.digest();
  const { outcome, events } = h.apply({ triggerEvent: 'A47' }, { op: 'patient.change-id', patient: pid('Y'), source: [id('X')] });
  assert.equal(outcome.kind, 'rejected');
  if (outcome.kind === 'rejected') {
    assert.equal(outcome.error.errCode, 205);
    assert.equal(outcome.error.code, 'IDENTIFIER_CONFLICT');
  }
  assert.deepEqual(events, []);
  assert.equal(h.repo.digest(), before);
});
