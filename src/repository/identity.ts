/**
 * Patient identity: one documented normalisation of identifiers (DOMAIN.md §4.1, §6 quirks
 * 17 and 18), shared by the mappers (which build {@link Identifier}s from CX values) and the
 * repository (which indexes and matches them).
 *
 * Normal form of an identifier:
 * - `id`: CX-1 with surrounding white space removed; case and leading zeros are kept (an MRN
 *   `00123` is not `123`: sites that mean otherwise configure `stripLeadingZeros`).
 * - `authority`: HD-1 (namespace ID) trimmed; when the sender gave only HD-2, the universal
 *   ID. `authorityUid`/`authorityUidType` keep HD-2/HD-3.
 * - an empty CX-4 takes the sender's configured default authority, if any.
 *
 * Matching key: `id` + U+001F + the canonical authority, where aliases (configuration) map
 * any namespace or universal ID to one canonical name. Without aliases `HOSP` and
 * `HOSP&1.2.3&ISO` match (same namespace), and `&1.2.3&ISO` matches them only once
 * `1.2.3` is aliased to `HOSP`.
 */
import type { Identifier } from './model.js';

/** Identity options (part of the engine configuration). */
export interface IdentityOptions {
  /** Namespace IDs and universal IDs mapped to one canonical authority name. Default none. */
  authorityAliases?: Readonly<Record<string, string>>;
  /** Authorities whose IDs lose their leading zeros before matching and storing. Default none. */
  stripLeadingZeros?: readonly string[];
}

/** Builds an identifier from CX components (already decoded). Returns undefined when CX-1 is empty. */
export function makeIdentifier(
  id: string,
  namespace: string,
  universalId: string,
  universalIdType: string,
  type: string,
  options: IdentityOptions = {},
): Identifier | undefined {
  let value = id.trim();
  if (value === '' || value === '""') return undefined;
  const ns = namespace.trim();
  const uid = universalId.trim();
  const authority = ns !== '' ? ns : uid;
  if (options.stripLeadingZeros?.includes(canonicalAuthority(authority, uid, options)) === true) {
    value = value.replace(/^0+(?=.)/, '');
  }
  return { id: value, authority, authorityUid: uid, authorityUidType: universalIdType.trim(), type: type.trim() };
}

/** The canonical authority of an identifier: an alias of the namespace or of the universal ID, else the authority itself. */
export function canonicalAuthority(authority: string, authorityUid: string, options: IdentityOptions = {}): string {
  const aliases = options.authorityAliases;
  if (aliases !== undefined) {
    const a = aliases[authority] ?? (authorityUid !== '' ? aliases[authorityUid] : undefined);
    if (a !== undefined) return a;
  }
  return authority;
}

/** The matching key of an identifier (see the module comment). */
export function identifierKey(identifier: Identifier, options: IdentityOptions = {}): string {
  return `${identifier.id}\u001f${canonicalAuthority(identifier.authority, identifier.authorityUid, options)}`;
}

/**
 * Whether an `authority` query (INTERFACE.md: namespace ID, universal ID or whole HD) names
 * this identifier's authority.
 */
export function authorityMatches(identifier: Identifier, query: string, options: IdentityOptions = {}): boolean {
  const q = query.trim();
  if (q === '') return true;
  const parts = q.split('&');
  const candidates = new Set([identifier.authority, identifier.authorityUid, canonicalAuthority(identifier.authority, identifier.authorityUid, options)]);
  if (parts.length > 1) {
    const [ns = '', uid = ''] = parts;
    return (ns === '' || candidates.has(ns)) && (uid === '' || identifier.authorityUid === uid);
  }
  return candidates.has(q) || canonicalAuthority(q, '', options) === canonicalAuthority(identifier.authority, identifier.authorityUid, options);
}
