/**
 * Reports for people (issue 6): `Accept` negotiation with q-values, the plain-text rendering
 * (FT formatting rendered, version history with times and authors), the HTML page (complete,
 * escaped, no script, strict CSP, links to attachments) and attachment downloads.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { createHttpApi } from '../../src/gateway/http-api.js';
import { negotiate } from '../../src/gateway/render/accept.js';
import { escapeHtml } from '../../src/gateway/render/report.js';
import { FIXTURE_INPUT, PDF, fixtureMessages } from './helpers/fixture.js';
import { TOKENS, call, engineContext, serveHandler } from './helpers/http.js';

const OFFERS = ['application/json', 'text/html', 'text/plain'];

describe('Accept negotiation', () => {
  it('honours q-values and specificity, defaults to JSON, and finds nothing acceptable when nothing matches', () => {
    assert.equal(negotiate(undefined, OFFERS), 'application/json');
    assert.equal(negotiate('', OFFERS), 'application/json');
    assert.equal(negotiate('*/*', OFFERS), 'application/json');
    assert.equal(negotiate('text/plain', OFFERS), 'text/plain');
    assert.equal(negotiate('text/html;q=0.5, text/plain', OFFERS), 'text/plain');
    assert.equal(negotiate('text/html, text/plain;q=0.9, */*;q=0.1', OFFERS), 'text/html');
    assert.equal(negotiate('text/*', OFFERS), 'text/html');
    assert.equal(negotiate('text/*;q=0.3, text/plain;q=0.6, application/json;q=0.5', OFFERS), 'text/plain');
    assert.equal(negotiate('application/json;q=0, */*', OFFERS), 'text/html');
    assert.equal(negotiate('application/xml', OFFERS), undefined);
    assert.equal(negotiate('*/*;q=0', OFFERS), undefined);
    assert.equal(negotiate('garbage', OFFERS), undefined);
    assert.equal(negotiate('Text/Plain; Q=1', OFFERS), 'text/plain');
  });

  it('escapes every character that matters in HTML', () => {
    assert.equal(escapeHtml(`<a href="x" onclick='y'>&</a>`), '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });
});

describe('GET /api/reports/{id} for people', () => {
  async function setup(t: import('node:test').TestContext) {
    const h = await engineContext(t, fixtureMessages(), { input: FIXTURE_INPUT });
    const base = await serveHandler(t, createHttpApi(h.ctx));
    return (path: string, accept?: string) => call(base, 'GET', path, { token: TOKENS.read, ...(accept !== undefined ? { headers: { accept } } : {}) });
  }

  it('renders text/plain: the current text, then the version history with status, time and author, then attachments', async (t) => {
    const get = await setup(t);
    const a = await get('/api/reports/R1', 'text/plain');
    assert.equal(a.status, 200);
    assert.equal(a.contentType, 'text/plain; charset=utf-8');
    assert.equal(a.headers.get('vary'), 'Accept');
    const lines = a.text.split('\n');
    assert.equal(lines[0], 'Report R1: final');
    assert.equal(lines[1], 'Patient: DOE, JOHN · 222 (HOSP) · born 1980-01-31 · sex M');
    assert.ok(a.text.includes('\nNo acute findings.\n'));
    const history = a.text.slice(a.text.indexOf('Version history:'));
    assert.match(history, /1\. preliminary +2024-01-02T12:30:00[^ ]* +SMITH, JANE/);
    assert.match(history, /2\. final +2024-01-02T13:30:00[^ ]* +JONES, ANN/);
    assert.match(history, /A1 {2}application\/pdf {2}35 bytes {2}\/api\/reports\/R1\/attachments\/A1/);
  });

  it('keeps the FT formatting the converter rendered (line breaks, blank lines, indents) in earlier versions', async (t) => {
    const get = await setup(t);
    const r = (await get('/api/reports/R1')).body as { versions: Array<{ text: string }> };
    assert.equal(r.versions[0]?.text, 'FINDINGS:\n  No <script>alert("x")</script> & no effusion.\n\n    IMPRESSION: normal');
    const html = (await get('/api/reports/R1', 'text/html')).text;
    assert.ok(html.includes('FINDINGS:\n  No &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; no effusion.\n\n    IMPRESSION: normal'));
  });

  it('renders text/html as a complete page: everything escaped, no script, a strict CSP that allows only its own style', async (t) => {
    const get = await setup(t);
    const a = await get('/api/reports/R1', 'text/html;q=0.9, text/plain;q=0.8');
    assert.equal(a.status, 200);
    assert.equal(a.contentType, 'text/html; charset=utf-8');
    assert.match(a.text, /^<!DOCTYPE html>\n<html lang="en">/);
    assert.match(a.text, /<\/html>\n$/);
    assert.ok(!/<script/i.test(a.text), 'no script element, even from the report text');
    assert.ok(!/ on[a-z]+=/i.test(a.text), 'no event handler attributes');
    const csp = a.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    const style = /<style>([^<]*)<\/style>/.exec(a.text)?.[1] ?? '';
    assert.ok(csp.includes(`'sha256-${createHash('sha256').update(style).digest('base64')}'`), 'the CSP allows exactly the page style');
    assert.equal(a.headers.get('x-content-type-options'), 'nosniff');
    assert.match(a.text, /<td class="status">preliminary<\/td><td>2024-01-02T12:30:00[^<]*<\/td><td>SMITH, JANE<\/td>/);
    assert.match(a.text, /<td class="status">final<\/td><td>2024-01-02T13:30:00[^<]*<\/td><td>JONES, ANN<\/td>/);
    assert.match(a.text, /<a href="\/api\/reports\/R1\/attachments\/A1" download>A1 \(application\/pdf, 35 bytes\)<\/a>/);
  });

  it('downloads an attachment byte for byte with its stored type, only under its own report', async (t) => {
    const get = await setup(t);
    const a = await get('/api/reports/R1/attachments/A1');
    assert.equal(a.status, 200);
    assert.equal(a.contentType, 'application/pdf');
    assert.ok(a.bytes.equals(PDF));
    assert.equal(a.headers.get('content-disposition'), 'attachment; filename="R1-A1.pdf"');
    assert.equal(a.headers.get('x-content-type-options'), 'nosniff');
    assert.equal((await get('/api/reports/R2/attachments/A1')).status, 404);
    assert.equal((await get('/api/reports/R1/attachments/A2')).status, 404);
  });

  it('answers 406 with the error JSON when no offered type is acceptable, and JSON by default', async (t) => {
    const get = await setup(t);
    const refused = await get('/api/reports/R1', 'application/pdf, image/*');
    assert.equal(refused.status, 406);
    assert.equal((refused.body as { error: { code: string } }).error.code, 'not-acceptable');
    const json = await get('/api/reports/R1');
    assert.equal(json.contentType, 'application/json; charset=utf-8');
    assert.equal((json.body as { status: string }).status, 'final');
  });
});
