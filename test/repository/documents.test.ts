import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Change, DocumentData } from '../../src/converter/changes.js';
import { pid, tempRepository } from './helpers.js';

const mdm = (trigger: string, d: Partial<DocumentData>): Change => ({
  op: 'document.upsert',
  patient: pid('1'),
  trigger,
  document: { documentType: 'DI', documentNumber: 'DOC1', status: 'preliminary', text: 'x', attachments: [], ...d },
});

test('MDM documents are versioned by TXA-12; T11 cancels; TXA fields are kept', async (t) => {
  const h = await tempRepository(t);
  assert.deepEqual(h.ok({ messageCode: 'MDM', triggerEvent: 'T02' }, mdm('T02', { status: 'preliminary', text: 'draft', completionStatus: 'IP', availability: 'UN' })), [
    'patient.created',
    'report.created',
  ]);
  h.ok({ messageCode: 'MDM', triggerEvent: 'T04' }, mdm('T04', { status: 'final', text: 'signed', completionStatus: 'AU', availability: 'AV' }));
  const p = h.patientById('1');
  let d = h.repo.findReports({ patientKey: p?.key ?? '' }).items[0];
  assert.equal(d?.kind, 'document');
  assert.equal(d?.documentNumber, 'DOC1');
  assert.equal(d?.completionStatus, 'AU');
  assert.equal(d?.status, 'final');
  assert.equal(d?.versions.length, 2);
  h.ok({ messageCode: 'MDM', triggerEvent: 'T11' }, mdm('T11', { status: 'final', text: 'signed', availability: 'CA' }));
  d = h.repo.getReport(d?.id ?? '');
  assert.equal(d?.status, 'cancelled');
  assert.equal(d?.availability, 'CA');
  // An ORU with an accession equal to nothing does not touch the document.
  h.ok({ messageCode: 'MDM', triggerEvent: 'T02' }, mdm('T02', { documentNumber: 'DOC2', parentDocument: 'DOC1' }));
  assert.equal(h.repo.findReports({ patientKey: p?.key ?? '' }).items.length, 2);
});
