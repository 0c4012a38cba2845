/**
 * The rig of the full-pipeline benchmarks (pipeline.bench.ts, peak.bench.ts, scale.bench.ts):
 * a pacslink engine to load over MLLP and a sink that sees the events it publishes.
 *
 * - `ws` (the default when the engine serves `/events`): the engine runs as a child process
 *   (`node bin/pacslink.js start --data DIR --mllp 127.0.0.1:0 --http 127.0.0.1:0`, ports
 *   from `DIR/ports.json`) and each subscriber is a WebSocket client on
 *   `/events?format=msgpack` (INTERFACE.md "WebSocket /events"; `ws` client, msgpackr
 *   decoding), acknowledging what it has received with `{ack: SEQ}`.
 * - `inproc`: the engine runs in this process (`startEngine`) and the sink listens to the
 *   event log's `onAppended`. Load generator and engine then share one event loop, so its
 *   latencies are worse than the child's; it exists for engines without the gateway.
 *
 * End-to-end latency is matched by inbound seq: the engine's ACK carries `PL<seq>` in its
 * MSH-10 (`ackControlIdPrefix`), so every ACK tells the seq its message got, and every event
 * carries the `messageSeq` it came from. Latency = first event of a message − the write of
 * that message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { unpack, pack } from 'msgpackr';
import WebSocket from 'ws';
import { resolveEngineOptions, type EngineInput } from '../src/config.js';
import { startEngine, type Engine } from '../src/engine.js';
import { readHeader } from '../src/hl7/index.js';
import { silentLogger } from '../src/log.js';
import { runLoad, type LoadOptions, type LoadResult } from './mllp-load.js';
import { processPeakRssMb, processRssMb, ownPeakRssMb } from './results.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** How events are received. `auto`: `ws` when the engine serves HTTP, else `inproc`. */
export type SinkKind = 'ws' | 'inproc' | 'auto';

/** Options of {@link startRig}. */
export interface RigOptions {
  dataDir: string;
  sink: SinkKind;
  /** Engine configuration (the `--config` file's shape); `dataDir` and addresses are set by the rig. */
  config?: EngineInput;
  /** WebSocket subscribers (ws sink only). Default 1. */
  subscribers?: number;
}

/** A running engine with its event sink. */
export interface Rig {
  readonly sink: 'ws' | 'inproc';
  readonly mllpPort: number;
  readonly httpPort: number | undefined;
  /** The seq tracker fed by ACKs and events. */
  readonly tracker: SeqTracker;
  /** Load phases run so far (each gets its own MSH-10 prefix). */
  phases: number;
  /** Messages sent so far: where the next phase continues the corpus stream. */
  streamPosition: number;
  /** Events received by each subscriber. */
  eventsReceived(): number[];
  /** Peak RSS (MB) of the engine: its process's, or this process's when in-process. */
  enginePeakRssMb(): number | undefined;
  /** Current RSS (MB) of the engine process (ws sink) or of this process. */
  engineRssMb(): number | undefined;
  stop(): Promise<void>;
}

/**
 * Send and event times by inbound seq. `onAck` records the write time of the message the
 * ACK is for; `onEvent` the arrival of a message's first event (at any subscriber: the
 * first one, which every subscriber sees at about the same time).
 */
export class SeqTracker {
  #sent = new Float64Array(1 << 16);
  #firstEvent = new Float64Array(1 << 16);
  /** Highest seq ACKed. */
  lastAcked = 0;
  /** Highest messageSeq seen in an event. */
  lastEventMessageSeq = 0;
  /** ACKs whose MSH-10 did not carry a seq. */
  unmatchedAcks = 0;

  #grow(seq: number): void {
    while (seq >= this.#sent.length) {
      const n = this.#sent.length * 2;
      const s = new Float64Array(n);
      s.set(this.#sent);
      this.#sent = s;
      const e = new Float64Array(n);
      e.set(this.#firstEvent);
      this.#firstEvent = e;
    }
  }

  /** Reads the seq from the ACK's MSH-10 (`PL<seq>`) and records `sentAt` for it. */
  onAck = (ack: Uint8Array, sentAt: number): void => {
    const h = readHeader(ack);
    const id = h.header?.controlId ?? '';
    const seq = id.startsWith('PL') ? Number(id.slice(2)) : NaN;
    if (!Number.isInteger(seq) || seq <= 0) {
      this.unmatchedAcks++;
      return;
    }
    this.#grow(seq);
    this.#sent[seq] = sentAt;
    if (seq > this.lastAcked) this.lastAcked = seq;
  };

  /** Records the arrival of an event of message `messageSeq` at `at`. */
  onEvent(messageSeq: number, at: number): void {
    if (messageSeq <= 0) return;
    this.#grow(messageSeq);
    if (this.#firstEvent[messageSeq] === 0) this.#firstEvent[messageSeq] = at;
    if (messageSeq > this.lastEventMessageSeq) this.lastEventMessageSeq = messageSeq;
  }

  /** Messages ACKed but whose events have not come yet, by seq (the queue as the sink sees it). */
  lag(): number {
    return Math.max(0, this.lastAcked - this.lastEventMessageSeq);
  }

  /**
   * End-to-end latencies (ms) of messages written in `[from, to)` (performance.now() ms)
   * that have produced an event; also how many were written and how many had an event.
   */
  latencies(from: number, to: number): { sorted: Float64Array; written: number; withEvent: number } {
    const out: number[] = [];
    let written = 0;
    const n = Math.min(this.#sent.length, this.lastAcked + 1);
    for (let seq = 1; seq < n; seq++) {
      const s = this.#sent[seq]!;
      if (s === 0 || s < from || s >= to) continue;
      written++;
      const e = this.#firstEvent[seq]!;
      if (e !== 0) out.push(e - s);
    }
    return { sorted: Float64Array.from(out).sort(), written, withEvent: out.length };
  }

  /** Time (performance.now() ms) of the last first-event among messages written in `[from, to)`. */
  lastEventAt(from: number, to: number): number {
    let last = 0;
    const n = Math.min(this.#sent.length, this.lastAcked + 1);
    for (let seq = 1; seq < n; seq++) {
      const s = this.#sent[seq]!;
      if (s !== 0 && s >= from && s < to && this.#firstEvent[seq]! > last) last = this.#firstEvent[seq]!;
    }
    return last;
  }
}

/** Percentile of a sorted array (nearest rank below). */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** A `pacslink start` child process. */
export interface ChildEngine {
  child: ChildProcess;
  ports: { mllp: number; http?: number };
  stderrTail: string[];
}

/** Starts `pacslink start` as a child process and waits for `ports.json`. */
export async function startChildEngine(dataDir: string, config: EngineInput): Promise<ChildEngine> {
  mkdirSync(dataDir, { recursive: true });
  const portsFile = join(dataDir, 'ports.json');
  rmSync(portsFile, { force: true });
  const configFile = join(dataDir, 'bench-config.json');
  writeFileSync(configFile, JSON.stringify(config));
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin/pacslink.js'), 'start', '--data', dataDir, '--config', configFile, '--mllp', '127.0.0.1:0', '--http', '127.0.0.1:0'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const stderrTail: string[] = [];
  let started = false;
  child.stderr!.setEncoding('utf8');
  let partial = '';
  child.stderr!.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      stderrTail.push(line);
      if (stderrTail.length > 20) stderrTail.shift();
      if (line.includes('"engine started"')) started = true;
    }
  });
  const exited = once(child, 'exit');
  const deadline = performance.now() + 60_000;
  while (!started || !existsSync(portsFile)) {
    const done = await Promise.race([exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 50))]);
    if (done) throw new Error(`pacslink exited before starting: ${stderrTail.join('\n')}`);
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('pacslink did not start within 60 s');
    }
  }
  const ports = JSON.parse(readFileSync(portsFile, 'utf8')) as { mllp: number; http?: number };
  return { child, ports, stderrTail };
}

/** Stops a child engine with SIGTERM (SIGKILL after 30 s). */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

/**
 * One WebSocket subscriber on `/events?format=msgpack` (a frame holds one event, or an array
 * of events); acknowledges `{ack: SEQ}` as a msgpack binary frame every 256 events.
 * Resolves once open; rejects when the upgrade is refused.
 */
export function subscribe(httpPort: number, onEvent: (messageSeq: number, eventSeq: number) => void): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/events?format=msgpack`);
  let sinceAck = 0;
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const decoded: unknown = isBinary ? unpack(data) : JSON.parse(data.toString('utf8'));
    const list = Array.isArray(decoded) ? decoded : [decoded];
    let last = 0;
    for (const e of list as Array<{ seq?: number; messageSeq?: number }>) {
      if (typeof e.seq !== 'number') continue;
      onEvent(e.messageSeq ?? 0, e.seq);
      last = e.seq;
    }
    sinceAck += list.length;
    if (last > 0 && sinceAck >= 256) {
      sinceAck = 0;
      ws.send(pack({ ack: last }));
    }
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`/events refused the upgrade: HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** Starts the engine and its sink. */
export async function startRig(options: RigOptions): Promise<Rig> {
  const tracker = new SeqTracker();
  const config = options.config ?? {};
  const n = options.subscribers ?? 1;
  if (options.sink !== 'inproc') {
    const engine = await startChildEngine(options.dataDir, config);
    let sockets: WebSocket[] = [];
    let failure: Error | undefined;
    const counts = new Array<number>(n).fill(0);
    if (engine.ports.http !== undefined) {
      try {
        sockets = await Promise.all(
          Array.from({ length: n }, (_, i) =>
            subscribe(engine.ports.http!, (messageSeq) => {
              counts[i]!++;
              tracker.onEvent(messageSeq, performance.now());
            }),
          ),
        );
      } catch (err) {
        failure = err as Error;
      }
    } else {
      failure = new Error('the engine serves no HTTP (no "http" in ports.json)');
    }
    if (failure === undefined) {
      const pid = engine.child.pid;
      return {
        sink: 'ws',
        phases: 0,
        streamPosition: 0,
        mllpPort: engine.ports.mllp,
        httpPort: engine.ports.http,
        tracker,
        eventsReceived: () => [...counts],
        enginePeakRssMb: () => processPeakRssMb(pid),
        engineRssMb: () => processRssMb(pid),
        stop: async () => {
          for (const ws of sockets) ws.terminate();
          await stopChild(engine.child);
        },
      };
    }
    await stopChild(engine.child);
    if (options.sink === 'ws') throw failure;
    process.stderr.write(`[rig] WebSocket sink unavailable (${failure.message}); using the in-process sink\n`);
  }
  const input: EngineInput = {
    ...config,
    dataDir: options.dataDir,
    listeners: [{ ...(config.listeners?.[0] ?? {}), host: '127.0.0.1', port: 0 }],
  };
  const engine: Engine = await startEngine(resolveEngineOptions(input), { logger: silentLogger });
  if (engine.store === undefined) {
    await engine.stop();
    throw new Error('the in-process sink needs the converter enabled');
  }
  let count = 0;
  const off = engine.store.events.onAppended((events) => {
    const at = performance.now();
    count += events.length;
    for (const e of events) tracker.onEvent(e.messageSeq, at);
  });
  return {
    sink: 'inproc',
    phases: 0,
    streamPosition: 0,
    mllpPort: engine.ports.mllp,
    httpPort: engine.ports.http,
    tracker,
    eventsReceived: () => [count],
    enginePeakRssMb: () => ownPeakRssMb(),
    engineRssMb: () => process.memoryUsage.rss() / 2 ** 20,
    stop: async () => {
      off();
      await engine.stop();
    },
  };
}

/** What one load phase on the rig measured. */
export interface PhaseResult {
  load: LoadResult;
  /** End-to-end latency (ms) of the measured messages that produced an event. */
  e2e: { p50: number; p99: number; max: number; written: number; withEvent: number };
  /**
   * Messages written in the measured window per second from the window's start to the first
   * event of the last of them: the rate the whole pipeline kept up with.
   */
  pipelineMsgsPerSec: number;
  /** From the end of the load to the last event of the window's messages (ms). */
  drainMs: number;
  /** The sink's queue (ACKed minus converted, by seq) when the load stopped. */
  lagAtEnd: number;
}

/** Waits until no event has come for `quietMs`, or the sink has caught up with every ACK, or `maxMs` passed. */
export async function settle(rig: Rig, quietMs = 500, maxMs = 60_000): Promise<void> {
  const t0 = performance.now();
  let last = -1;
  let lastChange = performance.now();
  while (performance.now() - t0 < maxMs) {
    const seen = rig.tracker.lastEventMessageSeq;
    if (seen >= rig.tracker.lastAcked) return;
    if (seen !== last) {
      last = seen;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > quietMs) {
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs `load` on the rig, waits for the events, and measures. */
export async function runPhase(rig: Rig, load: Omit<LoadOptions, 'host' | 'port' | 'onAck'>): Promise<PhaseResult> {
  const from = performance.now() + (load.warmupMs ?? 0);
  const result = await runLoad({
    corpusSize: 2000,
    uniqueIdentifiers: true,
    idPrefix: `P${rig.phases}-`,
    startAt: rig.streamPosition,
    ...load,
    host: '127.0.0.1',
    port: rig.mllpPort,
    onAck: rig.tracker.onAck,
  });
  rig.phases++;
  rig.streamPosition += result.sent;
  const to = performance.now();
  const lagAtEnd = rig.tracker.lag();
  await settle(rig);
  const { sorted, written, withEvent } = rig.tracker.latencies(from, to);
  const lastEvent = rig.tracker.lastEventAt(from, to);
  return {
    load: result,
    e2e: { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.length > 0 ? sorted[sorted.length - 1]! : NaN, written, withEvent },
    pipelineMsgsPerSec: lastEvent > from ? written / ((lastEvent - from) / 1000) : 0,
    drainMs: Math.max(0, lastEvent - to),
    lagAtEnd,
  };
}
