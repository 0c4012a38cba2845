/**
 * The common results writer of the benchmarks. Every suite ends with one {@link SuiteReport}:
 * its headline figures (the few numbers the runner's final table and `summary.md` show),
 * its tables (rendered as Markdown), its peak RSS and its full data. {@link writeReport}
 * writes it as `bench/results/<suite>.json` together with the machine it ran on;
 * {@link renderSummary} turns the reports of one run into `bench/results/summary.md`.
 *
 * Progress goes to stderr ({@link progress}); tables and the final summary go to stdout.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Default results directory: `bench/results/` of the repository. */
export const RESULTS_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url));

/** One headline figure: "pacslink durable ingest, C=8: 12 345 msgs/s (0.91× ACK-only)". */
export interface Figure {
  /** What was measured, e.g. `durable ingest C=8`. */
  name: string;
  value: number;
  /** `msgs/s`, `ms`, `MB`, `×` ... */
  unit: string;
  /** Context: a ratio, a reference, a target. */
  note?: string;
}

/** A table of a report; cells are already formatted. */
export interface ReportTable {
  title: string;
  columns: string[];
  rows: string[][];
}

/** The machine a run happened on. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGb: number;
  node: string;
  platform: string;
}

/** What every suite produces. */
export interface SuiteReport {
  /** File stem: `parser`, `queue`, `ingest`, `convert`, `pipeline`, `peak`, `scale`. */
  suite: string;
  title: string;
  /** The command that reproduces this suite alone. */
  command: string;
  headline: Figure[];
  tables: ReportTable[];
  /** Peak resident set size (MB) of the benchmark process and, when one ran, of the engine process. */
  peakRssMb: { bench: number; engine?: number };
  /** The suite's full figures (its own shape). */
  data: unknown;
}

/** A report as written to disk. */
export interface WrittenReport extends SuiteReport {
  date: string;
  machine: MachineInfo;
}

/** CPU model, cores, memory, Node version and platform of this machine. */
export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

/** Peak RSS of this process so far, MB (getrusage's ru_maxrss). */
export function ownPeakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * Peak RSS (MB) of another process, from `VmHWM` in `/proc/PID/status` (Linux); `undefined`
 * when it cannot be read (other systems, process gone). Read it before stopping the process.
 */
export function processPeakRssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m === null ? undefined : Number(m[1]) / 1024;
  } catch {
    return undefined;
  }
}

/** Current RSS (MB) of another process, from `VmRSS` in `/proc/PID/status`; `undefined` if unreadable. */
export function processRssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m === null ? undefined : Number(m[1]) / 1024;
  } catch {
    return undefined;
  }
}

/** Writes `report` as `<dir>/<suite>.json` (or to `path` when given); returns the path. */
export function writeReport(report: SuiteReport, path: string = join(RESULTS_DIR, `${report.suite}.json`)): string {
  const written: WrittenReport = { ...report, date: new Date().toISOString(), machine: machineInfo() };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(written, null, 2)}\n`);
  return path;
}

/** Reads a report written by {@link writeReport}; throws if it is not one. */
export function readReport(path: string): WrittenReport {
  const r = JSON.parse(readFileSync(path, 'utf8')) as Partial<WrittenReport>;
  if (typeof r.suite !== 'string' || !Array.isArray(r.headline) || !Array.isArray(r.tables) || r.peakRssMb === undefined) {
    throw new Error(`${path} is not a benchmark report`);
  }
  return r as WrittenReport;
}

/** Formats a number for a table: thousands grouped, `digits` decimals. */
export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return String(n);
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Renders a table as Markdown. Pipes inside cells are escaped. */
export function markdownTable(t: Pick<ReportTable, 'columns' | 'rows'>): string {
  const cell = (s: string): string => s.replace(/\|/g, '\\|');
  return [
    `| ${t.columns.map(cell).join(' | ')} |`,
    `|${t.columns.map(() => '---').join('|')}|`,
    ...t.rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

/** Renders a table as fixed-width text: columns of numbers right-aligned, the others left-aligned. */
export function textTable(t: Pick<ReportTable, 'columns' | 'rows'>): string {
  const widths = t.columns.map((c, i) => Math.max(c.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const numeric = t.columns.map((_, i) => t.rows.length > 0 && t.rows.every((r) => /^[-+]?[0-9][0-9,.]*(\s?[×%])?$|^$|^–$/.test(r[i] ?? '')));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (numeric[i] === true ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(t.columns), line(widths.map((w) => '-'.repeat(w))), ...t.rows.map(line)].join('\n');
}

/** Writes a progress line to stderr, prefixed with the suite. */
export function progress(suite: string, text: string): void {
  process.stderr.write(`[${suite}] ${text}\n`);
}

/** Prints a report's tables to stdout as text. */
export function printReport(report: SuiteReport): void {
  const out: string[] = [];
  for (const t of report.tables) out.push('', `${report.title}: ${t.title}`, textTable(t));
  out.push('', `peak RSS: bench ${fmt(report.peakRssMb.bench)} MB${report.peakRssMb.engine !== undefined ? `, engine ${fmt(report.peakRssMb.engine)} MB` : ''}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

/** The headline figures of every report as one table (the runner's final table). */
export function headlineTable(reports: readonly SuiteReport[]): ReportTable {
  const rows: string[][] = [];
  for (const r of reports) {
    for (const f of r.headline) {
      // NaN is written to JSON as null: both mean "not measured".
      const v = typeof f.value === 'number' && Number.isFinite(f.value) ? f.value : undefined;
      const cell = v === undefined ? '–' : fmt(v, Math.abs(v) < 10 && v !== Math.round(v) ? 2 : 0);
      rows.push([r.suite, f.name, cell, f.unit, f.note ?? '']);
    }
    const rss = r.peakRssMb.engine !== undefined ? `engine ${fmt(r.peakRssMb.engine)}, bench ${fmt(r.peakRssMb.bench)}` : `bench ${fmt(r.peakRssMb.bench)}`;
    rows.push([r.suite, 'peak RSS', '', 'MB', rss]);
  }
  return { title: 'headline figures', columns: ['suite', 'figure', 'value', 'unit', 'note'], rows };
}

/** Renders `summary.md`: machine, date, command, the headline table, then every suite's tables. */
export function renderSummary(reports: readonly SuiteReport[], options: { command: string; machine?: MachineInfo; date?: string; failed?: string[] }): string {
  const m = options.machine ?? machineInfo();
  const out = [
    '# pacslink benchmark results',
    '',
    `- date: ${options.date ?? new Date().toISOString()}`,
    `- machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGb} GB RAM, ${m.platform}`,
    `- Node: ${m.node}`,
    `- command: \`${options.command}\``,
    '',
    '## Headline figures',
    '',
    markdownTable(headlineTable(reports)),
  ];
  if (options.failed !== undefined && options.failed.length > 0) out.push('', `Suites that failed: ${options.failed.join(', ')}.`);
  for (const r of reports) {
    out.push('', `## ${r.suite}: ${r.title}`, '', `Reproduce: \`${r.command}\``);
    for (const t of r.tables) out.push('', `**${t.title}**`, '', markdownTable(t));
  }
  return `${out.join('\n')}\n`;
}
