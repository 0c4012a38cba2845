import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Change } from '../../src/converter/changes.js';
import { pid, tempRepository } from './helpers.js';

test('changes the applier cannot use are rejected with a table 0357 code, writing nothing', async (t) => {
  const h = await tempRepository(t);
  const cases: Array<[Change, string, number]> = [
    [{ op: 'patient.upsert', patient: { identifiers: [] } }, 'MISSING_FIELD', 101],
    [{ op: 'order.upsert', patient: pid('1'), order: { modality: 'CT' }, status: 'scheduled', control: 'NW', orderStatus: 'SC' }, 'MISSING_FIELD', 101],
    [{ op: 'order.upsert', order: { accession: 'NEW' }, status: 'scheduled', control: 'NW', orderStatus: 'SC' }, 'MISSING_FIELD', 101],
    [{ op: 'patient.merge', target: pid('1'), source: [], trigger: 'A40' }, 'MISSING_FIELD', 101],
    [{ op: 'document.upsert', patient: pid('1'), document: { documentType: 'DI', documentNumber: '', status: 'final', text: '', attachments: [] }, trigger: 'T02' }, 'MISSING_FIELD', 101],
    [{ op: 'future.op' } as unknown as Change, 'INTERNAL', 207],
  ];
  const before = h.repo.digest();
  for (const [change, code, errCode] of cases) {
    const { outcome, events } = h.apply({ triggerEvent: 'A04' }, { op: 'patient.upsert', patient: pid('OK') }, change);
    assert.equal(outcome.kind, 'rejected', change.op);
    if (outcome.kind === 'rejected') assert.deepEqual([outcome.error.code, outcome.error.errCode], [code, errCode], change.op);
    assert.deepEqual(events, []);
  }
  assert.equal(h.repo.digest(), before);
});
