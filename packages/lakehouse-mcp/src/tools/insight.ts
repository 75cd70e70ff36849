import { defineTool, fenceUntrusted, z, type ToolDefinition } from '@switchyard/core';
import { analyzeSchema } from '../insight/schema.js';
import { explainData } from '../insight/summary.js';
import { parseTableRef, type Lakehouse } from '../lakehouse.js';
import { narrativeText, suggestQuery } from '../suggest.js';
import { tenantArg } from './common.js';

const useModel = z.boolean().default(false).describe('Host model adds a narrative (sampling).');

export function insightTools(lh: Lakehouse): ToolDefinition[] {
  return [
    defineTool({
      name: 'lakehouse_analyze_schema',
      title: 'Analyze a table in business terms',
      description:
        'A table in business terms: column roles (id, foreign key, timestamp, amount, category, PII…), candidate keys, join paths, quality flags (nulls, constants, mixed types, outliers). Two scans.',
      toolset: 'insight',
      input: {
        table: z.string().min(1).max(200).describe('layer.table, e.g. silver.orders.'),
        use_model: useModel,
        tenant_id: tenantArg,
      },
      output: {
        table: z.string(),
        rows: z.number(),
        // Roles, notes and flags are in the text's CSV, once; the keys and joins are what a host acts on.
        candidate_keys: z.array(z.string()),
        join_paths: z.array(z.string()),
        narrative_source: z.string().optional(),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
      handler: async (args, ctx) => {
        const tenant = await lh.tenant(args.tenant_id, ctx.principal);
        const ref = parseTableRef(args.table, tenant.catalog);
        const r = await analyzeSchema(tenant, ref, args.use_model, ctx);
        return {
          text: `${r.head}\n${fenceUntrusted(r.body, 'schema analysis')}${narrativeText(r.narrative, 'the analysis above is deterministic')}`,
          data: {
            table: `${tenant.catalog}.${ref.layer}.${ref.name}`,
            rows: r.rows,
            candidate_keys: r.analysis.candidateKeys,
            join_paths: r.analysis.joinPaths,
            ...(r.narrative.text ? { narrative_source: 'host model (MCP sampling)' } : {}),
          },
        };
      },
    }),

    defineTool({
      name: 'lakehouse_suggest_query',
      title: 'Draft SQL for a question',
      description:
        "Drafts SQL for a question in the warehouse's dialect, checked by planning it, naming the tables and columns used.",
      toolset: 'insight',
      input: {
        question: z.string().min(3).max(1000).describe('The question in plain words.'),
        tables: z.array(z.string().max(200)).max(20).optional().describe('Only these tables (layer.table).'),
        use_model: z.boolean().default(false).describe('Host model drafts too (sampling); kept if valid.'),
        tenant_id: tenantArg,
      },
      // The SQL and the notes are in the text, once (the SQL in its own ```sql block).
      output: {
        valid: z.boolean(),
        dialect: z.string(),
        tables: z.array(z.string()),
        model_written: z.boolean(),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
      handler: async (args, ctx) => {
        const tenant = await lh.tenant(args.tenant_id, ctx.principal);
        const d = await suggestQuery(tenant, args, ctx);
        const head = d.valid
          ? `A ${d.dialect} draft (${d.source}), valid: it plans without errors. Run it with lakehouse_query_sql.`
          : `A ${d.dialect} draft that does NOT plan (${d.error}); fix it before running.`;
        return {
          text: `${head}\n\`\`\`sql\n${d.sql}\n\`\`\`\nRelies on ${d.tables.join(', ')}${d.columns.length ? ` (columns ${d.columns.join(', ')})` : ''}.${d.notes.length ? `\nNotes: ${d.notes.join('; ')}.` : ''}`,
          data: {
            valid: d.valid,
            dialect: tenant.dialect,
            tables: d.tables,
            model_written: d.modelWritten,
          },
        };
      },
    }),

    defineTool({
      name: 'lakehouse_explain_data',
      title: 'Summarize a query result',
      description:
        'Runs one checked read-only query (up to max_rows rows) and summarizes it: shape, column statistics, top groups, change over time.',
      toolset: 'insight',
      input: {
        sql: z.string().min(1).max(100_000).describe('One read-only query.'),
        max_rows: z.number().int().min(1).max(50_000).default(10_000).describe('Most rows to read.'),
        timeout_seconds: z.number().int().min(1).max(300).default(60).describe('Time limit.'),
        use_model: useModel,
        tenant_id: tenantArg,
      },
      output: {
        rows: z.number(),
        truncated: z.boolean(),
        // Statistics, top groups and the trend are in the text's summary, once.
        top_groups_by: z.string().optional(),
        trend_by: z.string().optional(),
        narrative_source: z.string().optional(),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
      handler: async (args, ctx) => {
        const tenant = await lh.tenant(args.tenant_id, ctx.principal);
        const { summary: s, text, narrative } = await explainData(tenant, args, ctx);
        return {
          text: `${fenceUntrusted(text, 'result summary')}${narrativeText(narrative, 'the summary above is computed')}`,
          data: {
            rows: s.shape.rows,
            truncated: s.shape.truncated,
            ...(s.topGroups ? { top_groups_by: s.topGroupsBy } : {}),
            ...(s.trend ? { trend_by: s.trend.by } : {}),
            ...(narrative.text ? { narrative_source: 'host model (MCP sampling)' } : {}),
          },
        };
      },
    }),
  ];
}
