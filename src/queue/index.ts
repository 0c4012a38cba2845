/** The inbound log stage: its port, the LMDB adapter and the dedup helpers. */
export type {
  AppendOutcome,
  InboundLog,
  InboundRecord,
  InboundRecordInput,
  InboundRecordMeta,
  RetentionOptions,
} from './types.js';
export { AppendRejectCode } from './types.js';
export { openLmdbInboundLog, type LmdbInboundLog } from './lmdb-log.js';
export { lmdbInboundLogDefaults, type LmdbInboundLogOptions } from './options.js';
export type { RetentionResult } from './retention.js';
export { dedupKeyOf, hashBody } from './dedup.js';
export { DbName } from './schema.js';
export { viewRaw } from './raw-view.js';
