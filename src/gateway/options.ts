/**
 * Gateway options (the `http` section of the configuration): where HTTP and WebSocket
 * listen, which adapter serves them, TLS, bearer tokens and roles, and the limits that keep
 * a client from growing the engine's memory.
 *
 * Security rule (issue 5): HTTP binds to 127.0.0.1 by default; binding beyond loopback
 * without tokens is refused at start with a message that says how to fix it.
 */
import { isIP } from 'node:net';
import type { Role } from './port.js';
import { checkInt } from '../options-check.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** A bearer token and what it may do. */
export interface TokenOptions {
  /** The secret, at least 16 characters. */
  token: string;
  /** Roles granted; `admin` implies `read` and `subscribe`. */
  roles: Role[];
  /** A name for logs (never the token itself). Default `token-N`. */
  name: string;
}

/** The `http` section. */
export interface GatewayOptions {
  /** Bind address. Default `127.0.0.1`. */
  host: string;
  /** Port; 0 picks a free one. Default 8080. */
  port: number;
  /** `auto` (default): uWebSockets.js when it loads, else `ws`. `uws` fails at start when it cannot load. */
  adapter: 'auto' | 'uws' | 'ws';
  /** TLS from PEM files; plain HTTP when absent. */
  tls?: { cert: string; key: string; passphrase?: string };
  /** Bearer tokens; empty means no authentication (allowed only on loopback). */
  tokens: TokenOptions[];
  /** Largest request body. Default 1 MiB. */
  maxBodyBytes: number;
  /** Send buffer above which a subscriber is cut off (close 4008). Default 8 MiB. */
  subscriberBufferBytes: number;
  /** Heartbeat: close a WebSocket silent this long (s); pings go every half. Default 60; 0 never, else 8 to 960. */
  idleTimeoutSec: number;
  /** Open WebSocket subscribers at most; more get 503. Default 1000. */
  maxSubscribers: number;
  /** Write patient data (names, identifiers) to logs: a debug option. Default false. */
  logPatientData: boolean;
}

/** Defaults of the `http` section. */
export const GATEWAY_DEFAULTS: Readonly<Omit<GatewayOptions, 'tls' | 'tokens'>> = Object.freeze({
  host: '127.0.0.1',
  port: 8080,
  adapter: 'auto',
  maxBodyBytes: 1 * MiB,
  subscriberBufferBytes: 8 * MiB,
  idleTimeoutSec: 60,
  maxSubscribers: 1000,
  logPatientData: false,
});

/** The `http` section as written in a config file (or `HOST:PORT`). */
export type GatewayInput = string | (Partial<Omit<GatewayOptions, 'tokens'>> & { tokens?: Array<Partial<TokenOptions>> });

const ROLES: readonly Role[] = ['read', 'subscribe', 'admin'];

/** True for 127.0.0.0/8, ::1, `localhost` and IPv4-mapped loopback. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/**
 * Fills defaults and validates the `http` section (`hostPort` parses `HOST:PORT`). Throws
 * RangeError/TypeError with exact messages, including the loopback rule.
 */
export function resolveGatewayOptions(
  input: GatewayInput | undefined,
  hostPort: (text: string) => { host: string; port: number },
): GatewayOptions {
  const d = GATEWAY_DEFAULTS;
  const i = typeof input === 'string' ? hostPort(input) : (input ?? {});
  if (i === null || typeof i !== 'object' || Array.isArray(i)) throw new TypeError('http must be HOST:PORT or an object');
  const tokensIn = 'tokens' in i && i.tokens !== undefined ? i.tokens : [];
  if (!Array.isArray(tokensIn)) throw new TypeError('http.tokens must be an array');
  const tokens = tokensIn.map((t, n) => resolveToken(t, n));
  const seen = new Set<string>();
  for (const t of tokens) {
    if (seen.has(t.token)) throw new RangeError(`http.tokens: ${t.name} repeats another token`);
    seen.add(t.token);
  }
  const o: GatewayOptions = {
    host: i.host ?? d.host,
    port: i.port ?? d.port,
    adapter: ('adapter' in i ? i.adapter : undefined) ?? d.adapter,
    tokens,
    maxBodyBytes: ('maxBodyBytes' in i ? i.maxBodyBytes : undefined) ?? d.maxBodyBytes,
    subscriberBufferBytes: ('subscriberBufferBytes' in i ? i.subscriberBufferBytes : undefined) ?? d.subscriberBufferBytes,
    idleTimeoutSec: ('idleTimeoutSec' in i ? i.idleTimeoutSec : undefined) ?? d.idleTimeoutSec,
    maxSubscribers: ('maxSubscribers' in i ? i.maxSubscribers : undefined) ?? d.maxSubscribers,
    logPatientData: ('logPatientData' in i ? i.logPatientData : undefined) ?? d.logPatientData,
  };
  const tls = 'tls' in i ? i.tls : undefined;
  if (tls !== undefined) {
    if (tls === null || typeof tls !== 'object' || typeof tls.cert !== 'string' || typeof tls.key !== 'string') {
      throw new TypeError('http.tls needs cert and key file paths');
    }
    if (tls.passphrase !== undefined && typeof tls.passphrase !== 'string') throw new TypeError('http.tls.passphrase must be a string');
    o.tls = { cert: tls.cert, key: tls.key, ...(tls.passphrase !== undefined ? { passphrase: tls.passphrase } : {}) };
  }
  if (typeof o.host !== 'string' || o.host === '') throw new TypeError('http.host must be a non-empty string');
  checkInt(o.port, 0, 65535, 'http.port must be between 0 and 65535');
  if (!['auto', 'uws', 'ws'].includes(o.adapter)) throw new RangeError('http.adapter must be "auto", "uws" or "ws"');
  checkInt(o.maxBodyBytes, 1 * KiB, 256 * MiB, 'http.maxBodyBytes must be between 1 KiB and 256 MiB');
  checkInt(o.subscriberBufferBytes, 64 * KiB, 1024 * MiB, 'http.subscriberBufferBytes must be between 64 KiB and 1 GiB');
  if (!(o.idleTimeoutSec === 0 || (Number.isInteger(o.idleTimeoutSec) && o.idleTimeoutSec >= 8 && o.idleTimeoutSec <= 960))) {
    throw new RangeError('http.idleTimeoutSec must be 0 or between 8 and 960');
  }
  checkInt(o.maxSubscribers, 1, 100_000, 'http.maxSubscribers must be between 1 and 100000');
  if (typeof o.logPatientData !== 'boolean') throw new TypeError('http.logPatientData must be a boolean');
  if (o.tokens.length === 0 && !isLoopback(o.host)) {
    throw new RangeError(
      `http binds ${o.host}, beyond loopback, without tokens: add http.tokens to the configuration (bearer tokens with roles) or bind 127.0.0.1`,
    );
  }
  return o;
}

function resolveToken(t: Partial<TokenOptions>, n: number): TokenOptions {
  const name = t?.name ?? `token-${n + 1}`;
  if (t === null || typeof t !== 'object') throw new TypeError(`http.tokens[${n}] must be an object`);
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
    throw new RangeError(`http.tokens[${n}].name must be 1 to 64 letters, digits, _, . or -`);
  }
  if (typeof t.token !== 'string' || t.token.length < 16 || /\s/.test(t.token)) {
    throw new RangeError(`http.tokens.${name}.token must be at least 16 characters without spaces`);
  }
  if (!Array.isArray(t.roles) || t.roles.length === 0 || t.roles.some((r) => !ROLES.includes(r))) {
    throw new RangeError(`http.tokens.${name}.roles must list one or more of "read", "subscribe", "admin"`);
  }
  return { token: t.token, roles: [...new Set(t.roles)], name };
}
