import { defineTool, listFooter, z } from '@switchyard/core';
import { fencedCsv, fields, type PowerBi } from '../context.js';
import { MAX_REPORTS_WITH_PAGES, listReports } from '../reports.js';
import { label } from '../resolve.js';

const PAGES_CUT = `Pages were fetched for the first ${MAX_REPORTS_WITH_PAGES} reports only; narrow with name_contains for the rest.`;

export function reportTools(pbi: PowerBi) {
  return [
    defineTool({
      name: 'powerbi_list_reports',
      title: 'List reports in a workspace',
      description:
        'Lists the reports of one workspace with the dataset each is built on, and with include_pages their page names. Useful to see how a model is used or to point a person at a report. One call, plus one per report for pages (at most 25).',
      toolset: 'reports',
      input: {
        workspace: fields.workspace,
        name_contains: fields.nameContains,
        include_pages: z
          .boolean()
          .default(false)
          .describe('Also list each report’s pages (one extra call per report).'),
        top: z
          .number()
          .int()
          .min(1)
          .max(500)
          .default(100)
          .describe('How many reports to return at most (1-500).'),
      },
      output: {
        workspace_id: z.string(),
        returned: z.number().describe('Reports in the text.'),
        total: z.number(),
        truncated: z.boolean(),
      },
      annotations: { readOnlyHint: true, openWorldHint: true },
      handler: async (args, ctx) => {
        const { ws, columns, rows, total, truncated, pagesCut } = await listReports(
          pbi.forCall(ctx),
          args,
          ctx.signal,
        );
        const lines = [
          rows.length === 0
            ? `No reports in workspace ${label(ws)}${args.name_contains ? ` whose name contains '${args.name_contains}'` : ''}.`
            : listFooter({
                shown: rows.length,
                total,
                noun: 'report',
                scope: `in workspace ${label(ws)}`,
                truncated,
                hint: 'raise top or use name_contains',
              }),
        ];
        if (pagesCut) lines.push(PAGES_CUT);
        if (rows.length > 0) lines.push(fencedCsv(columns, rows, 'Power BI report names').text);
        return {
          text: lines.join('\n'),
          data: { workspace_id: ws.id, returned: rows.length, total, truncated },
        };
      },
    }),
  ];
}
