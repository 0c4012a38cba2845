import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRepository } from '../../src/repository/index.js';
import { Harness, id, pid, tempRepository } from './helpers.js';

test('HOSP and HOSP&1.2.3&ISO are one authority; the authority query matches namespace, OID or whole HD (quirk 17)', async (t) => {
  const h = await tempRepository(t);
  h.ok({ triggerEvent: 'A04' }, { op: 'patient.upsert', patient: { identifiers: [{ id: '7', authority: 'HOSP', authorityUid: '1.2.3', authorityUidType: 'ISO', type: 'MR' }] } });
  assert.deepEqual(h.ok({ triggerEvent: 'A08' }, { op: 'patient.upsert', patient: { identifiers: [id('7', 'HOSP')], sex: 'M' } }), ['patient.updated']);
  for (const a of ['HOSP', '1.2.3', 'HOSP&1.2.3&ISO', '&1.2.3']) {
    assert.equal(h.repo.findPatients({ identifier: '7', authority: a }).items.length, 1, a);
  }
  assert.equal(h.repo.findPatients({ identifier: '7', authority: 'OTHER' }).items.length, 0);
});

test('the same ID under two authorities is two patients; PID-3 naming both of two patients is a 205 conflict', async (t) => {
  const h = await tempRepository(t);
  h.ok({ triggerEvent: 'A04' }, { op: 'patient.upsert', patient: { identifiers: [id('7', 'HOSP')] } });
  h.ok({ triggerEvent: 'A04' }, { op: 'patient.upsert', patient: { identifiers: [id('7', 'CLINIC')] } });
  assert.equal(h.repo.findPatients({ identifier: '7' }).items.length, 2);
  const r = h.apply({ triggerEvent: 'A08' }, { op: 'patient.upsert', patient: { identifiers: [id('7', 'HOSP'), id('7', 'CLINIC')] } });
  assert.equal(r.outcome.kind, 'rejected');
  if (r.outcome.kind === 'rejected') assert.equal(r.outcome.error.errCode, 205);
});

test('authority aliases make a bare OID match the namespace (identity options)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pacslink-repo-'));
  const repo = await openRepository({ path: dir, identity: { authorityAliases: { '1.2.3': 'HOSP' } } });
  t.after(async () => {
    await repo.close();
    await rm(dir, { recursive: true, force: true });
  });
  const h = new Harness(repo);
  h.ok({ triggerEvent: 'A04' }, { op: 'patient.upsert', patient: pid('7') });
  const byOid = { op: 'patient.upsert' as const, patient: { identifiers: [{ id: '7', authority: '1.2.3', authorityUid: '1.2.3', authorityUidType: 'ISO', type: '' }] } };
  assert.deepEqual(h.ok({ triggerEvent: 'A08' }, byOid), ['patient.updated'], 'same patient; the OID is learned, the spelling kept');
  assert.deepEqual(h.ok({ triggerEvent: 'A08' }, byOid), [], 'and the same message again changes nothing');
  assert.equal(repo.findPatients({ identifier: '7' }).items.length, 1);
  assert.deepEqual(repo.findPatients({ identifier: '7' }).items[0]?.identifiers[0], { id: '7', authority: 'HOSP', authorityUid: '1.2.3', authorityUidType: 'ISO', type: 'MR' });
});

test('IDs are matched in their normal form: case and leading zeros are significant unless configured (quirk 18)', async (t) => {
  const h = await tempRepository(t);
  h.ok({ triggerEvent: 'A04' }, { op: 'patient.upsert', patient: pid('00123') });
  h.ok({ triggerEvent: 'A04' }, { op: 'patient.upsert', patient: pid('123') });
  assert.equal(h.repo.findPatients({ identifier: '00123' }).items.length, 1);
  assert.notEqual(h.patientById('00123')?.key, h.patientById('123')?.key);
});
