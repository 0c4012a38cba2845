/**
 * One MLLP connection: frames from the {@link MllpFramer} are handled strictly in order
 * (read the MSH, decide, append, wait for the durable commit, write the ACK), one at a
 * time, so replies go out in the order messages arrived (DOMAIN.md §1.1 "Pipelining").
 *
 * Memory stays bounded: the framer never holds more than the frame limit; the socket
 * pauses when this connection has `highWaterFrames` frames waiting, when ACKs pile up
 * unread in the socket's write buffer, or when the log's pending bytes pass the gate's
 * high-water mark.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { buildAck, readHeader, type MessageHeader } from '../hl7/index.js';
import type { LogFields, Logger } from '../log.js';
import type { AppendGate } from './append-gate.js';
import { admit, afterAppend, afterConversion, oversized, success, type AckPlan, type ConversionAnswer } from './ack-policy.js';
import { dedupKeyOf } from '../queue/dedup.js';
import { MllpFramer, type FrameErrorReason } from './framer.js';
import type { ListenerInstruments } from './instruments.js';

const COMMIT_ACK = Buffer.from([0x0b, 0x06, 0x1c, 0x0d]);
const COMMIT_NAK = Buffer.from([0x0b, 0x15, 0x1c, 0x0d]);
/** Unread ACK bytes in the socket above which reading pauses. */
const WRITE_HIGH_WATER = 1 << 20;
/**
 * Shortest time between two log lines of one per-message warning on one connection (ms).
 * A sender that reuses every control ID, or keeps sending what is refused, would otherwise
 * write a line per message: 30 000 lines a second at C = 64, which also slows the engine.
 * The metrics still count every message; the next line says how many were left out.
 */
const REPEAT_LOG_INTERVAL_MS = 1000;

/** Settings a connection needs (resolved from the listener's options). */
export interface ConnectionSettings {
  listener: string;
  maxFrameBytes: number;
  tolerantEndBlock: boolean;
  mllpRelease2: boolean;
  processingIds: readonly string[] | undefined;
  idleTimeoutMs: number;
  incompleteFrameTimeoutMs: number;
  highWaterFrames: number;
  ackControlIdPrefix: string;
  /** When original-mode ACKs are sent: on durable commit, or after conversion. */
  ackOn: 'commit' | 'apply';
  /** The ACK code for a message that could not be converted, under `ackOn: "apply"`. */
  conversionErrorAck: 'AE' | 'AR' | 'AA';
  /** MSH-9 form of the ACKs. */
  ackTypeForm: 'full' | 'trigger' | 'bare';
}

/** The converter as a connection sees it. */
export interface ConversionPort {
  /** Tells the converter the log has grown. */
  wake(): void;
  /** The conversion outcome of a stored message, once committed. */
  waitFor(seq: number): Promise<ConversionAnswer>;
}

type Job =
  | { kind: 'frame'; payload: Uint8Array; receivedAt: number; t0: number }
  | { kind: 'oversized'; head: Uint8Array; size: number; receivedAt: number; t0: number };

let refusalCounter = 0;

/** Handles one accepted socket until it closes. */
export class MllpConnection {
  readonly socket: Socket;
  readonly remote: string;
  readonly #settings: ConnectionSettings;
  readonly #gate: AppendGate;
  readonly #instruments: ListenerInstruments;
  readonly #logger: Logger;
  readonly #conversion: ConversionPort | undefined;
  readonly #framer: MllpFramer;
  readonly #queue: Job[] = [];
  #running = false;
  /** Most frames ever waiting at once on this connection (memory-bound checks). */
  peakQueued = 0;
  #ended = false;
  #closed = false;
  #shuttingDown = false;
  #pausedFor = 0;
  #framesDone = 0;
  #timerFrames = -1;
  #incompleteTimer: NodeJS.Timeout | undefined;
  readonly #resumeFromGate = (): void => this.#unpause(PAUSE_GATE);
  #idleResolve: (() => void) | undefined;
  /** Per-message warnings by message and kind: when each was last written and how many were left out since. */
  readonly #repeats = new Map<string, { msg: string; at: number; left: number; level: 'warn' | 'error' }>();
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>;

  constructor(
    socket: Socket,
    settings: ConnectionSettings,
    gate: AppendGate,
    instruments: ListenerInstruments,
    logger: Logger,
    conversion?: ConversionPort,
  ) {
    this.socket = socket;
    this.#conversion = conversion;
    this.#settings = settings;
    this.#gate = gate;
    this.#instruments = instruments;
    const addr = socket.remoteAddress ?? '?';
    this.remote = addr.includes(':') ? `[${addr}]:${socket.remotePort}` : `${addr}:${socket.remotePort}`;
    this.#logger = logger;
    this.#framer = new MllpFramer(
      { maxFrameBytes: settings.maxFrameBytes, tolerantEndBlock: settings.tolerantEndBlock },
      {
        onFrame: (payload) => this.#enqueue({ kind: 'frame', payload, receivedAt: Date.now(), t0: performance.now() }),
        onJunk: (count) => instruments.junkBytes.inc(count),
        onOversized: (head, size) => {
          instruments.frameErrors('oversized').inc();
          this.#enqueue({ kind: 'oversized', head, size, receivedAt: Date.now(), t0: performance.now() });
        },
        onFrameError: (reason: FrameErrorReason) => {
          instruments.frameErrors(reason).inc();
          this.#logRepeat('warn', 'mllp frame dropped', { reason, remote: this.remote }, reason);
        },
      },
    );
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('error', (err) => {
      this.#logger.debug('mllp socket error', { remote: this.remote, error: err.message });
    });
    socket.on('close', () => this.#onClose());
    socket.on('drain', () => this.#unpause(PAUSE_WRITE));
    if (settings.idleTimeoutMs > 0) {
      socket.setTimeout(settings.idleTimeoutMs);
      socket.on('timeout', () => {
        if (this.#running) return;
        this.#logger.info('mllp idle timeout', { remote: this.remote });
        socket.destroy();
      });
    }
  }

  /** Stops reading, finishes queued messages and their ACKs, then ends the socket. */
  async shutdown(): Promise<void> {
    this.#shuttingDown = true;
    this.socket.pause();
    if (this.#running) await new Promise<void>((resolve) => (this.#idleResolve = resolve));
    // destroySoon: end after the last ACK is flushed, then close without waiting for the peer.
    if (!this.#closed) this.socket.destroySoon();
    await this.closed;
  }

  #onData(chunk: Buffer): void {
    this.#framer.push(chunk);
    if (this.#settings.incompleteFrameTimeoutMs > 0) this.#checkIncompleteTimer();
  }

  #checkIncompleteTimer(): void {
    if (this.#framer.inFrame) {
      // Re-arm only when a new frame has started since the timer was set.
      if (this.#incompleteTimer === undefined || this.#timerFrames !== this.#framesDone) {
        clearTimeout(this.#incompleteTimer);
        this.#timerFrames = this.#framesDone;
        this.#incompleteTimer = setTimeout(() => this.#onIncompleteTimeout(), this.#settings.incompleteFrameTimeoutMs);
        this.#incompleteTimer.unref();
      }
    } else if (this.#incompleteTimer !== undefined) {
      clearTimeout(this.#incompleteTimer);
      this.#incompleteTimer = undefined;
    }
  }

  #onIncompleteTimeout(): void {
    this.#incompleteTimer = undefined;
    if (!this.#framer.inFrame) return;
    this.#logger.warn('mllp incomplete frame timeout', { remote: this.remote });
    this.#framer.abandon();
    this.#ended = true;
    this.socket.pause();
    this.#maybeFinish();
  }

  #onEnd(): void {
    this.#framer.end();
    this.#ended = true;
    this.#maybeFinish();
  }

  #onClose(): void {
    this.#closed = true;
    // What was left out since the last line of each warning is not lost with the connection.
    for (const r of this.#repeats.values()) {
      if (r.left > 0) this.#logger[r.level](r.msg, { remote: this.remote, suppressed: r.left });
    }
    this.#repeats.clear();
    clearTimeout(this.#incompleteTimer);
    this.#gate.forget(this.#resumeFromGate);
    this.#queue.length = 0;
  }

  #enqueue(job: Job): void {
    this.#framesDone++;
    this.#instruments.received.inc();
    this.#queue.push(job);
    if (this.#queue.length > this.peakQueued) this.peakQueued = this.#queue.length;
    if (this.#queue.length >= this.#settings.highWaterFrames) this.#pause(PAUSE_FRAMES);
    if (this.#gate.overHighWater() && (this.#pausedFor & PAUSE_GATE) === 0) {
      this.#pause(PAUSE_GATE);
      this.#gate.whenRoom(this.#resumeFromGate);
    }
    if (!this.#running) void this.#run();
  }

  #pause(reason: number): void {
    this.#pausedFor |= reason;
    this.socket.pause();
  }

  #unpause(reason: number): void {
    if ((this.#pausedFor & reason) === 0) return;
    this.#pausedFor &= ~reason;
    if (this.#pausedFor === 0 && !this.#shuttingDown && !this.#ended) this.socket.resume();
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      let job: Job | undefined;
      while ((job = this.#queue.shift()) !== undefined) {
        if (this.#queue.length < this.#settings.highWaterFrames) this.#unpause(PAUSE_FRAMES);
        await this.#handle(job);
        if (this.#closed) break;
      }
    } catch (err) {
      this.#logger.error('mllp connection failed', { remote: this.remote, error: (err as Error).message });
      this.socket.destroy();
    } finally {
      this.#running = false;
    }
    const idle = this.#idleResolve;
    this.#idleResolve = undefined;
    idle?.();
    this.#maybeFinish();
  }

  #maybeFinish(): void {
    if (this.#ended && !this.#running && this.#queue.length === 0 && !this.#closed) this.socket.destroySoon();
  }

  async #handle(job: Job): Promise<void> {
    const s = this.#settings;
    if (job.kind === 'oversized') {
      const plan = oversized(readHeader(job.head), job.size, s.maxFrameBytes);
      this.#logRepeat('warn', 'mllp oversized frame refused', { remote: this.remote, size: job.size });
      this.#reply(plan, this.#refusalId(job.receivedAt), job.receivedAt, job.t0, false);
      return;
    }
    const raw = job.payload;
    const result = readHeader(raw);
    const admission = admit(result, { processingIds: s.processingIds });
    if (admission.kind === 'refuse') {
      const errCode = admission.plan.error?.errCode;
      this.#logRepeat('warn', 'mllp message refused', { remote: this.remote, controlId: admission.plan.header?.controlId, errCode }, String(errCode));
      this.#reply(admission.plan, this.#refusalId(job.receivedAt), job.receivedAt, job.t0, false);
      return;
    }
    const header = admission.header;
    const tAppend = performance.now();
    const outcome = await this.#gate.append({
      raw,
      receivedAt: job.receivedAt,
      listener: s.listener,
      remote: this.remote,
      messageType: header.messageType,
      controlId: header.controlId,
      dedupKey: dedupKeyOf(header.sendingApplication, header.sendingFacility, header.controlId),
    });
    this.#instruments.appendSeconds.observe((performance.now() - tAppend) / 1000);
    if (outcome.kind === 'rejected') {
      this.#logRepeat('error', 'inbound log refused an append', { remote: this.remote, code: outcome.code }, outcome.code);
      this.#reply(afterAppend(header, outcome), this.#refusalId(job.receivedAt), job.receivedAt, job.t0, false);
      return;
    }
    if (outcome.kind === 'duplicate') {
      this.#instruments.duplicates('resend').inc();
      // Rebuild the original ACK from the stored record: same MSH-10 (from seq) and MSH-7.
      const stored = this.#gate.log.get(outcome.seq);
      let original: MessageHeader = header;
      let time = job.receivedAt;
      if (stored !== undefined) {
        const r = readHeader(stored.raw);
        if (r.ok) original = r.header;
        time = stored.receivedAt;
      }
      // Under ackOn "apply" the resend gets the stored conversion outcome (waiting for it
      // if the original is still being converted).
      const plan = this.#waitsForConversion(original)
        ? afterConversion(original, await this.#conversion!.waitFor(outcome.seq), this.#settings.conversionErrorAck)
        : success(original);
      this.#reply(plan, `${s.ackControlIdPrefix}${outcome.seq}`, time, job.t0, true);
      return;
    }
    if (outcome.dedupCollision) {
      this.#instruments.duplicates('collision').inc();
      this.#logRepeat('warn', 'control ID reused with a different body; stored as new', {
        remote: this.remote,
        controlId: header.controlId,
        seq: outcome.seq,
      });
    }
    this.#conversion?.wake();
    const plan = this.#waitsForConversion(header)
      ? afterConversion(header, await this.#conversion!.waitFor(outcome.seq), this.#settings.conversionErrorAck)
      : afterAppend(header, outcome);
    this.#reply(plan, `${s.ackControlIdPrefix}${outcome.seq}`, job.receivedAt, job.t0, true);
  }

  /**
   * Writes a per-message warning at most once per {@link REPEAT_LOG_INTERVAL_MS} on this
   * connection for each `kind` of it (a reason or code, so that a new reason is not hidden
   * behind an old one); a line after some were left out carries `suppressed` (how many), and
   * so does a last line when the connection closes.
   */
  #logRepeat(level: 'warn' | 'error', msg: string, fields: LogFields, kind = ''): void {
    const key = `${msg}\u0000${kind}`;
    const now = performance.now();
    const r = this.#repeats.get(key);
    if (r !== undefined && now - r.at < REPEAT_LOG_INTERVAL_MS) {
      r.left++;
      return;
    }
    this.#logger[level](msg, r !== undefined && r.left > 0 ? { ...fields, suppressed: r.left } : fields);
    this.#repeats.set(key, { msg, at: now, left: 0, level });
  }

  /** ackOn "apply" applies to original mode only: an enhanced-mode accept ACK stays CA on commit. */
  #waitsForConversion(header: MessageHeader): boolean {
    return this.#settings.ackOn === 'apply' && this.#conversion !== undefined && header.ackMode !== 'enhanced';
  }

  #refusalId(receivedAt: number): string {
    refusalCounter = (refusalCounter + 1) % 1296;
    return `${this.#settings.ackControlIdPrefix}R${receivedAt.toString(36)}${refusalCounter.toString(36)}`;
  }

  #reply(plan: AckPlan, controlId: string, time: number, t0: number, stored: boolean): void {
    if (this.#closed) return;
    const commit = this.#settings.mllpRelease2 ? (stored ? COMMIT_ACK : COMMIT_NAK) : undefined;
    if (!plan.send) {
      if (commit !== undefined) this.socket.write(commit);
      return;
    }
    const ack = buildAck({
      header: plan.header,
      code: plan.code,
      controlId,
      time,
      typeForm: this.#settings.ackTypeForm,
      ...(plan.text !== undefined ? { text: plan.text } : {}),
      ...(plan.error !== undefined ? { error: plan.error } : {}),
    });
    // One write per reply (commit bytes and ACK together): one syscall, one TCP segment.
    const at = commit !== undefined ? commit.length : 0;
    const frame = Buffer.allocUnsafe(at + ack.length + 3);
    if (commit !== undefined) frame.set(commit, 0);
    frame[at] = 0x0b;
    frame.set(ack, at + 1);
    frame[at + ack.length + 1] = 0x1c;
    frame[at + ack.length + 2] = 0x0d;
    const ok = this.socket.write(frame);
    this.#instruments.acks(plan.code).inc();
    this.#instruments.ackLatency.observe((performance.now() - t0) / 1000);
    if (!ok && this.socket.writableLength > WRITE_HIGH_WATER) this.#pause(PAUSE_WRITE);
  }
}

const PAUSE_FRAMES = 1;
const PAUSE_GATE = 2;
const PAUSE_WRITE = 4;
