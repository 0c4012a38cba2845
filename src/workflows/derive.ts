/**
 * The applier's hook (src/converter/applier.ts): after a message's repository changes are
 * written, inside the same write transaction, the workflows turn its repository events into
 * `prefetch.requested` and `sync.requested` events with the same messageSeq. So a crash never
 * loses or duplicates them, and a rebuild (whose messages append no event) makes none.
 *
 * Per-order pre-fetch triggers (`workflows.prefetch.triggers`):
 * - `order`: an `order.scheduled` (a new order in status `scheduled`) from any message but SIU;
 * - `S12`: an SIU^S12 whose `order.scheduled` or `order.updated` leaves the order scheduled;
 * - `A04` / `A05`: the registration of a patient: one request per order of the patient still
 *   scheduled at or after the message's time (orders without a scheduled time included).
 * An order is requested once per scheduled time (state.ts): an ORM then an S12 for the same
 * slot make one request; a rescheduled order triggered again makes a new one.
 */
import type { Change, MessageContext } from '../converter/changes.js';
import { EventType, type NewEvent } from '../events/types.js';
import { OrderStatus, type Order } from '../repository/model.js';
import { PrefetchTrigger, type WorkflowsOptions } from './options.js';
import type { PrefetchRequestedData } from './payloads.js';
import { all, candidatesOf, referenceOf, relevantPriors, requestOrder, requestPatient, type RepositoryView } from './prefetch.js';
import type { WorkflowsState } from './state.js';
import { syncEvents } from './sync.js';

/** What the applier passes for one accepted message. */
export interface DeriveInput {
  context: MessageContext;
  changes: readonly Change[];
  /** The repository events the message caused, in order. */
  events: readonly NewEvent[];
  messageSeq: number;
}

/** The hook's signature: the events to append after the message's own. */
export type Deriver = (input: DeriveInput) => NewEvent[];

/** The UTC form of an order's scheduled time for state keys (`''` when none). */
export function scheduledUtc(o: Order): string {
  const ms = o.scheduledAt === null ? NaN : Date.parse(o.scheduledAt);
  return Number.isNaN(ms) ? '' : new Date(ms).toISOString();
}

/** Builds the hook over a repository view (reads inside the applier's transaction) and the state. */
export function createDeriver(view: RepositoryView, state: WorkflowsState, options: WorkflowsOptions): Deriver {
  const p = options.prefetch;
  const triggers = new Set(p.triggers);
  const request = (order: Order, trigger: PrefetchRequestedData['trigger'], messageSeq: number, fallbackMs: number | undefined): NewEvent | undefined => {
    const data = prefetchData(view, p, [order], trigger, fallbackMs);
    return data === undefined ? undefined : { type: EventType.PrefetchRequested, messageSeq, data: data as unknown as Record<string, unknown> };
  };

  return ({ context, changes, events, messageSeq }) => {
    const out: NewEvent[] = [];
    const messageMs = context.eventTime ?? context.messageTime;
    if (p.enabled) {
      const due: Array<{ order: Order; trigger: PrefetchRequestedData['trigger'] }> = [];
      const siu = context.messageCode === 'SIU';
      for (const e of events) {
        if (e.type !== EventType.OrderScheduled && e.type !== EventType.OrderUpdated) continue;
        const order = e.data.order as Order;
        if (order.status !== OrderStatus.Scheduled) continue;
        if (siu ? context.triggerEvent === 'S12' && triggers.has(PrefetchTrigger.S12) : e.type === EventType.OrderScheduled && triggers.has(PrefetchTrigger.Order)) {
          due.push({ order, trigger: siu ? PrefetchTrigger.S12 : PrefetchTrigger.Order });
        }
      }
      const adt = context.messageCode === 'ADT' ? context.triggerEvent : '';
      if ((adt === 'A04' || adt === 'A05') && triggers.has(adt)) {
        for (const c of changes) {
          if (c.op !== 'patient.upsert') continue;
          const id = c.patient.identifiers[0];
          const patient = id === undefined ? undefined : view.findPatients({ identifier: id.id, authority: id.authority }, { limit: 1 }).items[0];
          if (patient === undefined) continue;
          const orders = all<Order>((o) => view.findOrders({ patientKey: patient.key, status: OrderStatus.Scheduled }, o));
          for (const order of orders) {
            const at = referenceOf(order, undefined);
            if (at === undefined || messageMs === undefined || at >= messageMs) due.push({ order, trigger: adt });
          }
        }
      }
      for (const { order, trigger } of due) {
        const when = scheduledUtc(order);
        if (state.orderRequested(order.key, when)) continue;
        const ev = request(order, trigger, messageSeq, messageMs);
        if (ev === undefined) continue;
        state.markOrderRequested(order.key, when, messageSeq);
        out.push(ev);
      }
    }
    out.push(...syncEvents(events, `${context.messageCode}^${context.triggerEvent}`, view, options.sync, messageSeq));
    return out;
  };
}

/** Builds a daily-run request (exported for daily.ts, which groups a patient's orders). */
export function dailyRequest(view: RepositoryView, options: WorkflowsOptions, orders: Order[], run: NonNullable<PrefetchRequestedData['run']>): PrefetchRequestedData | undefined {
  const data = prefetchData(view, options.prefetch, orders, 'daily', undefined);
  return data === undefined ? undefined : { ...data, run };
}

/**
 * A `prefetch.requested` payload for `orders` (one for a per-order request, a patient's
 * orders of the window for the daily run): each order's own relevant priors, merged, most
 * recent first, each study once. `fallbackMs` stands in for an order without a scheduled time.
 */
function prefetchData(
  view: RepositoryView,
  p: WorkflowsOptions['prefetch'],
  orders: Order[],
  trigger: PrefetchRequestedData['trigger'],
  fallbackMs: number | undefined,
): Omit<PrefetchRequestedData, 'run'> | undefined {
  const first = orders[0];
  if (first === undefined) return undefined;
  const who = requestPatient(view, first.patientKey);
  if (who === undefined) return undefined;
  const candidates = candidatesOf(view, who.keys, p);
  const exclude = new Set(orders.map((o) => o.key));
  const seen = new Set<string>();
  const priors: PrefetchRequestedData['priors'] = [];
  const lists = orders.map((o) => relevantPriors(o, candidates, p, referenceOf(o, fallbackMs), exclude));
  for (const prior of lists.flat().sort((a, b) => Date.parse(b.studyTime) - Date.parse(a.studyTime))) {
    const k = prior.orderKey ?? `R:${prior.reportId}`;
    if (seen.has(k)) continue;
    seen.add(k);
    priors.push(prior);
  }
  return {
    trigger,
    patient: who.patient,
    order: requestOrder(first, p),
    orders: orders.map((o) => requestOrder(o, p)),
    priors,
  };
}
