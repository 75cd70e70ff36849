import { oneLine, defineTool, fenceUntrusted, z } from '@switchyard/core';
import {
  describeTarget,
  fencedCsv,
  fields,
  plural,
  resolveTarget,
  type PowerBi,
  type Target,
} from '../context.js';
import {
  HISTORY_COLUMNS,
  refreshHistory,
  startRefresh,
  waitForRefresh,
  writableCredential,
  type RefreshLine,
} from '../refresh.js';

export function refreshTools(server: PowerBi) {
  return [
    defineTool({
      name: 'powerbi_get_refresh_history',
      title: 'Refresh history of a semantic model',
      description:
        'Shows the last refreshes of a semantic model (newest first): type, status, start, duration, and for failures the reason decoded from Power BI’s error JSON. Use it to answer “is this data fresh?” or “why did the refresh fail?”. One API call.',
      toolset: 'refresh',
      input: {
        workspace: fields.workspace,
        dataset: fields.dataset,
        top: z
          .number()
          .int()
          .min(1)
          .max(60)
          .default(10)
          .describe('How many recent refreshes to show (1-60).'),
      },
      output: {
        workspace_id: z.string(),
        dataset_id: z.string(),
        returned: z.number().describe('Refreshes in the text.'),
        failed: z.number(),
        last_success: z.string().optional(),
      },
      annotations: { readOnlyHint: true, openWorldHint: true },
      handler: async (args, ctx) => {
        const { target, rows, failed, lastSuccess } = await refreshHistory(
          server.forCall(ctx),
          args,
          ctx.signal,
        );
        const head =
          rows.length === 0
            ? `No refreshes are recorded for ${describeTarget(target)}.`
            : `Last ${plural(rows.length, 'refresh', 'refreshes')} of ${describeTarget(target)}: ${failed} failed; ${lastSuccess ? `last success ended ${lastSuccess}` : 'none of them succeeded'}.`;
        const table = fencedCsv(HISTORY_COLUMNS, rows, 'Power BI refresh history');
        return {
          text: rows.length === 0 ? head : `${head}\n${table.text}`,
          data: {
            workspace_id: target.workspace.id,
            dataset_id: target.dataset.id,
            returned: rows.length,
            failed,
            ...(lastSuccess ? { last_success: lastSuccess } : {}),
          },
        };
      },
    }),
    defineTool({
      name: 'powerbi_refresh_dataset',
      title: 'Start a semantic model refresh',
      description:
        'Starts a refresh of a semantic model (reloads its data from the sources). With wait: true it follows the refresh, sending progress notifications, and reports the outcome with the failure reason; otherwise it returns at once. Counts against the daily refresh limit (8 a day on shared capacity). Needs a Contributor role or dataset ownership.',
      toolset: 'refresh',
      input: {
        workspace: fields.workspace,
        dataset: fields.dataset,
        wait: z
          .boolean()
          .default(false)
          .describe('Wait for the refresh to finish (with progress notifications).'),
        timeout_seconds: z
          .number()
          .int()
          .min(5)
          .max(3600)
          .default(600)
          .describe('With wait: stop waiting after this many seconds (5-3600); the refresh goes on.'),
      },
      output: {
        workspace_id: z.string(),
        dataset_id: z.string(),
        request_id: z.string().optional(),
        status: z.string(),
        waited_seconds: z.number().optional(),
        duration_seconds: z.number().optional(),
        error_code: z.string().optional(),
        error: z.string().optional(),
      },
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: true,
      },
      // Followed to its end, a refresh can take up to an hour: a task for a client that takes them.
      task: ({ wait }) => wait,
      handler: async ({ workspace, dataset, wait, timeout_seconds }, ctx) => {
        const pbi = server.forCall(ctx, { write: true });
        const credential = await writableCredential(pbi);
        const target = await resolveTarget(pbi, workspace, dataset, ctx.signal);
        const started = await startRefresh(pbi, target, credential, ctx.signal);
        if (!wait) return refreshReply(target, started);
        return refreshReply(
          target,
          started,
          await waitForRefresh(pbi, target, started, timeout_seconds, ctx),
        );
      },
    }),
  ];
}

/** The answer to a refresh started: at once, or after following it (not found yet, still running, or its outcome). */
function refreshReply(
  target: Target,
  started: { requestId: string | undefined; requestedAt: number },
  followed?: { last: RefreshLine | undefined; waited: number },
) {
  const { requestId, requestedAt } = started;
  const ids = {
    workspace_id: target.workspace.id,
    dataset_id: target.dataset.id,
    ...(requestId ? { request_id: requestId } : {}),
  };
  if (!followed) {
    return {
      text: `Started a refresh of ${describeTarget(target)}${requestId ? ` (request id ${requestId})` : ''}. It runs in Power BI; follow it with powerbi_get_refresh_history.`,
      data: { ...ids, status: 'started' },
    };
  }
  const { last, waited } = followed;
  if (!last) {
    const why = requestId
      ? `its request id ${requestId} is not in the refresh history yet`
      : 'Power BI returned no request id and no refresh started since then is in the refresh history yet';
    return {
      text: `Power BI accepted the refresh of ${describeTarget(target)}, but it could not be identified after ${waited} s: ${why}. Check its outcome with powerbi_get_refresh_history (look for a refresh started at or after ${new Date(requestedAt).toISOString()}).`,
      data: { ...ids, status: 'accepted', waited_seconds: waited },
    };
  }
  if (last.status === 'in progress') {
    return {
      text: `The refresh of ${describeTarget(target)} is still running after ${waited} s; it goes on in Power BI. Follow it with powerbi_get_refresh_history.`,
      data: { ...ids, status: 'in progress', waited_seconds: waited },
    };
  }
  const outcome =
    last.status === 'completed'
      ? `The refresh of ${describeTarget(target)} completed${last.duration_seconds !== undefined ? ` in ${last.duration_seconds} s` : ''}.`
      : `The refresh of ${describeTarget(target)} ${last.status}${last.error_code ? ` (${oneLine(last.error_code, 100)})` : ''}.${last.error ? `\n${fenceUntrusted(last.error, 'Power BI refresh error')}` : ''}`;
  return {
    text: outcome,
    data: {
      ...ids,
      status: last.status,
      waited_seconds: waited,
      ...(last.duration_seconds !== undefined ? { duration_seconds: last.duration_seconds } : {}),
      ...(last.error_code ? { error_code: last.error_code } : {}),
      ...(last.error ? { error: last.error } : {}),
    },
  };
}
