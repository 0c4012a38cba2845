/**
 * splitMessages (DOMAIN.md §2.7, quirks 1 and 2): plain messages with any line ends, MLLP
 * frames with junk between them, batch files with their BTS-1/FTS-1 counts checked, and
 * messages returned as views that each parse under their own MSH.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Hl7ErrorCode, Hl7Message, splitMessages, type SplitResult } from '../../src/hl7/index.js';

const VT = '\x0b';
const FS = '\x1c';

function split(text: string): SplitResult {
  return splitMessages(Buffer.from(text, 'latin1'));
}

function texts(result: SplitResult): string[] {
  return result.messages.map((m) => Buffer.from(m.buffer, m.byteOffset, m.byteLength).toString('latin1'));
}

function codes(result: SplitResult): string[] {
  return result.errors.map((e) => e.code);
}

const A = 'MSH|^~\\&|RIS|HOSP|PACS|RAD|20240102||ADT^A01|A|P|2.5\rPID|1||1';
const B = 'MSH|^~\\&|RIS|HOSP|PACS|RAD|20240102||ADT^A08|B|P|2.5\rPID|1||2';
const C = 'MSH|^~\\&|RIS|HOSP|PACS|RAD|20240102||ORM^O01|C|P|2.3.1\rPID|1||3\rORC|NW';

describe('splitMessages: plain messages', () => {
  it('splits messages one after another with CR segment ends', () => {
    const r = split(`${A}\r${B}\r${C}\r`);
    assert.deepEqual(texts(r), [A, B, C]);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.batches, []);
    assert.equal(r.fileHeader, undefined);
  });

  it('splits with LF and CRLF segment ends, keeping each message\'s own line ends inside it', () => {
    const lf = (m: string): string => m.replace(/\r/g, '\n');
    const crlf = (m: string): string => m.replace(/\r/g, '\r\n');
    assert.deepEqual(texts(split(`${lf(A)}\n${lf(B)}\n`)), [lf(A), lf(B)]);
    assert.deepEqual(texts(split(`${crlf(A)}\r\n${crlf(B)}\r\n`)), [crlf(A), crlf(B)]);
    assert.deepEqual(texts(split(`${crlf(A)}\r\n${lf(B)}\n${C}`)), [crlf(A), lf(B), C], 'mixed, last without a line end');
  });

  it('skips blank and whitespace-only lines between and inside messages', () => {
    const r = split(`\r\n\r\n${A}\r\n\r\n   \r\n\t\n${B}\n\n\n`);
    assert.deepEqual(texts(r), [A, B]);
    assert.deepEqual(r.errors, []);
  });

  it('reports data before the first MSH once and still returns the messages after it', () => {
    const r = split(`garbage line\rPID|1||x\r${A}\r${B}\r`);
    assert.deepEqual(texts(r), [A, B]);
    assert.deepEqual(codes(r), [Hl7ErrorCode.NoHeader]);
    assert.equal(r.errors[0]!.offset, 0);
  });

  it('skips a UTF-8 BOM at the start', () => {
    assert.deepEqual(texts(splitMessages(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${A}\r${B}`, 'latin1')]))), [A, B]);
  });

  it('returns nothing and no error for empty input', () => {
    const r = split('');
    assert.deepEqual(r.messages, []);
    assert.deepEqual(r.errors, []);
  });
});

describe('splitMessages: MLLP-framed files', () => {
  it('reads several frames, with line ends and whitespace between them', () => {
    const r = split(`${VT}${A}\r${FS}\r\n${VT}${B}\r${FS}\r\r\n  ${VT}${C}\r${FS}\r`);
    assert.deepEqual(texts(r), [A, B, C]);
    assert.deepEqual(r.errors, []);
  });

  it('reads a frame whose end block has no CR (1C without 0D)', () => {
    assert.deepEqual(texts(split(`${VT}${A}\r${FS}${VT}${B}\r${FS}`)), [A, B]);
  });

  it('reads a frame holding a whole batch', () => {
    const r = split(`${VT}FHS|^~\\&|RIS\rBHS|^~\\&|RIS\r${A}\r${B}\rBTS|2\rFTS|1\r${FS}\r${VT}${C}\r${FS}\r`);
    assert.deepEqual(texts(r), [A, B, C]);
    assert.equal(r.batches.length, 1);
    assert.equal(r.batches[0]!.messageCount, 2);
    assert.notEqual(r.fileHeader, undefined);
    assert.deepEqual(r.errors, []);
  });

  it('reports junk outside frames and keeps the frames around it', () => {
    const r = split(`${VT}${A}\r${FS}\rjunk between frames\r${VT}${B}\r${FS}\r`);
    assert.deepEqual(texts(r), [A, B]);
    assert.deepEqual(codes(r), [Hl7ErrorCode.BatchStructure]);
    assert.match(r.errors[0]!.message, /outside an MLLP frame/);
  });

  it('reports junk before the first frame and still reads the frames', () => {
    const r = split(`junk line\r\n12345\r${VT}${A}\r${FS}\r${VT}${B}\r${FS}\r`);
    assert.deepEqual(texts(r), [A, B]);
    assert.deepEqual(codes(r), [Hl7ErrorCode.BatchStructure], 'one error for the whole run of junk');
    assert.equal(r.errors[0]!.offset, 0);
  });

  it('reads plain messages as lines even when a VT byte appears inside a later segment', () => {
    const r = split(`${A}\rOBX|1|TX|||a${VT}b\r${B}\r`);
    assert.deepEqual(texts(r), [`${A}\rOBX|1|TX|||a${VT}b`, B]);
    assert.deepEqual(r.errors, []);
  });

  it('reports a frame without an end block and still returns its message', () => {
    const last = split(`${VT}${A}\r${FS}\r${VT}${B}\r`);
    assert.deepEqual(texts(last), [A, B]);
    assert.deepEqual(codes(last), [Hl7ErrorCode.BatchStructure]);
    assert.match(last.errors[0]!.message, /no end block/);
    const cut = split(`${VT}${A}\r${VT}${B}\r${FS}\r`);
    assert.deepEqual(texts(cut), [A, B], 'a new start block ends the unterminated frame');
    assert.deepEqual(codes(cut), [Hl7ErrorCode.BatchStructure]);
  });
});

describe('splitMessages: batch files', () => {
  const file = (bts: string, fts: string): string =>
    `FHS|^~\\&|RIS|HOSP\rBHS|^~\\&|RIS|HOSP\r${A}\r${B}\rBTS|${bts}\rBHS|^~\\&|RIS|HOSP\r${C}\rBTS|1\rFTS|${fts}\r`;

  it('splits FHS/BHS/MSH…/BTS/FTS with correct counts without errors', () => {
    const text = file('2', '2');
    const r = split(text);
    assert.deepEqual(texts(r), [A, B, C]);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.batches.map((b) => b.messageCount), [2, 1]);
    const at = (range: [number, number] | undefined): string => (range === undefined ? '' : text.slice(range[0], range[1]));
    assert.equal(at(r.fileHeader), 'FHS|^~\\&|RIS|HOSP');
    assert.equal(at(r.fileTrailer), 'FTS|2');
    assert.equal(at(r.batches[0]!.header), 'BHS|^~\\&|RIS|HOSP');
    assert.equal(at(r.batches[0]!.trailer), 'BTS|2');
    assert.equal(at(r.batches[1]!.trailer), 'BTS|1');
  });

  it('reports a wrong BTS-1 as BATCH_COUNT and still returns the messages', () => {
    const r = split(file('3', '2'));
    assert.deepEqual(texts(r), [A, B, C]);
    assert.deepEqual(codes(r), [Hl7ErrorCode.BatchCount]);
    assert.equal(r.errors[0]!.segment, 'BTS');
    assert.equal(r.errors[0]!.field, 1);
    assert.match(r.errors[0]!.message, /declares 3 messages but the batch holds 2/);
  });

  it('reports a wrong FTS-1 as BATCH_COUNT and still returns the messages', () => {
    const r = split(file('2', '5'));
    assert.deepEqual(texts(r), [A, B, C]);
    assert.deepEqual(codes(r), [Hl7ErrorCode.BatchCount]);
    assert.equal(r.errors[0]!.segment, 'FTS');
    assert.match(r.errors[0]!.message, /declares 5 batches but the file holds 2/);
  });

  it('accepts trailers with no count and BTS-1 with spaces', () => {
    const r = split(`FHS|^~\\&\rBHS|^~\\&\r${A}\rBTS| 1 |comment\rFTS\r`);
    assert.deepEqual(texts(r), [A]);
    assert.deepEqual(r.errors, []);
  });

  it('takes messages after an FHS without BHS as one batch', () => {
    const r = split(`FHS|^~\\&\r${A}\r${B}\rFTS|1\r`);
    assert.deepEqual(texts(r), [A, B]);
    assert.deepEqual(r.batches.map((b) => b.messageCount), [2]);
    assert.deepEqual(r.errors, []);
  });

  it('a BTS without BHS closes a batch of the messages before it (BHS is optional)', () => {
    const r = split(`${A}\r${B}\rBTS|2\r${C}\rBTS|1\r`);
    assert.deepEqual(texts(r), [A, B, C]);
    assert.deepEqual(r.batches.map((b) => [b.header, b.messageCount]), [[undefined, 2], [undefined, 1]]);
    assert.deepEqual(r.errors, []);
    const wrong = split(`${A}\rBTS|2\r`);
    assert.deepEqual(codes(wrong), [Hl7ErrorCode.BatchCount]);
  });

  it('a BTS with no message before it is a BATCH_STRUCTURE error', () => {
    const r = split(`BHS|^~\\&\r${A}\rBTS|1\rBTS|0\r`);
    assert.deepEqual(texts(r), [A]);
    assert.deepEqual(codes(r), [Hl7ErrorCode.BatchStructure]);
  });

  it('reports a second FHS in the same input', () => {
    const r = split(`FHS|^~\\&\r${A}\rFTS|1\rFHS|^~\\&\r${B}\rFTS|1\r`);
    assert.deepEqual(texts(r), [A, B]);
    assert.ok(codes(r).includes(Hl7ErrorCode.BatchStructure));
  });
});

describe('splitMessages: results are views that parse under their own MSH', () => {
  it('returns views of the input (same ArrayBuffer, no copy)', () => {
    const input = Buffer.from(`${VT}${A}\r${FS}\r${VT}${B}\r${FS}\r`, 'latin1');
    const r = splitMessages(input);
    assert.equal(r.messages.length, 2);
    for (const m of r.messages) {
      assert.equal(m.buffer, input.buffer);
      assert.ok(m.byteOffset >= input.byteOffset && m.byteOffset + m.byteLength <= input.byteOffset + input.byteLength);
    }
    assert.equal(r.messages[0]!.byteOffset - input.byteOffset, 1, 'starts after the start block');
    input[input.indexOf('PID|1||1') + 7] = 0x39; // written through to the view
    assert.match(Buffer.from(r.messages[0]!).toString('latin1'), /PID\|1\|\|9/);
  });

  it('each message parses under its own delimiters', () => {
    const star = 'MSH*@!$%*RIS*HOSP*PACS*RAD*20240102**ADT@A01*S1*P*2.5\rPID*1**ID$F$1@@@HOSP';
    const five = 'MSH|^~\\&#|RIS|HOSP|PACS|RAD|20240102||ADT^A01|T1|P|2.7\rPID|1||X#1^^^HOSP';
    const r = split(`${star}\r${A}\r${five}\r`);
    assert.deepEqual(texts(r), [star, A, five]);
    const msg = new Hl7Message();
    const got = r.messages.map((m) => {
      assert.equal(msg.parse(m), undefined);
      return [msg.get('MSH-10'), msg.get('PID-3.1'), msg.get('PID-3.4')];
    });
    assert.deepEqual(got, [['S1', 'ID*1', 'HOSP'], ['A', '1', ''], ['T1', 'X#1', 'HOSP']]);
  });
});
