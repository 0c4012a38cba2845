import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { openLmdbInboundLog } from '../../src/queue/lmdb-log.js';
import { input, sized, tempDir } from './helpers.js';

const worker = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'read-worker.js');

test('a worker thread opening the environment read-only reads the exact bytes by seq', async (t) => {
  const dir = await tempDir(t);
  const log = await openLmdbInboundLog({ path: dir });
  t.after(() => log.close());
  const a = input('W1');
  const b = sized('W2', 5000); // larger than half a page: stored in overflow pages
  await Promise.all([log.append(a), log.append(b)]);
  const w = new Worker(worker, { workerData: { path: dir, seqs: [1, 2, 3] } });
  const [out] = (await once(w, 'message')) as [Array<{ byteLength: number; bytes: Uint8Array } | null>];
  await once(w, 'exit');
  // the zero-copy view has exactly the message's length (getBinaryFast's buffer does not)
  assert.equal(out[0]?.byteLength, a.raw.byteLength);
  assert.equal(out[1]?.byteLength, b.raw.byteLength);
  assert.ok(Buffer.from(a.raw).equals(out[0]?.bytes ?? new Uint8Array()));
  assert.ok(Buffer.from(b.raw).equals(out[1]?.bytes ?? new Uint8Array()));
  assert.equal(out[2], null);
  // the writer is unaffected by the reader having come and gone
  assert.deepEqual(await log.append(input('W3')), { kind: 'appended', seq: 3, dedupCollision: false });
});
