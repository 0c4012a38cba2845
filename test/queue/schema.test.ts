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

test('a slab is written again once all its records are released, and never while one of them is not', () => {
  const slab = new RecordSlab();
  const inputs = Array.from({ length: 4000 }, (_, i) => meta(i, 1500 + (i % 7) * 300));
  // Released as soon as encoded (as the log does once a record's transaction has committed):
  // ≈8 MB of records go through the same one or two slabs.
  const buffers = new Set<ArrayBufferLike>();
  for (const m of inputs) {
    const b = encodeRecord(m, slab);
    buffers.add(b.buffer);
    slab.release(b);
  }
  assert.ok(buffers.size <= 2, `released slabs are reused (${buffers.size} used for ≈8 MB)`);

  // Two records kept (not released) pin their slab. Records released with a lag (as under
  // load, where the next batch is encoded while the last one commits) fill other slabs, which
  // then come and go as spares; the pinned slab is never among them, even after one of its
  // two records is released, and both read back intact.
  const kept = encodeRecord(inputs[0]!, slab);
  const kept2 = encodeRecord(inputs[1]!, slab);
  const keptCopy = Buffer.from(kept);
  const inFlight: Buffer[] = [];
  // Runs the corpus through with a lag; says whether any record landed over the kept two,
  // and whether any was placed in their slab from its start (the slab written again).
  const lagged = (): { over: boolean; reused: boolean } => {
    let over = false;
    let reused = false;
    for (const m of inputs) {
      const b = encodeRecord(m, slab);
      if (b.buffer === kept.buffer) {
        if (b.byteOffset < kept2.byteOffset + kept2.length && b.byteOffset + b.length > kept.byteOffset) over = true;
        if (b.byteOffset === 0) reused = true; // a slab is an ArrayBuffer of its own
      }
      inFlight.push(b);
      if (inFlight.length > 600) slab.release(inFlight.shift()!);
    }
    return { over, reused };
  };
  assert.equal(lagged().over, false, 'nothing is placed over records not released');
  slab.release(kept2);
  assert.equal(lagged().over, false, 'nor once some of their slab are released');
  assert.deepEqual(kept, keptCopy, 'a record not released is never overwritten');
  slab.release(kept);
  assert.equal(lagged().reused, true, 'once all are released, the slab is written again');
  for (const b of inFlight.splice(0)) slab.release(b);
  // A view the slab did not give out is ignored.
  slab.release(Buffer.alloc(10));
});
