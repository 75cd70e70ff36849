import {
  DEFAULT_RESULT_BYTES,
  fenceUntrusted,
  formatTable,
  payloadBudget,
  z,
  type Caller,
  type Cell,
} from '@switchyard/core';
import type { PowerBiClient } from './powerbi-client.js';
import { label, Resolver, type Named } from './resolve.js';
import type { SchemaCache } from './schema.js';

/** What every tool handler works with. */
export interface PowerBi {
  client: PowerBiClient;
  resolver: Resolver;
  /** Kept per identity (see `datasetSchema`), so one user's entries never answer another. */
  schemas: SchemaCache;
  env: NodeJS.ProcessEnv;
  /**
   * What one call works with: as the user signed in over HTTP when there is one (a client and name lookups of that
   * call alone, tokens through the on-behalf-of exchange), else the server's own sign-in. `write` for a call that
   * starts refreshes.
   */
  forCall(ctx: { caller?: Caller | undefined }, options?: { write?: boolean }): PowerBi;
}

/** The context on a client: the server's own, or one caller's for one call. */
export function powerBiContext(client: PowerBiClient, schemas: SchemaCache, env: NodeJS.ProcessEnv): PowerBi {
  const pbi: PowerBi = {
    client,
    resolver: new Resolver(client),
    schemas,
    env,
    forCall: (ctx, options = {}) =>
      ctx.caller
        ? powerBiContext(client.forCaller(ctx.caller, { write: options.write === true }), schemas, env)
        : pbi,
  };
  return pbi;
}

export const fields = {
  workspace: z
    .string()
    .min(1)
    .max(256)
    .describe('Workspace id (GUID) or exact name, from powerbi_list_workspaces.'),
  dataset: z
    .string()
    .min(1)
    .max(256)
    .describe('Semantic model (dataset) id (GUID) or exact name, from powerbi_list_datasets.'),
  nameContains: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('Only items whose name contains this text (case-insensitive).'),
};

export interface Target {
  workspace: Named;
  dataset: Named;
}

export async function resolveTarget(
  pbi: PowerBi,
  workspace: string,
  dataset: string,
  signal: AbortSignal,
): Promise<Target> {
  const ws = await pbi.resolver.workspace(workspace, signal);
  const ds = await pbi.resolver.dataset(ws, dataset, signal);
  return { workspace: ws, dataset: ds };
}

/** "dataset 'Sales' in workspace 'Finance'" */
export function describeTarget(t: Target): string {
  return `dataset ${label(t.dataset)} in workspace ${label(t.workspace)}`;
}

/** Rows from Power BI as CSV, fenced: names and values were typed by other people. */
export function fencedCsv(
  columns: string[],
  rows: Cell[][],
  source: string,
  options: { maxRows?: number; maxBytes?: number } = {},
) {
  const table = formatTable(columns, rows, {
    maxRows: options.maxRows ?? rows.length,
    maxBytes: options.maxBytes ?? payloadBudget(DEFAULT_RESULT_BYTES),
  });
  return { ...table, text: fenceUntrusted(table.text, source) };
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? word : many}`;
}
