import {
  AuthError,
  NotFoundError,
  PermissionError,
  RateLimitedError,
  UpstreamError,
  UserInputError,
  type SwitchyardError,
  type UpstreamInfo,
} from './errors.js';
import { htmlToText } from './html-text.js';

/**
 * An upstream's failed HTTP answer turned into core's typed errors, once for every client: the upstream's own
 * code and message kept (and shown fenced, on one line, by `errorText`), and one wording for throttling and for
 * a request that failed on the upstream's side after going out once.
 */

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

/** A failed response as the error mapper sees it. */
export interface HttpErrorResponse {
  service: string;
  method: HttpMethod;
  url: string;
  status: number;
  headers: Record<string, string>;
  bodyText: string;
  /** The body parsed as JSON, when it is JSON. */
  json: unknown;
  requestId: string | undefined;
  /** `code` and `message` as found in the usual error shapes; the message is the text of an HTML or plain body. */
  code: string | undefined;
  message: string | undefined;
  /**
   * Whether the request was safe to repeat (and so was retried). When it was not, it went out once and a 5xx
   * leaves its outcome unknown: the upstream may have done it all the same, so check before trying again.
   */
  idempotent: boolean;
}

/** The hint for a request that is not safe to repeat and failed without a clear answer. */
export const MAY_HAVE_GONE_THROUGH =
  'The request may have gone through all the same: check whether it took effect before trying it again';

/** The longest upstream message kept; `errorText` shows at most 300 characters of it. */
const MESSAGE_MAX = 1000;

/** `Retry-After` as milliseconds, from seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The wait a throttled answer asks for (`Retry-After`), in whole seconds. */
export function retryAfterSeconds(headers: Record<string, string>): number | undefined {
  const ms = parseRetryAfter(headers['retry-after']);
  return ms === undefined ? undefined : Math.ceil(ms / 1000);
}

/**
 * `code` and `message` from the error shapes upstreams use: OData/Graph/Power BI `{error: {code, message}}`,
 * OAuth `{error, error_description}`, Databricks REST `{error_code, message}`, and plain `{code|name, message}`.
 */
export function errorFields(json: unknown): { code: string | undefined; message: string | undefined } {
  if (!json || typeof json !== 'object') return { code: undefined, message: undefined };
  const body = json as Record<string, unknown>;
  const err = body.error;
  if (err && typeof err === 'object') {
    const e = err as Record<string, unknown>;
    return { code: str(e.code), message: str(e.message) || undefined };
  }
  if (typeof err === 'string') return { code: err, message: str(body.error_description) };
  // Databricks: "Some legacy endpoints return the HTTP status code here as an integer … treat a non-string value
  // as absent" (docs.databricks.com/api/account/errors).
  const databricksCode = typeof body.error_code === 'string' ? body.error_code : undefined;
  return {
    code: databricksCode ?? str(body.code) ?? str(body.errorCode) ?? str(body.name),
    message: str(body.message),
  };
}

/**
 * What a failed answer's body says: the error fields of a JSON body, or the text of a body that is not JSON
 * (a proxy's or gateway's HTML page, a plain sentence) on one line, tags and hidden elements dropped.
 */
export function bodyError(
  bodyText: string,
  json: unknown,
  contentType = '',
): { code: string | undefined; message: string | undefined } {
  if (json !== undefined) return errorFields(json);
  const text = /html|xml/i.test(contentType) || /^\s*</.test(bodyText) ? pageText(bodyText) : bodyText;
  const line = text.replace(/\s+/g, ' ').trim().slice(0, MESSAGE_MAX);
  return { code: undefined, message: line || undefined };
}

function pageText(html: string): string {
  const text = htmlToText(html).trim();
  // A page whose only words are its title (`<title>502 Bad Gateway</title>`).
  return text || (/<title\b[^>]*>([\s\S]*?)<\/title>/i.exec(html)?.[1] ?? '');
}

/** The upstream's status, code, message and request id, as an error carries them. */
export function upstreamInfo(failure: HttpErrorResponse): UpstreamInfo {
  return {
    service: failure.service,
    status: failure.status,
    ...(failure.code ? { code: failure.code } : {}),
    ...(failure.message ? { message: failure.message.slice(0, MESSAGE_MAX) } : {}),
    ...(failure.requestId ? { requestId: failure.requestId } : {}),
  };
}

/**
 * The one sentence for a throttled call: `<service> is throttling requests[ <during>][ and asks to wait N s]`.
 * The hint says what to do, given the wait asked for (when the upstream named one).
 */
export function throttledError(
  service: string,
  options: {
    /** What was being done, e.g. "while running sale.order.search_count". */
    during?: string;
    retryAfterSeconds?: number | undefined;
    hint?: string | ((seconds: number | undefined) => string);
    upstream?: UpstreamInfo;
  } = {},
): RateLimitedError {
  const seconds = options.retryAfterSeconds;
  const hint =
    typeof options.hint === 'function'
      ? options.hint(seconds)
      : (options.hint ?? 'Wait a little and try again, or ask for less at once');
  return new RateLimitedError(
    `${service} is throttling requests${options.during ? ` ${options.during}` : ''}${seconds !== undefined ? ` and asks to wait ${seconds} s` : ''}`,
    {
      hint,
      ...(options.upstream ? { upstream: options.upstream } : {}),
      ...(seconds !== undefined ? { retryAfterSeconds: seconds } : {}),
    },
  );
}

/** What a client adds to the generic mapping: its own advice, in the user's words. */
export interface UpstreamWording {
  /** The hint of a throttled call, given the wait the upstream asked for. */
  throttledHint?: string | ((seconds: number | undefined) => string);
  /**
   * Where to look before repeating a request that went out once and failed on the upstream's side, e.g. "Check
   * Sent Items before sending again". Default: check whether it took effect.
   */
  checkBeforeRetry?: string;
}

/**
 * The typed error for an upstream's failed HTTP answer: 400/422 invalid input, 401 credentials, 403 permission,
 * 404 not found, 429 throttled (with the wait asked for), 5xx the upstream's side — and a request that was not
 * safe to repeat was sent once and may have gone through. Clients refine it with `describeError` for their
 * upstream's own codes, and pass their advice as `wording`.
 */
export function upstreamHttpError(
  failure: HttpErrorResponse,
  wording: UpstreamWording = {},
): SwitchyardError {
  const upstream = upstreamInfo(failure);
  const s = failure.service;
  switch (failure.status) {
    case 400:
    case 422:
      return new UserInputError(`${s} rejected the request as invalid`, { upstream });
    case 401:
      return new AuthError(`${s} did not accept the credentials`, {
        upstream,
        hint: 'Sign in again with the login command',
      });
    case 403:
      return new PermissionError(`${s} refused access`, {
        upstream,
        hint: 'The signed-in identity lacks a permission for this',
      });
    case 404:
      return new NotFoundError(`${s} has no such item, or the caller cannot see it`, { upstream });
    case 429:
      return throttledError(s, {
        retryAfterSeconds: retryAfterSeconds(failure.headers),
        upstream,
        ...(wording.throttledHint ? { hint: wording.throttledHint } : {}),
      });
  }
  if (failure.status < 500)
    return new UpstreamError(`${s} refused the request (HTTP ${failure.status})`, { upstream });
  const what = `${s} ${[502, 503, 504].includes(failure.status) ? 'is temporarily unavailable' : 'failed on its side'} (HTTP ${failure.status})`;
  if (!failure.idempotent) {
    // Sent once and not repeated: the upstream may have done it anyway, so "try again" could do it twice.
    return new UpstreamError(
      `${what}; the request was not repeated, as it may have gone through all the same`,
      {
        upstream,
        hint: wording.checkBeforeRetry ?? 'Check whether it took effect before trying it again',
      },
    );
  }
  return new UpstreamError(what, {
    upstream,
    hint: [502, 503, 504].includes(failure.status) ? 'Try again in a minute' : 'Try again in a moment',
  });
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}
