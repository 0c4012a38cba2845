/**
 * Field paths (INTERFACE.md "Field paths"): `SEG[occ]-FIELD[rep].COMPONENT.SUBCOMPONENT`,
 * all 1-based, occurrence and repetition default to 1: `PID-3.1`, `PID-3[2].4.2`, `OBX[3]-5`.
 * `MSH-1` is the field separator and `MSH-2` the encoding characters.
 */
import { type Hl7Error, ErrCode, Hl7ErrorCode, hl7Error } from './errors.js';

/** A compiled field path. Zero in `field`, `component` or `subcomponent` means "not given". */
export interface FieldPath {
  /** The segment ID as written, e.g. `PID`. */
  readonly segment: string;
  /** The segment ID packed as three bytes (b0 << 16 | b1 << 8 | b2), for fast matching. */
  readonly segmentId: number;
  /** 1-based occurrence of the segment. */
  readonly occurrence: number;
  /** 1-based field number; 0 addresses the whole segment. */
  readonly field: number;
  /** 1-based repetition; 0 when the path has no `[rep]` (then the first repetition is read). */
  readonly repetition: number;
  readonly component: number;
  readonly subcomponent: number;
  /** The path as written. */
  readonly text: string;
}

const PATH = /^([A-Z][A-Z0-9]{2})(?:\[(\d+)\])?(?:-(\d+)(?:\[(\d+)\])?(?:\.(\d+)(?:\.(\d+))?)?)?$/;
const cache = new Map<string, FieldPath>();

/** Packs a three-letter segment ID into an integer. */
export function packSegmentId(id: string): number {
  return (id.charCodeAt(0) << 16) | (id.charCodeAt(1) << 8) | id.charCodeAt(2);
}

/**
 * Compiles a path, or returns an error value describing what is wrong with it.
 * Compiled paths are cached, so calling this with the same text is cheap.
 */
export function compilePath(text: string): FieldPath | Hl7Error {
  const hit = cache.get(text);
  if (hit !== undefined) return hit;
  const m = PATH.exec(text.trim());
  if (m === null) {
    return hl7Error(Hl7ErrorCode.BadPath, `invalid field path '${text}': expected SEG[occ]-FIELD[rep].COMP.SUB, e.g. PID-3[2].4.2`, ErrCode.InternalError);
  }
  const num = (s: string | undefined, dflt: number): number => (s === undefined ? dflt : Number(s));
  const path: FieldPath = Object.freeze({
    segment: m[1]!,
    segmentId: packSegmentId(m[1]!),
    occurrence: num(m[2], 1),
    field: num(m[3], 0),
    repetition: num(m[4], 0),
    component: num(m[5], 0),
    subcomponent: num(m[6], 0),
    text,
  });
  for (const [name, value] of [['occurrence', path.occurrence], ['repetition', m[4] === undefined ? 1 : path.repetition], ['component', m[5] === undefined ? 1 : path.component], ['subcomponent', m[6] === undefined ? 1 : path.subcomponent], ['field', m[3] === undefined ? 1 : path.field]] as const) {
    if (value < 1) return hl7Error(Hl7ErrorCode.BadPath, `invalid field path '${text}': ${name} numbers start at 1`, ErrCode.InternalError);
  }
  if (cache.size < 10_000) cache.set(text, path);
  return path;
}

/** Compiles a path and throws a RangeError if it is invalid (for paths written in code). */
export function path(text: string): FieldPath {
  const p = compilePath(text);
  if ('code' in p) throw new RangeError(p.message);
  return p;
}

/** True when `value` is a compiled path rather than an error. */
export function isFieldPath(value: FieldPath | Hl7Error): value is FieldPath {
  return !('code' in value);
}
