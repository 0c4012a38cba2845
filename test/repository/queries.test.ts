import { test } from 'node:test';
import assert from 'node:assert/strict';
import { name, pid, tempRepository } from './helpers.js';

test('name search is case-insensitive on whole family/given, filters by birth date and pages with a cursor', async (t) => {
  const h = await tempRepository(t);
  for (let i = 0; i < 5; i++) {
    h.ok({ triggerEvent: 'A04' }, { op: 'patient.upsert', patient: pid('M' + i, { name: name(i % 2 === 0 ? 'Müller' : 'MÜLLER', i < 3 ? 'Anna' : 'Bert'), birthDate: `1980010${i}` }) });
  }
  h.ok({ triggerEvent: 'A04' }, { op: 'patient.upsert', patient: pid('X', { name: name('Müllerson', 'Anna') }) });
  assert.equal(h.repo.findPatients({ family: 'müller' }).items.length, 5);
  assert.equal(h.repo.findPatients({ family: 'MÜLLER', given: 'anna' }).items.length, 3);
  assert.equal(h.repo.findPatients({ family: 'müller', birthDate: '19800104' }).items[0]?.identifiers[0]?.id, 'M4');
  const seen: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = h.repo.findPatients({ family: 'müller' }, { limit: 2, ...(cursor !== undefined ? { cursor } : {}) });
    seen.push(...page.items.map((p) => p.key));
    if (page.next === null) break;
    cursor = page.next;
  }
  assert.equal(new Set(seen).size, 5);
  assert.throws(() => h.repo.findPatients({ family: 'x' }, { limit: 0 }), RangeError);
});

test('reads outside a transaction see only committed messages', async (t) => {
  const h = await tempRepository(t);
  assert.equal(h.repo.getPatient('P1'), undefined);
  assert.equal(h.repo.resolvePatient('P1'), undefined);
  h.ok({ triggerEvent: 'A04' }, { op: 'patient.upsert', patient: pid('1') });
  assert.equal(h.repo.getPatient('P1')?.identifiers[0]?.id, '1');
});

test('a patient’s orders and visits list oldest first, also past ten (O2 before O10)', async (t) => {
  const h = await tempRepository(t);
  for (let i = 1; i <= 12; i++) {
    h.ok({ messageCode: 'ORM', triggerEvent: 'O01' }, { op: 'order.upsert', patient: pid('1'), order: { accession: 'A' + i }, status: 'scheduled', control: 'NW', orderStatus: 'SC' });
  }
  const key = h.patientById('1')?.key ?? '';
  assert.deepEqual(
    h.repo.findOrders({ patientKey: key }).items.map((o) => o.accession),
    Array.from({ length: 12 }, (_, i) => 'A' + (i + 1)),
  );
});
