/**
 * `GET /api/messages/{seq}`: an inbound message as received (`rawBase64`, the exact bytes;
 * `raw`, the text decoded in its MSH-18 character set, windows-1252 when the bytes do not
 * decode strictly, src/hl7/charset.ts), its metadata and its conversion outcome;
 * `?format=hl7` answers the exact bytes (`application/hl7-v2`).
 *
 * Outcome: `converted` (applied, or nothing to change), `dead-lettered` (with the error),
 * `pending` (not yet reached by the converter), `not-converted` (the converter is disabled).
 * A message removed by retention answers 410 with code `gone`.
 */
import { decodesStrictly, decodeWhole, decodeRange, resolveCharset, UTF8, WINDOWS_1252, type Charset, type SliceBuffer } from '../../hl7/charset.js';
import { readHeader } from '../../hl7/index.js';
import type { GatewayContext } from '../context.js';
import { HttpError, HttpErrorCode, badParameter, json, queryOf, seqParam, type Route } from './common.js';

/** The text of a message: decoded in its declared charset, or windows-1252 with a flag. */
function decode(raw: Uint8Array): { text: string; charset: string; fallback: boolean } {
  const h = readHeader(raw);
  const declared = h.ok ? h.header.charset : (h.header?.charset ?? '');
  const { charset } = resolveCharset(declared ?? '', UTF8);
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength) as SliceBuffer;
  const whole = (c: Charset): string => (c.transcode ? (decodeWhole(raw, c) ?? decodeRange(buf, 0, buf.length, WINDOWS_1252)) : decodeRange(buf, 0, buf.length, c));
  if (decodesStrictly(raw, charset)) return { text: whole(charset), charset: charset.name, fallback: false };
  return { text: decodeRange(buf, 0, buf.length, WINDOWS_1252), charset: WINDOWS_1252.name, fallback: true };
}

/** The conversion outcome of inbound `seq`. */
export function outcomeOf(ctx: GatewayContext, seq: number): Record<string, unknown> {
  const store = ctx.store;
  if (store === undefined) return { state: 'not-converted' };
  const letter = store.deadLetters.get(seq);
  if (letter !== undefined) return { state: 'dead-lettered', deadLetter: letter };
  const position = ctx.converter?.position() ?? store.state.cursor();
  return seq <= position ? { state: 'converted' } : { state: 'pending', position };
}

/** The inbound message route (see the module comment). */
export const messageRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/api/messages/{seq}',
    role: 'read',
    handle(ctx, request) {
      const q = queryOf(request, ['format']);
      const format = q.get('format') ?? 'json';
      if (format !== 'json' && format !== 'hl7') throw badParameter('format', 'format must be json or hl7');
      const seq = seqParam(request.params.seq ?? '', 'seq');
      const record = ctx.log.get(seq);
      if (record === undefined) {
        const last = ctx.log.lastSeq();
        if (seq <= last) throw new HttpError(410, HttpErrorCode.Gone, `message ${seq} was removed from the inbound log by retention`);
        throw new HttpError(404, HttpErrorCode.NotFound, `message ${seq} not found (the last is ${last})`);
      }
      const bytes = record.raw;
      if (format === 'hl7') {
        return {
          status: 200,
          headers: { 'content-type': 'application/hl7-v2', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'content-disposition': `attachment; filename="message-${seq}.hl7"` },
          body: bytes,
        };
      }
      const decoded = decode(bytes);
      return json({
        seq,
        receivedAt: new Date(record.receivedAt).toISOString(),
        listener: record.listener,
        remoteAddress: record.remote,
        messageType: record.messageType,
        controlId: record.controlId,
        size: bytes.byteLength,
        charset: decoded.charset,
        charsetFallback: decoded.fallback,
        rawBase64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
        raw: decoded.text,
        conversion: outcomeOf(ctx, seq),
      });
    },
  },
];
