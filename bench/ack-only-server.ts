/**
 * The ACK-only reference server: the same framer, header reader and ACK builder as the
 * engine, on the same socket settings, but nothing is stored. It is the ceiling the
 * durable ingest is compared with (bench/ingest.bench.ts).
 *
 * Run alone: `node dist/bench/ack-only-server.js [--port 0]`; prints `{"port": N}` on stdout.
 */
import net from 'node:net';
import { parseArgs } from 'node:util';
import { buildAck, readHeader } from '../src/hl7/index.js';
import { MllpFramer } from '../src/listener/framer.js';

/** Starts the reference server; resolves with it and its port. */
export function startAckOnlyServer(host = '127.0.0.1', port = 0): Promise<{ server: net.Server; port: number }> {
  let seq = 0;
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.setNoDelay(true);
    const framer = new MllpFramer({ maxFrameBytes: 64 << 20 }, {
      onFrame: (payload) => {
        const r = readHeader(payload);
        const ack = buildAck({
          header: r.ok ? r.header : r.header,
          code: r.ok ? 'AA' : 'AR',
          controlId: `REF${++seq}`,
          time: Date.now(),
        });
        const frame = Buffer.allocUnsafe(ack.length + 3);
        frame[0] = 0x0b;
        frame.set(ack, 1);
        frame[ack.length + 1] = 0x1c;
        frame[ack.length + 2] = 0x0d;
        socket.write(frame);
      },
      onJunk: () => {},
      onOversized: () => {},
      onFrameError: () => {},
    });
    socket.on('data', (chunk: Buffer) => framer.push(chunk));
    socket.on('error', () => {});
  });
  return new Promise((resolve) => {
    server.listen({ host, port }, () => {
      const addr = server.address();
      resolve({ server, port: typeof addr === 'object' && addr !== null ? addr.port : -1 });
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' } } });
  const { port } = await startAckOnlyServer(values.host, Number(values.port));
  process.stdout.write(JSON.stringify({ port }) + '\n');
}
