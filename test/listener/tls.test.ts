/**
 * TLS listeners: identical framing inside TLS, required client certificates verified
 * against the CA, and an allow-list by subject or SHA-256 fingerprint (DOMAIN.md §1.3).
 * Certificates are made with the system's openssl for each run.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { MllpClient, readAck } from '../../src/mllp/client.js';
import { FakeLog } from './fake-log.js';
import { message, testEngine } from './helpers.js';

const openssl = promisify(execFile);

interface Pki {
  dir: string;
  ca: Buffer;
  server: { cert: string; key: string };
  clients: Record<'ris' | 'other', { cert: Buffer; key: Buffer; fingerprint: string }>;
}

async function makePki(): Promise<Pki> {
  const dir = await mkdtemp(join(tmpdir(), 'pacslink-pki-'));
  const p = (f: string): string => join(dir, f);
  const o = (...args: string[]) => openssl('openssl', args, { cwd: dir });
  await o('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=Test CA');
  const leaf = async (name: string, subj: string, ext: string[]): Promise<void> => {
    await o('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', subj);
    await o('x509', '-req', '-in', p(`${name}.csr`), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p(`${name}.pem`), '-days', '2', ...ext);
  };
  await leaf('server', '/CN=localhost', []);
  await leaf('ris', '/O=Hosp/CN=ris.hosp', []);
  await leaf('other', '/O=Elsewhere/CN=other', []);
  const client = async (name: string) => {
    const cert = await readFile(p(`${name}.pem`));
    return { cert, key: await readFile(p(`${name}.key`)), fingerprint: new X509Certificate(cert).fingerprint256 };
  };
  return {
    dir,
    ca: await readFile(p('ca.pem')),
    server: { cert: p('server.pem'), key: p('server.key') },
    clients: { ris: await client('ris'), other: await client('other') },
  };
}

describe('TLS listener', () => {
  let pki: Pki;
  before(async () => {
    pki = await makePki();
  });
  after(() => rm(pki.dir, { recursive: true, force: true }));

  const connect = (port: number, who: 'ris' | 'other' | undefined) =>
    MllpClient.connect({
      host: '127.0.0.1',
      port,
      connectTimeoutMs: 5000,
      tls: {
        ca: pki.ca,
        servername: 'localhost',
        ...(who !== undefined ? { cert: pki.clients[who].cert, key: pki.clients[who].key } : {}),
      },
    });

  /**
   * A client the listener must refuse: either the TLS handshake fails, or the server closes the
   * connection before answering its first message.
   */
  const assertRefused = async (port: number, client: 'ris' | 'other' | undefined, controlId: string): Promise<void> => {
    const c = await connect(port, client).catch((err: Error) => err);
    if (c instanceof MllpClient) {
      await assert.rejects(c.send(message(controlId)), { code: /ERR_MLLP_(CLOSED|SOCKET)/ });
    }
  };

  it('speaks MLLP inside TLS without client certificates when none are required', async (t) => {
    const te = await testEngine(new FakeLog(), { tls: { cert: pki.server.cert, key: pki.server.key } });
    t.after(() => te.close());
    const client = await connect(te.port, undefined);
    t.after(() => client.close());
    assert.deepEqual(readAck(await client.send(message('TLS1'))), { code: 'AA', controlId: 'TLS1' });
  });

  it('with required client certificates, admits an allowed subject and closes on others', async (t) => {
    const te = await testEngine(new FakeLog(), {
      tls: {
        cert: pki.server.cert,
        key: pki.server.key,
        ca: join(pki.dir, 'ca.pem'),
        requireClientCert: true,
        allow: { subjects: ['ris.hosp'] },
      },
    });
    t.after(() => te.close());
    const ris = await connect(te.port, 'ris');
    t.after(() => ris.close());
    assert.equal(readAck(await ris.send(message('TLS2'))).code, 'AA');

    // A verified certificate outside the allow-list: the server closes before answering.
    await assertRefused(te.port, 'other', 'TLS3');
    // No certificate at all: the handshake (or the first exchange under TLS 1.3) fails.
    await assertRefused(te.port, undefined, 'TLS4');
    const text = await te.engine.metrics.registry.getSingleMetricAsString('pacslink_mllp_connections_refused_total');
    assert.match(text, /reason="tls-allow-list"\} 1/);
  });

  it('admits a client by SHA-256 fingerprint (colons and case ignored)', async (t) => {
    const te = await testEngine(new FakeLog(), {
      tls: {
        cert: pki.server.cert,
        key: pki.server.key,
        ca: join(pki.dir, 'ca.pem'),
        requireClientCert: true,
        allow: { fingerprints: [pki.clients.other.fingerprint.replace(/:/g, '').toLowerCase()] },
      },
    });
    t.after(() => te.close());
    const other = await connect(te.port, 'other');
    t.after(() => other.close());
    assert.equal(readAck(await other.send(message('TLS5'))).code, 'AA');
    await assertRefused(te.port, 'ris', 'TLS6');
  });
});
