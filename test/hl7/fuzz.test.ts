/**
 * Property tests of the HL7 core (fast-check, fixed seeds, bounded runs):
 * (a) any text escaped with escapeValue and written as a component, subcomponent,
 *     repetition or field, under any delimiters, reads back unchanged through get();
 * (b) random bytes and random mutations of valid messages never make parse, readHeader,
 *     splitMessages, buildAck, messageToJson or get() on any path throw;
 * (c) messageToJson never throws and gives JSON that survives a round trip.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  AckCode,
  type Delimiters,
  Hl7Message,
  Render,
  buildAck,
  escapeValue,
  messageToJson,
  readHeader,
  splitMessages,
} from '../../src/hl7/index.js';

const RUNS = { seed: 20241124, numRuns: 1000 };

/** Text built from pieces that stress the escaper: delimiters, escapes, line ends, `""`, non-ASCII. */
const trickyText = fc
  .array(
    fc.oneof(
      fc.constantFrom('|', '^', '~', '\\', '&', '#', '*', '@', '!', '$', '%', '\r', '\n', '\r\n', '""', '"', '\\.br\\', '\\.sp 2\\', '\\X0D\\', '\\F\\', '\\E\\', '\\H\\', '\\Zab\\', '\\', '\t', '\x0b', '\x1c', '\x00', 'MSH|', 'PID', 'é', 'Ü', '😀', '\u00a0', '\ufeff', ' '),
      fc.string({ unit: 'grapheme', maxLength: 6 }),
      fc.string({ unit: 'binary-ascii', maxLength: 6 }),
    ),
    { maxLength: 10 },
  )
  .map((parts) => parts.join(''));

/** Punctuation a sender may declare as delimiters (not `-`, `.`, `/` or space, which MSH-12/18 values use). */
const POOL = ['|', '^', '~', '\\', '&', '#', '!', '@', '$', '%', '*', '+', ';', ':', '<', '>', '?', '=', ',', "'", '"', '{', '}', '[', ']', '`'];

const delimiters = fc.oneof(
  fc.constant<Delimiters>({ field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&', truncation: '' }),
  fc.constant<Delimiters>({ field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&', truncation: '#' }),
  fc.tuple(fc.shuffledSubarray(POOL, { minLength: 6, maxLength: 6 }), fc.boolean()).map(([d, five]): Delimiters => ({
    field: d[0]!,
    component: d[1]!,
    repetition: d[2]!,
    escape: d[3]!,
    subcomponent: d[4]!,
    truncation: five ? d[5]! : '',
  })),
);

function encodingCharacters(d: Delimiters): string {
  return d.component + d.repetition + d.escape + d.subcomponent + d.truncation;
}

describe('property: escaped values round-trip through a message', () => {
  it('component, repetition, subcomponent and whole-field values read back unchanged', () => {
    const msg = new Hl7Message();
    fc.assert(
      fc.property(delimiters, fc.constantFrom('UNICODE UTF-8', ''), trickyText, trickyText, trickyText, trickyText, trickyText, (d, charset, v1, v2, v3, v4, v5) => {
        const f = d.field;
        const e = (v: string): string => escapeValue(v, d);
        const segments = [
          `MSH${f}${encodingCharacters(d)}${f}RIS${f}HOSP${f}PACS${f}RAD${f}20240102${f}${f}ADT${d.component}A01${f}X1${f}P${f}2.5${f}${f}${f}${f}${f}DEU${f}${charset}`,
          `PID${f}1${f}${f}${e(v1)}${d.component}${d.component}${d.component}HOSP${d.repetition}${e(v2)}${d.component}${e(v3)}${d.subcomponent}${e(v4)}`,
          `NTE${f}1${f}${f}${e(v5)}`,
        ];
        const bytes = Buffer.from(segments.join('\r') + '\r', 'utf8');
        assert.equal(msg.parse(bytes), undefined);
        assert.equal(msg.segmentCount, 3);
        assert.equal(msg.get('PID-3.1'), v1);
        assert.equal(msg.get('PID-3[1].4'), 'HOSP');
        assert.equal(msg.get('PID-3[2].1'), v2);
        assert.equal(msg.get('PID-3[2].2.1'), v3);
        assert.equal(msg.get('PID-3[2].2.2'), v4);
        assert.equal(msg.get('NTE-3'), v5);
        assert.equal(msg.get('NTE-3', Render.Raw), v5);
        assert.equal(msg.get('MSH-9.2'), 'A01');
        assert.equal(msg.get('MSH-2'), encodingCharacters(d));
      }),
      RUNS,
    );
  });

  it('Latin-1 text in an 8859/1 message reads back unchanged', () => {
    const latin1 = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 30 });
    const msg = new Hl7Message();
    fc.assert(
      fc.property(delimiters, latin1, latin1, (d, v1, v2) => {
        const f = d.field;
        const text = `MSH${f}${encodingCharacters(d)}${f}RIS${f}HOSP${f}PACS${f}RAD${f}20240102${f}${f}ADT${d.component}A01${f}X1${f}P${f}2.5${f}${f}${f}${f}${f}DEU${f}8859/1\rPID${f}1${f}${f}${escapeValue(v1, d)}${d.component}${escapeValue(v2, d)}\r`;
        assert.equal(msg.parse(Buffer.from(text, 'latin1')), undefined);
        assert.equal(msg.charset.name, '8859/1');
        assert.equal(msg.get('PID-3.1'), v1);
        assert.equal(msg.get('PID-3.2'), v2);
      }),
      RUNS,
    );
  });

  it('an escaped value never contains a delimiter, a CR or an LF', () => {
    fc.assert(
      fc.property(delimiters, trickyText, (d, v) => {
        const escaped = escapeValue(v, d);
        for (const ch of [d.field, d.component, d.repetition, d.subcomponent, d.truncation, '\r', '\n']) {
          if (ch !== '') assert.ok(!escaped.includes(ch), `${JSON.stringify(escaped)} holds ${JSON.stringify(ch)}`);
        }
      }),
      RUNS,
    );
  });
});

const VALID = [
  'MSH|^~\\&|RIS^1.2^ISO|HOSP|PACS|RAD|20240102120000+0100||ORM^O01^ORM_O01|MSG\\F\\1|P|2.5.1|||AL|NE||UNICODE UTF-8',
  'PID|1||12345^^^HOSP&1.2.3&ISO^MR~999^^^X||MÜLLER^JÜRGEN^^^DR||19800101|""',
  'ORC|NW|PL1|FI1',
  'OBR|1|PL1|FI1|CT^CT Head^L|||20240102||||||||||||ACC1',
  'OBX|1|FT|||line\\.br\\two\\X0D0A\\ \\H\\bold\\N\\|||N',
  'ZDS|1.2.3.4^PACS^Application^DICOM',
].join('\r');

const VALID_BATCH = `FHS|^~\\&\rBHS|^~\\&\r${VALID}\rMSH*@!$%*A*B*C*D*1**ADT@A08*M2*P*2.3\rPID*1**7\rBTS|2\rFTS|1\r`;

/** A valid message with random byte edits: overwrite, insert, delete, duplicate a range. */
const mutated = fc
  .tuple(
    fc.constantFrom(VALID, VALID_BATCH, `\x0b${VALID}\r\x1c\r`),
    fc.array(
      fc.tuple(fc.constantFrom('set', 'insert', 'delete', 'dup'), fc.nat(), fc.nat({ max: 40 }), fc.uint8Array({ minLength: 1, maxLength: 8 })),
      { minLength: 1, maxLength: 8 },
    ),
  )
  .map(([base, edits]) => {
    let b = Buffer.from(base, 'utf8');
    for (const [op, at, len, data] of edits) {
      const i = b.length === 0 ? 0 : at % b.length;
      if (op === 'set') b[i] = data[0]!;
      else if (op === 'insert') b = Buffer.concat([b.subarray(0, i), data, b.subarray(i)]);
      else if (op === 'delete') b = Buffer.concat([b.subarray(0, i), b.subarray(i + len)]);
      else b = Buffer.concat([b.subarray(0, i + len), b.subarray(i, i + len), b.subarray(i + len)]);
    }
    return new Uint8Array(b);
  });

/** Random bytes, raw or behind a plausible header so the parser gets past the first checks. */
const randomBytes = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.uint8Array({ maxLength: 300 }).map((b) => new Uint8Array(Buffer.concat([Buffer.from('MSH|^~\\&|'), b]))),
  fc.uint8Array({ maxLength: 300 }).map((b) => new Uint8Array(Buffer.concat([Buffer.from('MSH'), b]))),
  fc.array(fc.constantFrom('MSH', 'PID', 'FHS', 'BHS', 'BTS', 'FTS', '|', '^', '~', '\\', '&', '\r', '\n', '\x0b', '\x1c', '""', '1', 'é', '\\X0D\\', '\\.br\\', '\\'), { maxLength: 60 }).map((p) => new Uint8Array(Buffer.from(p.join(''), 'utf8'))),
);

const segmentIds = ['MSH', 'PID', 'OBX', 'OBR', 'ZDS', 'FHS', 'BTS', 'ZZZ'];
const fieldPath = fc
  .tuple(fc.constantFrom(...segmentIds), fc.option(fc.integer({ min: 1, max: 3 })), fc.option(fc.integer({ min: 1, max: 25 })), fc.option(fc.integer({ min: 1, max: 4 })), fc.option(fc.integer({ min: 1, max: 6 })), fc.option(fc.integer({ min: 1, max: 4 })))
  .map(([seg, occ, field, rep, comp, sub]) => {
    let p = seg + (occ === null ? '' : `[${occ}]`);
    if (field === null) return p;
    p += `-${field}` + (rep === null ? '' : `[${rep}]`);
    if (comp === null) return p;
    return p + `.${comp}` + (sub === null ? '' : `.${sub}`);
  });

/** Everything the core offers on untrusted input; throws only if one of them does. */
function exerciseAll(bytes: Uint8Array, paths: string[]): void {
  const msg = new Hl7Message();
  const error = msg.parse(bytes);
  const header = readHeader(bytes);
  buildAck({ header: header.ok ? header.header : header.header, code: header.ok ? AckCode.AA : AckCode.AR, controlId: 'C', time: 0, utcOffsetMinutes: 0, text: header.ok ? '' : header.error.message, error: header.ok ? undefined : { errCode: header.error.errCode, segment: header.error.segment, field: header.error.field } });
  if (error === undefined) {
    JSON.stringify(messageToJson(msg));
    JSON.stringify(messageToJson(msg, Render.Text));
    for (const p of paths) {
      assert.equal(typeof msg.get(p), 'string');
      assert.equal(typeof msg.get(p, Render.Text), 'string');
      msg.presence(p);
      msg.bytesAt(p);
    }
  }
  for (const part of splitMessages(bytes).messages) {
    if (msg.parse(part) === undefined) JSON.stringify(messageToJson(msg));
    readHeader(part);
  }
}

describe('property: untrusted input never throws', () => {
  it('random bytes', () => {
    fc.assert(fc.property(randomBytes, fc.array(fieldPath, { maxLength: 8 }), (bytes, paths) => exerciseAll(bytes, paths)), RUNS);
  });

  it('random mutations of valid messages and batches', () => {
    fc.assert(fc.property(mutated, fc.array(fieldPath, { maxLength: 8 }), (bytes, paths) => exerciseAll(bytes, paths)), RUNS);
  });

  it('get() on any valid path of a valid message returns a string', () => {
    const msg = new Hl7Message();
    assert.equal(msg.parse(Buffer.from(VALID, 'utf8')), undefined);
    fc.assert(fc.property(fieldPath, (p) => {
      assert.equal(typeof msg.get(p), 'string');
      assert.equal(typeof msg.get(p, Render.Text), 'string');
    }), { ...RUNS, numRuns: 1000 });
  });

  it('the ACK for any readable header parses back with MSA-2 equal to MSH-10 as written', () => {
    fc.assert(
      fc.property(mutated, (bytes) => {
        const r = readHeader(bytes);
        const ack = buildAck({ header: r.ok ? r.header : r.header, code: AckCode.AA, controlId: 'C', time: 0, utcOffsetMinutes: 0 });
        const msg = new Hl7Message();
        assert.equal(msg.parse(ack), undefined);
        assert.equal(msg.segmentName(0), 'MSH');
        assert.equal(msg.segmentName(1), 'MSA');
        if (r.ok) assert.equal(msg.wireAt(1, 2), r.header.controlId);
      }),
      RUNS,
    );
  });
});

/** A valid message under random delimiters (MSH-2 of 4 or 5 characters) with random escaped values. */
const validAnyDelimiters = fc.tuple(delimiters, trickyText, trickyText, fc.constantFrom('\r', '\n', '\r\n')).map(([d, v1, v2, eol]) => {
  const f = d.field;
  return new Uint8Array(Buffer.from([
    `MSH${f}${encodingCharacters(d)}${f}RIS${f}HOSP${f}PACS${f}RAD${f}20240102${f}${f}ADT${d.component}A01${f}${escapeValue(v1, d)}${f}P${f}2.5`,
    `PID${f}1${f}${f}${escapeValue(v2, d)}${d.component}${d.component}${d.component}HOSP${d.repetition}X`,
  ].join(eol), 'utf8'));
});

describe('property: a reused Hl7Message reads like a fresh one', () => {
  it('parsing a sequence of messages with one instance gives what a new instance gives for each', () => {
    const reused = new Hl7Message();
    const view = (m: Hl7Message, bytes: Uint8Array): unknown => {
      const error = m.parse(bytes);
      return error ?? { json: messageToJson(m), delimiters: { ...m.delimiters }, charset: m.charset.name, warnings: m.warnings, header: readHeader(bytes) };
    };
    fc.assert(
      fc.property(fc.array(fc.oneof(validAnyDelimiters, mutated, randomBytes), { minLength: 2, maxLength: 5 }), (inputs) => {
        for (const bytes of inputs) assert.deepEqual(view(reused, bytes), view(new Hl7Message(), bytes));
      }),
      { ...RUNS, numRuns: 300 },
    );
  });
});

describe('property: messageToJson', () => {
  it('never throws and its output survives JSON.stringify/parse unchanged', () => {
    const msg = new Hl7Message();
    fc.assert(
      fc.property(fc.oneof(mutated, randomBytes), (bytes) => {
        if (msg.parse(bytes) !== undefined) return;
        for (const render of [Render.Raw, Render.Text]) {
          const json = messageToJson(msg, render);
          assert.equal(json.segments.length, msg.segmentCount);
          assert.deepEqual(JSON.parse(JSON.stringify(json)), json);
        }
      }),
      RUNS,
    );
  });
});
