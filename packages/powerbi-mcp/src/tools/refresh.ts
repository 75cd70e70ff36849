import {
  AuthError,
  CancelledError,
  oneLine,
  PermissionError,
  defineTool,
  fenceUntrusted,
  sleep,
  UserInputError,
  z,
} from '@switchyard/core';
import { capitalize } from '../errors.js';
import { describeTarget, fencedCsv, fields, plural, resolveTarget, type PowerBi } from '../context.js';
import type { Refresh } from '../powerbi-client.js';
import { label } from '../resolve.js';

/** Plain words for failure codes users meet most; the upstream's own text follows them. */
const KNOWN_FAILURES: Record<string, string> = {
  DMTS_DatasourceHasNoCredentialError:
    'a data source has no stored credentials: set them in the dataset settings (Data source credentials)',
  ModelRefreshFailed_CredentialsNotSpecified:
    'a data source has no stored credentials: set them in the dataset settings (Data source credentials)',
  DMTS_OAuthTokenRefreshFailedError:
    'the OAuth sign-in of a data source expired: sign in again under Data source credentials',
  DM_GWPipeline_Gateway_DataSourceAccessError: 'the gateway could not reach or sign in to the data source',
  DM_GWPipeline_Client_GatewayUnreachable: 'the on-premises data gateway is offline',
  DM_GWPipeline_Gateway_MashupDataAccessError: 'a Power Query step failed while reading the source',
  ModelRefresh_ShortMessage_ProcessingError: 'the model failed while processing the data',
  RefreshFailed_MaxRefreshesExceeded:
    'the dataset reached its refresh limit for the day (8 on shared capacity)',
};

/** `serviceExceptionJson` in words: `{"errorCode","errorDescription"}` or a Power BI error body. */
export function decodeServiceException(json: string | undefined): { code?: string; message?: string } {
  if (!json) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return { message: json.slice(0, 500) };
  }
  const p = parsed as {
    errorCode?: string;
    errorDescription?: string;
    error?: {
      code?: string;
      message?: string;
      'pbi.error'?: { details?: Array<{ code?: string; detail?: { value?: string } }> };
    };
  };
  const code = p.errorCode ?? p.error?.code;
  const details = p.error?.['pbi.error']?.details
    ?.map((d) => d.detail?.value)
    .filter((v): v is string => typeof v === 'string' && v.length > 0);
  const upstreamText = p.errorDescription ?? p.error?.message ?? details?.join(' ');
  const known = code ? KNOWN_FAILURES[code] : undefined;
  const message = [known, upstreamText].filter(Boolean).join(' — ') || undefined;
  return { ...(code ? { code } : {}), ...(message ? { message: message.slice(0, 500) } : {}) };
}

const STATUS_WORDS: Record<string, string> = {
  Unknown: 'in progress',
  Completed: 'completed',
  Failed: 'failed',
  Disabled: 'disabled',
  Cancelled: 'cancelled',
};

function seconds(start?: string, end?: string): number | undefined {
  if (!start || !end) return undefined;
  const s = Date.parse(start);
  const e = Date.parse(end);
  return Number.isNaN(s) || Number.isNaN(e) ? undefined : Math.round((e - s) / 1000);
}

/**
 * How far before our own clock a refresh we started may appear to start in Power BI's history: its
 * `startTime` comes from Power BI's clock, which can be a few seconds off ours.
 */
const CLOCK_SKEW_MS = 5_000;

/**
 * The history entry of the refresh this call started, when Power BI gave no request id: only an entry that
 * started at or after `startedAt` (less the allowed clock skew) can be it — anything older, like a
 * completed refresh at the top of the history, is someone else's. Of those, the one that started nearest
 * to `startedAt`; undefined while none is listed.
 */
export function refreshStartedSince(history: Refresh[], startedAt: number): Refresh | undefined {
  let best: { entry: Refresh; distance: number } | undefined;
  for (const entry of history) {
    const start = entry.startTime ? Date.parse(entry.startTime) : Number.NaN;
    if (Number.isNaN(start) || start < startedAt - CLOCK_SKEW_MS) continue;
    const distance = Math.abs(start - startedAt);
    if (!best || distance < best.distance) best = { entry, distance };
  }
  return best?.entry;
}

function describeRefresh(r: Refresh) {
  const failure = decodeServiceException(r.serviceExceptionJson);
  return {
    request_id: r.requestId ?? String(r.id ?? ''),
    type: r.refreshType ?? '',
    status: STATUS_WORDS[r.status ?? ''] ?? r.status ?? 'unknown',
    start_time: r.startTime ?? '',
    end_time: r.endTime ?? '',
    ...(seconds(r.startTime, r.endTime) !== undefined
      ? { duration_seconds: seconds(r.startTime, r.endTime)! }
      : {}),
    ...(failure.code ? { error_code: failure.code } : {}),
    ...(failure.message ? { error: failure.message } : {}),
  };
}

export function refreshTools(pbi: PowerBi) {
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
      handler: async ({ workspace, dataset, top }, ctx) => {
        const target = await resolveTarget(pbi, workspace, dataset, ctx.signal);
        const history = (
          await pbi.client.refreshHistory(target.workspace.id, target.dataset.id, top, ctx.signal)
        )
          .slice(0, top)
          .map(describeRefresh);
        const lastSuccess = history.find((r) => r.status === 'completed')?.end_time || undefined;
        const failed = history.filter((r) => r.status === 'failed').length;
        const head =
          history.length === 0
            ? `No refreshes are recorded for ${describeTarget(target)}.`
            : `Last ${plural(history.length, 'refresh', 'refreshes')} of ${describeTarget(target)}: ${failed} failed; ${lastSuccess ? `last success ended ${lastSuccess}` : 'none of them succeeded'}.`;
        const table = fencedCsv(
          ['request_id', 'type', 'status', 'start_time', 'duration_s', 'error'],
          history.map((r) => [
            r.request_id,
            r.type,
            r.status,
            r.start_time,
            r.duration_seconds ?? '',
            r.error_code ? `${r.error_code}: ${r.error ?? ''}` : '',
          ]),
          'Power BI refresh history',
        );
        return {
          text: history.length === 0 ? head : `${head}\n${table.text}`,
          data: {
            workspace_id: target.workspace.id,
            dataset_id: target.dataset.id,
            returned: history.length,
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
      handler: async ({ workspace, dataset, wait, timeout_seconds }, ctx) => {
        const credential = await pbi.client.credential();
        if (!credential.canWrite) {
          throw credential.method === 'supplied_token'
            ? new AuthError(
                `The supplied token of ${credential.identity} lacks the Dataset.ReadWrite.All permission, so it cannot start refreshes`,
                { hint: 'Supply a token that carries Dataset.ReadWrite.All in POWERBI_ACCESS_TOKEN' },
              )
            : new AuthError(
                `The sign-in of ${credential.identity} is read-only (login --read-only), so it cannot start refreshes`,
                {
                  hint: `Run ${pbi.client.auth.loginCommand()} without --read-only to add the Dataset.ReadWrite.All permission`,
                },
              );
        }
        const target = await resolveTarget(pbi, workspace, dataset, ctx.signal);
        let requestId: string | undefined;
        // Taken before the request: without a request id, the refresh is found by its start time.
        const requestedAt = Date.now();
        try {
          requestId = await pbi.client.startRefresh(target.workspace.id, target.dataset.id, ctx.signal);
        } catch (err) {
          if (err instanceof PermissionError && err.upstream?.code !== 'GroupNotAccessible') {
            throw new PermissionError(
              `${capitalize(credential.identity)} may not refresh ${describeTarget(target)}`,
              {
                ...(err.upstream ? { upstream: err.upstream } : {}),
                hint: 'Starting a refresh needs a Contributor role or higher in the workspace, or ownership of the dataset (take it over in its settings)',
              },
            );
          }
          if (err instanceof UserInputError) {
            throw new UserInputError(`Power BI refused to refresh ${describeTarget(target)}`, {
              ...(err.upstream ? { upstream: err.upstream } : {}),
              hint: 'Check that the dataset imports data (live and DirectQuery models need no refresh) and that no refresh is running already',
            });
          }
          throw err;
        }
        const ids = {
          workspace_id: target.workspace.id,
          dataset_id: target.dataset.id,
          ...(requestId ? { request_id: requestId } : {}),
        };
        if (!wait) {
          return {
            text: `Started a refresh of ${describeTarget(target)}${requestId ? ` (request id ${requestId})` : ''}. It runs in Power BI; follow it with powerbi_get_refresh_history.`,
            data: { ...ids, status: 'started' },
          };
        }
        const started = Date.now();
        const elapsed = () => Math.round((Date.now() - started) / 1000);
        let delay = 1000;
        let last: ReturnType<typeof describeRefresh> | undefined;
        try {
          await ctx.progress(0, timeout_seconds, `refresh of ${label(target.dataset)} started`);
          while (elapsed() < timeout_seconds) {
            await sleep(
              Math.min(delay, Math.max(0, timeout_seconds * 1000 - (Date.now() - started))),
              ctx.signal,
            );
            delay = Math.min(delay * 2, 15_000);
            const history = await pbi.client.refreshHistory(
              target.workspace.id,
              target.dataset.id,
              10,
              ctx.signal,
            );
            // Without a request id, never history[0] alone: it can be an older refresh (of the schedule or
            // someone else) while ours is not listed yet, and its outcome is not ours.
            const entry = requestId
              ? history.find((r) => r.requestId === requestId)
              : refreshStartedSince(history, requestedAt);
            if (!entry) continue;
            last = describeRefresh(entry);
            if (last.status !== 'in progress') break;
            await ctx.progress(
              Math.min(elapsed(), timeout_seconds - 1),
              timeout_seconds,
              `refresh in progress after ${elapsed()} s`,
            );
          }
        } catch (err) {
          if (err instanceof CancelledError) {
            throw new CancelledError(
              `Stopped waiting for the refresh of ${describeTarget(target)}; the refresh itself goes on in Power BI (follow it with powerbi_get_refresh_history).`,
            );
          }
          throw err;
        }
        const waited = elapsed();
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
      },
    }),
  ];
}
