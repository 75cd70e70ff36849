import { defineTool, z, listFooter } from '@switchyard/core';
import { compact, fencedCsv, fields, type PowerBi } from '../context.js';
import type { ReportPage } from '../powerbi-client.js';
import { label } from '../resolve.js';

/** Pages are one call per report: fetch them for this many reports at most. */
const MAX_REPORTS_WITH_PAGES = 25;

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
      handler: async ({ workspace, name_contains, include_pages, top }, ctx) => {
        const ws = await pbi.resolver.workspace(workspace, ctx.signal);
        const all = await pbi.client.listReports(ws.id, ctx.signal);
        const matching = name_contains
          ? all.filter((r) => r.name.toLowerCase().includes(name_contains.toLowerCase()))
          : all;
        const chosen = matching.slice(0, top);
        const pages = new Map<string, ReportPage[]>();
        if (include_pages) {
          const withPages = chosen.slice(0, MAX_REPORTS_WITH_PAGES);
          // A few at a time: enough to be quick, few enough not to trip the API's throttling.
          for (let i = 0; i < withPages.length; i += 4) {
            await Promise.all(
              withPages.slice(i, i + 4).map(async (r) => {
                const list = await pbi.client.listPages(ws.id, r.id, ctx.signal);
                pages.set(
                  r.id,
                  [...list].sort((a, b) => (a.order ?? 0) - (b.order ?? 0)),
                );
              }),
            );
          }
        }
        const reports = chosen.map((r) =>
          compact({
            id: r.id,
            name: r.name,
            dataset_id: r.datasetId,
            report_type: r.reportType,
            web_url: r.webUrl,
            pages: pages
              .get(r.id)
              ?.map((p) => compact({ name: p.name, display_name: p.displayName, order: p.order })),
          }),
        );
        const truncated = matching.length > chosen.length;
        const columns = ['id', 'name', 'dataset_id', 'type', 'web_url', ...(include_pages ? ['pages'] : [])];
        const table = fencedCsv(
          columns,
          reports.map((r) => [
            r.id,
            r.name,
            r.dataset_id ?? '',
            r.report_type ?? '',
            r.web_url ?? '',
            ...(include_pages
              ? [r.pages ? r.pages.map((p) => p.display_name).join('; ') : '(not fetched)']
              : []),
          ]),
          'Power BI report names',
        );
        const lines = [
          reports.length === 0
            ? `No reports in workspace ${label(ws)}${name_contains ? ` whose name contains '${name_contains}'` : ''}.`
            : listFooter({
                shown: reports.length,
                total: matching.length,
                noun: 'report',
                scope: `in workspace ${label(ws)}`,
                truncated,
                hint: 'raise top or use name_contains',
              }),
        ];
        if (include_pages && chosen.length > MAX_REPORTS_WITH_PAGES)
          lines.push(
            `Pages were fetched for the first ${MAX_REPORTS_WITH_PAGES} reports only; narrow with name_contains for the rest.`,
          );
        if (reports.length > 0) lines.push(table.text);
        return {
          text: lines.join('\n'),
          data: { workspace_id: ws.id, returned: reports.length, total: matching.length, truncated },
        };
      },
    }),
  ];
}
