import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FILTER_BITS_LOG2, HashFilter } from '../../src/queue/hash-filter.js';

test('a hash filter says "maybe" to everything until ready, then only to hashes sharing the top bits of one added', () => {
  const filter = new HashFilter();
  assert.equal(filter.ready, false);
  assert.equal(filter.mayHave(0x12345678), true);
  filter.add(0x12345678);
  filter.markReady();
  assert.equal(filter.ready, true);
  assert.equal(filter.mayHave(0x12345678), true);
  // Same top FILTER_BITS_LOG2 bits: the filter cannot tell them apart.
  assert.equal(filter.mayHave(0x12345678 ^ ((1 << (32 - FILTER_BITS_LOG2)) - 1)), true);
  assert.equal(filter.mayHave(0x12345678 ^ (1 << (32 - FILTER_BITS_LOG2))), false);
  assert.equal(filter.mayHave(0), false);
  assert.equal(filter.mayHave(0xffffffff), false);
  filter.add(0xffffffff);
  filter.add(0);
  assert.equal(filter.mayHave(0xffffffff), true);
  assert.equal(filter.mayHave(0), true);
});

test('a hash filter shares its bits and state through its memory', () => {
  const a = new HashFilter();
  const b = new HashFilter(a.memory);
  a.add(42 << 8);
  b.markReady();
  assert.equal(a.ready, true);
  assert.equal(b.mayHave(42 << 8), true);
  assert.equal(b.mayHave(43 << 8), false);
});
