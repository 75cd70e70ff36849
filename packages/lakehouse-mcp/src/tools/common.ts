import {
  cutCellsData,
  DEFAULT_RESULT_BYTES,
  describeRows,
  fenceUntrusted,
  formatTable,
  NotFoundError,
  payloadBudget,
  z,
} from '@switchyard/core';
import type { ColumnInfo, QueryResult, TableRef, TenantWarehouse } from '../warehouse/types.js';

// The warehouse checks the id (checkTenantId) with a sentence that says what is allowed, so tools/list
// need not carry the pattern on every tool.
export const tenantArg = z.string().optional().describe('Tenant id.');

export const connectionArg = z.string().min(1).max(63).describe('Connection name.');

export const n = (x: number): string => x.toLocaleString('en-US');

/**
 * Rows as fenced CSV within `maxBytes` (as they travel), with the line that says how many and whether they were cut
 * (rows left out by the query's caps or here, or cells cut at 500 characters).
 */
export function rowsText(
  result: QueryResult,
  source: string,
  moreHint?: string,
  maxBytes = payloadBudget(DEFAULT_RESULT_BYTES),
): { text: string; returned: number; truncated: boolean; cut: ReturnType<typeof cutCellsData> } {
  const table = formatTable(
    result.columns.map((c) => c.name),
    result.rows,
    { maxRows: result.rows.length, maxBytes },
  );
  const truncated = result.truncated || table.truncated;
  const summary = describeRows({ ...table, truncated }, moreHint);
  return {
    text: `${summary}\n${fenceUntrusted(table.text, source)}`,
    returned: table.returnedRows,
    truncated,
    cut: cutCellsData(table),
  };
}

/** The columns of a table or view, or a NotFoundError naming the tables there are (gold left out if asked). */
export async function columnsOrNotFound(
  tenant: TenantWarehouse,
  ref: TableRef,
  options: { gold?: boolean } = {},
): Promise<ColumnInfo[]> {
  const columns = await tenant.columnsOf(ref);
  if (columns) return columns;
  const all = await tenant.listTables();
  throw new NotFoundError(`There is no table ${ref.layer}.${ref.name} in ${tenant.catalog}`, {
    candidates: all
      .filter((t) => options.gold !== false || t.layer !== 'gold')
      .map((t) => `${t.layer}.${t.name}`),
    hint: 'Call lakehouse_list_tables to see the tables',
  });
}

/** Column names and types for an answer; names come from files and source tables, so they are fenced. */
export function columnsText(columns: ReadonlyArray<{ name: string; type: string }>): string {
  return fenceUntrusted(columns.map((c) => `${c.name} ${c.type}`).join(', '), 'columns');
}
