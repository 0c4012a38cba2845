/**
 * MLLP load generator: C connections, each sending its next message only after the ACK of
 * the previous one (original-mode sender behaviour), for a fixed count or duration. Every
 * ACK's MSA-1 must be AA/CA and its MSA-2 must equal the MSH-10 sent; anything else counts
 * as an error. Reports msgs/s and ACK latency p50/p99/max.
 *
 * Messages come from the seeded corpus (bench/corpus.ts); each send gets a fresh MSH-10
 * (`L<conn>-<n>`) so that no message is a duplicate of another.
 *
 * Run alone: `node dist/bench/mllp-load.js --to HOST:PORT [-c 8] [--duration 5] [--count N]`.
 */
import net, { type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { MllpFramer } from '../src/listener/framer.js';
import { readAck } from '../src/mllp/client.js';
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
}

/** What {@link runLoad} measured. */
export interface LoadResult {
  connections: number;
  messages: number;
  seconds: number;
  msgsPerSec: number;
  /** ACK latency (ms). */
  p50: number;
  p99: number;
  max: number;
  /** ACKs that were not AA/CA or whose MSA-2 did not match. */
  errors: number;
}

interface Template {
  head: Buffer;
  tail: Buffer;
}

/** Splits each corpus message around MSH-10 so a fresh control ID costs one copy. */
function templates(size: number): Template[] {
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
    const head = Buffer.allocUnsafe(start + 1);
    head[0] = 0x0b;
    b.copy(head, 1, 0, start);
    const tail = Buffer.allocUnsafe(b.length - end + 2);
    b.copy(tail, 0, end);
    tail[tail.length - 2] = 0x1c;
    tail[tail.length - 1] = 0x0d;
    return { head, tail };
  });
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** Runs the load and resolves with the measurements. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const tpl = templates(options.corpusSize ?? 500);
  const countLimit = options.count ?? Infinity;
  const durationMs = options.count === undefined ? (options.durationMs ?? 5000) : Infinity;
  const warmupMs = options.warmupMs ?? 0;
  let latencies = new Float64Array(1 << 16);
  let measured = 0;
  let errors = 0;
  let sent = 0;
  let stop = false;
  const t0 = performance.now();
  let measureStart = warmupMs > 0 ? Infinity : t0;
  let measureEnd = 0;
  if (warmupMs > 0) {
    setTimeout(() => (measureStart = performance.now()), warmupMs).unref();
  }
  let stopTimer: NodeJS.Timeout | undefined;
  if (durationMs !== Infinity) stopTimer = setTimeout(() => (stop = true), warmupMs + durationMs);

  const one = (c: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const socket: Socket = net.connect({ host: options.host, port: options.port, noDelay: true });
      let n = 0;
      let expected = '';
      let tSend = 0;
      const sendNext = (): void => {
        if (stop || sent >= countLimit) {
          socket.end();
          return;
        }
        sent++;
        const t = tpl[(c * 7919 + n) % tpl.length]!;
        expected = `L${c}-${n++}`;
        const frame = Buffer.allocUnsafe(t.head.length + expected.length + t.tail.length);
        t.head.copy(frame, 0);
        frame.write(expected, t.head.length, 'latin1');
        t.tail.copy(frame, t.head.length + expected.length);
        tSend = performance.now();
        socket.write(frame);
      };
      const framer = new MllpFramer({ maxFrameBytes: 1 << 20 }, {
        onFrame: (payload) => {
          const now = performance.now();
          const ack = readAck(payload);
          if ((ack.code !== 'AA' && ack.code !== 'CA') || ack.controlId !== expected) errors++;
          if (tSend >= measureStart) {
            if (measured === latencies.length) {
              const bigger = new Float64Array(latencies.length * 2);
              bigger.set(latencies);
              latencies = bigger;
            }
            latencies[measured++] = now - tSend;
            measureEnd = now;
          }
          sendNext();
        },
        onJunk: () => {},
        onOversized: () => errors++,
        onFrameError: () => errors++,
      });
      socket.on('connect', sendNext);
      socket.on('data', (chunk: Buffer) => framer.push(chunk));
      socket.on('error', reject);
      socket.on('close', () => resolve());
    });

  await Promise.all(Array.from({ length: options.connections }, (_, c) => one(c)));
  clearTimeout(stopTimer);
  const seconds = (measureEnd - Math.min(measureStart, measureEnd)) / 1000;
  const sorted = latencies.subarray(0, measured).sort();
  return {
    connections: options.connections,
    messages: measured,
    seconds,
    msgsPerSec: seconds > 0 ? measured / seconds : 0,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.length > 0 ? sorted[sorted.length - 1]! : 0,
    errors,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      to: { type: 'string' },
      connections: { type: 'string', short: 'c', default: '8' },
      duration: { type: 'string', default: '5' },
      count: { type: 'string' },
    },
  });
  if (values.to === undefined) throw new Error('--to HOST:PORT is required');
  const [host, port] = values.to.split(':');
  const r = await runLoad({
    host: host ?? '127.0.0.1',
    port: Number(port),
    connections: Number(values.connections),
    ...(values.count !== undefined ? { count: Number(values.count) } : { durationMs: Number(values.duration) * 1000 }),
  });
  console.log(JSON.stringify(r));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
