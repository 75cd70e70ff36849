/**
 * Which fields to show, checked against `fields_get`, and how Odoo's values look to a model: many2one
 * as name and id, datetimes in the user's time zone, HTML as text, `false` as empty.
 */
import { UserInputError, htmlToText, stripInvisible } from '@switchyard/core';
import { utcToLocal } from './dates.js';
import type { FieldInfo, FieldMap, OdooClient } from './odoo-client.js';

/** Sensible columns for the models people ask about; filtered to the fields the database has. */
export const DEFAULT_FIELDS: Record<string, string[]> = {
  'sale.order': ['name', 'date_order', 'partner_id', 'user_id', 'state', 'amount_total', 'currency_id'],
  'sale.order.line': ['order_id', 'product_id', 'product_uom_qty', 'price_unit', 'price_subtotal'],
  'purchase.order': ['name', 'date_order', 'partner_id', 'state', 'amount_total', 'currency_id'],
  'res.partner': ['name', 'email', 'phone', 'city', 'country_id', 'is_company'],
  'res.users': ['name', 'login', 'company_id'],
  'res.company': ['name', 'currency_id', 'country_id'],
  'product.product': ['default_code', 'name', 'list_price', 'qty_available', 'categ_id'],
  'product.template': ['default_code', 'name', 'list_price', 'qty_available', 'categ_id'],
  'product.category': ['complete_name', 'parent_id'],
  'stock.quant': ['product_id', 'location_id', 'quantity', 'reserved_quantity'],
  'stock.location': ['complete_name', 'usage'],
  'stock.picking': ['name', 'partner_id', 'scheduled_date', 'state', 'origin'],
  'hr.employee': ['name', 'job_title', 'department_id', 'parent_id', 'work_email'],
  'hr.department': ['name', 'manager_id', 'parent_id'],
  'account.move': [
    'name',
    'move_type',
    'partner_id',
    'invoice_date',
    'invoice_date_due',
    'amount_total',
    'amount_residual',
    'state',
    'payment_state',
  ],
  'crm.lead': ['name', 'partner_id', 'user_id', 'stage_id', 'expected_revenue', 'probability'],
  'project.task': ['name', 'project_id', 'stage_id', 'date_deadline'],
  'ir.model': ['model', 'name'],
  // Never `datas`: the size and type say what a file is; odoo_save_attachment fetches its content.
  'ir.attachment': ['name', 'mimetype', 'file_size', 'res_model', 'res_id', 'type', 'create_date'],
};

const TECHNICAL =
  /^(message_|activity_|website_message|rating_|access_|__|my_activity)|^(create_uid|create_date|write_uid|write_date|has_message|display_name|id)$/;

/** Bookkeeping fields that are noise for a reader: chatter, activities, audit stamps. */
export function isTechnical(name: string): boolean {
  return TECHNICAL.test(name);
}

const TYPE_RANK: Record<string, number> = {
  many2one: 1,
  selection: 2,
  date: 3,
  datetime: 3,
  monetary: 4,
  float: 5,
  integer: 5,
  char: 6,
  boolean: 7,
};

/** Fields worth reading for one record: stored or not, everything but noise, binaries and long lists. */
export function usefulFields(fields: FieldMap, max = 40): string[] {
  return Object.entries(fields)
    .filter(
      ([name, f]) =>
        !isTechnical(name) && f.type !== 'binary' && f.type !== 'properties' && f.type !== 'json',
    )
    .filter(([, f]) => f.type !== 'one2many' || f.store !== false)
    .sort(([an, a], [bn, b]) => rank(an, a) - rank(bn, b))
    .slice(0, max)
    .map(([name]) => name);
}

function rank(name: string, f: FieldInfo): number {
  if (name === 'name') return -2;
  if (f.required) return -1 + (TYPE_RANK[f.type] ?? 9) / 10;
  return TYPE_RANK[f.type] ?? 9;
}

/** The default columns of a list: the known set for common models, else a few informative fields. */
export function defaultListFields(model: string, fields: FieldMap): string[] {
  const known = DEFAULT_FIELDS[model]?.filter((f) => f in fields);
  if (known && known.length > 0) return known;
  const pick = Object.entries(fields)
    .filter(([name, f]) => !isTechnical(name) && f.store !== false && f.type in TYPE_RANK)
    .sort(([an, a], [bn, b]) => rank(an, a) - rank(bn, b))
    .slice(0, 7)
    .map(([name]) => name);
  return pick.length > 0 ? pick : ['display_name'];
}

/** Up to five field names close to a misspelt one. */
export function closeMatches(name: string, candidates: string[]): string[] {
  const lower = name.toLowerCase();
  const scored = candidates
    .map((c) => {
      const cl = c.toLowerCase();
      let score = distance(lower, cl);
      if ((cl.includes(lower) && lower.length >= 3) || (lower.includes(cl) && cl.length >= 4))
        score = Math.min(score, 1);
      return { c, score };
    })
    .filter((x) => x.score <= Math.max(2, Math.floor(lower.length / 3)))
    .sort((a, b) => a.score - b.score || a.c.localeCompare(b.c));
  return scored.slice(0, 5).map((x) => x.c);
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** "sale.order has no field 'amout'. Close matches: amount_total." */
export function unknownField(model: string, name: string, fields: FieldMap, prefix = ''): UserInputError {
  const close = closeMatches(name, Object.keys(fields));
  const matches = close.length > 0 ? ` Close matches: ${close.join(', ')}.` : '';
  return new UserInputError(`${prefix}${model} has no field '${name}'.${matches}`, {
    hint: `Call odoo_describe_model with model '${model}' to see its fields`,
  });
}

/** Check a list of field names (no dotted paths: Odoo reads only a model's own fields). */
export function checkFieldNames(model: string, names: string[], fields: FieldMap): string[] {
  for (const name of names) {
    if (name === 'id' || name === 'display_name') continue;
    if (!(name in fields)) throw unknownField(model, name, fields);
  }
  return [...new Set(names)];
}

/** Check an `order` clause ("date_order desc, name") against the fields. */
export function checkOrder(model: string, order: string, fields: FieldMap): string {
  const parts = order
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  for (const part of parts) {
    const m = /^([a-z_][a-z0-9_]*)(?:\s+(asc|desc))?(?:\s+nulls\s+(first|last))?$/i.exec(part);
    if (!m) {
      throw new UserInputError(
        `The order '${order}' is not a list of "field [asc|desc]" separated by commas (at '${part}')`,
      );
    }
    if (m[1] !== 'id' && !(m[1]! in fields)) throw unknownField(model, m[1]!, fields, 'In the order, ');
    if (m[1] !== 'id' && fields[m[1]!]!.store === false) {
      throw new UserInputError(`${model}.${m[1]} is computed and not stored, so Odoo cannot sort by it`);
    }
  }
  return parts.join(', ');
}

/** Follow a dotted path ("partner_id.country_id.code") through `fields_get`, checking every step. */
export async function resolvePath(
  client: OdooClient,
  model: string,
  path: string,
  signal: AbortSignal | undefined,
  prefix = '',
): Promise<{ model: string; name: string; field: FieldInfo | undefined }> {
  const steps = path.split('.');
  let current = model;
  for (let i = 0; i < steps.length; i++) {
    const name = steps[i]!;
    const fields = await client.fields(current, signal);
    if (name === 'id' && i === steps.length - 1)
      return { model: current, name, field: { string: 'ID', type: 'integer' } };
    const field = fields[name];
    if (!field) throw unknownField(current, name, fields, prefix);
    if (i === steps.length - 1) return { model: current, name, field };
    if (!field.relation) {
      throw new UserInputError(
        `${prefix}${current}.${name} is a ${field.type} field, so the path '${path}' cannot continue past it`,
      );
    }
    current = field.relation;
  }
  return { model: current, name: path, field: undefined };
}

/** One value as a CSV cell and as structured data. */
export interface Shaped {
  text: string | number | boolean | null;
  data: unknown;
}

export function shapeValue(value: unknown, field: FieldInfo | undefined, tz: string): Shaped {
  const type = field?.type;
  if (type === 'boolean') return { text: value === true, data: value === true };
  if (value === false || value === null || value === undefined) return { text: null, data: null };
  switch (type) {
    case 'many2one': {
      if (Array.isArray(value) && value.length >= 2) {
        const name = stripInvisible(String(value[1]));
        return { text: `${name} #${value[0]}`, data: [value[0], name] };
      }
      return { text: `#${String(value)}`, data: [value, null] };
    }
    case 'one2many':
    case 'many2many': {
      const ids = Array.isArray(value) ? (value as number[]) : [];
      const shown = ids.slice(0, 10).join(' ');
      return { text: ids.length > 10 ? `${shown} …(+${ids.length - 10})` : shown, data: ids.slice(0, 100) };
    }
    case 'datetime': {
      const local = typeof value === 'string' ? utcToLocal(value, tz) : String(value);
      return { text: local, data: local };
    }
    case 'html': {
      const text = htmlToText(String(value));
      return { text, data: text };
    }
    case 'binary': {
      const size = binarySize(value);
      return { text: `(file, ${size})`, data: size };
    }
    case 'integer':
    case 'float':
    case 'monetary':
      return typeof value === 'number' ? { text: value, data: value } : { text: String(value), data: value };
    default: {
      if (typeof value === 'string') {
        const text = stripInvisible(value);
        return { text, data: text };
      }
      if (typeof value === 'number' || typeof value === 'boolean') return { text: value, data: value };
      const json = JSON.stringify(value);
      return { text: json, data: value };
    }
  }
}

/**
 * What a binary value weighs, never its bytes. Asked with `bin_size`, Odoo answers a size: `human_size`
 * ("19.54 Kb", odoo/tools/misc.py) for a field kept in an attachment, PostgreSQL's `pg_size_pretty` ("20 kB") for
 * one kept in a column. Should content come all the same (a server or module ignoring bin_size), its size is
 * computed from the base64 and the content is dropped.
 */
export function binarySize(value: unknown): string {
  const text = String(value);
  if (/^\d+(\.\d+)? ?(bytes|Kb|Mb|Gb|Tb|kB|MB|GB|TB|PB)$/.test(text)) return text;
  const bytes = Math.floor((text.replace(/[\s=]/g, '').length * 3) / 4);
  return bytes < 1024 ? `${bytes} bytes` : `${(bytes / 1024).toFixed(2)} Kb`;
}

/** Rows from Odoo (objects) → CSV rows and structured rows, in the order of `columns`. */
export function shapeRows(
  rows: Array<Record<string, unknown>>,
  columns: string[],
  fields: FieldMap,
  tz: string,
): { text: Array<Array<string | number | boolean | null>>; data: unknown[][] } {
  const text: Array<Array<string | number | boolean | null>> = [];
  const data: unknown[][] = [];
  for (const row of rows) {
    const t: Array<string | number | boolean | null> = [];
    const d: unknown[] = [];
    for (const column of columns) {
      const field = column === 'id' ? { string: 'ID', type: 'integer' } : fields[column];
      const shaped = shapeValue(row[column], field, tz);
      t.push(shaped.text);
      d.push(shaped.data);
    }
    text.push(t);
    data.push(d);
  }
  return { text, data };
}

/** "1,234.50" */
export function money(amount: number): string {
  return amount.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}
