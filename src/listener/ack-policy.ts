/**
 * Which acknowledgment a received message gets (DOMAIN.md §3), as pure functions: the
 * connection code asks {@link admit} before appending and {@link afterAppend} after, and
 * builds the ACK from the returned {@link AckPlan}.
 *
 * - Original mode (MSH-15 and MSH-16 empty): AA once the message is durable; AR when it is
 *   refused (unparseable MSH, oversized frame, unsupported processing ID, storage that
 *   cannot accept writes).
 * - Enhanced mode: CA once durable, CR when refused, each only if MSH-15 asks for it
 *   (AL or empty: always; NE: never; ER: on error only; SU: on success only).
 * - A listener with `ackOn: "apply"` (original mode only) answers after conversion with
 *   {@link afterConversion}: AA, or AE with the conversion error in ERR (DOMAIN.md §3.3).
 */
import { acceptAckWanted, ErrCode, type AckError, type HeaderResult, type MessageHeader } from '../hl7/index.js';
import type { ConversionError } from '../converter/changes.js';
import type { AppendOutcome } from '../queue/types.js';

/** The listener's answer to one message: a code and, when refused, the ERR content. */
export interface AckPlan {
  /** MSA-1. */
  code: 'AA' | 'AE' | 'AR' | 'CA' | 'CR';
  /** False when enhanced mode asked for no accept ACK (MSH-15 NE, or SU/ER not matching). */
  send: boolean;
  /** The header known for the message, possibly partial. */
  header: Partial<MessageHeader> | undefined;
  /** MSA-3 text (refusals). */
  text?: string;
  /** ERR segment (refusals). */
  error?: AckError;
}

/** What {@link admit} decides before anything is stored. */
export type Admission =
  | { kind: 'append'; header: MessageHeader }
  | { kind: 'refuse'; plan: AckPlan };

/** The listener settings the policy reads. */
export interface AckPolicyOptions {
  /** Accepted MSH-11.1 processing IDs; undefined accepts any. */
  processingIds: readonly string[] | undefined;
}

/** Builds the refusal plan for `header` (AR in original mode, CR in enhanced mode). */
export function refusal(
  header: Partial<MessageHeader> | undefined,
  text: string,
  error: AckError,
): AckPlan {
  const enhanced = header?.ackMode === 'enhanced';
  const send = enhanced
    ? acceptAckWanted({ ackMode: 'enhanced', acceptAckType: header?.acceptAckType ?? '' }, false)
    : true;
  return { code: enhanced ? 'CR' : 'AR', send, header, text, error };
}

/** Builds the success plan for `header` (AA, or CA when enhanced mode asks for it). */
export function success(header: MessageHeader): AckPlan {
  if (header.ackMode === 'enhanced') {
    return { code: 'CA', send: acceptAckWanted(header, true), header };
  }
  return { code: 'AA', send: true, header };
}

/** Decides, from the parsed MSH, whether a message may be appended. */
export function admit(result: HeaderResult, options: AckPolicyOptions): Admission {
  if (!result.ok) {
    const e = result.error;
    return {
      kind: 'refuse',
      plan: refusal(result.header, truncate(e.message), {
        errCode: e.errCode,
        severity: 'E',
        ...(e.segment !== undefined ? { segment: e.segment } : {}),
        ...(e.field !== undefined ? { field: e.field } : {}),
        diagnostics: e.message,
      }),
    };
  }
  const header = result.header;
  if (options.processingIds !== undefined && !options.processingIds.includes(header.processingId)) {
    const text = `Unsupported processing ID '${header.processingId}'`;
    return {
      kind: 'refuse',
      plan: refusal(header, truncate(text), {
        errCode: ErrCode.UnsupportedProcessingId,
        severity: 'E',
        segment: 'MSH',
        field: 11,
        diagnostics: text,
      }),
    };
  }
  return { kind: 'append', header };
}

/** The plan for a frame larger than the limit (its head parsed as far as possible). */
export function oversized(result: HeaderResult, size: number, limit: number): AckPlan {
  const header = result.ok ? result.header : result.header;
  const text = `Message of ${size} bytes exceeds the ${limit}-byte limit`;
  return refusal(header, text, { errCode: ErrCode.InternalError, severity: 'E', diagnostics: text });
}

/** Maps an append outcome to the plan (a duplicate is answered like the original). */
export function afterAppend(header: MessageHeader, outcome: AppendOutcome): AckPlan {
  if (outcome.kind === 'rejected') {
    const text = `Storage cannot accept the message (${outcome.code})`;
    return refusal(header, text, { errCode: ErrCode.InternalError, severity: 'E', diagnostics: text });
  }
  return success(header);
}

/** The conversion outcome a listener with `ackOn: "apply"` reports. */
export type ConversionAnswer =
  | { kind: 'applied' }
  | { kind: 'dead-letter'; error: ConversionError }
  | { kind: 'unavailable' };

/**
 * Maps a conversion outcome to the plan (original mode): AA when applied; AE with an ERR
 * segment carrying the table 0357 code, the location and the reason when the message was
 * dead-lettered; AR (207, "resend") when the converter stopped before reaching it: the
 * message is stored, so the resend is recognised as a duplicate and answered with the
 * stored outcome. `errorCode` replaces the AE for partners that expect AR (or AA, leaving
 * the message to the dead-letter table), DOMAIN.md §6 quirk 24.
 */
export function afterConversion(header: MessageHeader, outcome: ConversionAnswer, errorCode: 'AE' | 'AR' | 'AA' = 'AE'): AckPlan {
  if (outcome.kind === 'applied' || (outcome.kind === 'dead-letter' && errorCode === 'AA')) return success(header);
  if (outcome.kind === 'unavailable') {
    const text = 'Stored, but conversion did not finish (engine stopping); resend for the outcome';
    return refusal(header, truncate(text), { errCode: ErrCode.InternalError, severity: 'E', diagnostics: text });
  }
  const e = outcome.error;
  return {
    code: errorCode,
    send: true,
    header,
    text: truncate(e.message),
    error: {
      errCode: e.errCode,
      severity: 'E',
      ...(e.segment !== undefined ? { segment: e.segment } : {}),
      ...(e.field !== undefined ? { field: e.field } : {}),
      diagnostics: e.message,
    },
  };
}

function truncate(text: string): string {
  return text.length <= 80 ? text : text.slice(0, 80);
}
