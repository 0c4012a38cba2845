/**
 * The converter's pure mapping: one parsed message in, a {@link MappingResult} out (no I/O,
 * no repository access, no wall clock; the same input always gives the same output).
 *
 * Dispatch on MSH-9.1 (message code) and MSH-9.2 (trigger event); MSH-9.3 is not needed
 * (quirk 8):
 * - ADT → adt.ts; ORM → order.ts (ORM layout); OMI and OMG → order.ts (OMI layout: TQ1, IPC);
 *   SIU → schedule.ts; ORU^R01 → report.ts; MDM → document.ts;
 * - any other message type or trigger (QRY, ACK, ORU^R30, ...) → no change, `ignored` (AA).
 * Nothing throws: an unexpected exception becomes the error INTERNAL (207).
 */
import { type Hl7Message, isHl7Error } from '../../hl7/index.js';
import { ConversionErrorCode, type MappingResult } from '../changes.js';
import { mapAdt } from './adt.js';
import { type MapContext, type MapOutcome, conversionError, makeMapContext } from './common.js';
import { mapDocument } from './document.js';
import type { MappingOptions } from './options.js';
import { mapOrder } from './order.js';
import { mapReport } from './report.js';
import { mapSchedule } from './schedule.js';

export {
  ACCESSION_LOCATIONS,
  type AccessionLocation,
  MAPPING_DEFAULTS,
  type MappingOptions,
  type MappingOptionsInput,
  type SenderOptions,
  createMappingOptions,
  senderOptions,
} from './options.js';
export { orderStatusOf, REPLY_CONTROLS } from './order-status.js';
export { reportStatusOf } from './report.js';
export { documentStatusOf } from './document.js';

function dispatch(ctx: MapContext): MapOutcome {
  const { messageCode, triggerEvent } = ctx.context;
  switch (messageCode) {
    case 'ADT': return mapAdt(ctx);
    case 'ORM': return triggerEvent === 'O01' || triggerEvent === '' ? mapOrder(ctx, 'ORM') : unsupported(messageCode, triggerEvent);
    case 'OMI':
    case 'OMG': return mapOrder(ctx, 'OMI');
    case 'SIU': return mapSchedule(ctx);
    case 'ORU': return triggerEvent === 'R01' ? mapReport(ctx) : unsupported(messageCode, triggerEvent);
    case 'MDM': return mapDocument(ctx);
    default: return unsupported(messageCode, triggerEvent);
  }
}

function unsupported(code: string, trigger: string): MapOutcome {
  return { changes: [], ignored: `unsupported message type ${code || '(none)'}${trigger === '' ? '' : `^${trigger}`}` };
}

/** Maps a parsed message to change records (see the module comment). Never throws. */
export function mapMessage(msg: Hl7Message, options: MappingOptions): MappingResult {
  try {
    const ctx = makeMapContext(msg, options);
    const out = dispatch(ctx);
    if ('error' in out) return { kind: 'error', error: out.error };
    const result: MappingResult = { kind: 'changes', context: ctx.context, changes: out.changes };
    if (out.ignored !== undefined) result.ignored = out.ignored;
    return result;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { kind: 'error', error: conversionError(ConversionErrorCode.Internal, 207, `mapping failed: ${message}`) };
  }
}

/**
 * Parses `bytes` with `parser` (an instance reused across messages, so a worker allocates
 * little) and maps the message. A parse error becomes the error PARSE with the parser's table
 * 0357 code and location. Never throws.
 */
export function mapBytes(bytes: Uint8Array, options: MappingOptions, parser: Hl7Message): MappingResult {
  try {
    const err = parser.parse(bytes);
    if (err !== undefined && isHl7Error(err)) {
      return { kind: 'error', error: conversionError(ConversionErrorCode.Parse, err.errCode, err.message, err.segment, err.field) };
    }
  } catch (e) {
    return { kind: 'error', error: conversionError(ConversionErrorCode.Internal, 207, `parse failed: ${e instanceof Error ? e.message : String(e)}`) };
  }
  return mapMessage(parser, options);
}
