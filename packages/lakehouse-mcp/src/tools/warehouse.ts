import {
  csvField,
  cutCellsOutput,
  defineTool,
  fenceUntrusted,
  maxBytesArg,
  payloadBudget,
  z,
  type ToolDefinition,
} from '@switchyard/core';
import { parseTableRef, type Lakehouse } from '../lakehouse.js';
import { LAYERS } from '../warehouse/types.js';
import { describeTable } from '../describe.js';
import { n, rowsText, tenantArg } from './common.js';

const layerArg = z.enum(['bronze', 'silver', 'gold']);

export function warehouseTools(lh: Lakehouse): ToolDefinition[] {
  return [
    defineTool({
      name: 'lakehouse_list_tables',
      title: 'List lakehouse tables',
      description:
        'Tables and views per layer (bronze raw, silver clean, gold curated): rows, columns, source, last load. Call it first.',
      toolset: 'warehouse',
      input: { layer: layerArg.optional().describe('Only this layer.'), tenant_id: tenantArg },
      output: { catalog: z.string(), table_count: z.number() },
      annotations: { readOnlyHint: true, openWorldHint: false },
      handler: async ({ layer, tenant_id }, ctx) => {
        const tenant = await lh.tenant(tenant_id, ctx.principal);
        const tables = await tenant.listTables(layer);
        const lines = ['table,kind,rows,columns,source,last_loaded'];
        for (const t of tables) {
          lines.push(
            [`${t.layer}.${t.name}`, t.kind, t.rows ?? '', t.columns, t.source ?? '', t.lastLoadedAt ?? '']
              .map((v) => csvField(String(v)))
              .join(','),
          );
        }
        const head =
          tables.length === 0
            ? `Catalog ${tenant.catalog} has no tables${layer ? ` in ${layer}` : ''} yet. Load data with lakehouse_sync_table_to_bronze or lakehouse_upload_file.`
            : `Catalog ${tenant.catalog}: ${n(tables.length)} table${tables.length === 1 ? '' : 's'} and views${layer ? ` in ${layer}` : ''} (rows as of the last write).`;
        return {
          // Table names and sources come from files and source databases: fenced.
          text: tables.length ? `${head}\n${fenceUntrusted(lines.join('\n'), 'table list')}` : head,
          data: { catalog: tenant.catalog, table_count: tables.length },
        };
      },
    }),

    defineTool({
      name: 'lakehouse_describe_table',
      title: 'Describe a lakehouse table',
      description:
        "A table's columns (type, nullability, original name), rows and lineage; with profile, per-column nulls, distinct count, min/max, top values.",
      toolset: 'warehouse',
      input: {
        table: z.string().min(1).max(200).describe('layer.table (bare name: bronze).'),
        profile: z.boolean().default(true).describe('Per-column profile.'),
        tenant_id: tenantArg,
      },
      output: {
        table: z.string(),
        rows: z.number(),
        column_count: z.number(),
        // Databricks: DESCRIBE DETAIL in one line (format, files, bytes, last change), as in the text.
        storage: z.string().optional(),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
      handler: async (args, ctx) => {
        const tenant = await lh.tenant(args.tenant_id, ctx.principal);
        const ref = parseTableRef(args.table, tenant.catalog);
        const d = await describeTable(tenant, ref, args.profile, ctx.signal);
        const table = `${tenant.catalog}.${ref.layer}.${ref.name}`;
        const head = `${table}: ${n(d.rows)} rows, ${d.columnCount} columns${d.lineage ? `; ${d.lineage}` : ''}${d.storage ? `; ${d.storage}` : ''}.`;
        return {
          text: `${head}\n${fenceUntrusted(d.csv, args.profile ? 'table profile' : 'table columns')}`,
          data: {
            table,
            rows: d.rows,
            column_count: d.columnCount,
            ...(d.storage ? { storage: d.storage } : {}),
          },
        };
      },
    }),

    defineTool({
      name: 'lakehouse_query_sql',
      title: 'Run a read-only SQL query',
      description:
        'Runs one read-only SQL query (DuckDB; Spark SQL on Databricks) over bronze.x, silver.x, gold.x; rows as CSV. No writes, files or other tenants; capped (truncated says so).',
      toolset: 'warehouse',
      input: {
        sql: z.string().min(1).max(100_000).describe('One read-only query.'),
        max_rows: z.number().int().min(1).max(5000).default(100).describe('Most rows to return.'),
        max_bytes: maxBytesArg(32_768),
        timeout_seconds: z.number().int().min(1).max(300).default(30).describe('Time limit.'),
        spill_csv: z.boolean().default(false).describe('Also write all rows (≤ 1,000,000) to CSV.'),
        tenant_id: tenantArg,
      },
      // Rows travel once, as the fenced CSV of the text; the structure says what came and how to get the rest.
      output: {
        row_count: z.number(),
        truncated: z.boolean(),
        elapsed_ms: z.number(),
        spill_file: z.string().optional(),
        ...cutCellsOutput,
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
      handler: async (args, ctx) => {
        const tenant = await lh.tenant(args.tenant_id, ctx.principal);
        const result = await tenant.query(args.sql, {
          maxRows: args.max_rows,
          maxBytes: args.max_bytes,
          timeoutMs: args.timeout_seconds * 1000,
          signal: ctx.signal,
          ...(args.spill_csv ? { spillDir: tenant.spillDir, spillMaxRows: 1_000_000 } : {}),
        });
        const more = result.spill
          ? undefined
          : 'raise max_rows or max_bytes, aggregate, or pass spill_csv: true for every row';
        const shown = rowsText(result, 'query result', more, payloadBudget(args.max_bytes));
        const spill = result.spill
          ? `\nAll ${n(result.spill.rows)} rows${result.spill.complete ? '' : ' (stopped at 1,000,000)'} are in ${result.spill.path} (${n(result.spill.bytes)} bytes).`
          : '';
        return {
          text: `${shown.text}${spill}\n(${result.elapsedMs} ms)`,
          ...(more ? { more } : {}),
          data: {
            row_count: shown.returned,
            truncated: shown.truncated,
            ...shown.cut,
            elapsed_ms: result.elapsedMs,
            ...(result.spill ? { spill_file: result.spill.path } : {}),
          },
        };
      },
    }),
  ];
}

export { LAYERS };
