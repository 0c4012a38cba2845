/**
 * MLLP framing as a byte-level state machine (DOMAIN.md §1.1).
 *
 * A frame is `0x0B payload 0x1C 0x0D`. The framer is fed whatever TCP delivers: part of a
 * frame, several frames, or bytes outside frames. It never re-scans bytes it has seen and
 * never buffers more than `maxFrameBytes` of one payload: a frame whose payload lies inside
 * one chunk is handed on as a view of that chunk (no copy); a frame spread over several
 * chunks keeps views of its pieces and is copied once, when it ends.
 *
 * Rules:
 * - bytes outside a frame are discarded and reported through `onJunk` (typically the CR/LF a
 *   sender writes after `1C 0D`);
 * - `0x0B` inside an open frame means the sender gave up on it: the partial frame is dropped
 *   (`onFrameError('restarted')`) and a new frame starts;
 * - `0x1C` followed by anything but `0x0D` is a bad end block. In tolerant mode `1C 0B` ends
 *   the frame and starts the next one, and `1C` then end of stream ends the frame; otherwise,
 *   and for any other byte after `1C`, the frame is dropped (`onFrameError('bad-end-block')`);
 * - a payload longer than `maxFrameBytes` stops being buffered at once; the rest of the frame
 *   is skipped and, when its end arrives, `onOversized` receives the first bytes of the
 *   payload (enough to read the MSH segment and answer it).
 */

const VT = 0x0b;
const FS = 0x1c;
const CR = 0x0d;

/** Reasons a frame was dropped, used as the `reason` label of `mllp_frame_errors_total`. */
export const FrameErrorReason = {
  /** `0x0B` arrived inside an open frame. */
  Restarted: 'restarted',
  /** `0x1C` not followed by `0x0D` (and not accepted by tolerant mode). */
  BadEndBlock: 'bad-end-block',
  /** The payload passed `maxFrameBytes`. */
  Oversized: 'oversized',
  /** The stream ended, or the incomplete-frame timeout fired, inside a frame. */
  Incomplete: 'incomplete',
} as const;
export type FrameErrorReason = (typeof FrameErrorReason)[keyof typeof FrameErrorReason];

/** What the framer reports to its owner. */
export interface FramerHandlers {
  /** A complete payload (without `0x0B`/`0x1C 0x0D`). It may be a view of the fed chunk. */
  onFrame(payload: Uint8Array): void;
  /** `count` bytes outside any frame were discarded. */
  onJunk(count: number): void;
  /** An oversized frame ended; `head` holds its first bytes, `size` its full payload length. */
  onOversized(head: Uint8Array, size: number): void;
  /** A partial frame was dropped for `reason` (never `oversized`: see `onOversized`). */
  onFrameError(reason: FrameErrorReason): void;
}

/** Options of {@link MllpFramer}. */
export interface MllpFramerOptions {
  /** Largest payload accepted, in bytes. */
  maxFrameBytes: number;
  /** Accept `1C 0B` and `1C` + end of stream as the end of a frame. Default false. */
  tolerantEndBlock?: boolean;
  /** Bytes of an oversized frame kept for its answer. Default 4096. */
  oversizedHeadBytes?: number;
}

const State = {
  Outside: 0,
  InFrame: 1,
  AfterFs: 2,
  Skipping: 3,
  SkippingAfterFs: 4,
} as const;
type State = (typeof State)[keyof typeof State];

/** The MLLP receive state machine; see the module comment for the rules. */
export class MllpFramer {
  readonly #handlers: FramerHandlers;
  readonly #maxFrameBytes: number;
  readonly #tolerant: boolean;
  readonly #headBytes: number;
  #state: State = State.Outside;
  /** Views of the current frame's pieces from earlier chunks. */
  #pieces: Uint8Array[] = [];
  /** Payload bytes of the current frame held in `#pieces`. */
  #piecesLength = 0;
  /** Total payload bytes of an oversized frame being skipped. */
  #skipped = 0;
  #head: Uint8Array | undefined;

  constructor(options: MllpFramerOptions, handlers: FramerHandlers) {
    this.#handlers = handlers;
    this.#maxFrameBytes = options.maxFrameBytes;
    this.#tolerant = options.tolerantEndBlock ?? false;
    this.#headBytes = options.oversizedHeadBytes ?? 4096;
  }

  /** True while a frame has started and not ended (for the incomplete-frame timeout). */
  get inFrame(): boolean {
    return this.#state !== State.Outside;
  }

  /** Bytes of the current partial frame held by the framer. */
  get bufferedBytes(): number {
    return this.#piecesLength;
  }

  /**
   * Feeds one chunk. The chunk must not be modified afterwards while frames may still refer
   * to it (socket chunks are fresh buffers, so this holds for `data` events).
   */
  push(chunk: Uint8Array): void {
    const n = chunk.length;
    let i = 0;
    // Start of the current frame's payload inside this chunk (when it started here).
    let start = -1;
    if (this.#state === State.InFrame) start = 0;
    while (i < n) {
      switch (this.#state) {
        case State.Outside: {
          const vt = chunk.indexOf(VT, i);
          if (vt === -1) {
            this.#handlers.onJunk(n - i);
            return;
          }
          if (vt > i) this.#handlers.onJunk(vt - i);
          i = vt + 1;
          start = i;
          this.#state = State.InFrame;
          break;
        }
        case State.InFrame: {
          // Find the next control byte; payload bytes in between are skipped in bulk.
          let j = i;
          while (j < n) {
            const b = chunk[j]!;
            if (b === FS || b === VT) break;
            j++;
          }
          const held = this.#piecesLength + (j - start);
          if (held > this.#maxFrameBytes) {
            this.#beginSkip(chunk, start, j);
            i = j;
            break;
          }
          if (j === n) {
            this.#keep(chunk.subarray(start, n));
            return;
          }
          if (chunk[j] === VT) {
            this.#drop(State.InFrame);
            this.#handlers.onFrameError(FrameErrorReason.Restarted);
            i = j + 1;
            start = i;
            break;
          }
          // FS: the payload ends at j (provided a CR follows).
          this.#keep(chunk.subarray(start, j));
          start = -1;
          this.#state = State.AfterFs;
          i = j + 1;
          break;
        }
        case State.AfterFs: {
          const b = chunk[i]!;
          if (b === CR) {
            this.#emit();
            this.#state = State.Outside;
            i++;
          } else if (b === VT && this.#tolerant) {
            this.#emit();
            this.#state = State.InFrame;
            i++;
            start = i;
          } else {
            this.#drop(State.Outside);
            this.#handlers.onFrameError(FrameErrorReason.BadEndBlock);
            // The byte is re-examined outside a frame (a VT there starts a new frame).
          }
          break;
        }
        case State.Skipping: {
          let j = i;
          while (j < n) {
            const b = chunk[j]!;
            if (b === FS || b === VT) break;
            j++;
          }
          this.#skipped += j - i;
          if (j === n) return;
          if (chunk[j] === VT) {
            this.#endSkip();
            this.#state = State.InFrame;
            i = j + 1;
            start = i;
            break;
          }
          this.#state = State.SkippingAfterFs;
          i = j + 1;
          break;
        }
        case State.SkippingAfterFs: {
          const b = chunk[i]!;
          if (b === CR || (b === VT && this.#tolerant)) {
            this.#endSkip();
            this.#state = b === CR ? State.Outside : State.InFrame;
            i++;
            start = i;
          } else {
            // A stray FS inside an oversized frame: keep skipping (it is already an error).
            this.#skipped += 1;
            this.#state = State.Skipping;
          }
          break;
        }
      }
    }
  }

  /**
   * The stream ended. In tolerant mode a frame waiting for its `0x0D` is delivered; any
   * other open frame is dropped as incomplete.
   */
  end(): void {
    if (this.#state === State.AfterFs && this.#tolerant) {
      this.#emit();
      this.#state = State.Outside;
      return;
    }
    if (this.#state === State.SkippingAfterFs && this.#tolerant) {
      this.#endSkip();
      this.#state = State.Outside;
      return;
    }
    this.abandon();
  }

  /** Drops an open frame (end of stream, incomplete-frame timeout); reports it if there was one. */
  abandon(): void {
    if (this.#state === State.Outside) return;
    this.#drop(State.Outside);
    this.#skipped = 0;
    this.#head = undefined;
    this.#handlers.onFrameError(FrameErrorReason.Incomplete);
  }

  #keep(view: Uint8Array): void {
    if (view.length === 0) return;
    this.#pieces.push(view);
    this.#piecesLength += view.length;
  }

  #emit(): void {
    const pieces = this.#pieces;
    let payload: Uint8Array;
    if (pieces.length === 1) {
      payload = pieces[0]!;
    } else if (pieces.length === 0) {
      payload = new Uint8Array(0);
    } else {
      payload = Buffer.allocUnsafe(this.#piecesLength);
      let at = 0;
      for (const p of pieces) {
        payload.set(p, at);
        at += p.length;
      }
    }
    this.#pieces = [];
    this.#piecesLength = 0;
    this.#handlers.onFrame(payload);
  }

  #drop(next: State): void {
    this.#pieces = [];
    this.#piecesLength = 0;
    this.#state = next;
  }

  #beginSkip(chunk: Uint8Array, start: number, end: number): void {
    const head = new Uint8Array(Math.min(this.#headBytes, this.#piecesLength + (end - start)));
    let at = 0;
    for (const p of this.#pieces) {
      if (at >= head.length) break;
      const take = Math.min(p.length, head.length - at);
      head.set(p.subarray(0, take), at);
      at += take;
    }
    if (at < head.length) head.set(chunk.subarray(start, start + (head.length - at)), at);
    this.#head = head;
    this.#skipped = this.#piecesLength + (end - start);
    this.#pieces = [];
    this.#piecesLength = 0;
    this.#state = State.Skipping;
  }

  #endSkip(): void {
    const head = this.#head ?? new Uint8Array(0);
    const size = this.#skipped;
    this.#head = undefined;
    this.#skipped = 0;
    this.#handlers.onOversized(head, size);
  }
}
