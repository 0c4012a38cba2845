import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DELIMITERS, Render, escapeValue } from '../../src/hl7/index.js';
import { MSH, hl7, parseOk } from '../helpers/hl7.js';

function obx5(value: string, render: Render = Render.Raw, msh = MSH): string {
  return parseOk(hl7(msh, `OBX|1|FT|||${value}`)).get('OBX-5', render);
}

test('delimiter escapes decode to the message\'s own delimiters', () => {
  assert.equal(obx5('a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f'), 'a|b^c&d~e\\f');
  const msh = 'MSH*:!%@*RIS*HOSP*PACS*RAD*20240102**ORU:R01*C1*P*2.5.1';
  const m = parseOk(['MSH*:!%@*RIS*HOSP*PACS*RAD*20240102**ORU:R01*C1*P*2.5.1', 'OBX*1*FT***a%F%b%S%c%T%d%R%e%E%f'].join('\r'));
  assert.equal(m.get('OBX-5'), 'a*b:c@d!e%f');
  assert.ok(msh.length > 0);
});

test('\\P\\ is the truncation character when MSH-2 declares one, kept verbatim otherwise', () => {
  assert.equal(obx5('50\\P\\', Render.Raw, MSH.replace('^~\\&', '^~\\&#')), '50#');
  assert.equal(obx5('50\\P\\'), '50\\P\\');
});

test('\\Xhh..\\ decodes bytes in the message charset; malformed hex is kept', () => {
  assert.equal(obx5('line1\\X0D0A\\line2'), 'line1\r\nline2');
  assert.equal(obx5('caf\\XC3A9\\'), 'café');
  assert.equal(obx5('caf\\XE9\\', Render.Raw, MSH + '||||||8859/1'), 'café');
  assert.equal(obx5('bad\\XZZ\\'), 'bad\\XZZ\\');
  assert.equal(obx5('odd\\X0\\'), 'odd\\X0\\');
  assert.equal(obx5('empty\\X\\'), 'empty\\X\\');
});

test('locally defined and ISO 2022 switch escapes are kept verbatim', () => {
  assert.equal(obx5('a\\Zabc\\b'), 'a\\Zabc\\b');
  assert.equal(obx5('a\\C2842\\b\\M2442\\c'), 'a\\C2842\\b\\M2442\\c');
  assert.equal(obx5('a\\Q\\b'), 'a\\Q\\b');
});

test('an unterminated escape sequence is kept as it is', () => {
  assert.equal(obx5('abc\\F'), 'abc\\F');
  assert.equal(obx5('\\F\\abc\\T'), '|abc\\T');
});

test('FT formatting: raw keeps the commands, text renders them', () => {
  const v = 'A\\.br\\B\\.sp 2\\C\\.sk 3\\D\\.ti 2\\E\\.ce\\F\\.fi\\G\\.nf\\H';
  assert.equal(obx5(v), v);
  assert.equal(obx5(v, Render.Text), 'A\nB\n\n\nC   D  E\nFGH');
  assert.equal(obx5('\\.in 4\\x\\.br\\y', Render.Text), '    x\n    y');
  assert.equal(obx5('a\\.sp\\b', Render.Text), 'a\n\nb');
  assert.equal(obx5('a\\.unknown\\b', Render.Text), 'a\\.unknown\\b');
});

test('\\H\\ and \\N\\ (highlighting) are kept raw and dropped in text', () => {
  assert.equal(obx5('\\H\\bold\\N\\'), '\\H\\bold\\N\\');
  assert.equal(obx5('\\H\\bold\\N\\', Render.Text), 'bold');
});

test('quirk 6: \\T\\ and \\.br\\ arriving literally are decoded, not stored as text', () => {
  assert.equal(obx5('Smith \\T\\ Sons\\.br\\Ltd', Render.Text), 'Smith & Sons\nLtd');
});

test('escapeValue escapes the escape character first, then every delimiter, CR and LF', () => {
  assert.equal(escapeValue('plain text'), 'plain text');
  assert.equal(escapeValue('a|b^c~d&e\\f'), 'a\\F\\b\\S\\c\\R\\d\\T\\e\\E\\f');
  assert.equal(escapeValue('l1\r\nl2'), 'l1\\X0D\\\\X0A\\l2');
  assert.equal(escapeValue('50#', { ...DEFAULT_DELIMITERS, truncation: '#' }), '50\\P\\');
  assert.equal(escapeValue('50#'), '50#');
  const custom = { field: '*', component: ':', repetition: '!', escape: '%', subcomponent: '@', truncation: '' };
  assert.equal(escapeValue('a*b:c!d@e%f|g', custom), 'a%F%b%S%c%R%d%T%e%E%f|g');
});

test('escaped values read back unchanged, including text that looks like an escape sequence', () => {
  for (const value of ['\\.br\\', 'x\\F\\y', 'C:\\temp\\new', 'a|b^c~d&e', 'l1\r\nl2', '""', 'ünïcödé ✓', '\\', '\\\\']) {
    const m = parseOk(hl7(MSH + '||||||UNICODE UTF-8', `NTE|1||${escapeValue(value)}`));
    assert.equal(m.get('NTE-3'), value, JSON.stringify(value));
  }
});
