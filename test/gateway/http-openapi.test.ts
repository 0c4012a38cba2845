/**
 * The OpenAPI document (openapi.json at the repository root) against the running API: every
 * route of the router is in the document and every path and method of the document is a
 * route; for each operation, good and bad requests are sent over HTTP to an API whose
 * repository was filled by real HL7 messages through the converter, and each answer's
 * status, content type and body are checked against what the document says (bodies with
 * ajv 8 against the document's JSON Schemas, OpenAPI 3.1 = JSON Schema 2020-12).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { resolveEngineOptions } from '../../src/config.js';
import { startEngine } from '../../src/engine.js';
import { createHttpApi, ROUTES } from '../../src/gateway/http-api.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { MllpClient, readAck } from '../../src/mllp/client.js';
import type { WorkflowsApi } from '../../src/workflows/types.js';
import { FIXTURE_INPUT, PDF, SEQ, fixtureMessages } from './helpers/fixture.js';
import { adaptersUnderTest } from './conformance.js';
import { TOKEN_CONFIG, TOKENS, call, engineContext, serveHandler, type Answer } from './helpers/http.js';

interface Operation {
  'x-required-role': 'read' | 'admin' | null;
  responses: Record<string, { content?: Record<string, unknown>; headers?: Record<string, unknown>; $ref?: string }>;
  parameters?: unknown[];
}
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { responses: Record<string, { content?: Record<string, unknown>; headers?: Record<string, unknown> }> } };

const DOC = JSON.parse(readFileSync(new URL('../../../openapi.json', import.meta.url), 'utf8')) as Doc;
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
ajv.addSchema(DOC as object, 'openapi.json');

const pointer = (...parts: string[]): string => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/** The response object of an operation for `status` (following a components $ref). */
function responseOf(template: string, method: string, status: number): { ref: string; content?: Record<string, unknown>; headers?: Record<string, unknown> } | undefined {
  const r = DOC.paths[template]?.[method]?.responses[String(status)];
  if (r === undefined) return undefined;
  if (r.$ref !== undefined) {
    const name = r.$ref.split('/').pop()!;
    return { ...DOC.components.responses[name], ref: pointer('components', 'responses', name) };
  }
  return { ...r, ref: pointer('paths', template, method, 'responses', String(status)) };
}

/** Checks one answer against the document: status declared, content type declared, body valid. */
function conforms(template: string, method: string, a: Answer, expected: number): void {
  const where = `${method.toUpperCase()} ${template} → ${a.status}`;
  assert.equal(a.status, expected, `${where}: expected ${expected}; body ${a.text.slice(0, 300)}`);
  const r = responseOf(template, method, a.status);
  assert.ok(r !== undefined, `${where}: status not in the document`);
  if (r.content === undefined) return;
  const type = a.contentType.split(';')[0]!.trim().toLowerCase();
  const declared = Object.keys(r.content);
  const key = declared.includes(type) ? type : declared.includes('*/*') ? '*/*' : undefined;
  assert.ok(key !== undefined, `${where}: content type ${type} not among ${declared.join(', ')}`);
  if (type === 'application/json') {
    const validate = ajv.compile({ $ref: `openapi.json#/${r.ref}/content/${pointer(key)}/schema` });
    const body = JSON.parse(a.text) as unknown;
    assert.ok(validate(body), `${where}: body does not match the schema: ${ajv.errorsText(validate.errors)}\n${a.text.slice(0, 500)}`);
  }
  for (const h of Object.keys(r.headers ?? {})) {
    if (['www-authenticate', 'allow', 'upgrade'].includes(h.toLowerCase())) assert.ok(a.headers.get(h) !== null, `${where}: header ${h} missing`);
  }
}

/** One request of the table and the status it must get. */
interface Case {
  path: string;
  status: number;
  token?: string | null;
  headers?: Record<string, string>;
  body?: string;
  /** Extra checks beyond the document. */
  check?: (a: Answer) => void;
}

const R = TOKENS.read;
const A = TOKENS.admin;

/**
 * Good and bad requests per operation (`METHOD template`), run in this order. `workflows`:
 * whether the engine runs the workflows stage (else a pre-fetch run is 503).
 */
const casesFor = (workflows: boolean): Record<string, Case[]> => ({
  'get /healthz': [{ path: '/healthz', status: 200, token: null }],
  'get /readyz': [{ path: '/readyz', status: 200, token: null }],
  'get /metrics': [{ path: '/metrics', status: 200, check: (a) => assert.match(a.text, /pacslink_dead_letters/) }],
  'get /events': [{ path: '/events', status: 426, token: null, check: (a) => assert.equal(a.headers.get('upgrade'), 'websocket') }],
  'get /api/openapi.json': [{ path: '/api/openapi.json', status: 200, check: (a) => assert.deepEqual(JSON.parse(a.text), DOC) }],
  'get /api/patients': [
    { path: '/api/patients?identifier=111&authority=HOSP', status: 200, check: (a) => assert.equal((a.body as { items: Array<{ key: string }> }).items[0]?.key, 'P2') },
    { path: '/api/patients?name=doe%5Ejohn&birthDate=19800131', status: 200, check: (a) => assert.deepEqual((a.body as { items: Array<{ key: string }> }).items.map((p) => p.key), ['P2']) },
    { path: '/api/patients?name=M%C3%9CLLER', status: 200 },
    { path: '/api/patients', status: 400 },
    { path: '/api/patients?name=DOE&birthDate=19801331', status: 400 },
    { path: '/api/patients?identifier=111&limit=0', status: 400 },
  ],
  'get /api/patients/{key}': [
    { path: '/api/patients/P1', status: 200, check: (a) => assert.deepEqual((a.body as { resolvedFrom: unknown }).resolvedFrom, { key: 'P1', mergedInto: 'P2' }) },
    { path: '/api/patients/P2', status: 200 },
    { path: '/api/patients/P999', status: 404 },
  ],
  'get /api/orders': [
    { path: '/api/orders?accession=ACC1', status: 200 },
    { path: '/api/orders?patient=P1&status=scheduled&scheduledFrom=2024-01-03&scheduledTo=2024-01-03', status: 200, check: (a) => assert.equal((a.body as { items: unknown[] }).items.length, 1) },
    { path: '/api/orders?limit=1', status: 200 },
    { path: '/api/orders?status=done', status: 400 },
    { path: '/api/orders?scheduledFrom=2024-01-01&scheduledTo=2026-01-01', status: 400 },
  ],
  'get /api/orders/{key}': [
    { path: '/api/orders/O1', status: 200 },
    { path: '/api/orders/O9', status: 404 },
  ],
  'get /api/reports': [
    { path: '/api/reports?accession=ACC1', status: 200 },
    { path: '/api/reports?patient=P1', status: 200, check: (a) => assert.equal((a.body as { items: unknown[] }).items.length, 1) },
    { path: '/api/reports', status: 400 },
  ],
  'get /api/reports/{id}': [
    { path: '/api/reports/R1', status: 200 },
    { path: '/api/reports/R1', status: 200, headers: { accept: 'text/plain' }, check: (a) => assert.match(a.contentType, /^text\/plain/) },
    { path: '/api/reports/R1', status: 200, headers: { accept: 'text/html' }, check: (a) => assert.match(a.contentType, /^text\/html/) },
    { path: '/api/reports/R1', status: 406, headers: { accept: 'application/xml' } },
    { path: '/api/reports/R9', status: 404 },
  ],
  'get /api/reports/{id}/attachments/{attachmentId}': [
    { path: '/api/reports/R1/attachments/A1', status: 200, check: (a) => assert.ok(a.bytes.equals(PDF)) },
    { path: '/api/reports/R9/attachments/A1', status: 404 },
  ],
  'get /api/messages/{seq}': [
    { path: `/api/messages/${SEQ.final}`, status: 200 },
    { path: `/api/messages/${SEQ.noId}`, status: 200 },
    { path: `/api/messages/${SEQ.final}?format=hl7`, status: 200, check: (a) => assert.ok(a.bytes.equals(Buffer.from(fixtureMessages()[SEQ.final - 1]!))) },
    { path: '/api/messages/0', status: 400 },
    { path: '/api/messages/1?format=xml', status: 400 },
    { path: '/api/messages/999', status: 404 },
  ],
  'get /api/dead-letters': [
    { path: '/api/dead-letters', status: 200 },
    { path: '/api/dead-letters?limit=1', status: 200 },
    { path: '/api/dead-letters?cursor=*', status: 400 },
  ],
  'get /api/dead-letters/{seq}': [
    { path: `/api/dead-letters/${SEQ.noId}`, status: 200 },
    { path: `/api/dead-letters/${SEQ.final}`, status: 404 },
  ],
  'post /api/dead-letters/{seq}/reprocess': [
    { path: `/api/dead-letters/${SEQ.waitingReport}/reprocess`, status: 200, token: A, check: (a) => assert.equal((a.body as { outcome: string }).outcome, 'converted') },
    { path: `/api/dead-letters/${SEQ.noId}/reprocess`, status: 200, token: A, check: (a) => assert.equal((a.body as { outcome: string }).outcome, 'dead-lettered') },
    { path: `/api/dead-letters/${SEQ.waitingReport}/reprocess`, status: 404, token: A },
    { path: '/api/dead-letters/x/reprocess', status: 400, token: A },
    { path: `/api/dead-letters/${SEQ.noId}/reprocess`, status: 400, token: A, body: '{}' },
  ],
  'get /api/stats': [{ path: '/api/stats', status: 200 }],
  'post /api/prefetch/runs': [
    { path: '/api/prefetch/runs?date=2024-01-03', status: workflows ? 200 : 503, token: A },
    { path: '/api/prefetch/runs?date=2024-02-30', status: 400, token: A },
    { path: '/api/prefetch/runs', status: 400, token: A },
  ],
});
const CASES = casesFor(true);

const operations = Object.entries(DOC.paths).flatMap(([template, item]) => Object.keys(item).map((method) => ({ template, method, op: item[method]! })));

describe('openapi.json', () => {
  it('is an OpenAPI 3.1 document whose schemas compile', () => {
    assert.match(DOC.openapi, /^3\.1\./);
    for (const name of Object.keys((DOC.components as unknown as { schemas: object }).schemas)) ajv.compile({ $ref: `openapi.json#/components/schemas/${name}` });
  });

  it('catches an answer that breaks it (so the checks below can fail)', () => {
    const answer = (status: number, body: unknown, contentType = 'application/json; charset=utf-8'): Answer => {
      const text = JSON.stringify(body);
      return { status, headers: new Headers(), contentType, bytes: Buffer.from(text), text, body };
    };
    assert.throws(() => conforms('/api/stats', 'get', answer(200, { inbound: {} }), 200), /does not match the schema/);
    assert.throws(() => conforms('/api/patients/{key}', 'get', answer(404, { error: { code: 'nope', message: 'x' } }), 404), /does not match the schema/);
    assert.throws(() => conforms('/api/stats', 'get', answer(418, {}), 418), /not in the document/);
    assert.throws(() => conforms('/api/stats', 'get', answer(200, {}, 'text/csv'), 200), /content type text\/csv/);
  });

  it('describes every route of the router, and nothing else', () => {
    const routes = ROUTES.map((r) => `${r.method.toLowerCase()} ${r.pattern}`).sort();
    const documented = operations.map((o) => `${o.method} ${o.template}`).sort();
    assert.deepEqual(documented, routes);
    for (const r of ROUTES) assert.equal(DOC.paths[r.pattern]?.[r.method.toLowerCase()]?.['x-required-role'], r.role, `${r.method} ${r.pattern} role`);
  });

  it('has good and bad requests in this test for every operation', () => {
    for (const o of operations) {
      const cases = CASES[`${o.method} ${o.template}`];
      assert.ok(cases !== undefined, `no cases for ${o.method} ${o.template}`);
      if (o.template !== '/events') assert.ok(cases.some((c) => c.status >= 200 && c.status < 300), `no good request for ${o.method} ${o.template}`);
      assert.ok(o.op['x-required-role'] !== null || cases.some((c) => c.status >= 400) || o.template.endsWith('z'), `no bad request for ${o.method} ${o.template}`);
    }
  });
});

/**
 * Sends every operation's cases, then the generic bad requests (an unknown parameter, a method
 * the path lacks, no token, a token without the role), to the API at `base`.
 */
async function conformanceRun(t: TestContext, base: string, cases: Record<string, Case[]>): Promise<void> {
  for (const o of operations) {
    const key = `${o.method} ${o.template}`;
    await t.test(`${o.method.toUpperCase()} ${o.template}`, async () => {
      for (const c of cases[key] ?? []) {
        const token = c.token === null ? undefined : (c.token ?? R);
        const a = await call(base, o.method.toUpperCase(), c.path, { ...(token !== undefined ? { token } : {}), ...(c.headers ? { headers: c.headers } : {}), ...(c.body !== undefined ? { body: c.body } : {}) });
        conforms(o.template, o.method, a, c.status);
        c.check?.(a);
      }
      const sample = (cases[key] ?? [])[0]!.path.split('?')[0]!;
      if (o.template !== '/events') {
        const a = await call(base, o.method.toUpperCase(), `${sample}?bogus=1`, { token: A });
        conforms(o.template, o.method, a, 400);
        assert.equal((a.body as { error: { parameter: string } }).error.parameter, 'bogus');
      }
      const other = ['delete', 'put', 'patch'].find((m) => DOC.paths[o.template]![m] === undefined)!;
      const wrong = await call(base, other.toUpperCase(), sample, { token: A });
      conforms(o.template, o.method, wrong, 405);
      assert.equal(wrong.headers.get('allow'), Object.keys(DOC.paths[o.template]!).map((m) => m.toUpperCase()).join(', '));
      const role = o.op['x-required-role'];
      if (role !== null) {
        const anonymous = await call(base, o.method.toUpperCase(), sample);
        conforms(o.template, o.method, anonymous, 401);
        assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer/);
        const weak = await call(base, o.method.toUpperCase(), sample, { token: role === 'admin' ? R : TOKENS.subscribe });
        conforms(o.template, o.method, weak, 403);
      }
    });
  }
}

describe('the API answers as openapi.json describes', () => {
  it('through the handler, with a workflows stage', { timeout: 120_000 }, async (t) => {
    const prefetchDates: string[] = [];
    const workflows: WorkflowsApi = {
      runPrefetch: (date) => {
        prefetchDates.push(date);
        return Promise.resolve({ date, window: { from: `${date}T00:00:00+00:00`, to: `${date}T23:59:59+00:00` }, requested: 0, suppressed: 0 });
      },
    };
    const h = await engineContext(t, fixtureMessages(), { input: FIXTURE_INPUT, workflows });
    const base = await serveHandler(t, createHttpApi(h.ctx));
    await conformanceRun(t, base, CASES);
    assert.deepEqual(prefetchDates, ['2024-01-03'], 'the pre-fetch ran once, for the date asked');
  });
});

describe('the API answers as openapi.json describes, through the engine', async () => {
  for (const under of await adaptersUnderTest()) {
    it(`serves it with the ${under.name} adapter, fed over MLLP`, { timeout: 180_000, ...(under.skip !== undefined ? { skip: under.skip } : {}) }, async (t) => {
      const dir = await mkdtemp(join(tmpdir(), 'pacslink-http-engine-'));
      const options = resolveEngineOptions({
        ...FIXTURE_INPUT,
        dataDir: dir,
        listeners: [{ host: '127.0.0.1', port: 0 }],
        http: { host: '127.0.0.1', port: 0, adapter: under.name, tokens: TOKEN_CONFIG },
        converter: { workers: 1 },
      });
      const engine = await startEngine(options, { logger: silentLogger, metrics: createMetrics({ defaultMetrics: false }) });
      t.after(async () => {
        await engine.stop();
        await rm(dir, { recursive: true, force: true });
      });
      assert.equal(engine.gateway.impl, under.name);
      const client = await MllpClient.connect({ host: '127.0.0.1', port: engine.ports.mllp });
      for (const m of fixtureMessages()) assert.equal(readAck(await client.send(m)).code, 'AA');
      await client.close();
      await engine.converter!.idle(engine.log.lastSeq());
      assert.equal(typeof engine.ports.http, 'number');
      await conformanceRun(t, `http://127.0.0.1:${engine.ports.http}`, casesFor(engine.workflows !== undefined));
    });
  }
});
