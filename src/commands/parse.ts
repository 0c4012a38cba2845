/**
 * `pacslink parse [--get PATH[,PATH...]] [--json] [--text] FILE|-` (INTERFACE.md).
 *
 * Reads MLLP frames, plain messages or batch files and prints, per message, either the
 * decoded values of the paths (tab-separated, one line per message; CR, LF, TAB and
 * backslash inside a value written `\r`, `\n`, `\t`, `\\`; the HL7 null written `""`) or
 * the whole message as one line of JSON. `--text` renders FT formatting (`\.br\` …) as text.
 * Exit code 1 when a message or batch could not be read (the others are still printed).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { CommandIo } from '../cli.js';
import { UsageError } from '../errors.js';
import { type FieldPath, Hl7Message, Render, compilePath, isFieldPath, messageToJson, splitMessages } from '../hl7/index.js';

/** Escapes a value for one tab-separated output cell. */
export function cell(value: string): string {
  return value.replace(/[\\\r\n\t]/g, (ch) => (ch === '\\' ? '\\\\' : ch === '\r' ? '\\r' : ch === '\n' ? '\\n' : '\\t'));
}

/** Reads a whole file, or standard input for `-`. */
export async function readInput(file: string, io: CommandIo): Promise<Buffer> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    return Buffer.concat(chunks);
  }
  try {
    return await readFile(file);
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

/** Runs the command; see the module comment. */
export async function run(args: string[], io: CommandIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { get: { type: 'string' }, json: { type: 'boolean' }, text: { type: 'boolean' } },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError('expected exactly one FILE (or - for standard input)');
  if (values.get !== undefined && values.json === true) throw new UsageError('--get and --json cannot be combined');
  const paths: FieldPath[] = [];
  for (const text of (values.get ?? '').split(',').filter((p) => p.trim() !== '')) {
    const p = compilePath(text.trim());
    if (!isFieldPath(p)) throw new UsageError(p.message);
    paths.push(p);
  }
  if (values.get !== undefined && paths.length === 0) throw new UsageError('--get needs at least one field path');
  const render = values.text === true ? Render.Text : Render.Raw;

  const input = await readInput(positionals[0]!, io);
  const split = splitMessages(input);
  let failed = split.errors.length > 0;
  for (const error of split.errors) io.stderr.write(`pacslink parse: ${error.message}\n`);
  const msg = new Hl7Message();
  let out = '';
  split.messages.forEach((bytes, index) => {
    const error = msg.parse(bytes);
    if (error !== undefined) {
      failed = true;
      io.stderr.write(`pacslink parse: message ${index + 1}: ${error.message} [${error.code}]\n`);
      if (paths.length > 0) out += '\n';
      return;
    }
    out += paths.length > 0 ? paths.map((p) => cell(msg.get(p, render))).join('\t') + '\n' : JSON.stringify(messageToJson(msg, render)) + '\n';
    if (out.length > 1 << 16) {
      io.stdout.write(out);
      out = '';
    }
  });
  io.stdout.write(out);
  if (split.messages.length === 0) {
    io.stderr.write('pacslink parse: no HL7 message found in the input\n');
    return 1;
  }
  return failed ? 1 : 0;
}
