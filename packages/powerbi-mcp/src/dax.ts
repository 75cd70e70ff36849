/**
 * Running a DAX query against a semantic model (learn.microsoft.com/rest/api/power-bi/datasets/execute-queries-in-group),
 * and writing the whole result to a CSV file when asked.
 */
import { spillCsv, spillDir } from '@switchyard/core';
import { resolveTarget, type PowerBi } from './context.js';

export interface DaxRequest {
  workspace: string;
  dataset: string;
  query: string;
  include_nulls: boolean;
  impersonated_user?: string | undefined;
  spill: boolean;
}

/** The query's rows (and Power BI's reason when it stopped early), and the spill file when one was asked for. */
export async function runDax(pbi: PowerBi, a: DaxRequest, signal: AbortSignal) {
  const target = await resolveTarget(pbi, a.workspace, a.dataset, signal);
  const result = await pbi.client.executeQuery(
    target.workspace.id,
    target.dataset.id,
    { query: a.query, includeNulls: a.include_nulls, impersonatedUser: a.impersonated_user },
    signal,
  );
  const spilled = a.spill
    ? await spillCsv({
        columns: result.columns,
        rows: result.rows,
        dir: spillDir('powerbi-mcp', pbi.env),
        name: `dax-${target.dataset.name ?? target.dataset.id}`,
      })
    : undefined;
  return { target, result, spilled };
}
