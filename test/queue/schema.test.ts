import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeRecord, encodeRecord, RecordSlab } from '../../src/queue/schema.js';

function meta(i: number, rawBytes: number): Parameters<typeof encodeRecord>[0] {
  const raw = Buffer.alloc(rawBytes, 0x41 + (i % 26));
  raw.write(`MSH|^~\\&|RIS|HOSP|||||ADT^A01|C${i}|P|2.5`, 0, 'latin1');
  return { raw, receivedAt: 1_700_000_000_000 + i, listener: 'adt', remote: '10.0.0.1:4000', messageType: 'ADT^A01', controlId: `C${i}`, dedupKey: `RIS\u001fHOSP\u001fC${i}` };
}

test('records encoded into slabs all read back as encoded, across slab boundaries and beside records too large for a slab', () => {
  const slab = new RecordSlab();
  const sizes = [1, 7, 1500, 2100, 4097, 200_000, 3000];
  const inputs = Array.from({ length: 3000 }, (_, i) => meta(i, sizes[i % sizes.length]!));
  // Every record stays referenced, as lmdb-js holds them until their transaction commits:
  // none may be overwritten by a later one (3000 records of these sizes fill several slabs).
  const encoded = inputs.map((m) => encodeRecord(m, slab));
  const slabs = new Set(encoded.map((b) => b.buffer));
  assert.ok(slabs.size > 3, `several slabs and standalone buffers were used (${slabs.size})`);
  encoded.forEach((b, i) => {
    const m = inputs[i]!;
    assert.equal(b.byteOffset % 8, 0, 'records start 8-byte aligned');
    const d = decodeRecord(i + 1, b);
    assert.deepEqual(Buffer.from(d.raw), Buffer.from(m.raw));
    assert.deepEqual({ ...d, raw: undefined }, { ...m, seq: i + 1, raw: undefined });
    assert.deepEqual(b, encodeRecord(m), 'the same bytes as a record encoded into a buffer of its own');
  });
});
