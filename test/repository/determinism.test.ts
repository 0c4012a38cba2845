import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VisitEvent, type Change, type MessageContext } from '../../src/converter/changes.js';
import { at, id, name, pid, tempRepository, type Harness } from './helpers.js';

const script: Array<[Partial<MessageContext> & { triggerEvent: string }, Change[]]> = [
  [{ triggerEvent: 'A04', eventTime: at('2024-01-01T10:00:00Z') }, [{ op: 'patient.upsert', patient: pid('A', { name: name('ALPHA') }), visit: { event: VisitEvent.Register, data: { visitNumber: 'V1' } } }]],
  [{ triggerEvent: 'A04', eventTime: at('2024-01-01T10:05:00Z') }, [{ op: 'patient.upsert', patient: pid('B', { name: name('BETA') }) }]],
  [{ messageCode: 'ORM', triggerEvent: 'O01' }, [{ op: 'order.upsert', patient: pid('A'), order: { accession: 'X1', scheduledAt: '2024-01-03T08:00:00Z' }, status: 'scheduled', control: 'NW', orderStatus: 'SC' }]],
  [{ messageCode: 'ORU', triggerEvent: 'R01' }, [{ op: 'report.upsert', report: { accession: 'X1', status: 'final', text: 'ok', attachments: [{ contentType: 'application/pdf', dataBase64: 'JVBERi0=' }] } }]],
  [{ triggerEvent: 'A40', eventTime: at('2024-01-04T10:00:00Z') }, [{ op: 'patient.merge', target: pid('B'), source: [id('A')], trigger: 'A40' }]],
  [{ triggerEvent: 'A40' }, [{ op: 'patient.merge', target: pid('B'), source: [id('B')], trigger: 'A40' }]], // rejected
  [{ triggerEvent: 'A08', eventTime: at('2024-01-05T10:00:00Z') }, [{ op: 'patient.upsert', patient: pid('A', { sex: 'F' }) }]],
];

function run(h: Harness): string[] {
  for (const [ctx, changes] of script) h.apply(ctx, ...changes);
  return h.events.map((e) => JSON.stringify(e));
}

test('the same messages into two fresh repositories give the same digest and the same events', async (t) => {
  const a = await tempRepository(t);
  const b = await tempRepository(t);
  const ea = run(a);
  const eb = run(b);
  assert.deepEqual(ea, eb);
  assert.equal(a.repo.digest(), b.repo.digest());
  assert.match(a.repo.digest(), /^[0-9a-f]{64}$/);
});

test('clearAll then replaying the messages (a rebuild) reaches the same digest', async (t) => {
  const h = await tempRepository(t);
  const empty = h.repo.digest();
  run(h);
  const live = h.repo.digest();
  assert.notEqual(live, empty);
  h.repo.clearAll();
  assert.equal(h.repo.digest(), empty);
  h.seq = 0;
  run(h);
  assert.equal(h.repo.digest(), live);
});

test('the digest changes when any stored value changes', async (t) => {
  const h = await tempRepository(t);
  run(h);
  const d = h.repo.digest();
  h.ok({ triggerEvent: 'A08', eventTime: at('2024-01-06T10:00:00Z') }, { op: 'patient.upsert', patient: pid('B', { phone: '1' }) });
  assert.notEqual(h.repo.digest(), d);
});
