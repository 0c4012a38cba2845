/**
 * What travels between the converter's main thread and its workers: plain data only
 * (structured clone), never message bytes.
 */
import type { MappingResult } from './changes.js';

/** `workerData` of a converter worker. */
export interface WorkerConfig {
  /** Directory of the inbound log's LMDB environment (opened read-only). */
  inboundPath: string;
  /** Resolved mapping options (`MappingOptions` of src/converter/map). */
  mapping: unknown;
}

/** A task: convert the messages `fromSeq..toSeq`, both inclusive. */
export interface ConvertTask {
  fromSeq: number;
  toSeq: number;
}

/** The outcome of one message. `missing`: no record under this seq (removed by retention). */
export interface ConvertedItem {
  seq: number;
  result: MappingResult | { kind: 'missing' };
  /** Time spent in parse + map, nanoseconds. */
  ns: number;
  /** MSH-9 and MSH-10 in wire form, set when the result is an error (for the dead letter). */
  messageType?: string;
  controlId?: string;
}

/** A worker's answer to a {@link ConvertTask}. */
export interface ConvertReply {
  fromSeq: number;
  toSeq: number;
  /** One item per seq, in seq order. */
  items: ConvertedItem[];
  /** Parse time of the task's messages (sum; part of the items' `ns`), ns. */
  parseNs: number;
  /** Wall time of the whole task in the worker, ns. */
  ns: number;
}
