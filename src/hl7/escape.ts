/**
 * HL7 v2 escape sequences (DOMAIN.md §2.4, HL7 v2.5 §2.7): decoding of leaf values after
 * tokenising, and escaping of values that pacslink writes.
 *
 * Decoded: `\F\ \S\ \T\ \R\ \E\` (and `\P\`, the v2.7 truncation character), `\Xhh..\`
 * (bytes in the message's charset). Formatting commands (`\.br\`, `\.sp n\`, `\.in n\`,
 * `\.ti n\`, `\.sk n\`, `\.ce\`, `\.fi\`, `\.nf\`) and `\H\`/`\N\` are kept verbatim in
 * `raw` rendering and turned into plain text in `text` rendering. `\Z..\`, `\C..\`, `\M..\`,
 * unknown and unterminated sequences are always kept verbatim.
 */
import { type Charset, type SliceBuffer, decodeRange } from './charset.js';

/** The delimiters of one message, as one-character strings (`truncation` is `''` when absent). */
export interface Delimiters {
  readonly field: string;
  readonly component: string;
  readonly repetition: string;
  readonly escape: string;
  readonly subcomponent: string;
  readonly truncation: string;
}

/** The standard delimiters `|^~\&`. */
export const DEFAULT_DELIMITERS: Delimiters = Object.freeze({
  field: '|',
  component: '^',
  repetition: '~',
  escape: '\\',
  subcomponent: '&',
  truncation: '',
});

/** How leaf values are rendered: formatting commands kept as escapes, or turned into text. */
export const Render = { Raw: 0, Text: 1 } as const;
export type Render = (typeof Render)[keyof typeof Render];

const HEX = /^[0-9A-Fa-f]*$/;

/**
 * Decodes the value `buf[start, end)`: escape sequences resolved per {@link Render}, text
 * decoded in `charset`. The caller has already found an escape character in the range.
 */
export function unescapeRange(
  buf: SliceBuffer,
  start: number,
  end: number,
  delimiters: Delimiters,
  escapeByte: number,
  charset: Charset,
  render: Render,
): string {
  let out = '';
  let runStart = start;
  let indent = 0;
  let i = start;
  while (i < end) {
    if (buf[i] !== escapeByte) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < end && buf[j] !== escapeByte) j++;
    if (j >= end) break;
    out += decodeRange(buf, runStart, i, charset);
    const seq = buf.latin1Slice(i + 1, j);
    const verbatim = delimiters.escape + seq + delimiters.escape;
    switch (seq) {
      case 'F': out += delimiters.field; break;
      case 'S': out += delimiters.component; break;
      case 'T': out += delimiters.subcomponent; break;
      case 'R': out += delimiters.repetition; break;
      case 'E': out += delimiters.escape; break;
      case 'P': out += delimiters.truncation === '' ? verbatim : delimiters.truncation; break;
      case 'H':
      case 'N': out += render === Render.Text ? '' : verbatim; break;
      default:
        if (seq.length > 1 && seq.charCodeAt(0) === 0x58 /* X */ && seq.length % 2 === 1 && HEX.test(seq.slice(1))) {
          const bytes = Buffer.from(seq.slice(1), 'hex') as SliceBuffer;
          out += decodeRange(bytes, 0, bytes.length, charset);
        } else if (seq.charCodeAt(0) === 0x2e /* . */ && render === Render.Text) {
          const text = renderFormatting(seq, indent);
          if (text === undefined) out += verbatim;
          else {
            out += text.text;
            indent = text.indent;
          }
        } else {
          out += verbatim;
        }
    }
    i = j + 1;
    runStart = i;
  }
  return out + decodeRange(buf, runStart, end, charset);
}

/** Renders one FT formatting command (without its escape characters) to plain text. */
function renderFormatting(seq: string, indent: number): { text: string; indent: number } | undefined {
  const m = /^\.(br|sp|in|ti|sk|ce|fi|nf)(?:\s*([+-]?\d+))?$/.exec(seq);
  if (m === null) return undefined;
  const n = m[2] === undefined ? undefined : Number(m[2]);
  const pad = (count: number): string => ' '.repeat(Math.max(0, Math.min(count, 1000)));
  switch (m[1]) {
    case 'br':
      return { text: '\n' + pad(indent), indent };
    case 'sp':
      return { text: '\n'.repeat(1 + Math.max(1, Math.min(n ?? 1, 1000))) + pad(indent), indent };
    case 'in':
      return { text: pad(n ?? 0), indent: Math.max(0, n ?? 0) };
    case 'ti':
    case 'sk':
      return { text: pad(n ?? 1), indent };
    case 'ce':
      return { text: '\n', indent };
    default:
      return { text: '', indent };
  }
}

/**
 * Escapes a value for writing into a message with `delimiters`: the escape character first,
 * then the field, component, repetition and subcomponent separators, the truncation
 * character when the message declares one, and CR/LF as `\X0D\`/`\X0A\` so that a value
 * never ends a segment.
 */
export function escapeValue(value: string, delimiters: Delimiters = DEFAULT_DELIMITERS): string {
  let needs = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (
      ch === delimiters.escape || ch === delimiters.field || ch === delimiters.component ||
      ch === delimiters.repetition || ch === delimiters.subcomponent || ch === '\r' || ch === '\n' ||
      (delimiters.truncation !== '' && ch === delimiters.truncation)
    ) {
      needs = true;
      break;
    }
  }
  if (!needs) return value;
  const e = delimiters.escape;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === e) out += `${e}E${e}`;
    else if (ch === delimiters.field) out += `${e}F${e}`;
    else if (ch === delimiters.component) out += `${e}S${e}`;
    else if (ch === delimiters.repetition) out += `${e}R${e}`;
    else if (ch === delimiters.subcomponent) out += `${e}T${e}`;
    else if (delimiters.truncation !== '' && ch === delimiters.truncation) out += `${e}P${e}`;
    else if (ch === '\r') out += `${e}X0D${e}`;
    else if (ch === '\n') out += `${e}X0A${e}`;
    else out += ch;
  }
  return out;
}
