/**
 * A PACS-side subscriber of pacslink's WebSocket `/events`, in a page of TypeScript.
 *
 * It subscribes under a durable name, so the engine remembers how far it got; receives
 * msgpack frames (binary, compact) for the topics a PACS cares about; acknowledges each event
 * after handling it; and reconnects with backoff after a drop, resuming after the last event it
 * handled. Run it against an engine:
 *
 *   npm run build
 *   PACSLINK_EVENTS_URL=ws://127.0.0.1:8080/events node dist/examples/subscriber.js
 *
 * Environment: PACSLINK_EVENTS_URL (default ws://127.0.0.1:8080/events), PACSLINK_TOKEN (a
 * bearer token with the `subscribe` role, when the engine has tokens), SUBSCRIBER_NAME
 * (default `example-pacs`).
 */
import { pack, unpack } from 'msgpackr';
import { WebSocket } from 'ws';

/** An event as pacslink sends it (INTERFACE.md "WebSocket /events"). */
interface PacslinkEvent {
  seq: number;
  type: string;
  time: string;
  messageSeq: number;
  data: Record<string, unknown>;
}

const url = process.env.PACSLINK_EVENTS_URL ?? 'ws://127.0.0.1:8080/events';
const token = process.env.PACSLINK_TOKEN;
const name = process.env.SUBSCRIBER_NAME ?? 'example-pacs';

/** The last event handled: after a reconnect we ask for what follows it. */
let lastSeq: number | undefined;
let retryMs = 500;
let stopping = false;
let socket: WebSocket | undefined;

/** What a PACS would do with each event: here, print a line (no patient data). */
function handle(event: PacslinkEvent): void {
  const order = event.data.order as { accession?: string; status?: string } | undefined;
  let detail = '';
  if (order?.accession !== undefined) detail += ` accession=${order.accession}`;
  if (order?.status !== undefined) detail += ` status=${order.status}`;
  console.log(`${event.seq} ${event.type} message=${event.messageSeq}${detail}`);
}

function connect(): void {
  const query = new URLSearchParams({ name, format: 'msgpack', topics: 'patient,order,report,prefetch,sync' });
  // The server keeps our acknowledged position; `from` makes the resume point explicit in case
  // the last acks did not reach it before the connection dropped.
  if (lastSeq !== undefined) query.set('from', String(lastSeq));
  const ws = new WebSocket(`${url}?${query}`, token !== undefined ? { headers: { authorization: `Bearer ${token}` } } : {});
  socket = ws;
  ws.on('open', () => {
    retryMs = 500;
  });
  ws.on('message', (data: Buffer) => {
    const event = unpack(data) as PacslinkEvent;
    handle(event);
    lastSeq = event.seq;
    // Acknowledge after handling: the same map as msgpack (or '{"ack": SEQ}' as text).
    ws.send(pack({ ack: event.seq }));
  });
  ws.on('unexpected-response', (_req, res) => {
    // 400/401/403 will not change by retrying: say why and stop.
    console.error(`subscription refused: HTTP ${res.statusCode}`);
    process.exit(1);
  });
  ws.on('error', () => {
    // A 'close' event follows; reconnecting is handled there.
  });
  ws.on('close', (code, reason) => {
    if (stopping) return;
    if (code === 4009) {
      console.error(`another connection took over "${name}": stopping`);
      process.exit(1);
    }
    // 4008: we fell behind; 1001: the engine restarted; 1006: the network. Come back.
    console.error(`closed ${code} ${reason.toString()}; reconnecting in ${retryMs} ms`);
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 10_000);
  });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    stopping = true;
    socket?.close(1000);
    socket?.once('close', () => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  });
}

connect();
