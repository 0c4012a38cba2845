/**
 * pacslink's public API: what users may import from `pacslink`. Deep imports are blocked by
 * the package's `exports` map.
 */
export * from './hl7/index.js';
export { PacslinkError, UsageError, type PlainError } from './errors.js';
export { startEngine, type Engine, type EnginePorts } from './engine.js';
export {
  type EngineOptions,
  type EngineInput,
  type ListenerOptions,
  type ListenerTlsOptions,
  ENGINE_DEFAULTS,
  LISTENER_DEFAULTS,
  resolveEngineOptions,
  loadConfigFile,
} from './config.js';
export { MllpFramer, FrameErrorReason, type MllpFramerOptions, type FramerHandlers } from './listener/framer.js';
export type { InboundLog, InboundRecord, InboundRecordInput, AppendOutcome } from './queue/types.js';
export type { EngineEvent, NewEvent } from './events/types.js';
export { EventType } from './events/types.js';
export type { EventLog } from './events/log.js';
export type { ConverterOptions } from './config.js';
export type { Converter, ConversionOutcome, ConverterStats } from './converter/converter.js';
export type { DeadLetter } from './converter/dead-letters.js';
