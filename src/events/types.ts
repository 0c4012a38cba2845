/**
 * Events (INTERFACE.md "WebSocket /events"): every repository change appends a typed event
 * to the event log in the same transaction, with the inbound seq of the message that caused
 * it. Event seqs start at 1 and increase by 1.
 */

/** Event types (INTERFACE.md). */
export const EventType = {
  PatientCreated: 'patient.created',
  PatientUpdated: 'patient.updated',
  PatientMerged: 'patient.merged',
  PatientIdentifiersChanged: 'patient.identifiers-changed',
  PatientLinked: 'patient.linked',
  PatientUnlinked: 'patient.unlinked',
  VisitCreated: 'visit.created',
  VisitUpdated: 'visit.updated',
  VisitClosed: 'visit.closed',
  VisitCancelled: 'visit.cancelled',
  OrderScheduled: 'order.scheduled',
  OrderUpdated: 'order.updated',
  OrderCancelled: 'order.cancelled',
  OrderCompleted: 'order.completed',
  OrderDiscontinued: 'order.discontinued',
  ReportCreated: 'report.created',
  ReportUpdated: 'report.updated',
  PrefetchRequested: 'prefetch.requested',
  SyncRequested: 'sync.requested',
  MessageRejected: 'message.rejected',
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

/** An event as stored and delivered: `{seq, type, time, messageSeq, data}`. */
export interface EngineEvent {
  seq: number;
  type: EventType;
  /** When the event was produced (apply time), ISO 8601 with offset. */
  time: string;
  /** Inbound seq of the message that caused it (0 for scheduler events). */
  messageSeq: number;
  /**
   * Payload: for entity events the entity after the change (`patient`, `visit`, `order`,
   * `report`) and, on updates, `previous` (the entity before); for merges `survivor`,
   * `source` and the moved keys; for `message.rejected` the dead letter.
   */
  data: Record<string, unknown>;
}

/** An event before the log assigns its seq and time. */
export type NewEvent = Omit<EngineEvent, 'seq' | 'time'>;
