/**
 * Shared by the observability tests: a real engine on port 0 with its own registry, a short
 * mixed load over MLLP (good and broken messages, a resend, a restarted frame), a reader of
 * the Prometheus text format, and the dashboard's PromQL expressions.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { resolveEngineOptions, type EngineInput } from '../../src/config.js';
import { startEngine, type Engine } from '../../src/engine.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { frame, MllpClient, readAck } from '../../src/mllp/client.js';
import { a04, a04WithoutId, hl7 } from '../converter/helpers.js';

/** The repository's root (tests run from dist/test/observability). */
export const ROOT = new URL('../../../', import.meta.url);

/** Starts an engine with default process metrics, MLLP on 127.0.0.1:0 and a temp data dir, stopped when `t` ends. */
export async function observedEngine(t: TestContext, input: EngineInput = {}): Promise<Engine> {
  const dir = await mkdtemp(join(tmpdir(), 'pacslink-obs-'));
  const options = resolveEngineOptions({
    dataDir: dir,
    listeners: [{ host: '127.0.0.1', port: 0 }],
    ...input,
    converter: { workers: 2, ...input.converter },
  });
  let engine: Engine;
  try {
    engine = await startEngine(options, { logger: silentLogger, metrics: createMetrics() });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  // node:test runs after-hooks in the order they were added: stop, then remove.
  t.after(async () => {
    await engine.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return engine;
}

/** An ADT^A08 updating patient `id` (authority HOSP). */
function a08(controlId: string, id: string): Uint8Array {
  return hl7(
    `MSH|^~\\&|HIS|HOSP|PACS|RAD|20240102121000||ADT^A08^ADT_A01|${controlId}|P|2.5.1`,
    `EVN|A08|20240102121000`,
    `PID|1||${id}^^^HOSP^MR||DOE^JANE||19700101|F`,
    `PV1|1|O|RAD^XR1^^MAIN`,
  );
}

/** What {@link sendLoad} sent, so tests can look for it (it must never reach a label). */
export interface LoadSummary {
  /** Messages stored (good + broken). */
  stored: number;
  /** Of those, the ones that cannot be converted (dead letters). */
  broken: number;
  /** ACK codes received, in order. */
  acks: string[];
  /** Control IDs and patient IDs used. */
  identifiers: string[];
}

/**
 * Sends `rounds` rounds over one MLLP connection, each: an ADT^A04, an ADT^A08 (preceded by a
 * restarted partial frame, a frame error), and every fifth round a resend of the A04 (a
 * duplicate) and an A04 without PID-3 (a dead letter).
 */
export async function sendLoad(port: number, rounds: number, tag = 'OBS'): Promise<LoadSummary> {
  const client = await MllpClient.connect({ host: '127.0.0.1', port });
  const summary: LoadSummary = { stored: 0, broken: 0, acks: [], identifiers: [] };
  const ack = async (payload: Uint8Array | Buffer, framed = false): Promise<void> => {
    const reply = framed ? await client.sendFramed(payload) : await client.send(payload);
    summary.acks.push(readAck(reply).code);
  };
  try {
    for (let i = 0; i < rounds; i++) {
      const id = `${tag}${String(i).padStart(5, '0')}`;
      const mrn = `MRN-${id}`;
      summary.identifiers.push(`${id}A`, `${id}U`, mrn);
      await ack(a04(`${id}A`, mrn));
      const partial = Buffer.from(`\x0bMSH|^~\\&|RIS|HOSP|PACS|RAD|2024`, 'latin1');
      await ack(Buffer.concat([partial, frame(a08(`${id}U`, mrn))]), true);
      summary.stored += 2;
      if (i % 5 === 0) {
        await ack(a04(`${id}A`, mrn));
        summary.identifiers.push(`${id}X`);
        await ack(a04WithoutId(`${id}X`));
        summary.stored++;
        summary.broken++;
      }
    }
  } finally {
    await client.close();
  }
  return summary;
}

/** One sample of the text format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** One metric family of the text format. */
export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

/** Reads Prometheus text format 0.0.4 (as prom-client writes it) into families by name. */
export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string): Family => {
    let f = families.get(name);
    if (f === undefined) {
      f = { name, type: 'untyped', help: '', samples: [] };
      families.set(name, f);
    }
    return f;
  };
  let current: Family | undefined;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta !== null) {
      current = family(meta[2]!);
      if (meta[1] === 'HELP') current.help = meta[3]!;
      else current.type = meta[3]!;
      continue;
    }
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (m === null) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    const sample = { name: m[1]!, labels, value: Number(m[3]) };
    const owner = current !== undefined && sample.name.startsWith(current.name) ? current : family(sample.name);
    owner.samples.push(sample);
  }
  return families;
}

/** The value of the sample `name{labels}` (labels matched as a subset), or undefined. */
export function valueOf(families: Map<string, Family>, family: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const f = families.get(family);
  const s = f?.samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return s?.value;
}

/** A panel target of the dashboard. */
export interface DashboardQuery {
  panel: string;
  refId: string;
  expr: string;
}

/** Reads grafana/dashboards/pacslink.json. */
export async function loadDashboard(): Promise<DashboardJson> {
  return JSON.parse(await readFile(new URL('grafana/dashboards/pacslink.json', ROOT), 'utf8')) as DashboardJson;
}

/** The parts of a Grafana dashboard the tests read. */
export interface DashboardJson {
  uid: string;
  title: string;
  templating: { list: Array<{ name: string; type: string; query?: unknown; definition?: string }> };
  panels: PanelJson[];
}

/** A Grafana panel (rows nest theirs when collapsed). */
export interface PanelJson {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos?: { x: number; y: number; w: number; h: number };
  targets?: Array<{ refId: string; expr: string; datasource?: { type: string; uid: string } }>;
  panels?: PanelJson[];
}

/** Every panel, rows' nested panels included. */
export function allPanels(dashboard: DashboardJson): PanelJson[] {
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Every PromQL expression of the dashboard's panels and variables. */
export function dashboardQueries(dashboard: DashboardJson): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  for (const p of allPanels(dashboard)) for (const target of p.targets ?? []) out.push({ panel: p.title, refId: target.refId, expr: target.expr });
  for (const v of dashboard.templating.list) {
    if (v.type !== 'query') continue;
    // label_values(METRIC, label) is Grafana's, not PromQL: its metric selector is the PromQL part.
    const q = typeof v.query === 'string' ? v.query : ((v.query as { query?: string } | undefined)?.query ?? '');
    const lv = /^label_values\((.*),\s*\w+\)$/.exec(q);
    out.push({ panel: `variable ${v.name}`, refId: v.name, expr: lv !== null ? lv[1]! : q });
  }
  return out;
}

/** Grafana's variables replaced as Grafana would for a query sent to Prometheus at `rateInterval`. */
export function grafanaToPromQL(expr: string, rateInterval = '30s'): string {
  return expr
    .replaceAll('$__rate_interval', rateInterval)
    .replaceAll('${__rate_interval}', rateInterval)
    .replaceAll('$__interval', rateInterval)
    .replaceAll('${instance:regex}', '.*')
    .replaceAll('$instance', '.*')
    .replaceAll('${instance}', '.*');
}

const PROMQL_WORDS = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan',
]);

/** Metric names an expression selects: identifiers that are not functions, keywords, label lists, matchers or durations. */
export function metricNamesIn(expr: string): string[] {
  const stripped = grafanaToPromQL(expr)
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)) {
    if (m[2] !== undefined) continue;
    if (PROMQL_WORDS.has(m[1]!.toLowerCase())) continue;
    names.add(m[1]!);
  }
  return [...names];
}
