/** MDM mapping (DOMAIN.md §4.7): T02/T04/T06/T08/T10/T11. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Change, MappingResult } from '../../src/converter/changes.js';
import { createMappingOptions, documentStatusOf, mapMessage } from '../../src/converter/map/index.js';
import { hl7, parseOk } from '../helpers/hl7.js';

type Doc = Extract<Change, { op: 'document.upsert' }>;
const msh = (event: string): string => `MSH|^~\\&|DICT|RAD|PACS|RAD|20240102120000||MDM^${event}|D1|P|2.5.1`;
const PID = 'PID|1||12345^^^HOSP^MR||DOE^JOHN';
const OPTS = createMappingOptions({ timeZone: 'Europe/Berlin' });

function seg(id: string, fields: Record<number, string>): string {
  const n = Math.max(...Object.keys(fields).map(Number));
  const out: string[] = [id];
  for (let i = 1; i <= n; i++) out.push(fields[i] ?? '');
  return out.join('|');
}
const txa = (extra: Record<number, string> = {}): string =>
  seg('TXA', { 1: '1', 2: 'RAD^Radiology report', 3: 'TX', 4: '20240102110000', 9: '55^CURIE^MARIE', 12: 'DOC-1^DICT', 13: '', 14: 'PL1', 15: 'FL1', 17: 'AU', 19: 'AV', ...extra });

function map(text: string): MappingResult {
  return mapMessage(parseOk(text), OPTS);
}
function one(r: MappingResult): Doc {
  assert.equal(r.kind, 'changes', JSON.stringify(r));
  const changes = r.kind === 'changes' ? r.changes : [];
  assert.equal(changes.length, 1);
  assert.equal(changes[0]!.op, 'document.upsert');
  return changes[0] as Doc;
}

test('T02 maps the TXA fields, the OBX text and the patient', () => {
  const c = one(map(hl7(msh('T02'), 'EVN|T02|20240102120000', PID, 'PV1|1|O', txa(), 'OBX|1|TX|REPORT||FINDINGS:~  none||||||F', 'OBX|2|FT|REPORT||Impression\\.br\\normal||||||F')));
  assert.equal(c.trigger, 'T02');
  assert.deepEqual(c.document, {
    documentType: 'RAD', documentNumber: 'DOC-1', status: 'final', text: 'FINDINGS:\n  none\nImpression\nnormal', attachments: [],
    placerOrderNumber: 'PL1', fillerOrderNumber: 'FL1', completionStatus: 'AU', availability: 'AV', time: '2024-01-02T11:00:00+01:00', author: 'CURIE^MARIE',
  });
  assert.deepEqual(c.patient?.identifiers.map((i) => i.id), ['12345']);
});

test('completion status: DI, DO, IP, IN, PA are preliminary; AU and LA final', () => {
  for (const [code, status] of [['DI', 'preliminary'], ['DO', 'preliminary'], ['IP', 'preliminary'], ['IN', 'preliminary'], ['PA', 'preliminary'], ['AU', 'final'], ['LA', 'final']]) {
    assert.equal(one(map(hl7(msh('T04'), PID, txa({ 17: code! })))).document.status, status, code);
  }
});

test('T08/T10 edits of an authenticated document are corrections; T06 carries the parent; T11 cancels', () => {
  assert.equal(one(map(hl7(msh('T08'), PID, txa({ 17: 'AU' })))).document.status, 'corrected');
  assert.equal(one(map(hl7(msh('T10'), PID, txa({ 17: 'LA' })))).document.status, 'corrected');
  assert.equal(one(map(hl7(msh('T10'), PID, txa({ 17: 'IP' })))).document.status, 'preliminary');
  const addendum = one(map(hl7(msh('T06'), PID, txa({ 12: 'DOC-2', 13: 'DOC-1' }))));
  assert.equal(addendum.document.parentDocument, 'DOC-1');
  assert.equal(one(map(hl7(msh('T11'), PID, txa({ 19: 'CA' })))).document.status, 'cancelled');
  assert.equal(documentStatusOf('T11', 'AU'), 'cancelled');
});

test('TXA-12 is required: 101 at TXA-12, also when TXA is missing', () => {
  for (const text of [hl7(msh('T02'), PID, txa({ 12: '' })), hl7(msh('T02'), PID)]) {
    const r = map(text);
    assert.ok(r.kind === 'error' && r.error.code === 'MISSING_FIELD' && r.error.segment === 'TXA' && r.error.field === 12);
  }
});

test('notification-only MDM triggers are ignored', () => {
  const r = map(hl7(msh('T01'), PID, txa()));
  assert.ok(r.kind === 'changes' && r.changes.length === 0 && r.ignored === 'unsupported MDM event T01');
});

test('the time falls back to TXA-6 then MSH-7; the author to TXA-22', () => {
  const d = one(map(hl7(msh('T02'), PID, txa({ 4: '', 6: '20240102100000', 9: '', 22: '66^PASTEUR^LOUIS' })))).document;
  assert.equal(d.time, '2024-01-02T10:00:00+01:00');
  assert.equal(d.author, 'PASTEUR^LOUIS');
  assert.equal(one(map(hl7(msh('T02'), PID, txa({ 4: '' })))).document.time, '2024-01-02T12:00:00+01:00');
});
