/** A test client of WebSocket `/events`: collects events, acknowledges, reports close codes and refusals. */
import { WebSocket } from 'ws';
import { unpack, pack } from 'msgpackr';
import assert from 'node:assert/strict';
import type { EngineEvent } from '../../src/events/types.js';
import { MllpClient, readAck } from '../../src/mllp/client.js';

/** A connected test subscriber. */
export interface TestSubscriber {
  ws: WebSocket;
  events: EngineEvent[];
  /** Frames received with the wrong kind (text in msgpack, binary in json). */
  wrongKind: number;
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  /** Sends `{"ack": seq}` (JSON text, or msgpack binary with `binary`). */
  ack(seq: number, binary?: boolean): void;
  /** Resolves once `n` events have arrived (rejects on close or after `timeoutMs`). */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Builds `ws://127.0.0.1:PORT/events?QUERY`. */
export function eventsUrl(port: number, query: Record<string, string | number> = {}): string {
  const q = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]));
  const s = q.toString();
  return `ws://127.0.0.1:${port}/events${s === '' ? '' : '?' + s}`;
}

/** Connects and collects events; rejects if the upgrade is refused. */
export async function subscribe(
  port: number,
  query: Record<string, string | number> = {},
  headers: Record<string, string> = {},
): Promise<TestSubscriber> {
  const binary = query.format === 'msgpack';
  const ws = new WebSocket(eventsUrl(port, query), { headers, perMessageDeflate: false });
  const events: EngineEvent[] = [];
  const waiters = new Set<() => void>();
  let closeInfo: { code: number; reason: string } | undefined;
  const sub: TestSubscriber = {
    ws,
    events,
    wrongKind: 0,
    closed: new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        closeInfo = { code, reason: reason.toString('utf8') };
        for (const w of waiters) w();
        resolve(closeInfo);
      });
    }),
    ack(seq, asBinary = false) {
      if (asBinary) ws.send(pack({ ack: seq }), { binary: true });
      else ws.send(JSON.stringify({ ack: seq }));
    },
    waitFor(n, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (events.length >= n) {
            done();
            resolve();
          } else if (closeInfo !== undefined) {
            done();
            reject(new Error(`closed ${closeInfo.code} "${closeInfo.reason}" after ${events.length} of ${n} events`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out with ${events.length} of ${n} events`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async close() {
      if (ws.readyState === WebSocket.CLOSED) return;
      ws.close(1000);
      await sub.closed;
    },
  };
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary !== binary) sub.wrongKind++;
    events.push((isBinary ? unpack(data) : JSON.parse(data.toString('utf8'))) as EngineEvent);
    for (const w of waiters) w();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => {
      reject(new Error(`refused ${res.statusCode}`));
      res.resume();
    });
    ws.once('error', reject);
  });
  return sub;
}

/** Tries an upgrade that should be refused; resolves with its status and error JSON. */
export function refusal(
  port: number,
  query: Record<string, string | number> = {},
  headers: Record<string, string> = {},
): Promise<{ status: number; body: { error: { code: string; message: string } } }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(eventsUrl(port, query), { headers });
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    ws.once('error', () => {});
  });
}

/** Asserts-friendly: the seqs of `events`. */
export function seqs(events: readonly EngineEvent[]): number[] {
  return events.map((e) => e.seq);
}

/** 1..n (or from+1..to) as an array. */
export function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from + 1; i <= to; i++) out.push(i);
  return out;
}

/** An order for a new patient: two events (patient.created, order.scheduled). */
export function orderMessage(i: number, padBytes = 0): Buffer {
  const pad = padBytes > 0 ? '^' + 'X'.repeat(padBytes) : '';
  return Buffer.from(
    [
      `MSH|^~\\&|RIS|HOSP|PACS|RAD|20240102120000||ORM^O01^ORM_O01|ORD${i}|P|2.5.1`,
      `PID|1||P${i}^^^HOSP^MR||ROE^JANE${pad}||19800101|F`,
      `ORC|NW|PL${i}|FL${i}||SC`,
      `OBR|1|PL${i}|FL${i}|71020^CHEST XRAY 2 VIEWS^CPT4|||20240102120000|||||||||||ACC${i}|||||||CR`,
    ].join('\r') + '\r',
    'latin1',
  );
}

/** Sends orders `from..to` (inclusive) on one connection; every ACK must be AA. */
export async function sendOrders(port: number, from: number, to: number, padBytes = 0): Promise<void> {
  const client = await MllpClient.connect({ host: '127.0.0.1', port });
  try {
    for (let i = from; i <= to; i++) {
      const ack = readAck(await client.send(orderMessage(i, padBytes)));
      assert.equal(ack.code, 'AA', `ACK of order ${i}`);
    }
  } finally {
    await client.close();
  }
}

