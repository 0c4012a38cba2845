/**
 * Adapters for the peer HL7 v2 libraries the parser benchmark compares pacslink with. Each
 * takes one message as a JS string, parses it the way the library's documentation shows,
 * and reads MSH-10, PID-3.1, PID-5.1 and OBR-4.1 (first repetition, first subcomponent;
 * `''` when the segment or field is absent).
 *
 * Every library here splits segments on CR (HL7 v2.5.1 §2.5.4) as the corpus sends them;
 * simple-hl7 and node-hl7-client need exactly CR, the others also accept LF or CRLF.
 *
 * The untyped CommonJS libraries are loaded with `createRequire` and described by the
 * minimal structural types below, which cover only what the adapters touch.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Hl7Message as MedplumMessage } from '@medplum/core';
import { Message as NodeHl7Message } from 'node-hl7-client';
import type { ExpectedValues } from './corpus.js';

const require = createRequire(import.meta.url);

/** The four values every parser returns for a message. */
export type FieldValues = ExpectedValues;

/** One peer library, adapted to "parse this string, give me the four values". */
export interface PeerAdapter {
  /** The npm package name, used as the row label. */
  readonly name: string;
  /** The installed version, read from the package's package.json. */
  readonly version: string;
  /**
   * True when one parse splits every segment of the message down to components (or
   * further), whether or not the values are read; false for lazy parsers.
   */
  readonly tokenizesWholeMessage: boolean;
  /** One line on how the library parses, the reason for `tokenizesWholeMessage`. */
  readonly tokenizesReason: string;
  /** Parses `text` in full and reads the four values. Throws what the library throws. */
  read(text: string): FieldValues;
}

/** Finds the installed version of a package by walking up from its resolved entry point. */
function packageVersion(name: string): string {
  let dir = dirname(require.resolve(name));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name && pkg.version !== undefined) return pkg.version;
    } catch {
      // No package.json at this level (or not this package's): keep walking up.
    }
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

const str = (v: unknown): string => (typeof v === 'string' ? v : v == null ? '' : String(v));

// ---- simple-hl7 -------------------------------------------------------------------------

/** simple-hl7 `Component`: `value` holds one string, or one array of subcomponents. */
interface SimpleComponent { value: Array<string | string[]> }
/** simple-hl7 `Field`: `value[0]` is the component list, or a nested Field per repetition. */
interface SimpleField { value: Array<SimpleComponent[] | SimpleField> }
interface SimpleSegment { name: string; fields: SimpleField[] }
interface SimpleMessage { header: { fields: SimpleField[] }; getSegment(name: string): SimpleSegment | undefined }
interface SimpleHl7 { Parser: new (opts?: { segmentSeperator?: string }) => { parse(text: string): SimpleMessage } }

/**
 * Reads field `n`, component `c` (1-based) from simple-hl7's tree. Its own
 * `Segment.getComponent` returns '' for any repeating field, because a repeated field keeps
 * a nested Field per repetition; this walks into the first repetition instead.
 */
function simpleComponent(fields: SimpleField[] | undefined, n: number, c: number): string {
  const field = fields?.[n - 1];
  if (field === undefined) return '';
  let first = field.value[0];
  if (first !== undefined && !Array.isArray(first)) first = first.value[0];
  if (!Array.isArray(first)) return '';
  const v = first[c - 1]?.value[0];
  return str(Array.isArray(v) ? v[0] : v);
}

function simpleHl7(): PeerAdapter {
  const lib = require('simple-hl7') as SimpleHl7;
  const parser = new lib.Parser({ segmentSeperator: '\r' });
  return {
    name: 'simple-hl7',
    version: packageVersion('simple-hl7'),
    tokenizesWholeMessage: true,
    tokenizesReason: 'Parser.parse splits every segment into fields, repetitions, components and subcomponents up front',
    read(text) {
      const m = parser.parse(text);
      // The header's field list starts at MSH-3, so MSH-10 is its 8th entry.
      const pid = m.getSegment('PID')?.fields;
      return {
        msh10: simpleComponent(m.header.fields, 8, 1),
        pid3_1: simpleComponent(pid, 3, 1),
        pid5_1: simpleComponent(pid, 5, 1),
        obr4_1: simpleComponent(m.getSegment('OBR')?.fields, 4, 1),
      };
    },
  };
}

// ---- @medplum/core ----------------------------------------------------------------------

function medplum(): PeerAdapter {
  return {
    name: '@medplum/core',
    version: packageVersion('@medplum/core'),
    tokenizesWholeMessage: true,
    tokenizesReason: 'Hl7Message.parse splits every segment into fields, repetitions and components (subcomponents on read)',
    read(text) {
      const m = MedplumMessage.parse(text);
      const pid = m.getSegment('PID');
      return {
        msh10: m.header.getComponent(10, 1),
        pid3_1: pid?.getComponent(3, 1) ?? '',
        pid5_1: pid?.getComponent(5, 1) ?? '',
        obr4_1: m.getSegment('OBR')?.getComponent(4, 1) ?? '',
      };
    },
  };
}

// ---- node-hl7-client --------------------------------------------------------------------

function nodeHl7Client(): PeerAdapter {
  return {
    name: 'node-hl7-client',
    version: packageVersion('node-hl7-client'),
    tokenizesWholeMessage: false,
    tokenizesReason: 'new Message({ text }) only checks the header; segments, fields and components are split on first access',
    read(text) {
      const m = new NodeHl7Message({ text });
      return {
        msh10: m.get('MSH.10').toString(),
        pid3_1: m.get('PID.3.1').toString(),
        pid5_1: m.get('PID.5.1').toString(),
        obr4_1: m.get('OBR.4.1').toString(),
      };
    },
  };
}

// ---- hl7-standard -----------------------------------------------------------------------

/** hl7-standard's `get`: a string, a list (repetitions), an object (components), or null. */
interface Hl7StandardMessage { transform(cb?: (err: Error | null) => void): void; get(path: string): unknown }
type Hl7StandardCtor = new (raw: string) => Hl7StandardMessage;

function hl7Standard(): PeerAdapter {
  const HL7 = require('hl7-standard') as Hl7StandardCtor;
  const first = (v: unknown): string => str(Array.isArray(v) ? v[0] : v);
  return {
    name: 'hl7-standard',
    version: packageVersion('hl7-standard'),
    tokenizesWholeMessage: true,
    tokenizesReason: 'transform() turns every segment into a JSON object of fields, repetitions, components and subcomponents',
    read(text) {
      const m = new HL7(text);
      m.transform();
      return { msh10: first(m.get('MSH.10')), pid3_1: first(m.get('PID.3.1')), pid5_1: first(m.get('PID.5.1')), obr4_1: first(m.get('OBR.4.1')) };
    },
  };
}

// ---- @redoxengine/redox-hl7-v2 ----------------------------------------------------------

/** Redox's JSON: segment groups by name, segments as `{ [field]: string | { [component]: ... } }`. */
type RedoxNode = { [key: string]: RedoxNode | RedoxNode[] | string | undefined };
interface RedoxV2 { Parser: new () => { parse(text: string): RedoxNode } }

/** Depth-first search for the first segment `name`, through group keys only (fields are numeric keys). */
function redoxFind(node: RedoxNode | RedoxNode[] | string | undefined, name: string): RedoxNode | undefined {
  if (node === undefined || typeof node === 'string') return undefined;
  if (Array.isArray(node)) {
    for (const child of node) {
      const hit = redoxFind(child, name);
      if (hit !== undefined) return hit;
    }
    return undefined;
  }
  const direct = node[name];
  if (direct !== undefined) return redoxFind1(direct);
  for (const key in node) {
    if (key.charCodeAt(0) >= 0x41) {
      const hit = redoxFind(node[key], name);
      if (hit !== undefined) return hit;
    }
  }
  return undefined;
}

function redoxFind1(v: RedoxNode | RedoxNode[] | string): RedoxNode | undefined {
  const one = Array.isArray(v) ? v[0] : v;
  return typeof one === 'object' ? one : undefined;
}

/** Component 1 of a field; composite first components (XPN's FN) hold their subcomponents. */
function redoxComponent1(field: RedoxNode | RedoxNode[] | string | undefined): string {
  const rep = Array.isArray(field) ? field[0] : field;
  if (rep === undefined || typeof rep === 'string') return str(rep);
  const c = rep['1'];
  if (c !== undefined && typeof c === 'object' && !Array.isArray(c)) return str(c['1']);
  return str(c);
}

function redox(): PeerAdapter {
  const lib = require('@redoxengine/redox-hl7-v2') as RedoxV2;
  const parser = new lib.Parser();
  return {
    name: '@redoxengine/redox-hl7-v2',
    version: packageVersion('@redoxengine/redox-hl7-v2'),
    tokenizesWholeMessage: true,
    tokenizesReason: 'schema-driven: every segment the schema knows is split to subcomponents, unescaped and grouped (Z-segments dropped)',
    read(text) {
      const m = parser.parse(text);
      const pid = redoxFind(m, 'PID');
      return {
        msh10: str(redoxFind(m, 'MSH')?.['10']),
        pid3_1: redoxComponent1(pid?.['3']),
        pid5_1: redoxComponent1(pid?.['5']),
        obr4_1: redoxComponent1(redoxFind(m, 'OBR')?.['4']),
      };
    },
  };
}

/** Creates one adapter per peer library, in a fixed order. */
export function createPeers(): PeerAdapter[] {
  return [simpleHl7(), medplum(), nodeHl7Client(), hl7Standard(), redox()];
}
