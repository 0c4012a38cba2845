/**
 * Helpers of the HTTP API tests: an engine-like {@link GatewayContext} over a temp data
 * directory whose repository was filled by running real HL7 messages through the converter,
 * and a tiny node:http server that serves an {@link HttpHandler} the way the adapters do
 * (body limit → 413, header joining, remote address).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { resolveEngineOptions, type EngineInput } from '../../../src/config.js';
import { openConversionStore, startConverter } from '../../../src/converter/stage.js';
import { openDefaultLog } from '../../../src/engine.js';
import { Authenticator } from '../../../src/gateway/auth.js';
import type { GatewayContext, Readiness } from '../../../src/gateway/context.js';
import type { GatewayRequest, HttpHandler } from '../../../src/gateway/port.js';
import { createLogger, type LogLevel } from '../../../src/log.js';
import { createMetrics } from '../../../src/metrics.js';
import type { LmdbInboundLog } from '../../../src/queue/lmdb-log.js';
import type { WorkflowsApi } from '../../../src/workflows/types.js';
import { appendAll } from '../../converter/helpers.js';

/** Tokens of the test contexts (each at least 16 characters). */
export const TOKENS = {
  read: 'read-token-0123456789',
  subscribe: 'subscribe-token-0123456789',
  admin: 'admin-token-0123456789',
} as const;

/** The `http.tokens` configuration of {@link TOKENS}: reader (read), subscriber (subscribe), operator (admin). */
export const TOKEN_CONFIG = [
  { name: 'reader', token: TOKENS.read, roles: ['read' as const] },
  { name: 'subscriber', token: TOKENS.subscribe, roles: ['subscribe' as const] },
  { name: 'operator', token: TOKENS.admin, roles: ['admin' as const] },
];

/** What {@link engineContext} built. */
export interface TestContextHandle {
  ctx: GatewayContext;
  dir: string;
  log: LmdbInboundLog;
  /** Log lines written (JSON objects), when `logLines` was asked for. */
  logLines: Array<Record<string, unknown>>;
  /** Readiness the context reports; tests may flip parts. */
  ready: Readiness;
}

/** Options of {@link engineContext}. */
export interface EngineContextOptions {
  /** Engine configuration (dataDir is set here). Default: tokens of {@link TOKENS}. */
  input?: EngineInput;
  /** The workflows stage; default none (pre-fetch runs answer 503). */
  workflows?: WorkflowsApi;
  logLevel?: LogLevel;
}

/**
 * Appends `messages` to a fresh LMDB inbound log, converts them all with the real converter
 * (workers, applier, repository), and returns a context as the engine builds it, with the
 * converter left running. Everything is stopped and removed when the test ends.
 */
export async function engineContext(t: TestContext, messages: readonly Uint8Array[], o: EngineContextOptions = {}): Promise<TestContextHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'pacslink-http-'));
  const input: EngineInput = {
    http: { tokens: TOKEN_CONFIG },
    converter: { workers: 1 },
    ...o.input,
    dataDir: dir,
  };
  const options = resolveEngineOptions(input);
  const log = (await openDefaultLog(options)) as LmdbInboundLog;
  await appendAll(log, messages);
  const store = await openConversionStore(options);
  const logLines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: o.logLevel ?? 'debug',
    stream: { write: (line: string) => (logLines.push(JSON.parse(line) as Record<string, unknown>), true) } as unknown as NodeJS.WritableStream,
  });
  const converter = startConverter(options, store, { log, inboundPath: log.path, logger });
  await converter.idle(log.lastSeq());
  t.after(async () => {
    await converter.stop();
    await store.repository.close();
    await log.close();
    await rm(dir, { recursive: true, force: true });
  });
  const ready: Readiness = { storage: true, listeners: true, converter: true };
  const ctx: GatewayContext = {
    options,
    log,
    store,
    converter,
    workflows: o.workflows,
    metrics: createMetrics({ defaultMetrics: false }),
    logger,
    auth: new Authenticator(options.http.tokens),
    readiness: () => ({ ...ready }),
    subscribers: () => [],
  };
  return { ctx, dir, log, logLines, ready };
}

function requestOf(req: IncomingMessage, body: Uint8Array): GatewayRequest {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    path: q < 0 ? url : url.slice(0, q),
    query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)),
    headers,
    body,
    remoteAddress: req.socket.remoteAddress ?? '',
  };
}

/**
 * Serves `handler` over node:http on 127.0.0.1 and a free port, as an adapter would (a body
 * over `maxBodyBytes` gets 413 with the error JSON). Returns the base URL; closed after the test.
 */
export async function serveHandler(t: TestContext, handler: HttpHandler, maxBodyBytes = 1 << 20): Promise<string> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBodyBytes) {
        if (!refused) {
          refused = true;
          res.writeHead(413, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
          res.end(JSON.stringify({ error: { code: 'payload-too-large', message: `the body exceeds ${maxBodyBytes} bytes` } }));
        }
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (refused) return;
      Promise.resolve()
        .then(() => handler(requestOf(req, Buffer.concat(chunks))))
        .then(
          (r) => {
            const headers = { 'content-type': 'application/json; charset=utf-8', ...r.headers };
            res.writeHead(r.status, headers);
            res.end(r.body === undefined ? undefined : typeof r.body === 'string' ? r.body : Buffer.from(r.body.buffer, r.body.byteOffset, r.body.byteLength));
          },
          () => {
            res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
            res.end(JSON.stringify({ error: { code: 'internal', message: 'internal error' } }));
          },
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** An HTTP answer read whole. */
export interface Answer {
  status: number;
  headers: Headers;
  contentType: string;
  bytes: Buffer;
  text: string;
  /** The body parsed as JSON when the content type is JSON, else undefined. */
  body: unknown;
}

/** Sends a request and reads the whole answer. */
export async function call(base: string, method: string, path: string, o: { token?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
  const res = await fetch(base + path, { method, headers, ...(o.body !== undefined ? { body: o.body } : {}) });
  const bytes = Buffer.from(await res.arrayBuffer());
  const contentType = res.headers.get('content-type') ?? '';
  const text = bytes.toString('utf8');
  return { status: res.status, headers: res.headers, contentType, bytes, text, body: contentType.startsWith('application/json') ? (JSON.parse(text) as unknown) : undefined };
}
