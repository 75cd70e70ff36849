import { defineTool, z, type ToolDefinition } from '@switchyard/core';
import { sanitizeTableName } from '../files.js';
import { confirmGoldView, confirmTransform } from '../confirmations.js';
import type { Lakehouse } from '../lakehouse.js';
import { FILTER_OPERATORS, STEP_OPS, transformToSilver, type StepInput } from '../transform.js';
import type { TableRef } from '../warehouse/types.js';
import { columnsText, n, rowsText, tenantArg } from './common.js';

const step = z.object({
  op: z.enum(STEP_OPS).describe('The step.'),
  column: z.string().max(63).optional().describe('Its column.'),
  columns: z.array(z.string().max(63)).max(200).optional().describe('drop_columns; deduplicate keys.'),
  to: z
    .string()
    .max(63)
    .optional()
    .describe(
      'rename: new name; cast/parse_number: type (bigint, decimal(p,s), text…); parse_date: date|timestamp.',
    ),
  format: z.string().max(100).optional().describe('parse_date: strptime pattern, e.g. %d/%m/%Y.'),
  decimal_separator: z.enum(['.', ',']).optional().describe('parse_number separator.'),
  value: z.unknown().optional().describe('fill_null value; filter_rows operand (a list for in/not_in).'),
  operator: z
    .enum(FILTER_OPERATORS as [string, ...string[]])
    .optional()
    .describe('filter_rows: keep rows matching.'),
  order_by: z.string().max(63).optional().describe('deduplicate: keep the highest row.'),
  descending: z.boolean().optional().describe('deduplicate: false keeps the lowest.'),
});

const goldRef = (name: string): TableRef => ({ layer: 'gold', name: sanitizeTableName(name) });

export function transformTools(lh: Lakehouse): ToolDefinition[] {
  return [
    defineTool({
      name: 'lakehouse_transform_to_silver',
      title: 'Clean a bronze table into silver',
      description:
        'Builds silver.<target_table> (replacing it) from a bronze/silver table by cleaning steps in order; invalid steps are refused first, dry_run previews. Atomic.',
      toolset: 'transform',
      input: {
        source_table: z.string().min(1).max(200).describe('Input table, e.g. bronze.orders.'),
        target_table: z.string().max(63).optional().describe('Default: the source name.'),
        steps: z.array(step).max(100).describe('Steps, applied in order.'),
        on_invalid: z
          .enum(['fail', 'null'])
          .default('fail')
          .describe('Unconvertible values: fail, or become NULL.'),
        dry_run: z.boolean().default(false).describe('Show SQL and preview only.'),
        tenant_id: tenantArg,
      },
      // A dry run shows its SQL in the text; a build sends it here only (the text stays short).
      output: {
        target: z.string(),
        dry_run: z.boolean(),
        sql: z.string().optional(),
        rows: z.number().nullable(),
        column_count: z.number().optional(), // absent when the user declined the rebuild
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
      confirm: ({ tenant_id, ...args }, ctx) =>
        confirmTransform(lh, tenant_id, ctx.principal, { ...args, steps: args.steps as StepInput[] }),
      handler: async (args, ctx) => {
        const tenant = await lh.tenant(args.tenant_id, ctx.principal);
        const t = await transformToSilver(tenant, { ...args, steps: args.steps as StepInput[] });
        const target = `${tenant.catalog}.silver.${t.target.name}`;
        const column_count = t.columns.length;
        if (t.dryRun) {
          return {
            text: `Dry run: silver.${t.target.name} would have ${column_count} columns. Nothing was written.\n${columnsText(t.columns)}\nSQL:\n${t.sql}\nPreview: ${rowsText(t.preview, 'preview').text}`,
            data: { target, dry_run: true, rows: null, column_count },
          };
        }
        return {
          text: `Built silver.${t.target.name} from ${t.source.layer}.${t.source.name} with ${args.steps.length} step${args.steps.length === 1 ? '' : 's'}: ${n(t.rows)} rows, ${column_count} columns.\n${columnsText(t.columns)}`,
          data: { target, dry_run: false, sql: t.sql, rows: t.rows, column_count },
        };
      },
    }),

    defineTool({
      name: 'lakehouse_create_gold_view',
      title: 'Create a gold view',
      description:
        'Creates a gold view from one read-only SELECT over silver/bronze tables, checked like lakehouse_query_sql.',
      toolset: 'transform',
      input: {
        name: z.string().min(1).max(63).describe('View name.'),
        sql: z.string().min(1).max(50_000).describe('One SELECT over silver/bronze tables.'),
        replace: z.boolean().default(false).describe('Redefine an existing view.'),
        tenant_id: tenantArg,
      },
      // column_count is absent when the user declined a replacement.
      output: { view: z.string(), column_count: z.number().optional() },
      // destructive: with replace, an existing view's definition is overwritten.
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
      confirm: (args, ctx) => confirmGoldView(lh, args.tenant_id, ctx.principal, goldRef(args.name), args),
      handler: async (args, ctx) => {
        const tenant = await lh.tenant(args.tenant_id, ctx.principal);
        const ref = goldRef(args.name);
        const { columns } = await tenant.createView(ref, args.sql.trim().replace(/;\s*$/, ''), args.replace);
        return {
          text: `Created view gold.${ref.name} with ${columns.length} columns; query it with SELECT * FROM gold.${ref.name}.\n${columnsText(columns)}`,
          data: {
            view: `${tenant.catalog}.gold.${ref.name}`,
            column_count: columns.length,
          },
        };
      },
    }),
  ];
}
