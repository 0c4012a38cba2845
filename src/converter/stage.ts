/**
 * The conversion stage as the engine and the offline commands open it: the repository in
 * `DATA/repository` (src/repository), the event log and the converter's tables in the same
 * environment, and (optionally) a running {@link Converter} following the inbound log.
 */
import { join } from 'node:path';
import type { EngineOptions } from '../config.js';
import { openEventLog, type EventLog } from '../events/log.js';
import type { Logger } from '../log.js';
import type { InboundLog } from '../queue/types.js';
import { openRepository, type Repository } from '../repository/index.js';
import { Applier, type ApplierOptions, type CommittedRange } from './applier.js';
import { Converter } from './converter.js';
import { openDeadLetters, type DeadLetterTable } from './dead-letters.js';
import { openConverterState, type ConverterState } from './state.js';
import { createWorkflows, type Workflows } from '../workflows/index.js';

/** Directory of the repository's LMDB environment under the data directory. */
export function repositoryPath(dataDir: string): string {
  return join(dataDir, 'repository');
}

/** The repository with the tables the converter keeps in its environment. */
export interface ConversionStore {
  repository: Repository;
  events: EventLog;
  deadLetters: DeadLetterTable;
  state: ConverterState;
  /** Pre-fetch and RIS-PACS sync over this store, when the options have a `workflows` section. */
  workflows?: Workflows;
}

/**
 * An applier over `store` with no converter running (reprocessing offline, tests): it starts
 * after the store's cursor and derives the workflow events when the store has workflows.
 * `overrides` replaces any of those settings.
 */
export function offlineApplier(store: ConversionStore, overrides: Partial<ApplierOptions> = {}): Applier {
  return new Applier({
    env: store.repository.env,
    repository: store.repository,
    events: store.events,
    deadLetters: store.deadLetters,
    state: store.state,
    startAfter: store.state.cursor(),
    onCommitted: () => {},
    ...(store.workflows !== undefined ? { derive: store.workflows.derive } : {}),
    ...overrides,
  });
}

/** Opens the repository and the converter's tables (no converter running). */
export async function openConversionStore(
  options: Pick<EngineOptions, 'dataDir' | 'mapping' | 'repository'> & Partial<Pick<EngineOptions, 'workflows'>>,
): Promise<ConversionStore> {
  const repository = await openRepository({
    path: repositoryPath(options.dataDir),
    identity: options.mapping.identity,
    policies: options.repository.policies,
  });
  const events = openEventLog(repository.env);
  return {
    repository,
    events,
    deadLetters: openDeadLetters(repository.env),
    state: openConverterState(repository.env),
    ...(options.workflows !== undefined ? { workflows: createWorkflows(repository, events, options.workflows) } : {}),
  };
}

/** What {@link startConverter} needs besides the store. */
export interface StartConverterDeps {
  log: Pick<InboundLog, 'lastSeq' | 'firstSeq' | 'setCursor'>;
  inboundPath: string;
  logger: Logger;
  mirrorCursor?: boolean;
  onCommitted?: (range: CommittedRange) => void;
}

/** Starts a converter over `store` with the engine's converter and mapping options. */
export function startConverter(
  options: Pick<EngineOptions, 'converter' | 'mapping'>,
  store: ConversionStore,
  deps: StartConverterDeps,
): Converter {
  return new Converter(options.converter, {
    log: deps.log,
    inboundPath: deps.inboundPath,
    repository: store.repository,
    events: store.events,
    mapping: options.mapping,
    logger: deps.logger,
    ...(deps.mirrorCursor !== undefined ? { mirrorCursor: deps.mirrorCursor } : {}),
    ...(deps.onCommitted !== undefined ? { onCommitted: deps.onCommitted } : {}),
    ...(store.workflows !== undefined ? { derive: store.workflows.derive } : {}),
  });
}
