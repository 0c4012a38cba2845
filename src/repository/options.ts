/**
 * Repository options and policies: one frozen defaults object, validated once at
 * {@link openRepository} with exact messages (STYLE.md).
 */
import type { IdentityOptions } from './identity.js';

/** What to do when an A40 names a source that is already merged (DOMAIN.md §4.3, quirk 16). */
export const MergedSourcePolicy = {
  /** Any merge of an already-merged source is rejected (AE 205). */
  Reject: 'reject',
  /**
   * Merging an already-merged source into the survivor it already resolves to is a no-op
   * (a resent or repeated A40); into any other patient it is rejected (AE 205).
   */
  IgnoreDuplicate: 'ignore-duplicate',
  /**
   * As `ignore-duplicate`, and in addition an inverse merge is accepted: after A→B (A is a
   * tombstone pointing at B), an A40 that merges B into A revives A, moves everything B holds
   * (its own visits, orders and reports, including those it received from A) to A and makes
   * B the tombstone pointing at A. Under the other policies that message is a cycle (the
   * target resolves to the source) and is rejected with 205.
   */
  AcceptInverse: 'accept-inverse',
} as const;
export type MergedSourcePolicy = (typeof MergedSourcePolicy)[keyof typeof MergedSourcePolicy];

/** What to do with CA/DC/OC (or SIU S15) for an order the repository has never seen (quirk 23). */
export const UnknownOrderCancelPolicy = {
  /** Create the order in its cancelled/discontinued state, so a later NW/XO finds it cancelled. */
  Upsert: 'upsert',
  /** Reject the message (AE 204, code `UNKNOWN_ORDER`). */
  Reject: 'reject',
} as const;
export type UnknownOrderCancelPolicy = (typeof UnknownOrderCancelPolicy)[keyof typeof UnknownOrderCancelPolicy];

/** Policies where DOMAIN.md leaves the choice to the site. */
export interface RepositoryPolicies {
  /**
   * Create a patient first mentioned by a message that does not register one (A08, A31,
   * A02/A03…, ORM/OMI, ORU, SIU, MDM, A24/A37, A47 with an unknown source), as dcm4chee does.
   * `false` rejects such a message with AE 204 (`UNKNOWN_PATIENT`). A01/A04/A05/A28 always
   * create, and an A40 always creates its unknown target (DOMAIN.md §4.3). Default `true`.
   */
  createUnknownPatients: boolean;
  /** See {@link MergedSourcePolicy}. Default `'ignore-duplicate'`. */
  mergedSourcePolicy: MergedSourcePolicy;
  /** See {@link UnknownOrderCancelPolicy}. Default `'upsert'`. */
  unknownOrderCancel: UnknownOrderCancelPolicy;
}

/** The default policies. */
export const defaultRepositoryPolicies: Readonly<RepositoryPolicies> = Object.freeze({
  createUnknownPatients: true,
  mergedSourcePolicy: 'ignore-duplicate',
  unknownOrderCancel: 'upsert',
});

/** Options of {@link openRepository}. */
export interface RepositoryOptions {
  /** Directory of the LMDB environment (its own, e.g. `DATA/repository`); created if missing. */
  path: string;
  /** Identifier normalisation and authority aliases (src/repository/identity.ts). Default none. */
  identity?: IdentityOptions;
  /** Site policies; each absent field takes its default from {@link defaultRepositoryPolicies}. */
  policies?: Partial<RepositoryPolicies>;
}

/** Options after validation and defaulting. */
export interface ResolvedRepositoryOptions {
  path: string;
  identity: IdentityOptions;
  policies: Readonly<RepositoryPolicies>;
}

/** Validates the options; throws `TypeError`/`RangeError` with an exact message. */
export function resolveRepositoryOptions(options: RepositoryOptions): ResolvedRepositoryOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('repository options must be an object');
  if (typeof options.path !== 'string' || options.path === '') throw new TypeError('repository.path must be a non-empty string');
  const p = { ...defaultRepositoryPolicies, ...(options.policies ?? {}) };
  if (typeof p.createUnknownPatients !== 'boolean') {
    throw new TypeError('repository.policies.createUnknownPatients must be a boolean');
  }
  if (!Object.values(MergedSourcePolicy).includes(p.mergedSourcePolicy)) {
    throw new RangeError("repository.policies.mergedSourcePolicy must be 'reject', 'ignore-duplicate' or 'accept-inverse'");
  }
  if (!Object.values(UnknownOrderCancelPolicy).includes(p.unknownOrderCancel)) {
    throw new RangeError("repository.policies.unknownOrderCancel must be 'upsert' or 'reject'");
  }
  const identity = options.identity ?? {};
  if (identity === null || typeof identity !== 'object') throw new TypeError('repository.identity must be an object');
  return { path: options.path, identity, policies: Object.freeze(p) };
}
