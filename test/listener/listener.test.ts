import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { MllpFramer } from '../../src/listener/framer.js';
import { createLogger } from '../../src/log.js';
import { MllpClient, readAck } from '../../src/mllp/client.js';
import { FakeLog } from './fake-log.js';
import { framed, message, seg, testEngine, until } from './helpers.js';

/** A raw socket collecting ACK frames, for tests that write bytes themselves. */
async function rawClient(port: number) {
  const socket = net.connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  const acks: Uint8Array[] = [];
  const waiters: (() => void)[] = [];
  const framer = new MllpFramer({ maxFrameBytes: 1 << 20 }, {
    onFrame: (p) => {
      acks.push(Uint8Array.from(p));
      for (const w of waiters.splice(0)) w();
    },
    onJunk: () => {},
    onOversized: () => {},
    onFrameError: () => {},
  });
  socket.on('data', (c: Buffer) => framer.push(c));
  const closed = once(socket, 'close');
  return {
    socket,
    acks,
    closed,
    async waitAcks(n: number): Promise<Uint8Array[]> {
      await until(() => acks.length >= n || socket.destroyed, `${n} ACKs`);
      return acks;
    },
  };
}

describe('MLLP listener', () => {
  it('answers AA with MSA-2 = MSH-10 only after the append is durable, and stores the exact bytes', async (t) => {
    const log = new FakeLog();
    const te = await testEngine(log);
    t.after(() => te.close());
    log.hold = true;
    const client = await MllpClient.connect({ host: '127.0.0.1', port: te.port });
    t.after(() => client.close());
    const msg = message('MSG0001');
    const appended = log.nextAppend();
    const ackP = client.send(msg).then((ack) => ({ ack, durableWhenAcked: log.durable.has(1) }));
    await appended;
    await until(() => log.heldCount === 1, 'the append to be held');
    log.release();
    const { ack, durableWhenAcked } = await ackP;
    assert.equal(durableWhenAcked, true, 'the ACK arrived after the commit');
    assert.deepEqual(readAck(ack), { code: 'AA', controlId: 'MSG0001' });
    const msh = seg(ack, 'MSH')!;
    assert.equal(msh[9], 'PL1', 'ACK MSH-10 is the prefix and the seq');
    assert.equal(msh[2], 'PACS');
    assert.equal(msh[4], 'RIS');
    assert.deepEqual(Buffer.from(log.records[0]!.raw), msg);
    assert.equal(log.records[0]!.listener, 'mllp');
    assert.equal(log.records[0]!.controlId, 'MSG0001');
    assert.equal(log.records[0]!.messageType, 'ORM^O01^ORM_O01');
    const ports = JSON.parse(await readFile(join(te.dir, 'ports.json'), 'utf8')) as unknown;
    assert.deepEqual(ports, { mllp: te.port, http: te.engine.ports.http, listeners: { mllp: te.port } });
    assert.ok(te.engine.ports.http > 0);
  });

  it('enhanced mode: CA when MSH-15 is AL, nothing for NE', async (t) => {
    const log = new FakeLog();
    const te = await testEngine(log);
    t.after(() => te.close());
    const client = await MllpClient.connect({ host: '127.0.0.1', port: te.port });
    t.after(() => client.close());
    const raw = await rawClient(te.port);
    t.after(() => raw.socket.destroy());
    raw.socket.write(framed(message('NE1', { accept: 'NE' })));
    raw.socket.write(framed(message('AL1', { accept: 'AL' })));
    const [first] = await raw.waitAcks(1);
    assert.deepEqual(readAck(first!), { code: 'CA', controlId: 'AL1' }, 'the first reply is for AL1: NE got none');
    assert.equal(log.records.length, 2, 'the NE message was stored all the same');
    assert.deepEqual(readAck(await client.send(message('SU1', { accept: 'SU' }))), { code: 'CA', controlId: 'SU1' });
  });

  it('AR with an ERR segment for an unparseable MSH; nothing stored; the connection carries on', async (t) => {
    const log = new FakeLog();
    const te = await testEngine(log);
    t.after(() => te.close());
    const client = await MllpClient.connect({ host: '127.0.0.1', port: te.port });
    t.after(() => client.close());
    const ack = await client.send(Buffer.from('PID|1||X\r'));
    assert.equal(readAck(ack).code, 'AR');
    assert.ok(seg(ack, 'ERR') !== undefined, 'ERR segment present');
    const noId = await client.send(Buffer.from('MSH|^~\\&|RIS|HOSP|PACS|RAD|20240102||ADT^A01||P|2.5\r'));
    assert.equal(readAck(noId).code, 'AR');
    assert.match(seg(noId, 'ERR')!.join('|'), /101/);
    assert.equal(log.appendCalls, 0);
    assert.equal(readAck(await client.send(message('OK1'))).code, 'AA');
  });

  it('AR (ERR 202) for a processing ID the listener does not accept', async (t) => {
    const log = new FakeLog();
    const te = await testEngine(log, { processingIds: ['P'] });
    t.after(() => te.close());
    const client = await MllpClient.connect({ host: '127.0.0.1', port: te.port });
    t.after(() => client.close());
    const ack = await client.send(message('T1', { processingId: 'T' }));
    assert.deepEqual(readAck(ack), { code: 'AR', controlId: 'T1' });
    assert.match(seg(ack, 'ERR')!.join('|'), /202/);
    assert.equal(log.appendCalls, 0);
    assert.equal(readAck(await client.send(message('P1'))).code, 'AA');
  });

  it('ackTypeForm sets the ACK\'s MSH-9 form a sender insists on (quirk 25): full, trigger or bare', async (t) => {
    for (const [form, expected] of [['full', 'ACK^O01^ACK'], ['trigger', 'ACK^O01'], ['bare', 'ACK']] as const) {
      const te = await testEngine(new FakeLog(), { ackTypeForm: form });
      t.after(() => te.close());
      const client = await MllpClient.connect({ host: '127.0.0.1', port: te.port });
      t.after(() => client.close());
      const ack = await client.send(message(`F-${form}`));
      assert.equal(seg(ack, 'MSH')![8], expected, form);
      assert.deepEqual(readAck(ack), { code: 'AA', controlId: `F-${form}` });
    }
  });

  it('AR for an oversized frame, refused without buffering it; the next message is accepted', async (t) => {
    const log = new FakeLog();
    const te = await testEngine(log, { maxFrameBytes: 4096 });
    t.after(() => te.close());
    const client = await MllpClient.connect({ host: '127.0.0.1', port: te.port });
    t.after(() => client.close());
    const ack = await client.send(message('BIG1', { pad: 100_000 }));
    assert.deepEqual(readAck(ack), { code: 'AR', controlId: 'BIG1' });
    assert.ok(seg(ack, 'ERR') !== undefined);
    assert.equal(log.appendCalls, 0);
    assert.equal(readAck(await client.send(message('SMALL1'))).code, 'AA');
    const text = await te.engine.metrics.registry.getSingleMetricAsString('pacslink_mllp_frame_errors_total');
    assert.match(text, /reason="oversized"\} 1/);
  });

  it('AR when storage cannot accept writes (CR in enhanced mode); nothing written', async (t) => {
    const log = new FakeLog();
    log.reject = 'STORAGE_FULL';
    const te = await testEngine(log);
    t.after(() => te.close());
    const client = await MllpClient.connect({ host: '127.0.0.1', port: te.port });
    t.after(() => client.close());
    const ack = await client.send(message('F1'));
    assert.deepEqual(readAck(ack), { code: 'AR', controlId: 'F1' });
    assert.match(seg(ack, 'ERR')!.join('|'), /207/);
    assert.equal(readAck(await client.send(message('F2', { accept: 'AL' }))).code, 'CR');
    assert.equal(log.records.length, 0);
  });

  it('a resend within the window gets the original ACK again, byte for byte, without a second append', async (t) => {
    const log = new FakeLog();
    const te = await testEngine(log);
    t.after(() => te.close());
    const client = await MllpClient.connect({ host: '127.0.0.1', port: te.port });
    t.after(() => client.close());
    const first = await client.send(message('D1'));
    await client.send(message('D2'));
    const again = await client.send(message('D1'));
    assert.deepEqual(Buffer.from(again), Buffer.from(first));
    assert.equal(log.records.length, 2);
    const changed = await client.send(message('D1', { pad: 3 }));
    assert.equal(readAck(changed).code, 'AA');
    assert.equal(log.records.length, 3, 'same key, different body: stored as new');
    const text = await te.engine.metrics.registry.getSingleMetricAsString('pacslink_duplicates_total');
    assert.match(text, /kind="resend"\} 1/);
    assert.match(text, /kind="collision"\} 1/);
  });

  type LogLine = { msg: string; suppressed?: number; controlId?: string; errCode?: number };
  const capture = (): { lines: LogLine[]; logger: ReturnType<typeof createLogger> } => {
    const lines: LogLine[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as LogLine);
        done();
      },
    });
    return { lines, logger: createLogger({ stream }) };
  };

  it('a warning repeated on every message is written at most once a second per connection, with what was left out counted', async (t) => {
    const { lines, logger } = capture();
    const log = new FakeLog();
    const te = await testEngine(log, {}, {}, logger);
    t.after(() => te.close());
    const client = await MllpClient.connect({ host: '127.0.0.1', port: te.port });
    await client.send(message('R1'));
    // The same control ID with another body, six times: each stored as new and counted.
    for (let i = 1; i <= 6; i++) assert.equal(readAck(await client.send(message('R1', { pad: i }))).code, 'AA');
    const reused = (): typeof lines => lines.filter((l) => l.msg === 'control ID reused with a different body; stored as new');
    assert.equal(log.records.length, 7);
    assert.equal(reused().length, 1, 'one line for the burst');
    assert.equal(reused()[0]!.suppressed, undefined);
    const text = await te.engine.metrics.registry.getSingleMetricAsString('pacslink_duplicates_total');
    assert.match(text, /kind="collision"\} 6/);
    await client.close();
    await until(() => reused().length === 2, 'the closing line');
    assert.equal(reused()[1]!.suppressed, 5, 'the five left out, written when the connection closed');
  });

  it('refusals for different reasons each get their line; the counts left out come per reason', async (t) => {
    const { lines, logger } = capture();
    const te = await testEngine(new FakeLog(), { processingIds: ['P'] }, {}, logger);
    t.after(() => te.close());
    const client = await MllpClient.connect({ host: '127.0.0.1', port: te.port });
    for (let i = 0; i < 3; i++) assert.equal(readAck(await client.send(message(`T${i}`, { processingId: 'T' }))).code, 'AR');
    for (let i = 0; i < 2; i++) assert.equal(readAck(await client.send(message(''))).code, 'AR');
    const refused = (): LogLine[] => lines.filter((l) => l.msg === 'mllp message refused');
    assert.deepEqual(refused().map((l) => [l.errCode, l.suppressed]), [[202, undefined], [101, undefined]]);
    await client.close();
    await until(() => refused().length === 4, 'the closing lines');
    assert.deepEqual(refused().slice(2).map((l) => l.suppressed).sort(), [1, 2]);
  });

  it('answers pipelined frames strictly in order even when they arrive in one write with junk between', async (t) => {
    const log = new FakeLog();
    const te = await testEngine(log);
    t.after(() => te.close());
    const raw = await rawClient(te.port);
    t.after(() => raw.socket.destroy());
    const parts: Buffer[] = [];
    for (let i = 0; i < 50; i++) parts.push(framed(message(`P${i}`)), Buffer.from('\r\n'));
    raw.socket.write(Buffer.concat(parts));
    const acks = await raw.waitAcks(50);
    assert.deepEqual(acks.map((a) => readAck(a).controlId), Array.from({ length: 50 }, (_, i) => `P${i}`));
    assert.deepEqual(log.records.map((r) => r.controlId), Array.from({ length: 50 }, (_, i) => `P${i}`));
    const text = await te.engine.metrics.registry.getSingleMetricAsString('pacslink_mllp_junk_bytes_total');
    assert.match(text, / 100$/m);
  });

  it('serves a slow sender that writes one byte at a time', async (t) => {
    const log = new FakeLog();
    const te = await testEngine(log);
    t.after(() => te.close());
    const raw = await rawClient(te.port);
    t.after(() => raw.socket.destroy());
    const bytes = framed(message('SLOW1'));
    for (const b of bytes) {
      raw.socket.write(Buffer.from([b]));
      await new Promise((r) => setImmediate(r));
    }
    const [ack] = await raw.waitAcks(1);
    assert.deepEqual(readAck(ack!), { code: 'AA', controlId: 'SLOW1' });
  });

  it('closes a connection whose frame stays incomplete past the timeout, counting it', async (t) => {
    const log = new FakeLog();
    const te = await testEngine(log, { incompleteFrameTimeoutMs: 50 });
    t.after(() => te.close());
    const raw = await rawClient(te.port);
    raw.socket.write(Buffer.from('\x0bMSH|^~\\&|half'));
    await raw.closed;
    const text = await te.engine.metrics.registry.getSingleMetricAsString('pacslink_mllp_frame_errors_total');
    assert.match(text, /reason="incomplete"\} 1/);
    assert.equal(log.appendCalls, 0);
  });

  it('closes an idle connection after idleTimeoutMs', async (t) => {
    const te = await testEngine(new FakeLog(), { idleTimeoutMs: 50 });
    t.after(() => te.close());
    const raw = await rawClient(te.port);
    await raw.closed;
  });

  it('limits connections per remote address', async (t) => {
    const te = await testEngine(new FakeLog(), { maxConnectionsPerAddress: 2 });
    t.after(() => te.close());
    const a = await MllpClient.connect({ host: '127.0.0.1', port: te.port });
    const b = await MllpClient.connect({ host: '127.0.0.1', port: te.port });
    t.after(() => Promise.all([a.close(), b.close()]));
    assert.equal(readAck(await a.send(message('L1'))).code, 'AA');
    assert.equal(readAck(await b.send(message('L2'))).code, 'AA');
    const third = await rawClient(te.port);
    await third.closed;
    assert.equal(third.acks.length, 0);
    const text = await te.engine.metrics.registry.getSingleMetricAsString('pacslink_mllp_connections_refused_total');
    assert.match(text, /reason="max-per-address"\} 1/);
  });

  it('limits connections per listener', async (t) => {
    const te = await testEngine(new FakeLog(), { maxConnections: 1 });
    t.after(() => te.close());
    const a = await MllpClient.connect({ host: '127.0.0.1', port: te.port });
    t.after(() => a.close());
    assert.equal(readAck(await a.send(message('M1'))).code, 'AA');
    const second = await rawClient(te.port);
    await second.closed;
    const text = await te.engine.metrics.registry.getSingleMetricAsString('pacslink_mllp_connections_refused_total');
    assert.match(text, /reason="max-connections"\} 1/);
    assert.equal(readAck(await a.send(message('M2'))).code, 'AA', 'the admitted connection is unaffected');
  });

  it('keeps memory bounded: a sender pushing without waiting is paused at the high-water mark', async (t) => {
    const log = new FakeLog();
    log.hold = true;
    const te = await testEngine(log, {}, { connectionHighWaterFrames: 8 });
    t.after(() => te.close());
    const raw = await rawClient(te.port);
    t.after(() => raw.socket.destroy());
    const n = 5000;
    const one = framed(message('X', { pad: 2000 }));
    const all = Buffer.concat(Array.from({ length: n }, () => one));
    raw.socket.write(all);
    await until(() => log.heldCount === 1, 'the first append');
    // While the first commit is held, the server may read at most a few chunks more.
    await until(() => raw.socket.writableLength > 0 || raw.socket.bytesWritten < all.length, 'socket buffers to fill');
    log.release();
    await raw.waitAcks(n);
    assert.equal(raw.acks.length, n);
    const peak = te.engine.listeners[0]!.peakQueuedFrames;
    assert.ok(peak <= 8 + 64, `at most the high-water mark plus one read's frames were queued (peak ${peak})`);
  });

  it('graceful stop finishes the in-flight append and its ACK, then closes storage', async (t) => {
    const log = new FakeLog();
    log.hold = true;
    const te = await testEngine(log);
    t.after(() => te.close());
    const client = await MllpClient.connect({ host: '127.0.0.1', port: te.port });
    const ackP = client.send(message('S1'));
    await until(() => log.heldCount === 1, 'the append');
    const stopped = te.engine.stop();
    let stoppedYet = false;
    void stopped.then(() => (stoppedYet = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(stoppedYet, false, 'stop waits for the in-flight append');
    log.release();
    assert.equal(readAck(await ackP).code, 'AA');
    await stopped;
    assert.equal(log.closed, true);
    await assert.rejects(MllpClient.connect({ host: '127.0.0.1', port: te.port, connectTimeoutMs: 2000 }));
  });

  it('sends MLLP release 2 commit bytes before the ACK when configured', async (t) => {
    const te = await testEngine(new FakeLog(), { mllpRelease2: true });
    t.after(() => te.close());
    const raw = await rawClient(te.port);
    t.after(() => raw.socket.destroy());
    raw.socket.write(framed(message('R2')));
    const acks = await raw.waitAcks(2);
    assert.deepEqual([...acks[0]!], [0x06]);
    assert.equal(readAck(acks[1]!).code, 'AA');
  });
});

describe('MLLP listener under hostile input', () => {
  it('survives random bytes on many connections and still answers a good message', async (t) => {
    const log = new FakeLog();
    const te = await testEngine(log, { maxFrameBytes: 2048, tolerantEndBlock: true });
    t.after(() => te.close());
    let seed = 12345;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let c = 0; c < 10; c++) {
      const raw = await rawClient(te.port);
      const bytes = Buffer.alloc(20_000);
      for (let i = 0; i < bytes.length; i++) {
        const r = rand();
        bytes[i] = r < 0.01 ? 0x0b : r < 0.02 ? 0x1c : r < 0.03 ? 0x0d : Math.floor(rand() * 256);
      }
      raw.socket.end(bytes);
      await raw.closed;
    }
    const client = await MllpClient.connect({ host: '127.0.0.1', port: te.port });
    t.after(() => client.close());
    assert.deepEqual(readAck(await client.send(message('AFTER'))), { code: 'AA', controlId: 'AFTER' });
    assert.equal(te.engine.listeners[0]!.connectionCount, 1);
  });
});
