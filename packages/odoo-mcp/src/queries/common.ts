/**
 * What the business queries share: filters by name or id, selection checks against this database, and totals
 * converted to the company currency. Domain builders here are pure; only `companyTotal` calls Odoo.
 */
import { UserInputError } from '@switchyard/core';
import { money } from '../fields.js';
import { groupedRead } from '../group.js';
import type { FieldMap, OdooClient, OdooSession } from '../odoo-client.js';

/** A filter by name or id on a relation: digits are an id, anything else matches the name. */
export function byNameOrId(field: string, value: string | number | undefined): unknown[] {
  if (value === undefined || value === '') return [];
  if (typeof value === 'number' || /^\d+$/.test(value.trim())) return [[field, '=', Number(value)]];
  return [[field, 'ilike', value.trim()]];
}

/** A filter on a hierarchy (categories, locations): digits take the record and its children, text matches the name. */
export function underNameOrId(field: string, value: string | undefined): unknown[] {
  if (value === undefined || value === '') return [];
  const text = value.trim();
  return /^\d+$/.test(text) ? [[field, 'child_of', Number(text)]] : [[field, 'ilike', text]];
}

/** Reject selection values the database does not have (they differ between Odoo versions). */
export function checkSelection(
  model: string,
  field: string,
  values: string[] | undefined,
  meta: FieldMap,
): void {
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

/** A page of search_read rows and the count of all matches. */
export async function readPage(
  client: OdooClient,
  model: string,
  query: { domain: unknown[]; fields: string[]; offset: number; limit: number; order: string },
  signal: AbortSignal | undefined,
): Promise<[Array<Record<string, unknown>>, number]> {
  return Promise.all([
    client.call<Array<Record<string, unknown>>>(model, 'search_read', query, { signal }),
    client.call<number>(model, 'search_count', { domain: query.domain }, { signal }),
  ]);
}

/** Sums per currency, converted to the company currency at the currency's current rate. */
export async function companyTotal(
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
