/**
 * The `pacslink start` and `pacslink send` commands as users run them: the engine as a
 * child process on a temp data dir and port 0, `ports.json` with every listener, `send`
 * printing MSA-1/MSA-2 and its exit codes, and a graceful stop on SIGTERM.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { message } from '../listener/helpers.js';

const BIN = fileURLToPath(new URL('../../../bin/pacslink.js', import.meta.url));

function pacslink(args: string[], input?: Buffer): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? 1), stdout, stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

describe('pacslink start / send', () => {
  it('start writes ports.json for every listener; send prints MSA-1 and MSA-2; SIGTERM stops cleanly', { timeout: 60_000 }, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'pacslink-cli-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const config = join(dir, 'config.json');
    await writeFile(config, JSON.stringify({
      listeners: [
        { name: 'ris', host: '127.0.0.1', port: 0 },
        { name: 'lab', host: '127.0.0.1', port: 0, processingIds: ['P'] },
      ],
      http: { host: '127.0.0.1', port: 0 },
    }));
    const data = join(dir, 'data');
    const child = spawn(process.execPath, [BIN, 'start', '--config', config, '--data', data], { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = once(child, 'exit');
    const lines = createInterface({ input: child.stderr });
    let started = 0;
    for await (const line of lines) {
      if ((JSON.parse(line) as { msg: string }).msg === 'engine started') break;
      started++;
    }
    lines.on('line', () => {});
    assert.ok(started >= 2, 'each listener logged its port');
    const ports = JSON.parse(await readFile(join(data, 'ports.json'), 'utf8')) as { mllp: number; http: number; listeners: Record<string, number> };
    assert.equal(ports.mllp, ports.listeners.ris);
    const health = await fetch(`http://127.0.0.1:${ports.http}/healthz`);
    assert.equal(health.status, 200, 'the gateway answers on the http port of ports.json');
    assert.ok(ports.listeners.lab! > 0 && ports.listeners.lab !== ports.listeners.ris);

    const file = join(dir, 'in.hl7');
    // Plain messages separated by LF line ends, as an editor would save them.
    await writeFile(file, [message('CLI1'), message('CLI2')].map((m) => m.toString('latin1').replace(/\r/g, '\n')).join(''));
    const ok = await pacslink(['send', '--to', `127.0.0.1:${ports.listeners.ris}`, file]);
    assert.equal(ok.stdout, 'AA\tCLI1\nAA\tCLI2\n');
    assert.equal(ok.code, 0);

    const refused = await pacslink(['send', '--to', `127.0.0.1:${ports.listeners.lab}`, '-'], Buffer.concat([message('CLI3', { processingId: 'T' })]));
    assert.equal(refused.stdout, 'AR\tCLI3\n');
    assert.equal(refused.code, 1, 'exit 1 when any ACK is not AA/CA');

    const usage = await pacslink(['send', file]);
    assert.equal(usage.code, 2);
    const badConfig = await pacslink(['start', '--mllp', 'nonsense']);
    assert.equal(badConfig.code, 2);
    assert.match(badConfig.stderr, /--mllp must be HOST:PORT/);
    // HTTP beyond loopback without tokens is refused before anything binds.
    const open = await pacslink(['start', '--data', join(dir, 'never'), '--mllp', '127.0.0.1:0', '--http', '0.0.0.0:0']);
    assert.equal(open.code, 2);
    assert.match(open.stderr, /http binds 0\.0\.0\.0, beyond loopback, without tokens: add http\.tokens/);

    child.kill('SIGTERM');
    const [code] = await exited;
    assert.equal(code, 0);
  });
});
