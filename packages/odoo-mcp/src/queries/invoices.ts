/** Customer invoices or vendor bills, with their total and amount due in the company currency. */
import { type Period, dateRangeDomain, resolveRange, todayIn } from '../dates.js';
import { and } from '../domain.js';
import { money, shapeRows } from '../fields.js';
import { groupedRead } from '../group.js';
import type { FieldMap, OdooClient } from '../odoo-client.js';
import { byNameOrId, checkSelection, readPage } from './common.js';

export interface InvoiceFilter {
  kind: 'customer' | 'vendor';
  include_refunds: boolean;
  period?: Period | undefined;
  date_from?: string | undefined;
  date_to?: string | undefined;
  states: string[];
  payment_states?: string[] | undefined;
  overdue: boolean;
  partner?: string | undefined;
}

/** The account.move domain and columns for a filter; no dates means every date, overdue is judged today in `tz`. */
export function invoicesQuery(filter: InvoiceFilter, meta: FieldMap, tz: string, now = new Date()) {
  checkSelection('account.move', 'payment_state', filter.payment_states, meta);
  const types =
    filter.kind === 'customer'
      ? ['out_invoice', ...(filter.include_refunds ? ['out_refund'] : [])]
      : ['in_invoice', ...(filter.include_refunds ? ['in_refund'] : [])];
  const dated = Boolean(filter.period || filter.date_from || filter.date_to);
  const range = dated ? resolveRange(filter, tz, undefined, now) : undefined;
  const today = todayIn(tz, now);
  const domain = and(
    [['move_type', 'in', types]],
    [['state', 'in', filter.states]],
    range ? dateRangeDomain('invoice_date', range) : [],
    filter.payment_states ? [['payment_state', 'in', filter.payment_states]] : [],
    filter.overdue
      ? [
          ['invoice_date_due', '<', today],
          ['amount_residual', '>', 0],
        ]
      : [],
    byNameOrId('partner_id', filter.partner),
  );
  const columns = [
    'id',
    'name',
    'partner_id',
    'invoice_date',
    'invoice_date_due',
    'amount_total',
    'amount_residual',
    'currency_id',
    'state',
    'payment_state',
    ...(filter.include_refunds ? ['move_type'] : []),
  ].filter((c) => c === 'id' || c in meta);
  return { range, domain, columns };
}

/**
 * One page of invoices, the count of all matches and, where the database has signed amounts, their total
 * and amount due in the company currency (positive for both kinds), with the title and footer that say so: three
 * calls.
 */
export async function listInvoices(
  client: OdooClient,
  args: InvoiceFilter & { limit: number; offset: number },
  signal: AbortSignal | undefined,
) {
  const session = await client.session(signal);
  const meta = await client.fields('account.move', signal);
  const { range, domain, columns } = invoicesQuery(args, meta, session.tz);
  const signed = 'amount_total_signed' in meta && 'amount_residual_signed' in meta;
  const [[rows, total], sums, company] = await Promise.all([
    readPage(
      client,
      'account.move',
      {
        domain,
        fields: columns.slice(1),
        offset: args.offset,
        limit: args.limit,
        order: 'invoice_date desc, id desc',
      },
      signal,
    ),
    signed
      ? groupedRead(
          client,
          session,
          'account.move',
          domain,
          [],
          [
            {
              spec: 'amount_total_signed:sum',
              field: 'amount_total_signed',
              fn: 'sum',
              alias: 'amount_total_signed_sum',
            },
            {
              spec: 'amount_residual_signed:sum',
              field: 'amount_residual_signed',
              fn: 'sum',
              alias: 'amount_residual_signed_sum',
            },
          ],
          { limit: 1, signal },
        )
      : Promise.resolve(undefined),
    client.companyCurrency(signal),
  ]);
  // Signed amounts are negative for vendor bills; refunds reduce the net.
  const sign = args.kind === 'vendor' ? -1 : 1;
  const sumRow = sums?.[0];
  const totalAmount = sumRow ? Math.round(sign * (sumRow.values[0] ?? 0) * 100) / 100 : undefined;
  const due = sumRow ? Math.round(sign * (sumRow.values[1] ?? 0) * 100) / 100 : undefined;
  const currency = company.name;
  const what = args.kind === 'customer' ? 'Customer invoices' : 'Vendor bills';
  const totals: { total_amount?: number; amount_due?: number | undefined; currency?: string } =
    totalAmount !== undefined ? { total_amount: totalAmount, amount_due: due, currency } : {};
  return {
    title: `${what}${range ? `, ${range.label}` : ''}${args.overdue ? ', overdue' : ''}`,
    columns,
    textRows: shapeRows(rows, columns, meta, session.tz).text,
    total,
    footer:
      totalAmount !== undefined && total > 0
        ? `Total: ${money(totalAmount)} ${currency}; amount due: ${money(due ?? 0)} ${currency} (company currency, all ${total} matching).`
        : undefined,
    totals,
  };
}
