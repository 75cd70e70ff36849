/**
 * Grouped aggregates through the method the server has: `read_group` up to Odoo 18,
 * `formatted_read_group` from 19 (where `read_group` is deprecated). Both answers are read into one
 * shape; date groups are named by the local start of their period (2025-06, 2025-Q2, 2025-W24).
 */
import { UserInputError } from '@switchyard/core';
import { utcToLocal } from './dates.js';
import { resolvePath, shapeValue, unknownField, type Shaped } from './fields.js';
import type { FieldInfo, OdooClient, OdooSession } from './odoo-client.js';
import { JSON2_MAJOR } from './version.js';

export const GRANULARITIES = ['day', 'week', 'month', 'quarter', 'year'] as const;
export const AGGREGATES = ['sum', 'avg', 'min', 'max', 'count', 'count_distinct'] as const;

const NUMERIC = new Set(['integer', 'float', 'monetary']);

export interface GroupSpec {
  spec: string;
  field: string;
  granularity: string | undefined;
  info: FieldInfo;
}

export interface AggregateSpec {
  spec: string;
  field: string;
  fn: string;
  alias: string;
}

export interface GroupRow {
  keys: Shaped[];
  values: Array<number | null>;
  count: number;
}

/** Check "date_order:month" / "user_id" against the fields. */
export async function parseGroupBy(
  client: OdooClient,
  model: string,
  specs: string[],
  signal?: AbortSignal,
): Promise<GroupSpec[]> {
  const out: GroupSpec[] = [];
  for (const raw of specs) {
    const [field, granularity, extra] = raw.trim().split(':');
    if (!field || extra !== undefined) {
      throw new UserInputError(`The group_by '${raw}' is not "field" or "field:granularity"`);
    }
    if (field.includes('.')) {
      throw new UserInputError(
        `The group_by '${raw}' follows a path; Odoo groups only by the model's own fields`,
      );
    }
    const { field: info } = await resolvePath(client, model, field, signal, 'In group_by, ');
    if (!info) throw new UserInputError(`Cannot group ${model} by '${raw}'`);
    if (info.store === false) {
      throw new UserInputError(`${model}.${field} is computed and not stored, so Odoo cannot group by it`);
    }
    if (['one2many', 'binary', 'html', 'text'].includes(info.type)) {
      throw new UserInputError(`${model}.${field} is a ${info.type} field, which Odoo cannot group by`);
    }
    const isDate = info.type === 'date' || info.type === 'datetime';
    if (granularity !== undefined && !isDate) {
      throw new UserInputError(
        `'${raw}' gives a granularity, but ${model}.${field} is a ${info.type}, not a date`,
      );
    }
    if (granularity !== undefined && !(GRANULARITIES as readonly string[]).includes(granularity)) {
      throw new UserInputError(
        `'${raw}' has the granularity '${granularity}'; use one of ${GRANULARITIES.join(', ')}`,
      );
    }
    const g = isDate ? (granularity ?? 'month') : undefined;
    out.push({ spec: g ? `${field}:${g}` : field, field, granularity: g, info });
  }
  return out;
}

/** Check "amount_total:sum" against the fields. */
export async function parseAggregates(
  client: OdooClient,
  model: string,
  specs: string[],
  signal?: AbortSignal,
): Promise<AggregateSpec[]> {
  const fields = await client.fields(model, signal);
  return specs.map((raw) => {
    const [field, fn, extra] = raw.trim().split(':');
    if (!field || !fn || extra !== undefined) {
      throw new UserInputError(`The aggregate '${raw}' is not "field:function", e.g. amount_total:sum`);
    }
    if (!(AGGREGATES as readonly string[]).includes(fn)) {
      throw new UserInputError(`The aggregate '${raw}' uses '${fn}'; use one of ${AGGREGATES.join(', ')}`);
    }
    const info = fields[field];
    if (!info) throw unknownField(model, field, fields, 'In aggregates, ');
    if (info.store === false) {
      throw new UserInputError(`${model}.${field} is computed and not stored, so Odoo cannot aggregate it`);
    }
    const orderable = NUMERIC.has(info.type) || info.type === 'date' || info.type === 'datetime';
    if ((fn === 'sum' || fn === 'avg') && !NUMERIC.has(info.type)) {
      throw new UserInputError(`'${raw}': ${model}.${field} is a ${info.type} field; ${fn} needs a number`);
    }
    if ((fn === 'min' || fn === 'max') && !orderable) {
      throw new UserInputError(
        `'${raw}': ${model}.${field} is a ${info.type} field; ${fn} needs a number or a date`,
      );
    }
    return { spec: `${field}:${fn}`, field, fn, alias: `${field}_${fn}` };
  });
}

/** Run the grouped read the server supports and read the answer into GroupRows. */
export async function groupedRead(
  client: OdooClient,
  session: OdooSession,
  model: string,
  domain: unknown[],
  groups: GroupSpec[],
  aggregates: AggregateSpec[],
  options: { limit: number; signal?: AbortSignal | undefined },
): Promise<GroupRow[]> {
  const modern = session.version.major >= JSON2_MAJOR;
  const raw = modern
    ? await client.call<Array<Record<string, unknown>>>(
        model,
        'formatted_read_group',
        {
          domain,
          groupby: groups.map((g) => g.spec),
          aggregates: [...aggregates.map((a) => a.spec), '__count'],
          limit: options.limit,
        },
        { signal: options.signal },
      )
    : await client.call<Array<Record<string, unknown>>>(
        model,
        'read_group',
        {
          domain,
          fields: aggregates.map((a) => `${a.alias}:${a.fn}(${a.field})`),
          groupby: groups.map((g) => g.spec),
          lazy: false,
          limit: options.limit,
        },
        { signal: options.signal },
      );
  return (raw ?? []).map((row) => ({
    keys: groups.map((g) => groupKey(row, g, session.tz)),
    values: aggregates.map((a) => {
      const v = row[modern ? a.spec : a.alias];
      if (typeof v !== 'number') return null;
      return a.fn === 'avg' ? Math.round(v * 100) / 100 : v;
    }),
    count: Number(row.__count ?? row[`${groups[0]?.spec}_count`] ?? 0),
  }));
}

function groupKey(row: Record<string, unknown>, group: GroupSpec, tz: string): Shaped {
  const value = row[group.spec];
  if (!group.granularity) {
    if (value === false || value === null || value === undefined) {
      return group.info.type === 'boolean' ? { text: false, data: false } : { text: '(none)', data: null };
    }
    return shapeValue(value, group.info, tz);
  }
  if (value === false || value === null || value === undefined) return { text: '(none)', data: null };
  const start = periodStart(row, group);
  if (!start) {
    const label = Array.isArray(value) ? String(value[1] ?? value[0]) : String(value);
    return { text: label, data: label };
  }
  const local =
    group.info.type === 'datetime' && start.length > 10
      ? utcToLocal(start, tz).slice(0, 10)
      : start.slice(0, 10);
  const label = periodLabel(local, group.granularity);
  return { text: label, data: label };
}

/** The start of a date group, from the group's domain (both versions), `__range` (≤ 18) or the value. */
function periodStart(row: Record<string, unknown>, group: GroupSpec): string | undefined {
  const domain = (row.__extra_domain ?? row.__domain) as unknown[] | undefined;
  if (Array.isArray(domain)) {
    for (const leaf of domain) {
      if (Array.isArray(leaf) && leaf[0] === group.field && leaf[1] === '>=' && typeof leaf[2] === 'string') {
        return leaf[2];
      }
    }
  }
  const range = (row.__range as Record<string, { from?: string }> | undefined)?.[group.spec];
  if (range?.from) return range.from;
  const value = row[group.spec];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' && /^\d{4}-\d{2}-\d{2}/.test(first) ? first : undefined;
}

function periodLabel(date: string, granularity: string): string {
  const [y, m] = date.split('-').map(Number) as [number, number, number];
  switch (granularity) {
    case 'day':
      return date;
    case 'week':
      return isoWeek(date);
    case 'month':
      return date.slice(0, 7);
    case 'quarter':
      return `${y}-Q${Math.floor((m - 1) / 3) + 1}`;
    default:
      return String(y);
  }
}

function isoWeek(date: string): string {
  const target = new Date(`${date}T00:00:00Z`);
  target.setUTCDate(target.getUTCDate() - ((target.getUTCDay() + 6) % 7) + 3); // Thursday decides the year
  const thursday = target.getTime();
  const year = target.getUTCFullYear();
  const jan4 = new Date(Date.UTC(year, 0, 4));
  jan4.setUTCDate(jan4.getUTCDate() - ((jan4.getUTCDay() + 6) % 7) + 3);
  const week = 1 + Math.round((thursday - jan4.getTime()) / (7 * 86_400_000));
  return `${year}-W${String(week).padStart(2, '0')}`;
}
