import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { addCountTallies, countTally, TallyHistogram } from '../../src/metric-tally.js';
import { LATENCY_BUCKETS } from '../../src/metrics.js';

// On a bound, just above and below one, zero, above the last bound, and a spread of
// sub-millisecond to second values: every bucket edge case of `le`.
const OBSERVATIONS = [0, 0.0001, 0.00010001, 0.0002, 0.00025, 0.0007, 0.001, 0.003, 0.0099, 0.01, 0.4, 1, 2.5, 9.99, 10, 10.5, 1234];

test('a tally histogram writes the same exposition as a prom-client histogram given the same observations', async () => {
  const ours = new Registry();
  const theirs = new Registry();
  const tally = new TallyHistogram({ name: 'h_seconds', help: 'help text', labelNames: ['listener'], buckets: LATENCY_BUCKETS, registers: [ours] });
  const reference = new Histogram({ name: 'h_seconds', help: 'help text', labelNames: ['listener'], buckets: [...LATENCY_BUCKETS], registers: [theirs] });
  const plainTally = new TallyHistogram({ name: 'p_seconds', help: 'no labels', buckets: [0.5, 1], registers: [ours] });
  const plainReference = new Histogram({ name: 'p_seconds', help: 'no labels', buckets: [0.5, 1], registers: [theirs] });
  // Series are written in the order they were created: bound here in the order the
  // reference sees them first.
  const b = tally.labels({ listener: 'orders' });
  const a = tally.labels({ listener: 'adt' });
  OBSERVATIONS.forEach((v, i) => {
    (i % 3 === 0 ? b : a).observe(v);
    reference.observe({ listener: i % 3 === 0 ? 'orders' : 'adt' }, v);
    plainTally.observe(v);
    plainReference.observe(v);
  });
  assert.equal(await ours.metrics(), await theirs.metrics());
  // The same values as JSON too (prom-client adds `exemplar: null`, which a tally has no use for).
  const json = async (r: Registry): Promise<unknown> =>
    (await r.getMetricsAsJSON()).map((m) => ({ ...m, values: m.values.map((v) => ({ labels: v.labels, value: v.value, metricName: (v as { metricName?: string }).metricName })) }));
  assert.deepEqual(await json(ours), await json(theirs));
  // Reads are not destructive, and later observations add to the earlier ones.
  a.observe(0.002);
  reference.observe({ listener: 'adt' }, 0.002);
  assert.equal(await ours.metrics(), await theirs.metrics());
});

test('a tally histogram refuses what a prom-client histogram refuses, and reset zeroes its series', async () => {
  const registry = new Registry();
  const h = new TallyHistogram({ name: 'r_seconds', help: 'h', labelNames: ['listener'], buckets: [1, 2], registers: [registry] });
  assert.throws(() => h.labels({ other: 'x' } as never), TypeError);
  assert.throws(() => h.labels({ listener: 'a', extra: 'b' } as never), TypeError);
  assert.throws(() => h.observe(1), TypeError, 'a labelled histogram is observed through a series');
  const series = h.labels({ listener: 'a' });
  assert.throws(() => series.observe(Number.NaN), TypeError);
  assert.throws(() => series.observe(Number.POSITIVE_INFINITY), TypeError);
  assert.throws(() => new TallyHistogram({ name: 'bad', help: 'h', buckets: [2, 1], registers: [] }), RangeError);
  assert.throws(() => new TallyHistogram({ name: 'r_seconds', help: 'h', buckets: [1], registers: [registry] }), /already been registered/);
  series.observe(1.5);
  assert.match(await registry.metrics(), /r_seconds_count\{listener="a"\} 1\n/);
  registry.resetMetrics();
  assert.match(await registry.metrics(), /r_seconds_count\{listener="a"\} 0\n/);
  series.observe(0.5);
  assert.match(await registry.metrics(), /r_seconds_bucket\{le="1",listener="a"\} 1\n/);
});

test('count tallies reach their counter on every read, exactly once each', async () => {
  const registry = new Registry();
  const counter = new Counter({ name: 'c_total', help: 'h', labelNames: ['listener', 'code'], registers: [registry], collect: addCountTallies });
  const aa = countTally(counter, { listener: 'adt', code: 'AA' });
  const ar = countTally(counter, { listener: 'adt', code: 'AR' });
  const valueOf = async (code: string): Promise<number | undefined> =>
    (await counter.get()).values.find((v) => v.labels.code === code)?.value;
  assert.equal(await valueOf('AR'), 0, 'a bound series reads 0 before its first count');
  aa.inc();
  aa.inc();
  aa.inc(3);
  assert.equal(await valueOf('AA'), 5);
  assert.equal(await valueOf('AA'), 5, 'a second read adds nothing');
  ar.inc();
  aa.inc();
  assert.match(await registry.metrics(), /c_total\{listener="adt",code="AA"\} 6\n/);
  assert.equal(await valueOf('AR'), 1);
  assert.throws(() => aa.inc(-1), RangeError);
  assert.throws(() => aa.inc(Number.NaN), RangeError);
  assert.throws(() => countTally(counter, { listener: 'adt', nope: 'x' } as never), /label/i);
  assert.equal(await valueOf('AA'), 6, 'refused counts changed nothing');
});
