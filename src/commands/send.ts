/**
 * `pacslink send --to HOST:PORT FILE|-` (INTERFACE.md): sends each message over one MLLP
 * connection, waits for its ACK, prints `MSA-1<TAB>MSA-2` per message; exit code 0 only if
 * every ACK was AA or CA.
 *
 * Input: what `pacslink parse` reads: MLLP frames, or plain messages each beginning at a
 * line starting with `MSH` (CR, LF or CRLF end segments; sent with CR), batch files
 * included (their FHS/BHS/BTS/FTS envelope is not sent).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { CommandIo } from '../cli.js';
import { parseHostPort } from '../config.js';
import { UsageError } from '../errors.js';
import { splitMessages } from '../hl7/index.js';
import { MllpFramer } from '../listener/framer.js';
import { MllpClient, readAck } from '../mllp/client.js';

/**
 * Splits input into message payloads with the HL7 core's splitter (the input `parse`
 * accepts). MLLP frames are sent verbatim (their exact payload); plain messages get CR segment terminators (CRLF
 * and LF become CR), as MLLP peers expect.
 */
export function messagesToSend(input: Uint8Array): Uint8Array[] {
  let i = 0;
  while (i < input.length && (input[i] === 0x20 || input[i] === 0x09 || input[i] === 0x0d || input[i] === 0x0a)) i++;
  if (input[i] === 0x0b) {
    const frames: Uint8Array[] = [];
    const framer = new MllpFramer(
      { maxFrameBytes: Math.max(input.length, 1024), tolerantEndBlock: true },
      { onFrame: (p) => frames.push(p), onJunk: () => {}, onOversized: () => {}, onFrameError: () => {} },
    );
    framer.push(input);
    framer.end();
    return frames;
  }
  return splitMessages(input).messages.map((m) => {
    const text = Buffer.from(m.buffer, m.byteOffset, m.length).toString('latin1');
    const segments = text.split(/\r\n|\r|\n/).filter((line) => line.trim() !== '');
    return Buffer.from(segments.join('\r') + '\r', 'latin1');
  });
}

async function readInput(file: string, stdin: NodeJS.ReadableStream): Promise<Uint8Array> {
  if (file !== '-') return await readFile(file);
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}

/** Runs `send`. */
export async function run(args: string[], io: CommandIo): Promise<number> {
  let values: { to?: string; timeout?: string };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: { to: { type: 'string' }, timeout: { type: 'string' } },
      strict: true,
      allowPositionals: true,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.to === undefined) throw new UsageError('--to HOST:PORT is required');
  if (positionals.length !== 1) throw new UsageError('exactly one FILE (or - for stdin) is required');
  let target: { host: string; port: number };
  try {
    target = parseHostPort(values.to, '--to');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (target.port === 0) throw new UsageError('--to needs a port other than 0');
  const ackTimeoutMs = values.timeout !== undefined ? Number(values.timeout) * 1000 : 30_000;
  if (!(ackTimeoutMs > 0)) throw new UsageError('--timeout must be a positive number of seconds');
  const messages = messagesToSend(await readInput(positionals[0]!, io.stdin));
  if (messages.length === 0) {
    io.stderr.write('pacslink send: no messages in input\n');
    return 1;
  }
  const host = target.host === '0.0.0.0' ? '127.0.0.1' : target.host;
  const client = await MllpClient.connect({ host, port: target.port, ackTimeoutMs });
  let allAccepted = true;
  try {
    for (const m of messages) {
      const ack = readAck(await client.send(m));
      io.stdout.write(`${ack.code}\t${ack.controlId}\n`);
      if (ack.code !== 'AA' && ack.code !== 'CA') allAccepted = false;
    }
  } finally {
    await client.close();
  }
  return allAccepted ? 0 : 1;
}
