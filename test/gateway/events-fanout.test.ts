/** bench/fanout.bench.ts runs end to end on a small load and returns one sane row per adapter and count. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fanoutReport, runFanout } from '../../bench/fanout.bench.js';

describe('fan-out benchmark', () => {
  it('delivers every event to every subscriber in a child process and reports rate and latency', { timeout: 60_000 }, async () => {
    const result = await runFanout({ subscribers: [1, 3], adapters: ['ws'], events: 300, rate: 500, latencySeconds: 0.2, format: 'msgpack' });
    assert.deepEqual(result.rows.map((r) => [r.adapter, r.format, r.subscribers, r.cutOff]), [['ws', 'msgpack', 1, 0], ['ws', 'msgpack', 3, 0]]);
    for (const r of result.rows) {
      assert.ok(r.eventsPerSec > 0 && r.deliveriesPerSec > 0);
      assert.ok(Number.isFinite(r.p99Ms) && r.p99Ms >= r.p50Ms && r.maxMs >= r.p99Ms);
    }
    const report = fanoutReport(result);
    assert.equal(report.suite, 'fanout');
    assert.deepEqual(report.tables[0]!.rows.map((r) => r.slice(0, 3)), [['ws', 'msgpack', '1'], ['ws', 'msgpack', '3']]);
  });
});
