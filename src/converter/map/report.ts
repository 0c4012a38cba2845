/**
 * ORU^R01 → one `report.upsert` per OBR group (DOMAIN.md §4.6). Structure
 * `{[PID [PV1]] {[ORC] OBR {OBX [NTE]}}}`: a group runs from its OBR to the next OBR, ORC or
 * PID; its patient is the PID before it (none when the message has none).
 *
 * Fields: accession at the sender's `accession` location (OBR-18 default; ORC-2/ORC-3 read
 * the group's ORC; IPC-1 finds nothing), placer OBR-2.1 else ORC-2.1, filler OBR-3.1 else
 * ORC-3.1, Study Instance UID from a DCM 113014 OBX, time OBR-22 else OBR-7 else MSH-7 (ISO),
 * author OBR-32.1 as `FAMILY^GIVEN` (else its ID) or, failing that, OBR-32 as text; text and
 * attachments per observations.ts. Status: {@link reportStatusOf}.
 */
import type { Hl7Message } from '../../hl7/index.js';
import { ReportStatus } from '../../repository/model.js';
import type { Change, PatientData, ReportData } from '../changes.js';
import { type MapContext, type MapOutcome, isoTime, missingField, readPatient, str } from './common.js';
import { obxSegments, readObservations } from './observations.js';

/**
 * The status of a report version from OBR-25 and the OBX-11 of the lines kept (not D/W):
 * - OBR-25 X → cancelled; C → corrected;
 * - OBR-25 F → corrected when any line is C (the version corrects a final report), else final;
 * - OBR-25 empty → from the lines: any C → corrected, else all F → final, else preliminary;
 * - OBR-25 P and the "not yet final" codes A, I, R, S, O (and any other) → preliminary, whatever
 *   the lines say (the result as a whole is not final).
 */
export function reportStatusOf(obr25: string, lineStatuses: readonly string[]): ReportStatus {
  const anyC = lineStatuses.includes('C');
  switch (obr25) {
    case 'X': return ReportStatus.Cancelled;
    case 'C': return ReportStatus.Corrected;
    case 'F': return anyC ? ReportStatus.Corrected : ReportStatus.Final;
    case '':
      if (anyC) return ReportStatus.Corrected;
      return lineStatuses.length > 0 && lineStatuses.every((s) => s === 'F') ? ReportStatus.Final : ReportStatus.Preliminary;
    default: return ReportStatus.Preliminary;
  }
}

/** The OBR-32 interpreter: OBR-32.1 (CNN `ID&FAMILY&GIVEN…`) as `FAMILY^GIVEN` or ID, else OBR-32 as text. */
export function interpreterText(msg: Hl7Message, obr: number): string | undefined {
  const family = str(msg, obr, 32, 1, 1, 2);
  const given = str(msg, obr, 32, 1, 1, 3);
  if (family !== '') return given !== '' ? `${family}^${given}` : family;
  const id = str(msg, obr, 32, 1, 1, 1);
  if (id !== '') return id;
  const text = msg.value(obr, 32, 1, 0).trim();
  return text === '' || text === '""' ? undefined : text;
}

/** Maps an ORU^R01. */
export function mapReport(ctx: MapContext): MapOutcome {
  const { msg } = ctx;
  const changes: Change[] = [];
  let pid = -1;
  let patient: PatientData | undefined;
  let orc = -1;
  for (let s = 0; s < msg.segmentCount; s++) {
    const id = msg.segmentName(s);
    if (id === 'PID') {
      pid = s;
      patient = readPatient(ctx, pid);
      if (patient === undefined) return missingField('PID', 3, 'patient identifier list');
      orc = -1;
    } else if (id === 'ORC') {
      orc = s;
    } else if (id === 'OBR') {
      const report = readReport(ctx, s, orc);
      const change: Change = { op: 'report.upsert', report };
      if (patient !== undefined) change.patient = patient;
      changes.push(change);
      orc = -1;
    }
  }
  if (changes.length === 0) return missingField('OBR', 1, 'observation request');
  return { changes };
}

function readReport(ctx: MapContext, obr: number, orc: number): ReportData {
  const { msg } = ctx;
  const obs = readObservations(ctx, obxSegments(msg, obr, (id) => id === 'OBR' || id === 'ORC' || id === 'PID'));
  const report: ReportData = { status: reportStatusOf(str(msg, obr, 25).toUpperCase(), obs.resultStatuses), text: obs.text, attachments: obs.attachments };
  const accession = accessionOf(ctx, obr, orc);
  if (accession !== '') report.accession = accession;
  const placer = str(msg, obr, 2) || str(msg, orc, 2);
  const filler = str(msg, obr, 3) || str(msg, orc, 3);
  if (placer !== '') report.placerOrderNumber = placer;
  if (filler !== '') report.fillerOrderNumber = filler;
  if (obs.studyInstanceUid !== undefined) report.studyInstanceUid = obs.studyInstanceUid;
  const time = isoTime(str(msg, obr, 22), ctx.options.timeZone) ?? isoTime(str(msg, obr, 7), ctx.options.timeZone) ?? isoTime(str(msg, ctx.msh, 7), ctx.options.timeZone);
  if (time !== undefined) report.time = time;
  const author = interpreterText(msg, obr);
  if (author !== undefined) report.author = author;
  return report;
}

function accessionOf(ctx: MapContext, obr: number, orc: number): string {
  const { msg } = ctx;
  switch (ctx.sender.accession) {
    case 'OBR-18': return str(msg, obr, 18);
    case 'OBR-19': return str(msg, obr, 19);
    case 'OBR-20': return str(msg, obr, 20);
    case 'OBR-3': return str(msg, obr, 3);
    case 'ORC-3': return str(msg, orc, 3);
    case 'ORC-2': return str(msg, orc, 2);
    case 'IPC-1': return '';
  }
}
