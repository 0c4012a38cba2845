/**
 * The state one `apply` call works with: the message's write overlay, the policies, the
 * message facts and the events collected so far (emitted only if the message is accepted).
 */
import type { ConversionError, MessageContext } from '../converter/changes.js';
import type { EventType, NewEvent } from '../events/types.js';
import type { IdentityOptions } from './identity.js';
import type { RepositoryPolicies } from './options.js';
import type { Overlay } from './store.js';

/** Repository-specific conversion error codes (beside `ConversionErrorCode`). */
export const RepositoryErrorCode = {
  /** CA/DC/OC or SIU S15 for an order never seen, under `unknownOrderCancel: 'reject'`. */
  UnknownOrder: 'UNKNOWN_ORDER',
} as const;

/** Thrown inside the applier to reject the whole message; caught by `apply`. */
export class Rejection extends Error {
  readonly error: ConversionError;
  constructor(error: ConversionError) {
    super(error.message);
    this.name = 'Rejection';
    this.error = error;
  }
}

/** Rejects the current message. */
export function reject(code: string, errCode: number, message: string, segment?: string, field?: number): never {
  const error: ConversionError = { code, errCode, message };
  if (segment !== undefined) error.segment = segment;
  if (field !== undefined) error.field = field;
  throw new Rejection(error);
}

/** Per-message applier state. */
export interface ApplyContext {
  tx: Overlay;
  policies: Readonly<RepositoryPolicies>;
  identity: IdentityOptions;
  message: MessageContext;
  seq: number;
  /** The message's event time as ISO 8601 (UTC), or null when it has none. */
  time: string | null;
  events: NewEvent[];
}

/** Queues an event; it is emitted only when the whole message is accepted. */
export function emitEvent(ctx: ApplyContext, type: EventType, data: Record<string, unknown>): void {
  ctx.events.push({ type, messageSeq: ctx.seq, data });
}

/**
 * Out-of-order guard (DOMAIN.md §6 quirk 14): whether this message's event time is older
 * than the newest event already applied to an entity. A message without an event time, or
 * an entity without one, is never stale; equal times apply (seq order decides).
 */
export function isStale(ctx: ApplyContext, updatedAt: string | null): boolean {
  if (ctx.message.eventTime === undefined || updatedAt === null) return false;
  const stored = Date.parse(updatedAt);
  return !Number.isNaN(stored) && ctx.message.eventTime < stored;
}

/** The newer of an entity's `updatedAt` and this message's event time. */
export function newerTime(ctx: ApplyContext, updatedAt: string | null): string | null {
  if (ctx.time === null) return updatedAt;
  if (updatedAt === null) return ctx.time;
  return isStale(ctx, updatedAt) ? updatedAt : ctx.time;
}

/**
 * Applies one `Upd<T>` field: absent keeps, null deletes, a value replaces. In `fill` mode
 * (a stale message, or a non-ADT message mentioning a patient) only an empty stored value
 * is filled; nothing is replaced or deleted.
 */
export function updField<T>(stored: T | null, upd: T | null | undefined, mode: 'replace' | 'fill'): T | null {
  if (upd === undefined) return stored;
  if (mode === 'fill') return stored === null && upd !== null ? upd : stored;
  return upd;
}
