import { cursorArg, defineTool, positionOffset, z } from '@switchyard/core';
import { PERIODS } from '../dates.js';
import { money } from '../fields.js';
import { listEmployees } from '../queries/employees.js';
import { inventoryTable } from '../queries/inventory.js';
import { listInvoices } from '../queries/invoices.js';
import { listSalesOrders } from '../queries/sales.js';
import { limitArg, tableOutput, tableReply, type OdooDeps } from './common.js';

const READ = { readOnlyHint: true } as const;

const periodArg = z.enum(PERIODS).optional().describe("Named period (user's time zone).");
const dateArg = (what: string) =>
  z.string().max(10).optional().describe(`${what} (YYYY-MM-DD); overrides period.`);
const textArg = (what: string) => z.string().max(100).optional().describe(`${what}: name part or id.`);

/** The business tools: each handler asks one query of ../queries/ and shapes its rows as a table. */
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
        const found = await listSalesOrders(client, { ...args, offset }, signal);
        const { range, sum, total } = found;
        return tableReply({
          title: `Sales orders, ${range.label}`,
          columns: found.columns,
          textRows: found.textRows,
          total,
          offset,
          nextCursor,
          tz: found.tz,
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
        const { range, columns, textRows, total } = await listEmployees(client, { ...args, offset }, signal);
        return tableReply({
          title: `Employees${range ? `, hired ${range.label}` : ''}`,
          columns,
          textRows,
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
        const found = await inventoryTable(client, { ...args, offset }, signal);
        return tableReply({ ...found, offset, nextCursor });
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
        const { totals, ...found } = await listInvoices(client, { ...args, offset }, signal);
        return tableReply({ ...found, offset, nextCursor, extra: totals });
      },
    }),
  ];
}
