import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveEngineOptions, type EngineInput, type ListenerInput } from '../../src/config.js';
import { startEngine, type Engine } from '../../src/engine.js';
import { silentLogger, type Logger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import type { InboundLog } from '../../src/queue/types.js';

/** A message with the given control ID (and optional MSH-11, MSH-15). */
export function message(controlId: string, opts: { processingId?: string; accept?: string; pad?: number; sender?: string } = {}): Buffer {
  const msh = `MSH|^~\\&|${opts.sender ?? 'RIS'}|HOSP|PACS|RAD|20240102120000||ORM^O01^ORM_O01|${controlId}|${opts.processingId ?? 'P'}|2.5.1|||${opts.accept ?? ''}`;
  const pid = `PID|1||12345^^^HOSP^MR||DOE^JOHN${opts.pad !== undefined ? '^' + 'X'.repeat(opts.pad) : ''}`;
  return Buffer.from(`${msh}\r${pid}\r`, 'latin1');
}

export const VT = 0x0b;
export function framed(payload: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([0x0b]), payload, Buffer.from([0x1c, 0x0d])]);
}

export interface TestEngine {
  engine: Engine;
  port: number;
  dir: string;
  close(): Promise<void>;
}

/** Starts an engine on 127.0.0.1:0 with a temp data dir and the given log (and logger: silent unless given). */
export async function testEngine(
  log: InboundLog | undefined,
  listener: ListenerInput = {},
  engine: EngineInput = {},
  logger: Logger = silentLogger,
): Promise<TestEngine> {
  const dir = await mkdtemp(join(tmpdir(), 'pacslink-test-'));
  const options = resolveEngineOptions({
    dataDir: dir,
    ...engine,
    http: typeof engine.http === 'object' ? { port: 0, ...engine.http } : (engine.http ?? { port: 0 }),
    listeners: engine.listeners ?? [{ host: '127.0.0.1', port: 0, ...listener }],
  });
  const e = await startEngine(options, {
    logger,
    metrics: createMetrics({ defaultMetrics: false }),
    ...(log !== undefined ? { openLog: async () => log } : {}),
  });
  return {
    engine: e,
    port: e.ports.mllp,
    dir,
    async close() {
      await e.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves when `cond()` holds, re-checking after each turn of the event loop (with a deadline). */
export async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** Splits an ACK payload into segments of fields. */
export function segments(ack: Uint8Array): string[][] {
  const text = Buffer.from(ack).toString('latin1');
  return text.split('\r').filter((s) => s !== '').map((s) => s.split('|'));
}
export function seg(ack: Uint8Array, id: string): string[] | undefined {
  return segments(ack).find((s) => s[0] === id);
}
