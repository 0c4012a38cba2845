/**
 * Canonical JSON: object keys sorted, `undefined` properties left out, binary as base64.
 * Used to compare entities (is this update a no-op?) and by the digest, so that neither
 * depends on the order in which properties were assigned.
 */
export function canonical(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value !== 'object') return JSON.stringify(value);
  if (value instanceof Uint8Array) return JSON.stringify({ $bytes: Buffer.from(value).toString('base64') });
  if (Array.isArray(value)) return '[' + value.map((v) => canonical(v)).join(',') + ']';
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();
  return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonical(o[k])).join(',') + '}';
}

/** Whether two plain values are equal, ignoring property order and the listed top-level keys. */
export function sameData(a: object, b: object, ignore: readonly string[] = []): boolean {
  if (ignore.length === 0) return canonical(a) === canonical(b);
  const strip = (x: object): Record<string, unknown> => {
    const c: Record<string, unknown> = { ...(x as Record<string, unknown>) };
    for (const k of ignore) delete c[k];
    return c;
  };
  return canonical(strip(a)) === canonical(strip(b));
}
