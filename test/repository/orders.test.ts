import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Change, OrderData } from '../../src/converter/changes.js';
import type { OrderStatus } from '../../src/repository/model.js';
import { at, pid, tempRepository } from './helpers.js';

const orm = (iso = '2024-01-01T10:00:00Z') => ({ messageCode: 'ORM', triggerEvent: 'O01', eventTime: at(iso) });
const order = (o: OrderData, control: string, orderStatus: string, status: OrderStatus, withPid = true): Change => ({
  op: 'order.upsert',
  ...(withPid ? { patient: pid('1') } : {}),
  order: o,
  status,
  control,
  orderStatus,
});

test('NW creates a scheduled order; XO updates it in place and keeps its key', async (t) => {
  const h = await tempRepository(t);
  assert.deepEqual(h.ok(orm(), order({ accession: 'A1', placerOrderNumber: 'P1', fillerOrderNumber: 'F1', modality: 'CT', scheduledAt: '2024-01-05T08:00:00+01:00' }, 'NW', 'SC', 'scheduled')), [
    'patient.created',
    'order.scheduled',
  ]);
  const o1 = h.repo.findOrders({ accession: 'A1' }).items[0];
  assert.ok(o1);
  assert.deepEqual(h.ok(orm('2024-01-01T11:00:00Z'), order({ accession: 'A1', modality: 'MR', scheduledAt: null }, 'XO', 'SC', 'scheduled', false)), ['order.updated']);
  const o2 = h.repo.getOrder(o1.key);
  assert.equal(o2?.modality, 'MR');
  assert.equal(o2?.scheduledAt, null);
  assert.equal(o2?.placerOrderNumber, 'P1');
  assert.deepEqual(h.ok(orm('2024-01-01T12:00:00Z'), order({ accession: 'A1' }, 'XO', 'CM', 'completed', false)), ['order.completed']);
  assert.deepEqual(
    h.repo.getOrder(o1.key)?.history.map((x) => `${x.control}:${x.status}`),
    ['NW:scheduled', 'XO:completed'],
  );
});

test('XO with an empty ORC-5 keeps the stored status (quirk 23)', async (t) => {
  const h = await tempRepository(t);
  h.ok(orm(), order({ accession: 'A1' }, 'SC', 'IP', 'in-progress'));
  h.ok(orm('2024-01-01T11:00:00Z'), order({ accession: 'A1', priority: 'S' }, 'XO', '', 'scheduled'));
  const o = h.repo.findOrders({ accession: 'A1' }).items[0];
  assert.equal(o?.status, 'in-progress');
  assert.equal(o?.priority, 'S');
});

test('CA never deletes: the order stays, cancelled, and is still found', async (t) => {
  const h = await tempRepository(t);
  h.ok(orm(), order({ accession: 'A1' }, 'NW', 'SC', 'scheduled'));
  assert.deepEqual(h.ok(orm('2024-01-01T11:00:00Z'), order({ accession: 'A1' }, 'CA', 'CA', 'cancelled')), ['order.cancelled']);
  assert.equal(h.repo.findOrders({ accession: 'A1' }).items[0]?.status, 'cancelled');
  assert.equal(h.repo.findOrders({ status: 'cancelled' }).items.length, 1);
  assert.equal(h.repo.findOrders({ status: 'scheduled' }).items.length, 0);
  assert.deepEqual(h.ok(orm('2024-01-01T12:00:00Z'), order({ accession: 'A2' }, 'DC', 'CA', 'discontinued')), ['order.discontinued']);
});

test("CA for an unseen order: 'upsert' (default) creates it cancelled, 'reject' answers 204", async (t) => {
  const h = await tempRepository(t);
  assert.deepEqual(h.ok(orm(), order({ accession: 'NEVER' }, 'CA', 'CA', 'cancelled')), ['patient.created', 'order.cancelled']);
  assert.equal(h.repo.findOrders({ accession: 'NEVER' }).items[0]?.status, 'cancelled');
  const s = await tempRepository(t, { unknownOrderCancel: 'reject' });
  const { outcome, events } = s.apply(orm(), order({ accession: 'NEVER' }, 'CA', 'CA', 'cancelled'));
  assert.equal(outcome.kind, 'rejected');
  if (outcome.kind === 'rejected') {
    assert.equal(outcome.error.code, 'UNKNOWN_ORDER');
    assert.equal(outcome.error.errCode, 204);
  }
  assert.deepEqual(events, []);
  assert.equal(s.repo.findPatients({ identifier: '1' }).items.length, 0, 'the patient was not created either');
});

test('an update finds the order by accession, else filler, else placer number, else Study Instance UID', async (t) => {
  const h = await tempRepository(t);
  h.ok(orm(), order({ accession: 'A1', fillerOrderNumber: 'F1', placerOrderNumber: 'P1', studyInstanceUid: '1.2.3' }, 'NW', 'SC', 'scheduled'));
  const key = h.repo.findOrders({ accession: 'A1' }).items[0]?.key;
  const tries: OrderData[] = [{ fillerOrderNumber: 'F1' }, { placerOrderNumber: 'P1' }, { studyInstanceUid: '1.2.3' }];
  for (const [i, keys] of tries.entries()) {
    h.ok(orm(`2024-01-01T1${i + 1}:00:00Z`), order({ ...keys, priority: String(i) }, 'XO', 'SC', 'scheduled', false));
    assert.equal(h.repo.getOrder(key ?? '')?.priority, String(i));
  }
  assert.equal(h.repo.findOrders({ fillerOrderNumber: 'F1' }).items[0]?.key, key);
  assert.equal(h.repo.findOrders({ placerOrderNumber: 'P1' }).items[0]?.key, key);
  assert.equal(h.repo.findOrders({ studyInstanceUid: '1.2.3' }).items[0]?.key, key);
  // A second requested procedure of the same placer order (another accession) is another order.
  h.ok(orm('2024-01-02T10:00:00Z'), order({ accession: 'A2', placerOrderNumber: 'P1' }, 'NW', 'SC', 'scheduled'));
  assert.equal(h.repo.findOrders({ placerOrderNumber: 'P1' }).items.length, 2);
});

test('orders in a schedule-date range come from the schedule index, in time order, paginated', async (t) => {
  const h = await tempRepository(t);
  const times = ['2024-03-01T09:00:00+01:00', '2024-03-01T23:30:00Z', '2024-03-02T07:00:00Z', '2024-02-28T10:00:00Z'];
  times.forEach((s, i) => h.ok(orm(), order({ accession: 'A' + i, scheduledAt: s }, 'NW', 'SC', 'scheduled')));
  const page1 = h.repo.findOrders({ scheduledFrom: '2024-03-01T00:00:00Z', scheduledTo: '2024-03-02T07:00:00Z' }, { limit: 2 });
  assert.deepEqual(
    page1.items.map((o) => o.accession),
    ['A0', 'A1'],
  );
  assert.ok(page1.next);
  const page2 = h.repo.findOrders({ scheduledFrom: '2024-03-01T00:00:00Z', scheduledTo: '2024-03-02T07:00:00Z' }, { limit: 2, cursor: page1.next });
  assert.deepEqual(
    page2.items.map((o) => o.accession),
    ['A2'],
  );
  assert.equal(page2.next, null);
  assert.equal(h.repo.findOrders({ scheduledTo: '2024-02-29T00:00:00Z' }).items[0]?.accession, 'A3');
});

test('an identical NW resent under a new control ID is a no-op (quirk 13)', async (t) => {
  const h = await tempRepository(t);
  const c = order({ accession: 'A1', modality: 'CT' }, 'NW', 'SC', 'scheduled');
  h.ok(orm(), c);
  const before = h.repo.digest();
  assert.deepEqual(h.ok({ ...orm(), controlId: 'NEW' }, c), []);
  assert.equal(h.repo.digest(), before);
});

test('an accession longer than an index key component (quirk 22) is still matched and found', async (t) => {
  const h = await tempRepository(t);
  const long = 'X'.repeat(300);
  h.ok(orm(), order({ accession: long }, 'NW', 'SC', 'scheduled'));
  assert.deepEqual(h.ok(orm('2024-01-01T11:00:00Z'), order({ accession: long, modality: 'US' }, 'XO', 'SC', 'scheduled', false)), ['order.updated']);
  assert.equal(h.repo.findOrders({ accession: long }).items.length, 1);
  assert.equal(h.repo.findOrders({ accession: long.slice(0, 250) }).items.length, 0, 'the whole value is compared');
});

test('an order with PV1-19 is linked to that visit of the patient, created if the ADT has not arrived yet', async (t) => {
  const h = await tempRepository(t);
  h.ok({ triggerEvent: 'A01' }, { op: 'patient.upsert', patient: pid('1'), visit: { event: 'admit', data: { visitNumber: 'V7' } } });
  h.ok(orm(), { op: 'order.upsert', patient: pid('1'), visit: { visitNumber: 'V7' }, order: { accession: 'A1' }, status: 'scheduled', control: 'NW', orderStatus: 'SC' });
  const key = h.patientById('1')?.key ?? '';
  const visits = h.repo.visitsOf(key).items;
  assert.equal(visits.length, 1);
  assert.equal(h.repo.findOrders({ accession: 'A1' }).items[0]?.visitKey, visits[0]?.key);
  assert.deepEqual(
    h.ok(orm(), { op: 'order.upsert', patient: pid('1'), visit: { visitNumber: 'V8' }, order: { accession: 'A2' }, status: 'scheduled', control: 'NW', orderStatus: 'SC' }),
    ['visit.created', 'order.scheduled'],
  );
  assert.equal(h.repo.visitsOf(key).items.length, 2);
});
