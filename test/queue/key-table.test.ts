import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { KeyTable } from '../../src/queue/dedup-index.js';
import { hashDedupKey } from '../../src/queue/schema.js';
import { PendingKeys, type PendingKeyed } from '../../src/queue/pending-keys.js';

/** The values a table holds under `hash`, sorted. */
function valuesOf(table: KeyTable, hash: number): number[] {
  const out: number[] = [];
  table.visit(hash, (v) => out.push(v));
  return out.sort((a, b) => a - b);
}

test('KeyTable matches a model under random adds and removes, with colliding hashes, wrap-around and growth', () => {
  type Op = { add: boolean; hash: number; value: number };
  // Hashes from a small range (and values from a small range) so that probe runs collide,
  // wrap past the end of the array, and removes hit entries in the middle of runs.
  const op = fc.record({ add: fc.boolean(), hash: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constant(0xffffffff)), value: fc.integer({ min: 1, max: 30 }) });
  fc.assert(
    fc.property(fc.array(op, { maxLength: 300 }), (ops: Op[]) => {
      const table = new KeyTable(4);
      const model = new Map<string, number>();
      const keyOf = (h: number, v: number): string => `${h}:${v}`;
      for (const o of ops) {
        const k = keyOf(o.hash, o.value);
        if (o.add) {
          table.add(o.hash, o.value);
          model.set(k, (model.get(k) ?? 0) + 1);
        } else if ((model.get(k) ?? 0) > 0) {
          table.remove(o.hash, o.value);
          const n = model.get(k)! - 1;
          if (n === 0) model.delete(k);
          else model.set(k, n);
        } else {
          table.remove(o.hash, o.value); // absent: nothing happens
        }
        let size = 0;
        for (const n of model.values()) size += n;
        assert.equal(table.size, size);
      }
      for (const h of [...Array.from({ length: 41 }, (_, i) => i), 0xffffffff]) {
        const expected: number[] = [];
        for (const [k, n] of model) {
          const [kh, kv] = k.split(':').map(Number);
          if (kh === h) for (let i = 0; i < n; i++) expected.push(kv!);
        }
        assert.deepEqual(valuesOf(table, h), expected.sort((a, b) => a - b));
      }
    }),
    { numRuns: 300 },
  );
});

test('KeyTable.latest returns the highest confirmed value under a hash, 0 when none is confirmed', () => {
  const table = new KeyTable(8);
  for (const v of [3, 9, 5]) table.add(7, v);
  table.add(8, 100);
  assert.equal(table.latest(7, () => true), 9);
  assert.equal(table.latest(7, (v) => v !== 9), 5);
  assert.equal(table.latest(7, () => false), 0);
  assert.equal(table.latest(99, () => true), 0);
  table.clear();
  assert.equal(table.size, 0);
  assert.equal(table.latest(7, () => true), 0);
});

interface Entry extends PendingKeyed {
  seq: number;
}

function entry(seq: number, key: string): Entry {
  return { seq, dedupKey: key, pendingSlot: -1, keyHash: 0 };
}

test('PendingKeys: the latest entry per key wins, colliding keys stay apart, deleted slots are reused', () => {
  // Two different keys with one FNV-1a hash (found by search; checked here).
  const a = 'HIS\u001fHOSP\u001fCwz9m';
  const b = 'HIS\u001fHOSP\u001fC1kcb0';
  assert.notEqual(a, b);
  assert.equal(hashDedupKey(a), hashDedupKey(b));
  const pending = new PendingKeys<Entry>();
  const a1 = entry(1, a);
  const b2 = entry(2, b);
  const a3 = entry(3, a);
  for (const e of [a1, b2, a3]) pending.add(e, hashDedupKey(e.dedupKey!));
  assert.equal(pending.latest(a), a3);
  assert.equal(pending.latest(b), b2);
  assert.equal(pending.latest('HIS\u001fHOSP\u001fother'), undefined);
  pending.delete(a3);
  assert.equal(pending.latest(a), a1);
  pending.delete(a3); // twice: no effect
  assert.equal(pending.size, 2);
  const c4 = entry(4, 'x');
  pending.add(c4, hashDedupKey('x'));
  assert.equal(c4.pendingSlot, 2, 'the freed slot is reused');
  for (const e of [a1, b2, c4]) pending.delete(e);
  assert.equal(pending.size, 0);
  assert.equal(pending.latest(a), undefined);
  assert.equal(pending.latest(b), undefined);
});
