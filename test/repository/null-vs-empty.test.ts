import { test } from 'node:test';
import assert from 'node:assert/strict';
import { at, id, name, pid, tempRepository } from './helpers.js';

test('absent keeps, null ("") deletes, a value replaces (DOMAIN.md §2.5)', async (t) => {
  const h = await tempRepository(t);
  h.ok({ triggerEvent: 'A04', eventTime: at('2024-01-01T10:00:00Z') }, { op: 'patient.upsert', patient: pid('1', { name: name('DOE', 'JANE'), sex: 'F', birthDate: '19800101', phone: '555' }) });
  h.ok({ triggerEvent: 'A08', eventTime: at('2024-01-01T11:00:00Z') }, { op: 'patient.upsert', patient: pid('1', { phone: null, sex: 'O' }) });
  const p = h.patientById('1');
  assert.equal(p?.phone, null, 'null deletes');
  assert.equal(p?.sex, 'O', 'value replaces');
  assert.equal(p?.birthDate, '19800101', 'absent keeps');
  assert.equal(p?.name?.family, 'DOE');
});

test('PID-3 in an ADT update is a snapshot: an identifier left out is dropped, a new one added', async (t) => {
  const h = await tempRepository(t);
  h.ok({ triggerEvent: 'A04', eventTime: at('2024-01-01T10:00:00Z') }, { op: 'patient.upsert', patient: pid('1', {}, [id('X9', 'NAT')]) });
  h.ok({ triggerEvent: 'A08', eventTime: at('2024-01-01T11:00:00Z') }, { op: 'patient.upsert', patient: pid('1', {}, [id('Y7', 'INS')]) });
  const p = h.patientById('1');
  assert.deepEqual(
    p?.identifiers.map((i) => `${i.id}@${i.authority}`),
    ['1@HOSP', 'Y7@INS'],
  );
  assert.equal(h.repo.findPatients({ identifier: 'X9' }).items.length, 0, 'the dropped identifier no longer finds the patient');
  assert.equal(h.repo.findPatients({ identifier: 'Y7', authority: 'INS' }).items[0]?.key, p?.key);
});

test('an order message mentioning a patient adds identifiers and fills empty fields but replaces nothing', async (t) => {
  const h = await tempRepository(t);
  h.ok({ triggerEvent: 'A04', eventTime: at('2024-01-01T10:00:00Z') }, { op: 'patient.upsert', patient: pid('1', { name: name('DOE'), sex: 'F' }, [id('X9', 'NAT')]) });
  h.ok(
    { messageCode: 'ORM', triggerEvent: 'O01', eventTime: at('2024-01-02T10:00:00Z') },
    { op: 'order.upsert', patient: pid('1', { name: name('OTHER'), sex: null, birthDate: '19990101' }), order: { accession: 'ACC1' }, status: 'scheduled', control: 'NW', orderStatus: 'SC' },
  );
  const p = h.patientById('1');
  assert.equal(p?.name?.family, 'DOE');
  assert.equal(p?.sex, 'F');
  assert.equal(p?.birthDate, '19990101');
  assert.equal(p?.identifiers.length, 2);
});
