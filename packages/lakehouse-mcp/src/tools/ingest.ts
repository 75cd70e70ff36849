import { defineTool, formatBytes, untrusted, z, type ToolDefinition } from '@switchyard/core';
import { confirmSync, confirmUpload } from '../confirmations.js';
import type { Lakehouse } from '../lakehouse.js';
import { runSync } from '../sync.js';
import { runUpload } from '../upload.js';
import { columnsText, connectionArg, n, tenantArg } from './common.js';

const INLINE_LIMIT = 1_000_000;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function ingestTools(lh: Lakehouse): ToolDefinition[] {
  return [
    defineTool({
      name: 'lakehouse_sync_table_to_bronze',
      title: 'Sync a PostgreSQL table into bronze',
      description:
        'Copies a source table or SELECT into bronze from one read-only snapshot. full replaces; incremental reads rows past the stored cursor_column watermark, merged on the primary key or key_columns. Atomic.',
      toolset: 'ingest',
      input: {
        connection: connectionArg,
        table: z.string().max(200).optional().describe('schema.table (or table, in public).'),
        source_query: z.string().max(20000).optional().describe('A SELECT instead (needs target_table).'),
        target_table: z.string().max(63).optional().describe('Bronze table (default: source name).'),
        sync_mode: z.enum(['full', 'incremental']).default('full').describe('full or incremental.'),
        cursor_column: z
          .string()
          .max(63)
          .optional()
          .describe('incremental: an increasing column, e.g. updated_at.'),
        key_columns: z
          .array(z.string().max(63))
          .max(16)
          .optional()
          .describe('incremental: merge keys if no primary key.'),
        tenant_id: tenantArg,
      },
      // What a run did; when the user declined a replacement only the target, mode and its rows (unchanged).
      output: {
        target: z.string(),
        mode: z.enum(['full', 'incremental']),
        rows_read: z.number().optional(),
        table_rows: z.number(),
        bytes_read: z.number().optional(),
        duration_ms: z.number().optional(),
        watermark: z.string().nullable().optional(),
        run_id: z.string().optional(),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
      confirm: ({ tenant_id, ...args }, ctx) => confirmSync(lh, tenant_id, ctx.principal, args),
      task: true, // a big table takes minutes: a client that takes MCP tasks gets a handle and polls
      handler: async ({ tenant_id, ...args }, ctx) => {
        const r = await runSync(lh, tenant_id, args, ctx);
        const { sourceLabel, targetLabel } = r.plan;
        const how = r.from
          ? `incremental: ${n(r.rowsRead)} rows ${r.read.readOnce ? 'changed since' : 'at or after'} ${r.read.cursorName} = ${r.from} merged on ${r.read.keys.join(', ')}`
          : r.plan.incremental
            ? `incremental, first run: ${n(r.rowsRead)} rows loaded in full`
            : `full: ${n(r.rowsRead)} rows`;
        return {
          text: `Synced ${sourceLabel} from '${args.connection}' into ${targetLabel} (${how}); the table now has ${n(r.tableRows)} rows. Read ${formatBytes(r.bytes)} in ${seconds(r.durationMs)}.${r.watermark ? ` Next watermark: ${r.watermark}.` : ''} Run ${r.runId}.`,
          data: {
            target: `${r.catalog}.${targetLabel}`,
            mode: args.sync_mode,
            rows_read: r.rowsRead,
            table_rows: r.tableRows,
            bytes_read: r.bytes,
            duration_ms: r.durationMs,
            watermark: r.watermark,
            run_id: r.runId,
          },
        };
      },
    }),

    defineTool({
      name: 'lakehouse_upload_file',
      title: 'Load a file into bronze',
      description:
        'Loads a local file (path) or inline content into a bronze table, replacing it atomically. CSV/TSV sniffed; XLSX one sheet; up to 2 GB.',
      toolset: 'ingest',
      input: {
        path: z.string().max(4096).optional().describe('Absolute path under an allowed folder.'),
        content: z.string().max(INLINE_LIMIT).optional().describe('Inline content instead of path.'),
        content_encoding: z.enum(['utf-8', 'base64']).default('utf-8').describe('base64 for binary files.'),
        file_name: z.string().max(255).optional().describe('Name for inline content, e.g. a.csv.'),
        table_name: z.string().max(63).optional().describe('Bronze table (default: file name).'),
        format: z
          .enum(['csv', 'xlsx', 'parquet', 'json', 'ndjson'])
          .optional()
          .describe('Default: from the name.'),
        delimiter: z.string().min(1).max(4).optional().describe('CSV delimiter (default: sniffed).'),
        header: z.boolean().optional().describe('CSV has a header row (default: sniffed).'),
        sheet: z
          .union([z.string().max(100), z.number().int().min(1).max(1000)])
          .optional()
          .describe('XLSX sheet name or number (default: first).'),
        header_row: z.number().int().min(1).max(1000).default(1).describe('XLSX header row.'),
        tenant_id: tenantArg,
      },
      // Only the table when the user declined replacing it.
      output: {
        table: z.string(),
        rows: z.number().optional(),
        column_count: z.number().optional(),
        format: z.string().optional(),
        bytes: z.number().optional(),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
      confirm: ({ tenant_id, ...args }, ctx) => confirmUpload(lh, tenant_id, ctx.principal, args),
      task: true,
      handler: async ({ tenant_id, ...args }, ctx) => {
        const r = await runUpload(lh, tenant_id, args, ctx);
        const columns = r.columns.map((c) => ({ name: c.name, type: c.type }));
        const renamed = r.columns.filter((c) => c.original !== undefined).length;
        const renamedNote = renamed
          ? ` (${renamed} name${renamed === 1 ? '' : 's'} normalised; lakehouse_describe_table shows the originals)`
          : '';
        return {
          // Column names come from the file's header: fenced; the file name is quoted.
          text: `Loaded ${untrusted(r.fileName, 200)}${r.note} into bronze.${r.target.name}: ${n(r.rows)} rows, ${columns.length} columns${renamedNote}.\n${columnsText(columns)}`,
          data: {
            table: `${r.catalog}.bronze.${r.target.name}`,
            rows: r.rows,
            column_count: columns.length,
            format: r.format,
            bytes: r.bytes,
          },
        };
      },
    }),
  ];
}
