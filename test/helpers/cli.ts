/** Runs the `pacslink` CLI in-process with fake standard streams (shared by the CLI tests). */
import { PassThrough, Readable } from 'node:stream';
import { main } from '../../src/cli.js';

/** The outcome of an in-process `pacslink` run. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `pacslink ARGS` in-process with `stdin` as standard input and `env` as its environment. */
export async function runCli(args: string[], options: { stdin?: Buffer | string; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const stdin = Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]);
  const code = await main(args, { stdin, stdout, stderr, env: options.env ?? {} });
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}
