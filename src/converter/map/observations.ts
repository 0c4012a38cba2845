/**
 * OBX lines → report text, attachments and Study Instance UID (DOMAIN.md §4.6), shared by
 * ORU^R01 and MDM^T02… mappers.
 *
 * Text: every OBX of the group in order, or in OBX-4 sub-ID order when every line has a
 * numeric sub-ID (`1`, `1.2`, ...; stable, so equal sub-IDs keep message order). Lines whose
 * OBX-11 is D (delete) or W (posted wrong) are left out. Per OBX-2:
 * - TX, FT, ST, other text types: each repetition a line, escapes decoded and FT formatting
 *   (`\.br\`, `\.sp\`, `\.in\`...) rendered (Render.Text); leading spaces kept;
 * - CE/CWE/CNE: the text component, else the code; NM/SN: the value and OBX-6 units;
 *   TS/DT/DTM: ISO 8601 when it parses, else as sent;
 * - ED: an attachment, not text (see {@link Observations.attachments});
 * - the DCM 113014 "Study Instance UID" line: the UID, not text.
 * NTE segments are not part of the text.
 */
import { type Hl7Message, Render } from '../../hl7/index.js';
import { type MapContext, isoTime, literalText, str } from './common.js';

/** What the OBX lines of one group say. */
export interface Observations {
  text: string;
  attachments: Array<{ contentType: string; dataBase64: string }>;
  studyInstanceUid?: string;
  /** OBX-11 of every line kept (not D/W), uppercased, empty ones left out. */
  resultStatuses: string[];
}

/** The OBX segments after `start` and before the first segment for which `stop` is true. */
export function obxSegments(msg: Hl7Message, start: number, stop: (id: string) => boolean): number[] {
  const out: number[] = [];
  for (let s = start + 1; s < msg.segmentCount; s++) {
    const id = msg.segmentName(s);
    if (stop(id)) break;
    if (id === 'OBX') out.push(s);
  }
  return out;
}

function subIdKey(msg: Hl7Message, obx: number): number[] | undefined {
  const v = str(msg, obx, 4);
  if (!/^\d+(\.\d+)*$/.test(v)) return undefined;
  return v.split('.').map(Number);
}

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/** Reads text, attachments and Study Instance UID from OBX segments (see the module comment). */
export function readObservations(ctx: MapContext, obxs: readonly number[]): Observations {
  const { msg } = ctx;
  let ordered = [...obxs];
  const keys = ordered.map((s) => subIdKey(msg, s));
  if (keys.every((k) => k !== undefined)) {
    ordered = ordered.map((s, i) => ({ s, k: keys[i]!, i })).sort((x, y) => compareKeys(x.k, y.k) || x.i - y.i).map((x) => x.s);
  }
  const lines: string[] = [];
  const attachments: Observations['attachments'] = [];
  const resultStatuses: string[] = [];
  let studyInstanceUid: string | undefined;
  let lastEd: { key: string; chunks: string[]; encoding: string; contentType: string } | undefined;
  const flush = (): void => {
    if (lastEd !== undefined) attachments.push({ contentType: lastEd.contentType, dataBase64: decodeEd(lastEd.chunks, lastEd.encoding).toString('base64') });
    lastEd = undefined;
  };
  for (const obx of ordered) {
    const status = str(msg, obx, 11).toUpperCase();
    if (status === 'D' || status === 'W') continue;
    if (status !== '') resultStatuses.push(status);
    const type = str(msg, obx, 2).toUpperCase();
    if (str(msg, obx, 3, 1, 1) === '113014' && str(msg, obx, 3, 1, 3).toUpperCase() === 'DCM') {
      const uid = str(msg, obx, 5);
      if (uid !== '') studyInstanceUid = uid;
      continue;
    }
    if (type === 'ED') {
      const key = `${msg.value(obx, 3)}\u001f${str(msg, obx, 4)}`;
      const ed = readEd(msg, obx);
      if (lastEd !== undefined && (ed.continuation || lastEd.key === key)) {
        lastEd.chunks.push(ed.data);
      } else {
        flush();
        lastEd = { key, chunks: [ed.data], encoding: ed.encoding, contentType: ed.contentType };
      }
      continue;
    }
    flush();
    lines.push(...textLines(ctx, obx, type));
  }
  flush();
  const out: Observations = { text: lines.join('\n'), attachments, resultStatuses };
  if (studyInstanceUid !== undefined) out.studyInstanceUid = studyInstanceUid;
  return out;
}

function textLines(ctx: MapContext, obx: number, type: string): string[] {
  const { msg } = ctx;
  const n = msg.repetitionCount(obx, 5);
  const lines: string[] = [];
  for (let r = 1; r <= n; r++) {
    switch (type) {
      case 'CE':
      case 'CWE':
      case 'CNE': {
        const text = msg.value(obx, 5, r, 2, 0, Render.Text).trim();
        lines.push(text !== '' ? text : msg.value(obx, 5, r, 1, 0, Render.Text).trim());
        break;
      }
      case 'NM':
      case 'SN': {
        const units = str(msg, obx, 6, 1, 2) || str(msg, obx, 6, 1, 1);
        const value = type === 'SN' ? literalText(msg, obx, 5, r).replaceAll('^', '') : msg.value(obx, 5, r, 1).trim();
        lines.push(units !== '' ? `${value} ${units}` : value);
        break;
      }
      case 'TS':
      case 'DT':
      case 'DTM': {
        const raw = msg.value(obx, 5, r, 1).trim();
        lines.push(isoTime(raw, ctx.options.timeZone) ?? raw);
        break;
      }
      default: {
        const line = literalText(msg, obx, 5, r, Render.Text);
        lines.push(line === '""' ? '' : line.replace(/[\r\n]+$/, ''));
      }
    }
  }
  return lines;
}

const MAJOR: Readonly<Record<string, string>> = { AP: 'application', APPLICATION: 'application', IM: 'image', IMAGE: 'image', TEXT: 'text', TX: 'text', AU: 'audio', AUDIO: 'audio', VIDEO: 'video', MULTIPART: 'multipart' };

/**
 * One ED value: `source^type^subtype^encoding^data`. A value with fewer than five components
 * is the continuation of the ED before it (its whole value is more data). The data of an ED
 * and its continuations is joined before decoding, so a split anywhere is fine.
 */
function readEd(msg: Hl7Message, obx: number): { data: string; encoding: string; contentType: string; continuation: boolean } {
  const comps = msg.componentCount(obx, 5, 1);
  if (comps < 5) return { data: msg.value(obx, 5, 1, 1), encoding: '', contentType: '', continuation: true };
  const major = MAJOR[str(msg, obx, 5, 1, 2).toUpperCase()] ?? 'application';
  const sub = str(msg, obx, 5, 1, 3).toLowerCase();
  return { data: msg.value(obx, 5, 1, 5), encoding: str(msg, obx, 5, 1, 4).toUpperCase(), contentType: `${major}/${sub === '' ? 'octet-stream' : sub}`, continuation: false };
}

/**
 * Decodes ED data. Encodings: Base64 (white space, e.g. CR/LF inside the data, quirk 20, is
 * dropped; chunks padded with `=` before the last are decoded one by one), Hex, A (the text as
 * UTF-8); an empty or unknown encoding is read as Base64.
 */
function decodeEd(chunks: readonly string[], encoding: string): Buffer {
  if (encoding === 'A') return Buffer.from(chunks.join(''), 'utf8');
  const clean = chunks.map((c) => c.replace(/\s+/g, ''));
  if (encoding === 'HEX') return Buffer.from(clean.join(''), 'hex');
  if (clean.slice(0, -1).some((c) => c.endsWith('='))) return Buffer.concat(clean.map((c) => Buffer.from(c, 'base64')));
  return Buffer.from(clean.join(''), 'base64');
}
