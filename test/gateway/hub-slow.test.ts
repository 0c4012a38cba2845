/**
 * A subscriber that stops reading is cut off (close 4008 with a reason) once its send buffer
 * passes `subscriberBufferBytes`, while commits and another subscriber carry on; what it did
 * receive is a gapless prefix, and it resumes from its acknowledged position.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { ADAPTERS, hubHarness as harness } from './events-harness.js';
import { range, seqs, subscribe } from './events-client.js';

const KiB = 1024;

for (const { impl, load, skip } of ADAPTERS) {
  const hubHarness = async (...args: Parameters<typeof harness>): Promise<Awaited<ReturnType<typeof harness>>> =>
    harness(args[0], { ...args[1], adapter: await load() });

  describe(`event hub (${impl}): slow subscribers`, { skip }, () => {
    it('cuts off a subscriber that stops reading with 4008; the other subscriber gets every event', { timeout: 120_000 }, async (t) => {
      const h = await hubHarness({ subscriberBufferBytes: 64 * KiB });
      t.after(() => h.close());
      const slow = await subscribe(h.port, { name: 'slow' });
      const fast = await subscribe(h.port, { from: 0, format: 'msgpack' });
      const socket = (slow.ws as unknown as { _socket: Socket })._socket;
      socket.pause();
      const slowInfo = () => h.gateway.hub.subscribers().find((s) => s.name === 'slow');
      // A live subscriber has been sent everything committed; once cut off its sentSeq stays behind.
      const cut = () => (slowInfo()?.sentSeq ?? 0) < h.events.lastSeq();
      let n = 0;
      // Bounded: 32 KiB events until the kernel's buffers and 64 KiB more are full (a few MiB).
      while (!cut() && n < 2000) {
        h.commit(1, 'order.scheduled', 32 * KiB);
        n++;
        await fast.waitFor(n);
      }
      assert.ok(cut(), `the slow subscriber was cut off (after ${n} events)`);
      // It reads again (within the grace period), so it gets the close frame behind its data.
      socket.resume();
      h.commit(20, 'order.scheduled', 32 * KiB);
      n += 20;
      await fast.waitFor(n);
      const closed = await slow.closed;
      assert.equal(closed.code, 4008);
      assert.match(closed.reason, /fell behind .*name=slow/);
      assert.ok(slow.events.length > 0 && slow.events.length < n);
      assert.deepEqual(seqs(slow.events), range(0, slow.events.length), 'what the slow subscriber got has no gap');
      assert.deepEqual(seqs(fast.events), range(0, n));
      // It had acknowledged nothing: reconnecting by name replays everything.
      const again = await subscribe(h.port, { name: 'slow' });
      await again.waitFor(n);
      assert.deepEqual(seqs(again.events), range(0, n));
      await again.close();
      await fast.close();
    });

    it('replays a backlog far larger than the send-buffer limit at the reader\'s pace, without cutting it off', { timeout: 60_000 }, async (t) => {
      const h = await hubHarness({ subscriberBufferBytes: 64 * KiB });
      t.after(() => h.close());
      for (let i = 0; i < 40; i++) h.commit(50, 'order.scheduled', 8 * KiB);
      const reader = await subscribe(h.port, { from: 0 });
      const socket = (reader.ws as unknown as { _socket: Socket })._socket;
      // A reader that stops now and then: the replay waits for it instead of cutting it off.
      socket.pause();
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(reader.events.length < 2000, 'the replay did not run ahead of a stopped reader');
      socket.resume();
      await reader.waitFor(2000);
      h.commit(5);
      await reader.waitFor(2005);
      assert.deepEqual(seqs(reader.events), range(0, 2005));
      await reader.close();
    });

    it('terminates a cut-off subscriber that does not take its close frame', { timeout: 60_000 }, async (t) => {
      const h = await hubHarness({ subscriberBufferBytes: 64 * KiB });
      t.after(() => h.close());
      const slow = await subscribe(h.port, {});
      (slow.ws as unknown as { _socket: Socket })._socket.pause();
      let n = 0;
      const live = (): boolean => h.gateway.hub.subscribers()[0]?.sentSeq === h.events.lastSeq();
      while (live() && n < 2000) {
        h.commit(1, 'order.scheduled', 32 * KiB);
        n++;
        await new Promise((r) => setImmediate(r));
      }
      // The reader never resumes: the server drops the connection after its grace period.
      const deadline = Date.now() + 20_000;
      while (h.gateway.hub.subscribers().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(h.gateway.hub.subscribers().length, 0, 'the unresponsive subscriber is gone');
      const gauge = await h.metrics.registry.getSingleMetric('pacslink_ws_subscribers')!.get();
      assert.deepEqual(gauge.values.map((v) => [v.labels.format, v.value]).sort(), [['json', 0], ['msgpack', 0]]);
      slow.ws.terminate();
    });
  });
}
