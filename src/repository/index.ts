/**
 * The repository (ARCHITECTURE.md stage 4): patients, visits, orders, reports, attachments and
 * merge history in named LMDB databases (`repo.*`) of an environment shared with the converter,
 * the applier that turns change records into writes and events, and the read queries.
 */
import fs from 'node:fs';
import { open, type RootDatabase } from 'lmdb';
import type { Change, MessageContext } from '../converter/changes.js';
import type { NewEvent } from '../events/types.js';
import { applyMessage, type ApplyOutcome } from './apply.js';
import { repositoryDigest } from './digest.js';
import { resolveRepositoryOptions, type RepositoryOptions, type RepositoryPolicies } from './options.js';
import { Queries } from './queries.js';
import { DbName, openStores, type Stores } from './store.js';

export type { ApplyOutcome } from './apply.js';
export { RepositoryErrorCode } from './apply-context.js';
export {
  defaultRepositoryPolicies,
  MergedSourcePolicy,
  UnknownOrderCancelPolicy,
  type RepositoryOptions,
  type RepositoryPolicies,
} from './options.js';
export type { ListOptions, OrderQuery, Page, PatientQuery, ReportQuery, ResolvedPatient } from './queries.js';
export { DbName as RepositoryDbName } from './store.js';

/** The repository: storage, applier and queries (see the module comment). */
export class Repository extends Queries {
  /** The LMDB environment, shared with the converter (its own named DBs live beside `repo.*`). */
  readonly env: RootDatabase;
  /** The effective policies. */
  readonly policies: Readonly<RepositoryPolicies>;
  readonly #stores: Stores;
  readonly #apply: (result: { context: MessageContext; changes: readonly Change[] }, seq: number, emit: (e: NewEvent) => void) => ApplyOutcome;

  constructor(env: RootDatabase, stores: Stores, options: ReturnType<typeof resolveRepositoryOptions>) {
    super(stores, options.identity);
    this.env = env;
    this.policies = options.policies;
    this.#stores = stores;
    const deps = { env, stores, identity: options.identity, policies: options.policies };
    this.#apply = (result, seq, emit) => applyMessage(deps, result, seq, emit);
  }

  /**
   * Applies one message's changes (DOMAIN.md §4), all or nothing. Call it inside the
   * converter's write transaction (`env.transactionSync`), once per message in seq order;
   * events go to `emit` in order, only when the message is accepted.
   */
  apply(result: { context: MessageContext; changes: readonly Change[] }, messageSeq: number, emit: (e: NewEvent) => void): ApplyOutcome {
    return this.#apply(result, messageSeq, emit);
  }

  /** SHA-256 (hex) over every `repo.*` database's keys and values in key order. */
  digest(): string {
    return repositoryDigest(this.#stores);
  }

  /** Empties every `repo.*` database (counters included) in one transaction (for rebuild). */
  clearAll(): void {
    this.env.transactionSync(() => {
      for (const name of Object.values(DbName)) this.#stores[name].clearSync();
    });
  }

  /** Closes the environment. */
  async close(): Promise<void> {
    await this.env.close();
  }
}

/**
 * Opens the repository in its own LMDB environment at `options.path` (created if missing).
 * Throws `TypeError`/`RangeError` for invalid options.
 */
export async function openRepository(options: RepositoryOptions): Promise<Repository> {
  const resolved = resolveRepositoryOptions(options);
  await fs.promises.mkdir(resolved.path, { recursive: true });
  const env = open({ path: resolved.path, maxDbs: 64 });
  return new Repository(env, openStores(env), resolved);
}
