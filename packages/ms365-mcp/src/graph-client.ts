import {
  AuthError,
  HttpClient,
  NotFoundError,
  PermissionError,
  RateLimitedError,
  UserInputError,
  collectPages,
  isSwitchyardError,
  retryAfterSeconds,
  upstreamHttpError,
  upstreamInfo,
  type AzureToken,
  type Caller,
  type Collected,
  type HttpErrorResponse,
  type HttpRequest,
  type HttpResponse,
  type Logger,
  type UpstreamInfo,
} from '@switchyard/core';
import type { Ms365Auth } from './auth.js';
import { covers, isPersonalTenant } from './scopes.js';

const SERVICE = 'Microsoft Graph';

/** Outlook allows 4 concurrent requests per mailbox; more get `MailboxConcurrency` 429s. */
export const MAILBOX_CONCURRENCY = 4;

/** A counting semaphore: at most `size` holders at once, the rest wait in order. */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(readonly size: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

export interface GraphRequest extends HttpRequest {
  /** The sentence a 404 becomes, e.g. "No message has id 'AAMk…'". */
  notFound?: string;
  notFoundHint?: string;
}

/** `AAMkAGI2…AAA=`: enough of a long id to recognise it in a sentence. */
export function shortId(id: string): string {
  return id.length > 24 ? `${id.slice(0, 12)}…${id.slice(-6)}` : id;
}

/**
 * Shared by every scope set: one auth, and one semaphore that keeps every Graph request of this process
 * within the mailbox's limit of 4 at a time (files too: simpler, and it costs nothing measurable).
 */
export class GraphHub {
  readonly auth: Ms365Auth;
  readonly log: Logger;
  readonly mailbox = new Semaphore(MAILBOX_CONCURRENCY);
  private readonly clients = new Map<string, Graph>();

  constructor(auth: Ms365Auth, log: Logger) {
    this.auth = auth;
    this.log = log;
  }

  /**
   * A client for one call of a user signed in over HTTP: its tokens come from the on-behalf-of exchange for that
   * user (core's `Caller`), never from this server's own sign-in, and it is not kept for another caller.
   */
  forCaller(caller: Caller, scopes: string[]): Graph {
    return new Graph(this, scopes, (forceRefresh) => caller.token(scopes, forceRefresh));
  }

  /** A client whose calls carry a token for these scopes. */
  forScopes(scopes: string[]): Graph {
    const key = [...scopes].sort().join(' ');
    let graph = this.clients.get(key);
    if (!graph) {
      graph = new Graph(this, scopes);
      this.clients.set(key, graph);
    }
    return graph;
  }
}

/** Microsoft Graph for one set of delegated scopes, on core's HttpClient. */
export class Graph {
  readonly http: HttpClient;
  readonly scopes: string[];
  private readonly hub: GraphHub;
  private grantedScopes: string[] = [];

  constructor(
    hub: GraphHub,
    scopes: string[],
    /** Where tokens come from instead of the server's sign-in (a caller signed in over HTTP). */
    tokens?: (forceRefresh: boolean) => Promise<AzureToken>,
  ) {
    this.hub = hub;
    this.scopes = scopes;
    const token = tokens ?? ((forceRefresh: boolean) => hub.auth.token(scopes, forceRefresh));
    this.http = new HttpClient({
      service: SERVICE,
      baseUrl: hub.auth.graphUrl,
      log: hub.log,
      maxRetryWaitMs: 20_000,
      userAgent: 'switchyard-ms365-mcp',
      auth: async ({ forceRefresh }) => {
        const got = await token(forceRefresh);
        this.grantedScopes = got.scopes;
        return { authorization: `Bearer ${got.accessToken}` };
      },
      // An expired or revoked access token: refresh once, then give up with what to run.
      shouldRefreshAuth: (r) => r.status === 401 && (tokens !== undefined || !hub.auth.usesSuppliedToken),
      describeError: (r) => this.describe(r),
    });
  }

  get baseUrl(): string {
    return this.http.baseUrl;
  }

  async request<T>(req: GraphRequest): Promise<HttpResponse<T>> {
    try {
      return await this.hub.mailbox.run(() => this.http.request<T>(req));
    } catch (err) {
      if (err instanceof NotFoundError && req.notFound) {
        throw new NotFoundError(req.notFound, {
          ...(err.upstream ? { upstream: err.upstream } : {}),
          ...(req.notFoundHint ? { hint: req.notFoundHint } : {}),
        });
      }
      throw err;
    }
  }

  async get<T>(path: string, req: Omit<GraphRequest, 'path' | 'method'> = {}): Promise<T> {
    return (await this.request<T>({ ...req, path, method: 'GET' })).data;
  }

  async post<T>(path: string, json: unknown, req: Omit<GraphRequest, 'path' | 'method' | 'json'> = {}) {
    return (await this.request<T>({ ...req, path, method: 'POST', json })).data;
  }

  /**
   * Up to `top` items of a collection from the cursor on, following `@odata.nextLink` exactly as
   * Graph gave it (never a rebuilt `$skip`). The cursor keeps the link relative to the Graph URL,
   * which keeps it short.
   */
  async list<T>(
    path: string,
    options: Pick<GraphRequest, 'query' | 'headers' | 'notFound' | 'notFoundHint'> & {
      top: number;
      cursor?: string;
    },
    signal?: AbortSignal,
  ): Promise<Collected<T>> {
    const base = this.baseUrl;
    return collectPages<T>(
      async (cursor) => {
        // A position is a Graph path this server kept from a nextLink; anything else (another host) is refused.
        if (cursor !== undefined && !cursor.startsWith('/'))
          throw new UserInputError(
            'The cursor is not one this server gave out; pass the `next_cursor` of the previous answer unchanged',
          );
        const page = await this.get<{ value?: T[]; '@odata.nextLink'?: string }>(cursor ?? path, {
          // The link carries the whole query; only the first request builds one.
          ...(cursor ? {} : { query: options.query }),
          ...(options.headers ? { headers: options.headers } : {}),
          ...(options.notFound ? { notFound: options.notFound, notFoundHint: options.notFoundHint } : {}),
          ...(signal ? { signal } : {}),
        });
        const link = page?.['@odata.nextLink'];
        const next = link?.startsWith(`${base}/`) ? link.slice(base.length) : link;
        return { items: page?.value ?? [], next };
      },
      {
        maxItems: options.top,
        ...(options.cursor ? { cursor: options.cursor } : {}),
        ...(signal ? { signal } : {}),
      },
    );
  }

  /** Fail before calling when the signed-in account is a personal one and `what` needs a work account. */
  async requireWorkAccount(what: string, tool: string): Promise<void> {
    const auth = this.hub.auth;
    await auth.token(this.scopes); // also tells who is signed in
    const personal = isPersonalTenant(auth.lastAccount?.tenantId) || (await auth.personalTenant());
    if (personal) {
      const who = auth.lastAccount?.username ? ` (${auth.lastAccount.username})` : '';
      throw new PermissionError(
        `${what} needs a work or school account; the signed-in account${who} is a personal Microsoft account, so ${tool} cannot work with it`,
        {
          hint: 'Use the OneDrive tools (ms365_list_files, ms365_search_files) for personal files, or sign in with a work account (MS365_TENANT_ID=organizations)',
        },
      );
    }
  }

  private describe(r: HttpErrorResponse): Error | undefined {
    const upstream = upstreamInfo(r);
    const auth = this.hub.auth;
    const text = `${r.code ?? ''} ${r.message ?? ''}`;
    if (r.status === 401) {
      if (auth.usesSuppliedToken) {
        return new AuthError(
          'Microsoft Graph refused the token in MS365_ACCESS_TOKEN (expired, revoked or not for Graph)',
          {
            upstream,
            hint: `Supply a fresh token, or unset MS365_ACCESS_TOKEN and run \`${auth.loginCommand}\` in a terminal`,
          },
        );
      }
      return new AuthError('Microsoft Graph refused the access token even after a refresh', {
        upstream,
        hint: auth.loginHint,
      });
    }
    if (r.status === 404 && /ErrorInvalidUser/i.test(text)) {
      const other = otherMailbox(r.url);
      return new UserInputError(`No mailbox has the address ${other ?? 'given'}`, {
        upstream,
        hint: 'Check the spelling of the mailbox address (a shared mailbox’s own address, e.g. sales@contoso.com)',
      });
    }
    if (r.status === 403 && /accessdenied|sendasdenied|authorization_requestdenied|forbidden/i.test(text)) {
      const missing = this.grantedScopes.length
        ? this.scopes.filter((s) => s !== 'User.Read' && !covers(this.grantedScopes, s))
        : [];
      if (missing.length > 0) {
        return new PermissionError(
          `The sign-in has no consent for ${missing.join(', ')}, which this call needs`,
          {
            upstream,
            hint: auth.usesSuppliedToken
              ? 'Supply a token that carries this scope, or unset MS365_ACCESS_TOKEN and sign in'
              : `Run \`${auth.loginCommand}\` (without --read-only if it is a write) and accept the consent prompt, or ask an administrator to grant consent to the app`,
          },
        );
      }
      const other = otherMailbox(r.url);
      if (other) return mailboxRefusal(other, r.url, /SendAsDenied/i.test(text), upstream);
      return new PermissionError('Microsoft Graph refused access to this item', {
        upstream,
        hint: 'The account may lack access to it (another user’s mailbox or file, or a tenant policy)',
      });
    }
    if (r.status === 429 && /MailboxConcurrency/i.test(text)) {
      const seconds = retryAfterSeconds(r.headers);
      return new RateLimitedError(
        'Microsoft Graph refused the call: too many requests were running against this mailbox at once (its MailboxConcurrency limit is 4)',
        {
          upstream,
          hint: `Wait ${seconds ?? 'a few'} seconds and try again; other apps using the same mailbox count toward the limit`,
          ...(seconds !== undefined ? { retryAfterSeconds: seconds } : {}),
        },
      );
    }
    if (/MessageSizeExceeded/i.test(text) || (r.status === 413 && /\/(sendMail|messages)\b/.test(r.url))) {
      return new UserInputError(
        'The message is larger than the mailbox allows (the tenant limit, 35 MB by default)',
        {
          upstream,
          hint: 'Send fewer or smaller attachments, or upload the file with ms365_upload_file and share a link',
        },
      );
    }
    if (r.status === 400 && /InefficientFilter|query parameter|\$search|\$filter/i.test(text)) {
      return new UserInputError('Microsoft Graph rejected the query', { upstream });
    }
    return upstreamHttpError(r, {
      throttledHint: (seconds) =>
        `${seconds === undefined ? 'Wait a little' : 'Wait that long'} and try again with fewer calls; Outlook allows 10,000 requests per 10 minutes per mailbox`,
      checkBeforeRetry: whereToCheck(r.url),
    });
  }
}

/** The address in `/users/{address}/…`: a shared mailbox or a delegator's calendar. */
function otherMailbox(url: string): string | undefined {
  const m = /\/users\/([^/?]+)\/(messages|mailFolders|sendMail|events|calendarView|calendar)\b/.exec(
    new URL(url).pathname,
  );
  return m ? decodeURIComponent(m[1]!) : undefined;
}

/**
 * Graph answers 403 ErrorAccessDenied both when the sign-in lacks a .Shared scope and when the user has no right on
 * the mailbox (learn.microsoft.com/graph/outlook-share-messages-folders): say which right this call needed.
 */
function mailboxRefusal(
  mailbox: string,
  url: string,
  sendAsDenied: boolean,
  upstream: UpstreamInfo,
): PermissionError {
  const path = new URL(url).pathname;
  // Sending through /users/{id}/sendMail needs Full Access as well as Send As or Send on Behalf
  // (learn.microsoft.com/graph/outlook-send-mail-from-other-user); ErrorSendAsDenied says only the latter is missing.
  const right = sendAsDenied
    ? 'Send As or Send on Behalf permission on it (given by an Exchange admin)'
    : /\/(sendMail|send|reply|replyAll|forward)$/i.test(path)
      ? 'Full Access and Send As (or Send on Behalf) permission on it (given by an Exchange admin)'
      : /\/(events|calendarView|calendar)\b/i.test(path)
        ? 'a delegate or share permission on its calendar (Outlook: Calendar → Share or Delegate access)'
        : 'Full Access permission on it, or permission on the folder (given by an Exchange admin or the owner in Outlook)';
  return new PermissionError(
    `Microsoft Graph refused access to the mailbox ${mailbox}: the signed-in user needs ${right}`,
    {
      upstream,
      hint: 'Check the address, and that the app was granted the .Shared permissions (Mail.Read.Shared, Mail.Send.Shared, Calendars.ReadWrite.Shared) with --shared-mailboxes at login',
    },
  );
}

/** Where to look before repeating a request that Graph failed but may have carried out. */
function whereToCheck(url: string): string {
  const path = new URL(url).pathname;
  if (/\/(sendMail|send|reply|replyAll|forward)$/i.test(path))
    return 'Check Sent Items (ms365_list_messages, folder sentitems) before sending again, so that the mail does not go out twice';
  if (/\/events$/i.test(path))
    return 'Check the calendar (ms365_list_events) before creating the event again, so that it is not there twice';
  if (/:\/(content|createUploadSession)$/i.test(path))
    return 'Check the folder (ms365_list_files) before uploading again: the file may be there already';
  if (/\/(messages|createReply|createReplyAll|createForward)$/i.test(path))
    return 'Check Drafts (ms365_list_messages, folder drafts) before saving it again, so that it is not there twice';
  if (/\/move$/i.test(path)) return 'Check the destination folder before moving the message again';
  return 'Check whether it took effect before trying it again';
}

/**
 * Whether a failed request may have taken effect all the same: a 5xx, a timeout or a broken connection
 * (an unreachable host counts too: the error does not tell them apart, and checking first is harmless).
 */
export function mayHaveGoneThrough(err: unknown): boolean {
  if (!isSwitchyardError(err) || err.kind !== 'upstream') return false;
  const status = err.upstream?.status;
  return status === undefined || status >= 500;
}
