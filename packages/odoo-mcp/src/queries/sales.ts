/** Sales orders and quotations in a local date range, with the total in the company currency. */
import { type Period, datetimeRangeDomain, resolveRange } from '../dates.js';
import { and } from '../domain.js';
import { shapeRows } from '../fields.js';
import type { FieldMap, OdooClient } from '../odoo-client.js';
import { byNameOrId, checkSelection, companyTotal, readPage } from './common.js';

export interface SalesOrderFilter {
  period?: Period | undefined;
  date_from?: string | undefined;
  date_to?: string | undefined;
  states?: string[] | undefined;
  customer?: string | undefined;
  salesperson?: string | undefined;
}

export const SALES_ORDER_COLUMNS = [
  'id',
  'name',
  'date_order',
  'partner_id',
  'user_id',
  'state',
  'amount_total',
  'currency_id',
];

/** The range (default today in `tz`) and the sale.order domain; cancelled orders only when asked for. */
export function salesOrdersQuery(filter: SalesOrderFilter, meta: FieldMap, tz: string, now = new Date()) {
  checkSelection('sale.order', 'state', filter.states, meta);
  const range = resolveRange(filter, tz, 'today', now);
  const domain = and(
    datetimeRangeDomain('date_order', range, tz),
    filter.states ? [['state', 'in', filter.states]] : [['state', '!=', 'cancel']],
    byNameOrId('partner_id', filter.customer),
    byNameOrId('user_id', filter.salesperson),
  );
  return { range, domain };
}

/** One page of orders (newest first), the count of all matches and their total: three calls. */
export async function listSalesOrders(
  client: OdooClient,
  args: SalesOrderFilter & { limit: number; offset: number },
  signal: AbortSignal | undefined,
) {
  const session = await client.session(signal);
  const meta = await client.fields('sale.order', signal);
  const { range, domain } = salesOrdersQuery(args, meta, session.tz);
  const columns = SALES_ORDER_COLUMNS;
  const [[rows, total], sum] = await Promise.all([
    readPage(
      client,
      'sale.order',
      {
        domain,
        fields: columns.slice(1),
        offset: args.offset,
        limit: args.limit,
        order: 'date_order desc, id desc',
      },
      signal,
    ),
    companyTotal(client, session, 'sale.order', domain, 'amount_total', signal),
  ]);
  return {
    range,
    columns,
    textRows: shapeRows(rows, columns, meta, session.tz).text,
    total,
    sum,
    tz: session.tz,
  };
}
