/**
 * The `pacslink` command line (INTERFACE.md "Command line"). This is the only module
 * that reads argv and `process.env`; each command lives in `src/commands/NAME.ts` and
 * exports `run(args, io): Promise<number>` returning the exit code.
 *
 * Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad configuration.
 */
import { PacslinkError, UsageError } from './errors.js';

/** Standard streams and environment handed to a command, so tests can run commands in-process. */
export interface CommandIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

/** A command module's shape. */
export interface CommandModule {
  run(args: string[], io: CommandIo): Promise<number>;
}

const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  parse: () => import('./commands/parse.js'),
  start: () => import('./commands/start.js'),
  send: () => import('./commands/send.js'),
  reprocess: () => import('./commands/reprocess.js'),
  rebuild: () => import('./commands/rebuild.js'),
  prefetch: () => import('./commands/prefetch.js'),
  subscribe: () => import('./commands/subscribe.js'),
  bench: () => import('./commands/bench.js'),
};

const USAGE = `usage: pacslink <command> [options]

commands:
  start [--config FILE] [--data DIR] [--mllp HOST:PORT] [--http HOST:PORT]
                           run the engine
  parse [--get PATH[,PATH...]] [--json] [--text] FILE|-
                           parse HL7 messages and print fields or JSON
  send --to HOST:PORT FILE|-
                           send messages over MLLP and print each ACK
  reprocess SEQ|--all-dead [--config FILE] [--data DIR]
                           convert dead-lettered messages again (engine stopped)
  rebuild [--config FILE] [--data DIR]
                           rebuild the repository from the inbound log (engine stopped)
  prefetch --date YYYY-MM-DD [--config FILE] [--data DIR] [--token TOKEN]
                           run the daily pre-fetch for a date now (through the engine when it runs)
  subscribe --url URL [--topics a,b] [--from SEQ] [--name NAME] [--format json|msgpack] [--token T]
                           print events from a running engine as JSON lines
  bench [--only SUITE,...] [--quick] [--scale 0,1e6,5e6] [--sink auto|ws|inproc] [--out DIR]
                           run the benchmarks (source checkout; see bench/README.md)
`;

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], io: CommandIo = defaultIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (load === undefined) {
    io.stderr.write(`pacslink: unknown command '${name}'\n${USAGE}`);
    return 2;
  }
  try {
    const command = await load();
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`pacslink ${name}: ${err.message}\n`);
      return 2;
    }
    const code = err instanceof PacslinkError ? ` [${err.code}]` : '';
    io.stderr.write(`pacslink ${name}: ${(err as Error).message ?? String(err)}${code}\n`);
    return 1;
  }
}

function defaultIo(): CommandIo {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
}
