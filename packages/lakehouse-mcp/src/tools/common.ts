import { describeRows, fenceUntrusted, formatTable, z } from '@switchyard/core';
import type { QueryResult } from '../warehouse/types.js';

export const tenantArg = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_]{0,39}$/)
  .optional()
  .describe('Tenant id.');

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
