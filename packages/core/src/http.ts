import type { Readable } from 'node:stream';
import { CancelledError, UpstreamError, UserInputError } from './errors.js';
import { silentLogger, type Logger } from './log.js';
import {
  bodyError,
  MAY_HAVE_GONE_THROUGH,
  parseRetryAfter,
  upstreamHttpError,
  type HttpErrorResponse,
  type HttpMethod,
} from './upstream-errors.js';

type Query = Record<string, string | number | boolean | undefined | null>;

export interface HttpClientOptions {
  /** The upstream's name in error messages, e.g. "Power BI". */
  service: string;
  baseUrl: string;
  headers?: Record<string, string>;
  /** Headers that authenticate a request; `forceRefresh` after the upstream refused a token once. */
  auth?: (options: { signal: AbortSignal; forceRefresh: boolean }) => Promise<Record<string, string>>;
  /** Whether a 401/403 means "refresh the token and try once more". */
  shouldRefreshAuth?: (response: HttpErrorResponse) => boolean;
  /** Map a failed response to the error the tool should give; fall back to the generic mapping. */
  describeError?: (response: HttpErrorResponse) => Error | undefined;
  /** Per attempt. Default 30 s. */
  timeoutMs?: number;
  /** Attempts in all, including the first. Default 4. */
  maxAttempts?: number;
  /** The longest single wait before a retry; a longer `Retry-After` fails at once. Default 30 s. */
  maxRetryWaitMs?: number;
  /** First backoff step; doubles per attempt, with full jitter. Default 500 ms. */
  baseDelayMs?: number;
  log?: Logger;
  userAgent?: string;
}

export interface HttpRequest {
  method?: HttpMethod;
  /** A path appended to `baseUrl`, or an absolute URL (e.g. an `@odata.nextLink`), used as given. */
  path: string;
  query?: Query;
  json?: unknown;
  body?: string | Uint8Array;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Retry 502/503/504 and network errors; GET/HEAD/PUT/DELETE/OPTIONS are idempotent by default. */
  idempotent?: boolean;
  timeoutMs?: number;
  responseType?: 'json' | 'text' | 'bytes' | 'stream' | 'none';
  /** Follow 3xx `Location` (without our auth headers when it leaves the origin). Default true. */
  followRedirects?: boolean;
  /** Skip the auth headers (pre-signed URLs such as upload sessions). */
  anonymous?: boolean;
}

export interface HttpResponse<T> {
  status: number;
  headers: Record<string, string>;
  data: T;
  requestId: string | undefined;
}

const REQUEST_ID_HEADERS = [
  'request-id',
  'x-ms-request-id',
  'requestid',
  'x-request-id',
  'x-ms-correlation-id',
  'client-request-id',
];
const RETRYABLE_NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
/** Network errors after which a request may have reached the upstream (the connection broke under way). */
const BROKEN_UNDER_WAY = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

type Undici = typeof import('undici');
let undiciModule: Promise<Undici> | undefined;
// Loaded on first use: a server that is only listing its tools never pays for it.
const loadUndici = (): Promise<Undici> => (undiciModule ??= import('undici'));

/**
 * JSON over HTTP with the manners every upstream needs: timeouts, the caller's cancellation, bounded
 * retries with jittered backoff that honour `Retry-After`, one token refresh, and failures turned into
 * typed errors that carry the upstream's status, code, message and request id.
 */
export class HttpClient {
  readonly service: string;
  readonly baseUrl: string;
  private readonly options: HttpClientOptions;
  private readonly log: Logger;

  constructor(options: HttpClientOptions) {
    this.options = options;
    this.service = options.service;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.log = options.log ?? silentLogger;
  }

  async get<T>(path: string, request: Omit<HttpRequest, 'path' | 'method'> = {}): Promise<T> {
    return (await this.request<T>({ ...request, path, method: 'GET' })).data;
  }

  async post<T>(
    path: string,
    json: unknown,
    request: Omit<HttpRequest, 'path' | 'method' | 'json'> = {},
  ): Promise<T> {
    return (await this.request<T>({ ...request, path, method: 'POST', json })).data;
  }

  url(path: string, query?: Query): string {
    const url = new URL(
      /^https?:\/\//i.test(path) ? path : `${this.baseUrl}${path.startsWith('/') ? '' : '/'}${path}`,
    );
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  async request<T = unknown>(req: HttpRequest): Promise<HttpResponse<T>> {
    const { request: send } = await loadUndici();
    const method = req.method ?? 'GET';
    const idempotent = req.idempotent ?? ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'].includes(method);
    const maxAttempts = Math.max(1, this.options.maxAttempts ?? 4);
    const maxWait = this.options.maxRetryWaitMs ?? 30_000;
    const timeoutMs = req.timeoutMs ?? this.options.timeoutMs ?? 30_000;
    let url = this.url(req.path, req.query);
    let forceRefresh = false;
    let refreshed = false;
    let redirects = 0;

    for (let attempt = 1; ; attempt++) {
      if (req.signal?.aborted) throw new CancelledError();
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
      const headers: Record<string, string> = {
        accept: 'application/json',
        ...(this.options.userAgent ? { 'user-agent': this.options.userAgent } : {}),
        ...this.options.headers,
        ...(this.options.auth && !req.anonymous && sameOrigin(url, this.baseUrl)
          ? await this.options.auth({ signal, forceRefresh })
          : {}),
        ...req.headers,
      };
      forceRefresh = false;
      let body: string | Uint8Array | undefined = req.body;
      if (req.json !== undefined) {
        body = JSON.stringify(req.json);
        headers['content-type'] ??= 'application/json';
      }

      let res: Awaited<ReturnType<Undici['request']>>;
      const started = performance.now();
      try {
        res = await send(url, { method, headers, body, signal });
      } catch (err) {
        if (req.signal?.aborted) throw new CancelledError();
        if (timeout.aborted) {
          throw new UpstreamError(`${this.service} did not answer within ${Math.round(timeoutMs / 1000)} s`, {
            hint: idempotent
              ? 'Try again; if it keeps happening, ask for less data at once'
              : MAY_HAVE_GONE_THROUGH,
            upstream: { service: this.service },
          });
        }
        const code = networkCode(err);
        if (idempotent && code && RETRYABLE_NETWORK.has(code) && attempt < maxAttempts) {
          await this.pause(backoff(attempt, this.options.baseDelayMs), req.signal);
          continue;
        }
        const where = `${this.service} at ${new URL(url).host}`;
        const reason = code ?? (err as Error).message;
        if (!idempotent && code && BROKEN_UNDER_WAY.has(code)) {
          throw new UpstreamError(`The connection to ${where} broke before the answer came (${reason})`, {
            hint: MAY_HAVE_GONE_THROUGH,
            upstream: { service: this.service },
            cause: err,
          });
        }
        throw new UpstreamError(`Could not reach ${where} (${reason})`, {
          hint: 'Check the network connection and the configured URL',
          upstream: { service: this.service },
          cause: err,
        });
      }
      const resHeaders = flatHeaders(res.headers);
      const requestId = findRequestId(resHeaders);
      this.log.debug(
        `${method} ${redactUrl(url)} → ${res.statusCode} in ${(performance.now() - started).toFixed(0)} ms`,
        {
          attempt,
          ...(requestId ? { requestId } : {}),
        },
      );

      if (
        res.statusCode >= 300 &&
        res.statusCode < 400 &&
        resHeaders.location &&
        req.followRedirects !== false
      ) {
        await res.body.dump();
        if (++redirects > 5)
          throw new UpstreamError(`${this.service} redirected too many times`, {
            upstream: { service: this.service },
          });
        url = new URL(resHeaders.location, url).toString();
        attempt--;
        continue;
      }

      if (res.statusCode < 400) {
        return {
          status: res.statusCode,
          headers: resHeaders,
          requestId,
          data: (await readBody(res.body, req.responseType ?? 'json')) as T,
        };
      }

      const failure = await this.failure(
        { method, url, status: res.statusCode, headers: resHeaders, requestId, idempotent },
        res.body,
      );
      if (
        (res.statusCode === 401 || res.statusCode === 403) &&
        !refreshed &&
        this.options.auth &&
        this.options.shouldRefreshAuth?.(failure)
      ) {
        refreshed = true;
        forceRefresh = true;
        attempt--;
        continue;
      }
      const retryAfterMs = parseRetryAfter(resHeaders['retry-after']);
      if (res.statusCode === 429) {
        const wait = retryAfterMs ?? backoff(attempt, this.options.baseDelayMs);
        if (attempt < maxAttempts && wait <= maxWait) {
          this.log.info(`${this.service} throttled the call; retrying in ${(wait / 1000).toFixed(1)} s`);
          await this.pause(wait, req.signal);
          continue;
        }
        throw this.mapError(failure);
      }
      if ([502, 503, 504].includes(res.statusCode) && idempotent && attempt < maxAttempts) {
        const wait = retryAfterMs ?? backoff(attempt, this.options.baseDelayMs);
        if (wait <= maxWait) {
          await this.pause(wait, req.signal);
          continue;
        }
      }
      throw this.mapError(failure);
    }
  }

  private async failure(
    response: Pick<HttpErrorResponse, 'method' | 'url' | 'status' | 'headers' | 'requestId' | 'idempotent'>,
    body: Readable & { text(): Promise<string> },
  ): Promise<HttpErrorResponse> {
    const bodyText = (await body.text().catch(() => '')).slice(0, 64 * 1024);
    let json: unknown;
    try {
      json = bodyText ? JSON.parse(bodyText) : undefined;
    } catch {
      json = undefined;
    }
    const { code, message } = bodyError(bodyText, json, response.headers['content-type']);
    return { ...response, service: this.service, bodyText, json, code, message };
  }

  private mapError(failure: HttpErrorResponse): Error {
    const custom = this.options.describeError?.(failure);
    return custom ?? upstreamHttpError(failure);
  }

  private pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return sleep(ms, signal);
  }
}

/** Exponential backoff with full jitter: a random wait in [0, base·2^(attempt-1)], capped at 20 s. */
export function backoff(attempt: number, baseMs = 500): number {
  return Math.random() * Math.min(20_000, baseMs * 2 ** (attempt - 1));
}

/** Wait, but stop early (with CancelledError) when the signal fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CancelledError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(new CancelledError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined) out[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function findRequestId(headers: Record<string, string>): string | undefined {
  for (const name of REQUEST_ID_HEADERS) if (headers[name]) return headers[name];
  return undefined;
}

function networkCode(err: unknown): string | undefined {
  const e = err as { code?: string; cause?: { code?: string } };
  return e?.code ?? e?.cause?.code;
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

function redactUrl(url: string): string {
  return url.replace(/([?&](?:code|token|key|sig|signature|access_token)=)[^&]+/gi, '$1…');
}

async function readBody(
  body: Readable & { text(): Promise<string>; arrayBuffer(): Promise<ArrayBuffer>; dump(): Promise<void> },
  type: NonNullable<HttpRequest['responseType']>,
): Promise<unknown> {
  switch (type) {
    case 'stream':
      return body;
    case 'none':
      await body.dump();
      return undefined;
    case 'bytes':
      return new Uint8Array(await body.arrayBuffer());
    case 'text':
      return body.text();
    case 'json': {
      const text = await body.text();
      if (!text) return undefined;
      try {
        return JSON.parse(text);
      } catch {
        throw new UpstreamError('The upstream answered with something that is not JSON', {
          hint: 'Check that the configured URL points at the API',
        });
      }
    }
  }
}

/** A page of items and the cursor of the next one. */
export interface Page<T> {
  items: T[];
  next?: string | undefined;
}

export interface Collected<T> {
  items: T[];
  /** Cursor for the rest, when more exist. */
  next: string | undefined;
  truncated: boolean;
}

/**
 * Gather pages until `maxItems` or `maxPages` is reached or the pages run out. The returned cursor is
 * opaque: it names the page where gathering stopped and how far into it, so a page cut in the middle
 * resumes exactly where it was cut.
 */
export async function collectPages<T>(
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
  options: { maxItems: number; maxPages?: number; cursor?: string | undefined; signal?: AbortSignal },
): Promise<Collected<T>> {
  const items: T[] = [];
  let { page: pageCursor, skip } = decodePageCursor(options.cursor);
  let pages = 0;
  const maxPages = options.maxPages ?? 50;
  for (;;) {
    if (options.signal?.aborted) throw new CancelledError();
    const page = await fetchPage(pageCursor);
    pages++;
    const available = page.items.slice(skip);
    const room = options.maxItems - items.length;
    items.push(...available.slice(0, room));
    if (available.length > room) {
      return { items, next: encodePageCursor(pageCursor, skip + room), truncated: true };
    }
    skip = 0;
    pageCursor = page.next;
    if (!pageCursor) return { items, next: undefined, truncated: false };
    if (items.length >= options.maxItems || pages >= maxPages) {
      return { items, next: encodePageCursor(pageCursor, 0), truncated: true };
    }
  }
}

function encodePageCursor(page: string | undefined, skip: number): string {
  return Buffer.from(JSON.stringify({ p: page ?? null, s: skip })).toString('base64url');
}

function decodePageCursor(cursor: string | undefined): { page: string | undefined; skip: number } {
  if (!cursor) return { page: undefined, skip: 0 };
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      p: string | null;
      s: number;
    };
    if (typeof parsed.s !== 'number' || (parsed.p !== null && typeof parsed.p !== 'string'))
      throw new Error('shape');
    return { page: parsed.p ?? undefined, skip: parsed.s };
  } catch {
    throw new UserInputError(
      'The cursor is not one this server gave out; pass the `next_cursor` of the previous answer unchanged',
    );
  }
}

/** Pages of an OData-style collection: `value` plus `@odata.nextLink`, followed exactly as given. */
export function nextLinkPages<T>(client: HttpClient, first: string, request: Omit<HttpRequest, 'path'> = {}) {
  return async (cursor: string | undefined): Promise<Page<T>> => {
    const data = await client.get<{ value?: T[]; '@odata.nextLink'?: string }>(
      cursor ?? first,
      cursor ? { ...request, query: {} } : request,
    );
    return { items: data?.value ?? [], next: data?.['@odata.nextLink'] };
  };
}

/** Pages of a `$top`/`$skip` collection; the cursor is the next `$skip`. */
export function skipPages<T>(
  client: HttpClient,
  path: string,
  pageSize: number,
  request: Omit<HttpRequest, 'path'> = {},
) {
  return async (cursor: string | undefined): Promise<Page<T>> => {
    const skip = cursor ? Number(cursor) : 0;
    const data = await client.get<{ value?: T[] }>(path, {
      ...request,
      query: { ...request.query, $top: pageSize, $skip: skip },
    });
    const items = data?.value ?? [];
    return { items, next: items.length < pageSize ? undefined : String(skip + items.length) };
  };
}
