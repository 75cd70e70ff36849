import { defineTool, z, listFooter } from '@switchyard/core';
import { compact, describeTarget, fencedCsv, fields, resolveTarget, type PowerBi } from '../context.js';
import { label } from '../resolve.js';
import { readSchema, renderSchema, type DatasetSchema } from '../schema.js';

const SCHEMA_MAX_BYTES = 40 * 1024;

/** The schema of a dataset, from the cache when it is fresh. */
export async function datasetSchema(
  pbi: PowerBi,
  workspaceId: string,
  datasetId: string,
  options: { bypassCache: boolean; signal: AbortSignal },
): Promise<{ schema: DatasetSchema; cached: boolean }> {
  const credential = await pbi.client.credential();
  // Per identity: what a model shows (hidden expressions, RLS) depends on who asks.
  const key = `${credential.identity}|${workspaceId}|${datasetId}`;
  const hit = options.bypassCache ? undefined : pbi.schemas.get(key);
  if (hit) return { schema: hit, cached: true };
  const schema = await readSchema(pbi.client, workspaceId, datasetId, options.signal);
  pbi.schemas.set(key, schema);
  return { schema, cached: false };
}

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
      handler: async ({ workspace, name_contains, top }, ctx) => {
        const ws = await pbi.resolver.workspace(workspace, ctx.signal);
        const all = await pbi.client.listDatasets(ws.id, ctx.signal);
        const matching = name_contains
          ? all.filter((d) => d.name.toLowerCase().includes(name_contains.toLowerCase()))
          : all;
        const items = matching.slice(0, top).map((d) =>
          compact({
            id: d.id,
            name: d.name,
            configured_by: d.configuredBy,
            refreshable: d.isRefreshable,
            storage_mode: d.targetStorageMode,
            row_level_security: d.isEffectiveIdentityRequired,
            created: d.createdDate,
          }),
        );
        const truncated = matching.length > items.length;
        const table = fencedCsv(
          ['id', 'name', 'configured_by', 'refreshable', 'storage_mode', 'rls'],
          items.map((d) => [
            d.id,
            d.name,
            d.configured_by ?? '',
            d.refreshable ?? '',
            d.storage_mode ?? '',
            d.row_level_security ?? '',
          ]),
          'Power BI dataset names',
        );
        const where = `workspace ${label(ws)}${name_contains ? ` whose name contains '${name_contains}'` : ''}`;
        const text =
          items.length === 0
            ? `No semantic models in ${where}.`
            : `${listFooter({
                shown: items.length,
                total: matching.length,
                noun: ['semantic model', 'semantic models'],
                scope: `in ${where}`,
                truncated,
                hint: 'raise top or use name_contains',
              })}\n${table.text}`;
        return {
          text,
          data: { workspace_id: ws.id, returned: items.length, total: matching.length, truncated },
        };
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
      handler: async ({ workspace, dataset, tables, include_hidden, bypass_cache }, ctx) => {
        const target = await resolveTarget(pbi, workspace, dataset, ctx.signal);
        const { schema, cached } = await datasetSchema(pbi, target.workspace.id, target.dataset.id, {
          bypassCache: bypass_cache,
          signal: ctx.signal,
        });
        const rendered = renderSchema(schema, {
          title: `Schema of ${describeTarget(target)}${cached ? ` (cached ${Math.round((Date.now() - schema.fetchedAt) / 1000)} s ago)` : ''}`,
          includeHidden: include_hidden,
          tables,
          maxBytes: SCHEMA_MAX_BYTES,
        });
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
