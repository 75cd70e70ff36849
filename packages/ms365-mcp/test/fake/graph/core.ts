// The fake Graph's state and plumbing: users' mailboxes, drives, sites and events; the bearer check with scopes and
// per-mailbox rights, the mailbox concurrency limit, OData errors and @odata.nextLink paging. Each area's routes are
// in its own file (users, mail, calendar, drive, uploads, sites); ../graph.ts assembles them.
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FakeService, type FakeAuthority, type FakeReply, type FakeRequest } from '@switchyard/testkit';
import { ODataError, select } from '../odata.js';
import { Sharing } from '../sharing.js';
import type { FakeEvent } from './calendar.js';
import { MB, RIGHT, graphId, type Ctx, type MailboxRights } from './common.js';
import { Drive, type FakeItem, type FakeSite, type UploadFault, type UploadSession } from './drive-store.js';
import { Mailbox } from './mailbox.js';

export class GraphCore {
  readonly service: FakeService;
  readonly mailboxes = new Map<string, Mailbox>();
  readonly events = new Map<string, FakeEvent>();
  /** Busy times of people outside the fake's mailboxes (for findMeetingTimes). */
  readonly schedules = new Map<string, Array<{ start: number; end: number }>>();
  readonly drives = new Map<string, Drive>();
  readonly sites: FakeSite[] = [];
  readonly uploads = new Map<string, UploadSession>();
  /** The tenant's message size limit (Exchange default 35 MB). */
  maxMessageBytes = 35 * MB;
  /** Hold each mailbox request this long (to make concurrent calls overlap). */
  latencyMs = 0;
  /** The most mailbox requests seen in flight at once, per user. */
  readonly maxInflight = new Map<string, number>();
  uploadFault: UploadFault | undefined;
  /** Sharing links, invitations and permissions of drive items (fake/sharing.ts). */
  readonly sharing = new Sharing(
    (address) => this.authority.users.get(address),
    (status, code, message) => this.error(status, code, message),
    (d) => d.webUrl.startsWith('https://onedrive.live.com/'),
  );
  /** Rights on other mailboxes, by `owner|delegate` (lower case). */
  readonly rights = new Map<string, MailboxRights>();
  /** Shared mailboxes: directory objects with a mailbox but no sign-in. */
  readonly sharedMailboxes = new Set<string>();
  readonly inflight = new Map<string, number>();
  readonly occurrenceIds = new Map<string, { eventId: string; date: string }>();

  protected constructor(
    service: FakeService,
    readonly authority: FakeAuthority,
  ) {
    this.service = service;
  }

  /** The value for `MS365_GRAPH_URL`. */
  get url(): string {
    return `${this.service.url}/v1.0`;
  }

  close(): Promise<void> {
    return this.service.close();
  }

  mailbox(username: string): Mailbox {
    let mb = this.mailboxes.get(username.toLowerCase());
    if (!mb) {
      const user = this.authority.users.get(username);
      mb = new Mailbox({ name: user?.name ?? username, address: username });
      this.mailboxes.set(username.toLowerCase(), mb);
    }
    return mb;
  }

  /** A shared mailbox (`sales@contoso.com`): it has its own folders and calendar; nobody signs in as it. */
  addSharedMailbox(address: string, name: string): Mailbox {
    const box = new Mailbox({ name, address });
    this.mailboxes.set(address.toLowerCase(), box);
    this.sharedMailboxes.add(address.toLowerCase());
    return box;
  }

  /** Give `delegate` rights on `owner`'s mailbox or calendar (replacing earlier ones). */
  grant(owner: string, delegate: string, rights: MailboxRights): void {
    this.rights.set(`${owner.toLowerCase()}|${delegate.toLowerCase()}`, rights);
  }

  drive(username: string): Drive {
    const key = `me:${username.toLowerCase()}`;
    let d = this.drives.get(key);
    if (!d) {
      d = new Drive(
        `b!${randomBytes(48).toString('base64url')}`,
        'OneDrive',
        `https://contoso-my.sharepoint.com/personal/${username.replace(/\W/g, '_')}/Documents`,
      );
      this.drives.set(key, d);
      this.drives.set(d.id, d);
    }
    return d;
  }

  addSite(host: string, path: string, displayName: string, libraries: string[]): FakeSite {
    const site: FakeSite = {
      id: `${host},${randomUUID()},${randomUUID()}`,
      displayName,
      name: path.split('/').pop()!,
      webUrl: `https://${host}${path}`,
      drives: libraries.map((lib) => {
        const d = new Drive(
          `b!${randomBytes(48).toString('base64url')}`,
          lib,
          `https://${host}${path}/${encodeURIComponent(lib)}`,
        );
        this.drives.set(d.id, d);
        return d;
      }),
    };
    this.sites.push(site);
    return site;
  }

  addEvent(
    owner: string,
    e: Partial<FakeEvent> & { subject: string; start: number; end: number },
  ): FakeEvent {
    const event: FakeEvent = {
      id: graphId(),
      owner: owner.toLowerCase(),
      timeZone: 'UTC',
      isAllDay: false,
      location: '',
      body: '',
      organizer: { name: this.authority.users.get(owner)?.name ?? owner, address: owner },
      attendees: [],
      isOnlineMeeting: false,
      joinUrl: undefined,
      showAs: 'busy',
      cancelledDates: new Set(),
      ...e,
    };
    this.events.set(event.id, event);
    return event;
  }

  error(status: number, code: string, message: string, headers: Record<string, string> = {}): FakeReply {
    return {
      status,
      headers,
      body: {
        error: { code, message, innerError: { 'request-id': randomUUID(), date: new Date().toISOString() } },
      },
    };
  }

  /** Bearer check (with scopes), mailbox concurrency, request ids and OData errors around a handler. */
  guard(
    scopes: string[],
    fn: (
      req: FakeRequest,
      ctx: Ctx,
      raw: { req: IncomingMessage; res: ServerResponse },
    ) => FakeReply | void | Promise<FakeReply | void>,
    options: { mailbox?: boolean } = {},
  ) {
    return async (
      req: FakeRequest,
      raw: { req: IncomingMessage; res: ServerResponse },
    ): Promise<FakeReply | void> => {
      const requestId = randomUUID();
      const check = this.authority.check(req.headers.authorization);
      if (!check.ok) {
        const message = {
          missing: 'Access token is empty.',
          unknown: 'IDX14100: JWT is not well formed.',
          expired: 'Lifetime validation failed, the token is expired.',
        }[check.reason];
        return this.error(401, 'InvalidAuthenticationToken', message, { 'request-id': requestId });
      }
      const token = check.token;
      if (!token.username)
        return this.error(401, 'InvalidAuthenticationToken', 'This API needs a delegated (user) token.');
      let user = token.username.toLowerCase();
      const granted = token.scopes.map((x) => x.toLowerCase());
      let delegate: string | undefined;
      const target = req.params.mailbox?.toLowerCase();
      if (target !== undefined && target !== user) {
        const refused = this.otherMailbox(target, user, granted, scopes);
        if (refused) {
          refused.headers = { 'request-id': requestId, ...refused.headers };
          return refused;
        }
        delegate = user;
        user = target;
      } else if (!scopes.some((s) => granted.includes(s.toLowerCase()))) {
        const code = options.mailbox ? 'ErrorAccessDenied' : 'accessDenied';
        return this.error(
          403,
          code,
          options.mailbox ? 'Access is denied. Check credentials and try again.' : 'Access denied',
          {
            'request-id': requestId,
          },
        );
      }
      const prefer: Record<string, string> = {};
      for (const part of String(req.headers.prefer ?? '').split(',')) {
        const m = /^\s*([\w.]+)\s*=\s*"?([^"]*)"?\s*$/.exec(part);
        if (m) prefer[m[1]!.toLowerCase()] = m[2]!;
      }
      let counted = false;
      if (options.mailbox) {
        const now = (this.inflight.get(user) ?? 0) + 1;
        if (now > 4) {
          return this.error(
            429,
            'ApplicationThrottled',
            'Application is over its MailboxConcurrency limit.',
            {
              'retry-after': '1',
              'request-id': requestId,
            },
          );
        }
        this.inflight.set(user, now);
        this.maxInflight.set(user, Math.max(this.maxInflight.get(user) ?? 0, now));
        counted = true;
      }
      try {
        if (this.latencyMs && options.mailbox) await new Promise((r) => setTimeout(r, this.latencyMs));
        const reply = await fn(req, { user, ...(delegate ? { delegate } : {}), token, prefer }, raw);
        if (reply) reply.headers = { 'request-id': requestId, ...reply.headers };
        return reply;
      } catch (err) {
        if (err instanceof ODataError)
          return this.error(err.status, err.code, err.message, { 'request-id': requestId });
        throw err;
      } finally {
        if (counted) this.inflight.set(user, (this.inflight.get(user) ?? 1) - 1);
      }
    };
  }

  /**
   * Whether the signed-in user may make this call in `owner`'s mailbox, as Graph decides for delegated tokens: the
   * token needs the `.Shared` scope of the call (else 403 ErrorAccessDenied "Access is denied. Check credentials and
   * try again.", the same body as any missing scope or right: github.com/RogerSelwyn/MS365-Mail/issues/5 shows it for
   * /users/{shared}/…), the address must be a mailbox (else 404 ErrorInvalidUser "The requested user '…' is
   * invalid.", as in github.com/microsoftgraph/microsoft-graph-docs/issues/7909), and Exchange must grant the right:
   * Full Access for mail; for sending through `/users/{id}/sendMail`, Full Access and Send As or Send on Behalf
   * (403 ErrorSendAsDenied, body from learn.microsoft.com/graph/outlook-send-mail-from-other-user, Example 2); a
   * calendar share or delegation for events (learn.microsoft.com/graph/outlook-get-shared-events-calendars).
   */
  private otherMailbox(
    owner: string,
    user: string,
    granted: string[],
    scopes: string[],
  ): FakeReply | undefined {
    const denied = () =>
      this.error(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
    if (!scopes.some((s) => granted.includes(`${s}.Shared`.toLowerCase()))) return denied();
    if (!this.sharedMailboxes.has(owner) && !this.authority.users.get(owner))
      return this.error(404, 'ErrorInvalidUser', `The requested user '${owner}' is invalid.`);
    const rights = this.rights.get(`${owner}|${user}`) ?? {};
    switch (RIGHT.get(scopes)) {
      case 'mail.read':
      case 'mail.write':
        return rights.fullAccess ? undefined : denied();
      case 'mail.send':
        if (!rights.fullAccess) return denied();
        return rights.sendAs || rights.sendOnBehalf
          ? undefined
          : this.error(
              403,
              'ErrorSendAsDenied',
              'The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account. Cannot submit message.',
            );
      case 'calendar.read':
        return rights.calendar || rights.fullAccess ? undefined : denied();
      case 'calendar.write':
        return rights.calendar === 'write' || rights.fullAccess ? undefined : denied();
      default:
        return denied();
    }
  }

  /** A page of a collection, with `@odata.nextLink` carrying the whole query plus `$skip` or `$skiptoken`. */
  page(
    req: FakeRequest,
    items: Array<Record<string, unknown>>,
    defaultTop: number,
    style: '$skip' | '$skiptoken' = '$skip',
  ): FakeReply {
    const top = Number(req.query.get('$top') ?? defaultTop);
    if (!Number.isInteger(top) || top < 1 || top > 1000)
      throw new ODataError('BadRequest', `Invalid $top value: ${req.query.get('$top')}`);
    const raw = req.query.get(style);
    const skip =
      raw === null ? 0 : style === '$skip' ? Number(raw) : Number(Buffer.from(raw, 'base64url').toString());
    const value = items.slice(skip, skip + top).map((i) => select(i, req.query));
    const body: Record<string, unknown> = { '@odata.context': `${this.url}/$metadata#collection`, value };
    if (skip + top < items.length) {
      const next = new URLSearchParams(req.url.search);
      next.set(
        style,
        style === '$skip' ? String(skip + top) : Buffer.from(String(skip + top)).toString('base64url'),
      );
      body['@odata.nextLink'] = `${this.service.url}${req.url.pathname}?${next.toString()}`;
    }
    return { body };
  }

  notFound(): FakeReply {
    return this.error(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
  }

  /**
   * Every mail and calendar route also answers as `/users/{id | userPrincipalName}/…` (user-list-messages,
   * message-get, user-sendmail, user-list-calendarview, user-post-events on learn.microsoft.com/graph/api).
   */
  mailRoute(method: string, path: string, handler: Parameters<FakeService['route']>[2]): void {
    this.service.route(method, path, handler);
    this.service.route(method, path.replace('/v1.0/me/', '/v1.0/users/:mailbox/'), handler);
  }

  /** Pre-authenticated download URLs handed out by `/content`, by token. */
  readonly downloads = new Map<string, FakeItem>();
}
