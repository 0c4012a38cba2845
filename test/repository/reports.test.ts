import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Change, ReportData } from '../../src/converter/changes.js';
import type { ReportStatus } from '../../src/repository/model.js';
import { at, pid, tempRepository } from './helpers.js';

const oru = (iso: string) => ({ messageCode: 'ORU', triggerEvent: 'R01', eventTime: at(iso) });
const rep = (status: ReportStatus, text: string, extra: Partial<ReportData> = {}): Change => ({
  op: 'report.upsert',
  patient: pid('1'),
  report: { accession: 'ACC1', status, text, time: extra.time ?? '2024-01-01T10:00:00Z', attachments: [], ...extra },
});

test('P → F → C → X: each status change is a version; C keeps the old final version (quirk 21)', async (t) => {
  const h = await tempRepository(t);
  h.ok(oru('2024-01-01T10:00:00Z'), rep('preliminary', 'prelim', { time: '2024-01-01T10:00:00Z' }));
  const e = h.apply(oru('2024-01-01T11:00:00Z'), rep('final', 'final text', { time: '2024-01-01T11:00:00Z', author: 'DR X' }));
  assert.deepEqual(
    e.events.map((x) => [x.type, x.data['previousStatus']]),
    [['report.updated', 'preliminary']],
  );
  h.ok(oru('2024-01-02T10:00:00Z'), rep('corrected', 'corrected text', { time: '2024-01-02T10:00:00Z' }));
  let r = h.repo.findReports({ accession: 'ACC1' }).items[0];
  assert.equal(r?.status, 'corrected');
  assert.equal(r?.text, 'corrected text');
  assert.deepEqual(
    r?.versions.map((v) => [v.status, v.text]),
    [
      ['preliminary', 'prelim'],
      ['final', 'final text'],
      ['corrected', 'corrected text'],
    ],
  );
  assert.equal(r?.versions[1]?.author, 'DR X');
  h.ok(oru('2024-01-03T10:00:00Z'), rep('cancelled', '', { time: '2024-01-03T10:00:00Z' }));
  r = h.repo.getReport(r?.id ?? '');
  assert.equal(r?.status, 'cancelled');
  assert.equal(r?.versions.length, 4);
});

test('a late P after F is recorded as a version but neither downgrades the status nor replaces the text', async (t) => {
  const h = await tempRepository(t);
  h.ok(oru('2024-01-01T11:00:00Z'), rep('final', 'final text', { time: '2024-01-01T11:00:00Z' }));
  h.ok(oru('2024-01-01T10:00:00Z'), rep('preliminary', 'prelim', { time: '2024-01-01T10:00:00Z' }));
  const r = h.repo.findReports({ accession: 'ACC1' }).items[0];
  assert.equal(r?.status, 'final');
  assert.equal(r?.text, 'final text');
  assert.deepEqual(
    r?.versions.map((v) => v.status),
    ['final', 'preliminary'],
  );
});

test('a report without accession is found by filler order number, and an exact repeat is a no-op', async (t) => {
  const h = await tempRepository(t);
  const c: Change = { op: 'report.upsert', patient: pid('1'), report: { fillerOrderNumber: 'F9', status: 'final', text: 't', time: '2024-01-01T10:00:00Z', attachments: [] } };
  assert.deepEqual(h.ok(oru('2024-01-01T10:00:00Z'), c), ['patient.created', 'report.created']);
  assert.deepEqual(h.ok(oru('2024-01-01T10:00:00Z'), c), []);
  h.ok(oru('2024-01-01T12:00:00Z'), { op: 'report.upsert', report: { fillerOrderNumber: 'F9', accession: 'ACC9', status: 'corrected', text: 'u', attachments: [] } });
  const r = h.repo.findReports({ accession: 'ACC9' }).items;
  assert.equal(r.length, 1);
  assert.equal(r[0]?.versions.length, 2);
});

test('a report without PID takes the patient of the order with its accession', async (t) => {
  const h = await tempRepository(t);
  h.ok({ messageCode: 'ORM', triggerEvent: 'O01' }, { op: 'order.upsert', patient: pid('1'), order: { accession: 'ACC1', studyInstanceUid: '1.2.3' }, status: 'scheduled', control: 'NW', orderStatus: 'SC' });
  h.ok(oru('2024-01-01T10:00:00Z'), { op: 'report.upsert', report: { accession: 'ACC1', status: 'final', text: 't', attachments: [] } });
  const r = h.repo.findReports({ accession: 'ACC1' }).items[0];
  assert.equal(r?.patientKey, h.patientById('1')?.key);
  assert.equal(r?.studyInstanceUid, '1.2.3');
  const missing = h.apply(oru('2024-01-01T10:00:00Z'), { op: 'report.upsert', report: { accession: 'NOPE', status: 'final', text: 't', attachments: [] } });
  assert.equal(missing.outcome.kind, 'rejected');
});
