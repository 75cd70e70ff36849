import {
  cutCellsData,
  cutCellsOutput,
  DEFAULT_RESULT_BYTES,
  defineTool,
  payloadBudget,
  untrusted,
  z,
  listFooter,
} from '@switchyard/core';
import { describeTarget, fencedCsv, fields, plural, type PowerBi } from '../context.js';
import { runDax } from '../dax.js';

export const MAX_ROWS = 100_000;
const PREVIEW_ROWS = 20;
// The rows' share of the answer's byte cap (core holds the whole answer to it).
const TEXT_MAX_BYTES = payloadBudget(DEFAULT_RESULT_BYTES);

export function daxTools(pbi: PowerBi) {
  return [
    defineTool({
      name: 'powerbi_execute_dax',
      title: 'Run a DAX query',
      description:
        'Runs one DAX query (EVALUATE …) against a semantic model and returns the rows as CSV, with row_count and truncated. Aggregate in DAX (SUMMARIZECOLUMNS, TOPN) rather than fetching raw rows. Power BI caps a query at 100,000 rows or 1,000,000 values and marks such answers partial; spill: true writes the whole result to a CSV file and returns its path with a preview. Counts against 120 queries per minute per user.',
      toolset: 'dax',
      input: {
        workspace: fields.workspace,
        dataset: fields.dataset,
        query: z
          .string()
          .min(1)
          .max(100_000)
          .describe(
            "One DAX query returning one table, e.g. EVALUATE TOPN(10, 'Sales') or EVALUATE SUMMARIZECOLUMNS(...).",
          ),
        max_rows: z
          .number()
          .int()
          .min(1)
          .max(MAX_ROWS)
          .default(200)
          .describe('Rows to return in the answer (1-100000); the whole answer is also cut at 64 KB.'),
        include_nulls: z
          .boolean()
          .default(true)
          .describe('Keep blank values as empty cells; false lets Power BI drop them from its answer.'),
        impersonated_user: z
          .string()
          .min(3)
          .max(256)
          .optional()
          .describe('Evaluate row-level security as this user (UPN); ignored on models without RLS.'),
        spill: z
          .boolean()
          .default(false)
          .describe(
            'Write every row to a CSV file and return its path plus a preview, instead of rows in the answer.',
          ),
      },
      // Rows travel once, as the fenced CSV of the text (or the spill file); the structure says what came.
      output: {
        row_count: z.number(),
        returned: z.number().describe('Rows in the text.'),
        truncated: z.boolean(),
        partial: z.boolean(),
        partial_reason: z.string().optional(),
        spill_path: z.string().optional(),
        spill_bytes: z.number().optional(),
        ...cutCellsOutput,
      },
      annotations: { readOnlyHint: true, openWorldHint: true },
      // The seed chat backend's names (powerbi_execute_dax(workspace_id, dataset_id, dax_query)).
      aliases: { workspace_id: 'workspace', dataset_id: 'dataset', dax_query: 'query' },
      handler: async (args, ctx) => daxReply(await runDax(pbi.forCall(ctx), args, ctx.signal), args.max_rows),
    }),
  ];
}

/** The rows as fenced CSV under a line saying how many came and how to get the rest (or where the spill file is). */
function daxReply({ target, result, spilled }: Awaited<ReturnType<typeof runDax>>, max_rows: number) {
  const rowCount = result.rows.length;
  const partial = result.partialError !== undefined;
  const lines: string[] = [];
  if (partial) {
    lines.push(
      `PARTIAL RESULT: Power BI stopped after ${plural(rowCount, 'row')} and said: ${untrusted(result.partialError, 300)}. These rows are not the whole answer; aggregate or filter in DAX so the result stays under 100,000 rows and 1,000,000 values.`,
    );
  }
  const shown = spilled ? Math.min(max_rows, PREVIEW_ROWS) : max_rows;
  const table = fencedCsv(result.columns, result.rows, 'Power BI query result', {
    maxRows: shown,
    maxBytes: TEXT_MAX_BYTES,
  });
  const truncated = table.returnedRows < rowCount || table.cutCells > 0;
  if (spilled) {
    lines.push(
      `Wrote ${spilled.complete ? 'all ' : ''}${plural(spilled.rows, 'row')}${spilled.complete ? '' : ` of ${rowCount.toLocaleString('en-US')} (the file stopped at its 1 GiB cap)`} (${Math.ceil(spilled.bytes / 1024).toLocaleString('en-US')} KB) of the result from ${describeTarget(target)} to ${spilled.path}. Preview of the first ${plural(table.returnedRows, 'row')}:`,
    );
  } else {
    lines.push(
      listFooter({
        shown: table.returnedRows,
        total: rowCount,
        noun: 'row',
        scope: `from ${describeTarget(target)}`,
        truncated,
        cutCells: table.cutCells,
        longestCell: table.longestCell,
        hint:
          table.cutCells > 0 && table.returnedRows === rowCount
            ? 'use spill: true for whole values'
            : table.returnedRows < Math.min(max_rows, rowCount)
              ? `cut at ${Math.round(TEXT_MAX_BYTES / 1024)} KB of text; use spill: true for all rows`
              : 'raise max_rows or use spill: true for all rows',
      }),
    );
  }
  if (result.columns.length > 0) lines.push(table.text);
  return {
    text: lines.join('\n'),
    data: {
      row_count: rowCount,
      returned: table.returnedRows,
      truncated,
      ...cutCellsData(table),
      partial,
      ...(partial ? { partial_reason: result.partialError } : {}),
      ...(spilled ? { spill_path: spilled.path, spill_bytes: spilled.bytes } : {}),
    },
  };
}
