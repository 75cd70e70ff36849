/** Grouped aggregates computed by Odoo (read_group / formatted_read_group), sorted and cut here. */
import { UserInputError } from '@switchyard/core';
import { validateDomain } from '../domain.js';
import { groupedRead, parseAggregates, parseGroupBy } from '../group.js';
import type { OdooClient } from '../odoo-client.js';
import { checkModel } from '../tools/common.js';

/** Every group is read (up to this many) so that sorting and the total are exact. */
export const GROUP_CAP = 5000;

/** The column an `order` such as "amount_total:sum desc" sorts by, and its direction. */
export function groupOrder(order: string, columns: string[]): { index: number; descending: boolean } {
  const m = /^\s*([\w:]+)(?:\s+(asc|desc))?\s*$/i.exec(order);
  const index = m ? columns.indexOf(m[1] === '__count' ? 'count' : m[1]!) : -1;
  if (!m || index < 0) {
    throw new UserInputError(
      `The order '${order}' must name one of ${columns.join(', ')}, optionally with asc or desc`,
    );
  }
  return { index, descending: m[2]?.toLowerCase() === 'desc' };
}

/** Empty values last; numbers by value, anything else as text. */
export function compareCells(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b));
}

export interface AggregateQuery {
  model: string;
  domain: unknown[];
  group_by: string[];
  aggregates: string[];
  order?: string | undefined;
  limit: number;
}

/** The groups of a model's records as rows (group keys, aggregates, count): the first `limit` after sorting. */
export async function aggregateRecords(
  client: OdooClient,
  q: AggregateQuery,
  signal: AbortSignal | undefined,
) {
  const { model, limit } = q;
  const session = await client.session(signal);
  await client.fields(checkModel(model), signal);
  const groups = await parseGroupBy(client, model, q.group_by, signal);
  const aggs = await parseAggregates(client, model, q.aggregates, signal);
  const checked = await validateDomain(client, model, q.domain, {
    tz: session.tz,
    major: session.version.major,
    signal,
  });
  const columns = [...groups.map((g) => g.spec), ...aggs.map((a) => a.spec), 'count'];
  const sort = q.order ? groupOrder(q.order, columns) : undefined;
  const rows = await groupedRead(client, session, model, checked, groups, aggs, { limit: GROUP_CAP, signal });
  const textRows = rows.map((r) => [...r.keys.map((k) => k.text), ...r.values, r.count]);
  const indexes = textRows.map((_, i) => i);
  if (sort) {
    const key = (row: unknown[]) => row[sort.index];
    indexes.sort((a, b) => compareCells(key(textRows[a]!), key(textRows[b]!)) * (sort.descending ? -1 : 1));
  }
  return {
    groups,
    columns,
    textRows: indexes.slice(0, limit).map((i) => textRows[i]!),
    total: textRows.length,
    tz: groups.some((g) => g.info.type === 'datetime') ? session.tz : undefined,
  };
}
