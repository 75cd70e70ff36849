/**
 * The semantic models of a workspace (learn.microsoft.com/rest/api/power-bi/datasets/get-datasets-in-group), and a
 * model's schema read through the per-identity cache.
 */
import type { Cell } from '@switchyard/core';
import { describeTarget, resolveTarget, type PowerBi } from './context.js';
import { readSchema, renderSchema, type DatasetSchema } from './schema.js';

export const DATASET_COLUMNS = ['id', 'name', 'configured_by', 'refreshable', 'storage_mode', 'rls'];

const SCHEMA_MAX_BYTES = 40 * 1024;

export interface DatasetQuery {
  workspace: string;
  name_contains?: string | undefined;
  top: number;
}

/** The first `top` models whose name contains `name_contains` (case-insensitive) as rows, and how many match. */
export async function listDatasets(pbi: PowerBi, q: DatasetQuery, signal: AbortSignal) {
  const { name_contains, top } = q;
  const ws = await pbi.resolver.workspace(q.workspace, signal);
  const all = await pbi.client.listDatasets(ws.id, signal);
  const matching = name_contains
    ? all.filter((d) => d.name.toLowerCase().includes(name_contains.toLowerCase()))
    : all;
  const rows: Cell[][] = matching
    .slice(0, top)
    .map((d) => [
      d.id,
      d.name,
      d.configuredBy ?? '',
      d.isRefreshable ?? '',
      d.targetStorageMode ?? '',
      d.isEffectiveIdentityRequired ?? '',
    ]);
  return { ws, rows, total: matching.length, truncated: matching.length > rows.length };
}

/** The schema of a dataset, from the cache when it is fresh. */
export async function datasetSchema(
  pbi: PowerBi,
  workspaceId: string,
  datasetId: string,
  options: { bypassCache: boolean; signal: AbortSignal },
): Promise<{ schema: DatasetSchema; cached: boolean }> {
  const credential = await pbi.client.credential();
  // Per identity: what a model shows (hidden expressions, RLS) depends on who asks.
  const key = `${credential.caller ?? credential.identity}|${workspaceId}|${datasetId}`;
  const hit = options.bypassCache ? undefined : pbi.schemas.get(key);
  if (hit) return { schema: hit, cached: true };
  const schema = await readSchema(pbi.client, workspaceId, datasetId, options.signal);
  pbi.schemas.set(key, schema);
  return { schema, cached: false };
}

export interface SchemaQuery {
  workspace: string;
  dataset: string;
  tables?: string[] | undefined;
  include_hidden: boolean;
  bypass_cache: boolean;
}

/** A model's schema rendered as markdown (the tables asked for, hidden items when asked), saying when it is cached. */
export async function describeDatasetSchema(pbi: PowerBi, q: SchemaQuery, signal: AbortSignal) {
  const target = await resolveTarget(pbi, q.workspace, q.dataset, signal);
  const { schema, cached } = await datasetSchema(pbi, target.workspace.id, target.dataset.id, {
    bypassCache: q.bypass_cache,
    signal,
  });
  const rendered = renderSchema(schema, {
    title: `Schema of ${describeTarget(target)}${cached ? ` (cached ${Math.round((Date.now() - schema.fetchedAt) / 1000)} s ago)` : ''}`,
    includeHidden: q.include_hidden,
    tables: q.tables,
    maxBytes: SCHEMA_MAX_BYTES,
  });
  return { target, schema, cached, rendered };
}
