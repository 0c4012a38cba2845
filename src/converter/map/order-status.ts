/**
 * ORC-1 (order control, table 0119) × ORC-5 (order status, table 0038) → order status
 * (DOMAIN.md §4.4, dcm4chee's default map plus the rows IHE and real RIS send, quirk 23).
 *
 * | ORC-1 | ORC-5            | status        |
 * |-------|------------------|---------------|
 * | NW    | SC, IP, empty    | scheduled     |
 * | XO    | SC               | scheduled     |
 * | XO    | empty            | scheduled, `orderStatus: ''`: the applier keeps the stored status |
 * | XO    | CM               | completed     |
 * | SC    | CM, A            | completed     |
 * | SC    | IP               | in-progress   |
 * | CA    | CA, empty        | cancelled     |
 * | OC    | CA               | cancelled     |
 * | DC    | CA, empty        | discontinued  |
 * | OK, NA, UA, CR, UC, XR, DR, OR | any | a reply, not an instruction: ignored (AA) |
 * | anything else | | error UNKNOWN_ORDER_CONTROL, 103 at ORC-1 |
 *
 * A sender's `orderStatusMap` (options.ts) adds rows or overrides these, reply rows included.
 */
import { OrderStatus } from '../../repository/model.js';

/** ORC-1 codes that are replies to an order, not instructions: acknowledged and ignored. */
export const REPLY_CONTROLS: readonly string[] = Object.freeze(['OK', 'NA', 'UA', 'CR', 'UC', 'XR', 'DR', 'OR']);

const TABLE: Readonly<Record<string, OrderStatus>> = {
  NW_SC: OrderStatus.Scheduled,
  NW_IP: OrderStatus.Scheduled,
  NW_: OrderStatus.Scheduled,
  XO_SC: OrderStatus.Scheduled,
  XO_: OrderStatus.Scheduled,
  XO_CM: OrderStatus.Completed,
  SC_CM: OrderStatus.Completed,
  SC_A: OrderStatus.Completed,
  SC_IP: OrderStatus.InProgress,
  CA_CA: OrderStatus.Cancelled,
  CA_: OrderStatus.Cancelled,
  OC_CA: OrderStatus.Cancelled,
  DC_CA: OrderStatus.Discontinued,
  DC_: OrderStatus.Discontinued,
};

/**
 * The status for an ORC-1/ORC-5 pair: a status, `'reply'` (acknowledge, do not apply), or
 * undefined for an unknown combination. `extra` holds a sender's own rows (`'ignore'` = reply).
 */
export function orderStatusOf(control: string, orderStatus: string, extra?: Readonly<Record<string, OrderStatus | 'ignore'>>): OrderStatus | 'reply' | undefined {
  const key = `${control}_${orderStatus}`;
  const own = extra?.[key];
  if (own !== undefined) return own === 'ignore' ? 'reply' : own;
  if (REPLY_CONTROLS.includes(control)) return 'reply';
  return TABLE[key];
}
