/**
 * Property tests of the framer (fast-check): any sequence of frames with any junk between
 * them (junk without 0x0B), cut into any chunks, yields exactly those frames and counts
 * exactly the junk bytes; arbitrary bytes never throw and never make it hold more than the
 * frame limit.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MllpFramer } from '../../src/listener/framer.js';

const payload = fc.uint8Array({ minLength: 0, maxLength: 300 }).map((a) => a.map((b) => (b === 0x0b || b === 0x1c ? 0x41 : b)));
const junk = fc.uint8Array({ minLength: 0, maxLength: 20 }).map((a) => a.map((b) => (b === 0x0b ? 0x0a : b)));

function cut(bytes: Uint8Array, points: number[]): Uint8Array[] {
  const cuts = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of cuts) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  out.push(bytes.subarray(prev));
  return out;
}

describe('MllpFramer properties', () => {
  it('recovers every frame and counts every junk byte, however the stream is cut', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(junk, payload), { maxLength: 8 }), junk, fc.array(fc.nat(), { maxLength: 12 }), (items, tailJunk, points) => {
        const parts: number[] = [];
        let junkBytes = 0;
        for (const [j, p] of items) {
          parts.push(...j, 0x0b, ...p, 0x1c, 0x0d);
          junkBytes += j.length;
        }
        // Trailing junk must not start with 1C 0D ambiguity: it is outside any frame anyway.
        parts.push(...tailJunk);
        junkBytes += tailJunk.length;
        const frames: number[][] = [];
        let counted = 0;
        const errors: string[] = [];
        const f = new MllpFramer({ maxFrameBytes: 1 << 16 }, {
          onFrame: (p) => frames.push([...p]),
          onJunk: (n) => (counted += n),
          onOversized: () => errors.push('oversized'),
          onFrameError: (r) => errors.push(r),
        });
        for (const c of cut(Uint8Array.from(parts), points)) f.push(c);
        assert.deepEqual(frames, items.map(([, p]) => [...p]));
        assert.equal(counted, junkBytes);
        assert.deepEqual(errors, []);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws and never holds more than the limit on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.nat(), { maxLength: 10 }), fc.boolean(), (bytes, points, tolerant) => {
        const f = new MllpFramer({ maxFrameBytes: 1024, tolerantEndBlock: tolerant }, {
          onFrame: (p) => assert.ok(p.length <= 1024),
          onJunk: () => {},
          onOversized: (head, size) => assert.ok(head.length <= 4096 && size > 1024),
          onFrameError: () => {},
        });
        for (const c of cut(bytes, points)) {
          f.push(c);
          assert.ok(f.bufferedBytes <= 1024);
        }
        f.end();
        assert.equal(f.inFrame, false);
      }),
      { numRuns: 500 },
    );
  });
});
