import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CORPUS_SIZE_BOUNDS,
  MESSAGE_KINDS,
  createRandom,
  generateCorpus,
  generateLabelledCorpus,
  writeCorpusFile,
} from '../../bench/corpus.js';

const CR = 0x0d;
const LF = 0x0a;
const decoder = new TextDecoder('utf-8', { fatal: true });
const corpus = generateLabelledCorpus({ seed: 1, count: 2000 });

function segmentsOf(bytes: Uint8Array): string[] {
  const text = decoder.decode(bytes);
  return text.slice(0, -1).split('\r');
}

test('the same seed yields byte-identical corpora', () => {
  const a = generateCorpus({ seed: 42, count: 300 });
  const b = generateCorpus({ seed: 42, count: 300 });
  assert.equal(a.length, 300);
  assert.deepEqual(a, b);
});

test('different seeds yield different corpora', () => {
  const a = generateCorpus({ seed: 1, count: 50 });
  const b = generateCorpus({ seed: 2, count: 50 });
  assert.notDeepEqual(a, b);
});

test('the PRNG is mulberry32: known first outputs for seed 1', () => {
  const r = createRandom(1);
  assert.equal(r.next(), 0.6270739405881613);
  assert.equal(r.next(), 0.002735721180215478);
});

test('every message type of the mix appears, in proportion to its weight', () => {
  const counts = new Map<string, number>();
  for (const m of corpus) counts.set(m.kind, (counts.get(m.kind) ?? 0) + 1);
  for (const kind of MESSAGE_KINDS) assert.ok((counts.get(kind) ?? 0) > 0, `${kind} missing`);
  // Default weights: ORU^R01 22 %, ADT^A40 2 % of 2000.
  assert.equal(counts.get('ORU^R01'), 440);
  assert.equal(counts.get('ADT^A40'), 40);
});

test('a small corpus still covers every weighted type', () => {
  const small = generateLabelledCorpus({ seed: 7, count: MESSAGE_KINDS.length });
  assert.deepEqual(new Set(small.map((m) => m.kind)), new Set(MESSAGE_KINDS));
});

test('MSH-9 of each message matches its labelled type', () => {
  for (const m of corpus) {
    const msh9 = (segmentsOf(m.bytes)[0] as string).split('|')[8] as string;
    assert.equal(msh9.split('^').slice(0, 2).join('^'), m.kind);
  }
});

test('sizes stay within bounds and span ~300 B to ~9 KB', () => {
  const sizes = corpus.map((m) => m.bytes.length);
  for (const n of sizes) {
    assert.ok(n >= CORPUS_SIZE_BOUNDS.min && n <= CORPUS_SIZE_BOUNDS.max, `size ${n} out of bounds`);
  }
  assert.ok(Math.min(...sizes) < 500, `smallest ${Math.min(...sizes)}`);
  assert.ok(Math.max(...sizes) > 8000, `largest ${Math.max(...sizes)}`);
});

test('every message begins with MSH|^~\\&| and every segment ends with CR, no LF', () => {
  const prefix = new TextEncoder().encode('MSH|^~\\&|');
  for (const { bytes } of corpus) {
    assert.deepEqual(bytes.subarray(0, prefix.length), prefix);
    assert.equal(bytes[bytes.length - 1], CR);
    assert.ok(!bytes.includes(LF));
    for (const seg of segmentsOf(bytes)) assert.match(seg, /^[A-Z][A-Z0-9]{2}\|/);
  }
});

test('ORU^R01 carries 10 to 60 TX/FT OBX lines, some with escape sequences', () => {
  let escapes = 0;
  for (const m of corpus.filter((x) => x.kind === 'ORU^R01')) {
    const obx = segmentsOf(m.bytes).filter((s) => s.startsWith('OBX|'));
    assert.ok(obx.length >= 10 && obx.length <= 60, `${obx.length} OBX`);
    for (const s of obx) assert.match(s, /^OBX\|\d+\|(TX|FT)\|/);
    if (obx.some((s) => /\\(T|F|S|\.br|X0D0A|H)\\/.test(s))) escapes++;
  }
  assert.ok(escapes > 100, `${escapes} reports with escapes`);
});

test('segment structure per type: A40 has MRG, ORM has ZDS, OMI has TQ1 and IPC, SIU has SCH', () => {
  const need: Record<string, string[]> = {
    'ADT^A40': ['EVN', 'PID', 'MRG'], 'ORM^O01': ['PID', 'ORC', 'OBR', 'ZDS'],
    'OMI^O23': ['PID', 'ORC', 'TQ1', 'OBR', 'IPC'], 'ORU^R01': ['PID', 'OBR', 'OBX'], 'SIU^S12': ['SCH', 'PID', 'RGS', 'AIS'],
  };
  for (const m of corpus) {
    const ids = new Set(segmentsOf(m.bytes).map((s) => s.slice(0, 3)));
    for (const id of need[m.kind] ?? ['EVN', 'PID']) assert.ok(ids.has(id), `${m.kind} lacks ${id}`);
  }
});

test('non-ASCII text appears only in messages declaring MSH-18 UNICODE UTF-8', () => {
  let utf8WithHighBytes = 0;
  for (const m of corpus) {
    const high = m.bytes.some((b) => b >= 0x80);
    const msh18 = (segmentsOf(m.bytes)[0] as string).split('|')[17] ?? '';
    assert.equal(msh18 === 'UNICODE UTF-8', m.utf8);
    if (high) assert.ok(m.utf8, 'high bytes in a message without MSH-18');
    if (high && m.utf8) utf8WithHighBytes++;
  }
  assert.ok(utf8WithHighBytes > 100, `${utf8WithHighBytes} UTF-8 messages with non-ASCII`);
});

test('expected values are what the message holds, without escape sequences', () => {
  for (const m of corpus) {
    const segs = segmentsOf(m.bytes).map((s) => s.split('|'));
    const seg = (id: string): string[] | undefined => segs.find((f) => f[0] === id);
    const first = (v: string | undefined): string => (v ?? '').split('~')[0]!.split('^')[0]!.split('&')[0]!;
    assert.equal(m.expected.msh10, (seg('MSH') as string[])[9]);
    assert.equal(m.expected.pid3_1, first(seg('PID')?.[3]));
    assert.equal(m.expected.pid5_1, first(seg('PID')?.[5]));
    assert.equal(m.expected.obr4_1, first(seg('OBR')?.[4]));
    for (const v of Object.values(m.expected)) assert.ok(!v.includes('\\'), v);
  }
});

test('writeCorpusFile writes CR-terminated messages separated by LF', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pacslink-corpus-'));
  try {
    const messages = generateCorpus({ seed: 3, count: 20 });
    const file = join(dir, 'corpus.hl7');
    const written = writeCorpusFile(file, messages);
    const data = readFileSync(file);
    assert.equal(written, data.length);
    const parts = data.toString('utf8').split('\n');
    assert.equal(parts.pop(), '');
    assert.deepEqual(parts, messages.map((m) => decoder.decode(m)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('invalid options are rejected with exact messages', () => {
  assert.throws(() => generateCorpus({ seed: -1, count: 1 }), { name: 'RangeError', message: 'corpus.seed must be an integer between 0 and 4294967295' });
  assert.throws(() => generateCorpus({ seed: 1, count: 1.5 }), { name: 'RangeError', message: 'corpus.count must be an integer between 0 and 1000000' });
  assert.throws(() => generateCorpus({ seed: 1, count: 1, utf8Share: 2 }), { message: 'corpus.utf8Share must be between 0 and 1' });
});
