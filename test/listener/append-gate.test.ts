import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppendGate } from '../../src/listener/append-gate.js';
import { FakeLog } from './fake-log.js';

const record = (size: number) => ({
  raw: new Uint8Array(size),
  receivedAt: 0,
  listener: 'l',
  remote: 'r',
  messageType: 'ADT^A01',
  controlId: String(Math.random()),
});

describe('AppendGate', () => {
  it('reports the high-water mark and wakes paused readers once appends drain below half of it', async () => {
    const log = new FakeLog();
    log.hold = true;
    const gate = new AppendGate(log, 1000);
    const appends = [gate.append(record(600)), gate.append(record(600))];
    assert.equal(gate.overHighWater(), true);
    let woken = 0;
    gate.whenRoom(() => woken++);
    const forgotten = (): void => assert.fail('a forgotten waiter must not be called');
    gate.whenRoom(forgotten);
    gate.forget(forgotten);
    assert.equal(woken, 0);
    log.release();
    await Promise.all(appends);
    assert.equal(gate.overHighWater(), false);
    assert.equal(woken, 1, 'woken exactly once');
  });
});
