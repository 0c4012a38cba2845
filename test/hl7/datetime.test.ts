/**
 * HL7 DTM/TS/DT values (DOMAIN.md §6 quirk 19): every precision from a year to fractional
 * seconds, with and without offsets, the "unknown" forms, invalid values, local times at
 * daylight-saving changes, and birth dates sent with a time.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Hl7Time, hl7DateOnly, hl7TimeToEpochMs, hl7TimeToIso, parseHl7Time } from '../../src/hl7/index.js';

function parsed(value: string): Hl7Time {
  const t = parseHl7Time(value);
  assert.ok(t !== undefined, `'${value}' should parse`);
  return t;
}

function iso(value: string, timeZone = 'UTC'): string {
  return hl7TimeToIso(parsed(value), timeZone);
}

describe('parseHl7Time: precisions', () => {
  it('reads each precision from a year to fractional seconds', () => {
    assert.deepEqual(parseHl7Time('2024'), { year: 2024, precision: 'year' });
    assert.deepEqual(parseHl7Time('202402'), { year: 2024, month: 2, precision: 'month' });
    assert.deepEqual(parseHl7Time('20240229'), { year: 2024, month: 2, day: 29, precision: 'day' });
    assert.deepEqual(parseHl7Time('2024022913'), { year: 2024, month: 2, day: 29, hour: 13, precision: 'hour' });
    assert.deepEqual(parseHl7Time('202402291305'), { year: 2024, month: 2, day: 29, hour: 13, minute: 5, precision: 'minute' });
    assert.deepEqual(parseHl7Time('20240229130559'), { year: 2024, month: 2, day: 29, hour: 13, minute: 5, second: 59, precision: 'second' });
    assert.deepEqual(parseHl7Time('20240229130559.5'), { year: 2024, month: 2, day: 29, hour: 13, minute: 5, second: 59, fraction: '5', precision: 'fraction' });
  });

  it('keeps fractional seconds of 1 to 4 digits as written', () => {
    for (const frac of ['1', '12', '123', '1234', '0001']) {
      assert.equal(parsed(`20240102030405.${frac}`).fraction, frac);
    }
  });

  it('cuts fractions below a millisecond in epoch ms but writes them in ISO', () => {
    assert.equal(hl7TimeToEpochMs(parsed('20240102030405.1239+0000')), Date.UTC(2024, 0, 2, 3, 4, 5, 123));
    assert.equal(hl7TimeToEpochMs(parsed('20240102030405.5+0000')), Date.UTC(2024, 0, 2, 3, 4, 5, 500));
    assert.equal(hl7TimeToEpochMs(parsed('20240102030405.05+0000')), Date.UTC(2024, 0, 2, 3, 4, 5, 50));
    assert.equal(iso('20240102030405.1239+0000'), '2024-01-02T03:04:05.1239+00:00');
  });

  it('trims surrounding spaces', () => {
    assert.deepEqual(parseHl7Time(' 20240102 '), { year: 2024, month: 1, day: 2, precision: 'day' });
  });
});

describe('parseHl7Time: offsets', () => {
  it('reads +HHMM and -HHMM offsets in minutes, including +0000', () => {
    assert.equal(parsed('20240102120000+0100').offsetMinutes, 60);
    assert.equal(parsed('20240102120000-0500').offsetMinutes, -300);
    assert.equal(parsed('20240102120000+0000').offsetMinutes, 0);
    assert.equal(parsed('20240102120000+0530').offsetMinutes, 330);
    assert.equal(parsed('20240102120000.12-0330').offsetMinutes, -210);
  });

  it('accepts an offset after any precision', () => {
    assert.deepEqual(parseHl7Time('2024+0100'), { year: 2024, offsetMinutes: 60, precision: 'year' });
    assert.deepEqual(parseHl7Time('202401021200-0500'), { year: 2024, month: 1, day: 2, hour: 12, minute: 0, offsetMinutes: -300, precision: 'minute' });
  });

  it('leaves offsetMinutes undefined when no offset is written', () => {
    assert.equal(parsed('20240102120000').offsetMinutes, undefined);
  });

  it('uses the written offset and ignores the time zone', () => {
    assert.equal(hl7TimeToIso(parsed('20240102120000+0100'), 'America/New_York'), '2024-01-02T12:00:00+01:00');
    assert.equal(hl7TimeToEpochMs(parsed('20240102120000+0100'), 'America/New_York'), Date.UTC(2024, 0, 2, 11));
    assert.equal(hl7TimeToIso(parsed('20240102120000-0500'), 'Europe/Berlin'), '2024-01-02T12:00:00-05:00');
    assert.equal(hl7TimeToEpochMs(parsed('20240102120000-0500'), 'Europe/Berlin'), Date.UTC(2024, 0, 2, 17));
    assert.equal(hl7TimeToIso(parsed('20240102120000+0000'), 'Europe/Berlin'), '2024-01-02T12:00:00+00:00');
  });

  it('rejects offsets beyond ±14:00, with minutes past 59, or not of 4 digits', () => {
    for (const v of ['20240102120000+1500', '20240102120000-0560', '20240102120000+01', '20240102120000+01:00', '20240102120000Z']) {
      assert.equal(parseHl7Time(v), undefined, v);
    }
    assert.equal(parsed('20240102120000+1400').offsetMinutes, 840);
  });
});

describe('parseHl7Time: unknown and invalid values', () => {
  it('reads all-zero years (0000, 00000000, 00000000000000) as unknown', () => {
    for (const v of ['0000', '00000000', '000000000000', '00000000000000', '00000000000000.000+0000']) {
      assert.equal(parseHl7Time(v), undefined, v);
    }
  });

  it('reads a trailing 00 month or day as unknown and lowers the precision', () => {
    assert.deepEqual(parseHl7Time('19800000'), { year: 1980, precision: 'year' });
    assert.deepEqual(parseHl7Time('198000'), { year: 1980, precision: 'year' });
    assert.deepEqual(parseHl7Time('19800500'), { year: 1980, month: 5, precision: 'month' });
    assert.equal(hl7DateOnly('19800500'), undefined);
  });

  it('rejects a 00 month or day followed by a time', () => {
    assert.equal(parseHl7Time('19800000120000'), undefined);
    assert.equal(parseHl7Time('19800100120000'), undefined);
    assert.equal(parseHl7Time('19800001'), undefined);
  });

  it('returns undefined for empty values and the HL7 null', () => {
    assert.equal(parseHl7Time(''), undefined);
    assert.equal(parseHl7Time('   '), undefined);
    assert.equal(parseHl7Time('""'), undefined);
  });

  it('rejects out-of-range months, days, hours, minutes and seconds', () => {
    for (const v of ['202413', '20241301', '20240132', '20240230', '20230229', '20240431', '19000229', '2024010224', '202401021260', '20240102120060']) {
      assert.equal(parseHl7Time(v), undefined, v);
    }
    assert.ok(parseHl7Time('20000229') !== undefined, '2000 is a leap year');
    assert.ok(parseHl7Time('20240430235959') !== undefined);
  });

  it('rejects garbage, odd digit counts, separators and a fraction without seconds', () => {
    for (const v of ['abc', '2024-01-02', '2024010', '202401021', '20240102T120000', '202401021200.5', '20240102120000.', '20240102120000.1234567890', '24', '2024 01', '12/01/2024', '٢٠٢٤']) {
      assert.equal(parseHl7Time(v), undefined, v);
    }
  });
});

describe('hl7TimeToIso / hl7TimeToEpochMs in a time zone', () => {
  it('writes a full ISO 8601 instant with an offset, units not given at the start of the period', () => {
    assert.equal(iso('2024', 'Europe/Berlin'), '2024-01-01T00:00:00+01:00');
    assert.equal(iso('202407', 'Europe/Berlin'), '2024-07-01T00:00:00+02:00');
    assert.equal(iso('20240705', 'America/New_York'), '2024-07-05T00:00:00-04:00');
    assert.equal(iso('2024070513', 'America/New_York'), '2024-07-05T13:00:00-04:00');
    assert.equal(iso('202407051307', 'UTC'), '2024-07-05T13:07:00+00:00');
    assert.equal(iso('20240705130709.12', 'Europe/Berlin'), '2024-07-05T13:07:09.12+02:00');
  });

  it('reads a time without offset in the zone, winter and summer', () => {
    assert.equal(hl7TimeToEpochMs(parsed('20240115120000'), 'Europe/Berlin'), Date.UTC(2024, 0, 15, 11));
    assert.equal(hl7TimeToEpochMs(parsed('20240715120000'), 'Europe/Berlin'), Date.UTC(2024, 6, 15, 10));
    assert.equal(hl7TimeToEpochMs(parsed('20240115120000'), 'America/New_York'), Date.UTC(2024, 0, 15, 17));
    assert.equal(hl7TimeToEpochMs(parsed('20240715120000'), 'America/New_York'), Date.UTC(2024, 6, 15, 16));
  });

  it('ISO string and epoch ms denote the same instant', () => {
    for (const v of ['20240331023000', '20241027023000', '20240310023000', '20241103013000', '20240102120000.5', '1980']) {
      for (const zone of ['Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'UTC']) {
        const t = parsed(v);
        assert.equal(Date.parse(hl7TimeToIso(t, zone)), hl7TimeToEpochMs(t, zone), `${v} in ${zone}`);
      }
    }
  });

  it('Berlin spring gap (2024-03-31 02:00-03:00 does not exist): read with the winter offset, shown after the change', () => {
    assert.equal(iso('20240331013000', 'Europe/Berlin'), '2024-03-31T01:30:00+01:00');
    assert.equal(iso('20240331023000', 'Europe/Berlin'), '2024-03-31T03:30:00+02:00');
    assert.equal(hl7TimeToEpochMs(parsed('20240331023000'), 'Europe/Berlin'), Date.UTC(2024, 2, 31, 1, 30));
    assert.equal(iso('20240331030000', 'Europe/Berlin'), '2024-03-31T03:00:00+02:00');
  });

  it('Berlin autumn overlap (2024-10-27 02:00-03:00 occurs twice): the earlier instant, summer offset', () => {
    assert.equal(iso('20241027023000', 'Europe/Berlin'), '2024-10-27T02:30:00+02:00');
    assert.equal(hl7TimeToEpochMs(parsed('20241027023000'), 'Europe/Berlin'), Date.UTC(2024, 9, 27, 0, 30));
    assert.equal(iso('20241027015959', 'Europe/Berlin'), '2024-10-27T01:59:59+02:00');
    assert.equal(iso('20241027030000', 'Europe/Berlin'), '2024-10-27T03:00:00+01:00');
  });

  it('New York spring gap (2024-03-10 02:00-03:00) and autumn overlap (2024-11-03 01:00-02:00)', () => {
    assert.equal(iso('20240310023000', 'America/New_York'), '2024-03-10T03:30:00-04:00');
    assert.equal(hl7TimeToEpochMs(parsed('20240310023000'), 'America/New_York'), Date.UTC(2024, 2, 10, 7, 30));
    assert.equal(iso('20241103013000', 'America/New_York'), '2024-11-03T01:30:00-04:00');
    assert.equal(hl7TimeToEpochMs(parsed('20241103013000'), 'America/New_York'), Date.UTC(2024, 10, 3, 5, 30));
    assert.equal(iso('20241103020000', 'America/New_York'), '2024-11-03T02:00:00-05:00');
  });

  it('applies the same rules to a 30-minute DST shift (Australia/Lord_Howe)', () => {
    assert.equal(iso('20241006021500', 'Australia/Lord_Howe'), '2024-10-06T02:45:00+11:00', 'gap 02:00-02:30');
    assert.equal(iso('20240407014500', 'Australia/Lord_Howe'), '2024-04-07T01:45:00+11:00', 'overlap 01:30-02:00: earlier');
    assert.equal(iso('20240407020000', 'Australia/Lord_Howe'), '2024-04-07T02:00:00+10:30');
  });

  it('a date at a DST change starts at local midnight', () => {
    assert.equal(iso('20240331', 'Europe/Berlin'), '2024-03-31T00:00:00+01:00');
    assert.equal(iso('20241103', 'America/New_York'), '2024-11-03T00:00:00-04:00');
  });

  it('handles zones with half-hour offsets and years before 100', () => {
    assert.equal(iso('20240102120000', 'Asia/Kolkata'), '2024-01-02T12:00:00+05:30');
    assert.equal(iso('00500601+0000'), '0050-06-01T00:00:00+00:00');
    assert.equal(hl7TimeToEpochMs(parsed('00500601+0000')), Date.parse('0050-06-01T00:00:00Z'));
  });

  it('throws RangeError for an unknown time zone', () => {
    assert.throws(() => hl7TimeToIso(parsed('20240102'), 'Mars/Olympus_Mons'), RangeError);
    assert.throws(() => hl7TimeToEpochMs(parsed('20240102120000+0100'), 'Mars/Olympus_Mons'), RangeError, 'also when the value has its own offset');
  });
});

describe('hl7DateOnly (DICOM DA)', () => {
  it('gives YYYYMMDD for a date and for a birth date sent with a time', () => {
    assert.equal(hl7DateOnly('19800101'), '19800101');
    assert.equal(hl7DateOnly('198001011230'), '19800101');
    assert.equal(hl7DateOnly('19800101235959.1234'), '19800101');
  });

  it('keeps the date as written whatever the offset', () => {
    assert.equal(hl7DateOnly('19800101+1400'), '19800101');
    assert.equal(hl7DateOnly('19800101233000-0500'), '19800101');
  });

  it('is undefined for less than day precision, unknown and invalid values', () => {
    for (const v of ['1980', '198001', '', '""', '00000000', '0000', '19800132', 'garbage', '19800101xyz']) {
      assert.equal(hl7DateOnly(v), undefined, v);
    }
  });
});
