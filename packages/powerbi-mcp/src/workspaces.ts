/**
 * The workspaces the signed-in identity can reach, a page at a time
 * (learn.microsoft.com/rest/api/power-bi/groups/get-groups: `$top`, `$skip`, `$filter`).
 */
import { odataString, type Cell } from '@switchyard/core';
import type { PowerBi } from './context.js';

export const WORKSPACE_COLUMNS = ['id', 'name', 'type', 'dedicated_capacity'];

export interface WorkspaceQuery {
  name_contains?: string | undefined;
  top: number;
  /** Workspaces already shown (the cursor's position). */
  skip: number;
}

/**
 * A page of workspaces as rows, whether more exist, and — when none are reachable at all — whether the sign-in is a
 * service principal (which sees only the workspaces it was added to).
 */
export async function listWorkspaces(pbi: PowerBi, q: WorkspaceQuery, signal: AbortSignal) {
  const { name_contains, top, skip } = q;
  // One more than asked tells whether another page exists.
  const page = await pbi.client.listWorkspaces(
    {
      top: top + 1,
      skip,
      ...(name_contains ? { filter: `contains(name,${odataString(name_contains)})` } : {}),
    },
    signal,
  );
  const rows: Cell[][] = page
    .slice(0, top)
    .map((w) => [w.id, w.name, w.type ?? '', w.isOnDedicatedCapacity ?? '']);
  const nothing = rows.length === 0 && !name_contains && !skip;
  const servicePrincipal = nothing ? (await pbi.client.credential()).isServicePrincipal : false;
  return { rows, more: page.length > top, servicePrincipal };
}
