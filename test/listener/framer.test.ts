import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MllpFramer, type FrameErrorReason } from '../../src/listener/framer.js';

interface Seen {
  frames: string[];
  junk: number;
  errors: FrameErrorReason[];
  oversized: { head: string; size: number }[];
}

function collect(options: { maxFrameBytes?: number; tolerantEndBlock?: boolean; oversizedHeadBytes?: number } = {}) {
  const seen: Seen = { frames: [], junk: 0, errors: [], oversized: [] };
  const framer = new MllpFramer(
    { maxFrameBytes: options.maxFrameBytes ?? 1 << 20, ...options },
    {
      onFrame: (p) => seen.frames.push(Buffer.from(p).toString('latin1')),
      onJunk: (n) => (seen.junk += n),
      onOversized: (head, size) => seen.oversized.push({ head: Buffer.from(head).toString('latin1'), size }),
      onFrameError: (r) => seen.errors.push(r),
    },
  );
  return { framer, seen };
}

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const framed = (s: string): string => `\x0b${s}\x1c\x0d`;
const M1 = 'MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5\rPID|1||X\r';
const M2 = 'MSH|^~\\&|A|B|C|D|20240101||ADT^A08|2|P|2.5\r';

/** Feeds `input` split at every position and one byte at a time; each way must see `expected`. */
function byEverySplit(input: string, expected: Partial<Seen>, options: Parameters<typeof collect>[0] = {}): void {
  const bytes = b(input);
  const ways: Buffer[][] = [];
  for (let i = 0; i <= bytes.length; i++) ways.push([bytes.subarray(0, i), bytes.subarray(i)]);
  for (let i = 0; i <= bytes.length; i++) {
    for (let j = i; j <= bytes.length; j += 7) ways.push([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)]);
  }
  ways.push([...bytes].map((x) => Buffer.from([x])));
  for (const chunks of ways) {
    const { framer, seen } = collect(options);
    for (const c of chunks) framer.push(c);
    const where = `split ${chunks.map((c) => c.length).join('+')}`;
    if (expected.frames !== undefined) assert.deepEqual(seen.frames, expected.frames, where);
    if (expected.junk !== undefined) assert.equal(seen.junk, expected.junk, where);
    if (expected.errors !== undefined) assert.deepEqual(seen.errors, expected.errors, where);
    if (expected.oversized !== undefined) assert.deepEqual(seen.oversized, expected.oversized, where);
  }
}

describe('MllpFramer', () => {
  it('delivers two frames whatever the TCP read boundaries', () => {
    byEverySplit(framed(M1) + framed(M2), { frames: [M1, M2], junk: 0, errors: [] });
  });

  it('discards and counts bytes outside frames (CR/LF after a frame, junk before)', () => {
    byEverySplit('xy' + framed(M1) + '\r\n' + framed(M2) + '\n', { frames: [M1, M2], junk: 5, errors: [] });
  });

  it('hands on a frame inside one chunk as a view without copying', () => {
    const chunk = b('\r' + framed(M1));
    let payload: Uint8Array | undefined;
    const f = new MllpFramer({ maxFrameBytes: 1 << 20 }, {
      onFrame: (p) => (payload = p),
      onJunk: () => {},
      onOversized: () => {},
      onFrameError: () => {},
    });
    f.push(chunk);
    assert.ok(payload !== undefined);
    assert.equal(payload.buffer, chunk.buffer, 'payload shares the chunk memory');
    assert.equal(payload.byteOffset, chunk.byteOffset + 2);
  });

  it('restarts the frame on 0x0B inside an open frame', () => {
    byEverySplit('\x0bMSH|partial' + framed(M1), { frames: [M1], errors: ['restarted'] });
  });

  it('drops a frame whose 0x1C is not followed by 0x0D (strict mode) and carries on', () => {
    byEverySplit('\x0bMSH|x\x1cZ' + framed(M2), { frames: [M2], errors: ['bad-end-block'] });
  });

  it('strict mode: 1C 0B drops the frame, and the 0B still starts the next one', () => {
    byEverySplit('\x0b' + M1 + '\x1c' + framed(M2), { frames: [M2], errors: ['bad-end-block'] });
  });

  it('tolerant mode: 1C 0B ends the frame and starts the next', () => {
    byEverySplit('\x0b' + M1 + '\x1c' + framed(M2), { frames: [M1, M2], errors: [] }, { tolerantEndBlock: true });
  });

  it('tolerant mode: 1C then end of stream ends the frame; strict mode drops it', () => {
    const t = collect({ tolerantEndBlock: true });
    t.framer.push(b('\x0b' + M1 + '\x1c'));
    assert.deepEqual(t.seen.frames, []);
    t.framer.end();
    assert.deepEqual(t.seen.frames, [M1]);
    const s = collect();
    s.framer.push(b('\x0b' + M1 + '\x1c'));
    s.framer.end();
    assert.deepEqual(s.seen.frames, []);
    assert.deepEqual(s.seen.errors, ['incomplete']);
  });

  it('refuses an oversized frame as bytes arrive, keeps its head, and resumes at the next frame', () => {
    const big = 'MSH|^~\\&|A|B|C|D|1||ADT^A01|9|P|2.5\r' + 'Z'.repeat(300) + '\r';
    byEverySplit(framed(big) + framed(M2), {
      frames: [M2],
      errors: [],
      oversized: [{ head: big.slice(0, 40), size: big.length }],
    }, { maxFrameBytes: 100, oversizedHeadBytes: 40 });
  });

  it('never holds more than maxFrameBytes of an oversized frame', () => {
    const { framer, seen } = collect({ maxFrameBytes: 1024 });
    framer.push(b('\x0b'));
    for (let i = 0; i < 1000; i++) {
      framer.push(b('A'.repeat(100)));
      assert.ok(framer.bufferedBytes <= 1024);
    }
    framer.push(b('\x1c\x0d'));
    assert.equal(seen.oversized.length, 1);
    assert.equal(seen.oversized[0]?.size, 100_000);
  });

  it('a frame exactly at the limit is accepted', () => {
    const payload = 'M'.repeat(100);
    byEverySplit(framed(payload), { frames: [payload], oversized: [] }, { maxFrameBytes: 100 });
  });

  it('abandon() reports an open frame as incomplete and forgets it', () => {
    const { framer, seen } = collect();
    framer.push(b('\x0bMSH|half'));
    assert.equal(framer.inFrame, true);
    framer.abandon();
    assert.equal(framer.inFrame, false);
    framer.push(b(framed(M2)));
    assert.deepEqual(seen.errors, ['incomplete']);
    assert.deepEqual(seen.frames, [M2]);
  });

  it('copies a multi-chunk frame once, independent of later changes to the chunks', () => {
    const { framer, seen } = collect();
    const c1 = b('\x0bMSH|a');
    const c2 = b('bc\x1c\x0d');
    framer.push(c1);
    framer.push(c2);
    c1.fill(0);
    assert.deepEqual(seen.frames, ['MSH|abc']);
  });
});
