/** RIS-PACS synchronisation (DOMAIN.md §5 PIR): each trigger and the DICOM mapping of each field carried. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SyncRequestedData } from '../../src/workflows/index.js';
import { adt, harness, orm, syncs } from './helpers.js';

function change(s: SyncRequestedData, keyword: string): { value: unknown; previous: unknown; tag: string; vr: string } | undefined {
  return s.changes.find((c) => c.keyword === keyword);
}

describe('sync.requested', () => {
  it('A08 name change: PatientName in DICOM PN order (XPN components 4 and 5 swapped), previous value, old PatientID and the studies', async (t) => {
    const h = await harness(t);
    h.send(
      adt('A04', '1001^^^HOSP^MR', { name: 'DOE^JOHN^Q^JR^DR' }),
      orm({ accession: 'ACC1', uid: '1.2.3.4' }),
      orm({ accession: 'ACC2' }),
    );
    const events = h.send(adt('A08', '1001^^^HOSP^MR', { name: 'DOE-SMITH^JOHN^Q^III^PROF', time: '20240103120000' }));
    assert.equal(events[0]!.type, 'patient.updated');
    assert.equal(events.at(-1)!.type, 'sync.requested', 'after the message\'s own events');
    const [s] = syncs(events);
    assert.equal(s!.reason, 'demographics');
    assert.equal(s!.message, 'ADT^A08');
    assert.equal(s!.cause, 'patient.updated');
    assert.deepEqual(s!.changes, [{ keyword: 'PatientName', tag: '00100010', vr: 'PN', value: 'DOE-SMITH^JOHN^Q^PROF^III', previous: 'DOE^JOHN^Q^DR^JR' }]);
    assert.deepEqual(s!.match, { PatientID: '1001', IssuerOfPatientID: 'HOSP' });
    assert.deepEqual(
      s!.studies.map((x) => [x.AccessionNumber, x.StudyInstanceUID]),
      [['ACC1', '1.2.3.4'], ['ACC2', '']],
    );
    assert.equal(events.find((e) => e.type === 'sync.requested')!.messageSeq, events[0]!.messageSeq);
  });

  it('PatientSex maps to M/F/O (A, N → O; U → empty) and PatientBirthDate keeps the first 8 characters', async (t) => {
    const h = await harness(t);
    h.send(adt('A04', '1001^^^HOSP^MR', { sex: 'M', dob: '19700101' }));
    const cases: Array<[string, string, string]> = [
      ['F', 'F', 'M'],
      ['A', 'O', 'F'],
      ['U', '', 'O'],
      ['N', 'O', ''],
      ['O', 'O', 'O'],
    ];
    let n = 0;
    for (const [hl7, dicom, previous] of cases) {
      const [s] = syncs(h.send(adt('A08', '1001^^^HOSP^MR', { sex: hl7, dob: '19700101', time: `2024010${3 + n++}120000` })));
      if (dicom === previous) {
        assert.equal(s, undefined, `${hl7}: no DICOM change, no sync`);
        continue;
      }
      assert.deepEqual(change(s!, 'PatientSex'), { keyword: 'PatientSex', tag: '00100040', vr: 'CS', value: dicom, previous }, hl7);
    }
    const [b] = syncs(h.send(adt('A08', '1001^^^HOSP^MR', { sex: 'O', dob: '198002291230', time: '20240201120000' })));
    assert.deepEqual(change(b!, 'PatientBirthDate'), { keyword: 'PatientBirthDate', tag: '00100030', vr: 'DA', value: '19800229', previous: '19700101' });
  });

  it('a change DICOM does not carry (address only) makes no sync; sync.changes limits the kinds', async (t) => {
    const h = await harness(t);
    h.send(adt('A04', '1001^^^HOSP^MR'));
    const addr = Buffer.from(
      ['MSH|^~\\&|HIS|HOSP|PACS|RAD|20240103120000||ADT^A08^ADT_A01|Z1|P|2.5.1', 'EVN|A08|20240103120000', 'PID|1||1001^^^HOSP^MR||DOE^JOHN||19700101|M|||1 MAIN ST^^TOWN', 'PV1|1|O'].join('\r') + '\r',
    );
    const ev = h.send(addr);
    assert.ok(ev.some((e) => e.type === 'patient.updated'));
    assert.equal(syncs(ev).length, 0);
    const off = await harness(t, { workflows: { sync: { changes: ['merge'] } } });
    off.send(adt('A04', '1001^^^HOSP^MR'));
    assert.equal(syncs(off.send(adt('A08', '1001^^^HOSP^MR', { name: 'NEW^NAME', time: '20240103120000' }))).length, 0);
    const disabled = await harness(t, { workflows: { sync: { enabled: false } } });
    disabled.send(adt('A04', '1001^^^HOSP^MR'));
    assert.equal(syncs(disabled.send(adt('A08', '1001^^^HOSP^MR', { name: 'NEW^NAME', time: '20240103120000' }))).length, 0);
  });

  it('A47 identifier change: PatientID and issuer with previous values, OtherPatientIDsSequence, matched by the old ID', async (t) => {
    const h = await harness(t);
    h.send(adt('A04', 'TMP9^^^HOSP^MR~777^^^NATID&2.16.840.1&ISO^NI'), orm({ ids: 'TMP9^^^HOSP^MR', accession: 'TR1', uid: '1.9' }));
    const events = h.send(adt('A47', '1001^^^HOSP^MR', { mrg: 'TMP9^^^HOSP^MR' }));
    const [s] = syncs(events);
    assert.equal(s!.reason, 'identifiers');
    assert.equal(s!.cause, 'patient.identifiers-changed');
    assert.deepEqual(s!.match, { PatientID: 'TMP9', IssuerOfPatientID: 'HOSP' });
    // The patient's identifiers become [777 NATID, 1001 HOSP]: the first is the PatientID by default.
    const pidChange = change(s!, 'PatientID');
    assert.deepEqual(pidChange && [pidChange.previous, pidChange.value], ['TMP9', '777']);
    assert.deepEqual(change(s!, 'IssuerOfPatientID') && [change(s!, 'IssuerOfPatientID')!.previous, change(s!, 'IssuerOfPatientID')!.value], ['HOSP', 'NATID']);
    assert.deepEqual(change(s!, 'OtherPatientIDsSequence')!.value, [{ PatientID: '1001', IssuerOfPatientID: 'HOSP', TypeOfPatientID: 'TEXT' }]);
    assert.deepEqual(change(s!, 'OtherPatientIDsSequence')!.previous, [
      { PatientID: '777', IssuerOfPatientID: 'NATID', TypeOfPatientID: 'TEXT', IssuerOfPatientIDQualifiersSequence: [{ UniversalEntityID: '2.16.840.1', UniversalEntityIDType: 'ISO' }] },
    ]);
    assert.deepEqual(s!.studies.map((x) => x.AccessionNumber), ['TR1']);

    // With a primary authority the HOSP identifier is the PatientID and NATID stays in the sequence.
    const p = await harness(t, { workflows: { sync: { primaryAuthority: 'HOSP' } } });
    p.send(adt('A04', 'TMP9^^^HOSP^MR~777^^^NATID^NI'));
    const [q] = syncs(p.send(adt('A47', '1001^^^HOSP^MR', { mrg: 'TMP9^^^HOSP^MR' })));
    assert.deepEqual(q!.changes.map((c) => [c.keyword, c.previous, c.value]), [['PatientID', 'TMP9', '1001']]);
  });

  it('A40 merge: the absorbed patient\'s attributes become the survivor\'s, matched by the old PatientID, the moved studies listed', async (t) => {
    const h = await harness(t);
    h.send(
      adt('A04', '2001^^^HOSP^MR', { name: 'TRAUMA^UNKNOWN', dob: '19000101', sex: 'U' }),
      orm({ ids: '2001^^^HOSP^MR', accession: 'T-1', uid: '1.2.9.1' }),
      adt('A04', '3001^^^HOSP^MR', { name: 'ROE^JANE', dob: '19800202', sex: 'F' }),
      orm({ ids: '3001^^^HOSP^MR', accession: 'R-1', uid: '1.2.9.2' }),
    );
    const events = h.send(adt('A40', '3001^^^HOSP^MR', { mrg: '2001^^^HOSP^MR', name: 'ROE^JANE' }));
    const [s] = syncs(events);
    assert.equal(s!.reason, 'merge');
    assert.equal(s!.message, 'ADT^A40');
    assert.deepEqual(s!.match, { PatientID: '2001', IssuerOfPatientID: 'HOSP' });
    assert.notEqual(s!.sourcePatientKey, s!.patientKey);
    assert.deepEqual(
      s!.changes.map((c) => [c.keyword, c.previous, c.value]),
      [
        ['PatientName', 'TRAUMA^UNKNOWN', 'ROE^JANE'],
        ['PatientID', '2001', '3001'],
        ['PatientBirthDate', '19000101', '19800202'],
        ['PatientSex', '', 'F'],
      ],
    );
    assert.deepEqual(s!.studies, [{ orderKey: s!.studies[0]!.orderKey, reportId: null, AccessionNumber: 'T-1', StudyInstanceUID: '1.2.9.1' }]);

    // A34 (legacy merge) and an unknown source: still a sync, matched by the old ID, no known study.
    const [u] = syncs(h.send(adt('A34', '3001^^^HOSP^MR', { mrg: 'GHOST^^^HOSP^MR', name: 'ROE^JANE' })));
    assert.equal(u!.reason, 'merge');
    assert.deepEqual(u!.match, { PatientID: 'GHOST', IssuerOfPatientID: 'HOSP' });
    assert.deepEqual(u!.studies, []);
  });

  it('order changes (RAD-13): AccessionNumber, StudyInstanceUID and the requested procedure, keyed by the previous values', async (t) => {
    const h = await harness(t);
    // Scheduled before the RIS assigned an accession (trauma): found later by its order numbers.
    h.send(orm({ accession: '', placer: 'PL7', filler: 'FL7', uid: '1.2.3.100', service: 'CT1^CT HEAD^LOCAL' }));
    const events = h.send(orm({ accession: 'NEWACC', placer: 'PL7', filler: 'FL7', uid: '1.2.3.200', service: 'CT2^CT HEAD W CONTRAST^LOCAL', control: 'XO', status: 'SC', time: '20240103120000' }));
    const [s] = syncs(events);
    assert.equal(s!.reason, 'order');
    assert.equal(s!.cause, 'order.updated');
    assert.deepEqual(
      s!.changes.map((c) => [c.keyword, c.tag, c.previous, c.value]),
      [
        ['AccessionNumber', '00080050', '', 'NEWACC'],
        ['StudyInstanceUID', '0020000D', '1.2.3.100', '1.2.3.200'],
        ['RequestedProcedureDescription', '00321060', 'CT HEAD', 'CT HEAD W CONTRAST'],
        [
          'RequestedProcedureCodeSequence',
          '00321064',
          [{ CodeValue: 'CT1', CodingSchemeDesignator: 'LOCAL', CodeMeaning: 'CT HEAD' }],
          [{ CodeValue: 'CT2', CodingSchemeDesignator: 'LOCAL', CodeMeaning: 'CT HEAD W CONTRAST' }],
        ],
      ],
    );
    assert.deepEqual(s!.studies.map((x) => [x.AccessionNumber, x.StudyInstanceUID]), [['', '1.2.3.100']]);
    assert.deepEqual(s!.match, { PatientID: '1001', IssuerOfPatientID: 'HOSP' });
    // The UID alone changes under the same accession.
    const [u] = syncs(h.send(orm({ accession: 'NEWACC', placer: 'PL7', filler: 'FL7', uid: '1.2.3.300', service: 'CT2^CT HEAD W CONTRAST^LOCAL', control: 'XO', status: 'SC', time: '20240103130000' })));
    assert.deepEqual(u!.changes.map((c) => [c.keyword, c.previous, c.value]), [['StudyInstanceUID', '1.2.3.200', '1.2.3.300']]);
    assert.deepEqual(u!.studies.map((x) => [x.AccessionNumber, x.StudyInstanceUID]), [['NEWACC', '1.2.3.200']]);
    // A status change alone carries nothing the PACS keeps.
    assert.equal(syncs(h.send(orm({ accession: 'NEWACC', placer: 'PL7', filler: 'FL7', control: 'XO', status: 'CM', time: '20240104120000', uid: '1.2.3.300', service: 'CT2^CT HEAD W CONTRAST^LOCAL' }))).length, 0);
  });

  it('an order moved to another patient carries the new patient\'s PatientID, matched by the old one', async (t) => {
    const h = await harness(t);
    h.send(adt('A04', 'TEMP1^^^HOSP^MR', { name: 'UNKNOWN^MALE' }), orm({ ids: 'TEMP1^^^HOSP^MR', accession: 'MV1', placer: 'PM', filler: 'FM' }), adt('A04', '1001^^^HOSP^MR'));
    const [s] = syncs(h.send(orm({ ids: '1001^^^HOSP^MR', accession: 'MV1', placer: 'PM', filler: 'FM', control: 'XO', status: 'SC', time: '20240103120000' })));
    assert.deepEqual(s!.match, { PatientID: 'TEMP1', IssuerOfPatientID: 'HOSP' });
    assert.deepEqual(s!.changes.map((c) => [c.keyword, c.previous, c.value]).filter(([k]) => k === 'PatientID' || k === 'PatientName'), [
      ['PatientName', 'UNKNOWN^MALE', 'DOE^JOHN'],
      ['PatientID', 'TEMP1', '1001'],
    ]);
  });

  it('values past the DICOM limits are cut (SH 16, LO 64, PN 64) and each cut is reported', async (t) => {
    const h = await harness(t);
    const longId = 'X'.repeat(70);
    const longFamily = 'F'.repeat(60);
    h.send(adt('A04', `${longId}^^^HOSP^MR`, { name: 'DOE^JOHN' }), orm({ ids: `${longId}^^^HOSP^MR`, accession: 'ACC-0123456789-XYZ' }));
    const [s] = syncs(h.send(adt('A08', `${longId}^^^HOSP^MR`, { name: `${longFamily}^GIVENNAME^M`, time: '20240103120000' })));
    assert.equal(change(s!, 'PatientName')!.value, `${longFamily}^GIV`);
    assert.equal(s!.match.PatientID, 'X'.repeat(64));
    assert.equal(s!.studies[0]!.AccessionNumber, 'ACC-0123456789-X');
    assert.deepEqual(
      s!.truncated.map((x) => [x.keyword, x.vr, x.maxLength, x.original.length, x.value.length]).sort(),
      [
        ['AccessionNumber', 'SH', 16, 18, 16],
        ['PatientID', 'LO', 64, 70, 64],
        ['PatientName', 'PN', 64, 72, 64],
      ],
    );
  });
});
