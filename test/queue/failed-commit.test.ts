import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { openLmdbInboundLog } from '../../src/queue/lmdb-log.js';
import { tempDir } from './helpers.js';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'fail-commit.js');

test(
  'a commit that fails in LMDB rejects its batch, keeps the process alive and leaves no gap',
  { skip: process.platform === 'win32' ? 'needs ulimit -f' : false, timeout: 30_000 },
  async (t) => {
    const dir = await tempDir(t);
    // 1 MiB file-size limit: LMDB's writes past it fail (EFBIG), like a full disk would.
    const { stdout } = await promisify(execFile)('/bin/sh', ['-c', 'ulimit -f 1024 && exec "$0" "$1" "$2"', process.execPath, fixture, dir]);
    const result = JSON.parse(stdout) as {
      failed: Array<{ kind: string; code?: string }>;
      lastBefore: number;
      deleted: number;
      after: { kind: string; seq?: number };
      unhandled: number;
    };
    assert.ok(result.failed.length > 0);
    const rejectedCodes = result.failed.filter((o) => o.kind === 'rejected').map((o) => o.code);
    assert.ok(rejectedCodes.length > 0);
    for (const code of rejectedCodes) assert.ok(code === 'STORAGE_FAILED' || code === 'STORAGE_FULL', String(code));
    assert.equal(result.unhandled, 0, 'no unhandled rejection from lmdb-js');
    assert.equal(result.deleted, result.lastBefore);
    // the failed batches' seqs were reused: the next stored record follows the last durable one
    assert.deepEqual(result.after, { kind: 'appended', seq: result.lastBefore + 1, dedupCollision: false });
    const log = await openLmdbInboundLog({ path: dir });
    t.after(() => log.close());
    assert.equal(log.lastSeq(), result.lastBefore + 1);
    assert.equal(log.get(result.lastBefore + 1)?.controlId, 'AFTER');
  },
);
