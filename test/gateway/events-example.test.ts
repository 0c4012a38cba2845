/**
 * examples/subscriber.ts runs against a real engine: it prints the events of orders sent
 * over MLLP in seq order, acknowledges them under its durable name, and stops on SIGINT.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { testEngine, until } from '../listener/helpers.js';
import { sendOrders } from './events-client.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/subscriber.js', import.meta.url));

describe('examples/subscriber.ts', () => {
  it('prints events in order, acknowledges them by name and exits on SIGINT', { timeout: 60_000 }, async (t) => {
    const e = await testEngine(undefined);
    t.after(() => e.close());
    await sendOrders(e.port, 1, 2);
    const child = spawn(process.execPath, [EXAMPLE], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PACSLINK_EVENTS_URL: `ws://127.0.0.1:${e.engine.ports.http}/events`, SUBSCRIBER_NAME: 'example' },
    });
    const exited = once(child, 'exit');
    t.after(() => child.kill('SIGKILL'));
    const lines: string[] = [];
    createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
    const expected = (): string[] =>
      e.engine.store!.events
        .range(0, 1000)
        .filter((ev) => ['patient', 'order', 'report', 'prefetch', 'sync'].includes(ev.type.split('.')[0]!))
        .map((ev) => {
          const order = ev.data.order as { accession?: string; status?: string } | undefined;
          const accession = order?.accession !== undefined ? ` accession=${order.accession}` : '';
          const status = order?.status !== undefined ? ` status=${order.status}` : '';
          return `${ev.seq} ${ev.type} message=${ev.messageSeq}${accession}${status}`;
        });
    await until(() => e.engine.converter!.position() === 2, 'two orders converted', 30_000);
    const backlog = expected();
    assert.ok(backlog.includes('2 order.scheduled message=1 accession=ACC1 status=scheduled'));
    await until(() => lines.length >= backlog.length, 'the backlog of a new durable name', 30_000);
    await sendOrders(e.port, 3, 3);
    await until(() => e.engine.converter!.position() === 3, 'a live order converted', 30_000);
    const all = expected();
    await until(() => lines.length >= all.length, 'a live order', 30_000);
    assert.deepEqual(lines, all);
    const last = e.engine.store!.events.lastSeq();
    await until(() => e.engine.gateway.hub.subscribers().find((s) => s.name === 'example')?.ackedSeq === last, 'acks of every event', 30_000);
    child.kill('SIGINT');
    const [code] = await exited;
    assert.equal(code, 0);
  });
});
