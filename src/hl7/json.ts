/**
 * A parsed message as JSON (`pacslink parse --json`): `{ segments: [{ id, fields }] }` where
 * `fields[n - 1]` is field n of the segment (for MSH, `fields[0]` is MSH-1). A value is:
 * a string (a decoded leaf), `null` (the HL7 null `""`), an array of components when the
 * value has components, an array of subcomponents inside a component, and
 * `{ "repetitions": [...] }` for a field with more than one repetition.
 */
import { Render } from './escape.js';
import { type Hl7Message, Presence } from './message.js';

/** A JSON value of one field, repetition, component or subcomponent. */
export type JsonValue = string | null | JsonValue[] | { repetitions: JsonValue[] };

/** The JSON form of a segment. */
export interface JsonSegment {
  id: string;
  fields: JsonValue[];
}

/** Converts a parsed message to JSON-ready data (see the module comment for the shape). */
export function messageToJson(msg: Hl7Message, render: Render = Render.Raw): { segments: JsonSegment[] } {
  const segments: JsonSegment[] = [];
  for (let s = 0; s < msg.segmentCount; s++) {
    const fields: JsonValue[] = [];
    const n = msg.fieldCount(s);
    for (let f = 1; f <= n; f++) fields.push(fieldToJson(msg, s, f, render));
    segments.push({ id: msg.segmentName(s), fields });
  }
  return { segments };
}

function leaf(msg: Hl7Message, s: number, f: number, r: number, c: number, sub: number, render: Render): string | null {
  return msg.presenceAt(s, f, r, c, sub) === Presence.Null ? null : msg.value(s, f, r, c, sub, render);
}

function fieldToJson(msg: Hl7Message, s: number, f: number, render: Render): JsonValue {
  const header = f <= 2 && (msg.segmentName(s) === 'MSH' || msg.segmentName(s) === 'FHS' || msg.segmentName(s) === 'BHS');
  if (header) return msg.value(s, f, 0, 0, 0);
  const reps = msg.repetitionCount(s, f);
  if (reps <= 1) return repetitionToJson(msg, s, f, 1, render);
  const out: JsonValue[] = [];
  for (let r = 1; r <= reps; r++) out.push(repetitionToJson(msg, s, f, r, render));
  return { repetitions: out };
}

function repetitionToJson(msg: Hl7Message, s: number, f: number, r: number, render: Render): JsonValue {
  const comps = msg.componentCount(s, f, r);
  if (comps <= 1) return componentToJson(msg, s, f, r, 1, render);
  const out: JsonValue[] = [];
  for (let c = 1; c <= comps; c++) out.push(componentToJson(msg, s, f, r, c, render));
  return out;
}

function componentToJson(msg: Hl7Message, s: number, f: number, r: number, c: number, render: Render): JsonValue {
  const subs = msg.subcomponentCount(s, f, r, c);
  if (subs <= 1) return leaf(msg, s, f, r, c, 0, render) ?? null;
  const out: JsonValue[] = [];
  for (let k = 1; k <= subs; k++) out.push(leaf(msg, s, f, r, c, k, render));
  return out;
}
