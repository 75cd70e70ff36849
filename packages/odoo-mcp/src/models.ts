/**
 * Finding a model from the words a user says. Odoo's own labels are not the business words ("invoice" is
 * account.move, labelled "Journal Entry"), so a search looks in three places: the technical names and labels of
 * ir.model, a small table of business words for the common models, and the window actions the menus open
 * (`ir.actions.act_window`: "Invoices", "Bills", "Customers", "Quotations"), where this user may read them.
 */
import type { OdooClient } from './odoo-client.js';

/** Business words → the models a user means by them, most likely first. */
const BUSINESS_WORDS: Array<[RegExp, string[]]> = [
  [
    /\b(invoice|bill|vendor bill|credit note|refund|journal entr(y|ie))s?\b/,
    ['account.move', 'account.move.line'],
  ],
  [/\bpayments?\b/, ['account.payment']],
  [/\b(customer|vendor|supplier|contact|partner|client|compan(y|ie))s?\b/, ['res.partner']],
  [
    /\b(stock|inventory|on hand|quantit(y|ie)|warehouse|location)s?\b/,
    ['stock.quant', 'stock.move', 'stock.picking', 'stock.location', 'stock.warehouse', 'product.product'],
  ],
  [/\b(deliver(y|ie)|receipt|transfer|shipment|picking)s?\b/, ['stock.picking', 'stock.move']],
  [/\b(employee|staff|worker|colleague|personnel)s?\b/, ['hr.employee']],
  [/\bdepartments?\b/, ['hr.department']],
  [/\b(product|item|article|service|variant)s?\b/, ['product.product', 'product.template']],
  [/\b(quotation|quote|sales? order|sales?)s?\b/, ['sale.order', 'sale.order.line']],
  [/\b(purchase|purchase order|rfq)s?\b/, ['purchase.order', 'purchase.order.line']],
  [/\b(lead|opportunit(y|ie)|pipeline)s?\b/, ['crm.lead']],
  [/\b(project)s?\b/, ['project.project']],
  [/\b(task)s?\b/, ['project.task']],
  [/\b(timesheet)s?\b/, ['account.analytic.line']],
  [/\b(expense)s?\b/, ['hr.expense']],
  [/\b(time off|leave|holiday|absence)s?\b/, ['hr.leave']],
  [/\b(user)s?\b/, ['res.users']],
];

/** The models the business words of a query stand for, in the table's order. */
export function businessModels(query: string): string[] {
  const q = query.toLowerCase().replace(/\s+/g, ' ').trim();
  const found: string[] = [];
  for (const [words, models] of BUSINESS_WORDS) {
    if (words.test(q)) for (const m of models) if (!found.includes(m)) found.push(m);
  }
  return found;
}

export interface ModelHit {
  model: string;
  label: string;
  /** Why it was found, in our own words (never Odoo's text). */
  matched: 'business word' | 'menu action' | 'name or label';
}

interface Row {
  model: string;
  name: string;
}

/** The models a query finds, business-word and menu matches first; all models when there is no query. */
export async function findModels(
  client: OdooClient,
  query: string | undefined,
  limit: number,
  signal?: AbortSignal,
): Promise<{ hits: ModelHit[]; total: number }> {
  const q = query?.trim();
  if (!q) {
    const domain = [['transient', '=', false]];
    const [rows, total] = await Promise.all([
      client.call<Row[]>(
        'ir.model',
        'search_read',
        { domain, fields: ['model', 'name'], limit, order: 'model' },
        { signal },
      ),
      client.call<number>('ir.model', 'search_count', { domain }, { signal }),
    ]);
    return { hits: rows.map((r) => ({ model: r.model, label: r.name, matched: 'name or label' })), total };
  }
  const words = businessModels(q);
  const [direct, viaActions] = await Promise.all([
    client.call<Row[]>(
      'ir.model',
      'search_read',
      {
        domain: [['transient', '=', false], '|', ['model', 'ilike', q], ['name', 'ilike', q]],
        fields: ['model', 'name'],
        limit: 200,
        order: 'model',
      },
      { signal },
    ),
    actionModels(client, q, signal),
  ]);
  const known = new Map(direct.map((r) => [r.model, r.name]));
  const wanted = [...new Set([...words, ...viaActions])].filter((m) => !known.has(m));
  if (wanted.length > 0) {
    // Only the models installed here: a business word may name an app this database lacks.
    const extra = await client.call<Row[]>(
      'ir.model',
      'search_read',
      {
        domain: [
          ['model', 'in', wanted],
          ['transient', '=', false],
        ],
        fields: ['model', 'name'],
      },
      { signal },
    );
    for (const r of extra) known.set(r.model, r.name);
  }
  const hits: ModelHit[] = [];
  const add = (model: string, matched: ModelHit['matched']) => {
    const label = known.get(model);
    if (label !== undefined && !hits.some((h) => h.model === model)) hits.push({ model, label, matched });
  };
  for (const m of words) add(m, 'business word');
  for (const m of viaActions) add(m, 'menu action');
  for (const r of direct) add(r.model, 'name or label');
  return { hits: hits.slice(0, limit), total: hits.length };
}

/** The models the window actions named like the query open; none when this user may not read actions. */
async function actionModels(client: OdooClient, query: string, signal?: AbortSignal): Promise<string[]> {
  try {
    const rows = await client.call<Array<{ res_model: string | false }>>(
      'ir.actions.act_window',
      'search_read',
      { domain: [['name', 'ilike', query]], fields: ['res_model'], limit: 20 },
      { signal },
    );
    return [
      ...new Set(
        rows.map((r) => r.res_model).filter((m): m is string => typeof m === 'string' && /^[\w.]+$/.test(m)),
      ),
    ];
  } catch {
    return [];
  }
}
