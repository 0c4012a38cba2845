/**
 * End to end with a client we did not write: Debian's `mllp_send` (package python3-hl7)
 * sends MLLP-framed messages from a file to the engine running on the real LMDB log, and
 * every ACK it prints is checked.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { readAck } from '../../src/mllp/client.js';
import { openLmdbInboundLog } from '../../src/queue/index.js';
import { framed, message, testEngine } from '../listener/helpers.js';

const run = promisify(execFile);

async function haveMllpSend(): Promise<boolean> {
  try {
    await run('mllp_send', ['--version']);
    return true;
  } catch {
    return false;
  }
}

describe('mllp_send (python3-hl7) against the engine', async () => {
  const available = await haveMllpSend();
  it('acknowledges every message AA with MSA-2 = MSH-10 and stores each exactly once, in order', { skip: available ? false : 'mllp_send not installed (apt-get install python3-hl7)' }, async (t) => {
    const te = await testEngine(undefined, { processingIds: ['P'] });
    t.after(() => te.close());
    const ids = Array.from({ length: 200 }, (_, i) => `E2E${String(i).padStart(4, '0')}`);
    const file = join(te.dir, 'messages.hl7');
    // One refused message (processing ID T) in the middle, and one resend of an earlier message.
    const payloads = ids.map((id, i) => message(id, i === 100 ? { processingId: 'T' } : {}));
    payloads.push(message(ids[5]!));
    await writeFile(file, Buffer.concat(payloads.map((p) => framed(p))));
    const { stdout } = await run('mllp_send', ['-p', String(te.port), '-f', file, '127.0.0.1'], {
      encoding: 'latin1',
      maxBuffer: 64 << 20,
    });
    // mllp_send prints each ACK as received (framed), followed by a newline.
    const acks = stdout.split('\x1c\r\n').filter((s) => s.length > 0).map((s) => Buffer.from(s.replace(/^\n?\x0b/, ''), 'latin1'));
    assert.equal(acks.length, payloads.length);
    const summaries = acks.map((a) => readAck(a));
    summaries.forEach((s, i) => {
      const expectedId = i < ids.length ? ids[i] : ids[5];
      assert.equal(s.controlId, expectedId, `ACK ${i} answers its own message`);
      assert.equal(s.code, i === 100 ? 'AR' : 'AA', `ACK ${i} code`);
    });
    assert.deepEqual(acks.at(-1), acks[5], 'the resend got the original ACK again');
    await te.engine.stop();
    const log = await openLmdbInboundLog({ path: join(te.dir, 'inbound') });
    try {
      const stored = [...log.range(1, log.lastSeq())].map((r) => r.controlId);
      assert.deepEqual(stored, ids.filter((_, i) => i !== 100));
    } finally {
      await log.close();
    }
  });
});
