/**
 * The event hub: WebSocket `/events` (INTERFACE.md "WebSocket /events").
 *
 * Fan-out. Each subscriber chooses topics (an event's topic is its type before the first
 * `.`) and a format. The server topics are `FORMAT:TOPIC`; each committed event is encoded
 * once per format that has live subscribers on its topic and published once through the
 * adapter (uWebSockets.js topics, or the ws adapter's sets), never per subscriber.
 *
 * Replay then live, without gap or duplicate. A subscriber starts at a position (`from`, its
 * durable position, or the last committed seq) and reads the event log in pages, pausing
 * while its send buffer is full. When a page comes back empty its position equals the last
 * committed seq, and it joins its server topics in that same turn of the event loop: the
 * next commit's publish (the log calls the hub synchronously at commit) reaches it exactly
 * once, and whatever was committed during the replay was read from the log.
 *
 * Slow subscribers. After each publish, a live subscriber whose send buffer holds more than
 * `http.subscriberBufferBytes` is closed 4008 with a reason saying where to resume, and
 * terminated if it does not close within 5 s; the engine and the other subscribers
 * never wait for it.
 *
 * Durable subscribers (`name=`): the acknowledged seq is kept in the repository
 * environment (events-positions.ts) across restarts; a second connection with the same name
 * takes over (the first is closed 4009). `pacslink_ws_subscriber_lag{subscriber}` is the
 * last committed seq minus the acknowledged one, kept while the subscriber is away.
 *
 * Close codes: 4008 fell behind, 4009 taken over by another connection with the same name,
 * 4400 a bad acknowledgement, 1001 server shutting down (the adapter).
 */
import type { EngineEvent } from '../events/types.js';
import type { EventLog } from '../events/log.js';
import { hasRole } from './auth.js';
import type { GatewayContext, SubscriberInfo } from './context.js';
import { decodeAck, encodeEvent } from './events-codec.js';
import { PositionStore } from './events-positions.js';
import { FORMATS, parseSubscribeQuery, topicOf, type EventFormat, type SubscribeRequest } from './events-query.js';
import type { GatewayRequest, GatewayResponse, GatewayServer, UpgradeDecision, WsConnection, WsHandlers } from './port.js';
import { errorResponse } from './wire.js';

/** The event hub as the gateway wires it. */
export interface EventHub {
  /** The WebSocket handlers to serve on `/events`. */
  readonly handlers: WsHandlers<unknown>;
  /** Starts publishing live events through `server`. */
  attach(server: GatewayServer): void;
  /** Connected subscribers (for `/api/stats`). */
  subscribers(): SubscriberInfo[];
  /** Stops publishing and writes durable positions; the server closes the sockets. */
  close(): Promise<void>;
}

/** Close codes the hub uses (the adapter adds 1001 going away, 1009 too big, 1011 internal). */
export const CloseCode = {
  /** The subscriber's send buffer passed `subscriberBufferBytes`: it fell behind. */
  FellBehind: 4008,
  /** Another connection with the same durable name took over. */
  TakenOver: 4009,
  /** A frame from the client was not a valid acknowledgement. */
  BadAck: 4400,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Durable names kept at most; a new name past this is refused 403. */
export const MAX_DURABLE_NAMES = 1000;

/** Events read from the log per page, and per turn of the event loop, during a replay. */
const PAGE = 256;
const EVENTS_PER_TURN = 2048;
/** While replaying, wait for the send buffer to drain past this many bytes (at most). */
const REPLAY_PAUSE_BYTES = 256 * 1024;
/** How often a paused replay re-checks the buffer when no drain is reported (ms). */
const DRAIN_POLL_MS = 25;
/** A subscriber told to close that has not closed by then is terminated (ms). */
const CLOSE_GRACE_MS = 5000;
/** How often the lag gauge of every durable name is refreshed (ms). */
const LAG_REFRESH_MS = 1000;

type SubscriberState = 'replay' | 'paused' | 'live' | 'closing';

interface Subscriber {
  readonly conn: WsConnection;
  readonly name: string | undefined;
  readonly topics: ReadonlySet<string>;
  readonly format: EventFormat;
  readonly connectedAt: string;
  state: SubscriberState;
  /** Last seq sent or passed over (events of other topics) while replaying. */
  position: number;
  /** Last seq acknowledged (0 if none). */
  acked: number;
  /** Seq of the last event of its topics sent while replaying (live ones: see #lastMatching). */
  lastMatching: number;
  /** Cancels a scheduled replay step or drain poll. */
  cancel: (() => void) | undefined;
  killTimer: NodeJS.Timeout | undefined;
}

function refuse(status: number, code: string, message: string): { accept: false; response: GatewayResponse } {
  return { accept: false, response: errorResponse(status, code, message) };
}

class Hub implements EventHub {
  readonly handlers: WsHandlers<unknown>;
  readonly #ctx: GatewayContext;
  readonly #events: EventLog | undefined;
  readonly #positions: PositionStore | undefined;
  readonly #subs = new Map<number, Subscriber>();
  readonly #byName = new Map<string, Subscriber>();
  /** Live subscribers per server topic `FORMAT:TOPIC`. */
  readonly #liveCount = new Map<string, number>();
  /** Seq of the last event published per server topic. */
  readonly #lastByKey = new Map<string, number>();
  #live = 0;
  readonly #limit: number;
  readonly #pauseBytes: number;
  #server: GatewayServer | undefined;
  #publishedSeq = 0;
  #unlisten: (() => void) | undefined;
  #lagTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(ctx: GatewayContext) {
    this.#ctx = ctx;
    this.#limit = ctx.options.http.subscriberBufferBytes;
    this.#pauseBytes = Math.min(REPLAY_PAUSE_BYTES, Math.floor(this.#limit / 4));
    const store = ctx.store;
    if (store !== undefined) {
      this.#events = store.events;
      this.#positions = new PositionStore(store.repository.env);
      this.#publishedSeq = store.events.lastSeq();
      this.#unlisten = store.events.onAppended((events) => this.#publish(events));
      this.#refreshLag();
      this.#lagTimer = setInterval(() => this.#refreshLag(), LAG_REFRESH_MS);
      this.#lagTimer.unref();
    }
    this.handlers = {
      upgrade: (request) => this.#upgrade(request),
      open: (conn, context) => this.#open(conn, context as SubscribeRequest),
      message: (conn, data, binary) => this.#message(conn, data, binary),
      drain: (conn) => {
        const sub = this.#subs.get(conn.id);
        if (sub?.state === 'paused') this.#resume(sub);
      },
      close: (conn) => this.#onClose(conn),
    };
  }

  attach(server: GatewayServer): void {
    this.#server = server;
  }

  subscribers(): SubscriberInfo[] {
    const out: SubscriberInfo[] = [];
    for (const s of this.#subs.values()) {
      out.push({
        ...(s.name !== undefined ? { name: s.name, ackedSeq: s.acked } : {}),
        topics: [...s.topics],
        format: s.format,
        sentSeq: this.#sentSeq(s),
        bufferedBytes: s.state === 'closing' ? 0 : s.conn.bufferedAmount(),
        connectedAt: s.connectedAt,
      });
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unlisten?.();
    if (this.#lagTimer !== undefined) clearInterval(this.#lagTimer);
    for (const s of this.#subs.values()) {
      s.cancel?.();
      s.cancel = undefined;
    }
    await this.#positions?.close();
  }

  #upgrade(request: GatewayRequest): UpgradeDecision<unknown> {
    const events = this.#events;
    if (events === undefined) return refuse(503, 'unavailable', 'events are not served: the converter is disabled');
    if (this.#closed) return refuse(503, 'unavailable', 'the engine is shutting down');
    const auth = this.#ctx.auth.authenticate(request, true);
    if (!auth.ok) return refuse(401, 'unauthorized', auth.message);
    if (!hasRole(auth.principal, 'subscribe')) {
      return refuse(403, 'forbidden', `token "${auth.principal.name}" does not have the subscribe role`);
    }
    const parsed = parseSubscribeQuery(request.query);
    if (!parsed.ok) return refuse(400, 'bad-request', parsed.message);
    const r = parsed.request;
    const last = events.lastSeq();
    if (r.from !== undefined && r.from > last) {
      return refuse(400, 'bad-request', `from ${r.from} is beyond the last event (${last})`);
    }
    if (r.name !== undefined && this.#positions!.get(r.name) === undefined && this.#positions!.size >= MAX_DURABLE_NAMES) {
      return refuse(403, 'too-many-names', `${MAX_DURABLE_NAMES} durable subscriber names exist already; reuse one`);
    }
    if (this.#subs.size >= this.#ctx.options.http.maxSubscribers) {
      return refuse(503, 'too-many-subscribers', `${this.#ctx.options.http.maxSubscribers} subscribers are connected already; retry later`);
    }
    return { accept: true, context: r };
  }

  #open(conn: WsConnection, r: SubscribeRequest): void {
    const events = this.#events;
    if (events === undefined || this.#closed) {
      conn.end(1000, 'the engine is shutting down');
      return;
    }
    const last = events.lastSeq();
    let position: number;
    if (r.name !== undefined) {
      const previous = this.#byName.get(r.name);
      if (previous !== undefined) this.#endWith(previous, CloseCode.TakenOver, `another connection took over subscriber "${r.name}"`);
      // A stored position past the log's end (a rebuilt repository) resumes at the end.
      position = Math.min(r.from ?? this.#positions!.get(r.name) ?? 0, last);
      this.#positions!.set(r.name, position);
      this.#setLag(r.name, position);
    } else {
      position = r.from ?? last;
    }
    const sub: Subscriber = {
      conn,
      name: r.name,
      topics: new Set(r.topics),
      format: r.format,
      connectedAt: new Date().toISOString(),
      state: 'replay',
      position,
      acked: position,
      lastMatching: position,
      cancel: undefined,
      killTimer: undefined,
    };
    this.#subs.set(conn.id, sub);
    if (sub.name !== undefined) this.#byName.set(sub.name, sub);
    this.#ctx.metrics.wsSubscribers.inc({ format: sub.format });
    this.#replay(sub);
  }

  /** Sends pages of the log until the subscriber is caught up (then live), paused, or closed. */
  #replay(sub: Subscriber): void {
    sub.cancel = undefined;
    if (sub.state !== 'replay') return;
    const events = this.#events!;
    let budget = EVENTS_PER_TURN;
    for (;;) {
      const page = events.range(sub.position, PAGE);
      if (page.length === 0) {
        if (sub.position >= events.lastSeq()) {
          this.#goLive(sub);
        } else {
          // Never live with a gap: should the log not show what it reports committed, retry.
          const t = setTimeout(() => this.#replay(sub), 1);
          sub.cancel = () => clearTimeout(t);
        }
        return;
      }
      for (const e of page) {
        if (sub.topics.has(topicOf(e.type))) {
          const frame = encodeEvent(e, sub.format);
          const status = sub.conn.send(frame.data, frame.binary);
          if (status === 'dropped') {
            this.#fellBehind(sub);
            return;
          }
          sub.position = e.seq;
          sub.lastMatching = e.seq;
          if (status === 'buffered' && sub.conn.bufferedAmount() >= this.#pauseBytes) {
            this.#pause(sub);
            return;
          }
        } else {
          sub.position = e.seq;
        }
      }
      budget -= page.length;
      if (budget <= 0) {
        // Let ingest and other subscribers run between large pages of backlog.
        const handle = setImmediate(() => this.#replay(sub));
        sub.cancel = () => clearImmediate(handle);
        return;
      }
    }
  }

  /** Waits for `drain`, or polls the buffer for adapters that report drain late. */
  #pause(sub: Subscriber): void {
    sub.state = 'paused';
    const poll = (): void => {
      if (sub.state !== 'paused') return;
      if (sub.conn.bufferedAmount() < this.#pauseBytes) {
        this.#resume(sub);
        return;
      }
      const t = setTimeout(poll, DRAIN_POLL_MS);
      sub.cancel = () => clearTimeout(t);
    };
    const t = setTimeout(poll, DRAIN_POLL_MS);
    sub.cancel = () => clearTimeout(t);
  }

  #resume(sub: Subscriber): void {
    if (this.#closed) return;
    sub.cancel?.();
    sub.state = 'replay';
    this.#replay(sub);
  }

  /** Caught up: join the server topics in this same turn, so the next commit reaches it once. */
  #goLive(sub: Subscriber): void {
    sub.state = 'live';
    this.#live++;
    for (const t of sub.topics) {
      const key = `${sub.format}:${t}`;
      this.#liveCount.set(key, (this.#liveCount.get(key) ?? 0) + 1);
      sub.conn.subscribe(key);
    }
  }

  /**
   * Leaves the server topics (a live subscriber) and stops any replay step. `closed`: the
   * socket is gone (the adapter dropped its topics; none of its methods may be called).
   */
  #detach(sub: Subscriber, closed = false): void {
    sub.cancel?.();
    sub.cancel = undefined;
    if (sub.state === 'live') {
      sub.lastMatching = this.#lastMatching(sub);
      sub.position = this.#publishedSeq;
      this.#live--;
      for (const t of sub.topics) {
        const key = `${sub.format}:${t}`;
        this.#liveCount.set(key, (this.#liveCount.get(key) ?? 1) - 1);
        if (!closed) sub.conn.unsubscribe(key);
      }
    }
    sub.state = 'closing';
    if (sub.name !== undefined && this.#byName.get(sub.name) === sub) this.#byName.delete(sub.name);
  }

  /** Closes with `code` and `reason`; terminates the socket if it does not close in time. */
  #endWith(sub: Subscriber, code: number, reason: string): void {
    if (sub.state === 'closing') return;
    this.#detach(sub);
    sub.conn.end(code, reason);
    sub.killTimer = setTimeout(() => {
      if (this.#subs.get(sub.conn.id) === sub) sub.conn.terminate();
    }, CLOSE_GRACE_MS);
    sub.killTimer.unref();
  }

  #fellBehind(sub: Subscriber): void {
    const reason =
      sub.name !== undefined
        ? `fell behind (send buffer over ${this.#limit} bytes); reconnect with name=${sub.name} to resume after your last ack`
        : `fell behind (send buffer over ${this.#limit} bytes); reconnect with from=the last seq you received`;
    // The reason must fit a close frame (123 bytes); names are at most 64 characters.
    this.#endWith(sub, CloseCode.FellBehind, reason.length <= 123 ? reason : `fell behind; reconnect with name=${sub.name} to resume`);
  }

  /** The log committed `events`: publish each once per format with live subscribers on its topic. */
  #publish(events: readonly EngineEvent[]): void {
    const last = events[events.length - 1];
    if (last === undefined) return;
    const server = this.#server;
    if (server !== undefined && this.#live > 0) {
      for (const e of events) {
        const topic = topicOf(e.type);
        for (const format of FORMATS) {
          const key = `${format}:${topic}`;
          if ((this.#liveCount.get(key) ?? 0) === 0) continue;
          const frame = encodeEvent(e, format);
          server.publish(key, frame.data, frame.binary);
          this.#lastByKey.set(key, e.seq);
        }
      }
    }
    this.#publishedSeq = last.seq;
    if (this.#live > 0) {
      for (const sub of this.#subs.values()) {
        if (sub.state === 'live' && sub.conn.bufferedAmount() > this.#limit) this.#fellBehind(sub);
      }
    }
  }

  #message(conn: WsConnection, data: Uint8Array, binary: boolean): void {
    const sub = this.#subs.get(conn.id);
    if (sub === undefined) return;
    const ack = decodeAck(data, binary);
    if (!ack.ok) {
      this.#endWith(sub, CloseCode.BadAck, ack.message);
      return;
    }
    const sent = this.#sentSeq(sub);
    if (ack.seq > sent) {
      this.#endWith(sub, CloseCode.BadAck, `ack ${ack.seq} is beyond the last event sent (${sent})`);
      return;
    }
    // Acknowledging the last event sent of its topics also acknowledges the events of other
    // topics after it, so a subscriber of a quiet topic does not look ever further behind.
    const acked = ack.seq === this.#lastMatching(sub) ? sent : ack.seq;
    if (acked <= sub.acked) return;
    sub.acked = acked;
    // After a takeover the name belongs to the new connection: the old one's acks are stale.
    if (sub.name !== undefined && this.#byName.get(sub.name) === sub && !this.#closed) {
      this.#positions!.set(sub.name, acked);
      this.#setLag(sub.name, acked);
    }
  }

  /**
   * Seq of the last event of `sub`'s topics that was sent to it. A live subscriber gets every
   * publish on its server topics, and anything published there before it went live is at or
   * before its replay's last event.
   */
  #lastMatching(sub: Subscriber): number {
    let last = sub.lastMatching;
    if (sub.state === 'live') {
      for (const t of sub.topics) last = Math.max(last, this.#lastByKey.get(`${sub.format}:${t}`) ?? 0);
    }
    return last;
  }

  #onClose(conn: WsConnection): void {
    const sub = this.#subs.get(conn.id);
    if (sub === undefined) return;
    this.#detach(sub, true);
    if (sub.killTimer !== undefined) clearTimeout(sub.killTimer);
    this.#subs.delete(conn.id);
    this.#ctx.metrics.wsSubscribers.dec({ format: sub.format });
  }

  #sentSeq(sub: Subscriber): number {
    return sub.state === 'live' ? this.#publishedSeq : sub.position;
  }

  #setLag(name: string, acked: number): void {
    this.#ctx.metrics.wsSubscriberLag.set({ subscriber: name }, Math.max(0, this.#publishedSeq - acked));
  }

  #refreshLag(): void {
    for (const [name, acked] of this.#positions!.entries()) this.#setLag(name, acked);
  }
}

/** Creates the hub over the engine's event log (`ctx.store`; without it every upgrade gets 503). */
export function createEventHub(ctx: GatewayContext): EventHub {
  return new Hub(ctx);
}
