import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hl7ErrorCode, Hl7Message, ParseWarning, Presence, Render, compilePath, isFieldPath, isHl7Error, parseMessage } from '../../src/hl7/index.js';
import { MSH, hl7, parseOk } from '../helpers/hl7.js';

const PID = 'PID|1||123^^^HOSP&1.2.3&ISO^MR~456^^^OTHER^PI||DOE^JOHN^Q^JR^DR||19800101|M';

test('fields are numbered as the standard does: MSH-1 is the separator, MSH-2 the encoding characters', () => {
  const m = parseOk(hl7(MSH, PID));
  assert.equal(m.get('MSH-1'), '|');
  assert.equal(m.get('MSH-2'), '^~\\&');
  assert.equal(m.get('MSH-3'), 'RIS');
  assert.equal(m.get('MSH-9'), 'ORM^O01^ORM_O01');
  assert.equal(m.get('MSH-9.2'), 'O01');
  assert.equal(m.get('MSH-10'), 'MSG0001');
  assert.equal(m.get('MSH-12'), '2.5.1');
  assert.equal(m.get('PID-1'), '1');
  assert.equal(m.get('PID-3.1'), '123');
  assert.equal(m.get('PID-8'), 'M');
});

test('path grammar: occurrence, repetition, component, subcomponent', () => {
  const m = parseOk(hl7(MSH, PID, 'OBX|1|TX|||first', 'OBX|2|TX|||second', 'OBX|3|TX|||third'));
  assert.equal(m.get('PID-3[2].1'), '456');
  assert.equal(m.get('PID-3[2].5'), 'PI');
  assert.equal(m.get('PID-3.4.2'), '1.2.3');
  assert.equal(m.get('PID-3[1].4.3'), 'ISO');
  assert.equal(m.get('OBX[3]-5'), 'third');
  assert.equal(m.get('OBX[2]-5'), 'second');
  assert.equal(m.get('OBX-5'), 'first');
  assert.equal(m.get('OBX[4]-5'), '');
});

test('a path above its leaves yields wire form; a leaf is decoded', () => {
  const m = parseOk(hl7(MSH, PID));
  assert.equal(m.get('PID-5'), 'DOE^JOHN^Q^JR^DR');
  assert.equal(m.get('PID-3'), '123^^^HOSP&1.2.3&ISO^MR~456^^^OTHER^PI');
  assert.equal(m.get('PID-3.4'), 'HOSP&1.2.3&ISO');
  assert.equal(m.get('PID-3[2]'), '456^^^OTHER^PI');
  assert.equal(m.get('PID-5.1'), 'DOE');
});

test('a path past the data yields the empty string; trailing empty fields may be omitted (quirk 3)', () => {
  const m = parseOk(hl7(MSH, 'PID|1||123^^^H'));
  assert.equal(m.get('PID-3.4'), 'H');
  assert.equal(m.get('PID-3.5'), '');
  assert.equal(m.get('PID-3.4.2'), '');
  assert.equal(m.get('PID-3[2].1'), '');
  assert.equal(m.get('PID-30'), '');
  assert.equal(m.get('ZZZ-1'), '');
  assert.equal(m.presence('PID-30'), Presence.Absent);
  assert.equal(m.presence('PID-3.5'), Presence.Absent);
  assert.equal(m.fieldCount(m.segmentIndex('PID')), 3);
});

test('absent, empty and the HL7 null "" are three different things', () => {
  const m = parseOk(hl7(MSH, 'PID|1|||""|DOE^""^^|'));
  assert.equal(m.presence('PID-2'), Presence.Empty);
  assert.equal(m.presence('PID-4'), Presence.Null);
  assert.equal(m.get('PID-4'), '""');
  assert.equal(m.presence('PID-5.1'), Presence.Value);
  assert.equal(m.presence('PID-5.2'), Presence.Null);
  assert.equal(m.presence('PID-5.3'), Presence.Empty);
  assert.equal(m.presence('PID-6'), Presence.Empty);
  assert.equal(m.presence('PID-7'), Presence.Absent);
  assert.equal(m.presence('PV1-1'), Presence.Absent);
});

test('segment terminators CR, LF and CRLF, blank and whitespace-only lines (quirk 1)', () => {
  for (const sep of ['\r', '\n', '\r\n', '\r\r\n', '\n\n']) {
    const m = parseOk([MSH, '', PID, '   ', 'PV1|1|I|WARD^1^2'].join(sep) + sep + sep);
    assert.equal(m.segmentCount, 3, JSON.stringify(sep));
    assert.equal(m.get('PID-5.2'), 'JOHN');
    assert.equal(m.get('PV1-3.3'), '2');
    assert.equal(m.get('MSH-12'), '2.5.1');
  }
});

test('a leading BOM and leading whitespace are stripped', () => {
  const body = Buffer.from(hl7(MSH, PID), 'utf8');
  const m = parseOk(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('\r\n  '), body]));
  assert.equal(m.get('MSH-3'), 'RIS');
  assert.equal(m.segmentName(0), 'MSH');
});

test('non-default delimiters are read from MSH-1/MSH-2 of each message (quirk 4)', () => {
  const m = parseOk(hl7('MSH*:!%@*RIS*HOSP*PACS*RAD*20240102**ADT:A04*C1*P*2.3.1', 'PID*1**A1:::HOSP@1.2@ISO!A2**SMITH:JANE'));
  assert.deepEqual(m.delimiters, { field: '*', component: ':', repetition: '!', escape: '%', subcomponent: '@', truncation: '' });
  assert.equal(m.get('MSH-2'), ':!%@');
  assert.equal(m.get('MSH-9.2'), 'A04');
  assert.equal(m.get('PID-3.4.2'), '1.2');
  assert.equal(m.get('PID-3[2].1'), 'A2');
  assert.equal(m.get('PID-5.2'), 'JANE');
  // The next message on the same instance declares the defaults again.
  m.parse(Buffer.from(hl7(MSH, PID)));
  assert.equal(m.delimiters.field, '|');
  assert.equal(m.get('PID-5.2'), 'JOHN');
});

test('a 5-character MSH-2 declares the truncation character, which is not a separator', () => {
  const m = parseOk(hl7('MSH|^~\\&#|RIS|HOSP|||20240102||ADT^A08|C2|P|2.7', 'PID|1||ID#1||LONGNAM#^J\\P\\'));
  assert.equal(m.delimiters.truncation, '#');
  assert.equal(m.get('MSH-2'), '^~\\&#');
  assert.equal(m.get('PID-3'), 'ID#1');
  assert.equal(m.get('PID-5.1'), 'LONGNAM#');
  assert.equal(m.get('PID-5.2'), 'J#');
});

test('an MSH-2 shorter than four characters disables the missing delimiters', () => {
  const m = parseOk(hl7('MSH|^~|RIS|HOSP|||20240102||ADT^A08|C3|P|2.3', 'PID|1||A~B||X^Y\\Z&W'));
  assert.equal(m.get('PID-3[2]'), 'B');
  assert.equal(m.get('PID-5.2'), 'Y\\Z&W');
});

test('unescaped delimiters in data are read as separators, so the leaf above them comes back in wire form (quirk 6)', () => {
  const m = parseOk(hl7(MSH, 'PID|1||1||Smith & Sons^Ltd'));
  assert.equal(m.get('PID-5.1'), 'Smith & Sons');
  assert.equal(m.get('PID-5.1.1'), 'Smith ');
  assert.equal(m.get('PID-5.1.2'), ' Sons');
  assert.equal(m.get('PID-5.2'), 'Ltd');
});

test('Z-segments and unexpected segments anywhere are kept and readable (quirk 9)', () => {
  const m = parseOk(hl7(MSH, 'ZDS|1.2.3.4.5^RIS^Application^DICOM', PID, 'ZXY|a|b', 'OBR|1|P1|F1|71020^CHEST'));
  assert.equal(m.get('ZDS-1.1'), '1.2.3.4.5');
  assert.equal(m.get('ZXY-2'), 'b');
  assert.equal(m.get('OBR-4.2'), 'CHEST');
  assert.deepEqual(Array.from({ length: m.segmentCount }, (_, i) => m.segmentName(i)), ['MSH', 'ZDS', 'PID', 'ZXY', 'OBR']);
});

test('repeating groups are iterated by segment index and repetition (quirk 11)', () => {
  const obx = Array.from({ length: 40 }, (_, i) => `OBX|${i + 1}|TX|||line ${i + 1}~more ${i + 1}`);
  const m = parseOk(hl7(MSH, 'PID|1||A~B~C', 'ORC|NW|P1', 'OBR|1|P1', 'ORC|NW|P2', 'OBR|1|P2', ...obx));
  const pid = m.segmentIndex('PID');
  assert.equal(m.repetitionCount(pid, 3), 3);
  assert.equal(m.value(pid, 3, 3), 'C');
  const orcs: string[] = [];
  for (let s = m.segmentIndex('ORC'); s >= 0; s = m.segmentIndex('ORC', 1, s + 1)) orcs.push(m.value(s, 2));
  assert.deepEqual(orcs, ['P1', 'P2']);
  const lines: string[] = [];
  for (let s = m.segmentIndex('OBX'); s >= 0; s = m.segmentIndex('OBX', 1, s + 1)) {
    for (let r = 1; r <= m.repetitionCount(s, 5); r++) lines.push(m.value(s, 5, r));
  }
  assert.equal(lines.length, 80);
  assert.equal(lines[79], 'more 40');
  assert.equal(m.get('OBX[40]-5[2]'), 'more 40');
});

test('component and subcomponent counts', () => {
  const m = parseOk(hl7(MSH, PID));
  const pid = m.segmentIndex('PID');
  assert.equal(m.componentCount(pid, 3, 1), 5);
  assert.equal(m.componentCount(pid, 3, 2), 5);
  assert.equal(m.subcomponentCount(pid, 3, 1, 4), 3);
  assert.equal(m.subcomponentCount(pid, 3, 1, 1), 1);
  assert.equal(m.componentCount(pid, 2, 1), 0);
  assert.equal(m.repetitionCount(pid, 2), 0);
  assert.equal(m.fieldCount(0), 12);
});

test('lines that do not start with a segment ID continue the segment before them, flagged (quirk 20)', () => {
  const m = parseOk(hl7(MSH, PID, 'OBX|1|ED|PDF^Report||^AP^PDF^Base64^JVBERi0xLjQK', 'JVBERi0xLjQKJcfs', 'j8QKMSAwIG9iago=', 'OBX|2|TX|||after'));
  assert.ok(m.warnings & ParseWarning.ContinuationLines);
  assert.equal(m.segmentCount, 4);
  assert.equal(m.get('OBX-5.5'), 'JVBERi0xLjQK\rJVBERi0xLjQKJcfs\rj8QKMSAwIG9iago=');
  assert.equal(m.get('OBX[2]-5'), 'after');
  const strict = parseOk(hl7(MSH, 'OBX|1|TX|||a', 'continued'), { joinContinuationLines: false });
  assert.equal(strict.segmentCount, 3);
  assert.equal(strict.warnings & ParseWarning.ContinuationLines, 0);
});

test('a 20 MB ORU with a base64 PDF parses without copying the message (quirk 20)', () => {
  const pdf = Buffer.alloc(15 * 1024 * 1024);
  for (let i = 0; i < pdf.length; i++) pdf[i] = (i * 2654435761) >>> 24;
  const b64 = pdf.toString('base64');
  const text = hl7(MSH.replace('ORM^O01^ORM_O01', 'ORU^R01^ORU_R01'), PID, 'OBR|1|P1|F1|71020^CHEST||||||||||||||ACC1', `OBX|1|ED|PDF^Report||^AP^PDF^Base64^${b64}||||||F`, 'OBX|2|TX|||Impression: normal');
  const bytes = Buffer.from(text, 'latin1');
  assert.ok(bytes.length > 20_000_000);
  const m = new Hl7Message();
  const before = process.memoryUsage().arrayBuffers;
  assert.equal(m.parse(bytes), undefined);
  const grown = process.memoryUsage().arrayBuffers - before;
  assert.ok(grown < 1_000_000, `parsing allocated ${grown} bytes of buffers`);
  assert.equal(m.parsedBytes.buffer, bytes.buffer, 'offsets refer to the input itself');
  const view = m.bytesAt('OBX-5.5');
  assert.ok(view !== undefined);
  assert.equal(view.buffer, bytes.buffer, 'the base64 value is a view into the input');
  assert.equal(view.length, b64.length);
  assert.ok(Buffer.from(Buffer.from(view.buffer, view.byteOffset, view.length).toString('latin1'), 'base64').equals(pdf));
  assert.equal(m.get('OBX-5.2'), 'AP');
  assert.equal(m.get('OBX[2]-5'), 'Impression: normal');
  assert.equal(m.get('OBR-18'), 'ACC1');
});

test('one instance is reused: arrays grow for a large message and small messages after it still parse right', () => {
  const m = new Hl7Message();
  const many = Array.from({ length: 3000 }, (_, i) => `NTE|${i}|L|${'a^b~c&d|'.repeat(5)}`);
  assert.equal(m.parse(Buffer.from(hl7(MSH, ...many))), undefined);
  assert.equal(m.segmentCount, 3001);
  assert.equal(m.get('NTE[3000]-1'), '2999');
  assert.equal(m.get('NTE[2000]-4[2].1'), 'c&d');
  assert.equal(m.get('NTE[2000]-4[2].1.2'), 'd');
  assert.equal(m.parse(Buffer.from(hl7(MSH, PID))), undefined);
  assert.equal(m.segmentCount, 2);
  assert.equal(m.get('PID-5.2'), 'JOHN');
  assert.equal(m.get('NTE-1'), '');
});

test('garbage in gives a clear error value with a code and location, never an exception', () => {
  const cases: Array<[string | Uint8Array, string]> = [
    ['', Hl7ErrorCode.Empty],
    ['\r\n  \r', Hl7ErrorCode.Empty],
    ['PID|1||123', Hl7ErrorCode.NoHeader],
    ['hello world', Hl7ErrorCode.NoHeader],
    ['MSH', Hl7ErrorCode.NoHeader],
    ['MSHA^~\\&|X', Hl7ErrorCode.BadDelimiters],
    ['MSH||RIS', Hl7ErrorCode.BadDelimiters],
    ['MSH|^^\\&|RIS', Hl7ErrorCode.BadDelimiters],
    ['MSH|^~\\&$%*|RIS', Hl7ErrorCode.BadDelimiters],
    [new Uint8Array([0x4d, 0x53, 0x48, 0x0d, 0x00]), Hl7ErrorCode.BadDelimiters],
  ];
  for (const [input, code] of cases) {
    const result = parseMessage(input);
    assert.ok(isHl7Error(result), `expected an error for ${JSON.stringify(String(input))}`);
    assert.equal(result.code, code, JSON.stringify(String(input)));
    assert.equal(typeof result.message, 'string');
    assert.ok(result.errCode >= 100);
  }
  const bad = parseMessage('MSH|^~\\&$%*|RIS');
  assert.ok(isHl7Error(bad));
  assert.equal(bad.segment, 'MSH');
  assert.equal(bad.field, 2);
});

test('headerOnly reads the MSH and stops at the first terminator', () => {
  const m = new Hl7Message();
  assert.equal(m.parse(Buffer.from(hl7(MSH + '||||||UNICODE UTF-8', PID)), { headerOnly: true }), undefined);
  assert.equal(m.segmentCount, 1);
  assert.equal(m.get('MSH-10'), 'MSG0001');
  assert.equal(m.get('PID-3.1'), '');
  assert.equal(m.charset.name, 'UNICODE UTF-8');
});

test('compilePath rejects malformed paths with a reason', () => {
  for (const bad of ['PID', 'pid-3', 'PID-0', 'PID-3.0', 'PID[0]-3', 'PID-3[0]', 'PID-3..1', 'PIDX-3', 'PID-3.1.2.3', '']) {
    const p = compilePath(bad);
    if (bad === 'PID') {
      assert.ok(isFieldPath(p), 'a bare segment ID addresses the whole segment');
      continue;
    }
    assert.ok(!isFieldPath(p), bad);
    assert.equal(p.code, Hl7ErrorCode.BadPath);
  }
  const p = compilePath('PID-3[2].4.2');
  assert.ok(isFieldPath(p));
  assert.deepEqual([p.segment, p.occurrence, p.field, p.repetition, p.component, p.subcomponent], ['PID', 1, 3, 2, 4, 2]);
});

test('a bare segment path yields the whole segment in wire form', () => {
  const m = parseOk(hl7(MSH, PID));
  assert.equal(m.get('PID'), PID);
});

test('rendering: raw keeps formatting commands, text renders them', () => {
  const m = parseOk(hl7(MSH, 'OBX|1|FT|||Findings:\\.br\\No acute \\H\\disease\\N\\.'));
  assert.equal(m.get('OBX-5'), 'Findings:\\.br\\No acute \\H\\disease\\N\\.');
  assert.equal(m.get('OBX-5', Render.Text), 'Findings:\nNo acute disease.');
});
