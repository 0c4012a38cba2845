/**
 * WebSocket `/events` end to end, under each gateway adapter: HL7 orders sent over MLLP to a
 * real engine appear at subscribers as events, in order, in both formats; from= replay; a
 * named subscriber resumes after its acknowledged seq across an engine restart; subscribers
 * joining during ingest switch from replay to live with no gap and no duplicate; a
 * subscriber that stops reading is cut off (4008) while ACKs and another subscriber carry on.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { EngineInput } from '../../src/config.js';
import type { EngineEvent } from '../../src/events/types.js';
import { MllpClient, readAck } from '../../src/mllp/client.js';
import { testEngine, until, type TestEngine } from '../listener/helpers.js';
import { ADAPTERS } from './events-harness.js';
import { orderMessage, range, refusal, sendOrders, seqs, subscribe } from './events-client.js';

const KiB = 1024;

function accessionOf(e: EngineEvent): string | undefined {
  return (e.data.order as { accession?: string } | undefined)?.accession;
}

/** Waits until the converter has applied inbound message `seq` and returns the last event seq. */
async function converted(e: TestEngine, seq: number): Promise<number> {
  await until(() => e.engine.converter!.position() >= seq, `message ${seq} converted`, 60_000);
  return e.engine.store!.events.lastSeq();
}

/** The seqs in the event log after `after` whose topic is one of `topics` (all when absent). */
function logSeqs(e: TestEngine, after: number, topics?: string[]): number[] {
  return e.engine.store!.events.range(after, 1_000_000).filter((ev) => topics === undefined || topics.includes(ev.type.split('.')[0]!)).map((ev) => ev.seq);
}

for (const { impl: adapter, skip } of ADAPTERS) {
  const start = (engine: EngineInput = {}, dataDir?: string): Promise<TestEngine> =>
    testEngine(undefined, {}, { ...engine, ...(dataDir !== undefined ? { dataDir } : {}), http: { port: 0, adapter, ...(engine.http as object) } });

  describe(`/events end to end (${adapter} adapter)`, { skip }, () => {
    it('orders sent over MLLP arrive as events in order, as JSON and as msgpack', { timeout: 60_000 }, async (t) => {
      const e = await start();
      t.after(() => e.close());
      assert.equal(e.engine.gateway.impl, adapter);
      const json = await subscribe(e.engine.ports.http, { from: 0 });
      const msgpack = await subscribe(e.engine.ports.http, { format: 'msgpack', topics: 'order' });
      await sendOrders(e.port, 1, 20);
      const last = await converted(e, 20);
      await json.waitFor(last);
      await msgpack.waitFor(20);
      assert.deepEqual(seqs(json.events), range(0, last));
      assert.deepEqual(json.events, e.engine.store!.events.range(0, 1000), 'the events as the log holds them');
      assert.deepEqual(
        json.events.filter((ev) => /^(patient|order)\./.test(ev.type)).map((ev) => `${ev.type}:${ev.messageSeq}`),
        range(0, 20).flatMap((i) => [`patient.created:${i}`, `order.scheduled:${i}`]),
      );
      assert.deepEqual(msgpack.events.map(accessionOf), range(0, 20).map((i) => `ACC${i}`));
      assert.deepEqual(msgpack.events, json.events.filter((ev) => ev.type.startsWith('order.')), 'both formats carry the same events');
      assert.equal(json.wrongKind + msgpack.wrongKind, 0);
      // A late subscriber replays what it missed.
      const late = await subscribe(e.engine.ports.http, { from: 30, topics: 'patient,order' });
      const expected = logSeqs(e, 30, ['patient', 'order']);
      await late.waitFor(expected.length);
      assert.deepEqual(seqs(late.events), expected);
      await Promise.all([json.close(), msgpack.close(), late.close()]);
    });

    it('a named subscriber that disconnects, even across an engine restart, resumes after its last ack and misses nothing', { timeout: 90_000 }, async (t) => {
      const dir = await mkdtemp(join(tmpdir(), 'pacslink-events-'));
      t.after(() => rm(dir, { recursive: true, force: true }));
      let e = await start({}, dir);
      t.after(() => e.close());
      await sendOrders(e.port, 1, 5);
      const last1 = await converted(e, 5);
      const a = await subscribe(e.engine.ports.http, { name: 'viewer', format: 'msgpack' });
      await a.waitFor(last1);
      assert.deepEqual(seqs(a.events), range(0, last1));
      a.ack(7, true);
      await until(() => e.engine.gateway.hub.subscribers()[0]?.ackedSeq === 7, 'ack recorded');
      await a.close();
      // Events committed while it is away are kept for it.
      await sendOrders(e.port, 6, 8);
      const last2 = await converted(e, 8);
      const b = await subscribe(e.engine.ports.http, { name: 'viewer' });
      await b.waitFor(last2 - 7);
      assert.deepEqual(seqs(b.events), range(7, last2));
      b.ack(12);
      await until(() => e.engine.gateway.hub.subscribers()[0]?.ackedSeq === 12, 'ack recorded');
      await e.close();
      const closed = await b.closed;
      assert.equal(closed.code, 1001, 'the engine going down closes subscribers 1001');
      e = await start({}, dir);
      await sendOrders(e.port, 9, 9);
      const last3 = await converted(e, 9);
      const c = await subscribe(e.engine.ports.http, { name: 'viewer' });
      await c.waitFor(last3 - 12);
      assert.deepEqual(seqs(c.events), range(12, last3), 'resumed after the ack kept across the restart');
      await c.close();
    });

    it('subscribers joining during ingest switch from replay to live with no gap and no duplicate', { timeout: 120_000 }, async (t) => {
      const e = await start();
      t.after(() => e.close());
      await sendOrders(e.port, 1, 100);
      const ingest = Promise.all([sendOrders(e.port, 101, 250), sendOrders(e.port, 1001, 1150)]);
      const subs = [];
      const queries: Array<Record<string, string | number>> = [{ from: 0 }, { from: 0, format: 'msgpack' }, { from: 50 }, {}];
      for (const [i, query] of queries.entries()) {
        subs.push({ from: query.from as number | undefined, sub: await subscribe(e.engine.ports.http, query) });
        await until(() => e.engine.store!.events.lastSeq() >= 200 + 60 * i, 'ingest moving on', 60_000);
      }
      await ingest;
      const last = await converted(e, 400);
      for (const { from, sub } of subs) {
        if (from === undefined) {
          // Live only: from whatever was last when it joined, then everything.
          await until(() => sub.events.at(-1)?.seq === last, 'the live subscriber at the end');
          const first = sub.events[0]!.seq;
          assert.deepEqual(seqs(sub.events), range(first - 1, last));
        } else {
          await sub.waitFor(last - from);
          assert.deepEqual(seqs(sub.events), range(from, last));
        }
      }
      await Promise.all(subs.map((s) => s.sub.close()));
    });

    it('a subscriber that stops reading is cut off with 4008 while ACKs and another subscriber carry on', { timeout: 120_000 }, async (t) => {
      const e = await start({ http: { subscriberBufferBytes: 64 * KiB } });
      t.after(() => e.close());
      const slow = await subscribe(e.engine.ports.http, { from: 0 });
      const fast = await subscribe(e.engine.ports.http, { from: 0, format: 'msgpack' });
      const socket = (slow.ws as unknown as { _socket: Socket })._socket;
      socket.pause();
      const events = e.engine.store!.events;
      const cut = (): boolean => {
        // Cut off: its sentSeq stays behind (ws keeps it listed until it closes), or gone (uws).
        const info = e.engine.gateway.hub.subscribers().find((s) => s.format === 'json');
        return info === undefined || info.sentSeq < events.lastSeq();
      };
      const client = await MllpClient.connect({ host: '127.0.0.1', port: e.port });
      let n = 0;
      // Bounded: 32 KiB names until the slow reader's buffers are full (a few MiB).
      while (!cut() && n < 1000) {
        n++;
        assert.equal(readAck(await client.send(orderMessage(n, 32 * KiB))).code, 'AA');
        await fast.waitFor(await converted(e, n));
      }
      assert.ok(cut(), `the slow subscriber was cut off (after ${n} orders)`);
      // It reads again (within the grace period), so it gets the close frame behind its data.
      socket.resume();
      for (let i = 0; i < 20; i++) {
        n++;
        assert.equal(readAck(await client.send(orderMessage(n, 32 * KiB))).code, 'AA', 'ACKs keep coming');
      }
      await client.close();
      const last = await converted(e, n);
      await fast.waitFor(last);
      assert.deepEqual(seqs(fast.events), range(0, last));
      const closed = await slow.closed;
      assert.equal(closed.code, 4008);
      assert.match(closed.reason, /fell behind/);
      assert.deepEqual(seqs(slow.events), range(0, slow.events.length), 'a gapless prefix');
      // Reconnecting after the last seq received gets the rest.
      const resumed = await subscribe(e.engine.ports.http, { from: slow.events.length });
      await resumed.waitFor(last - slow.events.length);
      assert.deepEqual(seqs([...slow.events, ...resumed.events]), range(0, last));
      await Promise.all([fast.close(), resumed.close()]);
    });

    it('refuses upgrades 401 without a token, 403 without the subscribe role, 400 on a bad query', { timeout: 30_000 }, async (t) => {
      const e = await start({
        http: {
          tokens: [
            { token: 'subscriber-token-0001', roles: ['subscribe'], name: 'sub' },
            { token: 'reader-token-00000001', roles: ['read'], name: 'reader' },
          ],
        },
      });
      t.after(() => e.close());
      const port = e.engine.ports.http;
      assert.equal((await refusal(port)).status, 401);
      assert.equal((await refusal(port, {}, { authorization: 'Bearer reader-token-00000001' })).status, 403);
      const bad = await refusal(port, { topics: 'orders' }, { authorization: 'Bearer subscriber-token-0001' });
      assert.equal(bad.status, 400);
      assert.deepEqual(bad.body, { error: { code: 'bad-request', message: 'topics: unknown topic "orders" (known: patient, visit, order, report, prefetch, sync, message)' } });
      const ok = await subscribe(port, {}, { authorization: 'Bearer subscriber-token-0001' });
      await ok.close();
    });
  });
}
