import { describeRows, fenceUntrusted, formatTable, z } from '@switchyard/core';
import type { QueryResult } from '../warehouse/types.js';

// The warehouse checks the id (checkTenantId) with a sentence that says what is allowed, so tools/list
// need not carry the pattern on every tool.
export const tenantArg = z.string().optional().describe('Tenant id.');

export const connectionArg = z.string().min(1).max(63).describe('Connection name.');

export const n = (x: number): string => x.toLocaleString('en-US');

/** Rows as fenced CSV with the line that says how many and whether they were cut. */
export function rowsText(
  result: QueryResult,
  source: string,
  moreHint?: string,
): { text: string; returned: number } {
  const table = formatTable(
    result.columns.map((c) => c.name),
    result.rows,
    { maxRows: result.rows.length, maxBytes: Number.MAX_SAFE_INTEGER },
  );
  const summary = describeRows(
    { returnedRows: result.rows.length, totalRows: undefined, truncated: result.truncated },
    moreHint,
  );
  return { text: `${summary}\n${fenceUntrusted(table.text, source)}`, returned: result.rows.length };
}

export const columnsOutput = z.array(z.object({ name: z.string(), type: z.string() }));
