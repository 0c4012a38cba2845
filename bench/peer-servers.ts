/**
 * The npm peers' MLLP servers, each set up as its documentation shows and answering AA to
 * every message while storing nothing, so that the ingest benchmark can put the same load
 * on them as on pacslink:
 *
 * - `@medplum/hl7`: `new Hl7Server(handler).start(port)`; the handler listens for the
 *   connection's `message` event and answers `connection.send(message.buildAck())`
 *   (Hl7Message.buildAck from @medplum/core, AA by default). `start` binds every interface
 *   (it takes a port only); the port is read from `server.server.address()`.
 * - `node-hl7-server`: `new Server({ bindAddress }).createInbound({ port }, handler)`; the
 *   handler answers `await res.sendResponse('AA')`. Every `data` chunk is parsed as a
 *   message as soon as it holds an end-of-frame, so it serves senders that wait for each
 *   ACK (as the load generator does), not pipelined frames. The bound port is only on the
 *   listener's internal `_socket` (a `net.Server`), read here for port 0.
 *
 * Run alone: `node dist/bench/peer-servers.js medplum|node-hl7-server`; prints `{"port": N}`.
 */
import type { AddressInfo, Server as NetServer } from 'node:net';
import { Hl7Server, type Hl7MessageEvent } from '@medplum/hl7';
import { Server as NodeHl7Server } from 'node-hl7-server';

/** Names of the peer servers. */
export const PEER_SERVERS = ['medplum', 'node-hl7-server'] as const;
export type PeerServerName = (typeof PEER_SERVERS)[number];

/** Row labels (npm package names). */
export const PEER_LABELS: Record<PeerServerName, string> = {
  medplum: '@medplum/hl7 Hl7Server',
  'node-hl7-server': 'node-hl7-server Server',
};

/** A started peer server. */
export interface PeerServer {
  port: number;
  close(): Promise<void>;
}

async function startMedplum(): Promise<PeerServer> {
  const server = new Hl7Server((connection) => {
    connection.addEventListener('message', (event: Hl7MessageEvent) => {
      connection.send(event.message.buildAck());
    });
  });
  server.start(0);
  const net = server.server as NetServer;
  if (!net.listening) await new Promise<void>((resolve) => net.once('listening', () => resolve()));
  return { port: (net.address() as AddressInfo).port, close: () => server.stop({ forceDrainTimeoutMs: 100 }) };
}

async function startNodeHl7Server(): Promise<PeerServer> {
  const server = new NodeHl7Server({ bindAddress: '127.0.0.1' });
  const inbound = server.createInbound({ port: 0 }, async (_req, res) => {
    await res.sendResponse('AA');
  });
  const net = (inbound as unknown as { _socket: NetServer })._socket;
  if (!net.listening) await new Promise<void>((resolve) => net.once('listening', () => resolve()));
  return {
    port: (net.address() as AddressInfo).port,
    close: async () => {
      await inbound.close();
    },
  };
}

/** Starts the named peer server on a free port. */
export function startPeerServer(name: PeerServerName): Promise<PeerServer> {
  return name === 'medplum' ? startMedplum() : startNodeHl7Server();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const name = process.argv[2] as PeerServerName;
  if (!PEER_SERVERS.includes(name)) {
    process.stderr.write(`usage: peer-servers.js ${PEER_SERVERS.join('|')}\n`);
    process.exit(2);
  }
  const { port } = await startPeerServer(name);
  process.stdout.write(JSON.stringify({ port }) + '\n');
}
