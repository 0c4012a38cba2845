/**
 * `GET /api/dead-letters` (in seq order, paginated), `GET /api/dead-letters/{seq}` and
 * `POST /api/dead-letters/{seq}/reprocess` (admin): converts the message again through the
 * running converter's single writer ({@link Converter.reprocess}) and answers the outcome.
 */
import type { Converter } from '../../converter/converter.js';
import { HttpError, HttpErrorCode, badParameter, json, notFound, pageParams, queryOf, seqParam, storeOf, type Route } from './common.js';

function encodeCursor(seq: number): string {
  return Buffer.from(String(seq), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^\d{1,16}$/.test(text)) throw badParameter('cursor', 'cursor is not one this API gave out (use the "next" of a previous page)');
  return Number(text);
}

/** The dead-letter routes (see the module comment). */
export const deadLetterRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/api/dead-letters',
    role: 'read',
    handle(ctx, request) {
      const q = queryOf(request, ['limit', 'cursor']);
      const page = pageParams(q);
      const after = decodeCursor(page.cursor);
      const got = storeOf(ctx).deadLetters.list(after, page.limit + 1);
      const items = got.slice(0, page.limit);
      const last = items[items.length - 1];
      return json({ items, next: got.length > page.limit && last !== undefined ? encodeCursor(last.seq) : null });
    },
  },
  {
    method: 'GET',
    pattern: '/api/dead-letters/{seq}',
    role: 'read',
    handle(ctx, request) {
      queryOf(request, []);
      const seq = seqParam(request.params.seq ?? '', 'seq');
      const letter = storeOf(ctx).deadLetters.get(seq);
      if (letter === undefined) throw notFound(`dead letter ${seq}`);
      return json(letter);
    },
  },
  {
    method: 'POST',
    pattern: '/api/dead-letters/{seq}/reprocess',
    role: 'admin',
    async handle(ctx, request) {
      queryOf(request, []);
      const seq = seqParam(request.params.seq ?? '', 'seq');
      const store = storeOf(ctx);
      const converter: Converter | undefined = ctx.converter;
      if (converter === undefined) throw new HttpError(503, HttpErrorCode.Unavailable, 'the converter is not running');
      const outcome = await converter.reprocess(seq);
      ctx.metrics.deadLetters.set(store.deadLetters.count());
      switch (outcome.kind) {
        case 'converted':
          ctx.logger.info('dead letter reprocessed', { seq, outcome: outcome.outcome, by: request.principal.name });
          return json({ seq, outcome: 'converted', applied: outcome.outcome === 'applied' });
        case 'dead-letter':
          ctx.logger.info('dead letter reprocessed and failed again', { seq, code: outcome.deadLetter.code, by: request.principal.name });
          return json({ seq, outcome: 'dead-lettered', deadLetter: outcome.deadLetter });
        case 'not-dead-lettered':
          throw notFound(`dead letter ${seq}`);
        case 'gone':
          throw new HttpError(410, HttpErrorCode.Gone, `message ${seq} was removed from the inbound log by retention; it cannot be reprocessed`);
        default:
          throw new HttpError(503, HttpErrorCode.Unavailable, 'the converter is stopping');
      }
    },
  },
];
