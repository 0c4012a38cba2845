/**
 * grafana/: the dashboard can never drift from the code. Every PromQL expression of every
 * panel selects only metric names a real engine registers (read from its registry after a
 * short MLLP load), every panel and target uses the `${datasource}` variable, the layout
 * fits Grafana's 24-column grid without overlaps, the panels the issue asks for are there,
 * and the provisioning files point at the dashboard and a Prometheus data source.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { allPanels, dashboardQueries, loadDashboard, metricNamesIn, observedEngine, ROOT, sendLoad } from './helpers.js';

/** Names a registry exposes: histograms as _bucket, _sum and _count (and the family name Grafana may show). */
async function exposedNames(t: import('node:test').TestContext): Promise<Set<string>> {
  const engine = await observedEngine(t);
  await sendLoad(engine.ports.mllp, 2);
  await engine.converter!.idle();
  const names = new Set<string>();
  for (const m of await engine.metrics.registry.getMetricsAsJSON()) {
    names.add(m.name);
    const type = String(m.type);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(m.name + s);
  }
  return names;
}

describe('grafana/pacslink-alerts.yml', () => {
  it('selects only metrics the engine registers (and up)', async (t) => {
    const rules = await readFile(new URL('grafana/pacslink-alerts.yml', ROOT), 'utf8');
    const exprs = [...rules.matchAll(/^\s+expr: (.+)$/gm)].map((m) => m[1]!);
    assert.equal(exprs.length, 6);
    const registered = await exposedNames(t);
    registered.add('up');
    for (const expr of exprs) {
      const names = metricNamesIn(expr);
      assert.ok(names.length > 0, expr);
      for (const n of names) assert.ok(registered.has(n), `${n} in ${expr} is not a metric the engine registers`);
    }
  });
});

describe('metricNamesIn (PromQL metric names)', () => {
  it('finds selected metrics and skips functions, aggregation labels, matchers, ranges and keywords', () => {
    assert.deepEqual(
      metricNamesIn('histogram_quantile(0.99, sum by (le, listener) (rate(pacslink_mllp_ack_latency_seconds_bucket{instance=~"$instance",code="AA"}[$__rate_interval])))'),
      ['pacslink_mllp_ack_latency_seconds_bucket'],
    );
    assert.deepEqual(
      metricNamesIn('sum(rate(a_sum[5m]) + rate(b_sum[5m])) / on (instance) group_left sum without (job) (c) or vector(0) unless d offset 5m'),
      ['a_sum', 'b_sum', 'c', 'd'],
    );
    assert.deepEqual(metricNamesIn('max by (port, impl) (pacslink_native_adapter{x="rate(y)"}) == 1'), ['pacslink_native_adapter']);
  });
});

describe('grafana/dashboards/pacslink.json', () => {
  it('selects only metrics the engine registers, in every panel and variable', async (t) => {
    const dashboard = await loadDashboard();
    const registered = await exposedNames(t);
    const queries = dashboardQueries(dashboard);
    assert.ok(queries.length >= 20, `${queries.length} queries`);
    for (const q of queries) {
      const names = metricNamesIn(q.expr);
      assert.ok(names.length > 0, `${q.panel} ${q.refId} selects a metric: ${q.expr}`);
      for (const n of names) assert.ok(registered.has(n), `${q.panel} ${q.refId}: ${n} is not a metric the engine registers`);
    }
  });

  it('has the panels issue 7 asks for', async () => {
    const dashboard = await loadDashboard();
    const used = new Set(dashboardQueries(dashboard).flatMap((q) => metricNamesIn(q.expr)));
    for (const name of [
      'pacslink_mllp_messages_received_total', // ingest rate
      'pacslink_mllp_acks_total', // ACK codes
      'pacslink_mllp_ack_latency_seconds_bucket', // ACK latency percentiles
      'pacslink_queue_depth',
      'pacslink_queue_oldest_unconverted_age_seconds',
      'pacslink_converter_messages_total', // conversion rate
      'pacslink_dead_letters',
      'pacslink_converter_workers', // worker pool
      'pacslink_converter_pool_queue_size',
      'pacslink_ws_subscribers',
      'pacslink_ws_subscriber_lag',
      'pacslink_events_published_total',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
    ]) {
      assert.ok(used.has(name), `a panel shows ${name}`);
    }
    const latency = allPanels(dashboard).find((p) => p.title === 'ACK latency');
    assert.deepEqual(
      latency?.targets?.map((x) => /histogram_quantile\(([\d.]+),/.exec(x.expr)?.[1]),
      ['0.5', '0.95', '0.99'],
      'ACK latency shows p50, p95 and p99',
    );
  });

  it('uses the ${datasource} variable everywhere, rates over $__rate_interval, and lays panels out without overlap', async () => {
    const dashboard = await loadDashboard();
    const dsVar = dashboard.templating.list.find((v) => v.name === 'datasource');
    assert.equal(dsVar?.type, 'datasource');
    assert.equal(dsVar?.query, 'prometheus');
    const ids = new Set<number>();
    const boxes: Array<{ title: string; x: number; y: number; w: number; h: number }> = [];
    for (const p of allPanels(dashboard)) {
      assert.ok(!ids.has(p.id), `panel id ${p.id} is unique`);
      ids.add(p.id);
      assert.ok(p.gridPos !== undefined, `${p.title} has a position`);
      const g = p.gridPos;
      assert.ok(g.x >= 0 && g.w > 0 && g.x + g.w <= 24, `${p.title} fits the 24-column grid`);
      for (const b of boxes) {
        const overlap = g.x < b.x + b.w && b.x < g.x + g.w && g.y < b.y + b.h && b.y < g.y + g.h;
        assert.ok(!overlap, `${p.title} overlaps ${b.title}`);
      }
      boxes.push({ title: p.title, ...g });
      if (p.type === 'row') continue;
      assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, `${p.title} uses the data source variable`);
      assert.ok((p.targets ?? []).length > 0, `${p.title} has queries`);
      for (const target of p.targets ?? []) {
        assert.deepEqual(target.datasource, { type: 'prometheus', uid: '${datasource}' }, `${p.title} ${target.refId}`);
        for (const range of target.expr.matchAll(/\[([^\]]+)\]/g)) assert.equal(range[1], '$__rate_interval', `${p.title}: rate windows follow the scrape interval`);
        assert.match(target.expr, /instance=~"\$instance"/, `${p.title} ${target.refId} follows the instance variable`);
      }
    }
  });

  it('is provisioned: a dashboard provider and a Prometheus data source', async () => {
    const provider = await readFile(new URL('grafana/provisioning/dashboards/pacslink.yml', ROOT), 'utf8');
    assert.match(provider, /^apiVersion: 1$/m);
    assert.match(provider, /^\s+type: file$/m);
    assert.match(provider, /^\s+path: \S+$/m);
    const datasource = await readFile(new URL('grafana/provisioning/datasources/prometheus.yml', ROOT), 'utf8');
    assert.match(datasource, /^apiVersion: 1$/m);
    assert.match(datasource, /^\s+type: prometheus$/m);
    assert.match(datasource, /^\s+url: \S+$/m);
    const scrape = await readFile(new URL('grafana/prometheus.yml', ROOT), 'utf8');
    assert.match(scrape, /targets: \['127\.0\.0\.1:8080'\]/);
    assert.match(scrape, /metrics_path: \/metrics/);
  });
});
