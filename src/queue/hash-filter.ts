/**
 * A filter of the key hashes in `inbound.dedup-hash`, shared between the main thread and the
 * dedup flush worker (dedup-index.ts): one bit per value of a hash's top
 * {@link FILTER_BITS_LOG2} bits, in a `SharedArrayBuffer`. A clear bit means no key with that
 * hash is in the index, so a new message's key is not looked up in LMDB at all.
 *
 * Why: once the index holds many keys, the lookup of a key that is not there (nearly every
 * message) cost ≈1.8 µs of main-thread time per message at C = 64 with 1 M keys indexed
 * (per-thread CPU, 30 s runs), about 10 % of durable ingest throughput.
 *
 * The filter answers "maybe" for every hash until it is ready: the worker sets the bits of
 * every hash already in the index (one scan of its keys) and only then marks it ready. An
 * index that is empty when the log opens needs no scan and is ready at once (dedup-index.ts).
 * Whoever merges into the index sets the bits of the merged hashes before committing, while
 * those keys are still held in memory, so no key is ever in neither place. Bits are never
 * cleared (retention removing an entry leaves its bit set), which only costs lookups: with
 * N hashes set, a new key is looked up with probability ≈ N / 2^27 (0.8 % at 1 M keys). A
 * restart starts from a fresh scan.
 */

/** log2 of the filter's bits: 2^27 bits, 16 MiB. */
export const FILTER_BITS_LOG2 = 27;
const READY = 1;

/** The shared memory of a {@link HashFilter}, passed to the worker. */
export interface HashFilterMemory {
  bits: SharedArrayBuffer;
  state: SharedArrayBuffer;
}

/** A bit filter of 32-bit hashes in shared memory. */
export class HashFilter {
  readonly memory: HashFilterMemory;
  readonly #words: Uint32Array;
  readonly #state: Int32Array;

  constructor(memory: HashFilterMemory = { bits: new SharedArrayBuffer(1 << (FILTER_BITS_LOG2 - 3)), state: new SharedArrayBuffer(4) }) {
    this.memory = memory;
    this.#words = new Uint32Array(memory.bits);
    this.#state = new Int32Array(memory.state);
  }

  add(hash: number): void {
    const bit = hash >>> (32 - FILTER_BITS_LOG2);
    Atomics.or(this.#words, bit >>> 5, 1 << (bit & 31));
  }

  /** False only when no hash like `hash` was added and the filter is ready. */
  mayHave(hash: number): boolean {
    if (Atomics.load(this.#state, 0) !== READY) return true;
    const bit = hash >>> (32 - FILTER_BITS_LOG2);
    return (this.#words[bit >>> 5]! & (1 << (bit & 31))) !== 0;
  }

  get ready(): boolean {
    return Atomics.load(this.#state, 0) === READY;
  }

  /** Marks the filter complete: every hash in the index has been added. */
  markReady(): void {
    Atomics.store(this.#state, 0, READY);
  }
}
