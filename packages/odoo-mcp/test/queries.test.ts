// The business queries' domain builders (src/queries/), without a server: what each filter becomes in Odoo's
// prefix notation, and which filters are refused before any call.
import { describe, expect, it } from 'vitest';
import { UserInputError } from '@switchyard/core';
import type { FieldMap } from '../src/odoo-client.js';
import { compareCells, groupOrder } from '../src/queries/aggregate.js';
import { byNameOrId, checkSelection, underNameOrId } from '../src/queries/common.js';
import { employeesQuery } from '../src/queries/employees.js';
import { lowStockDomain, quantsDomain } from '../src/queries/inventory.js';
import { invoicesQuery } from '../src/queries/invoices.js';
import { salesOrdersQuery } from '../src/queries/sales.js';

const TZ = 'Europe/Brussels';
/** 12 June 2025, noon in Brussels (UTC+2 in summer). */
const NOW = new Date('2025-06-12T10:00:00Z');

const field = (type: string, extra: Partial<FieldMap[string]> = {}) => ({ string: type, type, ...extra });

const SALE_ORDER: FieldMap = {
  state: field('selection', {
    selection: [
      ['draft', 'Quotation'],
      ['sent', 'Quotation Sent'],
      ['sale', 'Sales Order'],
      ['cancel', 'Cancelled'],
    ],
  }),
};

describe('filters by name or id', () => {
  it.each([
    [undefined, []],
    ['', []],
    ['42', [['partner_id', '=', 42]]],
    [' 42 ', [['partner_id', '=', 42]]],
    [42, [['partner_id', '=', 42]]],
    [' Azure ', [['partner_id', 'ilike', 'Azure']]],
  ])('byNameOrId(%j)', (value, domain) => {
    expect(byNameOrId('partner_id', value)).toEqual(domain);
  });

  it.each([
    [undefined, []],
    ['7', [['categ_id', 'child_of', 7]]],
    ['All / Saleable', [['categ_id', 'ilike', 'All / Saleable']]],
  ])('underNameOrId(%j) takes the children of an id', (value, domain) => {
    expect(underNameOrId('categ_id', value)).toEqual(domain);
  });
});

describe('sales orders', () => {
  it('default: today in the user time zone, sent in UTC, without cancelled orders', () => {
    const { range, domain } = salesOrdersQuery({}, SALE_ORDER, TZ, NOW);
    expect(range.label).toBe('2025-06-12');
    expect(domain).toEqual([
      '&',
      '&',
      ['date_order', '>=', '2025-06-11 22:00:00'],
      ['date_order', '<', '2025-06-12 22:00:00'],
      ['state', '!=', 'cancel'],
    ]);
  });

  it('states, customer and salesperson narrow it; explicit dates win over the period', () => {
    const { range, domain } = salesOrdersQuery(
      { period: 'this_year', date_from: '2025-06-01', states: ['sale'], customer: 'Azure', salesperson: '6' },
      SALE_ORDER,
      TZ,
      NOW,
    );
    expect(range.label).toBe('2025-06-01 to 2025-12-31');
    expect(domain).toEqual([
      '&',
      '&',
      '&',
      '&',
      ['date_order', '>=', '2025-05-31 22:00:00'],
      ['date_order', '<', '2025-12-31 23:00:00'],
      ['state', 'in', ['sale']],
      ['partner_id', 'ilike', 'Azure'],
      ['user_id', '=', 6],
    ]);
  });

  it('refuses a state this database does not have, naming the ones it has', () => {
    expect(() => salesOrdersQuery({ states: ['done'] }, SALE_ORDER, TZ, NOW)).toThrow(
      "sale.order.state has no value 'done' in this database; the values are draft, sent, sale, cancel",
    );
  });

  it('refuses a range that ends before it starts', () => {
    expect(() =>
      salesOrdersQuery({ date_from: '2025-06-10', date_to: '2025-06-01' }, SALE_ORDER, TZ, NOW),
    ).toThrow('date_from 2025-06-10 is after date_to 2025-06-01');
  });
});

describe('employees', () => {
  const WITH_HIRE: FieldMap = {
    name: field('char'),
    job_title: field('char'),
    job_id: field('many2one'),
    department_id: field('many2one'),
    parent_id: field('many2one'),
    work_email: field('char'),
    first_contract_date: field('date'),
    active: field('boolean'),
  };
  const { first_contract_date: _hire, job_id: _job, ...WITHOUT_HIRE } = WITH_HIRE;

  it('active employees by name, ordered by name; the columns are those the database has', () => {
    const q = employeesQuery({ name: ' Ann ', status: 'active' }, WITHOUT_HIRE, TZ, NOW);
    expect(q.domain).toEqual([['name', 'ilike', 'Ann']]);
    expect(q.columns).toEqual(['id', 'name', 'job_title', 'department_id', 'parent_id', 'work_email']);
    expect(q.order).toBe('name');
    expect(q.range).toBeUndefined();
  });

  it('a job matches the title or the job position where there is one; archived and all', () => {
    expect(employeesQuery({ job: 'Dev', status: 'archived' }, WITH_HIRE, TZ, NOW).domain).toEqual([
      '&',
      '|',
      ['job_title', 'ilike', 'Dev'],
      ['job_id', 'ilike', 'Dev'],
      ['active', '=', false],
    ]);
    expect(employeesQuery({ job: 'Dev', status: 'all' }, WITHOUT_HIRE, TZ, NOW)).toMatchObject({
      domain: ['&', ['job_title', 'ilike', 'Dev'], ['active', 'in', [true, false]]],
      columns: ['id', 'name', 'job_title', 'department_id', 'parent_id', 'work_email', 'active'],
    });
  });

  it('hired since a date: on the hire field, newest hires first', () => {
    const q = employeesQuery({ hired_since: '2025-01-01', status: 'active' }, WITH_HIRE, TZ, NOW);
    expect(q.domain).toEqual([['first_contract_date', '>=', '2025-01-01']]);
    expect(q.order).toBe('first_contract_date desc, name');
    expect(q.columns).toContain('first_contract_date');
    expect(q.range?.label).toBe('since 2025-01-01');
  });

  it('refuses a hire filter where the database has no hire date, saying which app adds it', () => {
    let error: unknown;
    try {
      employeesQuery({ hired_period: 'this_month', status: 'active' }, WITHOUT_HIRE, TZ, NOW);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UserInputError);
    expect((error as UserInputError).message).toBe(
      "This database's hr.employee has no hire date field, so employees cannot be filtered by hire date",
    );
    expect((error as UserInputError).hint).toMatch(/Employee Contracts app/);
  });
});

describe('inventory', () => {
  it('quants: internal locations only; a category or location id takes its children', () => {
    expect(quantsDomain({})).toEqual([['location_id.usage', '=', 'internal']]);
    expect(quantsDomain({ product: 'Desk', category: '3', location: ' WH/Stock ' })).toEqual([
      '&',
      '&',
      '&',
      ['location_id.usage', '=', 'internal'],
      ['product_id', 'ilike', 'Desk'],
      ['product_id.categ_id', 'child_of', 3],
      ['location_id', 'ilike', 'WH/Stock'],
    ]);
  });

  it('low stock: storable products (is_storable from Odoo 18, type=product before) under the threshold', () => {
    expect(lowStockDomain({}, 5, { is_storable: field('boolean') })).toEqual([
      '&',
      ['is_storable', '=', true],
      ['qty_available', '<', 5],
    ]);
    expect(lowStockDomain({ product: 'DESK', category: 'Office' }, 0, {})).toEqual([
      '&',
      '&',
      '&',
      ['type', '=', 'product'],
      ['qty_available', '<', 0],
      '|',
      ['name', 'ilike', 'DESK'],
      ['default_code', 'ilike', 'DESK'],
      ['categ_id', 'ilike', 'Office'],
    ]);
    expect(lowStockDomain({ product: '12' }, 1, {})).toContainEqual(['id', '=', 12]);
  });
});

describe('invoices', () => {
  const MOVE: FieldMap = {
    name: field('char'),
    partner_id: field('many2one'),
    invoice_date: field('date'),
    invoice_date_due: field('date'),
    amount_total: field('monetary'),
    amount_residual: field('monetary'),
    currency_id: field('many2one'),
    state: field('selection'),
    move_type: field('selection'),
    payment_state: field('selection', {
      selection: [
        ['not_paid', 'Not Paid'],
        ['paid', 'Paid'],
      ],
    }),
  };
  const base = { kind: 'customer' as const, include_refunds: false, states: ['posted'], overdue: false };

  it('posted customer invoices of every date by default', () => {
    const q = invoicesQuery(base, MOVE, TZ, NOW);
    expect(q.range).toBeUndefined();
    expect(q.domain).toEqual(['&', ['move_type', 'in', ['out_invoice']], ['state', 'in', ['posted']]]);
    expect(q.columns).not.toContain('move_type');
  });

  it('vendor bills with refunds, overdue today in the user zone, in a month, for a partner', () => {
    const q = invoicesQuery(
      { ...base, kind: 'vendor', include_refunds: true, overdue: true, period: 'last_month', partner: '9' },
      MOVE,
      TZ,
      NOW,
    );
    expect(q.range?.label).toBe('2025-05-01 to 2025-05-31');
    expect(q.domain).toEqual([
      '&',
      '&',
      '&',
      '&',
      ['move_type', 'in', ['in_invoice', 'in_refund']],
      ['state', 'in', ['posted']],
      '&',
      ['invoice_date', '>=', '2025-05-01'],
      ['invoice_date', '<=', '2025-05-31'],
      '&',
      ['invoice_date_due', '<', '2025-06-12'],
      ['amount_residual', '>', 0],
      ['partner_id', '=', 9],
    ]);
    expect(q.columns.at(-1)).toBe('move_type');
  });

  it('refuses a payment state this database does not have', () => {
    expect(() => invoicesQuery({ ...base, payment_states: ['partial'] }, MOVE, TZ, NOW)).toThrow(
      "account.move.payment_state has no value 'partial' in this database; the values are not_paid, paid",
    );
  });

  it('checkSelection lets through fields without a selection list', () => {
    expect(() => checkSelection('account.move', 'ref', ['x'], MOVE)).not.toThrow();
  });
});

describe('grouped aggregates', () => {
  const columns = ['date_order:month', 'amount_total:sum', 'count'];

  it('order names a column, __count the count, with an optional direction', () => {
    expect(groupOrder('amount_total:sum desc', columns)).toEqual({ index: 1, descending: true });
    expect(groupOrder(' __count ', columns)).toEqual({ index: 2, descending: false });
  });

  it('refuses an order that is not one of the columns, listing them', () => {
    expect(() => groupOrder('amount_untaxed:sum', columns)).toThrow(
      "The order 'amount_untaxed:sum' must name one of date_order:month, amount_total:sum, count, optionally with asc or desc",
    );
    expect(() => groupOrder('count; drop', columns)).toThrow(UserInputError);
  });

  it('sorts numbers by value, text as text, empty values last', () => {
    expect([10, null, 9, 100].sort(compareCells)).toEqual([9, 10, 100, null]);
    expect(['b', undefined, 'a'].sort(compareCells)).toEqual(['a', 'b', undefined]);
  });
});
