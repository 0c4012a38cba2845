/** Shared helpers of the inbound log tests: a temp directory per test and message builders. */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TestContext } from 'node:test';
import { dedupKeyOf } from '../../src/queue/dedup.js';
import type { InboundRecordInput } from '../../src/queue/types.js';

/** A fresh directory under the OS temp dir, removed when the test ends. */
export async function tempDir(t: TestContext): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pacslink-queue-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The bytes of a small ADT^A01 with control id `id` and an optional body suffix. */
export function hl7(id: string, body = '', sender = 'HIS'): Buffer {
  return Buffer.from(
    `MSH|^~\\&|${sender}|HOSP|PACS|RAD|20250101120000||ADT^A01^ADT_A01|${id}|P|2.5.1\rPID|1||${id}^^^HOSP^MR||DOE^JOHN${body}\r`,
    'latin1',
  );
}

/** An append input for `hl7(id, body)`, with its dedup key. */
export function input(id: string, opts: { body?: string; receivedAt?: number; sender?: string; dedup?: boolean } = {}): InboundRecordInput {
  const sender = opts.sender ?? 'HIS';
  const raw = hl7(id, opts.body ?? '', sender);
  const rec: InboundRecordInput = {
    raw,
    receivedAt: opts.receivedAt ?? Date.now(),
    listener: 'adt',
    remote: '10.0.0.1:4000',
    messageType: 'ADT^A01^ADT_A01',
    controlId: id,
  };
  if (opts.dedup !== false) {
    rec.dedupKey = dedupKeyOf(sender, 'HOSP', id);
  }
  return rec;
}

/** A record of exactly `size` bytes (a padded HL7 message), without dedup. */
export function sized(id: string, size: number, receivedAt = Date.now()): InboundRecordInput {
  const head = hl7(id);
  const raw = Buffer.alloc(Math.max(size, head.length), 0x58);
  head.copy(raw);
  return { raw, receivedAt, listener: 'adt', remote: '10.0.0.1:4000', messageType: 'ADT^A01', controlId: id };
}

/** Asserts an outcome is `appended` and returns its seq. */
export function seqOf(outcome: { kind: string; seq?: number }): number {
  if (outcome.kind !== 'appended' || outcome.seq === undefined) {
    throw new Error(`expected appended, got ${JSON.stringify(outcome)}`);
  }
  return outcome.seq;
}

/** Message number `i` of the crash test: its bytes depend only on `i`; with a dedup key if asked. */
export function crashMessage(i: number, dedup = false): InboundRecordInput {
  const raw = hl7(`P${i}`, '|' + String(i).repeat(1 + (i % 97)));
  const rec: InboundRecordInput = {
    raw,
    receivedAt: 1_700_000_000_000 + i,
    listener: 'crash',
    remote: '127.0.0.1:1',
    messageType: 'ADT^A01',
    controlId: `P${i}`,
  };
  if (dedup) rec.dedupKey = dedupKeyOf('HIS', 'HOSP', `P${i}`);
  return rec;
}
