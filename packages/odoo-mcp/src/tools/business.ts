import {
  NotFoundError,
  UserInputError,
  cursorArg,
  defineTool,
  positionOffset,
  z,
  type Resumable,
} from '@switchyard/core';
import { PERIODS, dateRangeDomain, datetimeRangeDomain, resolveRange, todayIn } from '../dates.js';
import { and } from '../domain.js';
import { money, shapeRows } from '../fields.js';
import { groupedRead } from '../group.js';
import type { FieldMap, OdooClient, OdooSession } from '../odoo-client.js';
import { byNameOrId, limitArg, tableOutput, tableReply, type OdooDeps } from './common.js';

const READ = { readOnlyHint: true } as const;

const periodArg = z.enum(PERIODS).optional().describe("Named period (user's time zone).");
const dateArg = (what: string) =>
  z.string().max(10).optional().describe(`${what} (YYYY-MM-DD); overrides period.`);
const textArg = (what: string) => z.string().max(100).optional().describe(`${what}: name part or id.`);

/** Reject selection values the database does not have (they differ between Odoo versions). */
function checkSelection(model: string, field: string, values: string[] | undefined, meta: FieldMap): void {
  const selection = meta[field]?.selection;
  if (!values || !selection) return;
  const allowed = selection.map(([k]) => k);
  const wrong = values.filter((v) => !allowed.includes(v));
  if (wrong.length > 0) {
    throw new UserInputError(
      `${model}.${field} has no value ${wrong.map((w) => `'${w}'`).join(', ')} in this database; the values are ${allowed.join(', ')}`,
    );
  }
}

/** Sums per currency, converted to the company currency at the currency's current rate. */
async function companyTotal(
  client: OdooClient,
  session: OdooSession,
  model: string,
  domain: unknown[],
  amountField: string,
  signal: AbortSignal | undefined,
): Promise<{ total: number; currency: string; note: string }> {
  const meta = await client.fields(model, signal);
  const company = await client.companyCurrency(signal);
  const groups = await groupedRead(
    client,
    session,
    model,
    domain,
    [{ spec: 'currency_id', field: 'currency_id', granularity: undefined, info: meta.currency_id! }],
    [{ spec: `${amountField}:sum`, field: amountField, fn: 'sum', alias: `${amountField}_sum` }],
    { limit: 100, signal },
  );
  let total = 0;
  const foreign: Array<{ id: number; name: string; amount: number }> = [];
  for (const g of groups) {
    const key = g.keys[0]!.data as [number, string] | null;
    const amount = g.values[0] ?? 0;
    if (!key || key[0] === company.id) total += amount;
    else foreign.push({ id: key[0], name: key[1], amount });
  }
  if (foreign.length === 0) return { total, currency: company.name, note: '' };
  const rates = await client.call<Array<{ id: number; rate: number }>>(
    'res.currency',
    'read',
    { ids: foreign.map((f) => f.id), fields: ['rate'] },
    { signal },
  );
  const parts: string[] = [];
  for (const f of foreign) {
    const rate = rates.find((r) => r.id === f.id)?.rate;
    if (rate && rate > 0) total += f.amount / rate;
    parts.push(`${money(f.amount)} ${f.name}`);
  }
  return { total, currency: company.name, note: ` (includes ${parts.join(', ')} converted at today's rate)` };
}

export function businessTools({ client }: OdooDeps) {
  return [
    defineTool({
      name: 'odoo_list_sales_orders',
      title: 'List sales orders',
      description:
        "Sales orders and quotations in a date range (default today, user's time zone): customer, salesperson, state, amount; total in company currency. Cancelled only if asked. Three calls.",
      toolset: 'business',
      input: {
        period: periodArg,
        date_from: dateArg('From'),
        date_to: dateArg('To, inclusive'),
        states: z
          .array(z.enum(['draft', 'sent', 'sale', 'done', 'cancel']))
          .max(5)
          .optional()
          .describe('draft/sent: quotations; sale: confirmed. Default all but cancel.'),
        customer: textArg('Customer'),
        salesperson: textArg('Salesperson'),
        limit: limitArg,
        cursor: cursorArg,
      },
      output: { ...tableOutput, period: z.string(), total_amount: z.number(), currency: z.string() },
      annotations: READ,
      handler: async (args, { signal, nextCursor }) => {
        const offset = positionOffset(args.cursor);
        const session = await client.session(signal);
        const meta = await client.fields('sale.order', signal);
        checkSelection('sale.order', 'state', args.states, meta);
        const range = resolveRange(args, session.tz, 'today');
        const domain = and(
          datetimeRangeDomain('date_order', range, session.tz),
          args.states ? [['state', 'in', args.states]] : [['state', '!=', 'cancel']],
          byNameOrId('partner_id', args.customer),
          byNameOrId('user_id', args.salesperson),
        );
        const columns = [
          'id',
          'name',
          'date_order',
          'partner_id',
          'user_id',
          'state',
          'amount_total',
          'currency_id',
        ];
        const [rows, total, sum] = await Promise.all([
          client.call<Array<Record<string, unknown>>>(
            'sale.order',
            'search_read',
            {
              domain,
              fields: columns.slice(1),
              offset,
              limit: args.limit,
              order: 'date_order desc, id desc',
            },
            { signal },
          ),
          client.call<number>('sale.order', 'search_count', { domain }, { signal }),
          companyTotal(client, session, 'sale.order', domain, 'amount_total', signal),
        ]);
        const shaped = shapeRows(rows, columns, meta, session.tz);
        return tableReply({
          title: `Sales orders, ${range.label}`,
          columns,
          textRows: shaped.text,
          total,
          offset,
          nextCursor,
          tz: session.tz,
          footer:
            total > 0
              ? `Total: ${money(sum.total)} ${sum.currency} over ${total} orders${sum.note}.`
              : undefined,
          extra: {
            period: range.label,
            total_amount: Math.round(sum.total * 100) / 100,
            currency: sum.currency,
          },
        });
      },
    }),

    defineTool({
      name: 'odoo_list_employees',
      title: 'List employees',
      description:
        'Employees with job, department, manager, email; filter by name, department, job, archived, hire date (when the database has one). Two calls.',
      toolset: 'business',
      input: {
        name: z.string().max(100).optional().describe('Name part.'),
        department: textArg('Department'),
        job: z.string().max(100).optional().describe('Job title part.'),
        status: z.enum(['active', 'archived', 'all']).default('active').describe('Default active.'),
        hired_period: periodArg,
        hired_since: dateArg('Hired on or after'),
        limit: limitArg,
        cursor: cursorArg,
      },
      output: tableOutput,
      annotations: READ,
      handler: async (args, { signal, nextCursor }) => {
        const offset = positionOffset(args.cursor);
        const session = await client.session(signal);
        const meta = await client.fields('hr.employee', signal);
        const hireField = ['first_contract_date', 'contract_date_start', 'date_start'].find(
          (f) => meta[f]?.type === 'date',
        );
        const wantsHire = Boolean(args.hired_period || args.hired_since);
        if (wantsHire && !hireField) {
          throw new UserInputError(
            "This database's hr.employee has no hire date field, so employees cannot be filtered by hire date",
            {
              hint: 'Odoo adds first_contract_date with the Employee Contracts app; without it, list employees without a hire filter',
            },
          );
        }
        const range = wantsHire
          ? resolveRange({ period: args.hired_period, date_from: args.hired_since }, session.tz, undefined)
          : undefined;
        const job = args.job?.trim();
        const domain = and(
          args.name ? [['name', 'ilike', args.name.trim()]] : [],
          byNameOrId('department_id', args.department),
          job
            ? meta.job_id
              ? ['|', ['job_title', 'ilike', job], ['job_id', 'ilike', job]]
              : [['job_title', 'ilike', job]]
            : [],
          args.status === 'archived'
            ? [['active', '=', false]]
            : args.status === 'all'
              ? [['active', 'in', [true, false]]]
              : [],
          range && hireField ? dateRangeDomain(hireField, range) : [],
        );
        const columns = [
          'id',
          'name',
          'job_title',
          'department_id',
          'parent_id',
          'work_email',
          ...(hireField ? [hireField] : []),
          ...(args.status === 'all' ? ['active'] : []),
        ].filter((c) => c === 'id' || c in meta);
        const [rows, total] = await Promise.all([
          client.call<Array<Record<string, unknown>>>(
            'hr.employee',
            'search_read',
            {
              domain,
              fields: columns.slice(1),
              offset,
              limit: args.limit,
              order: range && hireField ? `${hireField} desc, name` : 'name',
            },
            { signal },
          ),
          client.call<number>('hr.employee', 'search_count', { domain }, { signal }),
        ]);
        const shaped = shapeRows(rows, columns, meta, session.tz);
        return tableReply({
          title: `Employees${range ? `, hired ${range.label}` : ''}`,
          columns,
          textRows: shaped.text,
          total,
          offset,
          nextCursor,
        });
      },
    }),

    defineTool({
      name: 'odoo_get_inventory',
      title: 'Get inventory levels',
      description:
        'Stock per product and internal location: on hand, reserved, available, forecast; low_stock_below lists products under it (zero included). Filter by product, category, location. 2+ calls.',
      toolset: 'business',
      input: {
        product: textArg('Product (name or code)'),
        category: textArg('Product category'),
        location: textArg('Location, e.g. WH/Stock'),
        low_stock_below: z.number().min(0).max(1e9).optional().describe('Per product: on hand below this.'),
        limit: limitArg,
        cursor: cursorArg,
      },
      output: tableOutput,
      annotations: READ,
      handler: async (args, { signal, nextCursor }) => {
        const offset = positionOffset(args.cursor);
        const session = await client.session(signal);
        if (args.low_stock_below !== undefined)
          return lowStock(client, session, { ...args, offset, nextCursor }, signal);
        const meta = await client.fields('stock.quant', signal);
        const location = args.location?.trim();
        const domain = and(
          [['location_id.usage', '=', 'internal']],
          byNameOrId('product_id', args.product),
          args.category
            ? /^\d+$/.test(args.category.trim())
              ? [['product_id.categ_id', 'child_of', Number(args.category)]]
              : [['product_id.categ_id', 'ilike', args.category.trim()]]
            : [],
          location
            ? /^\d+$/.test(location)
              ? [['location_id', 'child_of', Number(location)]]
              : [['location_id', 'ilike', location]]
            : [],
        );
        const groups = await groupedRead(
          client,
          session,
          'stock.quant',
          domain,
          [
            { spec: 'product_id', field: 'product_id', granularity: undefined, info: meta.product_id! },
            { spec: 'location_id', field: 'location_id', granularity: undefined, info: meta.location_id! },
          ],
          [
            { spec: 'quantity:sum', field: 'quantity', fn: 'sum', alias: 'quantity_sum' },
            {
              spec: 'reserved_quantity:sum',
              field: 'reserved_quantity',
              fn: 'sum',
              alias: 'reserved_quantity_sum',
            },
          ],
          { limit: 5000, signal },
        );
        const page = groups.slice(offset, offset + args.limit);
        // Forecasts are per location: one read per distinct location on the page (at most ten).
        const byLocation = new Map<number, number[]>();
        for (const g of page) {
          const product = g.keys[0]!.data as [number, string] | null;
          const loc = g.keys[1]!.data as [number, string] | null;
          if (!product || !loc) continue;
          const list = byLocation.get(loc[0]) ?? [];
          list.push(product[0]);
          byLocation.set(loc[0], list);
        }
        const forecasts = new Map<string, number>();
        const locations = [...byLocation.entries()].slice(0, 10);
        await Promise.all(
          locations.map(async ([loc, productIds]) => {
            const rows = await client.call<Array<{ id: number; virtual_available: number }>>(
              'product.product',
              'read',
              { ids: [...new Set(productIds)], fields: ['virtual_available'] },
              { signal, context: { location: loc } },
            );
            for (const r of rows) forecasts.set(`${r.id}/${loc}`, r.virtual_available);
          }),
        );
        const columns = ['product', 'location', 'on_hand', 'reserved', 'available', 'forecast'];
        const round = (n: number | null) => (n === null ? null : Math.round(n * 1000) / 1000);
        const build = (g: (typeof page)[number], asText: boolean) => {
          const product = g.keys[0]!.data as [number, string] | null;
          const loc = g.keys[1]!.data as [number, string] | null;
          const onHand = g.values[0] ?? 0;
          const reserved = g.values[1] ?? 0;
          const forecast = product && loc ? forecasts.get(`${product[0]}/${loc[0]}`) : undefined;
          return [
            asText ? g.keys[0]!.text : product,
            asText ? g.keys[1]!.text : loc,
            round(onHand),
            round(reserved),
            round(onHand - reserved),
            forecast === undefined ? null : round(forecast),
          ];
        };
        return tableReply({
          title: 'Stock per product and location',
          columns,
          textRows: page.map((g) => build(g, true)),
          total: groups.length,
          offset,
          nextCursor,
          footer:
            page.length === 0
              ? undefined
              : `Forecast: on hand plus planned moves, for the location with its sublocations${
                  byLocation.size > 10 ? '; shown for the first ten locations only (filter by location)' : ''
                }.`,
        });
      },
    }),

    defineTool({
      name: 'odoo_list_invoices',
      title: 'List invoices',
      description:
        'Customer invoices or vendor bills: partner, dates, total, amount due, state, payment state; filter by date, state, payment, overdue, partner. Company-currency totals. Three calls.',
      toolset: 'business',
      input: {
        kind: z.enum(['customer', 'vendor']).default('customer').describe('Default customer.'),
        include_refunds: z.boolean().default(false).describe('Include credit notes.'),
        period: periodArg,
        date_from: dateArg('From'),
        date_to: dateArg('To, inclusive'),
        states: z
          .array(z.enum(['draft', 'posted', 'cancel']))
          .max(3)
          .default(['posted'])
          .describe('Default posted.'),
        payment_states: z
          .array(z.enum(['not_paid', 'in_payment', 'paid', 'partial', 'reversed']))
          .max(5)
          .optional()
          .describe('Open invoices: ["not_paid","partial"].'),
        overdue: z.boolean().default(false).describe('Only unpaid ones past due.'),
        partner: textArg('Customer or vendor'),
        limit: limitArg,
        cursor: cursorArg,
      },
      output: {
        ...tableOutput,
        total_amount: z.number().optional(),
        amount_due: z.number().optional(),
        currency: z.string().optional(),
      },
      annotations: READ,
      handler: async (args, { signal, nextCursor }) => {
        const offset = positionOffset(args.cursor);
        const session = await client.session(signal);
        const meta = await client.fields('account.move', signal);
        checkSelection('account.move', 'payment_state', args.payment_states, meta);
        const types =
          args.kind === 'customer'
            ? ['out_invoice', ...(args.include_refunds ? ['out_refund'] : [])]
            : ['in_invoice', ...(args.include_refunds ? ['in_refund'] : [])];
        const dated = Boolean(args.period || args.date_from || args.date_to);
        const range = dated ? resolveRange(args, session.tz, undefined) : undefined;
        const today = todayIn(session.tz);
        const domain = and(
          [['move_type', 'in', types]],
          [['state', 'in', args.states]],
          range ? dateRangeDomain('invoice_date', range) : [],
          args.payment_states ? [['payment_state', 'in', args.payment_states]] : [],
          args.overdue
            ? [
                ['invoice_date_due', '<', today],
                ['amount_residual', '>', 0],
              ]
            : [],
          byNameOrId('partner_id', args.partner),
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
          ...(args.include_refunds ? ['move_type'] : []),
        ].filter((c) => c === 'id' || c in meta);
        const signed = 'amount_total_signed' in meta && 'amount_residual_signed' in meta;
        const [rows, total, sums, company] = await Promise.all([
          client.call<Array<Record<string, unknown>>>(
            'account.move',
            'search_read',
            {
              domain,
              fields: columns.slice(1),
              offset,
              limit: args.limit,
              order: 'invoice_date desc, id desc',
            },
            { signal },
          ),
          client.call<number>('account.move', 'search_count', { domain }, { signal }),
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
        const shaped = shapeRows(rows, columns, meta, session.tz);
        // Signed amounts are negative for vendor bills; refunds reduce the net.
        const sign = args.kind === 'vendor' ? -1 : 1;
        const sumRow = sums?.[0];
        const totalAmount = sumRow ? Math.round(sign * (sumRow.values[0] ?? 0) * 100) / 100 : undefined;
        const due = sumRow ? Math.round(sign * (sumRow.values[1] ?? 0) * 100) / 100 : undefined;
        const what = args.kind === 'customer' ? 'Customer invoices' : 'Vendor bills';
        return tableReply({
          title: `${what}${range ? `, ${range.label}` : ''}${args.overdue ? ', overdue' : ''}`,
          columns,
          textRows: shaped.text,
          total,
          offset,
          nextCursor,
          footer:
            totalAmount !== undefined && total > 0
              ? `Total: ${money(totalAmount)} ${company.name}; amount due: ${money(due ?? 0)} ${company.name} (company currency, all ${total} matching).`
              : undefined,
          extra: {
            ...(totalAmount !== undefined
              ? { total_amount: totalAmount, amount_due: due, currency: company.name }
              : {}),
          },
        });
      },
    }),
  ];
}

type InventoryArgs = {
  product?: string | undefined;
  category?: string | undefined;
  location?: string | undefined;
  low_stock_below?: number | undefined;
  limit: number;
  offset: number;
  nextCursor: Resumable['nextCursor'] | undefined;
};

/** One internal location by id or name; several matches must be told apart. */
async function findLocation(
  client: OdooClient,
  text: string,
  signal?: AbortSignal,
): Promise<{ id: number; name: string }> {
  const domain = /^\d+$/.test(text)
    ? [['id', '=', Number(text)]]
    : [
        ['usage', '=', 'internal'],
        ['complete_name', 'ilike', text],
      ];
  const rows = await client.call<Array<{ id: number; complete_name: string }>>(
    'stock.location',
    'search_read',
    { domain, fields: ['complete_name'], limit: 20, order: 'complete_name' },
    { signal },
  );
  const exact = rows.find((r) => r.complete_name.toLowerCase() === text.toLowerCase());
  if (exact) return { id: exact.id, name: exact.complete_name };
  if (rows.length === 1) return { id: rows[0]!.id, name: rows[0]!.complete_name };
  if (rows.length === 0) {
    throw new NotFoundError(`No internal stock location matches '${text}'`, {
      hint: "Search stock.location with odoo_search_records (domain [['usage','=','internal']])",
    });
  }
  throw new UserInputError(
    `Several stock locations match '${text}': ${rows.map((r) => `${r.complete_name} #${r.id}`).join(', ')}; pass the id or the full name`,
  );
}

async function lowStock(client: OdooClient, session: OdooSession, args: InventoryArgs, signal?: AbortSignal) {
  const meta = await client.fields('product.product', signal);
  const location = args.location?.trim()
    ? await findLocation(client, args.location.trim(), signal)
    : undefined;
  const product = args.product?.trim();
  const category = args.category?.trim();
  const threshold = args.low_stock_below!;
  const domain = and(
    meta.is_storable ? [['is_storable', '=', true]] : [['type', '=', 'product']],
    [['qty_available', '<', threshold]],
    product
      ? /^\d+$/.test(product)
        ? [['id', '=', Number(product)]]
        : ['|', ['name', 'ilike', product], ['default_code', 'ilike', product]]
      : [],
    category
      ? /^\d+$/.test(category)
        ? [['categ_id', 'child_of', Number(category)]]
        : [['categ_id', 'ilike', category]]
      : [],
  );
  const context = location ? { location: location.id } : undefined;
  // qty_available is computed, so Odoo cannot sort by it: read the matches (bounded) and sort here.
  const cap = 2000;
  const [rows, total] = await Promise.all([
    client.call<Array<Record<string, unknown>>>(
      'product.product',
      'search_read',
      {
        domain,
        fields: ['default_code', 'name', 'categ_id', 'qty_available', 'virtual_available'],
        limit: cap,
        order: 'default_code, id',
      },
      { signal, ...(context ? { context } : {}) },
    ),
    client.call<number>(
      'product.product',
      'search_count',
      { domain },
      { signal, ...(context ? { context } : {}) },
    ),
  ]);
  rows.sort((a, b) => Number(a.qty_available) - Number(b.qty_available));
  const page = rows.slice(args.offset, args.offset + args.limit);
  const columns = ['id', 'default_code', 'name', 'categ_id', 'qty_available', 'virtual_available'];
  const shaped = shapeRows(page, columns, meta, session.tz);
  const where = location ? ` in ${location.name}` : '';
  return tableReply({
    title: `Storable products with less than ${threshold} on hand${where}`,
    columns: ['id', 'default_code', 'product', 'category', 'on_hand', 'forecast'],
    textRows: shaped.text,
    total,
    offset: args.offset,
    nextCursor: args.nextCursor,
    footer: total > cap ? `Only the ${cap} first products were sorted; narrow the filters.` : undefined,
  });
}
