/**
 * The event hub's protocol over the ws adapter, with a test-controlled event log: replay then
 * live in both formats, topics, the switch-over under concurrent commits (no gap, no
 * duplicate), acknowledgements, durable names across a restart, takeover, refusals.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { open } from 'lmdb';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { MAX_DURABLE_NAMES } from '../../src/gateway/hub.js';
import { POSITIONS_DB } from '../../src/gateway/events-positions.js';
import { ADAPTERS, hubHarness as harness } from './events-harness.js';
import { range, refusal, seqs, subscribe } from './events-client.js';
import { until } from '../listener/helpers.js';

const TOKENS = [
  { token: 'subscriber-token-0001', roles: ['subscribe' as const], name: 'sub' },
  { token: 'reader-token-00000001', roles: ['read' as const], name: 'reader' },
];

for (const { impl, load, skip } of ADAPTERS) {
  const hubHarness = async (...args: Parameters<typeof harness>): Promise<Awaited<ReturnType<typeof harness>>> =>
    harness(args[0], { ...args[1], adapter: await load() });

  describe(`event hub (${impl}): delivery`, { skip }, () => {
    it('replays from= then continues live, in seq order, as JSON text and msgpack binary frames', async (t) => {
      const h = await hubHarness();
      t.after(() => h.close());
      h.commit(5);
      const json = await subscribe(h.port, { from: 2 });
      const msgpack = await subscribe(h.port, { from: 0, format: 'msgpack' });
      await json.waitFor(3);
      await msgpack.waitFor(5);
      h.commit(3, 'report.created');
      await json.waitFor(6);
      await msgpack.waitFor(8);
      assert.deepEqual(seqs(json.events), range(2, 8));
      assert.deepEqual(seqs(msgpack.events), range(0, 8));
      assert.equal(json.wrongKind + msgpack.wrongKind, 0, 'json as text frames, msgpack as binary frames');
      const stored = h.events.range(0, 100);
      assert.deepEqual(msgpack.events, stored, 'msgpack events are {seq, type, time, messageSeq, data} as stored');
      assert.deepEqual(json.events, stored.slice(2));
      assert.deepEqual(Object.keys(json.events[0]!), ['seq', 'type', 'time', 'messageSeq', 'data']);
      await json.close();
      await msgpack.close();
    });

    it('an anonymous subscriber without from gets live events only; topics filter by the type before the dot', async (t) => {
      const h = await hubHarness();
      t.after(() => h.close());
      h.commit(4);
      const all = await subscribe(h.port);
      const reports = await subscribe(h.port, { topics: 'report,patient', from: 0 });
      h.commit(2, 'patient.updated');
      h.commit(2, 'order.updated');
      h.commit(2, 'report.updated');
      await all.waitFor(6);
      await reports.waitFor(4);
      assert.deepEqual(seqs(all.events), range(4, 10));
      assert.deepEqual(reports.events.map((e) => e.type), ['patient.updated', 'patient.updated', 'report.updated', 'report.updated']);
      assert.deepEqual(seqs(reports.events), [5, 6, 9, 10]);
      await all.close();
      await reports.close();
    });

    it('switches from replay to live with no gap and no duplicate while events are committed', { timeout: 60_000 }, async (t) => {
      const h = await hubHarness();
      t.after(() => h.close());
      h.commit(3000, 'order.scheduled', 200);
      let committing = true;
      const committer = (async () => {
        // Small commits on every turn while subscribers replay the backlog and go live.
        while (committing) {
          h.commit(3);
          await new Promise((r) => setImmediate(r));
        }
      })();
      const subs = await Promise.all([
        subscribe(h.port, { from: 0 }),
        subscribe(h.port, { from: 0, format: 'msgpack' }),
        subscribe(h.port, { from: 1500 }),
      ]);
      await until(() => subs.every((s) => s.events.length > 3000), 'subscribers past the backlog', 30_000);
      // Keep committing a while after every subscriber went live.
      const target = h.events.lastSeq() + 300;
      await until(() => h.events.lastSeq() >= target, 'more live commits', 30_000);
      committing = false;
      await committer;
      const last = h.events.lastSeq();
      await Promise.all(subs.map((s, i) => s.waitFor(i === 2 ? last - 1500 : last)));
      assert.deepEqual(seqs(subs[0]!.events), range(0, last));
      assert.deepEqual(seqs(subs[1]!.events), range(0, last));
      assert.deepEqual(seqs(subs[2]!.events), range(1500, last));
      for (const s of subs) await s.close();
    });
  });

  describe(`event hub (${impl}): acknowledgements and durable names`, { skip }, () => {
    it('keeps a named subscriber\'s acknowledged position across a restart and resumes after it', async (t) => {
      let h = await hubHarness();
      const dir = h.dir;
      t.after(() => h.close());
      h.commit(10);
      const a = await subscribe(h.port, { name: 'pacs-1' });
      await a.waitFor(10);
      assert.deepEqual(seqs(a.events), range(0, 10), 'a new name without from starts at 0');
      a.ack(4);
      a.ack(6, true);
      await until(() => h.gateway.hub.subscribers()[0]?.ackedSeq === 6, 'ack 6 recorded');
      const info = h.gateway.hub.subscribers()[0]!;
      assert.equal(info.name, 'pacs-1');
      assert.equal(info.sentSeq, 10);
      const lag = await h.metrics.registry.getSingleMetric('pacslink_ws_subscriber_lag')!.get();
      assert.deepEqual(lag.values.map((v) => [v.labels.subscriber, v.value]), [['pacs-1', 4]]);
      await h.stop();
      await a.closed;
      h = await hubHarness({}, { dir });
      h.commit(2);
      const b = await subscribe(h.port, { name: 'pacs-1' });
      await b.waitFor(6);
      assert.deepEqual(seqs(b.events), range(6, 12), 'resumes after the acknowledged seq');
      const lagAfter = await h.metrics.registry.getSingleMetric('pacslink_ws_subscriber_lag')!.get();
      assert.deepEqual(lagAfter.values.map((v) => v.value), [6], 'lag is known again after a restart');
      // An explicit from overrides the stored position.
      await b.close();
      const c = await subscribe(h.port, { name: 'pacs-1', from: 11 });
      await c.waitFor(1);
      assert.deepEqual(seqs(c.events), [12]);
      await c.close();
    });

    it('acknowledging the last event of its topics also acknowledges the other topics\' events after it', async (t) => {
      const h = await hubHarness();
      t.after(() => h.close());
      h.commit(2, 'report.created');
      h.commit(5, 'order.updated');
      const sub = await subscribe(h.port, { name: 'reports', topics: 'report' });
      await sub.waitFor(2);
      const info = () => h.gateway.hub.subscribers()[0]!;
      await until(() => info().sentSeq === 7, 'replayed past the orders');
      sub.ack(1);
      await until(() => info().ackedSeq === 1, 'ack 1');
      sub.ack(2);
      await until(() => info().ackedSeq === 7, 'ack 2 covers the orders after it');
      h.commit(1, 'report.updated');
      h.commit(3, 'order.updated');
      await sub.waitFor(3);
      sub.ack(8, true);
      await until(() => info().ackedSeq === 11, 'live: ack 8 covers the orders after it');
      const lag = await h.metrics.registry.getSingleMetric('pacslink_ws_subscriber_lag')!.get();
      assert.deepEqual(lag.values.map((v) => v.value), [0]);
      await sub.close();
    });

    it('a second connection with the same name takes over; the first is closed 4009', async (t) => {
      const h = await hubHarness();
      t.after(() => h.close());
      h.commit(3);
      const first = await subscribe(h.port, { name: 'viewer' });
      await first.waitFor(3);
      first.ack(3);
      await until(() => h.gateway.hub.subscribers()[0]?.ackedSeq === 3, 'ack recorded');
      h.commit(1);
      await first.waitFor(4);
      const second = await subscribe(h.port, { name: 'viewer' });
      const closed = await first.closed;
      assert.equal(closed.code, 4009);
      assert.match(closed.reason, /took over subscriber "viewer"/);
      await second.waitFor(1);
      assert.deepEqual(seqs(second.events), [4], 'the new connection resumes after the last ack');
      await second.close();
    });

    it('closes 4400 on an ack that is not {"ack": SEQ} or is beyond what was sent', async (t) => {
      const h = await hubHarness();
      t.after(() => h.close());
      h.commit(2);
      const bad = await subscribe(h.port, { from: 0 });
      await bad.waitFor(2);
      bad.ws.send('{"ack":"2"}');
      const c1 = await bad.closed;
      assert.equal(c1.code, 4400);
      assert.match(c1.reason, /ack/);
      const ahead = await subscribe(h.port, { from: 0 });
      await ahead.waitFor(2);
      ahead.ack(3);
      const c2 = await ahead.closed;
      assert.equal(c2.code, 4400);
      assert.equal(c2.reason, 'ack 3 is beyond the last event sent (2)');
      const garbage = await subscribe(h.port, { from: 0, format: 'msgpack' });
      garbage.ws.send(Buffer.from([0xc1]), { binary: true });
      assert.equal((await garbage.closed).code, 4400);
    });
  });

  describe(`event hub (${impl}): stats and metrics`, { skip }, () => {
    it('lists subscribers for /api/stats and counts them by format in ws_subscribers', async (t) => {
      const h = await hubHarness();
      t.after(() => h.close());
      h.commit(2);
      const a = await subscribe(h.port, { name: 'a', topics: 'order', format: 'msgpack' });
      const b = await subscribe(h.port, {});
      await a.waitFor(2);
      a.ack(1);
      await until(() => h.ctx.subscribers().find((s) => s.name === 'a')?.ackedSeq === 1, 'ack');
      const list = h.ctx.subscribers().sort((x, y) => (x.name ?? '').localeCompare(y.name ?? ''));
      assert.deepEqual(
        list.map(({ connectedAt, ...rest }) => (assert.ok(!Number.isNaN(Date.parse(connectedAt))), rest)),
        [
          { topics: ['patient', 'visit', 'order', 'report', 'prefetch', 'sync', 'message'], format: 'json', sentSeq: 2, bufferedBytes: 0 },
          { name: 'a', ackedSeq: 1, topics: ['order'], format: 'msgpack', sentSeq: 2, bufferedBytes: 0 },
        ],
      );
      const gauge = async (): Promise<Array<[string | number | undefined, number]>> =>
        (await h.metrics.registry.getSingleMetric('pacslink_ws_subscribers')!.get()).values.map((v) => [v.labels.format, v.value]);
      assert.deepEqual((await gauge()).sort(), [['json', 1], ['msgpack', 1]]);
      await a.close();
      await b.close();
      await until(() => h.ctx.subscribers().length === 0, 'both gone');
      assert.deepEqual((await gauge()).sort(), [['json', 0], ['msgpack', 0]]);
    });

    it('sends msgpack events as plain maps (not msgpackr records)', async (t) => {
      const h = await hubHarness();
      t.after(() => h.close());
      h.commit(1);
      const ws = new WebSocket(`ws://127.0.0.1:${h.port}/events?from=0&format=msgpack`);
      const [data, binary] = await new Promise<[Buffer, boolean]>((resolve) => ws.once('message', (d: Buffer, b: boolean) => resolve([d, b])));
      assert.equal(binary, true);
      assert.equal(data[0], 0x85, 'a fixmap of the five event fields');
      ws.close();
    });
  });

  describe(`event hub (${impl}): refused upgrades`, { skip }, () => {
    it('refuses a new durable name 403 once the limit of names is reached; known names still connect', async (t) => {
      const h0 = await hubHarness();
      const dir = h0.dir;
      await h0.stop();
      const env = open({ path: join(dir, 'repository'), maxDbs: 16 });
      const db = env.openDB<{ acked: number; updatedAt: string }, string>(POSITIONS_DB, { encoding: 'msgpack' });
      await env.transaction(() => {
        for (let i = 0; i < MAX_DURABLE_NAMES; i++) db.put(`name-${i}`, { acked: 0, updatedAt: new Date().toISOString() });
      });
      await env.close();
      const h = await hubHarness({}, { dir });
      t.after(() => h.close());
      const r = await refusal(h.port, { name: 'one-too-many' });
      assert.equal(r.status, 403);
      assert.equal(r.body.error.code, 'too-many-names');
      const known = await subscribe(h.port, { name: 'name-7' });
      await known.close();
    });


    it('answers 401 without a valid token, 403 without the subscribe role, 400 naming the bad parameter', async (t) => {
      const h = await hubHarness({ tokens: TOKENS });
      t.after(() => h.close());
      h.commit(1);
      const none = await refusal(h.port);
      assert.equal(none.status, 401);
      assert.equal(none.body.error.code, 'unauthorized');
      const wrong = await refusal(h.port, {}, { authorization: 'Bearer not-a-valid-token-at-all' });
      assert.equal(wrong.status, 401);
      const reader = await refusal(h.port, {}, { authorization: 'Bearer reader-token-00000001' });
      assert.equal(reader.status, 403);
      assert.match(reader.body.error.message, /subscribe role/);
      const auth = { authorization: 'Bearer subscriber-token-0001' };
      const cases: Array<[Record<string, string | number>, RegExp]> = [
        [{ topics: 'order,studies' }, /unknown topic "studies"/],
        [{ topics: '' }, /topics/],
        [{ from: -1 }, /from must be/],
        [{ from: 'abc' }, /from must be/],
        [{ from: 5 }, /from 5 is beyond the last event \(1\)/],
        [{ name: 'a b' }, /name must be/],
        [{ format: 'xml' }, /format must be/],
        [{ since: 3 }, /unknown query parameter "since"/],
      ];
      for (const [query, message] of cases) {
        const r = await refusal(h.port, query, auth);
        assert.equal(r.status, 400, JSON.stringify(query));
        assert.equal(r.body.error.code, 'bad-request');
        assert.match(r.body.error.message, message);
      }
      const ok = await subscribe(h.port, { from: 0, access_token: 'subscriber-token-0001' });
      await ok.waitFor(1);
      await ok.close();
    });

    it('answers 503 past maxSubscribers and when the converter (the event log) is disabled', async (t) => {
      const h = await hubHarness({ maxSubscribers: 1 });
      t.after(() => h.close());
      const one = await subscribe(h.port);
      const r = await refusal(h.port);
      assert.equal(r.status, 503);
      assert.equal(r.body.error.code, 'too-many-subscribers');
      await one.close();
      await until(() => h.gateway.hub.subscribers().length === 0, 'subscriber gone');
      const again = await subscribe(h.port);
      await again.close();
      const off = await hubHarness({}, { withStore: false });
      t.after(() => off.close());
      const r2 = await refusal(off.port);
      assert.equal(r2.status, 503);
      assert.match(r2.body.error.message, /converter is disabled/);
    });
  });
}
