/**
 * Reports of a workspace with the dataset each is built on, and their pages when asked
 * (learn.microsoft.com/rest/api/power-bi/reports/get-reports-in-group, /get-pages-in-group).
 */
import type { Cell } from '@switchyard/core';
import type { PowerBi } from './context.js';
import type { ReportPage } from './powerbi-client.js';

/** Pages are one call per report: fetch them for this many reports at most. */
export const MAX_REPORTS_WITH_PAGES = 25;

export interface ReportQuery {
  workspace: string;
  name_contains?: string | undefined;
  include_pages: boolean;
  top: number;
}

/** The first `top` reports whose name matches as rows, with their page names (for the first 25) in page order. */
export async function listReports(pbi: PowerBi, q: ReportQuery, signal: AbortSignal) {
  const { name_contains, include_pages, top } = q;
  const ws = await pbi.resolver.workspace(q.workspace, signal);
  const all = await pbi.client.listReports(ws.id, signal);
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
          const list = await pbi.client.listPages(ws.id, r.id, signal);
          pages.set(
            r.id,
            [...list].sort((a, b) => (a.order ?? 0) - (b.order ?? 0)),
          );
        }),
      );
    }
  }
  const rows: Cell[][] = chosen.map((r) => {
    const list = pages.get(r.id);
    return [
      r.id,
      r.name,
      r.datasetId ?? '',
      r.reportType ?? '',
      r.webUrl ?? '',
      ...(include_pages ? [list ? list.map((p) => p.displayName ?? '').join('; ') : '(not fetched)'] : []),
    ];
  });
  return {
    ws,
    columns: ['id', 'name', 'dataset_id', 'type', 'web_url', ...(include_pages ? ['pages'] : [])],
    rows,
    total: matching.length,
    truncated: matching.length > chosen.length,
    pagesCut: include_pages && chosen.length > MAX_REPORTS_WITH_PAGES,
  };
}
