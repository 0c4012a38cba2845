import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseHostPort, resolveEngineOptions } from '../../src/config.js';
import { isLoopback, resolveGatewayOptions } from '../../src/gateway/options.js';

const hp = (t: string): { host: string; port: number } => parseHostPort(t, 'http');
const TOKEN = 'a-long-enough-secret-1';

describe('gateway options', () => {
  it('loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '::ffff:127.0.0.1']) assert.equal(isLoopback(h), true, h);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.org', '128.0.0.1']) assert.equal(isLoopback(h), false, h);
  });

  it('refuses to bind beyond loopback without tokens, with a message that says how to fix it', () => {
    assert.throws(() => resolveGatewayOptions('0.0.0.0:8080', hp), /beyond loopback, without tokens: add http.tokens/);
    assert.throws(() => resolveEngineOptions({ http: { host: '10.1.2.3' } }), /10\.1\.2\.3, beyond loopback/);
    const o = resolveGatewayOptions({ host: '0.0.0.0', tokens: [{ token: TOKEN, roles: ['read'] }] }, hp);
    assert.equal(o.host, '0.0.0.0');
    assert.deepEqual(o.tokens, [{ token: TOKEN, roles: ['read'], name: 'token-1' }]);
  });

  it('validates tokens, roles and limits with exact messages', () => {
    assert.throws(() => resolveGatewayOptions({ tokens: [{ token: 'short', roles: ['read'] }] }, hp), /token-1.token must be at least 16/);
    assert.throws(() => resolveGatewayOptions({ tokens: [{ token: TOKEN, roles: ['root' as 'read'] }] }, hp), /roles must list one or more/);
    assert.throws(
      () => resolveGatewayOptions({ tokens: [{ token: TOKEN, roles: ['read'] }, { token: TOKEN, roles: ['admin'], name: 'b' }] }, hp),
      /http.tokens: b repeats another token/,
    );
    assert.throws(() => resolveGatewayOptions({ adapter: 'nginx' as 'ws' }, hp), /http.adapter must be "auto", "uws" or "ws"/);
    assert.throws(() => resolveGatewayOptions({ idleTimeoutSec: 5 }, hp), /idleTimeoutSec must be 0 or between 8 and 960/);
    assert.throws(() => resolveGatewayOptions({ maxBodyBytes: 10 }, hp), /maxBodyBytes must be between 1 KiB/);
    assert.throws(() => resolveGatewayOptions({ tls: { cert: 'c' } as { cert: string; key: string } }, hp), /http.tls needs cert and key/);
  });
});
