/**
 * The rows of the catalog and profile statements read back into records, once for every engine; each engine
 * supplies how its values read (a schema as a layer, its time text, which type names are text).
 */
import { NotFoundError } from '@switchyard/core';
import type { ColumnInfo, ColumnProfile, Layer, TableRef, TableSummary, TenantWarehouse } from './types.js';

/**
 * A row of an engine's table listing (schema, name, kind, rows, columns, lineage kind, lineage inputs as JSON,
 * last load) → a summary.
 */
export function tableSummaryOf(
  r: unknown[],
  read: { layer(schema: string): Layer; time(value: unknown): string },
): TableSummary {
  return {
    layer: read.layer(String(r[0])),
    name: String(r[1]),
    kind: String(r[2]).toUpperCase() === 'VIEW' ? 'view' : 'table',
    rows: r[3] === null || r[3] === undefined ? undefined : Number(r[3]),
    columns: Number(r[4] ?? 0),
    source: r[5]
      ? `${String(r[5])} from ${(JSON.parse(String(r[6])) as string[]).join(', ') || 'a query'}`
      : undefined,
    lastLoadedAt: r[7] ? read.time(r[7]) : undefined,
  };
}

/** Text columns with at most this many distinct values get their most frequent values. */
const TOP_VALUES_MAX_DISTINCT = 50;

/**
 * The row of a dialect's `profile` scan (rows scanned, then nulls, distinct, min and max per column) → profiles;
 * `topValues` reads a text column's most frequent values where there are few of them.
 */
export async function profilesFrom(
  stats: unknown[],
  columns: ColumnInfo[],
  options: {
    isText(type: string): boolean;
    topValues: number;
    top(column: string): Promise<NonNullable<ColumnProfile['top']>>;
  },
): Promise<ColumnProfile[]> {
  const scanned = Number(stats[0]);
  const profiles: ColumnProfile[] = [];
  for (const [i, c] of columns.entries()) {
    const nulls = Number(stats[1 + i * 4]);
    const distinct = stats[2 + i * 4] === null ? null : Number(stats[2 + i * 4]);
    let top: ColumnProfile['top'];
    if (
      options.isText(c.type) &&
      distinct !== null &&
      distinct <= TOP_VALUES_MAX_DISTINCT &&
      options.topValues > 0
    ) {
      top = await options.top(c.name);
    }
    profiles.push({
      name: c.name,
      type: c.type,
      nullable: c.nullable,
      nullShare: scanned === 0 ? null : Math.round((nulls / scanned) * 10_000) / 10_000,
      approxDistinct: distinct,
      min: (stats[3 + i * 4] as string | null) ?? null,
      max: (stats[4 + i * 4] as string | null) ?? null,
      top,
    });
  }
  return profiles;
}

/** A table's columns, or the sentence that it does not exist in the tenant's catalog. */
export async function existingColumns(
  tenant: Pick<TenantWarehouse, 'columnsOf' | 'catalog'>,
  ref: TableRef,
): Promise<ColumnInfo[]> {
  const columns = await tenant.columnsOf(ref);
  if (!columns) throw new NotFoundError(`${ref.layer}.${ref.name} does not exist in ${tenant.catalog}`);
  return columns;
}
