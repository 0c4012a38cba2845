/**
 * Bearer-token authentication (INTERFACE.md "HTTP": `Authorization: Bearer TOKEN`). Tokens
 * come from configuration with roles; `admin` implies `read` and `subscribe`. With no tokens
 * configured (allowed only on loopback, see options.ts) every request has every role.
 *
 * Tokens are compared by their SHA-256 digest, so lookup time does not depend on how much of
 * a guess matches. A WebSocket client that cannot set headers (a browser) may pass the token
 * as `access_token` in the query of the upgrade request.
 */
import { createHash } from 'node:crypto';
import type { TokenOptions } from './options.js';
import type { GatewayRequest, Role } from './port.js';

/** Who is asking: the token's name and its roles (with `admin` expanded). */
export interface Principal {
  name: string;
  roles: ReadonlySet<Role>;
}

/** The result of {@link Authenticator.authenticate}. */
export type AuthResult = { ok: true; principal: Principal } | { ok: false; status: 401; message: string };

const ALL: ReadonlySet<Role> = new Set<Role>(['read', 'subscribe', 'admin']);
const ANONYMOUS: Principal = Object.freeze({ name: 'anonymous', roles: ALL });

/** Checks bearer tokens. */
export class Authenticator {
  readonly #byDigest = new Map<string, Principal>();

  constructor(tokens: readonly TokenOptions[]) {
    for (const t of tokens) {
      const roles = new Set<Role>(t.roles.includes('admin') ? ALL : t.roles);
      this.#byDigest.set(digest(t.token), { name: t.name, roles });
    }
  }

  /** True when tokens are configured (requests must carry one). */
  get enabled(): boolean {
    return this.#byDigest.size > 0;
  }

  /** Identifies the request's principal, or says why not (401). */
  authenticate(request: GatewayRequest, allowQueryToken = false): AuthResult {
    if (!this.enabled) return { ok: true, principal: ANONYMOUS };
    let token: string | undefined;
    const header = request.headers.authorization;
    if (header !== undefined) {
      const m = /^Bearer[ \t]+(\S+)\s*$/i.exec(header);
      if (m === null) return { ok: false, status: 401, message: 'Authorization must be "Bearer TOKEN"' };
      token = m[1];
    } else if (allowQueryToken) {
      token = request.query.get('access_token') ?? undefined;
    }
    if (token === undefined || token === '') return { ok: false, status: 401, message: 'a bearer token is required' };
    const principal = this.#byDigest.get(digest(token));
    if (principal === undefined) return { ok: false, status: 401, message: 'the bearer token is not valid' };
    return { ok: true, principal };
  }
}

/** True when `principal` holds `role`. */
export function hasRole(principal: Principal, role: Role): boolean {
  return principal.roles.has(role);
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
