/**
 * Content negotiation on `Accept` (RFC 9110 §12.5.1): media ranges with q-values, the most
 * specific range that matches an offered type giving its q; the offered type with the
 * highest q above 0 wins, ties going to the order of the offer.
 */

interface MediaRange {
  type: string;
  subtype: string;
  q: number;
}

/** Most media ranges read from one header (the rest are ignored). */
const MAX_RANGES = 64;

function parseAccept(header: string): MediaRange[] {
  const out: MediaRange[] = [];
  for (const part of header.split(',').slice(0, MAX_RANGES)) {
    const [range = '', ...params] = part.split(';');
    const m = /^\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\/([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*$/.exec(range);
    if (m === null) continue;
    let q = 1;
    for (const p of params) {
      const qm = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/i.exec(p);
      if (qm !== null) q = Math.min(1, Number(qm[1]));
    }
    out.push({ type: m[1]!.toLowerCase(), subtype: m[2]!.toLowerCase(), q });
  }
  return out;
}

/**
 * The offered media type (`type/subtype`, lower case) the client prefers, `offers[0]` when
 * there is no `Accept` header, or undefined when the client accepts none of them (406).
 */
export function negotiate(accept: string | undefined, offers: readonly string[]): string | undefined {
  if (accept === undefined || accept.trim() === '') return offers[0];
  const ranges = parseAccept(accept);
  let best: string | undefined;
  let bestQ = 0;
  for (const offer of offers) {
    const [type, subtype] = offer.split('/') as [string, string];
    let q = -1;
    let specificity = -1;
    for (const r of ranges) {
      const s = r.type === type && r.subtype === subtype ? 2 : r.type === type && r.subtype === '*' ? 1 : r.type === '*' && r.subtype === '*' ? 0 : -1;
      if (s > specificity) {
        specificity = s;
        q = r.q;
      }
    }
    if (q > bestQ) {
      best = offer;
      bestQ = q;
    }
  }
  return best;
}
