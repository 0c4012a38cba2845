import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextDecoder } from 'node:util';
import { ASCII, Hl7Message, ParseWarning, UTF8, resolveCharset } from '../../src/hl7/index.js';
import { MSH } from '../helpers/hl7.js';

/** A message whose MSH-18 is `charset` and whose PID-5 holds `name` bytes, then `^GIVEN`. */
function message(charset: string, name: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${MSH}||||||${charset}\rPID|1||ID1||`, 'latin1'), name, Buffer.from('^GIVEN|X\r', 'latin1')]);
}

function parse(bytes: Uint8Array, options?: Parameters<Hl7Message['parse']>[1]): Hl7Message {
  const m = new Hl7Message();
  const error = m.parse(bytes, options);
  assert.equal(error, undefined);
  return m;
}

test('MSH-18 values of table 0211 resolve to decoders, with their DICOM terms', () => {
  const cases: Array<[string, string, string | undefined]> = [
    ['', 'UNICODE UTF-8', 'ISO_IR 192'],
    ['ASCII', 'ASCII', ''],
    ['8859/1', '8859/1', 'ISO_IR 100'],
    ['8859/2', '8859/2', 'ISO_IR 101'],
    ['8859/5', '8859/5', 'ISO_IR 144'],
    ['8859/7', '8859/7', 'ISO_IR 126'],
    ['8859/9', '8859/9', 'ISO_IR 148'],
    ['8859/15', '8859/15', 'ISO_IR 203'],
    ['UNICODE UTF-8', 'UNICODE UTF-8', 'ISO_IR 192'],
    ['UNICODE', 'UNICODE UTF-8', 'ISO_IR 192'],
    [' unicode utf-8 ', 'UNICODE UTF-8', 'ISO_IR 192'],
    ['ISO IR87', 'ISO IR87', 'ISO 2022 IR 87'],
    ['GB 18030-2000', 'GB 18030-2000', 'GB18030'],
    ['KS X 1001', 'KS X 1001', 'ISO 2022 IR 149'],
    ['BIG-5', 'BIG-5', undefined],
  ];
  for (const [msh18, name, dicom] of cases) {
    const { charset, unknown } = resolveCharset(msh18);
    assert.equal(charset.name, name, msh18);
    assert.equal(charset.dicom, dicom, msh18);
    assert.equal(unknown, false, msh18);
  }
  assert.equal(resolveCharset('UNICODE UTF-16').unknown, true);
  assert.equal(resolveCharset('CNS 11643-1992').unknown, true);
  assert.equal(resolveCharset('', ASCII).charset, ASCII);
});

test('UTF-8 names decode whole, multi-byte characters next to delimiters included', () => {
  const m = parse(message('UNICODE UTF-8', Buffer.from('Müller-Łukasz^Zoë', 'utf8')));
  assert.equal(m.get('PID-5.1'), 'Müller-Łukasz');
  assert.equal(m.get('PID-5.2'), 'Zoë');
  assert.equal(m.get('PID-5.3'), 'GIVEN');
  assert.equal(m.warnings, 0);
});

test('quirk 5: an empty MSH-18 with UTF-8 bytes decodes as UTF-8 (the default)', () => {
  const m = parse(message('', Buffer.from('Ødegård', 'utf8')));
  assert.equal(m.get('PID-5.1'), 'Ødegård');
  assert.equal(m.warnings & ParseWarning.CharsetFallback, 0);
});

test('quirk 5: an empty MSH-18 with cp1252 bytes falls back to windows-1252, flagged', () => {
  const m = parse(message('', Buffer.from([0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72, 0x80])));
  assert.equal(m.get('PID-5.1'), 'Müller€');
  assert.ok(m.warnings & ParseWarning.CharsetFallback);
  assert.equal(m.charset.name, 'WINDOWS-1252');
});

test('a configured ASCII default turns high bytes into a flagged fallback', () => {
  const m = parse(message('', Buffer.from('é', 'utf8')), { defaultCharset: ASCII });
  assert.ok(m.warnings & ParseWarning.CharsetFallback);
  const ok = parse(message('', Buffer.from('plain', 'utf8')), { defaultCharset: ASCII });
  assert.equal(ok.warnings, 0);
  assert.equal(ok.charset, ASCII);
});

test('a declared UTF-8 message with invalid bytes is flagged', () => {
  const m = parse(message('UNICODE UTF-8', Buffer.from([0x41, 0xe9, 0x42])));
  assert.ok(m.warnings & ParseWarning.CharsetFallback);
  assert.equal(m.get('PID-5.1'), 'AéB');
});

test('ISO 8859 parts decode their own repertoires', () => {
  assert.equal(parse(message('8859/1', Buffer.from([0x4a, 0xe9, 0x72, 0xf4, 0x6d, 0x65]))).get('PID-5.1'), 'Jérôme');
  assert.equal(parse(message('8859/2', Buffer.from([0xb1, 0xe6]))).get('PID-5.1'), 'ąć');
  assert.equal(parse(message('8859/5', Buffer.from([0xb8, 0xd2, 0xd0, 0xdd]))).get('PID-5.1'), 'Иван');
  assert.equal(parse(message('8859/7', Buffer.from([0xe1, 0xe2]))).get('PID-5.1'), 'αβ');
  assert.equal(parse(message('8859/15', Buffer.from([0xa4]))).get('PID-5.1'), '€');
});

test('Shift_JIS: a trail byte equal to the escape character does not split the character', () => {
  // ソ = 83 5C and 表 = 95 5C: both trail bytes are '\'.
  const name = Uint8Array.from([0x83, 0x5c, 0x95, 0x5c]);
  for (const label of ['ISO IR14', 'SHIFT_JIS']) {
    const m = parse(message(label, name));
    assert.equal(m.get('PID-5.1'), 'ソ表', label);
    assert.equal(m.get('PID-5.2'), 'GIVEN');
    assert.ok(m.warnings & ParseWarning.Transcoded);
    assert.equal(m.bytes.length, message(label, name).length, 'the original bytes are kept');
  }
});

test('Big5: a trail byte equal to the escape character does not split the character', () => {
  const name = Uint8Array.from([0xa5, 0x5c, 0xa6, 0x57]); // 功名
  assert.equal(parse(message('BIG-5', name)).get('PID-5.1'), new TextDecoder('big5').decode(name));
  assert.equal(new TextDecoder('big5').decode(name), '功名');
});

test('ISO IR87 (ISO-2022-JP): 7-bit code bytes equal to & or ^ stay inside their characters', () => {
  // JIS X 0208 0x2621 (Greek capital alpha) has the byte 0x26 '&'; 0x215E has 0x5E '^'.
  const name = Uint8Array.from([0x1b, 0x24, 0x42, 0x26, 0x21, 0x21, 0x5e, 0x3b, 0x33, 0x1b, 0x28, 0x42]);
  const expected = new TextDecoder('iso-2022-jp').decode(name);
  assert.equal(expected.length, 3);
  const m = parse(message('ISO IR87', name));
  assert.equal(m.get('PID-5.1'), expected);
  assert.equal(m.get('PID-5.2'), 'GIVEN');
});

test('GB 18030 and KS X 1001 decode', () => {
  const gb = Uint8Array.from([0xd5, 0xc5, 0xc8, 0xfd, 0x81, 0x7c]);
  assert.equal(parse(message('GB 18030-2000', gb)).get('PID-5.1'), new TextDecoder('gb18030').decode(gb));
  const kr = Uint8Array.from([0xc7, 0xd1, 0xb1, 0xdb]);
  assert.equal(parse(message('KS X 1001', kr)).get('PID-5.1'), '한글');
});

test('an unknown MSH-18 uses the default and is flagged', () => {
  const m = parse(message('KLINGON', Buffer.from('plain', 'utf8')));
  assert.ok(m.warnings & ParseWarning.UnknownCharset);
  assert.equal(m.charset, UTF8);
  assert.equal(m.get('PID-5.1'), 'plain');
});
