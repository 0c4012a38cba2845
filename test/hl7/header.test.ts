/**
 * readHeader (DOMAIN.md §3, quirks 4 and 8): the MSH fields a listener needs, copied in wire
 * form byte for byte where an ACK copies them, missing MSH-9/MSH-10 as table 0357 code 101,
 * non-MSH input, acknowledgement mode from MSH-15/16, non-default delimiters.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AckMode, ErrCode, Hl7ErrorCode, type MessageHeader, messageStructureOf, readHeader } from '../../src/hl7/index.js';

const PID = 'PID|1||12345^^^HOSP^MR||DOE^JOHN||19800101|M';

function bytes(...segments: string[]): Buffer {
  return Buffer.from(segments.join('\r') + '\r', 'utf8');
}

function headerOf(input: Uint8Array): MessageHeader {
  const r = readHeader(input);
  assert.ok(r.ok, r.ok ? '' : `unexpected ${r.error.code}: ${r.error.message}`);
  return r.header;
}

describe('readHeader on realistic messages', () => {
  it('reads an ORM^O01 header from a RIS (DOMAIN.md §3.2 example)', () => {
    const h = headerOf(bytes('MSH|^~\\&|RIS|HOSP|PACS|RAD|20240102120000||ORM^O01^ORM_O01|MSG0001|P|2.5.1', PID, 'ORC|NW|A1'));
    assert.deepEqual(h, {
      fieldSeparator: '|',
      encodingCharacters: '^~\\&',
      sendingApplication: 'RIS',
      sendingFacility: 'HOSP',
      receivingApplication: 'PACS',
      receivingFacility: 'RAD',
      messageType: 'ORM^O01^ORM_O01',
      messageCode: 'ORM',
      triggerEvent: 'O01',
      messageStructure: 'ORM_O01',
      controlId: 'MSG0001',
      processingId: 'P',
      processingIdRaw: 'P',
      version: '2.5.1',
      versionRaw: '2.5.1',
      acceptAckType: '',
      applicationAckType: '',
      charset: '',
      charsetRaw: '',
      ackMode: AckMode.Original,
    });
  });

  it('reads an ADT header with HDs, processing mode, version with its international ID and MSH-18', () => {
    const h = headerOf(bytes(
      'MSH|^~\\&|ADT1^1.2.3.4^ISO|HOSP&1.2.3&ISO|PACS|RAD^2.16.840^ISO|202401021200+0100|SEC|ADT^A01^ADT_A01|CTRL-1|P^T|2.5.1^DEU&&HL70399|42||AL|NE|DEU|UNICODE UTF-8~8859/1',
      'EVN|A01|202401021200',
      PID,
    ));
    assert.equal(h.sendingApplication, 'ADT1^1.2.3.4^ISO');
    assert.equal(h.sendingFacility, 'HOSP&1.2.3&ISO');
    assert.equal(h.receivingFacility, 'RAD^2.16.840^ISO');
    assert.equal(h.processingId, 'P');
    assert.equal(h.processingIdRaw, 'P^T');
    assert.equal(h.version, '2.5.1');
    assert.equal(h.versionRaw, '2.5.1^DEU&&HL70399');
    assert.equal(h.charset, 'UNICODE UTF-8', 'first repetition of MSH-18');
    assert.equal(h.charsetRaw, 'UNICODE UTF-8~8859/1');
    assert.equal(h.acceptAckType, 'AL');
    assert.equal(h.applicationAckType, 'NE');
  });

  it('reads the header with LF or CRLF segment ends, a BOM and leading blank lines', () => {
    for (const text of [
      '\uFEFFMSH|^~\\&|RIS|HOSP|PACS|RAD|20240102||ADT^A08|C1|P|2.3\nPID|1\n',
      '\r\n\r\nMSH|^~\\&|RIS|HOSP|PACS|RAD|20240102||ADT^A08|C1|P|2.3\r\nPID|1\r\n',
      'MSH|^~\\&|RIS|HOSP|PACS|RAD|20240102||ADT^A08|C1|P|2.3',
    ]) {
      const h = headerOf(Buffer.from(text, 'utf8'));
      assert.equal(h.controlId, 'C1');
      assert.equal(h.versionRaw, '2.3', 'MSH-12 must not include the line end');
    }
  });
});

describe('readHeader: the MSH line ends at its first line end', () => {
  it('does not join a following line that is not a segment (or uses other delimiters) into MSH-12', () => {
    for (const next of ['PID*1*x', 'base64+/AAAA==', 'pid|1', ' 12345']) {
      for (const eol of ['\r', '\n', '\r\n']) {
        const h = headerOf(Buffer.from(`MSH|^~\\&|A|B|C|D|20240102||ADT^A01|X|P|2.5.1${eol}${next}${eol}PID|1${eol}`, 'latin1'));
        assert.equal(h.versionRaw, '2.5.1', JSON.stringify(next + eol));
        assert.equal(h.version, '2.5.1');
      }
    }
    const last = headerOf(Buffer.from('MSH|^~\\&|A|B|C|D|20240102||ADT^A01|X|P|2.5.1||||||UNICODE UTF-8\rnot a segment\r', 'latin1'));
    assert.equal(last.charsetRaw, 'UNICODE UTF-8');
  });
});

describe('readHeader: wire form kept byte for byte', () => {
  it('keeps escapes in MSH-10 and MSH-3..6 (an ACK copies them verbatim)', () => {
    const h = headerOf(bytes('MSH|^~\\&|R\\T\\S|H\\F\\1|P\\S\\A|R\\E\\D|20240102||ORM^O01|MSG\\F\\01\\X0D\\|P|2.5.1'));
    assert.equal(h.controlId, 'MSG\\F\\01\\X0D\\');
    assert.equal(h.sendingApplication, 'R\\T\\S');
    assert.equal(h.sendingFacility, 'H\\F\\1');
    assert.equal(h.receivingApplication, 'P\\S\\A');
    assert.equal(h.receivingFacility, 'R\\E\\D');
  });

  it('keeps non-ASCII bytes of MSH-3..6 and MSH-10 as one character per byte', () => {
    const msh3 = Buffer.from('KLINIKUM_MÜNCHEN', 'utf8');
    const msh10 = Buffer.from([0x41, 0xe9, 0xff, 0x42]); // not valid UTF-8: windows-1252 bytes
    const input = Buffer.concat([
      Buffer.from('MSH|^~\\&|', 'latin1'), msh3, Buffer.from('|Straße|PACS|RAD|20240102||ADT^A04|', 'utf8'), msh10,
      Buffer.from('|P|2.5\r', 'latin1'),
    ]);
    const h = headerOf(input);
    assert.deepEqual(Buffer.from(h.sendingApplication, 'latin1'), msh3);
    assert.deepEqual(Buffer.from(h.sendingFacility, 'latin1'), Buffer.from('Straße', 'utf8'));
    assert.deepEqual(Buffer.from(h.controlId, 'latin1'), msh10);
  });

  it('keeps MSH-9 whole in messageType and decodes its components', () => {
    const h = headerOf(bytes('MSH|^~\\&|A|B|C|D|20240102||ADT^A01^ADT_A01^extra|X|P|2.5.1'));
    assert.equal(h.messageType, 'ADT^A01^ADT_A01^extra');
    assert.equal(h.messageCode, 'ADT');
    assert.equal(h.triggerEvent, 'A01');
    assert.equal(h.messageStructure, 'ADT_A01');
  });

  it('keeps a control ID with spaces and the HL7 null as written', () => {
    assert.equal(headerOf(bytes('MSH|^~\\&|A|B|C|D|20240102||ADT^A01| 7 |P|2.5')).controlId, ' 7 ');
    assert.equal(headerOf(bytes('MSH|^~\\&|A|B|C|D|20240102||ADT^A01|""|P|2.5')).controlId, '""');
  });
});

describe('readHeader: MSH-9 without a structure (quirk 8)', () => {
  it('leaves messageStructure empty when the sender omits it', () => {
    const h = headerOf(bytes('MSH|^~\\&|A|B|C|D|20240102||ADT^A04|X|P|2.3.1'));
    assert.equal(h.messageStructure, '');
    assert.equal(h.messageType, 'ADT^A04');
    assert.equal(messageStructureOf(h.messageCode, h.triggerEvent, h.messageStructure), 'ADT_A01');
  });

  it('messageStructureOf maps A04/A08/A13 to ADT_A01, A40 to ADT_A39, A47 to ADT_A30', () => {
    assert.equal(messageStructureOf('ADT', 'A04'), 'ADT_A01');
    assert.equal(messageStructureOf('ADT', 'A08'), 'ADT_A01');
    assert.equal(messageStructureOf('ADT', 'A13'), 'ADT_A01');
    assert.equal(messageStructureOf('ADT', 'A40'), 'ADT_A39');
    assert.equal(messageStructureOf('ADT', 'A47'), 'ADT_A30');
    assert.equal(messageStructureOf('ADT', 'A01'), 'ADT_A01');
    assert.equal(messageStructureOf('SIU', 'S14'), 'SIU_S12');
  });

  it('messageStructureOf keeps a declared structure and builds CODE_EVENT for unknown events', () => {
    assert.equal(messageStructureOf('ADT', 'A04', 'ADT_A04'), 'ADT_A04', 'declared wins');
    assert.equal(messageStructureOf('ZZZ', 'Z01'), 'ZZZ_Z01');
    assert.equal(messageStructureOf('ADT', ''), '');
    assert.equal(messageStructureOf('', 'A01'), '');
  });
});

describe('readHeader: errors', () => {
  it('missing MSH-9 gives MISSING_FIELD, errCode 101, field 9, and keeps what it read', () => {
    for (const msh of ['MSH|^~\\&|RIS|HOSP|PACS|RAD|20240102||', 'MSH|^~\\&|RIS|HOSP|PACS|RAD|20240102|||MSG1|P|2.5', 'MSH|^~\\&|RIS|HOSP|PACS|RAD|20240102||^A01|MSG1|P|2.5']) {
      const r = readHeader(bytes(msh, PID));
      assert.equal(r.ok, false, msh);
      if (r.ok) continue;
      assert.equal(r.error.code, Hl7ErrorCode.MissingField);
      assert.equal(r.error.errCode, ErrCode.RequiredFieldMissing);
      assert.equal(r.error.errCode, 101);
      assert.equal(r.error.segment, 'MSH');
      assert.equal(r.error.field, 9);
      assert.equal(r.header?.sendingApplication, 'RIS', 'partial header for an AR');
    }
  });

  it('missing MSH-10 gives MISSING_FIELD, errCode 101, field 10, and keeps MSH-9', () => {
    const r = readHeader(bytes('MSH|^~\\&|RIS|HOSP|PACS|RAD|20240102||ADT^A01||P|2.5'));
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.error.code, Hl7ErrorCode.MissingField);
    assert.equal(r.error.errCode, 101);
    assert.equal(r.error.field, 10);
    assert.equal(r.header?.triggerEvent, 'A01');
    assert.equal(r.header?.versionRaw, '2.5');
  });

  it('input that does not begin with MSH gives NO_MSH', () => {
    for (const text of ['PID|1||123', 'hello world', 'FHS|^~\\&|A|B\rBHS|^~\\&\rMSH|^~\\&|A|B|C|D|1||ADT^A01|1|P|2.5', 'MS', 'msh|^~\\&|A']) {
      const r = readHeader(Buffer.from(text, 'latin1'));
      assert.equal(r.ok, false, text);
      if (!r.ok) assert.equal(r.error.code, Hl7ErrorCode.NoHeader, text);
    }
  });

  it('empty input gives EMPTY; an unusable MSH-1/MSH-2 gives BAD_DELIMITERS', () => {
    const empty = readHeader(Buffer.from('\r\n  \r', 'latin1'));
    assert.ok(!empty.ok && empty.error.code === Hl7ErrorCode.Empty);
    for (const text of ['MSHA^~\\&|x', 'MSH|||x', 'MSH|^^\\&|x', 'MSH|^~\\&#!|x']) {
      const r = readHeader(Buffer.from(text, 'latin1'));
      assert.ok(!r.ok && r.error.code === Hl7ErrorCode.BadDelimiters, text);
    }
  });
});

describe('readHeader: acknowledgement mode (DOMAIN.md §3.1)', () => {
  const msh = (f15: string, f16: string): Buffer => bytes(`MSH|^~\\&|A|B|C|D|20240102||ADT^A01|X|P|2.5|||${f15}|${f16}`);

  it('original mode when MSH-15 and MSH-16 are both empty or absent', () => {
    assert.equal(headerOf(msh('', '')).ackMode, AckMode.Original);
    assert.equal(headerOf(bytes('MSH|^~\\&|A|B|C|D|20240102||ADT^A01|X|P|2.5')).ackMode, AckMode.Original);
  });

  it('enhanced mode when either MSH-15 or MSH-16 is valued', () => {
    assert.equal(headerOf(msh('AL', '')).ackMode, AckMode.Enhanced);
    assert.equal(headerOf(msh('', 'NE')).ackMode, AckMode.Enhanced);
    assert.equal(headerOf(msh('ER', 'AL')).ackMode, AckMode.Enhanced);
  });

  it('normalises MSH-15/16 case and spaces', () => {
    const h = headerOf(msh(' al ', 'ne'));
    assert.equal(h.acceptAckType, 'AL');
    assert.equal(h.applicationAckType, 'NE');
  });
});

describe('readHeader: delimiters (quirk 4)', () => {
  it('reads non-default delimiters and numbers MSH fields as the standard does', () => {
    const h = headerOf(bytes('MSH*@!$%*RIS@1.2@ISO*HOSP%X*PACS*RAD*20240102**ORM@O01@ORM_O01*ID$F$7*P*2.5.1', 'PID*1**123@@@H'));
    assert.equal(h.fieldSeparator, '*');
    assert.equal(h.encodingCharacters, '@!$%');
    assert.equal(h.sendingApplication, 'RIS@1.2@ISO');
    assert.equal(h.sendingFacility, 'HOSP%X');
    assert.equal(h.messageType, 'ORM@O01@ORM_O01');
    assert.equal(h.messageCode, 'ORM');
    assert.equal(h.triggerEvent, 'O01');
    assert.equal(h.messageStructure, 'ORM_O01');
    assert.equal(h.controlId, 'ID$F$7');
    assert.equal(h.version, '2.5.1');
  });

  it('reads a 5-character MSH-2 with the truncation character (v2.7+)', () => {
    const h = headerOf(bytes('MSH|^~\\&#|RIS|HOSP|PACS|RAD|20240102||ADT^A01^ADT_A01|C#9|P|2.7'));
    assert.equal(h.encodingCharacters, '^~\\&#');
    assert.equal(h.sendingApplication, 'RIS');
    assert.equal(h.controlId, 'C#9');
    assert.equal(h.version, '2.7');
  });

  it('does not confuse the next message after one with different delimiters', () => {
    assert.equal(headerOf(bytes('MSH*@!$%*A*B*C*D*1**ADT@A01*X1*P*2.5')).controlId, 'X1');
    const h = headerOf(bytes('MSH|^~\\&|A|B|C|D|1||ADT^A01|X2|P|2.5'));
    assert.equal(h.controlId, 'X2');
    assert.equal(h.triggerEvent, 'A01');
    assert.equal(headerOf(bytes('MSH|^~\\&#|A|B|C|D|1||ADT^A01|X#3|P|2.5')).controlId, 'X#3');
    assert.equal(headerOf(bytes('MSH|^~\\&|A|B|C|D|1||ADT^A01|X#4|P|2.5')).encodingCharacters, '^~\\&');
  });
});
