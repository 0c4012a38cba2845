/**
 * `pacslink subscribe --url URL [--topics a,b] [--from SEQ] [--name NAME] [--format json|msgpack]
 * [--token T]` (INTERFACE.md): prints events from a running engine's WebSocket `/events`, one
 * JSON line each (`{seq, type, time, messageSeq, data}`), until SIGINT or SIGTERM (exit 0).
 *
 * A named (durable) subscriber acknowledges each event after it is printed. After a dropped
 * connection it reconnects with backoff and resumes after the last seq it printed, so the
 * output has neither gaps nor duplicates. A refused upgrade (400/401/403) ends it with exit 1
 * and one line giving the status and the server's message; bad usage exits 2. The token may
 * also come from `PACSLINK_TOKEN`.
 */
import { parseArgs } from 'node:util';
import { WebSocket, type RawData } from 'ws';
import type { CommandIo } from '../cli.js';
import { UsageError } from '../errors.js';
import { packMsgpack, unpackMsgpack } from '../gateway/events-codec.js';
import { FORMATS, NAME_PATTERN, TOPICS, type EventFormat } from '../gateway/events-query.js';

/** What `subscribe` was asked to do. */
export interface SubscribeCommandOptions {
  /** The `/events` URL (ws: or wss:), without the subscription query. */
  url: URL;
  topics: string | undefined;
  from: number | undefined;
  name: string | undefined;
  format: EventFormat;
  token: string | undefined;
}

/** Longest wait between reconnection attempts (ms). */
const MAX_BACKOFF_MS = 10_000;
const FIRST_BACKOFF_MS = 250;
/** Acknowledgements are sent at most this often (ms): the last printed seq each time. */
const ACK_EVERY_MS = 100;

/** Parses the arguments (and `PACSLINK_TOKEN`); throws UsageError. */
export function parseSubscribeArgs(args: string[], env: NodeJS.ProcessEnv): SubscribeCommandOptions {
  let values: { url?: string; topics?: string; from?: string; name?: string; format?: string; token?: string };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        url: { type: 'string' },
        topics: { type: 'string' },
        from: { type: 'string' },
        name: { type: 'string' },
        format: { type: 'string' },
        token: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.url === undefined) throw new UsageError('--url is required (e.g. ws://127.0.0.1:8080/events)');
  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    throw new UsageError(`--url: "${values.url}" is not a URL`);
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  else if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new UsageError('--url must be ws://, wss://, http:// or https://');
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/events';
  if (values.topics !== undefined) {
    const unknown = values.topics.split(',').find((t) => !(TOPICS as readonly string[]).includes(t.trim()));
    if (unknown !== undefined) throw new UsageError(`--topics: unknown topic "${unknown}" (known: ${TOPICS.join(', ')})`);
  }
  let from: number | undefined;
  if (values.from !== undefined) {
    from = /^[0-9]{1,16}$/.test(values.from) ? Number(values.from) : NaN;
    if (!Number.isSafeInteger(from)) throw new UsageError('--from must be an event seq (an integer, 0 or more)');
  }
  if (values.name !== undefined && !NAME_PATTERN.test(values.name)) {
    throw new UsageError('--name must be 1 to 64 letters, digits, "_", "." or "-"');
  }
  const format = values.format ?? 'json';
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError('--format must be json or msgpack');
  const token = values.token ?? (env.PACSLINK_TOKEN !== '' ? env.PACSLINK_TOKEN : undefined);
  return { url, topics: values.topics, from, name: values.name, format: format as EventFormat, token };
}

/** How one connection ended. */
type Outcome =
  | { kind: 'refused'; status: number; message: string }
  | { kind: 'failed'; message: string }
  | { kind: 'closed'; code: number; reason: string; received: number }
  | { kind: 'stopped' };

/** Close codes after which reconnecting cannot help. */
const FINAL_CLOSE: Record<number, string> = { 4009: 'taken over by another connection with the same name', 4400: 'the server refused an acknowledgement' };

/**
 * Subscribes until `signal` aborts (resolves 0) or the server refuses (resolves 1), writing
 * events to `out` and notes to `err`.
 */
export async function subscribeUntil(
  options: SubscribeCommandOptions,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  signal: AbortSignal,
): Promise<number> {
  const state = { last: options.from };
  let connected = false;
  let backoff = FIRST_BACKOFF_MS;
  while (!signal.aborted) {
    const outcome = await connectOnce(options, state, out, signal, () => {
      connected = true;
    });
    if (outcome.kind === 'stopped') return 0;
    if (outcome.kind === 'refused') {
      // 503 (too many subscribers, shutting down) may pass; anything else will not.
      if (!(outcome.status === 503 && connected)) {
        err.write(`pacslink subscribe: refused: ${outcome.status} ${outcome.message}\n`);
        return 1;
      }
    } else if (outcome.kind === 'failed') {
      if (!connected) {
        err.write(`pacslink subscribe: cannot connect to ${options.url.origin}: ${outcome.message}\n`);
        return 1;
      }
    } else {
      const final = FINAL_CLOSE[outcome.code];
      if (final !== undefined) {
        err.write(`pacslink subscribe: closed ${outcome.code}: ${outcome.reason || final}\n`);
        return 1;
      }
      if (outcome.received > 0) backoff = FIRST_BACKOFF_MS;
    }
    const why = outcome.kind === 'closed' ? `closed ${outcome.code}${outcome.reason !== '' ? ` (${outcome.reason})` : ''}` : outcome.kind === 'failed' ? outcome.message : `refused ${outcome.status}`;
    err.write(`pacslink subscribe: ${why}; reconnecting in ${backoff} ms after seq ${state.last ?? 'none'}\n`);
    await sleep(backoff, signal);
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  }
  return 0;
}

function subscriptionUrl(options: SubscribeCommandOptions, from: number | undefined): string {
  const url = new URL(options.url);
  if (options.topics !== undefined) url.searchParams.set('topics', options.topics);
  if (from !== undefined) url.searchParams.set('from', String(from));
  if (options.name !== undefined) url.searchParams.set('name', options.name);
  url.searchParams.set('format', options.format);
  return url.toString();
}

function connectOnce(
  options: SubscribeCommandOptions,
  state: { last: number | undefined },
  out: NodeJS.WritableStream,
  signal: AbortSignal,
  onOpen: () => void,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const ws = new WebSocket(subscriptionUrl(options, state.last), {
      perMessageDeflate: false,
      ...(options.token !== undefined ? { headers: { authorization: `Bearer ${options.token}` } } : {}),
    });
    let received = 0;
    let settled = false;
    let acked = state.last ?? 0;
    /** Last seq whose line stdout has taken (acks never run ahead of it). */
    let printed = acked;
    let ackTimer: NodeJS.Timeout | undefined;
    const finish = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (ackTimer !== undefined) clearTimeout(ackTimer);
      resolve(outcome);
    };
    const sendAck = (): void => {
      ackTimer = undefined;
      const seq = printed;
      if (seq <= acked || ws.readyState !== WebSocket.OPEN) return;
      acked = seq;
      if (options.format === 'msgpack') ws.send(packMsgpack({ ack: seq }), { binary: true });
      else ws.send(JSON.stringify({ ack: seq }));
    };
    const onAbort = (): void => {
      if (options.name !== undefined) sendAck();
      ws.close(1000, 'subscriber stopping');
      finish({ kind: 'stopped' });
    };
    signal.addEventListener('abort', onAbort);
    ws.on('open', onOpen);
    ws.on('message', (data: RawData, binary: boolean) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      let event: { seq?: unknown };
      try {
        event = (binary ? unpackMsgpack(bytes) : JSON.parse(bytes.toString('utf8'))) as { seq?: unknown };
      } catch {
        ws.close(1003, 'undecodable frame');
        return;
      }
      const seq = event.seq;
      if (typeof seq !== 'number' || (state.last !== undefined && seq <= state.last)) return;
      received++;
      const line = (binary ? JSON.stringify(event) : bytes.toString('utf8')) + '\n';
      // The ack follows the write into stdout: a printed event is never acknowledged early.
      const flowing = out.write(line, () => {
        printed = Math.max(printed, seq);
        if (options.name !== undefined && ackTimer === undefined && !settled) ackTimer = setTimeout(sendAck, ACK_EVERY_MS);
      });
      state.last = seq;
      if (!flowing) {
        ws.pause();
        out.once('drain', () => ws.resume());
      }
    });
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let message = Buffer.concat(chunks).toString('utf8').trim();
        try {
          message = (JSON.parse(message) as { error: { message: string } }).error.message;
        } catch {
          // Not the error JSON: print the body as it is.
        }
        finish({ kind: 'refused', status: res.statusCode ?? 0, message: message.slice(0, 300) });
      });
      res.on('error', () => finish({ kind: 'refused', status: res.statusCode ?? 0, message: '' }));
    });
    ws.on('error', (e) => {
      if (ws.readyState !== WebSocket.OPEN) finish({ kind: 'failed', message: e.message });
    });
    ws.on('close', (code, reason) => finish({ kind: 'closed', code, reason: reason.toString('utf8'), received }));
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

/** Runs `subscribe` until SIGINT/SIGTERM. */
export async function run(args: string[], io: CommandIo): Promise<number> {
  const options = parseSubscribeArgs(args, io.env);
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // A reader that goes away (`pacslink subscribe | head`) ends the subscription quietly.
  io.stdout.on('error', stop);
  try {
    return await subscribeUntil(options, io.stdout, io.stderr, controller.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    io.stdout.off('error', stop);
  }
}
