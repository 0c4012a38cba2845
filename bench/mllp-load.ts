/**
 * MLLP load generator: C connections, each sending its next message only after the ACK of
 * the previous one (original-mode sender behaviour), for a fixed count or duration. Every
 * ACK's MSA-1 must be AA/CA and its MSA-2 must equal the MSH-10 sent; anything else counts
 * as an error. Reports msgs/s and ACK latency p50/p99/max.
 *
 * Messages come from the seeded corpus (bench/corpus.ts), in corpus order across all
 * connections; each send gets a fresh MSH-10 (`L<conn>-<n>`) so that no message is a
 * duplicate of another, and optionally fresh identifiers on every pass over the corpus.
 *
 * Open loop (`--rate N`): a fixed offered rate, messages pipelined on each connection
 * without waiting for ACKs; latency counts from each message's write.
 * `--reconnect`: a new connection per message (closed loop).
 *
 * Run alone: `node dist/bench/mllp-load.js --to HOST:PORT [-c 8] [--duration 5] [--count N] [--rate N] [--reconnect]`.
 */
import net, { type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { MllpFramer } from '../src/listener/framer.js';
import { readAck } from '../src/mllp/client.js';
import { isHl7Error, parseMessage } from '../src/hl7/index.js';
import { generateCorpus } from './corpus.js';

/** Options of {@link runLoad}. */
export interface LoadOptions {
  host: string;
  port: number;
  /** Connections. */
  connections: number;
  /** Stop after this many messages in total (across connections)… */
  count?: number;
  /** …or after this long (ms). Default 5000 when `count` is absent. */
  durationMs?: number;
  /** Messages before measuring starts (not counted). Default 0. */
  warmupMs?: number;
  /** Corpus messages to cycle through. Default 500. */
  corpusSize?: number;
  /**
   * Open loop: offered load in msgs/s across all connections (each sends `rate / C` per
   * second on a fixed schedule, without waiting for ACKs; ACKs are matched in order). The
   * sender never waits for the server, so a server that falls behind shows it in the ACK
   * latency (no coordinated omission); latency counts from the write, so the generator's
   * own timer jitter (about 1 ms) is not charged to the server. Absent: closed loop, the
   * next message goes after the ACK of the last.
   */
  rate?: number;
  /** Open loop: most unacknowledged messages per connection; past it sends are skipped and counted. Default 2000. */
  maxOutstanding?: number;
  /** Closed loop: open a new connection for every message (for servers that serve one message per connection). Default false. */
  reconnectEachMessage?: boolean;
  /**
   * Give every pass over the corpus its own patient, visit, order and study identifiers (a
   * suffix after each), so that a long run keeps creating entities instead of re-sending
   * the same ones. Default false (the listener does not read them; the converter does).
   */
  uniqueIdentifiers?: boolean;
  /**
   * Position in the endless corpus stream to start at (the runs on one engine continue
   * where the last stopped, so that identifiers stay fresh). Default 0.
   */
  startAt?: number;
  /** MSH-10 prefix, so that runs against one store never repeat a control ID. Default `L`. */
  idPrefix?: string;
  /** Called with every ACK's payload and its message's (scheduled) send time, `performance.now()` ms. */
  onAck?: (ack: Uint8Array, sentAt: number, ackAt: number) => void;
}

/** What {@link runLoad} measured. */
export interface LoadResult {
  connections: number;
  /** ACKs received in the measured window. */
  messages: number;
  seconds: number;
  msgsPerSec: number;
  /** Open loop: the offered rate (msgs/s). */
  offered?: number;
  /** Open loop: sends skipped because a connection had `maxOutstanding` messages unacknowledged. */
  skipped?: number;
  /** ACK latency (ms). */
  p50: number;
  p99: number;
  max: number;
  /** ACKs that were not AA/CA or whose MSA-2 did not match, and frame errors. */
  errors: number;
  /** Messages sent, warm-up included. */
  sent: number;
}

/** What goes between two pieces of a template: the control ID, or a cycle suffix. */
const Insert = { ControlId: 0, Suffix: 1, UidSuffix: 2 } as const;
type Insert = (typeof Insert)[keyof typeof Insert];

/** A corpus message cut at MSH-10 and (with `uniqueIdentifiers`) after every identifier value. */
interface Template {
  pieces: Buffer[];
  inserts: Insert[];
}

/** Identifier fields whose values get a cycle suffix (patient, visit, order, study keys). */
const ID_PATHS = ['PID-3.1', 'PID-3[2].1', 'PID-3[3].1', 'PID-18.1', 'PV1-19.1', 'MRG-1.1', 'MRG-3.1', 'ORC-2.1', 'ORC-3.1', 'OBR-2.1', 'OBR-3.1', 'OBR-18', 'OBR-19', 'OBR-20', 'SCH-1.1', 'SCH-2.1', 'IPC-1', 'IPC-2', 'IPC-4'];
const UID_PATHS = ['ZDS-1.1', 'IPC-3.1'];

/**
 * Cuts each corpus message so that a fresh control ID (and, when `unique`, a suffix after
 * every identifier value wherever it occurs, report text included) costs one copy.
 */
function templates(size: number, unique: boolean): Template[] {
  return generateCorpus({ seed: 7, count: size }).map((bytes) => {
    const b = Buffer.from(bytes);
    let field = 0;
    let start = -1;
    let end = -1;
    const fs = b[3]!;
    for (let i = 3; i < b.length && b[i] !== 0x0d; i++) {
      if (b[i] === fs) {
        field++;
        if (field === 9) start = i + 1;
        if (field === 10) {
          end = i;
          break;
        }
      }
    }
    if (start < 0 || end < 0) throw new Error('corpus message without MSH-10');
    // Cut points: [offset where the insert goes, bytes skipped there, insert].
    const cuts: Array<[number, number, Insert]> = [[start, end - start, Insert.ControlId]];
    if (unique) {
      const m = parseMessage(b);
      if (!isHl7Error(m)) {
        const values = new Map<string, Insert>();
        for (const p of ID_PATHS) values.set(m.get(p), Insert.Suffix);
        for (const p of UID_PATHS) values.set(m.get(p), Insert.UidSuffix);
        for (const [v, kind] of values) {
          if (v.length < 4) continue;
          for (let at = b.indexOf(v, end, 'latin1'); at !== -1; at = b.indexOf(v, at + v.length, 'latin1')) {
            const after = at + v.length;
            // Whole values only: the next byte must not continue the value.
            const next = b[after];
            if (next !== undefined && /[A-Za-z0-9.]/.test(String.fromCharCode(next))) continue;
            if (!cuts.some(([o]) => o === after)) cuts.push([after, 0, kind]);
          }
        }
      }
    }
    cuts.sort((x, y) => x[0] - y[0]);
    const pieces: Buffer[] = [];
    const inserts: Insert[] = [];
    let from = 0;
    for (const [at, skip, kind] of cuts) {
      pieces.push(b.subarray(from, at));
      inserts.push(kind);
      from = at + skip;
    }
    pieces.push(b.subarray(from));
    return { pieces, inserts };
  });
}

/**
 * Builds message `g` of the endless corpus stream as an MLLP frame with MSH-10 `id`. Each
 * pass over the corpus gets its own identifiers when the templates were cut for it.
 */
function buildFrame(tpl: Template[], g: number, id: string): Buffer {
  const t = tpl[g % tpl.length]!;
  const cycle = Math.floor(g / tpl.length);
  const sfx = cycle === 0 ? '' : `X${cycle}`;
  const uid = cycle === 0 ? '' : `.${cycle}`;
  let length = 3;
  for (const p of t.pieces) length += p.length;
  for (const k of t.inserts) length += k === Insert.ControlId ? id.length : k === Insert.Suffix ? sfx.length : uid.length;
  const frame = Buffer.allocUnsafe(length);
  frame[0] = 0x0b;
  let at = 1;
  for (let i = 0; i < t.pieces.length; i++) {
    at += t.pieces[i]!.copy(frame, at);
    const k = t.inserts[i];
    if (k !== undefined) at += frame.write(k === Insert.ControlId ? id : k === Insert.Suffix ? sfx : uid, at, 'latin1');
  }
  frame[at] = 0x1c;
  frame[at + 1] = 0x0d;
  return frame;
}

/**
 * The load generator's message stream without the network: `message(g, id)` is message `g`
 * (MLLP payload, no framing) with MSH-10 `id`, the same bytes `runLoad` would send.
 */
export function messageStream(corpusSize = 2000, uniqueIdentifiers = true): (g: number, id: string) => Buffer {
  const tpl = templates(corpusSize, uniqueIdentifiers);
  return (g, id) => {
    const f = buildFrame(tpl, g, id);
    return f.subarray(1, f.length - 2);
  };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** Growable list of latencies (ms). */
class Samples {
  #a = new Float64Array(1 << 16);
  n = 0;
  push(v: number): void {
    if (this.n === this.#a.length) {
      const bigger = new Float64Array(this.#a.length * 2);
      bigger.set(this.#a);
      this.#a = bigger;
    }
    this.#a[this.n++] = v;
  }
  sorted(): Float64Array {
    return this.#a.subarray(0, this.n).sort();
  }
}

/** Runs the load and resolves with the measurements. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const tpl = templates(options.corpusSize ?? 500, options.uniqueIdentifiers ?? false);
  const countLimit = options.count ?? Infinity;
  const durationMs = options.count === undefined ? (options.durationMs ?? 5000) : Infinity;
  const warmupMs = options.warmupMs ?? 0;
  const prefix = options.idPrefix ?? 'L';
  const openLoop = options.rate !== undefined;
  const perConnRate = openLoop ? options.rate! / options.connections : 0;
  const maxOutstanding = options.maxOutstanding ?? 2000;
  const latencies = new Samples();
  let errors = 0;
  let sent = 0;
  let skipped = 0;
  let stop = false;
  const t0 = performance.now();
  let measureStart = warmupMs > 0 ? Infinity : t0;
  let measureEnd = 0;
  if (warmupMs > 0) {
    setTimeout(() => (measureStart = performance.now()), warmupMs).unref();
  }
  let stopTimer: NodeJS.Timeout | undefined;
  if (durationMs !== Infinity) stopTimer = setTimeout(() => (stop = true), warmupMs + durationMs);

  let nextTemplate = options.startAt ?? 0;
  const makeFrame = (c: number, n: number): { frame: Buffer; id: string } => {
    const id = `${prefix}${c}-${n}`;
    return { frame: buildFrame(tpl, nextTemplate++, id), id };
  };

  /** One connection; `next` says whether to send another message and returns its frame. */
  const connection = (c: number, mode: 'closed' | 'open' | 'once', counter: { n: number }): Promise<void> =>
    new Promise((resolve, reject) => {
      const socket: Socket = net.connect({ host: options.host, port: options.port, noDelay: true });
      // Unacknowledged messages, oldest first: control ID and (scheduled) send time.
      const ids: string[] = [];
      const times: number[] = [];
      let head = 0;
      let timer: NodeJS.Timeout | undefined;
      const sendOne = (at: number): void => {
        sent++;
        const { frame, id } = makeFrame(c, counter.n++);
        ids.push(id);
        times.push(at);
        socket.write(frame);
      };
      const finish = (): void => {
        if (timer !== undefined) clearInterval(timer);
        socket.end();
      };
      const framer = new MllpFramer({ maxFrameBytes: 1 << 20 }, {
        onFrame: (payload) => {
          const now = performance.now();
          if (head >= ids.length) {
            errors++;
            return;
          }
          const expected = ids[head]!;
          const tSend = times[head]!;
          head++;
          if (head > 4096 && head * 2 > ids.length) {
            ids.splice(0, head);
            times.splice(0, head);
            head = 0;
          }
          const ack = readAck(payload);
          if ((ack.code !== 'AA' && ack.code !== 'CA') || ack.controlId !== expected) errors++;
          options.onAck?.(payload, tSend, now);
          if (tSend >= measureStart) {
            latencies.push(now - tSend);
            measureEnd = now;
          }
          if (mode === 'closed') {
            if (stop || sent >= countLimit) finish();
            else sendOne(performance.now());
          } else if (mode === 'once') {
            finish();
          } else if (stop && head >= ids.length) {
            finish();
          }
        },
        onJunk: () => {},
        onOversized: () => errors++,
        onFrameError: () => errors++,
      });
      socket.on('connect', () => {
        if (mode !== 'open') {
          if (stop || sent >= countLimit) finish();
          else sendOne(performance.now());
          return;
        }
        const started = performance.now();
        let scheduled = 0;
        timer = setInterval(() => {
          const now = performance.now();
          if (stop) {
            clearInterval(timer);
            timer = undefined;
            if (head >= ids.length) finish();
            // A server that stopped answering must not hold the run: unanswered ones are errors.
            else setTimeout(() => {
              errors += ids.length - head;
              socket.destroy();
            }, 10_000).unref();
            return;
          }
          const due = Math.floor(((now - started) * perConnRate) / 1000);
          if (due <= scheduled) return;
          socket.cork();
          for (; scheduled < due; scheduled++) {
            if (ids.length - head >= maxOutstanding) skipped++;
            else sendOne(now);
          }
          socket.uncork();
        }, 1);
      });
      socket.on('data', (chunk: Buffer) => framer.push(chunk));
      socket.on('error', (err) => {
        if (timer !== undefined) clearInterval(timer);
        reject(err);
      });
      socket.on('close', () => {
        if (timer !== undefined) clearInterval(timer);
        resolve();
      });
    });

  const worker = async (c: number): Promise<void> => {
    const counter = { n: 0 };
    if (openLoop) return await connection(c, 'open', counter);
    if (options.reconnectEachMessage !== true) return await connection(c, 'closed', counter);
    while (!stop && sent < countLimit) await connection(c, 'once', counter);
  };
  await Promise.all(Array.from({ length: options.connections }, (_, c) => worker(c)));
  clearTimeout(stopTimer);
  const seconds = (measureEnd - Math.min(measureStart, measureEnd)) / 1000;
  const sorted = latencies.sorted();
  return {
    connections: options.connections,
    messages: latencies.n,
    seconds,
    msgsPerSec: seconds > 0 ? latencies.n / seconds : 0,
    ...(openLoop ? { offered: options.rate!, skipped } : {}),
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.length > 0 ? sorted[sorted.length - 1]! : 0,
    errors,
    sent,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      to: { type: 'string' },
      connections: { type: 'string', short: 'c', default: '8' },
      duration: { type: 'string', default: '5' },
      count: { type: 'string' },
      rate: { type: 'string' },
      reconnect: { type: 'boolean' },
    },
  });
  if (values.to === undefined) throw new Error('--to HOST:PORT is required');
  const [host, port] = values.to.split(':');
  const r = await runLoad({
    host: host ?? '127.0.0.1',
    port: Number(port),
    connections: Number(values.connections),
    ...(values.rate !== undefined ? { rate: Number(values.rate) } : {}),
    ...(values.reconnect === true ? { reconnectEachMessage: true } : {}),
    ...(values.count !== undefined ? { count: Number(values.count) } : { durationMs: Number(values.duration) * 1000 }),
  });
  console.log(JSON.stringify(r));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
