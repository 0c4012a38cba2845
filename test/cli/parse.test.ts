/**
 * `pacslink parse` (INTERFACE.md "Command line"): --get cells (tab-separated, one line per
 * message, CR/LF/TAB/backslash written as escapes, the HL7 null as `""`), --json, --text,
 * MLLP-framed input, standard input, and the exit codes 0/1/2. Run in-process through
 * `main` with fake streams, and once as a real child process.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { type CliRun, runCli } from '../helpers/cli.js';

const BIN = fileURLToPath(new URL('../../../bin/pacslink.js', import.meta.url));

type Run = CliRun;

/** Runs `pacslink ARGS` in-process with `stdin` as standard input. */
function pacslink(args: string[], stdin: Buffer | string = ''): Promise<Run> {
  return runCli(args, { stdin });
}

function child(args: string[], input?: Buffer): Promise<Run> {
  return new Promise((resolve) => {
    const proc = execFile(process.execPath, [BIN, ...args], (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? 1), stdout, stderr });
    });
    proc.stdin!.end(input ?? '');
  });
}

const M1 = [
  'MSH|^~\\&|RIS|HOSP|PACS|RAD|20240102120000||ORM^O01^ORM_O01|MSG0001|P|2.5.1||||||UNICODE UTF-8',
  'PID|1||12345^^^HOSP^MR~998^^^OTHER^PI||MÜLLER^JÜRGEN||19800101|""',
  'OBR|1|PL1|FI1|CT^CT Head|||||||||||||||ACC1',
  'OBX|1|TX|||line1\\X0D\\\\X0A\\line2\\.br\\after\ttab \\E\\ back\\F\\slash',
].join('\r');
const M2 = [
  'MSH|^~\\&|RIS|HOSP|PACS|RAD|20240102120100||ADT^A08|MSG0002|P|2.3.1',
  'PID|1||777^^^HOSP||DOE^JOHN',
].join('\r');

let dir = '';
let file = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pacslink-parse-'));
  file = join(dir, 'in.hl7');
  await writeFile(file, `${M1}\r${M2}\r`);
});
after(() => rm(dir, { recursive: true, force: true }));

async function fileWith(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

describe('pacslink parse --get', () => {
  it('prints the paths tab-separated, one line per message', async () => {
    const r = await pacslink(['parse', '--get', 'MSH-10,PID-3.1,PID-3[2].4,PID-5.1,MSH-9.2', file]);
    assert.equal(r.stdout, 'MSG0001\t12345\tOTHER\tMÜLLER\tO01\nMSG0002\t777\t\tDOE\tA08\n');
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
  });

  it('writes CR, LF, TAB and backslash inside a value as \\r \\n \\t \\\\', async () => {
    const r = await pacslink(['parse', '--get', 'OBX-5', file]);
    assert.equal(r.stdout.split('\n')[0], 'line1\\r\\nline2\\\\.br\\\\after\\ttab \\\\ back|slash');
    assert.equal(r.code, 0);
  });

  it('prints the HL7 null as "" and absent paths as empty cells', async () => {
    const r = await pacslink(['parse', '--get', 'PID-8,PID-9,ZZZ-1,PID-3[5],PID-99', file]);
    assert.equal(r.stdout, '""\t\t\t\t\n\t\t\t\t\n');
    assert.equal(r.code, 0);
  });

  it('prints elements above their leaves in wire form', async () => {
    const r = await pacslink(['parse', '--get', 'PID-5,PID-3,MSH-2,MSH-1', file]);
    assert.equal(r.stdout.split('\n')[0], 'MÜLLER^JÜRGEN\t12345^^^HOSP^MR~998^^^OTHER^PI\t^~\\\\&\t|');
  });

  it('reads MLLP-framed input', async () => {
    const framed = await fileWith('framed.hl7', `\x0b${M1}\r\x1c\r\n\x0b${M2}\r\x1c\r`);
    const r = await pacslink(['parse', '--get', 'MSH-10', framed]);
    assert.equal(r.stdout, 'MSG0001\nMSG0002\n');
    assert.equal(r.code, 0);
  });

  it('reads standard input for -, with LF line ends', async () => {
    const r = await pacslink(['parse', '--get', 'MSH-10,PID-5.2', '-'], `${M2.replace(/\r/g, '\n')}\n\n${M1.replace(/\r/g, '\n')}\n`);
    assert.equal(r.stdout, 'MSG0002\tJOHN\nMSG0001\tJÜRGEN\n');
    assert.equal(r.code, 0);
  });

  it('--text renders \\.br\\ as a line break, written \\n in the cell', async () => {
    const r = await pacslink(['parse', '--text', '--get', 'OBX-5', file]);
    assert.equal(r.stdout.split('\n')[0], 'line1\\r\\nline2\\nafter\\ttab \\\\ back|slash');
  });
});

describe('pacslink parse --json', () => {
  it('prints one JSON line per message: segments with fields, null for "", repetitions and components', async () => {
    const r = await pacslink(['parse', '--json', file]);
    assert.equal(r.code, 0);
    const out = r.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { segments: Array<{ id: string; fields: unknown[] }> });
    assert.equal(out.length, 2);
    const [first, second] = out;
    assert.deepEqual(first!.segments.map((s) => s.id), ['MSH', 'PID', 'OBR', 'OBX']);
    const msh = first!.segments[0]!.fields;
    assert.equal(msh[0], '|');
    assert.equal(msh[1], '^~\\&');
    assert.deepEqual(msh[8], ['ORM', 'O01', 'ORM_O01']);
    assert.equal(msh[9], 'MSG0001');
    const pid = first!.segments[1]!.fields;
    assert.deepEqual(pid[2], { repetitions: [['12345', '', '', 'HOSP', 'MR'], ['998', '', '', 'OTHER', 'PI']] });
    assert.deepEqual(pid[4], ['MÜLLER', 'JÜRGEN']);
    assert.equal(pid[6], '19800101');
    assert.equal(pid[7], null, 'PID-8 "" is null');
    assert.equal(pid[1], '', 'empty PID-2');
    assert.equal(first!.segments[3]!.fields[4], 'line1\r\nline2\\.br\\after\ttab \\ back|slash');
    assert.deepEqual(second!.segments[1]!.fields, ['1', '', ['777', '', '', 'HOSP'], '', ['DOE', 'JOHN']]);
  });

  it('--json --text renders formatting in values', async () => {
    const r = await pacslink(['parse', '--json', '--text', file]);
    const first = JSON.parse(r.stdout.split('\n')[0]!) as { segments: Array<{ fields: unknown[] }> };
    assert.equal(first.segments[3]!.fields[4], 'line1\r\nline2\nafter\ttab \\ back|slash');
  });
});

describe('pacslink parse: exit codes', () => {
  it('a bad path exits 2 with a one-line reason', async () => {
    for (const bad of ['PID-0', 'pid-3', 'PID-3..1', 'PID-3[0]', 'X-1']) {
      const r = await pacslink(['parse', '--get', `MSH-10,${bad}`, file]);
      assert.equal(r.code, 2, bad);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^pacslink parse: invalid field path '[^']*'[^\n]*\n$/, bad);
    }
  });

  it('a missing file exits 2 with a one-line reason', async () => {
    const r = await pacslink(['parse', '--get', 'MSH-10', join(dir, 'does-not-exist.hl7')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^pacslink parse: cannot read .*does-not-exist\.hl7: ENOENT\n$/);
  });

  it('--get with --json, no file, or two files exits 2', async () => {
    for (const args of [['--get', 'MSH-10', '--json', file], [], [file, file], ['--get', ',', file], ['--bogus', file]]) {
      const r = await pacslink(['parse', ...args]);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stderr.split('\n').length, 2, `one line: ${r.stderr}`);
    }
  });

  it('garbage input exits 1 with a reason on stderr', async () => {
    const r = await pacslink(['parse', '--get', 'MSH-10', await fileWith('garbage.bin', Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0d, 0x0a, 0x41]))]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /no HL7 message found/);
  });

  it('a bad message exits 1 while the good messages in the same file are still printed', async () => {
    const mixed = await fileWith('mixed.hl7', `junk before\r${M1}\rMSH|||bad\rPID|1\r${M2}\r`);
    const r = await pacslink(['parse', '--get', 'MSH-10', mixed]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'MSG0001\n\nMSG0002\n', 'the bad message keeps its line, empty');
    assert.match(r.stderr, /data before any MSH segment/);
    assert.match(r.stderr, /message 2: MSH-2 must hold 1 to 5 encoding characters, found 0 \[BAD_DELIMITERS\]/);
    const json = await pacslink(['parse', '--json', mixed]);
    assert.equal(json.code, 1);
    assert.deepEqual(json.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as { segments: Array<{ fields: unknown[] }> }).segments[0]!.fields[9]), ['MSG0001', 'MSG0002']);
  });

  it('a batch with a wrong BTS-1 exits 1 and prints its messages', async () => {
    const batch = await fileWith('batch.hl7', `FHS|^~\\&\rBHS|^~\\&\r${M1}\r${M2}\rBTS|3\rFTS|1\r`);
    const r = await pacslink(['parse', '--get', 'MSH-10', batch]);
    assert.equal(r.stdout, 'MSG0001\nMSG0002\n');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /BTS-1 declares 3 messages but the batch holds 2/);
  });
});

describe('pacslink parse as a child process', () => {
  it('runs bin/pacslink.js on a file and on standard input with the same output and exit codes', async () => {
    const onFile = await child(['parse', '--get', 'MSH-10,PID-5.1,OBX-5', file]);
    assert.equal(onFile.code, 0, onFile.stderr);
    assert.equal(onFile.stdout, 'MSG0001\tMÜLLER\tline1\\r\\nline2\\\\.br\\\\after\\ttab \\\\ back|slash\nMSG0002\tDOE\t\n');
    const onStdin = await child(['parse', '--get', 'MSH-10', '-'], Buffer.from(`\x0b${M2}\r\x1c\r`, 'utf8'));
    assert.equal(onStdin.stdout, 'MSG0002\n');
    assert.equal(onStdin.code, 0);
    const bad = await child(['parse', '--get', 'PID-x', file]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /invalid field path 'PID-x'/);
  });
});
