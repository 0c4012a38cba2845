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
    await until(() => lines.length >= 4, 'the backlog of a new durable name', 30_000);
    await sendOrders(e.port, 3, 3);
    await until(() => lines.length >= 6, 'a live order', 30_000);
    assert.deepEqual(lines, [
      '1 patient.created message=1',
      '2 order.scheduled message=1 accession=ACC1 status=scheduled',
      '3 patient.created message=2',
      '4 order.scheduled message=2 accession=ACC2 status=scheduled',
      '5 patient.created message=3',
      '6 order.scheduled message=3 accession=ACC3 status=scheduled',
    ]);
    await until(() => e.engine.gateway.hub.subscribers().find((s) => s.name === 'example')?.ackedSeq === 6, 'acks of every event', 30_000);
    child.kill('SIGINT');
    const [code] = await exited;
    assert.equal(code, 0);
  });
});
