import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pid, tempRepository } from './helpers.js';

test('A35 moves an account to the PID patient without merging patients', async (t) => {
  const h = await tempRepository(t);
  h.ok({ triggerEvent: 'A04' }, { op: 'patient.upsert', patient: pid('A', { accountNumber: 'ACCT1' }) });
  h.ok({ triggerEvent: 'A04' }, { op: 'patient.upsert', patient: pid('B') });
  assert.deepEqual(h.ok({ triggerEvent: 'A35' }, { op: 'account.move', target: pid('B', { accountNumber: 'ACCT2' }), sourceAccount: 'ACCT1' }), [
    'patient.updated',
    'patient.updated',
  ]);
  assert.equal(h.patientById('A')?.accountNumber, null);
  assert.equal(h.patientById('A')?.mergedInto, undefined);
  assert.equal(h.patientById('B')?.accountNumber, 'ACCT2');
  assert.equal(h.repo.mergeHistory(h.patientById('B')?.key ?? '').items[0]?.kind, 'account-move');
});
