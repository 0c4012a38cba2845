/** Small helpers shared by the HL7 tests. */
import { Hl7Message, type ParseOptions, isHl7Error, parseMessage } from '../../src/hl7/index.js';

/** Joins segments with CR (the standard terminator). */
export function hl7(...segments: string[]): string {
  return segments.join('\r');
}

/** Parses a message that must parse; throws with the error otherwise. */
export function parseOk(text: string | Uint8Array, options?: ParseOptions): Hl7Message {
  const result = parseMessage(text, options);
  if (isHl7Error(result)) throw new Error(`unexpected parse error ${result.code}: ${result.message}`);
  return result;
}

/** A typical MSH with default delimiters. */
export const MSH = 'MSH|^~\\&|RIS|HOSP|PACS|RAD|20240102120000||ORM^O01^ORM_O01|MSG0001|P|2.5.1';
