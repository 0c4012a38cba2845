import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Change } from '../../src/converter/changes.js';
import { at, id, pid, tempRepository, type Harness } from './helpers.js';

const merge = (target: string, source: string): Change => ({ op: 'patient.merge', target: pid(target), source: [id(source)], trigger: 'A40' });
const a40 = { triggerEvent: 'A40', eventTime: at('2024-02-01T10:00:00Z') };

function three(h: Harness): void {
  for (const m of ['A', 'B', 'C']) {
    h.ok({ triggerEvent: 'A04' }, { op: 'patient.upsert', patient: pid(m) });
    h.ok({ messageCode: 'ORM', triggerEvent: 'O01' }, { op: 'order.upsert', patient: pid(m), order: { accession: 'ACC-' + m }, status: 'scheduled', control: 'NW', orderStatus: 'SC' });
  }
  h.ok(a40, merge('B', 'A'));
}

test("mergedSourcePolicy 'ignore-duplicate' (default): a repeated A40 is a no-op, into another patient 205", async (t) => {
  const h = await tempRepository(t);
  three(h);
  const before = h.repo.digest();
  assert.deepEqual(h.ok(a40, merge('B', 'A')), []);
  assert.equal(h.repo.digest(), before);
  const r = h.apply(a40, merge('C', 'A'));
  assert.equal(r.outcome.kind, 'rejected');
  if (r.outcome.kind === 'rejected') assert.equal(r.outcome.error.errCode, 205);
});

test("mergedSourcePolicy 'reject': even a repeated A40 is rejected with 205", async (t) => {
  const h = await tempRepository(t, { mergedSourcePolicy: 'reject' });
  three(h);
  const r = h.apply(a40, merge('B', 'A'));
  assert.equal(r.outcome.kind, 'rejected');
  if (r.outcome.kind === 'rejected') assert.equal(r.outcome.error.errCode, 205);
});

test("mergedSourcePolicy 'accept-inverse': B→A after A→B revives A and makes B the tombstone, everything on A", async (t) => {
  const h = await tempRepository(t, { mergedSourcePolicy: 'accept-inverse' });
  three(h);
  const a = h.repo.findPatients({ identifier: 'A' }).items[0];
  const aKey = h.repo.getOrder(h.repo.findOrders({ accession: 'ACC-A' }).items[0]?.key ?? '')?.patientKey;
  assert.ok(a && aKey);
  const bKey = a.key; // after A→B, identifier A resolves to B
  assert.deepEqual(h.ok(a40, merge('A', 'B')), ['patient.merged']);
  const revived = h.patientById('A');
  assert.ok(revived);
  assert.notEqual(revived.key, bKey);
  assert.equal(revived.mergedInto, undefined);
  assert.equal(h.repo.getPatient(bKey)?.mergedInto, revived.key);
  assert.equal(h.patientById('B')?.key, revived.key);
  assert.equal(h.repo.findOrders({ patientKey: revived.key }).items.length, 2);
  // Into another patient is still 205.
  const r = h.apply(a40, merge('C', 'B'));
  assert.equal(r.outcome.kind, 'rejected');
});
