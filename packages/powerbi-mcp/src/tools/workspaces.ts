import { cursorArg, defineTool, listFooter, positionOffset, z } from '@switchyard/core';
import { fencedCsv, fields, type PowerBi } from '../context.js';
import { WORKSPACE_COLUMNS, listWorkspaces } from '../workspaces.js';

export function workspaceTools(pbi: PowerBi) {
  return [
    defineTool({
      name: 'powerbi_list_workspaces',
      title: 'List Power BI workspaces',
      description:
        'Lists the workspaces the signed-in identity can reach: start here to find where a semantic model lives. Returns id, name, type and capacity as CSV, with next_cursor when more exist. One API call.',
      toolset: 'workspaces',
      input: {
        name_contains: fields.nameContains,
        top: z.number().int().min(1).max(1000).default(100).describe('How many to return (1-1000).'),
        cursor: cursorArg,
      },
      output: {
        returned: z.number().describe('Workspaces in the text.'),
        truncated: z.boolean(),
      },
      annotations: { readOnlyHint: true, openWorldHint: true },
      handler: async ({ name_contains, top, cursor }, ctx) => {
        const skip = positionOffset(cursor);
        const found = await listWorkspaces(pbi.forCall(ctx), { name_contains, top, skip }, ctx.signal);
        const { rows, more } = found;
        const next = more ? ctx.nextCursor?.(String(skip + top)) : undefined;
        const head =
          rows.length === 0
            ? `No workspaces${name_contains ? ` whose name contains '${name_contains}'` : ''} are reachable${skip ? ` after the first ${skip}` : ''}.${found.servicePrincipal ? ' A service principal sees only the workspaces it was added to: add it under Manage access (Viewer or higher).' : ''}`
            : listFooter({
                shown: rows.length,
                noun: 'workspace',
                scope: name_contains ? `whose name contains '${name_contains}'` : undefined,
                truncated: more,
                cursor: next,
              });
        const table = fencedCsv(WORKSPACE_COLUMNS, rows, 'Power BI workspace names');
        return {
          text: rows.length === 0 ? head : `${head}\n${table.text}`,
          data: { returned: rows.length, truncated: more },
        };
      },
    }),
  ];
}
