/**
 * The engine's gateway as an operator configures it for a network: `http.tls` from PEM files
 * and bearer tokens, bound beyond loopback (allowed because tokens are set). HTTPS and WSS
 * answer; a request without a token gets 401 and one with a token lacking the role 403.
 */
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { testEngine } from '../listener/helpers.js';
import { fetchRaw, selfSigned } from './conformance.js';

const READ = 'read-token-0123456789';
const SUB = 'subscribe-token-0123456789';

describe('engine gateway over TLS with tokens', () => {
  it('serves HTTPS and WSS on 0.0.0.0 with tokens, and refuses requests without the right token', async (t) => {
    const pki = await selfSigned();
    t.after(() => rm(pki.dir, { recursive: true, force: true }));
    const ca = await readFile(pki.cert);
    const te = await testEngine(undefined, {}, {
      http: {
        host: '0.0.0.0',
        port: 0,
        tls: { cert: pki.cert, key: pki.key },
        tokens: [
          { token: READ, roles: ['read'], name: 'dashboard' },
          { token: SUB, roles: ['subscribe'], name: 'pacs' },
        ],
      },
    });
    t.after(() => te.close());
    const base = `https://127.0.0.1:${te.engine.ports.http}`;

    const health = await fetchRaw(`${base}/healthz`, { ca });
    assert.equal(health.status, 200, 'health needs no token');
    const anonymous = await fetchRaw(`${base}/api/stats`, { ca });
    assert.equal(anonymous.status, 401);
    assert.match(String(anonymous.headers['www-authenticate']), /^Bearer/);
    const stats = await fetchRaw(`${base}/api/stats`, { ca, headers: { authorization: `Bearer ${READ}` } });
    assert.equal(stats.status, 200);
    const forbidden = await fetchRaw(`${base}/api/stats`, { ca, headers: { authorization: `Bearer ${SUB}` } });
    assert.equal(forbidden.status, 403);
    const metrics = await fetchRaw(`${base}/metrics`, { ca, headers: { authorization: `Bearer ${READ}` } });
    assert.match(metrics.body.toString(), /pacslink_native_adapter\{port="gateway",impl="(uws|ws)"\} 1/);

    const wsUrl = `wss://127.0.0.1:${te.engine.ports.http}/events?from=0`;
    const refused = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(wsUrl, { ca, headers: { authorization: `Bearer ${READ}` } });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => reject(new Error('a read token must not subscribe')));
      ws.on('error', () => {});
    });
    assert.equal(refused, 403);
    await new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(wsUrl, { ca, headers: { authorization: `Bearer ${SUB}` } });
      ws.on('open', () => {
        ws.close(1000);
        resolve();
      });
      ws.on('unexpected-response', (_req, res) => reject(new Error(`upgrade refused ${res.statusCode}`)));
      ws.on('error', reject);
    });
  });

  it('readiness: an ingest-only engine (converter disabled) is ready', async (t) => {
    const te = await testEngine(undefined, {}, { converter: { enabled: false } });
    t.after(() => te.close());
    const ready = await fetchRaw(`http://127.0.0.1:${te.engine.ports.http}/readyz`);
    assert.equal(ready.status, 200, ready.body.toString());
    assert.deepEqual(JSON.parse(ready.body.toString()), { status: 'ready', storage: true, listeners: true, converter: true });
  });
});
