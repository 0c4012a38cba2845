/**
 * The converter's Piscina worker (ARCHITECTURE.md stage 3). Each worker opens the inbound
 * log's LMDB environment read-only once, keeps one {@link Hl7Message} and, for a task
 * `{fromSeq, toSeq}`, reads each message's bytes in place from LMDB's buffer (`viewRaw`, no
 * copy), parses and maps them with the pure mapping functions and returns plain results.
 * No message bytes cross the thread boundary: only the change records (structured clone).
 *
 * Piscina loads it through the CommonJS shim worker-entry.cts (see there why).
 *
 * Parse and map are timed apart (`performance.now()` around each, ~0.1 µs of overhead per
 * message) so the converter can report where its time goes.
 */
import { open, type Database } from 'lmdb';
import { performance } from 'node:perf_hooks';
import { workerData } from 'node:worker_threads';
import { Hl7Message, readHeader } from '../hl7/index.js';
import { DbName, viewRaw } from '../queue/index.js';
import { mapBytes, mapMessage, type MappingOptions } from './map/index.js';
import type { ConvertTask, ConvertedItem, ConvertReply, WorkerConfig } from './work.js';

const config = workerData as WorkerConfig;
const env = open({ path: config.inboundPath, readOnly: true, maxDbs: 16 });
const raw: Database<Buffer, number> = env.openDB<Buffer, number>(DbName.Raw, { encoding: 'binary', keyEncoding: 'uint32' });
const mapping = config.mapping as MappingOptions;
const parser = new Hl7Message();

/** Converts the messages `fromSeq..toSeq` (inclusive). */
export default function convert(task: ConvertTask): ConvertReply {
  const t0 = performance.now();
  // A read transaction is a snapshot: start a fresh one so records appended since the
  // last task are visible.
  env.resetReadTxn();
  const items: ConvertedItem[] = [];
  let parseNs = 0;
  for (let seq = task.fromSeq; seq <= task.toSeq; seq++) {
    // The view is valid only until the next read in this thread: everything below is done
    // with it before the next `viewRaw`.
    const bytes = viewRaw(raw, seq);
    if (bytes === undefined) {
      items.push({ seq, result: { kind: 'missing' }, ns: 0 });
      continue;
    }
    const p0 = performance.now();
    let failed: unknown;
    try {
      failed = parser.parse(bytes);
    } catch (err) {
      failed = err;
    }
    const p1 = performance.now();
    // A parse failure is turned into its conversion error by mapBytes (which parses again:
    // failures are rare).
    const result: ConvertedItem['result'] = failed === undefined ? mapMessage(parser, mapping) : mapBytes(bytes, mapping, parser);
    const p2 = performance.now();
    parseNs += Math.round((p1 - p0) * 1e6);
    const item: ConvertedItem = { seq, result, ns: Math.round((p2 - p0) * 1e6) };
    if (result.kind === 'error') {
      // For the dead letter: the header fields, read from the bytes still in view.
      const h = readHeader(bytes);
      item.messageType = h.header?.messageType ?? '';
      item.controlId = h.header?.controlId ?? '';
    }
    items.push(item);
  }
  return { fromSeq: task.fromSeq, toSeq: task.toSeq, items, parseNs, ns: Math.round((performance.now() - t0) * 1e6) };
}
