import { defineTool, z, listFooter } from '@switchyard/core';
import { fencedCsv, fields, type PowerBi } from '../context.js';
import { DATASET_COLUMNS, describeDatasetSchema, listDatasets } from '../datasets.js';
import { label } from '../resolve.js';

export function datasetTools(pbi: PowerBi) {
  return [
    defineTool({
      name: 'powerbi_list_datasets',
      title: 'List semantic models in a workspace',
      description:
        'Lists the semantic models (datasets) of one workspace: id, name, configured by, refreshable, storage mode, and whether row-level security applies. Use it to pick the dataset to inspect or query. One API call.',
      toolset: 'datasets',
      input: {
        workspace: fields.workspace,
        name_contains: fields.nameContains,
        top: z.number().int().min(1).max(1000).default(200).describe('How many to return at most (1-1000).'),
      },
      output: {
        workspace_id: z.string(),
        returned: z.number().describe('Semantic models in the text.'),
        total: z.number(),
        truncated: z.boolean(),
      },
      annotations: { readOnlyHint: true, openWorldHint: true },
      // The seed chat backend calls powerbi_list_datasets(workspace_id=…).
      aliases: { workspace_id: 'workspace' },
      handler: async (args, ctx) => {
        const { ws, rows, total, truncated } = await listDatasets(pbi.forCall(ctx), args, ctx.signal);
        const where = `workspace ${label(ws)}${args.name_contains ? ` whose name contains '${args.name_contains}'` : ''}`;
        const text =
          rows.length === 0
            ? `No semantic models in ${where}.`
            : `${listFooter({
                shown: rows.length,
                total,
                noun: ['semantic model', 'semantic models'],
                scope: `in ${where}`,
                truncated,
                hint: 'raise top or use name_contains',
              })}\n${fencedCsv(DATASET_COLUMNS, rows, 'Power BI dataset names').text}`;
        return { text, data: { workspace_id: ws.id, returned: rows.length, total, truncated } };
      },
    }),
    defineTool({
      name: 'powerbi_get_dataset_schema',
      title: 'Read a semantic model schema',
      description:
        "Reads a semantic model's tables, columns (type, hidden, description), measures (DAX, format) and relationships, as compact markdown. Call it before writing DAX. Runs four small DAX queries (INFO.VIEW functions; COLUMNSTATISTICS() when those are refused, which scans the model); cached for 5 minutes.",
      toolset: 'datasets',
      input: {
        workspace: fields.workspace,
        dataset: fields.dataset,
        tables: z
          .array(z.string().min(1).max(256))
          .min(1)
          .max(50)
          .optional()
          .describe('Only these tables (names); all tables when omitted.'),
        include_hidden: z
          .boolean()
          .default(false)
          .describe('Also show hidden tables, columns and measures (usually keys and helpers).'),
        bypass_cache: z
          .boolean()
          .default(false)
          .describe('Read the schema again even if it was read in the last 5 minutes.'),
      },
      output: {
        workspace_id: z.string(),
        dataset_id: z.string(),
        source: z.enum(['INFO.VIEW', 'COLUMNSTATISTICS']),
        table_count: z.number().describe('Tables in the text.'),
        relationship_count: z.number(),
        notes: z.array(z.string()),
        truncated: z.boolean(),
        cached: z.boolean(),
      },
      annotations: { readOnlyHint: true, openWorldHint: true },
      // The seed chat backend calls powerbi_get_dataset_schema(workspace_id, dataset_id).
      aliases: { workspace_id: 'workspace', dataset_id: 'dataset' },
      handler: async (args, ctx) => {
        const { target, schema, cached, rendered } = await describeDatasetSchema(
          pbi.forCall(ctx),
          args,
          ctx.signal,
        );
        return {
          text: rendered.text,
          data: {
            workspace_id: target.workspace.id,
            dataset_id: target.dataset.id,
            source: schema.source,
            table_count: rendered.tables.length,
            relationship_count: rendered.relationships.length,
            notes: schema.notes,
            truncated: rendered.truncated,
            cached,
          },
        };
      },
    }),
  ];
}
