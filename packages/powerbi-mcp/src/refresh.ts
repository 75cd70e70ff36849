/**
 * Dataset refreshes: the history in words (failure codes decoded from `serviceExceptionJson`), starting one with the
 * refusals turned into what the user can change, and following it until it ends
 * (learn.microsoft.com/rest/api/power-bi/datasets/refresh-dataset-in-group, /get-refresh-history-in-group).
 */
import {
  AuthError,
  CancelledError,
  PermissionError,
  UserInputError,
  sleep,
  type Cell,
  type ToolContext,
} from '@switchyard/core';
import { describeTarget, resolveTarget, type PowerBi, type Target } from './context.js';
import { capitalize } from './errors.js';
import type { Refresh } from './powerbi-client.js';
import { label } from './resolve.js';

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

export type RefreshLine = ReturnType<typeof describeRefresh>;

/** One history entry in words: status, duration, and a failure's code and reason. */
export function describeRefresh(r: Refresh) {
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

export const HISTORY_COLUMNS = ['request_id', 'type', 'status', 'start_time', 'duration_s', 'error'];

/**
 * A model's last `top` refreshes, newest first, as rows in words, with how many failed and when the last success
 * ended.
 */
export async function refreshHistory(
  pbi: PowerBi,
  q: { workspace: string; dataset: string; top: number },
  signal: AbortSignal,
) {
  const target = await resolveTarget(pbi, q.workspace, q.dataset, signal);
  const history = (await pbi.client.refreshHistory(target.workspace.id, target.dataset.id, q.top, signal))
    .slice(0, q.top)
    .map(describeRefresh);
  const rows: Cell[][] = history.map((r) => [
    r.request_id,
    r.type,
    r.status,
    r.start_time,
    r.duration_seconds ?? '',
    r.error_code ? `${r.error_code}: ${r.error ?? ''}` : '',
  ]);
  return {
    target,
    rows,
    failed: history.filter((r) => r.status === 'failed').length,
    lastSuccess: history.find((r) => r.status === 'completed')?.end_time || undefined,
  };
}

/** The sign-in, when it may start refreshes; a read-only one is refused with how to get write access. */
export async function writableCredential(pbi: PowerBi) {
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
  return credential;
}

/**
 * Start a refresh: the request id when Power BI gives one, and when it was asked (taken before the request:
 * without a request id, the refresh is found by its start time).
 */
export async function startRefresh(
  pbi: PowerBi,
  target: Target,
  credential: { identity: string },
  signal: AbortSignal,
) {
  let requestId: string | undefined;
  // Taken before the request: without a request id, the refresh is found by its start time.
  const requestedAt = Date.now();
  try {
    requestId = await pbi.client.startRefresh(target.workspace.id, target.dataset.id, signal);
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
  return { requestId, requestedAt };
}

/**
 * Follow a started refresh in its history (backing off from 1 s to 15 s, with progress notifications) until it ends
 * or `timeout_seconds` pass: its last entry in words (none while it is not listed yet) and the seconds waited.
 */
export async function waitForRefresh(
  pbi: PowerBi,
  target: Target,
  started: { requestId: string | undefined; requestedAt: number },
  timeout_seconds: number,
  ctx: ToolContext,
): Promise<{ last: RefreshLine | undefined; waited: number }> {
  const { requestId, requestedAt } = started;
  const began = Date.now();
  const elapsed = () => Math.round((Date.now() - began) / 1000);
  let delay = 1000;
  let last: RefreshLine | undefined;
  try {
    await ctx.progress(0, timeout_seconds, `refresh of ${label(target.dataset)} started`);
    while (elapsed() < timeout_seconds) {
      await sleep(Math.min(delay, Math.max(0, timeout_seconds * 1000 - (Date.now() - began))), ctx.signal);
      delay = Math.min(delay * 2, 15_000);
      const history = await pbi.client.refreshHistory(target.workspace.id, target.dataset.id, 10, ctx.signal);
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
  return { last, waited: elapsed() };
}
