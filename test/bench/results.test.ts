import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli.js';
import { startAckOnlyServer } from '../../bench/ack-only-server.js';
import { runLoad } from '../../bench/mllp-load.js';
import { PEER_SERVERS, startPeerServer } from '../../bench/peer-servers.js';
import { markdownTable, readReport, renderSummary, textTable, writeReport, type SuiteReport } from '../../bench/results.js';
import { parseRunArgs, runBenchmarks } from '../../bench/run.js';
import { SeqTracker } from '../../bench/pipeline-rig.js';

function sink(): PassThrough & { text: () => string } {
  const chunks: Buffer[] = [];
  const s = new PassThrough() as PassThrough & { text: () => string };
  s.on('data', (c: Buffer) => chunks.push(c));
  s.text = () => Buffer.concat(chunks).toString('utf8');
  return s;
}

const sample: SuiteReport = {
  suite: 'demo',
  title: 'a demo suite',
  command: 'node dist/bench/demo.js',
  headline: [{ name: 'rate', value: 1234.5, unit: 'msgs/s', note: 'a|b' }],
  tables: [{ title: 'rows', columns: ['name', 'msgs/s'], rows: [['x|y', '1,234']] }],
  peakRssMb: { bench: 50, engine: 120 },
  data: { anything: [1, 2, 3] },
};

test('a written report reads back with the machine and date added', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pacslink-results-'));
  try {
    const path = writeReport(sample, join(dir, 'demo.json'));
    const back = readReport(path);
    assert.equal(back.suite, 'demo');
    assert.deepEqual(back.headline, sample.headline);
    assert.deepEqual(back.data, sample.data);
    assert.ok(back.machine.cores >= 1);
    assert.match(back.machine.node, /^v\d+/);
    assert.ok(!Number.isNaN(Date.parse(back.date)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readReport refuses JSON that is not a report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pacslink-results-'));
  try {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"rows": []}');
    assert.throws(() => readReport(bad), /not a benchmark report/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('summary.md holds the machine, the command, the headline table with peak RSS, and every table with pipes escaped', () => {
  const md = renderSummary([sample], { command: 'npm run bench -- --quick', date: '2026-01-01T00:00:00.000Z' });
  assert.match(md, /- date: 2026-01-01T00:00:00.000Z/);
  assert.match(md, /- machine: .+, \d+ cores, \d+ GB RAM/);
  assert.match(md, /- Node: v\d+/);
  assert.match(md, /- command: `npm run bench -- --quick`/);
  assert.match(md, /\| demo \| rate \| 1,235 \| msgs\/s \| a\\\|b \|/);
  assert.match(md, /\| demo \| peak RSS \| {2}\| MB \| engine 120, bench 50 \|/);
  assert.match(md, /\| x\\\|y \| 1,234 \|/);
  assert.match(md, /Reproduce: `node dist\/bench\/demo.js`/);
});

test('text tables right-align numeric columns only', () => {
  const t = textTable({ columns: ['name', 'n'], rows: [['a', '1'], ['bbb', '1,000']] });
  assert.deepEqual(t.split('\n'), ['name      n', '----  -----', 'a         1', 'bbb   1,000']);
  assert.equal(markdownTable({ columns: ['a'], rows: [['1']] }), '| a |\n|---|\n| 1 |');
});

test('runner arguments: suites by --only or by name, bad suites and flags refused', () => {
  assert.deepEqual(parseRunArgs(['--only', 'ingest,pipeline', '--quick']).only, ['ingest', 'pipeline']);
  assert.deepEqual(parseRunArgs(['parser']).only, ['parser']);
  assert.equal(parseRunArgs(['--scale', '0,1e6,5e6']).scale, '0,1e6,5e6');
  assert.throws(() => parseRunArgs(['--only', 'nope']), /unknown suite nope/);
  assert.throws(() => parseRunArgs(['--scale', 'lots']), /--scale/);
  assert.throws(() => parseRunArgs(['--sink', 'carrier-pigeon']), /--sink/);
});

test('pacslink bench answers bad usage with exit code 2 and a reason', async () => {
  const err = sink();
  const code = await main(['bench', '--only', 'nope'], { stdin: new PassThrough(), stdout: sink(), stderr: err, env: {} });
  assert.equal(code, 2);
  assert.match(err.text(), /unknown suite nope/);
});

test('a quick run of one suite writes its JSON and summary.md and prints the final table', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pacslink-bench-run-'));
  try {
    const out = sink();
    const progress = sink();
    const outcome = await runBenchmarks({ only: ['parser'], quick: true, outDir: dir, out, progress, command: 'test' });
    assert.deepEqual(outcome.failed, [], progress.text());
    assert.ok(existsSync(join(dir, 'parser.json')));
    const report = readReport(join(dir, 'parser.json'));
    assert.equal(report.suite, 'parser');
    assert.ok(report.headline.length >= 2, 'pacslink and at least one peer parser');
    assert.ok(report.peakRssMb.bench > 0);
    const md = readFileSync(outcome.summaryPath, 'utf8');
    assert.match(md, /## parser: /);
    assert.match(out.text(), /pacslink benchmarks \(test\)/);
    assert.match(out.text(), /parse \+ read 4 fields, pacslink/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('each npm peer MLLP server answers every message with AA and its control ID', async () => {
  for (const name of PEER_SERVERS) {
    const server = await startPeerServer(name);
    try {
      const r = await runLoad({ host: '127.0.0.1', port: server.port, connections: 2, count: 20, ...(name === 'node-hl7-server' ? { reconnectEachMessage: true } : {}) });
      assert.equal(r.errors, 0, name);
      assert.equal(r.messages, 20, name);
    } finally {
      await server.close();
    }
  }
});

test('open-loop load pipelines messages and matches every ACK in order', async () => {
  const { server, port } = await startAckOnlyServer();
  try {
    const seqs: number[] = [];
    const r = await runLoad({ host: '127.0.0.1', port, connections: 2, rate: 400, durationMs: 300, uniqueIdentifiers: true, corpusSize: 300, onAck: () => seqs.push(1) });
    assert.equal(r.errors, 0);
    assert.equal(r.skipped, 0);
    assert.ok(r.sent > 0);
    assert.equal(seqs.length, r.sent);
  } finally {
    server.close();
  }
});

test('the seq tracker matches ACK seqs (PL<seq>) with first events and reports the lag', () => {
  const t = new SeqTracker();
  const ack = (seq: number): Buffer => Buffer.from(`MSH|^~\\&|PACSLINK|RAD|RIS|HOSP|20250101||ACK^O01^ACK|PL${seq}|P|2.5.1\rMSA|AA|X${seq}\r`, 'latin1');
  t.onAck(ack(1), 100);
  t.onAck(ack(2), 110);
  t.onAck(ack(3), 120);
  t.onEvent(1, 105);
  t.onEvent(1, 150);
  t.onEvent(2, 130);
  assert.equal(t.lag(), 1);
  const l = t.latencies(0, 1000);
  assert.deepEqual([...l.sorted], [5, 20]);
  assert.equal(l.written, 3);
  assert.equal(l.withEvent, 2);
  t.onAck(Buffer.from('MSH|^~\\&|A|B|C|D|2025||ACK|REF1|P|2.5\rMSA|AA|X\r', 'latin1'), 1);
  assert.equal(t.unmatchedAcks, 1);
});

test('the WebSocket subscriber decodes msgpack events (single and batched) and acknowledges what it got', async () => {
  const { WebSocketServer } = await import('ws');
  const { pack, unpack } = await import('msgpackr');
  const { subscribe } = await import('../../bench/pipeline-rig.js');
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const port = (wss.address() as { port: number }).port;
  const urls: string[] = [];
  const acks: number[] = [];
  wss.on('connection', (socket, req) => {
    urls.push(req.url ?? '');
    socket.on('message', (data: Buffer) => acks.push((unpack(data) as { ack: number }).ack));
    const event = (seq: number): object => ({ seq, type: 'patient.created', time: '2025-01-01T00:00:00Z', messageSeq: Math.ceil(seq / 2), data: {} });
    for (let seq = 1; seq <= 200; seq++) socket.send(pack(event(seq)));
    socket.send(pack(Array.from({ length: 100 }, (_, i) => event(201 + i))));
  });
  const seen: Array<[number, number]> = [];
  const ws = await subscribe(port, (messageSeq, seq) => seen.push([messageSeq, seq]));
  try {
    while (acks.length === 0) await new Promise((r) => setTimeout(r, 10));
    assert.equal(urls[0], '/events?format=msgpack');
    assert.equal(seen.length, 300);
    assert.deepEqual(seen[0], [1, 1]);
    assert.deepEqual(seen[299], [150, 300]);
    assert.deepEqual(acks, [300]);
  } finally {
    ws.terminate();
    wss.close();
  }
});

test('the WebSocket subscriber rejects a refused upgrade with its status', async () => {
  const { createServer } = await import('node:http');
  const { subscribe } = await import('../../bench/pipeline-rig.js');
  const server = createServer((_req, res) => res.end());
  server.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  try {
    await assert.rejects(subscribe((server.address() as { port: number }).port, () => {}), /HTTP 503/);
  } finally {
    server.close();
  }
});
