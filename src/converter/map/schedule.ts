/**
 * SIU^S12–S15 → one `schedule.upsert` (DOMAIN.md §4.5, IHE RAD-48): S12 booked, S13
 * rescheduled, S14 modified, S15 cancelled; other SIU triggers are ignored (AA).
 *
 * Fields: SCH-1.1 / SCH-2.1 placer / filler appointment ID; SCH-26.1 / SCH-27.1 placer / filler
 * order number; start SCH-11.4 else the first AIS-4 else the first AIL-6 (ISO); SCH-25.1 filler
 * status; procedure the first AIS-3 (coded); modality the first AIG-4 (resource type) whose
 * code is a DICOM modality (CT, MR, ...) or whose coding system is DCM. The PID, when there is
 * one, gives the patient. A message without SCH is an error (101 at SCH-1).
 */
import { type AppointmentData, type Change } from '../changes.js';
import { type MapContext, type MapOutcome, missingField, optStr, readPatient, str, updCoded, updTime } from './common.js';

const SIU_EVENTS: Readonly<Record<string, 'booked' | 'rescheduled' | 'modified' | 'cancelled'>> = {
  S12: 'booked',
  S13: 'rescheduled',
  S14: 'modified',
  S15: 'cancelled',
};

/** DICOM modality codes (PS3.3 C.7.3.1.1.1, the common ones) recognised in AIG-4. */
const MODALITIES: ReadonlySet<string> = new Set(['CR', 'CT', 'DX', 'ES', 'IO', 'MG', 'MR', 'NM', 'OT', 'PT', 'PX', 'RF', 'RG', 'US', 'XA', 'XC', 'OP', 'OCT', 'BMD', 'IVUS']);

/** Maps an SIU message. */
export function mapSchedule(ctx: MapContext): MapOutcome {
  const { msg } = ctx;
  const trigger = ctx.context.triggerEvent;
  const event = SIU_EVENTS[trigger];
  if (event === undefined) return { changes: [], ignored: `unsupported SIU event ${trigger === '' ? '(none)' : trigger}` };
  const sch = msg.segmentIndex('SCH');
  if (sch < 0) return missingField('SCH', 1, 'placer appointment ID');
  const a: AppointmentData = {};
  const put = <K extends keyof AppointmentData>(key: K, v: AppointmentData[K]): void => {
    if (v !== undefined) a[key] = v;
  };
  put('placerAppointmentId', optStr(msg, sch, 1));
  put('fillerAppointmentId', optStr(msg, sch, 2));
  put('placerOrderNumber', optStr(msg, sch, 26));
  put('fillerOrderNumber', optStr(msg, sch, 27));
  put('fillerStatus', optStr(msg, sch, 25));
  const ais = msg.segmentIndex('AIS');
  const ail = msg.segmentIndex('AIL');
  const start = updTime(ctx, sch, 11, 4, 1) ?? updTime(ctx, ais, 4) ?? updTime(ctx, ail, 6);
  put('scheduledAt', start);
  if (ais >= 0) put('procedure', updCoded(msg, ais, 3));
  for (let aig = msg.segmentIndex('AIG'); aig >= 0; aig = msg.segmentIndex('AIG', 1, aig + 1)) {
    const code = str(msg, aig, 4, 1, 1).toUpperCase();
    if (code !== '' && (MODALITIES.has(code) || str(msg, aig, 4, 1, 3).toUpperCase() === 'DCM')) {
      a.modality = code;
      break;
    }
  }
  const pid = msg.segmentIndex('PID');
  const change: Change = { op: 'schedule.upsert', appointment: a, event };
  if (pid >= 0) {
    const patient = readPatient(ctx, pid);
    if (patient === undefined) return missingField('PID', 3, 'patient identifier list');
    change.patient = patient;
  }
  return { changes: [change] };
}
