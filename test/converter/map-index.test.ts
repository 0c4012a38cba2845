/** mapMessage / mapBytes: dispatch, ignored types, parse and internal errors, determinism, the fuzz corpus. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRandom, generateCorpus } from '../../bench/corpus.js';
import { MAPPING_DEFAULTS, createMappingOptions, mapBytes, mapMessage } from '../../src/converter/map/index.js';
import { Hl7Message } from '../../src/hl7/index.js';
import { hl7, parseOk } from '../helpers/hl7.js';

const OPTS = createMappingOptions({ timeZone: 'Europe/Berlin' });
const msh = (type: string): string => `MSH|^~\\&|X|Y|PACS|RAD|20240102120000||${type}|M1|P|2.5.1`;

test('message types the engine does not convert are accepted and ignored', () => {
  for (const [type, ignored] of [['QRY^A19', 'unsupported message type QRY^A19'], ['ACK', 'unsupported message type ACK'], ['ORU^R30', 'unsupported message type ORU^R30'], ['ORM^O02', 'unsupported message type ORM^O02']]) {
    const r = mapMessage(parseOk(hl7(msh(type!), 'PID|1||1^^^H')), OPTS);
    assert.ok(r.kind === 'changes', type);
    assert.deepEqual(r.changes, []);
    assert.equal(r.ignored, ignored);
  }
});

test('dispatch reads MSH-9.1/9.2 in any case and without MSH-9.3 (quirk 8)', () => {
  const r = mapMessage(parseOk(hl7(msh('adt^a08'), 'PID|1||1^^^H')), OPTS);
  assert.ok(r.kind === 'changes' && r.changes[0]?.op === 'patient.upsert');
  assert.equal(r.context.triggerEvent, 'A08');
});

test('a message wrapped in a batch header is read from its MSH', () => {
  const r = mapBytes(Buffer.from(hl7('BHS|^~\\&|B|BB', msh('ADT^A08'), 'PID|1||1^^^H', 'BTS|1')), OPTS, new Hl7Message());
  assert.ok(r.kind === 'changes');
  assert.equal(r.context.messageCode, 'ADT');
  assert.equal(r.context.sender, 'X^Y');
  assert.equal(r.changes.length, 1);
});

test('mapBytes reports a parse error as PARSE with the parser table 0357 code and location', () => {
  const r = mapBytes(Buffer.from('PID|1||123\r'), OPTS, new Hl7Message());
  assert.deepEqual(r, { kind: 'error', error: { code: 'PARSE', errCode: 100, message: 'message does not begin with an MSH segment', segment: 'MSH' } });
  const empty = mapBytes(new Uint8Array(0), OPTS, new Hl7Message());
  assert.ok(empty.kind === 'error' && empty.error.code === 'PARSE' && empty.error.segment === undefined);
});

test('mapBytes with a reused parser maps each message as a fresh parse does', () => {
  const parser = new Hl7Message();
  for (const bytes of generateCorpus({ seed: 11, count: 40 })) {
    assert.deepEqual(mapBytes(bytes, OPTS, parser), mapMessage(parseOk(bytes), OPTS));
  }
});

test('an unexpected exception becomes INTERNAL 207, never a throw', () => {
  const broken = { ...MAPPING_DEFAULTS, timeZone: 'No/Such_Zone' };
  const r = mapMessage(parseOk(hl7(msh('ADT^A08'), 'PID|1||1^^^H')), broken);
  assert.ok(r.kind === 'error');
  assert.equal(r.error.code, 'INTERNAL');
  assert.equal(r.error.errCode, 207);
  assert.match(r.error.message, /mapping failed/);
});

test('mapping the fuzz corpus never throws and always gives a result kind; results are plain data (structured clone)', () => {
  const parser = new Hl7Message();
  const kinds = new Map<string, number>();
  for (const bytes of generateCorpus({ seed: 3, count: 500 })) {
    const r = mapBytes(bytes, OPTS, parser);
    assert.ok(r.kind === 'changes' || r.kind === 'error');
    const key = r.kind === 'changes' ? r.context.messageCode : r.error.code;
    kinds.set(key, (kinds.get(key) ?? 0) + 1);
    assert.deepEqual(structuredClone(r), r);
  }
  for (const code of ['ADT', 'ORM', 'OMI', 'ORU', 'SIU']) assert.ok((kinds.get(code) ?? 0) > 0, code);
});

test('mutated corpus messages (truncated, bytes flipped, segments dropped) never make mapping throw', () => {
  const rnd = createRandom(7);
  const parser = new Hl7Message();
  const corpus = generateCorpus({ seed: 3, count: 200 });
  for (const original of corpus) {
    for (let k = 0; k < 5; k++) {
      const bytes = Uint8Array.from(original);
      const mode = rnd.int(0, 2);
      let input: Uint8Array = bytes;
      if (mode === 0) input = bytes.subarray(0, rnd.int(0, bytes.length));
      else if (mode === 1) for (let i = 0; i < 8; i++) bytes[rnd.int(0, bytes.length - 1)] = rnd.pick([0x7c, 0x5e, 0x7e, 0x26, 0x5c, 0x0d, 0x22, rnd.int(0, 255)]);
      else input = Buffer.from(Buffer.from(bytes).toString('latin1').split('\r').filter(() => !rnd.chance(0.25)).join('\r'), 'latin1');
      const r = mapBytes(input, OPTS, parser);
      assert.ok(r.kind === 'changes' || r.kind === 'error');
      if (r.kind === 'error') assert.notEqual(r.error.code, 'INTERNAL', r.error.message);
    }
  }
});

test('the same input twice gives deep-equal output (determinism)', () => {
  for (const bytes of generateCorpus({ seed: 5, count: 100 })) {
    assert.deepEqual(mapBytes(bytes, OPTS, new Hl7Message()), mapBytes(Uint8Array.from(bytes), OPTS, new Hl7Message()));
  }
});
