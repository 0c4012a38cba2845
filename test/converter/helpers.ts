/** Shared helpers of the converter tests: temp dirs, pre-filled inbound logs, HL7 builders. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { generateCorpus } from '../../bench/corpus.js';
import { openLmdbInboundLog, type LmdbInboundLog } from '../../src/queue/index.js';
import { dedupKeyOf } from '../../src/queue/dedup.js';
import { readHeader } from '../../src/hl7/index.js';
import { type CliRun, runCli } from '../helpers/cli.js';

/** A fresh directory removed when the test ends. */
export async function tempDir(t: TestContext, prefix = 'pacslink-conv-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Appends `messages` in order (a few hundred at a time, so they are group-committed) and returns the seqs. */
export async function appendAll(log: LmdbInboundLog, messages: readonly Uint8Array[]): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < messages.length; i += 500) {
    const chunk = messages.slice(i, i + 500);
    const outcomes = await Promise.all(
      chunk.map((raw) => {
        const h = readHeader(raw);
        const header = h.header;
        return log.append({
          raw,
          receivedAt: Date.now(),
          listener: 'test',
          remote: '127.0.0.1:1',
          messageType: header?.messageType ?? '',
          controlId: header?.controlId ?? '',
          ...(h.ok ? { dedupKey: dedupKeyOf(h.header.sendingApplication, h.header.sendingFacility, h.header.controlId) } : {}),
        });
      }),
    );
    for (const o of outcomes) {
      if (o.kind !== 'appended') throw new Error(`append failed: ${JSON.stringify(o)}`);
      seqs.push(o.seq);
    }
  }
  return seqs;
}

/** Opens an inbound log at `dir` holding `messages`. */
export async function filledLog(dir: string, messages: readonly Uint8Array[]): Promise<LmdbInboundLog> {
  const log = await openLmdbInboundLog({ path: dir });
  await appendAll(log, messages);
  return log;
}

/** The bench corpus (realistic radiology traffic), `count` messages. */
export function corpus(count: number, seed = 20240102): Uint8Array[] {
  return generateCorpus({ seed, count });
}

/** A message from segments (joined with CR). */
export function hl7(...segments: string[]): Uint8Array {
  return Buffer.from(segments.join('\r') + '\r', 'utf8');
}

/** An ADT^A04 registering patient `id` (authority HOSP). */
export function a04(controlId: string, id: string, family = 'DOE'): Uint8Array {
  return hl7(
    `MSH|^~\\&|HIS|HOSP|PACS|RAD|20240102120000||ADT^A04^ADT_A01|${controlId}|P|2.5.1`,
    `EVN|A04|20240102120000`,
    `PID|1||${id}^^^HOSP^MR||${family}^JOHN||19700101|M`,
    `PV1|1|O|RAD^XR1^^MAIN`,
  );
}

/** An ADT^A04 without PID-3: cannot be converted (a required field is missing). */
export function a04WithoutId(controlId: string): Uint8Array {
  return hl7(
    `MSH|^~\\&|HIS|HOSP|PACS|RAD|20240102120000||ADT^A04^ADT_A01|${controlId}|P|2.5.1`,
    `EVN|A04|20240102120000`,
    `PID|1||||NOID^JOHN||19700101|M`,
    `PV1|1|O`,
  );
}

/** Runs `pacslink ARGS` in-process. */
export function pacslink(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return runCli(args, { env });
}

/** Runs the converter over a data directory's inbound log until it has converted everything, then stops it. */
export async function convertAll(
  dataDir: string,
  input: import('../../src/config.js').EngineInput = {},
): Promise<{ digest: string; events: number; deadLetters: number[]; stats: import('../../src/converter/converter.js').ConverterStats }> {
  const { resolveEngineOptions } = await import('../../src/config.js');
  const { openConversionStore, startConverter } = await import('../../src/converter/stage.js');
  const { openDefaultLog } = await import('../../src/engine.js');
  const { silentLogger } = await import('../../src/log.js');
  const options = resolveEngineOptions({ ...input, dataDir });
  const log = (await openDefaultLog(options)) as LmdbInboundLog;
  const store = await openConversionStore(options);
  try {
    const converter = startConverter(options, store, { log, inboundPath: log.path, logger: silentLogger });
    await converter.idle(log.lastSeq());
    const stats = converter.stats();
    await converter.stop();
    return {
      digest: store.repository.digest(),
      events: store.events.lastSeq(),
      deadLetters: store.deadLetters.list(0, 1e9).map((d) => d.seq),
      stats,
    };
  } finally {
    await store.repository.close();
    await log.close();
  }
}
