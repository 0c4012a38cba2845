/**
 * The workflows stage (ARCHITECTURE.md stage 6): pre-fetch of relevant priors and RIS-PACS
 * synchronisation. {@link createWorkflows} builds, over the repository's environment:
 * - `derive`, the applier's per-message hook (derive.ts) emitting per-order
 *   `prefetch.requested` and `sync.requested` in the message's own transaction;
 * - `daily`, the daily pre-fetch run (daily.ts) and `api`, the {@link WorkflowsApi} the
 *   gateway and `pacslink prefetch` call;
 * - `scheduler(...)`, the daily scheduler (scheduler.ts) the engine starts and stops.
 */
import type { EventLog } from '../events/log.js';
import type { Repository } from '../repository/index.js';
import { DailyPrefetch } from './daily.js';
import { createDeriver, type Deriver } from './derive.js';
import type { WorkflowsOptions } from './options.js';
import { DailyScheduler, type DailySchedulerDeps } from './scheduler.js';
import { WorkflowsState } from './state.js';
import type { WorkflowsApi } from './types.js';

export type { PrefetchRunResult, WorkflowsApi } from './types.js';
export type { DeriveInput, Deriver } from './derive.js';
export type { SchedulerClock } from './scheduler.js';
export * from './options.js';
export type * from './payloads.js';
export type { DicomChange, DicomTruncation, DicomValue, OtherPatientIdItem, CodeItem } from './dicom.js';

/** The workflows of one repository environment. */
export interface Workflows {
  readonly options: WorkflowsOptions;
  readonly derive: Deriver;
  readonly daily: DailyPrefetch;
  readonly state: WorkflowsState;
  readonly api: WorkflowsApi;
  /** A daily scheduler over this repository (not started). */
  scheduler(deps?: Pick<DailySchedulerDeps, 'clock' | 'beforeRun' | 'onRun'>): DailyScheduler;
}

/** Builds the workflows over `repository` (its environment holds `wf.state`) and its event log. */
export function createWorkflows(repository: Repository, events: EventLog, options: WorkflowsOptions, deps: { now?: () => number } = {}): Workflows {
  const state = new WorkflowsState(repository.env);
  const daily = new DailyPrefetch({ env: repository.env, view: repository, events, state, options, ...(deps.now !== undefined ? { now: deps.now } : {}) });
  return {
    options,
    derive: createDeriver(repository, state, options),
    daily,
    state,
    api: {
      runPrefetch: (date: string) => {
        try {
          return Promise.resolve(daily.run(date));
        } catch (err) {
          return Promise.reject(err as Error);
        }
      },
    },
    scheduler: (more = {}) => new DailyScheduler({ daily, state, options: options.prefetch, ...more }),
  };
}
