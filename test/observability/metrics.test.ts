/**
 * The registry after a real engine has taken a short mixed load over MLLP: every metric of
 * INTERFACE.md with its type, the buckets, the values the load implies (received, ACKs,
 * duplicates, frame errors, conversions, dead letters, events, queue depth), the worker pool
 * and worker timings collected on scrape, Node's process metrics, and no identifier from
 * the messages in any label.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMetrics, LATENCY_BUCKETS, watchEngine, type PoolStats } from '../../src/metrics.js';
import { observedEngine, parseExposition, sendLoad, valueOf } from './helpers.js';

/** INTERFACE.md "Metrics", with the type each must have. */
const INTERFACE_METRICS: Record<string, string> = {
  pacslink_mllp_connections: 'gauge',
  pacslink_mllp_messages_received_total: 'counter',
  pacslink_mllp_acks_total: 'counter',
  pacslink_mllp_frame_errors_total: 'counter',
  pacslink_mllp_ack_latency_seconds: 'histogram',
  pacslink_queue_append_seconds: 'histogram',
  pacslink_queue_depth: 'gauge',
  pacslink_queue_oldest_unconverted_age_seconds: 'gauge',
  pacslink_converter_messages_total: 'counter',
  pacslink_converter_apply_seconds: 'histogram',
  pacslink_dead_letters: 'gauge',
  pacslink_events_published_total: 'counter',
  pacslink_ws_subscribers: 'gauge',
  pacslink_ws_subscriber_lag: 'gauge',
  pacslink_duplicates_total: 'counter',
  pacslink_native_adapter: 'gauge',
};

/** Added by issue 7: the worker pool and the workers' timings. */
const POOL_METRICS: Record<string, string> = {
  pacslink_converter_parse_seconds: 'histogram',
  pacslink_converter_map_seconds: 'histogram',
  pacslink_converter_workers: 'gauge',
  pacslink_converter_pool_utilization: 'gauge',
  pacslink_converter_pool_queue_size: 'gauge',
  pacslink_converter_ranges_in_flight: 'gauge',
  pacslink_converter_backlog: 'gauge',
};

/** A few of Node's default metrics (prom-client's names, unprefixed). */
const PROCESS_METRICS: Record<string, string> = {
  process_cpu_seconds_total: 'counter',
  process_resident_memory_bytes: 'gauge',
  nodejs_eventloop_lag_p99_seconds: 'gauge',
  nodejs_heap_size_used_bytes: 'gauge',
};

describe('engine metrics', () => {
  it('registers every INTERFACE.md metric with its type and help, and counts a real MLLP load', async (t) => {
    const engine = await observedEngine(t);
    const load = await sendLoad(engine.ports.mllp, 10);
    await engine.converter!.idle();
    const text = await engine.metrics.registry.metrics();
    const families = parseExposition(text);

    for (const [name, type] of Object.entries({ ...INTERFACE_METRICS, ...POOL_METRICS, ...PROCESS_METRICS })) {
      const f = families.get(name);
      assert.ok(f !== undefined, `${name} is registered`);
      assert.equal(f.type, type, `${name} is a ${type}`);
      assert.ok(f.help.length > 10, `${name} has a help text`);
    }

    const messages = load.acks.length; // every frame that reached the listener complete got an ACK
    const l = { listener: 'mllp' };
    assert.equal(valueOf(families, 'pacslink_mllp_messages_received_total', 'pacslink_mllp_messages_received_total', l), messages);
    assert.equal(valueOf(families, 'pacslink_mllp_acks_total', 'pacslink_mllp_acks_total', { ...l, code: 'AA' }), messages);
    assert.deepEqual(new Set(load.acks), new Set(['AA']));
    assert.equal(valueOf(families, 'pacslink_duplicates_total', 'pacslink_duplicates_total', { ...l, kind: 'resend' }), 2);
    assert.equal(valueOf(families, 'pacslink_mllp_frame_errors_total', 'pacslink_mllp_frame_errors_total', { ...l, reason: 'restarted' }), 10);
    assert.equal(valueOf(families, 'pacslink_mllp_connections', 'pacslink_mllp_connections', l), 0, 'the load closed its connection');

    // Histograms: per-message latencies start below a millisecond and reach seconds.
    const ackBuckets = families.get('pacslink_mllp_ack_latency_seconds')!.samples.filter((s) => s.name.endsWith('_bucket'));
    assert.deepEqual(ackBuckets.map((s) => s.labels.le), [...LATENCY_BUCKETS.map(String), '+Inf']);
    assert.equal(LATENCY_BUCKETS[0], 0.0001);
    assert.equal(valueOf(families, 'pacslink_mllp_ack_latency_seconds', 'pacslink_mllp_ack_latency_seconds_count', l), messages);
    // Every message goes through the log's append, resends too (the log finds the duplicate).
    assert.equal(valueOf(families, 'pacslink_queue_append_seconds', 'pacslink_queue_append_seconds_count'), messages);

    // The queue and the converter, read on scrape.
    assert.equal(valueOf(families, 'pacslink_queue_depth', 'pacslink_queue_depth'), load.stored);
    assert.equal(valueOf(families, 'pacslink_converter_backlog', 'pacslink_converter_backlog'), 0);
    assert.equal(valueOf(families, 'pacslink_queue_oldest_unconverted_age_seconds', 'pacslink_queue_oldest_unconverted_age_seconds'), 0);
    assert.equal(valueOf(families, 'pacslink_converter_position', 'pacslink_converter_position'), load.stored);
    assert.equal(valueOf(families, 'pacslink_dead_letters', 'pacslink_dead_letters'), load.broken);
    const converted = families.get('pacslink_converter_messages_total')!.samples;
    assert.equal(converted.reduce((n, s) => n + s.value, 0), load.stored);
    assert.equal(valueOf(families, 'pacslink_converter_messages_total', 'pacslink_converter_messages_total', { type: 'ADT^A04', outcome: 'dead-letter' }), load.broken);
    assert.equal(valueOf(families, 'pacslink_converter_messages_total', 'pacslink_converter_messages_total', { type: 'ADT^A04', outcome: 'applied' }), 10);
    const events = families.get('pacslink_events_published_total')!.samples;
    assert.ok(events.some((s) => s.labels.type === 'patient.created' && s.value === 10), 'one patient.created per A04');
    assert.ok(events.some((s) => s.labels.type === 'message.rejected' && s.value === load.broken), 'one message.rejected per dead letter');

    // The worker pool and the workers' timings.
    assert.equal(valueOf(families, 'pacslink_converter_workers', 'pacslink_converter_workers'), 2);
    assert.equal(valueOf(families, 'pacslink_converter_pool_queue_size', 'pacslink_converter_pool_queue_size'), 0);
    assert.equal(valueOf(families, 'pacslink_converter_ranges_in_flight', 'pacslink_converter_ranges_in_flight'), 0);
    const utilization = valueOf(families, 'pacslink_converter_pool_utilization', 'pacslink_converter_pool_utilization')!;
    assert.ok(utilization > 0 && utilization <= 1, `utilisation ${utilization} in (0, 1]`);
    const transactions = engine.converter!.stats().transactions;
    for (const h of ['pacslink_converter_parse_seconds', 'pacslink_converter_map_seconds', 'pacslink_converter_apply_seconds']) {
      assert.equal(valueOf(families, h, `${h}_count`), transactions, `${h}: one observation per committed transaction`);
      assert.ok(valueOf(families, h, `${h}_sum`)! > 0, `${h} measured time`);
    }
    const stats = engine.converter!.stats();
    assert.ok(Math.abs(valueOf(families, 'pacslink_converter_parse_seconds', 'pacslink_converter_parse_seconds_sum')! - stats.parseNs / 1e9) < 1e-6);

    // Gateway metrics exist before any subscriber: both formats read 0.
    assert.equal(valueOf(families, 'pacslink_ws_subscribers', 'pacslink_ws_subscribers', { format: 'json' }), 0);
    assert.equal(valueOf(families, 'pacslink_ws_subscribers', 'pacslink_ws_subscribers', { format: 'msgpack' }), 0);

    // Node's process metrics are there and plausible.
    assert.ok(valueOf(families, 'process_resident_memory_bytes', 'process_resident_memory_bytes')! > 1e6);

    // Bounded labels: nothing from the messages (control IDs, patient IDs) is a label value.
    const labelValues = new Set([...families.values()].flatMap((f) => f.samples.flatMap((s) => Object.values(s.labels))));
    for (const id of load.identifiers) assert.ok(![...labelValues].some((v) => v.includes(id)), `${id} is not in any label`);
    assert.ok(!text.includes('DOE'), 'no patient name in the metrics');
    const labelNames = new Set([...families.values()].flatMap((f) => f.samples.flatMap((s) => Object.keys(s.labels))));
    for (const n of labelNames) {
      assert.ok(
        ['listener', 'code', 'reason', 'kind', 'type', 'outcome', 'format', 'subscriber', 'port', 'impl', 'le', 'quantile'].includes(n) ||
          /^(space|kind|version|major|minor|patch|type)$/.test(n),
        `label ${n} is one of the bounded ones`,
      );
    }
  });

  it('still answers a scrape after the engine stopped (the scrape-time sources are unbound before storage closes)', async (t) => {
    const engine = await observedEngine(t);
    await sendLoad(engine.ports.mllp, 2);
    await engine.converter!.idle();
    const before = parseExposition(await engine.metrics.registry.metrics());
    assert.equal(valueOf(before, 'pacslink_queue_depth', 'pacslink_queue_depth'), 5);
    await engine.stop();
    const families = parseExposition(await engine.metrics.registry.metrics());
    assert.equal(valueOf(families, 'pacslink_queue_depth', 'pacslink_queue_depth'), 5, 'the last value read is kept');
    assert.equal(engine.metrics.sources, undefined);
  });
});

describe('scrape-time gauges (watchEngine)', () => {
  /** A log holding seqs first..last received at `receivedAt(seq)`. */
  function fakeLog(first: number, last: number, receivedAt: (seq: number) => number) {
    return {
      lastSeq: () => last,
      firstSeq: () => first,
      get: (seq: number) => (seq >= first && seq <= last ? { receivedAt: receivedAt(seq) } : undefined) as never,
    };
  }

  it('computes depth, backlog, the oldest unconverted age and the pool state at scrape time, from the sources bound now', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    let position = 40;
    let pool: PoolStats | undefined = { threads: 3, queueSize: 7, utilization: 0.25, inFlight: 4 };
    const unwatch = watchEngine(metrics, {
      log: fakeLog(11, 50, (seq) => 1_000_000 + seq * 1000),
      converter: { position: () => position, poolStats: () => pool },
      deadLetters: { count: () => 6 },
      now: () => 1_000_000 + 61_000,
    });
    let f = parseExposition(await metrics.registry.metrics());
    const v = (name: string): number | undefined => valueOf(f, name, name);
    assert.equal(v('pacslink_queue_depth'), 40, 'seqs 11..50');
    assert.equal(v('pacslink_converter_backlog'), 10);
    assert.equal(v('pacslink_queue_oldest_unconverted_age_seconds'), 20, 'seq 41 was received 20 s before now');
    assert.equal(v('pacslink_dead_letters'), 6);
    assert.equal(v('pacslink_converter_workers'), 3);
    assert.equal(v('pacslink_converter_pool_queue_size'), 7);
    assert.equal(v('pacslink_converter_pool_utilization'), 0.25);
    assert.equal(v('pacslink_converter_ranges_in_flight'), 4);

    // Caught up: the age is 0. Retention removed seqs the converter has not reached: the oldest left counts.
    position = 50;
    f = parseExposition(await metrics.registry.metrics());
    assert.equal(v('pacslink_queue_oldest_unconverted_age_seconds'), 0);
    assert.equal(v('pacslink_converter_backlog'), 0);
    position = 5;
    f = parseExposition(await metrics.registry.metrics());
    assert.equal(v('pacslink_queue_oldest_unconverted_age_seconds'), 50, 'seq 11, the first stored');

    // No pool (a runner injected by tests): the pool gauges are left alone.
    pool = undefined;
    f = parseExposition(await metrics.registry.metrics());
    assert.equal(v('pacslink_converter_workers'), 3);

    unwatch();
    assert.equal(metrics.sources, undefined);
    f = parseExposition(await metrics.registry.metrics());
    assert.equal(v('pacslink_queue_depth'), 40, 'unbound: the last value is kept, nothing is read');
  });

  it('leaves the converter gauges at 0 when no converter runs, and reads an empty log as depth 0', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    watchEngine(metrics, { log: fakeLog(0, 0, () => 0) });
    const f = parseExposition(await metrics.registry.metrics());
    assert.equal(valueOf(f, 'pacslink_queue_depth', 'pacslink_queue_depth'), 0);
    assert.equal(valueOf(f, 'pacslink_converter_backlog', 'pacslink_converter_backlog'), 0);
    assert.equal(valueOf(f, 'pacslink_queue_oldest_unconverted_age_seconds', 'pacslink_queue_oldest_unconverted_age_seconds'), 0);
  });
});
