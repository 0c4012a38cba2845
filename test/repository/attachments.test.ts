import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { pid, tempRepository } from './helpers.js';

test('an embedded PDF is stored once, byte-exact, and never travels in events', async (t) => {
  const h = await tempRepository(t);
  const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(256 * 1024), Buffer.from([0, 0x0b, 0x1c, 0x0d, 0xff])]);
  const { events } = h.apply(
    { messageCode: 'ORU', triggerEvent: 'R01' },
    { op: 'report.upsert', patient: pid('1'), report: { accession: 'A1', status: 'final', text: 'see PDF', attachments: [{ contentType: 'application/pdf', dataBase64: pdf.toString('base64') }] } },
  );
  const r = h.repo.findReports({ accession: 'A1' }).items[0];
  const aid = r?.versions[0]?.attachments[0];
  assert.ok(aid);
  const got = h.repo.getAttachment(aid);
  assert.ok(got);
  assert.ok(got.bytes.equals(pdf));
  assert.equal(got.meta.size, pdf.length);
  assert.equal(got.meta.contentType, 'application/pdf');
  assert.equal(got.meta.reportId, r?.id);
  assert.ok(JSON.stringify(events).length < 10_000, 'no bytes in events');
  assert.equal(h.repo.getAttachment('A999'), undefined);
});
