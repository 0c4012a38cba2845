/**
 * buildAck and acceptAckWanted (DOMAIN.md §3.1, §3.2, quirk 25): same delimiters as the
 * inbound message, MSH-3/4 ↔ MSH-5/6 swapped with whole HDs, new MSH-7/MSH-10, the MSH-9
 * forms, MSH-11/12/18 copied, MSA-2 byte-exact, MSA-3 escaped and cut, ERR per version, and
 * an ACK that itself parses.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AckCode,
  AckMode,
  type AckOptions,
  AckTypeForm,
  Hl7Message,
  type MessageHeader,
  buildAck,
  acceptAckWanted,
  formatTimestamp,
  readHeader,
} from '../../src/hl7/index.js';

/** 2024-01-02 11:00:01.234 UTC, i.e. 12:00:01.234 at +0100. */
const TIME = Date.UTC(2024, 0, 2, 11, 0, 1, 234);

function header(msh: string | Buffer): MessageHeader {
  const r = readHeader(typeof msh === 'string' ? Buffer.from(`${msh}\r`, 'latin1') : msh);
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  return r.header;
}

function ack(msh: string | Buffer, options: Partial<AckOptions> = {}): string {
  return Buffer.from(buildAck({ header: header(msh), code: AckCode.AA, controlId: 'PACS000123', time: TIME, utcOffsetMinutes: 60, ...options })).toString('latin1');
}

function lines(text: string): string[] {
  assert.ok(text.endsWith('\r'), 'every segment ends with CR');
  assert.ok(!text.includes('\n'), 'no LF in an ACK');
  return text.slice(0, -1).split('\r');
}

const IN = 'MSH|^~\\&|RIS|HOSP|PACS|RAD|20240102120000||ORM^O01^ORM_O01|MSG0001|P|2.5.1';

describe('buildAck: the DOMAIN.md §3.2 example', () => {
  it('answers the ORM^O01 with exactly the documented MSH and MSA', () => {
    assert.deepEqual(lines(ack(IN)), [
      'MSH|^~\\&|PACS|RAD|RIS|HOSP|20240102120001.234+0100||ACK^O01^ACK|PACS000123|P|2.5.1',
      'MSA|AA|MSG0001',
    ]);
  });
});

describe('buildAck: MSH', () => {
  it('uses the inbound delimiters, including non-default ones and a 5-character MSH-2', () => {
    const out = lines(ack('MSH*@!$%*RIS*HOSP*PACS*RAD*20240102**ORM@O01@ORM_O01*ID$F$7*P*2.5.1', { code: AckCode.AE, text: 'bad*thing@here', error: { errCode: 101, segment: 'PID', field: 3, diagnostics: 'x' } }));
    assert.equal(out[0], 'MSH*@!$%*PACS*RAD*RIS*HOSP*20240102120001.234+0100**ACK@O01@ACK*PACS000123*P*2.5.1');
    assert.equal(out[1], 'MSA*AE*ID$F$7*bad$F$thing$S$here');
    assert.equal(out[2], 'ERR**PID@1@3*101@Required field missing@HL70357*E****x');
    const five = lines(ack('MSH|^~\\&#|RIS|HOSP|PACS|RAD|20240102||ADT^A01^ADT_A01|C#9|P|2.7', { text: 'a#b' }));
    assert.equal(five[0], 'MSH|^~\\&#|PACS|RAD|RIS|HOSP|20240102120001.234+0100||ACK^A01^ACK|PACS000123|P|2.7');
    assert.equal(five[1], 'MSA|AA|C#9|a\\P\\b', 'the truncation character is escaped in text we write');
  });

  it('swaps MSH-3/4 with MSH-5/6 copying whole HDs', () => {
    const out = lines(ack('MSH|^~\\&|RIS^1.2.3.9^ISO|HOSP&1.2.3&ISO|PACS^2.16.1^ISO|RAD&9.9&ISO|20240102||ADT^A01|M1|P|2.5'));
    assert.match(out[0]!, /^MSH\|\^~\\&\|PACS\^2\.16\.1\^ISO\|RAD&9\.9&ISO\|RIS\^1\.2\.3\.9\^ISO\|HOSP&1\.2\.3&ISO\|/);
  });

  it('falls back to PACSLINK (or the configured application/facility) when the inbound MSH-5/6 are empty', () => {
    assert.match(ack('MSH|^~\\&|RIS|HOSP|||20240102||ADT^A01|M1|P|2.5'), /^MSH\|\^~\\&\|PACSLINK\|\|RIS\|HOSP\|/);
    assert.match(ack('MSH|^~\\&|RIS|HOSP|||20240102||ADT^A01|M1|P|2.5', { application: 'ARC', facility: 'RAD&1.2&ISO' }), /^MSH\|\^~\\&\|ARC\|RAD\\T\\1\.2\\T\\ISO\|RIS\|HOSP\|/);
  });

  it('writes a new MSH-7 (formatTimestamp with the offset) and its own MSH-10, escaped', () => {
    const out = lines(ack(IN, { controlId: 'A|B', time: Date.UTC(2024, 6, 1, 4, 5, 6, 7), utcOffsetMinutes: -300 }));
    const fields = out[0]!.split('|');
    assert.equal(fields[6], '20240630230506.007-0500', 'MSH-7');
    assert.equal(fields[9], 'A\\F\\B', 'MSH-10');
  });

  it('writes MSH-9 in the full, trigger and bare forms, and bare ACK when the trigger is missing', () => {
    const msh9 = (text: string): string => lines(text)[0]!.split('|')[8]!;
    assert.equal(msh9(ack(IN)), 'ACK^O01^ACK', 'default full');
    assert.equal(msh9(ack(IN, { typeForm: AckTypeForm.Full })), 'ACK^O01^ACK');
    assert.equal(msh9(ack(IN, { typeForm: AckTypeForm.Trigger })), 'ACK^O01');
    assert.equal(msh9(ack(IN, { typeForm: AckTypeForm.Bare })), 'ACK');
    assert.equal(msh9(ack('MSH|^~\\&|RIS|HOSP|PACS|RAD|20240102||ORM|MSG1|P|2.3')), 'ACK');
    assert.equal(msh9(ack('MSH|^~\\&|RIS|HOSP|PACS|RAD|20240102||ORM|MSG1|P|2.3', { typeForm: AckTypeForm.Trigger })), 'ACK');
  });

  it('copies MSH-11, MSH-12 and MSH-18 in wire form and leaves MSH-13..17 empty', () => {
    const fields = lines(ack('MSH|^~\\&|RIS|HOSP|PACS|RAD|20240102|SEC|ADT^A01|M1|P^T|2.5.1^DEU&&HL70399|77|CONT|AL|NE|DEU|UNICODE UTF-8~8859/1'))[0]!.split('|');
    assert.equal(fields[7], '', 'MSH-8 security is not copied');
    assert.equal(fields[10], 'P^T');
    assert.equal(fields[11], '2.5.1^DEU&&HL70399');
    assert.deepEqual(fields.slice(12, 17), ['', '', '', '', '']);
    assert.equal(fields[17], 'UNICODE UTF-8~8859/1');
    assert.equal(fields.length, 18);
  });
});

describe('buildAck: MSA', () => {
  it('copies the inbound MSH-10 into MSA-2 byte for byte (escapes and non-ASCII bytes kept)', () => {
    const msh10 = Buffer.from([0x4d, 0x5c, 0x46, 0x5c, 0x31, 0xe9, 0xc3, 0xa4]); // M\F\1, 0xE9, UTF-8 ä
    const input = Buffer.concat([Buffer.from('MSH|^~\\&|RIS|HOSP|PACS|RAD|20240102||ADT^A01|', 'latin1'), msh10, Buffer.from('|P|2.5\rPID|1\r', 'latin1')]);
    const out = Buffer.from(buildAck({ header: header(input), code: AckCode.AA, controlId: 'C', time: TIME, utcOffsetMinutes: 0 }));
    const msa = out.subarray(out.indexOf('\rMSA|') + 1, out.length - 1);
    assert.deepEqual(msa, Buffer.concat([Buffer.from('MSA|AA|', 'latin1'), msh10]));
  });

  it('escapes MSA-3 text and cuts it at 80 characters', () => {
    const text = 'Field|with^all~the\\delims&' + 'x'.repeat(100);
    const out = ack(IN, { code: AckCode.AE, text });
    const msa = lines(out)[1]!;
    assert.ok(msa.startsWith('MSA|AE|MSG0001|Field\\F\\with\\S\\all\\R\\the\\E\\delims\\T\\x'));
    const parsed = new Hl7Message();
    assert.equal(parsed.parse(Buffer.from(out, 'latin1')), undefined);
    assert.equal(parsed.get('MSA-3'), text.slice(0, 80));
  });

  it('writes CR and LF inside MSA-3 as hex escapes so that the text cannot end a segment', () => {
    const out = ack(IN, { code: AckCode.AE, text: 'line1\r\nline2' });
    assert.equal(lines(out)[1], 'MSA|AE|MSG0001|line1\\X0D\\\\X0A\\line2');
  });

  it('writes MLLP framing bytes and other controls in MSA-3 as hex escapes (the ACK frame stays intact)', () => {
    const text = 'bad \x0b start \x1c end \x00 nul \x7f del \t tab';
    const out = ack(IN, { code: AckCode.AE, text });
    assert.equal(lines(out)[1], 'MSA|AE|MSG0001|bad \\X0B\\ start \\X1C\\ end \\X00\\ nul \\X7F\\ del \t tab');
    const parsed = new Hl7Message();
    assert.equal(parsed.parse(Buffer.from(out, 'latin1')), undefined);
    assert.equal(parsed.get('MSA-3'), text);
  });

  it('cuts MSA-3 without splitting a surrogate pair', () => {
    const text = 'x'.repeat(79) + '😀 tail';
    const parsed = new Hl7Message();
    assert.equal(parsed.parse(Buffer.from(ack(IN, { code: AckCode.AE, text }), 'latin1')), undefined);
    assert.equal(parsed.get('MSA-3'), 'x'.repeat(79));
  });

  it('writes non-ASCII MSA-3 text as UTF-8 in a UTF-8 message and as ? otherwise', () => {
    const utf8 = Buffer.from(buildAck({ header: header('MSH|^~\\&|A|B|C|D|1||ADT^A01|M|P|2.5|||||DEU|UNICODE UTF-8'), code: AckCode.AE, controlId: 'C', time: TIME, text: 'Größe ✓' }));
    assert.ok(utf8.includes(Buffer.from('MSA|AE|M|Größe ✓\r', 'utf8')));
    const latin = Buffer.from(buildAck({ header: header('MSH|^~\\&|A|B|C|D|1||ADT^A01|M|P|2.5|||||DEU|8859/1'), code: AckCode.AE, controlId: 'C', time: TIME, text: 'Größe' }));
    assert.ok(latin.includes(Buffer.from('MSA|AE|M|Gr??e\r', 'latin1')));
  });

  it('omits MSA-3 when there is no text', () => {
    assert.equal(lines(ack(IN))[1], 'MSA|AA|MSG0001');
  });

  it('sends enhanced-mode commit acknowledgements CA, CE and CR in MSA-1', () => {
    const enhanced = 'MSH|^~\\&|RIS|HOSP|PACS|RAD|20240102||ORM^O01^ORM_O01|MSG0001|P|2.5.1|||AL|NE';
    for (const code of [AckCode.CA, AckCode.CE, AckCode.CR]) assert.equal(lines(ack(enhanced, { code }))[1], `MSA|${code}|MSG0001`);
  });
});

describe('buildAck: ERR', () => {
  const error = { errCode: 101, segment: 'PID', field: 3, diagnostics: 'Missing patient identifier' };

  it('writes the v2.5 form for 2.5 and later', () => {
    for (const version of ['2.5', '2.5.1', '2.6', '2.7', '2.8.2']) {
      const out = lines(ack(`MSH|^~\\&|RIS|HOSP|PACS|RAD|20240102||ADT^A01|M1|P|${version}`, { code: AckCode.AE, error }));
      assert.equal(out[2], 'ERR||PID^1^3|101^Required field missing^HL70357|E||||Missing patient identifier', version);
    }
  });

  it('writes the ERR-1 (ELD) form for 2.3.1 and 2.4', () => {
    for (const version of ['2.3.1', '2.4', '2.3', '2.2']) {
      const out = lines(ack(`MSH|^~\\&|RIS|HOSP|PACS|RAD|20240102||ADT^A01|M1|P|${version}`, { code: AckCode.AE, error }));
      assert.equal(out[2], 'ERR|PID^1^3^101&Required field missing&HL70357', version);
    }
  });

  it('uses the given sequence, severity and text, and an AR without a location for unsupported types', () => {
    assert.equal(lines(ack(IN, { code: AckCode.AE, error: { errCode: 102, segment: 'OBR', sequence: 2, field: 7, severity: 'W', text: 'Bad date' } }))[2], 'ERR||OBR^2^7|102^Bad date^HL70357|W');
    assert.equal(lines(ack(IN, { code: AckCode.AR, error: { errCode: 200 } }))[2], 'ERR|||200^Unsupported message type^HL70357|E');
  });

  it('escapes delimiters in the diagnostics', () => {
    assert.equal(lines(ack(IN, { code: AckCode.AE, error: { errCode: 207, diagnostics: 'a|b^c' } }))[2], 'ERR|||207^Application internal error^HL70357|E||||a\\F\\b\\S\\c');
  });
});

describe('buildAck without a readable inbound header', () => {
  it('answers an unparseable MSH with a valid AR in default delimiters', () => {
    const out = Buffer.from(buildAck({ header: undefined, code: AckCode.AR, controlId: 'PACS9', time: TIME, utcOffsetMinutes: 0, text: 'no MSH', error: { errCode: 100 } })).toString('latin1');
    const segs = lines(out);
    assert.equal(segs[0], 'MSH|^~\\&|PACSLINK||||20240102110001.234+0000||ACK|PACS9');
    assert.equal(segs[1], 'MSA|AR||no MSH');
    assert.equal(segs[2], 'ERR|||100^Segment sequence error^HL70357|E');
    const r = readHeader(Buffer.from(out, 'latin1'));
    assert.ok(r.ok);
    assert.equal(r.header.messageCode, 'ACK');
  });

  it('builds an AR from a partial header (MSH-10 missing) with the inbound delimiters', () => {
    const r = readHeader(Buffer.from('MSH*@!$%*RIS*HOSP*PACS*RAD*20240102**ADT@A01***2.5\r', 'latin1'));
    assert.ok(!r.ok);
    const out = lines(Buffer.from(buildAck({ header: r.header, code: AckCode.AR, controlId: 'X', time: TIME, utcOffsetMinutes: 0, error: { errCode: r.error.errCode, segment: 'MSH', field: r.error.field } })).toString('latin1'));
    assert.equal(out[0], 'MSH*@!$%*PACS*RAD*RIS*HOSP*20240102110001.234+0000**ACK@A01@ACK*X**2.5');
    assert.equal(out[1], 'MSA*AR');
    assert.equal(out[2], 'ERR**MSH@1@10*101@Required field missing@HL70357*E');
  });
});

describe('buildAck: the ACK parses back', () => {
  it('copies no line end from the inbound header, even when a stray line follows the MSH', () => {
    for (const sep of ['\r', '\n', '\r\n']) {
      const inbound = Buffer.from(`${IN}${sep}not a segment${sep}PID|1${sep}`, 'latin1');
      const out = Buffer.from(buildAck({ header: header(inbound), code: AckCode.AA, controlId: 'C', time: TIME, utcOffsetMinutes: 0 })).toString('latin1');
      assert.deepEqual(lines(out).map((l) => l.slice(0, 3)), ['MSH', 'MSA'], JSON.stringify(sep));
      assert.ok(lines(out)[0]!.endsWith('|P|2.5.1'));
    }
  });


  it('parses with Hl7Message and readHeader, with the values it was built from', () => {
    const inbound = 'MSH|^~\\&|RIS^1.2^ISO|HOSP|PACS|RAD|20240102||ORM^O01^ORM_O01|MSG\\F\\1|P|2.5.1||||||UNICODE UTF-8';
    const bytes = buildAck({ header: header(inbound), code: AckCode.AE, controlId: 'ACK-1', time: TIME, utcOffsetMinutes: 60, text: 'Prüfung fehlgeschlagen: a|b', error: { errCode: 101, segment: 'PID', field: 3, diagnostics: 'PID-3 leer' } });
    const r = readHeader(bytes);
    assert.ok(r.ok);
    assert.equal(r.header.sendingApplication, 'PACS');
    assert.equal(r.header.receivingApplication, 'RIS^1.2^ISO');
    assert.equal(r.header.messageType, 'ACK^O01^ACK');
    assert.equal(r.header.controlId, 'ACK-1');
    assert.equal(r.header.charset, 'UNICODE UTF-8');
    const msg = new Hl7Message();
    assert.equal(msg.parse(bytes), undefined);
    assert.equal(msg.segmentCount, 3);
    assert.equal(msg.get('MSA-1'), 'AE');
    assert.equal(msg.wireAt(1, 2), 'MSG\\F\\1');
    assert.equal(msg.get('MSA-2'), 'MSG|1');
    assert.equal(msg.get('MSA-3'), 'Prüfung fehlgeschlagen: a|b');
    assert.equal(msg.get('ERR-3.1'), '101');
    assert.equal(msg.get('ERR-8'), 'PID-3 leer');
    assert.equal(msg.get('MSH-7'), '20240102120001.234+0100');
  });
});

describe('formatTimestamp', () => {
  it('formats YYYYMMDDHHMMSS.SSS±ZZZZ at a fixed offset', () => {
    assert.equal(formatTimestamp(TIME, 0), '20240102110001.234+0000');
    assert.equal(formatTimestamp(TIME, 60), '20240102120001.234+0100');
    assert.equal(formatTimestamp(TIME, -210), '20240102073001.234-0330');
    assert.equal(formatTimestamp(Date.UTC(2023, 11, 31, 23, 59, 59, 999), 60), '20240101005959.999+0100');
  });

  it('uses the system offset at that time when none is given', () => {
    const offset = -new Date(TIME).getTimezoneOffset();
    assert.equal(formatTimestamp(TIME), formatTimestamp(TIME, offset));
  });
});

describe('acceptAckWanted (table 0155)', () => {
  const enhanced = (acceptAckType: string) => ({ ackMode: AckMode.Enhanced, acceptAckType });

  it('AL always, NE never, ER only on error, SU only on success', () => {
    assert.deepEqual([true, false].map((ok) => acceptAckWanted(enhanced('AL'), ok)), [true, true]);
    assert.deepEqual([true, false].map((ok) => acceptAckWanted(enhanced('NE'), ok)), [false, false]);
    assert.deepEqual([true, false].map((ok) => acceptAckWanted(enhanced('ER'), ok)), [false, true]);
    assert.deepEqual([true, false].map((ok) => acceptAckWanted(enhanced('SU'), ok)), [true, false]);
  });

  it('an empty MSH-15 in enhanced mode (only MSH-16 valued) is taken as AL', () => {
    assert.deepEqual([true, false].map((ok) => acceptAckWanted(enhanced(''), ok)), [true, true]);
    const h = header('MSH|^~\\&|A|B|C|D|1||ADT^A01|M|P|2.5||||AL');
    assert.equal(h.ackMode, AckMode.Enhanced);
    assert.equal(acceptAckWanted(h, false), true);
  });

  it('original mode always gets an acknowledgement, whatever MSH-15 says', () => {
    for (const type of ['', 'NE', 'ER', 'SU']) {
      assert.equal(acceptAckWanted({ ackMode: AckMode.Original, acceptAckType: type }, true), true);
      assert.equal(acceptAckWanted({ ackMode: AckMode.Original, acceptAckType: type }, false), true);
    }
  });

  it('reads MSH-15 from a real header', () => {
    const h = header('MSH|^~\\&|A|B|C|D|1||ADT^A01|M|P|2.5|||ne|AL');
    assert.equal(acceptAckWanted(h, true), false);
    assert.equal(acceptAckWanted(h, false), false);
  });
});
