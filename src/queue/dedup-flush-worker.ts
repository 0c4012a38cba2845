/**
 * The dedup index's flush worker: a thread that merges the (key hash, seq) pairs of the
 * records the main thread has committed into the index (dedup-index.ts), so that the main
 * thread, which frames, stores and acknowledges messages, spends no time on them. Same LMDB
 * environment as the log (lmdb-js shares one environment between the threads of a process);
 * LMDB's write lock orders its transactions with the log's group commits. (An environment of
 * its own, with its own write lock, was built and measured: no faster, so not worth a layout
 * change.)
 *
 * At start it adds every hash already in the index to the shared filter (hash-filter.ts) and
 * marks it ready; each merge adds its hashes too.
 *
 * Protocol: the main thread posts `{ pairs, through }` (`pairs` transferred); the worker
 * answers `{ through }` once the pairs and `dedupIndexedThrough = through` have committed, or
 * `{ error }`. `{ close: true }` closes the worker's environment handle and ends the thread.
 */
import { open } from 'lmdb';
import { parentPort, workerData } from 'node:worker_threads';
import { dedupMergeSlices } from './dedup-entries.js';
import { HashFilter, type HashFilterMemory } from './hash-filter.js';
import { DbName } from './schema.js';

/** What the worker is started with. */
export interface DedupFlushWorkerData {
  path: string;
  filter: HashFilterMemory;
}

/** A flush request, or the request to close the environment and end. */
export type DedupFlushRequest = { pairs: Uint32Array; through: number } | { close: true };

/** A flush answer. */
export type DedupFlushReply = { through: number } | { error: string };

const data = workerData as DedupFlushWorkerData;
const { path } = data;
const root = open({ path, maxDbs: 16 });
const records = root.openDB<Buffer, number>(DbName.Raw, { keyEncoding: 'uint32', encoding: 'binary' });
const dedup = root.openDB<Buffer, number>(DbName.Dedup, { keyEncoding: 'uint32', encoding: 'binary' });
const state = root.openDB<number, string>(DbName.State, { encoding: 'msgpack' });
const filter = new HashFilter(data.filter);
// Before any merge request is read: the requests wait in the port meanwhile.
for (const hash of dedup.getKeys()) filter.add(hash);
filter.markReady();

parentPort!.on('message', (request: DedupFlushRequest) => {
  if ('close' in request) {
    // Closing its handle lets lmdb-js release the environment once the log closes its own.
    void root.close().finally(() => parentPort!.close());
    return;
  }
  let reply: DedupFlushReply;
  try {
    // One transaction per slice: LMDB's write lock is free between them for the log's commits.
    for (const slice of dedupMergeSlices({ records, dedup, state, filter }, request.pairs, request.through)) root.transactionSync(slice);
    reply = { through: request.through };
  } catch (error) {
    reply = { error: error instanceof Error ? error.message : String(error) };
  }
  parentPort!.postMessage(reply);
});
