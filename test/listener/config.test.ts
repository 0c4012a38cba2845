import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { availableParallelism } from 'node:os';
import { CONVERTER_DEFAULTS, ENGINE_DEFAULTS, LISTENER_DEFAULTS, parseHostPort, resolveEngineOptions } from '../../src/config.js';
import { optionsFromArgs } from '../../src/commands/start.js';
import { UsageError } from '../../src/errors.js';

describe('engine configuration', () => {
  it('defaults follow INTERFACE.md: ./data, MLLP 0.0.0.0:2575, HTTP 127.0.0.1:8080, 64 MiB frames', () => {
    const o = resolveEngineOptions();
    assert.equal(o.dataDir, './data');
    assert.equal(o.listeners.length, 1);
    assert.equal(o.listeners[0]!.name, 'mllp');
    assert.equal(o.listeners[0]!.host, '0.0.0.0');
    assert.equal(o.listeners[0]!.port, 2575);
    assert.equal(o.listeners[0]!.maxFrameBytes, 64 * 1024 * 1024);
    assert.deepEqual({ host: o.http.host, port: o.http.port, tokens: o.http.tokens }, { host: '127.0.0.1', port: 8080, tokens: [] });
    assert.ok(Object.isFrozen(ENGINE_DEFAULTS) && Object.isFrozen(LISTENER_DEFAULTS));
  });

  it('rejects out-of-range values with exact messages', () => {
    assert.throws(() => resolveEngineOptions({ listeners: [{ maxFrameBytes: 10 }] }), {
      name: 'RangeError',
      message: 'listeners.mllp.maxFrameBytes must be between 1 KiB and 1 GiB',
    });
    assert.throws(() => resolveEngineOptions({ listeners: [{ port: 70000 }] }), {
      message: 'listeners.mllp.port must be between 0 and 65535',
    });
    assert.throws(() => resolveEngineOptions({ listeners: [{ name: 'a' }, { name: 'a' }] }), {
      message: "listeners: duplicate name 'a'",
    });
    assert.throws(() => resolveEngineOptions({ listeners: [] }), { message: 'listeners must be a non-empty array' });
    assert.throws(() => parseHostPort('nohost', '--mllp'), {
      message: '--mllp must be HOST:PORT with a port between 0 and 65535',
    });
  });

  it('converter defaults: enabled, min(2, CPUs) workers, batches of 64, 4 in flight; ACK on commit', () => {
    const o = resolveEngineOptions();
    assert.deepEqual(o.converter, {
      enabled: true,
      workers: Math.min(2, availableParallelism()),
      batchSize: 64,
      maxInFlightBatches: 4,
      pollIntervalMs: 50,
    });
    assert.ok(Object.isFrozen(CONVERTER_DEFAULTS));
    assert.equal(o.listeners[0]!.ackOn, 'commit');
    assert.deepEqual(o.repository.policies, {});
    assert.equal(o.mapping.defaults.accession, 'OBR-18');
    const custom = resolveEngineOptions({
      converter: { workers: 4, batchSize: 16, maxInFlightBatches: 2 },
      listeners: [{ ackOn: 'apply' }],
      mapping: { timeZone: 'Europe/Paris', defaults: { accession: 'OBR-19' } },
      repository: { policies: { createUnknownPatients: false } },
    });
    assert.equal(custom.converter.workers, 4);
    assert.equal(custom.converter.batchSize, 16);
    assert.equal(custom.converter.maxInFlightBatches, 2);
    assert.equal(custom.listeners[0]!.ackOn, 'apply');
    assert.equal(custom.mapping.timeZone, 'Europe/Paris');
    assert.equal(custom.mapping.defaults.accession, 'OBR-19');
    assert.deepEqual(custom.repository.policies, { createUnknownPatients: false });
  });

  it('rejects bad converter, ackOn, mapping and policy values with exact messages', () => {
    assert.throws(() => resolveEngineOptions({ converter: { workers: 0 } }), {
      name: 'RangeError',
      message: 'converter.workers must be between 1 and 64',
    });
    assert.throws(() => resolveEngineOptions({ converter: { batchSize: 0 } }), {
      message: 'converter.batchSize must be between 1 and 10000',
    });
    assert.throws(() => resolveEngineOptions({ converter: { maxInFlightBatches: 2000 } }), {
      message: 'converter.maxInFlightBatches must be between 1 and 1024',
    });
    assert.throws(() => resolveEngineOptions({ converter: { enabled: 'yes' as unknown as boolean } }), {
      name: 'TypeError',
      message: 'converter.enabled must be a boolean',
    });
    assert.throws(() => resolveEngineOptions({ listeners: [{ ackOn: 'later' as 'apply' }] }), {
      message: 'listeners.mllp.ackOn must be "commit" or "apply"',
    });
    assert.throws(() => resolveEngineOptions({ listeners: [{ conversionErrorAck: 'CE' as 'AE' }] }), {
      message: 'listeners.mllp.conversionErrorAck must be "AE", "AR" or "AA"',
    });
    assert.equal(resolveEngineOptions({}).listeners[0]!.conversionErrorAck, 'AE');
    assert.equal(resolveEngineOptions({}).listeners[0]!.ackTypeForm, 'full');
    assert.throws(() => resolveEngineOptions({ listeners: [{ ackTypeForm: 'short' as 'bare' }] }), {
      message: 'listeners.mllp.ackTypeForm must be "full", "trigger" or "bare"',
    });
    assert.throws(() => resolveEngineOptions({ converter: { enabled: false }, listeners: [{ name: 'ris', ackOn: 'apply' }] }), {
      message: 'listeners.ris.ackOn "apply" needs the converter enabled',
    });
    assert.throws(() => resolveEngineOptions({ mapping: { defaults: { accession: 'PID-3' as 'OBR-18' } } }), RangeError);
    assert.throws(() => resolveEngineOptions({ repository: { policies: { createUnknownPatients: 'no' as unknown as boolean } } }), {
      message: 'repository.policies.createUnknownPatients must be a boolean',
    });
  });

  it('parses HOST:PORT including IPv6 and an empty host', () => {
    assert.deepEqual(parseHostPort('127.0.0.1:0', 'x'), { host: '127.0.0.1', port: 0 });
    assert.deepEqual(parseHostPort('[::1]:2575', 'x'), { host: '::1', port: 2575 });
    assert.deepEqual(parseHostPort(':2575', 'x'), { host: '0.0.0.0', port: 2575 });
  });

  it('start: flags override the environment, which overrides the config file', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'pacslink-cfg-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'config.json');
    await writeFile(file, JSON.stringify({ dataDir: '/from/file', listeners: [{ name: 'ris', port: 1111 }, { name: 'lab', port: 2222 }] }));
    const fromFile = await optionsFromArgs(['--config', file], {});
    assert.equal(fromFile.dataDir, '/from/file');
    assert.deepEqual(fromFile.listeners.map((l) => [l.name, l.port]), [['ris', 1111], ['lab', 2222]]);
    const fromEnv = await optionsFromArgs(['--config', file], { PACSLINK_DATA: '/from/env', PACSLINK_MLLP: '127.0.0.1:3333' });
    assert.equal(fromEnv.dataDir, '/from/env');
    assert.deepEqual([fromEnv.listeners[0]!.name, fromEnv.listeners[0]!.host, fromEnv.listeners[0]!.port], ['ris', '127.0.0.1', 3333]);
    const fromFlags = await optionsFromArgs(['--config', file, '--data', '/from/flag', '--mllp', ':4444'], { PACSLINK_DATA: '/from/env' });
    assert.equal(fromFlags.dataDir, '/from/flag');
    assert.equal(fromFlags.listeners[0]!.port, 4444);
  });

  it('start: bad configuration is a UsageError (exit code 2)', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'pacslink-cfg-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'bad.json');
    await writeFile(file, '{"listeners": [{"maxConnections": 0}]}');
    await assert.rejects(optionsFromArgs(['--config', file], {}), (err: unknown) => {
      assert.ok(err instanceof UsageError);
      assert.equal(err.message, 'listeners.mllp.maxConnections must be between 1 and 1000000');
      return true;
    });
    await assert.rejects(optionsFromArgs(['--config', join(dir, 'missing.json')], {}), UsageError);
    await assert.rejects(optionsFromArgs(['--bogus'], {}), UsageError);
    await assert.rejects(optionsFromArgs(['--mllp', 'x'], {}), UsageError);
  });
});
