import { defineTool, UserInputError, z, type ToolDefinition } from '@switchyard/core';
import { sanitizeTableName } from '../files.js';
import { parseTableRef, type Lakehouse } from '../lakehouse.js';
import { FILTER_OPERATORS, planTransform, STEP_OPS, type StepInput } from '../transform.js';
import type { TableRef } from '../warehouse/types.js';
import { columnsOrNotFound, columnsText, n, rowsText, tenantArg } from './common.js';

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
        column_count: z.number(),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
      handler: async (args) => {
        const tenant = await lh.tenant(args.tenant_id);
        const source = parseTableRef(args.source_table, tenant.catalog);
        if (source.layer === 'gold')
          throw new UserInputError('Transforms read from bronze or silver, not gold');
        const sourceColumns = await columnsOrNotFound(tenant, source, { gold: false });
        const target: TableRef = {
          layer: 'silver',
          name: sanitizeTableName(args.target_table ?? source.name),
        };
        if (source.layer === 'silver' && source.name === target.name) {
          throw new UserInputError(
            'The target cannot be the source table itself; choose another target_table',
          );
        }
        const plan = planTransform({
          source,
          target,
          sourceColumns,
          steps: args.steps as StepInput[],
          onInvalid: args.on_invalid,
          logicalOf: (t) => tenant.logicalType(t),
        });
        const rendered = tenant.renderTransform(plan);
        const sqlText = `${rendered.sql}${rendered.params.length ? `\n-- parameters: ${JSON.stringify(rendered.params)}` : ''}`;
        const preview = await tenant.previewTransform(plan, args.dry_run ? 5 : 0);
        const columns = preview.columns.map((c) => ({ name: c.name, type: c.type }));
        if (args.dry_run) {
          const shown = rowsText(preview, 'preview');
          return {
            text: `Dry run: silver.${target.name} would have ${columns.length} columns. Nothing was written.\n${columnsText(columns)}\nSQL:\n${sqlText}\nPreview: ${shown.text}`,
            data: {
              target: `${tenant.catalog}.silver.${target.name}`,
              dry_run: true,
              rows: null,
              column_count: columns.length,
            },
          };
        }
        const { rows } = await tenant.runTransform(plan, {
          target,
          kind: 'transform',
          inputs: [`${source.layer}.${source.name}`],
          definition: JSON.stringify({ steps: args.steps, on_invalid: args.on_invalid }),
        });
        return {
          text: `Built silver.${target.name} from ${source.layer}.${source.name} with ${args.steps.length} step${args.steps.length === 1 ? '' : 's'}: ${n(rows)} rows, ${columns.length} columns.\n${columnsText(columns)}`,
          data: {
            target: `${tenant.catalog}.silver.${target.name}`,
            dry_run: false,
            sql: sqlText,
            rows,
            column_count: columns.length,
          },
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
      output: { view: z.string(), column_count: z.number() },
      // destructive: with replace, an existing view's definition is overwritten.
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
      handler: async (args) => {
        const tenant = await lh.tenant(args.tenant_id);
        const ref: TableRef = { layer: 'gold', name: sanitizeTableName(args.name) };
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
