/** Mapping options: defaults, validation messages, per-sender resolution. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAPPING_DEFAULTS, createMappingOptions, senderOptions } from '../../src/converter/map/index.js';
import { systemTimeZone } from '../../src/hl7/index.js';

test('defaults: system time zone, OBR-18 for ORM/ORU, IPC-1 for OMI, no default authority, nothing ignored; frozen', () => {
  const o = createMappingOptions();
  assert.equal(o.timeZone, systemTimeZone());
  assert.deepEqual(o.defaults, { accession: 'OBR-18', omiAccession: 'IPC-1', defaultAuthority: '', ignoreEvents: [] });
  assert.deepEqual(o.senders, {});
  assert.ok(Object.isFrozen(MAPPING_DEFAULTS) && Object.isFrozen(MAPPING_DEFAULTS.defaults) && Object.isFrozen(o) && Object.isFrozen(o.defaults));
});

test('bad values are refused with exact RangeError messages', () => {
  const cases: Array<[unknown, string]> = [
    [{ timeZone: 'Mars/Olympus' }, 'mapping.timeZone must be an IANA time zone name, got "Mars/Olympus"'],
    [{ timeZone: '' }, 'mapping.timeZone must be an IANA time zone name, got ""'],
    [{ defaults: { accession: 'OBR-99' } }, 'mapping.defaults.accession must be one of OBR-18, OBR-19, OBR-20, OBR-3, ORC-3, ORC-2, IPC-1'],
    [{ senders: { RIS: { omiAccession: 'PID-3' } } }, 'mapping.senders["RIS"].omiAccession must be one of OBR-18, OBR-19, OBR-20, OBR-3, ORC-3, ORC-2, IPC-1'],
    [{ senders: { RIS: { ignoreEvents: ['a02'] } } }, 'mapping.senders["RIS"].ignoreEvents must be a list of trigger events such as "A02"'],
    [{ senders: { RIS: { defaultAuthority: 5 } } }, 'mapping.senders["RIS"].defaultAuthority must be a string'],
    [{ senders: { ' ': {} } }, 'mapping.senders keys must be MSH-3 or MSH-3^MSH-4, not empty'],
    [{ senders: { RIS: { orderStatusMap: { XO_IP: 'done' } } } }, 'mapping.senders["RIS"].orderStatusMap entries must be ORC1_ORC5 (e.g. "XO_IP") mapped to one of scheduled, in-progress, completed, cancelled, discontinued, ignore'],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => createMappingOptions(input as never), (e: unknown) => e instanceof RangeError && e.message === message, message);
  }
});

test('sender settings: MSH-3^MSH-4 over MSH-3 over defaults; namespace IDs match whole HD wire forms', () => {
  const o = createMappingOptions({
    timeZone: 'UTC',
    defaults: { defaultAuthority: 'HOSP' },
    senders: { RIS: { accession: 'OBR-19', defaultAuthority: 'RISAUTH' }, 'RIS^SITE2': { accession: 'ORC-3' } },
  });
  assert.equal(senderOptions(o, 'OTHER', 'X').defaultAuthority, 'HOSP');
  assert.deepEqual([senderOptions(o, 'RIS', 'SITE1').accession, senderOptions(o, 'RIS', 'SITE1').defaultAuthority], ['OBR-19', 'RISAUTH']);
  assert.deepEqual([senderOptions(o, 'RIS', 'SITE2').accession, senderOptions(o, 'RIS', 'SITE2').defaultAuthority], ['ORC-3', 'RISAUTH']);
  assert.equal(senderOptions(o, 'RIS&1.2.3&ISO', 'SITE2&9.9&ISO').accession, 'ORC-3');
});
