/**
 * The query of a WebSocket `/events` upgrade (INTERFACE.md "WebSocket /events"):
 * `topics=a,b` (default all), `from=SEQ`, `name=NAME`, `format=json|msgpack`, and
 * `access_token` (read by authentication). Anything else, a repeated parameter or a bad value
 * is refused 400 with a message that names the parameter.
 */

/** Event topics: the part of an event type before the first `.`. */
export const TOPICS = ['patient', 'visit', 'order', 'report', 'prefetch', 'sync', 'message'] as const;
export type Topic = (typeof TOPICS)[number];

/** Wire formats: JSON text frames or msgpack binary frames. */
export const FORMATS = ['json', 'msgpack'] as const;
export type EventFormat = (typeof FORMATS)[number];

/** A durable subscriber name: 1 to 64 letters, digits, `_`, `.`, `-`. */
export const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

const PARAMS = new Set(['topics', 'from', 'name', 'format', 'access_token']);

/** What a subscriber asked for. */
export interface SubscribeRequest {
  topics: Topic[];
  /** Replay after this seq; undefined: the durable position, or live only (anonymous). */
  from: number | undefined;
  name: string | undefined;
  format: EventFormat;
}

/** The parsed query, or why it is refused (400). */
export type QueryResult = { ok: true; request: SubscribeRequest } | { ok: false; message: string };

/** The topic of an event type (`order.scheduled` → `order`). */
export function topicOf(type: string): string {
  const dot = type.indexOf('.');
  return dot < 0 ? type : type.slice(0, dot);
}

/** Parses and validates the upgrade query. */
export function parseSubscribeQuery(query: URLSearchParams): QueryResult {
  const seen = new Set<string>();
  for (const key of query.keys()) {
    if (!PARAMS.has(key)) return { ok: false, message: `unknown query parameter "${key}" (allowed: topics, from, name, format)` };
    if (seen.has(key)) return { ok: false, message: `query parameter "${key}" is given more than once` };
    seen.add(key);
  }
  let topics: Topic[] = [...TOPICS];
  const topicsText = query.get('topics');
  if (topicsText !== null) {
    const list = topicsText.split(',').map((t) => t.trim());
    if (list.some((t) => t === '')) return { ok: false, message: `topics must be a comma-separated list of ${TOPICS.join(', ')}` };
    const unknown = list.find((t) => !(TOPICS as readonly string[]).includes(t));
    if (unknown !== undefined) return { ok: false, message: `topics: unknown topic "${unknown}" (known: ${TOPICS.join(', ')})` };
    topics = [...new Set(list as Topic[])];
  }
  let from: number | undefined;
  const fromText = query.get('from');
  if (fromText !== null) {
    from = /^[0-9]{1,16}$/.test(fromText) ? Number(fromText) : NaN;
    if (!Number.isSafeInteger(from)) return { ok: false, message: 'from must be an event seq (an integer, 0 or more)' };
  }
  const name = query.get('name') ?? undefined;
  if (name !== undefined && !NAME_PATTERN.test(name)) {
    return { ok: false, message: 'name must be 1 to 64 letters, digits, "_", "." or "-"' };
  }
  const format = query.get('format') ?? 'json';
  if (!(FORMATS as readonly string[]).includes(format)) return { ok: false, message: 'format must be "json" or "msgpack"' };
  return { ok: true, request: { topics, from, name, format: format as EventFormat } };
}
