/**
 * The HTTP API's behaviour over HTTP, on a repository filled by real HL7 messages through the
 * converter: routing and roles, validation naming the parameter, pagination, merged keys,
 * messages as received with their outcome, reprocessing through the running converter,
 * readiness, stats, and access logs without patient data.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHttpApi } from '../../src/gateway/http-api.js';
import { appendAll } from '../converter/helpers.js';
import { FIXTURE_INPUT, SEQ, fixtureMessages } from './helpers/fixture.js';
import { TOKENS, call, engineContext, serveHandler } from './helpers/http.js';
import { hl7 } from '../converter/helpers.js';

type ErrorBody = { error: { code: string; message: string; parameter?: string } };
type PageBody<T> = { items: T[]; next: string | null };

async function api(t: import('node:test').TestContext, input: object = {}) {
  const h = await engineContext(t, fixtureMessages(), { input: { ...FIXTURE_INPUT, ...input } });
  const base = await serveHandler(t, createHttpApi(h.ctx));
  /** GET with the read token, another one, or none (null). */
  const get = (path: string, token: string | null = TOKENS.read, headers: Record<string, string> = {}) =>
    call(base, 'GET', path, { ...(token !== null ? { token } : {}), headers });
  const post = (path: string, token: string | null = TOKENS.admin) => call(base, 'POST', path, token !== null ? { token } : {});
  return { ...h, base, get, post };
}

describe('HTTP API: routing, roles and errors', () => {
  it('answers 404 for an unknown path, 405 with Allow for a wrong method, 426 for /events without an upgrade', async (t) => {
    const { get, base } = await api(t);
    const missing = await get('/api/nothing');
    assert.equal(missing.status, 404);
    assert.equal((missing.body as ErrorBody).error.code, 'not-found');
    const wrong = await call(base, 'DELETE', '/api/patients/P1', { token: TOKENS.admin });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'GET');
    assert.equal((wrong.body as ErrorBody).error.code, 'method-not-allowed');
    const events = await get('/events', null);
    assert.equal(events.status, 426);
    assert.equal((events.body as ErrorBody).error.code, 'upgrade-required');
    assert.match((events.body as ErrorBody).error.message, /WebSocket/);
  });

  it('needs a token for the API and /metrics but not for /healthz and /readyz; admin for reprocessing', async (t) => {
    const { get, post } = await api(t);
    assert.equal((await get('/healthz', null)).status, 200);
    assert.equal((await get('/readyz', null)).status, 200);
    for (const path of ['/metrics', '/api/stats', '/api/patients/P1']) {
      const a = await get(path, null);
      assert.equal(a.status, 401, path);
      assert.match(a.headers.get('www-authenticate') ?? '', /^Bearer /);
      assert.equal((a.body as ErrorBody).error.code, 'unauthorized');
      assert.equal((await get(path, 'not-a-configured-token-at-all')).status, 401);
      assert.equal((await get(path, TOKENS.subscribe)).status, 403, `${path}: subscribe is not read`);
      assert.equal((await get(path, TOKENS.admin)).status, 200, `${path}: admin implies read`);
    }
    const refused = await post(`/api/dead-letters/${SEQ.noId}/reprocess`, TOKENS.read);
    assert.equal(refused.status, 403);
    assert.match((refused.body as ErrorBody).error.message, /admin/);
  });

  it('refuses a body on routes that take none, naming the route', async (t) => {
    const { base } = await api(t);
    const a = await call(base, 'POST', '/api/prefetch/runs?date=2024-01-03', { token: TOKENS.admin, body: 'x' });
    assert.equal(a.status, 400);
    assert.match((a.body as ErrorBody).error.message, /takes no request body/);
  });

  it('answers bad query parameters with 400 naming the parameter', async (t) => {
    const { get } = await api(t);
    const cases: Array<[string, string, RegExp]> = [
      ['/api/patients?identifier=1&colour=red', 'colour', /unknown query parameter "colour"/],
      ['/api/patients?identifier=1&identifier=2', 'identifier', /more than once/],
      ['/api/patients?identifier=1&limit=1001', 'limit', /between 1 and 1000/],
      ['/api/patients?identifier=1&limit=ten', 'limit', /limit/],
      ['/api/patients?identifier=1&cursor=%25%25', 'cursor', /cursor/],
      ['/api/patients?identifier=', 'identifier', /must not be empty/],
      ['/api/patients?name=DOE&birthDate=1980-01-31', 'birthDate', /YYYYMMDD/],
      ['/api/patients?name=DOE%5EJOHN%5EX', 'name', /FAMILY or FAMILY\^GIVEN/],
      ['/api/patients?identifier=1&name=DOE', 'name', /not both/],
      ['/api/orders?status=finished', 'status', /scheduled, in-progress/],
      ['/api/orders?scheduledFrom=yesterday', 'scheduledFrom', /ISO 8601/],
      ['/api/orders?scheduledFrom=2024-02-30', 'scheduledFrom', /ISO 8601/],
      ['/api/orders?scheduledFrom=2024-01-03T10:00', 'scheduledFrom', /offset/],
      ['/api/orders?scheduledFrom=2024-01-05&scheduledTo=2024-01-04', 'scheduledTo', /not be before/],
      ['/api/orders?scheduledFrom=2024-01-01&scheduledTo=2025-01-02', 'scheduledTo', /366 days/],
      ['/api/reports?limit=5', 'accession', /accession or patient/],
      ['/api/messages/abc', 'seq', /positive integer/],
      ['/api/dead-letters?cursor=Zm9v', 'cursor', /cursor/],
      ['/api/stats?verbose=1', 'verbose', /takes no query parameters/],
    ];
    for (const [path, parameter, message] of cases) {
      const a = await get(path);
      assert.equal(a.status, 400, path);
      const e = (a.body as ErrorBody).error;
      assert.equal(e.code, 'bad-request', path);
      assert.equal(e.parameter, parameter, path);
      assert.match(e.message, message, path);
    }
    assert.equal((await get('/api/orders?scheduledFrom=2024-01-01&scheduledTo=2024-12-31T23:59:59Z')).status, 200, '366 days is allowed');
  });
});

describe('HTTP API: repository routes', () => {
  it('answers a merged key with its survivor and says so; identifiers find the survivor once', async (t) => {
    const { get } = await api(t);
    const merged = (await get('/api/patients/P1')).body as Record<string, unknown> & { orders: PageBody<{ accession: string }>; mergeHistory: PageBody<{ kind: string; sourceKey: string }> };
    assert.equal(merged.key, 'P2');
    assert.equal(merged.requestedKey, 'P1');
    assert.deepEqual(merged.resolvedFrom, { key: 'P1', mergedInto: 'P2' });
    assert.deepEqual(merged.orders.items.map((o) => o.accession), ['ACC1']);
    assert.deepEqual(merged.mergeHistory.items.map((m) => [m.kind, m.sourceKey]), [['merge', 'P1']]);
    const survivor = (await get('/api/patients/P2')).body as Record<string, unknown>;
    assert.equal(survivor.requestedKey, 'P2');
    assert.equal(survivor.resolvedFrom, undefined);
    const byOld = (await get('/api/patients?identifier=111&authority=HOSP')).body as PageBody<{ key: string }>;
    assert.deepEqual(byOld.items.map((p) => p.key), ['P2']);
    const otherAuthority = (await get('/api/patients?identifier=111&authority=ELSEWHERE')).body as PageBody<{ key: string }>;
    assert.deepEqual(otherAuthority.items, []);
  });

  it('pages through a list with limit and cursor without gaps or repeats', async (t) => {
    const h = await api(t);
    const more = Array.from({ length: 5 }, (_, i) =>
      hl7(`MSH|^~\\&|HIS|HOSP|PACS|RAD|20240102170000||ADT^A04^ADT_A01|PG${i}|P|2.5.1`, 'EVN|A04|20240102170000', `PID|1||9${i}^^^HOSP^MR||PAGE^P${i}||19700101|F`),
    );
    await appendAll(h.log, more);
    await h.ctx.converter!.idle(h.log.lastSeq());
    const seen: string[] = [];
    let cursor: string | null = '';
    let pages = 0;
    while (cursor !== null) {
      const a = await h.get(`/api/patients?name=page&limit=2${cursor === '' ? '' : `&cursor=${cursor}`}`);
      assert.equal(a.status, 200);
      const body = a.body as PageBody<{ name: { given: string } }>;
      assert.ok(body.items.length <= 2);
      seen.push(...body.items.map((p) => p.name.given));
      cursor = body.next;
      pages++;
    }
    assert.deepEqual(seen.sort(), ['P0', 'P1', 'P2', 'P3', 'P4']);
    assert.equal(pages, 3);
    const first = (await h.get('/api/dead-letters?limit=1')).body as PageBody<{ seq: number }>;
    assert.deepEqual(first.items.map((d) => d.seq), [SEQ.noId]);
    const second = (await h.get(`/api/dead-letters?limit=1&cursor=${first.next}`)).body as PageBody<{ seq: number }>;
    assert.deepEqual(second.items.map((d) => d.seq), [SEQ.waitingReport]);
    assert.equal(second.next, null);
  });

  it('filters orders by scheduled range and status', async (t) => {
    const { get } = await api(t);
    const keys = async (q: string) => ((await get(`/api/orders?${q}`)).body as PageBody<{ key: string }>).items.map((o) => o.key);
    assert.deepEqual(await keys('scheduledFrom=2024-01-03&scheduledTo=2024-01-03'), ['O1']);
    assert.deepEqual(await keys('scheduledFrom=2024-01-03T08:30:00Z&scheduledTo=2024-01-03T08:30:00Z'), ['O1']);
    assert.deepEqual(await keys('scheduledFrom=2024-01-04'), []);
    assert.deepEqual(await keys('status=scheduled'), ['O1']);
    assert.deepEqual(await keys('status=cancelled'), []);
    assert.deepEqual(await keys('patient=P1'), ['O1'], 'a merged patient key means its survivor');
  });
});

describe('HTTP API: messages, dead letters, reprocessing', () => {
  it('answers a message as received: exact bytes, text decoded per MSH-18, metadata and outcome', async (t) => {
    const { get } = await api(t);
    const sent = fixtureMessages();
    for (const seq of [SEQ.final, SEQ.latin1]) {
      const a = await get(`/api/messages/${seq}`);
      const m = a.body as Record<string, unknown>;
      assert.ok(Buffer.from(m.rawBase64 as string, 'base64').equals(Buffer.from(sent[seq - 1]!)), `seq ${seq} bytes`);
      assert.equal(m.seq, seq);
      assert.equal(m.listener, 'test');
      assert.equal(m.remoteAddress, '127.0.0.1:1');
      assert.match(m.receivedAt as string, /^\d{4}-\d{2}-\d{2}T.*Z$/);
      const hl7Bytes = await get(`/api/messages/${seq}?format=hl7`);
      assert.equal(hl7Bytes.contentType, 'application/hl7-v2');
      assert.ok(hl7Bytes.bytes.equals(Buffer.from(sent[seq - 1]!)));
    }
    const latin1 = (await get(`/api/messages/${SEQ.latin1}`)).body as Record<string, unknown>;
    assert.equal(latin1.charset, '8859/1');
    assert.equal(latin1.charsetFallback, false);
    assert.match(latin1.raw as string, /MÜLLER\^JÜRGEN/);
    assert.equal((latin1.conversion as { state: string }).state, 'converted');
    const dead = (await get(`/api/messages/${SEQ.noId}`)).body as { messageType: string; controlId: string; conversion: { state: string; deadLetter: { code: string } } };
    assert.equal(dead.messageType, 'ADT^A04^ADT_A01');
    assert.equal(dead.conversion.state, 'dead-lettered');
    assert.equal(dead.conversion.deadLetter.code, 'MISSING_FIELD');
  });

  it('says pending for a message the converter has not reached, 404 past the end, 410 when retention removed it', async (t) => {
    const h = await api(t);
    await h.ctx.converter!.stop();
    await appendAll(h.log, [hl7('MSH|^~\\&|HIS|HOSP|PACS|RAD|20240102170000||ADT^A04^ADT_A01|LATE|P|2.5.1', 'PID|1||77^^^HOSP')]);
    const pending = (await h.get(`/api/messages/${SEQ.latin1 + 1}`)).body as { conversion: { state: string; position: number } };
    assert.deepEqual(pending.conversion, { state: 'pending', position: SEQ.latin1 });
    assert.equal((await h.get(`/api/messages/${SEQ.latin1 + 2}`)).status, 404);
    // Retention: the log no longer holds seq 1 (a log whose first stored seq is 2).
    const log = h.ctx.log;
    h.ctx.log = { ...log, get: (seq: number) => (seq === 1 ? undefined : log.get(seq)), firstSeq: () => 2, lastSeq: () => log.lastSeq() } as typeof log;
    const gone = await h.get('/api/messages/1');
    assert.equal(gone.status, 410);
    assert.equal((gone.body as ErrorBody).error.code, 'gone');
  });

  it('reprocesses a dead letter through the running converter: converted when its cause is gone, dead-lettered again otherwise', async (t) => {
    const h = await api(t);
    assert.equal(((await h.get('/api/reports?accession=ACC3')).body as PageBody<unknown>).items.length, 0);
    const events = h.ctx.store!.events.lastSeq();
    const ok = await h.post(`/api/dead-letters/${SEQ.waitingReport}/reprocess`);
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, { seq: SEQ.waitingReport, outcome: 'converted', applied: true });
    const report = ((await h.get('/api/reports?accession=ACC3')).body as PageBody<{ text: string; patientKey: string }>).items[0];
    assert.equal(report?.text, 'Clear lungs.');
    assert.ok(h.ctx.store!.events.lastSeq() > events, 'events appended as in the live run');
    assert.equal(h.ctx.converter!.position(), SEQ.latin1, 'the converter position did not move');
    const again = await h.post(`/api/dead-letters/${SEQ.noId}/reprocess`);
    const body = again.body as { outcome: string; deadLetter: { attempts: number; code: string } };
    assert.equal(body.outcome, 'dead-lettered');
    assert.equal(body.deadLetter.attempts, 2);
    assert.equal(body.deadLetter.code, 'MISSING_FIELD');
    const list = (await h.get('/api/dead-letters')).body as PageBody<{ seq: number }>;
    assert.deepEqual(list.items.map((d) => d.seq), [SEQ.noId]);
    assert.equal((await h.ctx.metrics.deadLetters.get()).values[0]?.value, 1);
    assert.equal((await h.post(`/api/dead-letters/${SEQ.waitingReport}/reprocess`)).status, 404, 'no longer a dead letter');
    assert.equal((await h.post('/api/dead-letters/99999/reprocess')).status, 404);
    await h.ctx.converter!.stop();
    const stopped = await h.post(`/api/dead-letters/${SEQ.noId}/reprocess`);
    assert.equal(stopped.status, 503);
    assert.equal((stopped.body as ErrorBody).error.code, 'unavailable');
  });

  it('runs concurrent reprocess requests one after the other', async (t) => {
    const h = await api(t);
    const answers = await Promise.all([h.post(`/api/dead-letters/${SEQ.noId}/reprocess`), h.post(`/api/dead-letters/${SEQ.noId}/reprocess`), h.post(`/api/dead-letters/${SEQ.noId}/reprocess`)]);
    const attempts = answers.map((a) => (a.body as { deadLetter: { attempts: number } }).deadLetter.attempts).sort();
    assert.deepEqual(attempts, [2, 3, 4]);
  });
});

describe('HTTP API: health, stats, metrics, logs', () => {
  it('says which part is not ready', async (t) => {
    const h = await api(t);
    h.ready.converter = false;
    h.ready.listeners = false;
    const a = await h.get('/readyz', null);
    assert.equal(a.status, 503);
    const e = (a.body as { error: { code: string; message: string; notReady: string[] } }).error;
    assert.equal(e.code, 'unavailable');
    assert.deepEqual(e.notReady, ['listeners', 'converter']);
    assert.match(e.message, /listeners, converter/);
  });

  it('counts what the repository, the logs and the converter hold', async (t) => {
    const { get } = await api(t);
    const s = (await get('/api/stats')).body as Record<string, Record<string, unknown> | number | unknown[]>;
    assert.deepEqual(s.inbound, { firstSeq: 1, lastSeq: SEQ.latin1, stored: SEQ.latin1 });
    assert.equal(s.queueDepth, 0);
    assert.equal((s.converter as Record<string, unknown>).position, SEQ.latin1);
    assert.deepEqual(s.repository, { patients: 4, visits: 4, orders: 1, reports: 1, attachments: 1 });
    assert.equal(s.deadLetters, 2);
    assert.deepEqual(s.subscribers, []);
  });

  it('answers 503 for the repository routes when the converter is disabled, and still serves messages and stats', async (t) => {
    const h = await api(t);
    h.ctx.store = undefined;
    h.ctx.converter = undefined;
    for (const path of ['/api/patients?identifier=111', '/api/orders/O1', '/api/reports/R1', '/api/dead-letters']) {
      const a = await h.get(path);
      assert.equal(a.status, 503, path);
      assert.equal((a.body as ErrorBody).error.code, 'unavailable');
    }
    assert.equal((await h.post(`/api/dead-letters/${SEQ.noId}/reprocess`)).status, 503);
    const m = (await h.get(`/api/messages/${SEQ.noId}`)).body as { conversion: unknown };
    assert.deepEqual(m.conversion, { state: 'not-converted' });
    const s = (await h.get('/api/stats')).body as Record<string, unknown>;
    assert.equal(s.repository, null);
    assert.equal(s.queueDepth, null);
    assert.deepEqual(s.converter, { running: false, position: null });
  });

  it('serves /metrics in the Prometheus text format', async (t) => {
    const { get } = await api(t);
    const a = await get('/metrics');
    assert.match(a.contentType, /^text\/plain; version=0\.0\.4/);
    assert.match(a.text, /# TYPE pacslink_dead_letters gauge/);
  });

  it('logs one debug line per request with the route pattern, and no patient data unless asked', async (t) => {
    const h = await api(t);
    await h.get('/api/patients?identifier=111&authority=HOSP');
    await h.get('/api/patients/P1');
    await h.get(`/api/reports/R1`, TOKENS.read, { accept: 'text/plain' });
    const lines = h.logLines.filter((l) => l.msg === 'http request');
    assert.deepEqual(lines.map((l) => [l.method, l.route, l.status]), [
      ['GET', '/api/patients', 200],
      ['GET', '/api/patients/{key}', 200],
      ['GET', '/api/reports/{id}', 200],
    ]);
    for (const l of lines) assert.equal(typeof l.ms, 'number');
    const all = JSON.stringify(h.logLines);
    for (const secret of ['111', 'DOE', 'P1', 'R1', 'HOSP']) assert.ok(!all.includes(secret), `log mentions ${secret}`);

    const debug = await api(t, { http: { logPatientData: true, tokens: [{ name: 'reader', token: TOKENS.read, roles: ['read'] }] } });
    await debug.get('/api/patients?identifier=111');
    assert.equal(debug.logLines.find((l) => l.msg === 'http request')?.query, 'identifier=111');
  });
});
