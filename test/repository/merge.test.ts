import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VisitEvent, type Change } from '../../src/converter/changes.js';
import { at, id, name, pid, tempRepository, type Harness } from './helpers.js';

const merge = (target: string, source: string): Change => ({ op: 'patient.merge', target: pid(target), source: [id(source)], priorName: name('PRIOR'), trigger: 'A40' });
const a40 = { triggerEvent: 'A40', eventTime: at('2024-02-01T10:00:00Z') };

function seed(h: Harness, mrn: string, acc: string): void {
  h.ok({ triggerEvent: 'A01', eventTime: at('2024-01-01T10:00:00Z') }, { op: 'patient.upsert', patient: pid(mrn, { name: name(mrn) }), visit: { event: VisitEvent.Admit, data: { visitNumber: 'V' + mrn } } });
  h.ok({ messageCode: 'ORM', triggerEvent: 'O01' }, { op: 'order.upsert', patient: pid(mrn), order: { accession: acc }, status: 'scheduled', control: 'NW', orderStatus: 'SC' });
  h.ok({ messageCode: 'ORU', triggerEvent: 'R01' }, { op: 'report.upsert', patient: pid(mrn), report: { accession: acc, status: 'final', text: 'r', attachments: [] } });
}

test('A40 moves the source’s visits, orders and reports to the survivor and leaves a tombstone', async (t) => {
  const h = await tempRepository(t);
  seed(h, 'A', 'ACC-A');
  seed(h, 'B', 'ACC-B');
  const source = h.patientById('A');
  const survivor = h.patientById('B');
  assert.ok(source && survivor);
  const { events } = h.apply(a40, merge('B', 'A'));
  assert.deepEqual(
    events.map((e) => e.type),
    ['patient.merged'],
  );
  const data = events[0]?.data as { movedOrders: string[]; movedReports: string[]; movedVisits: string[] };
  assert.equal(data.movedOrders.length, 1);
  assert.equal(data.movedReports.length, 1);
  assert.equal(data.movedVisits.length, 1);
  assert.equal(h.repo.getPatient(source.key)?.mergedInto, survivor.key, 'tombstone kept under its key');
  assert.equal(h.repo.findOrders({ patientKey: survivor.key }).items.length, 2);
  assert.equal(h.repo.findReports({ patientKey: survivor.key }).items.length, 2);
  assert.equal(h.repo.visitsOf(survivor.key).items.length, 2);
  assert.equal(h.repo.findOrders({ accession: 'ACC-A' }).items[0]?.patientKey, survivor.key);
  // The old key answers with the survivor and says so.
  const r = h.repo.resolvePatient(source.key);
  assert.equal(r?.patient.key, survivor.key);
  assert.equal(r?.mergedFrom, source.key);
  assert.equal(h.repo.resolvePatient(survivor.key)?.mergedFrom, undefined);
  // MergeRecord on both.
  for (const k of [source.key, survivor.key]) {
    const rec = h.repo.mergeHistory(k).items;
    assert.equal(rec.length, 1);
    assert.equal(rec[0]?.kind, 'merge');
    assert.equal(rec[0]?.survivorKey, survivor.key);
    assert.equal(rec[0]?.sourceKey, source.key);
    assert.equal(rec[0]?.priorName?.family, 'PRIOR');
    assert.equal(rec[0]?.sourceIdentifiers[0]?.id, 'A');
  }
  // The merged identifier answers with the survivor; name search no longer lists the source.
  assert.equal(h.patientById('A')?.key, survivor.key);
  assert.equal(h.repo.findPatients({ family: 'a' }).items.length, 0);
});

test('A40 with an unknown source creates a merged placeholder; a later message citing the old ID lands on the survivor', async (t) => {
  const h = await tempRepository(t);
  seed(h, 'B', 'ACC-B');
  const survivor = h.patientById('B');
  assert.ok(survivor);
  assert.deepEqual(h.ok(a40, merge('B', 'OLD')), ['patient.merged']);
  const events = h.ok({ messageCode: 'ORM', triggerEvent: 'O01' }, { op: 'order.upsert', patient: pid('OLD'), order: { accession: 'ACC-2' }, status: 'scheduled', control: 'NW', orderStatus: 'SC' });
  assert.deepEqual(events, ['order.scheduled'], 'no new patient');
  assert.equal(h.repo.findOrders({ accession: 'ACC-2' }).items[0]?.patientKey, survivor.key);
});

test('A40 with an unknown target creates it from the PID data', async (t) => {
  const h = await tempRepository(t);
  seed(h, 'A', 'ACC-A');
  assert.deepEqual(h.ok(a40, { op: 'patient.merge', target: pid('NEW', { name: name('NEWNAME') }), source: [id('A')], trigger: 'A40' }), ['patient.created', 'patient.merged']);
  const survivor = h.patientById('NEW');
  assert.equal(survivor?.name?.family, 'NEWNAME');
  assert.equal(h.repo.findOrders({ accession: 'ACC-A' }).items[0]?.patientKey, survivor?.key);
});

test('A40 does not update the known target’s demographics', async (t) => {
  const h = await tempRepository(t);
  seed(h, 'A', 'ACC-A');
  seed(h, 'B', 'ACC-B');
  h.ok(a40, { op: 'patient.merge', target: pid('B', { name: name('CHANGED') }), source: [id('A')], trigger: 'A40' });
  assert.equal(h.patientById('B')?.name?.family, 'B');
});

test('a merge chain A→B→C resolves A and B to C', async (t) => {
  const h = await tempRepository(t);
  seed(h, 'A', 'ACC-A');
  seed(h, 'B', 'ACC-B');
  seed(h, 'C', 'ACC-C');
  const a = h.patientById('A');
  h.ok(a40, merge('B', 'A'));
  h.ok(a40, merge('C', 'B'));
  const c = h.patientById('C');
  assert.ok(a && c);
  assert.equal(h.patientById('A')?.key, c.key);
  assert.equal(h.patientById('B')?.key, c.key);
  assert.equal(h.repo.resolvePatient(a.key)?.patient.key, c.key);
  assert.equal(h.repo.findOrders({ patientKey: c.key }).items.length, 3);
  assert.equal(h.repo.findOrders({ patientKey: a.key }).items.length, 3, 'a merged key answers with the survivor’s orders');
});

test('source = target is rejected with 205', async (t) => {
  const h = await tempRepository(t);
  seed(h, 'A', 'ACC-A');
  const { outcome, events } = h.apply(a40, merge('A', 'A'));
  assert.equal(outcome.kind, 'rejected');
  if (outcome.kind === 'rejected') assert.equal(outcome.error.errCode, 205);
  assert.deepEqual(events, []);
  // Also when source and target are two identifiers of one patient.
  h.ok({ triggerEvent: 'A08' }, { op: 'patient.upsert', patient: pid('A', {}, [id('A2')]) });
  assert.equal(h.apply(a40, merge('A', 'A2')).outcome.kind, 'rejected');
});

test('B→A after A→B is a cycle: rejected with 205 (default policy)', async (t) => {
  const h = await tempRepository(t);
  seed(h, 'A', 'ACC-A');
  seed(h, 'B', 'ACC-B');
  h.ok(a40, merge('B', 'A'));
  const { outcome } = h.apply(a40, merge('A', 'B'));
  assert.equal(outcome.kind, 'rejected');
  if (outcome.kind === 'rejected') {
    assert.equal(outcome.error.code, 'MERGE_CONFLICT');
    assert.equal(outcome.error.errCode, 205);
  }
});

test('an A08 citing only the merged ID updates the survivor’s demographics but keeps its identifiers', async (t) => {
  const h = await tempRepository(t);
  seed(h, 'A', 'ACC-A');
  seed(h, 'B', 'ACC-B');
  h.ok(a40, merge('B', 'A'));
  assert.deepEqual(h.ok({ triggerEvent: 'A08', eventTime: at('2024-03-01T10:00:00Z') }, { op: 'patient.upsert', patient: pid('A', { sex: 'F' }) }), ['patient.updated']);
  const b = h.patientById('B');
  assert.equal(b?.sex, 'F');
  assert.deepEqual(
    b?.identifiers.map((i) => i.id),
    ['B'],
  );
  assert.equal(h.patientById('A')?.key, b?.key);
});
