import { cursorArg, defineTool, listFooter, odataString, positionOffset, z } from '@switchyard/core';
import { compact, fencedCsv, fields, type PowerBi } from '../context.js';

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
        // One more than asked tells whether another page exists.
        const page = await pbi.client.listWorkspaces(
          {
            top: top + 1,
            skip,
            ...(name_contains ? { filter: `contains(name,${odataString(name_contains)})` } : {}),
          },
          ctx.signal,
        );
        const more = page.length > top;
        const items = page.slice(0, top).map((w) =>
          compact({
            id: w.id,
            name: w.name,
            type: w.type,
            is_read_only: w.isReadOnly,
            dedicated_capacity: w.isOnDedicatedCapacity,
          }),
        );
        const table = fencedCsv(
          ['id', 'name', 'type', 'dedicated_capacity'],
          items.map((w) => [w.id, w.name, w.type ?? '', w.dedicated_capacity ?? '']),
          'Power BI workspace names',
        );
        const nothing = items.length === 0 && !name_contains && !skip;
        const who = nothing ? await pbi.client.credential() : undefined;
        const next = more ? ctx.nextCursor?.(String(skip + top)) : undefined;
        const head =
          items.length === 0
            ? `No workspaces${name_contains ? ` whose name contains '${name_contains}'` : ''} are reachable${skip ? ` after the first ${skip}` : ''}.${who?.isServicePrincipal ? ' A service principal sees only the workspaces it was added to: add it under Manage access (Viewer or higher).' : ''}`
            : listFooter({
                shown: items.length,
                noun: 'workspace',
                scope: name_contains ? `whose name contains '${name_contains}'` : undefined,
                truncated: more,
                cursor: next,
              });
        return {
          text: items.length === 0 ? head : `${head}\n${table.text}`,
          data: {
            returned: items.length,
            truncated: more,
          },
        };
      },
    }),
  ];
}
