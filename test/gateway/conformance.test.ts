/**
 * The gateway port's conformance suite (port.ts): the same tests against uWebSockets.js and
 * the native-free `node:http` + `ws` adapter. uWS runs where its addon loads (Node 20 here;
 * a failure to load there fails the suite), and is skipped with the reason elsewhere.
 */
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { GatewayAdapter, SendStatus } from '../../src/gateway/port.js';
import { adaptersUnderTest, Client, errorCode, fetchRaw, hasIpv6, rawHttp, LIMITS, selfSigned, startHarness, type Harness } from './conformance.js';

const adapters = await adaptersUnderTest();

for (const { name, adapter: maybe, skip } of adapters) {
  // A timeout so an adapter that never closes a socket fails the suite instead of hanging it.
  describe(`gateway adapter ${name}`, { timeout: 120_000, ...(skip !== undefined ? { skip } : {}) }, () => {
    const adapter = maybe as GatewayAdapter;
    let h: Harness;
    const clients: Client[] = [];
    const client = (path: string, options: ConstructorParameters<typeof Client>[1] = {}): Client => {
      const c = new Client(h.wsBase + path, options);
      clients.push(c);
      return c;
    };
    before(async () => {
      h = await startHarness(adapter);
    });
    after(async () => {
      for (const c of clients) c.close();
      await h.close();
    });

    it(`reports impl ${name} and the bound port`, () => {
      assert.equal(adapter.impl, name);
      assert.equal(h.server.impl, name);
      assert.ok(h.server.port > 0);
    });

    it('hands the handler the method, path, query, lower-case headers, body and peer address', async () => {
      h.http = () => ({ status: 201, headers: { 'X-Answer': 'yes' }, body: '{"ok":true}' });
      const body = Buffer.from([0, 1, 2, 0xff, 0x7f]);
      const res = await fetchRaw(`${h.base}/api/things/a%20b?x=1&y=two&x=3`, {
        method: 'post',
        headers: { 'X-Test-Header': 'Value One', 'content-type': 'application/octet-stream' },
        body,
      });
      assert.equal(res.status, 201);
      assert.equal(res.headers['x-answer'], 'yes');
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(res.body.toString(), '{"ok":true}');
      const req = h.requests.at(-1)!;
      assert.equal(req.method, 'POST');
      assert.equal(req.path, '/api/things/a%20b');
      assert.deepEqual(req.query.getAll('x'), ['1', '3']);
      assert.equal(req.query.get('y'), 'two');
      assert.equal(req.headers['x-test-header'], 'Value One');
      assert.equal(req.headers['content-length'], '5');
      assert.deepEqual(Buffer.from(req.body), body);
      assert.equal(req.remoteAddress, '127.0.0.1');
    });

    it('gives IPv6 peers in compressed text and IPv4-mapped peers as dotted IPv4', async (t) => {
      if (!(await hasIpv6())) {
        t.skip('no IPv6 loopback on this machine');
        return;
      }
      const v6 = await startHarness(adapter, { host: '::1' });
      try {
        await fetchRaw(`http://[::1]:${v6.server.port}/v6`);
        assert.equal(v6.requests.at(-1)!.remoteAddress, '::1');
      } finally {
        await v6.close();
      }
      const dual = await startHarness(adapter, { host: '::' });
      try {
        await fetchRaw(`http://127.0.0.1:${dual.server.port}/mapped`);
        assert.equal(dual.requests.at(-1)!.remoteAddress, '127.0.0.1');
      } finally {
        await dual.close();
      }
    });

    it('sends a binary body with the content-type the handler gives, and an empty body for GET', async () => {
      h.http = () => ({ status: 200, headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array([9, 8, 7]) });
      const res = await fetchRaw(`${h.base}/bin`);
      assert.equal(res.headers['content-type'], 'application/octet-stream');
      assert.equal(res.headers['content-length'], '3');
      assert.deepEqual([...res.body], [9, 8, 7]);
      assert.equal(h.requests.at(-1)!.body.length, 0);
      assert.equal(h.requests.at(-1)!.query.size, 0);
    });

    it('answers HEAD with the headers and content-length of the body but no body', async () => {
      h.http = () => ({ status: 200, body: '{"some":"json"}' });
      const res = await fetchRaw(`${h.base}/head`, { method: 'HEAD' });
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-length'], '15');
      assert.equal(res.body.length, 0);
      assert.equal(h.requests.at(-1)!.method, 'HEAD');
    });

    it('waits for an async handler', async () => {
      h.http = async (req) => {
        await new Promise((r) => setTimeout(r, 20));
        return { status: 202, body: JSON.stringify({ path: req.path }) };
      };
      const res = await fetchRaw(`${h.base}/slow`);
      assert.equal(res.status, 202);
      assert.deepEqual(JSON.parse(res.body.toString()), { path: '/slow' });
    });

    it('reads a body of exactly maxBodyBytes and answers 413 with the error JSON beyond', async () => {
      h.http = (req) => ({ status: 200, body: JSON.stringify({ size: req.body.length }) });
      const ok = await fetchRaw(`${h.base}/upload`, { method: 'POST', body: Buffer.alloc(LIMITS.maxBodyBytes, 1) });
      assert.deepEqual(JSON.parse(ok.body.toString()), { size: LIMITS.maxBodyBytes });
      const seen = h.requests.length;
      const big = await fetchRaw(`${h.base}/upload`, { method: 'POST', body: Buffer.alloc(LIMITS.maxBodyBytes + 1, 1) });
      assert.equal(big.status, 413);
      assert.equal(errorCode(big.body), 'payload-too-large');
      assert.equal(h.requests.length, seen, 'the handler never sees an oversized body');
    });

    it('answers 411 with the error JSON to a chunked request body, and closes the connection', async () => {
      const seen = h.requests.length;
      const raw = await rawHttp(
        h.server.port,
        'POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
      );
      assert.match(raw, /^HTTP\/1\.1 411 /);
      assert.match(raw, /"code":"length-required"/);
      assert.equal(h.requests.length, seen);
    });

    it('answers 500 with the error JSON when the handler throws or rejects, and reports it', async () => {
      h.http = () => {
        throw new Error('boom');
      };
      const sync = await fetchRaw(`${h.base}/throw`);
      assert.equal(sync.status, 500);
      assert.equal(errorCode(sync.body), 'internal');
      h.http = () => Promise.reject(new Error('boom'));
      const async = await fetchRaw(`${h.base}/reject`);
      assert.equal(async.status, 500);
      assert.equal(errorCode(async.body), 'internal');
      assert.ok(h.errors.filter((e) => e === 'http handler failed').length >= 2);
    });

    it('never answers on a connection the client dropped while the handler worked, and serves on', async () => {
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let entered = false;
      h.http = async () => {
        entered = true;
        await held;
        return { status: 200, body: '{}' };
      };
      const abort = new AbortController();
      const req = fetchRaw(`${h.base}/held`, { signal: abort.signal }).catch((err: Error) => err);
      await h.until(() => entered, 'the handler to start');
      abort.abort();
      assert.ok((await req) instanceof Error);
      // Give the server time to see the close before the handler answers into it.
      await new Promise((r) => setTimeout(r, 20));
      release();
      await new Promise((r) => setTimeout(r, 20));
      h.http = () => ({ status: 200, body: '{}' });
      assert.equal((await fetchRaw(`${h.base}/after-abort`)).status, 200);
      assert.deepEqual(h.errors.filter((e) => !e.startsWith('http handler failed')), []);
    });

    it('opens nothing when the client leaves during an async upgrade decision', async () => {
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let entered = false;
      h.upgrade = async () => {
        entered = true;
        await held;
        return { accept: true, context: 'late' };
      };
      const opensBefore = h.events.filter((e) => e.kind === 'open').length;
      const c = client('/events');
      await h.until(() => entered, 'the upgrade handler to start');
      c.close();
      await c.done;
      await new Promise((r) => setTimeout(r, 20));
      release();
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(h.events.filter((e) => e.kind === 'open').length, opensBefore);
      assert.equal(h.server.connections(), h.conns.size);
      h.upgrade = (req) => ({ accept: true, context: req.query.get('ctx') });
    });

    it('sends a plain (non-upgrade) request to the WebSocket path to the http handler', async () => {
      h.http = (req) => ({ status: 426, body: JSON.stringify({ error: { code: 'upgrade-required', message: req.path } }) });
      const res = await fetchRaw(`${h.base}/events?since=3`);
      assert.equal(res.status, 426);
      assert.equal(errorCode(res.body), 'upgrade-required');
    });

    it('answers 404 with the error JSON to an upgrade on another path', async () => {
      const c = client('/not-events');
      await c.done;
      assert.equal(c.refused?.status, 404);
      assert.equal(errorCode(c.refused.body), 'not-found');
    });

    it('answers 400 to a broken upgrade request on the WebSocket path (no Sec-WebSocket-Key)', async () => {
      const raw = await rawHttp(h.server.port, 'GET /events HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
      assert.match(raw, /^HTTP\/1\.1 400 /);
    });

    it('answers 400 to a content-length that is not one decimal number', async () => {
      h.http = () => ({ status: 200, body: '{}' });
      const raw = await rawHttp(h.server.port, 'POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc');
      assert.match(raw, /^HTTP\/1\.1 400 /);
      // A negative or non-numeric length: refused (uWS may just close), and the server lives on.
      for (const bad of ['-3', 'abc', '1e3']) {
        const seen = h.requests.length;
        const answer = await rawHttp(h.server.port, `POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: ${bad}\r\n\r\nabc`);
        assert.ok(answer === '' || /^HTTP\/1\.1 400 /.test(answer), answer);
        assert.equal(h.requests.length, seen);
      }
      assert.equal((await fetchRaw(`${h.base}/still-up`)).status, 200);
    });

    for (const status of [401, 403, 400]) {
      it(`refuses an upgrade with ${status}, the handler's headers and the error JSON`, async () => {
        h.upgrade = async () => {
          await new Promise((r) => setImmediate(r));
          return {
            accept: false,
            response: {
              status,
              headers: { 'www-authenticate': 'Bearer realm="pacslink"' },
              body: JSON.stringify({ error: { code: `refused-${status}`, message: 'no' } }),
            },
          };
        };
        const opensBefore = h.events.filter((e) => e.kind === 'open').length;
        const c = client('/events?token=x');
        await c.done;
        assert.equal(c.refused?.status, status);
        assert.equal(c.refused.headers['www-authenticate'], 'Bearer realm="pacslink"');
        assert.equal(c.refused.headers['content-type'], 'application/json; charset=utf-8');
        assert.equal(errorCode(c.refused.body), `refused-${status}`);
        assert.equal(h.events.filter((e) => e.kind === 'open').length, opensBefore, 'no connection opened');
      });
    }

    it('accepts an upgrade decided asynchronously; open gets the context and the request its headers', async () => {
      h.upgrade = async (req) => {
        await new Promise((r) => setTimeout(r, 10));
        return { accept: true, context: { ctx: req.query.get('ctx'), auth: req.headers.authorization } };
      };
      const opensBefore = h.events.filter((e) => e.kind === 'open').length;
      const c = client('/events?ctx=abc', { headers: { Authorization: 'Bearer t0k3n' } });
      await c.opened;
      const conn = await h.conn(opensBefore + 1);
      const open = h.events.find((e) => e.kind === 'open' && e.id === conn.id);
      assert.deepEqual(open, { kind: 'open', id: conn.id, context: { ctx: 'abc', auth: 'Bearer t0k3n' } });
      const req = h.requests.at(-1)!;
      assert.equal(req.method, 'GET');
      assert.equal(req.path, '/events');
      assert.equal(req.remoteAddress, '127.0.0.1');
      assert.equal(req.body.length, 0);
      assert.equal(h.server.connections(), h.conns.size);
      c.close();
      await c.done;
      await h.until(() => !h.conns.has(conn.id), 'the close callback');
    });

    describe('open connections', () => {
      before(() => {
        h.upgrade = (req) => ({ accept: true, context: req.query.get('ctx') });
      });

      it('carries text and binary messages both ways, with unique increasing ids', async () => {
        const a = client('/events?ctx=a');
        const b = client('/events?ctx=b');
        await Promise.all([a.opened, b.opened]);
        await h.until(() => h.conns.size >= 2, 'two connections');
        const ids = [...h.conns.keys()];
        assert.equal(new Set(ids).size, ids.length);
        assert.equal(h.server.connections(), h.conns.size);
        a.ws.send('héllo');
        a.ws.send(Buffer.from([1, 2, 3, 0]));
        const first = await a.nth(1);
        const second = await a.nth(2);
        assert.deepEqual(first, { data: Buffer.from('héllo'), binary: false });
        assert.deepEqual(second, { data: Buffer.from([1, 2, 3, 0]), binary: true });
        const got = h.events.filter((e) => e.kind === 'message').slice(-2);
        assert.deepEqual(
          got.map((e) => e.kind === 'message' && [Buffer.from(e.data).toString('hex'), e.binary]),
          [[Buffer.from('héllo').toString('hex'), false], ['01020300', true]],
        );
        assert.equal(b.received.length, 0);
        a.close();
        b.close();
        await Promise.all([a.done, b.done]);
      });

      it('keeps the bytes a message handler was given after it returns', async () => {
        const kept: Uint8Array[] = [];
        h.onMessage = (_conn, data) => kept.push(data);
        const c = client('/events');
        await c.opened;
        for (let i = 0; i < 20; i++) c.ws.send(Buffer.alloc(100, i), { binary: true });
        await h.until(() => kept.length === 20, '20 messages');
        await new Promise((r) => setTimeout(r, 5));
        kept.forEach((k, i) => assert.deepEqual(Buffer.from(k), Buffer.alloc(100, i)));
        h.onMessage = (conn, data, binary) => conn.send(binary ? data : Buffer.from(data).toString(), binary);
        c.close();
        await c.done;
      });

      it('publishes in call order across topics, to subscribers only, and honours unsubscribe', async () => {
        const opens = h.events.filter((e) => e.kind === 'open').length;
        const a = client('/events');
        await a.opened;
        const b = client('/events');
        await b.opened;
        const ca = await h.conn(opens + 1);
        const cb = await h.conn(opens + 2);
        for (const t of ['t/a', 't/b', 't/c']) ca.subscribe(t);
        cb.subscribe('t/b');
        const topics = ['t/a', 't/b', 't/c', 't/d'];
        const expectedA: string[] = [];
        const expectedB: string[] = [];
        for (let i = 0; i < 40; i++) {
          const t = topics[i % 4]!;
          h.server.publish(t, `m${i}`, false);
          if (t !== 't/d') expectedA.push(`m${i}`);
          if (t === 't/b') expectedB.push(`m${i}`);
        }
        h.server.publish('t/c', new Uint8Array([0xde, 0xad]), true);
        await a.nth(expectedA.length + 1);
        await b.nth(expectedB.length);
        assert.deepEqual(a.texts().slice(0, expectedA.length), expectedA);
        assert.deepEqual(a.received.at(-1), { data: Buffer.from([0xde, 0xad]), binary: true });
        assert.ok(a.received.slice(0, -1).every((m) => !m.binary));
        assert.deepEqual(b.texts(), expectedB);

        ca.unsubscribe('t/b');
        ca.unsubscribe('t/never');
        h.server.publish('t/b', 'after-unsub', false);
        h.server.publish('t/a', 'still-a', false);
        await a.nth(expectedA.length + 2);
        await b.nth(expectedB.length + 1);
        assert.equal(a.texts().at(-1), 'still-a');
        assert.equal(b.texts().at(-1), 'after-unsub');
        assert.ok(!a.texts().includes('after-unsub'));
        a.close();
        b.close();
        await Promise.all([a.done, b.done]);
      });

      it('keeps publish and direct send in call order on one socket', async () => {
        const opens = h.events.filter((e) => e.kind === 'open').length;
        const c = client('/events');
        await c.opened;
        const conn = await h.conn(opens + 1);
        conn.subscribe('order');
        const expected: string[] = [];
        for (let i = 0; i < 30; i++) {
          if (i % 3 === 0) conn.send(`s${i}`, false);
          else h.server.publish('order', `p${i}`, false);
          expected.push(i % 3 === 0 ? `s${i}` : `p${i}`);
        }
        await c.nth(30);
        assert.deepEqual(c.texts(), expected);
        c.close();
        await c.done;
      });

      it('reports buffered sends and a growing bufferedAmount for a client that stops reading, drops past maxBackpressureBytes, and drains', async () => {
        const opens = h.events.filter((e) => e.kind === 'open').length;
        const c = client('/events');
        await c.opened;
        const conn = await h.conn(opens + 1);
        c.ws.pause();
        const chunk = new Uint8Array(64 * 1024).fill(7);
        const statuses: SendStatus[] = [];
        const amounts: number[] = [];
        // Kernel buffers take a few MiB first; the cap only stops a broken adapter looping on.
        for (let i = 0; i < 2000 && statuses.at(-1) !== 'dropped'; i++) {
          statuses.push(conn.send(chunk, true));
          amounts.push(conn.bufferedAmount());
        }
        const firstBuffered = statuses.indexOf('buffered');
        const firstDropped = statuses.indexOf('dropped');
        assert.ok(firstBuffered > 0, `sends go through before the buffer fills (${statuses.slice(0, 3).join()})`);
        assert.ok(statuses.slice(0, firstBuffered).every((s) => s === 'sent'));
        assert.ok(firstDropped > firstBuffered, 'a send is dropped once the buffer passes maxBackpressureBytes');
        for (let i = firstBuffered + 1; i < firstDropped; i++) {
          assert.equal(statuses[i], 'buffered');
          assert.ok(amounts[i]! > amounts[i - 1]!, 'bufferedAmount grows with each buffered send');
        }
        assert.ok(amounts[firstDropped - 1]! > LIMITS.maxBackpressureBytes);
        assert.equal(amounts[firstDropped], amounts[firstDropped - 1], 'a dropped send adds nothing');
        assert.equal(h.events.some((e) => e.kind === 'drain' && e.id === conn.id), false);

        c.ws.resume();
        const delivered = firstDropped;
        await h.until(() => h.events.some((e) => e.kind === 'drain' && e.id === conn.id), 'drain', 20_000);
        assert.equal(conn.bufferedAmount(), 0);
        await c.nth(delivered, 20_000);
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(c.received.length, delivered, 'every sent or buffered frame arrives, no dropped one');
        assert.equal(conn.send('after', false), 'sent');
        assert.equal((await c.nth(delivered + 1)).data.toString(), 'after');
        c.close();
        await c.done;
      });

      it('closes with the code and reason given to end(), and reports the close', async () => {
        const opens = h.events.filter((e) => e.kind === 'open').length;
        const c = client('/events');
        await c.opened;
        const conn = await h.conn(opens + 1);
        conn.end(4008, 'too slow: buffer over 8 MiB');
        await c.done;
        assert.deepEqual(c.closed, { code: 4008, reason: 'too slow: buffer over 8 MiB' });
        await h.until(() => h.events.some((e) => e.kind === 'close' && e.id === conn.id), 'close callback');
        assert.equal(conn.send('late', false), 'dropped', 'a closed connection drops sends');
        conn.end(1000, 'again');
        conn.terminate();
        conn.subscribe('x');
        assert.equal(conn.bufferedAmount(), 0);
      });

      it('cuts a close reason longer than 123 bytes on a character boundary', async () => {
        const opens = h.events.filter((e) => e.kind === 'open').length;
        const c = client('/events');
        await c.opened;
        const conn = await h.conn(opens + 1);
        const reason = 'é'.repeat(100);
        conn.end(4000, reason);
        await c.done;
        assert.equal(c.closed?.code, 4000);
        assert.equal(c.closed.reason, 'é'.repeat(61));
      });

      it('drops the connection without a close frame on terminate()', async () => {
        const opens = h.events.filter((e) => e.kind === 'open').length;
        const c = client('/events');
        await c.opened;
        const conn = await h.conn(opens + 1);
        conn.terminate();
        await c.done;
        assert.equal(c.closed?.code, 1006);
        await h.until(() => h.events.some((e) => e.kind === 'close' && e.id === conn.id), 'close callback');
        assert.equal(h.server.connections(), h.conns.size);
      });

      it('closes 1009 with a reason on a message larger than maxMessageBytes', async () => {
        const opens = h.events.filter((e) => e.kind === 'open').length;
        const c = client('/events');
        await c.opened;
        const conn = await h.conn(opens + 1);
        c.ws.send(Buffer.alloc(LIMITS.maxMessageBytes), { binary: true });
        await c.nth(1);
        c.ws.send(Buffer.alloc(LIMITS.maxMessageBytes + 1), { binary: true });
        await c.done;
        assert.equal(c.closed?.code, 1009);
        await h.until(() => h.events.some((e) => e.kind === 'close' && e.id === conn.id), 'close callback');
        assert.equal(c.closed.reason, `message larger than ${LIMITS.maxMessageBytes} bytes`);
        assert.ok(!h.events.some((e) => e.kind === 'message' && e.id === conn.id && e.data.length > LIMITS.maxMessageBytes));
      });

      it('closes a client sending a huge message (with 1009, or uWS: without a close frame past 16 × maxMessageBytes)', async () => {
        const c = client('/events');
        await c.opened;
        c.ws.send(Buffer.alloc(LIMITS.maxMessageBytes * 16 + 1), { binary: true });
        await c.done;
        assert.ok(c.closed !== undefined && [1009, 1006].includes(c.closed.code), JSON.stringify(c.closed));
        if (name === 'ws') assert.equal(c.closed.code, 1009);
      });

      it('closes 1011 when a message handler throws', async () => {
        const opens = h.events.filter((e) => e.kind === 'open').length;
        h.onMessage = () => {
          throw new Error('handler bug');
        };
        const c = client('/events');
        await c.opened;
        await h.conn(opens + 1);
        c.ws.send('x');
        await c.done;
        h.onMessage = (conn, data, binary) => conn.send(binary ? data : Buffer.from(data).toString(), binary);
        assert.equal(c.closed?.code, 1011);
        assert.ok(h.errors.includes('websocket message handler failed'));
      });
    });

    it('close(): stops listening, closes every connection 1001, resolves', async () => {
      const own = await startHarness(adapter);
      const a = new Client(own.wsBase + '/events');
      const b = new Client(own.wsBase + '/events');
      await Promise.all([a.opened, b.opened]);
      await own.until(() => own.server.connections() === 2, 'two connections');
      // An idle keep-alive HTTP connection must not hold close() up.
      await fetchRaw(own.base + '/x', { headers: { connection: 'keep-alive' } });
      await own.close();
      await Promise.all([a.done, b.done]);
      assert.equal(a.closed?.code, 1001);
      assert.equal(b.closed?.code, 1001);
      assert.equal(own.server.connections(), 0);
      assert.equal(own.events.filter((e) => e.kind === 'close').length, 2);
      await assert.rejects(fetchRaw(own.base + '/x'), { code: 'ECONNREFUSED' });
      await own.server.close();
      // Nothing the hub might still call after close touches a closed socket.
      own.server.publish('t', 'late', false);
      const conn = await own.conn(1);
      assert.equal(conn.send('late', false), 'dropped');
      conn.subscribe('t');
      conn.end(1000, 'late');
      conn.terminate();
    });

    it('fails to serve on a port already in use', async () => {
      await assert.rejects(startHarness(adapter, { port: h.server.port }), /EADDRINUSE|address in use/);
    });

    it('closes a client that never answers pings after idleTimeoutSec, and keeps one that does', async () => {
      const own = await startHarness(adapter, { idleTimeoutSec: 8 });
      const silent = new Client(own.wsBase + '/events', { autoPong: false });
      const polite = new Client(own.wsBase + '/events');
      try {
        await Promise.all([silent.opened, polite.opened]);
        await silent.done;
        assert.ok(silent.pings > 0, 'pings were sent');
        assert.ok(silent.closed !== undefined && [1006, 1001, 1000].includes(silent.closed.code), `closed ${JSON.stringify(silent.closed)}`);
        assert.equal(polite.closed, undefined, 'the client that answers pings stays open');
        assert.ok(polite.pings > 0);
        await own.until(() => own.server.connections() === 1, 'the server forgets the silent client');
      } finally {
        silent.close();
        polite.close();
        await own.close();
      }
    });

    describe('TLS from PEM files', () => {
      let pki: Awaited<ReturnType<typeof selfSigned>>;
      let ca: Buffer;
      before(async () => {
        pki = await selfSigned();
        ca = await readFile(pki.cert);
      });
      after(() => rm(pki.dir, { recursive: true, force: true }));

      for (const encrypted of [false, true]) {
        it(`serves HTTPS and WSS with a self-signed certificate (${encrypted ? 'encrypted key with passphrase' : 'plain key'})`, async () => {
          const tls = encrypted ? { cert: pki.cert, key: pki.encryptedKey, passphrase: pki.passphrase } : { cert: pki.cert, key: pki.key };
          const own = await startHarness(adapter, { tls });
          try {
            own.http = (req) => ({ status: 200, body: JSON.stringify({ path: req.path, body: Buffer.from(req.body).toString() }) });
            const res = await fetchRaw(`${own.base}/secure`, { method: 'POST', body: 'over tls', ca });
            assert.deepEqual(JSON.parse(res.body.toString()), { path: '/secure', body: 'over tls' });
            const c = new Client(own.wsBase + '/events?ctx=tls', { ca });
            await c.opened;
            c.ws.send('ping over wss');
            assert.equal((await c.nth(1)).data.toString(), 'ping over wss');
            const conn = await own.conn(1);
            conn.subscribe('secure');
            own.server.publish('secure', 'published', false);
            assert.equal((await c.nth(2)).data.toString(), 'published');
            assert.deepEqual(own.events[0], { kind: 'open', id: conn.id, context: 'tls' });
            c.close();
            await c.done;
            await assert.rejects(fetchRaw(`${own.base}/secure`), /self-signed|self signed/);
          } finally {
            await own.close();
          }
        });
      }

      it('fails to start with a clear error when the key file is missing', async () => {
        await assert.rejects(startHarness(adapter, { tls: { cert: pki.cert, key: pki.dir + '/missing.pem' } }), /missing\.pem/);
      });
    });
  });
}
