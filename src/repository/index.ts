/**
 * The repository (ARCHITECTURE.md stage 4): patients, visits, orders, reports, attachments and
 * merge history in named LMDB databases (`repo.*`) of an environment shared with the converter,
 * the applier that turns change records into writes and events, and the read queries.
 *
 * Rules the applier follows where DOMAIN.md leaves a choice (details in apply-*.ts):
 * - All or nothing per message: writes go to an overlay and reach the transaction only when
 *   every change is accepted; counters (`P1`, `V1`, `O1`, `R1`, `A1`, merge records `M`) live
 *   in `repo.meta`, so a rejected message consumes no key. Times come only from the message.
 * - Patients match by any identifier's key (identity.ts); identifiers naming two survivors are
 *   205. ADT PID-3 is a snapshot of the patient's own identifiers; an identifier absorbed by a
 *   merge stays on the tombstone. ORM/OMI/ORU/SIU/MDM only add identifiers and fill empty fields.
 * - Out-of-order (quirk 14): a message whose event time is older than the entity's `updatedAt`
 *   fills empty fields, creates what is missing, changes no status and replaces nothing.
 * - A40 per §4.3 (unknown target created from PID, unknown source → merged placeholder, chains
 *   followed, cycles and source = target 205, already-merged sources per `mergedSourcePolicy`);
 *   moved visits/orders/reports are listed in `patient.merged`, not announced one by one.
 * - Orders: accession, else filler, else placer, else Study Instance UID, a weaker key never
 *   overriding a stronger one the message gives; XO with empty ORC-5 keeps the status; cancel
 *   never deletes; SIU changes status only on S15.
 * - Reports: by accession, else filler number (documents by TXA-12); P after F/C/X is kept as a
 *   version without downgrading. Identical repeats (quirk 13) write nothing and emit nothing.
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
