// A stateful Microsoft Graph on testkit's FakeService, speaking the documented wire format: bearer tokens
// checked with FakeAuthority (scopes included), mailboxes whose sent mail lands in Sent Items and whose
// drafts can be sent, folders, attachments with $value and upload sessions, @odata.nextLink paging,
// $search that refuses $filter/$orderby, a calendar view that expands recurring series, findMeetingTimes,
// drives with upload sessions that check chunk sizes and ranges, SharePoint sites and libraries, the
// mailbox concurrency limit, shared mailboxes and delegated calendars under /users/{id}/… with per-mailbox rights,
// and failure injection (FakeService.inject plus upload faults).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  FakeService,
  type FakeAuthority,
  type FakeReply,
  type FakeRequest,
  type IssuedToken,
} from '@switchyard/testkit';
import { ODataError, messageQuery, parseFilter, pick, select } from './odata.js';
import { Sharing } from './sharing.js';
import { fromZone, minutesOfDayIn, toZone, weekdayIn } from './tz.js';

export const MB = 1024 * 1024;
const UNIT = 320 * 1024;
export const CONSUMER_TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';

/** Ids shaped like Graph's: long base64url strings (a message id is 152 characters). */
export function graphId(prefix = 'AAMkAGI2', bytes = 108): string {
  return prefix + randomBytes(bytes).toString('base64url');
}

export interface Addr {
  name?: string;
  address: string;
}

const recipient = (a: Addr) => ({ emailAddress: { name: a.name ?? a.address, address: a.address } });
const fromRecipient = (r: { emailAddress?: { name?: string; address?: string } }): Addr => ({
  address: r.emailAddress?.address ?? '',
  ...(r.emailAddress?.name ? { name: r.emailAddress.name } : {}),
});

export interface FakeAttachment {
  id: string;
  name: string;
  contentType: string;
  bytes: Buffer;
  isInline: boolean;
}

export interface FakeMessage {
  id: string;
  folderId: string;
  subject: string;
  from: Addr;
  /** Who actually sent it, when not `from` (a delegate with Send on Behalf). */
  sender?: Addr;
  to: Addr[];
  cc: Addr[];
  bcc: Addr[];
  received: number;
  sent: number;
  body: { contentType: 'html' | 'text'; content: string };
  isRead: boolean;
  isDraft: boolean;
  importance: 'low' | 'normal' | 'high';
  flagged: boolean;
  attachments: FakeAttachment[];
}

export interface FakeFolder {
  id: string;
  displayName: string;
  parentId: string | undefined;
  wellKnown?: string;
}

const WELL_KNOWN: Array<[string, string]> = [
  ['inbox', 'Inbox'],
  ['drafts', 'Drafts'],
  ['sentitems', 'Sent Items'],
  ['deleteditems', 'Deleted Items'],
  ['archive', 'Archive'],
  ['junkemail', 'Junk Email'],
  ['outbox', 'Outbox'],
];

export class Mailbox {
  readonly root = graphId('AAMkAGI2root', 30);
  readonly folders = new Map<string, FakeFolder>();
  readonly messages = new Map<string, FakeMessage>();

  constructor(readonly owner: Addr) {
    for (const [wellKnown, displayName] of WELL_KNOWN) {
      const id = graphId('AQMkAGI2', 60);
      this.folders.set(id, { id, displayName, parentId: this.root, wellKnown });
    }
  }

  folder(key: string): FakeFolder | undefined {
    const lower = key.toLowerCase();
    return this.folders.get(key) ?? [...this.folders.values()].find((f) => f.wellKnown === lower);
  }

  addFolder(displayName: string, parent?: string): FakeFolder {
    const id = graphId('AQMkAGI2', 60);
    const folder = { id, displayName, parentId: parent ? this.folder(parent)!.id : this.root };
    this.folders.set(id, folder);
    return folder;
  }

  inFolder(key: string): FakeMessage[] {
    const f = this.folder(key);
    return [...this.messages.values()].filter((m) => m.folderId === f?.id);
  }

  add(m: Partial<FakeMessage> & { subject: string }, folder = 'inbox'): FakeMessage {
    const msg: FakeMessage = {
      id: graphId(),
      folderId: this.folder(folder)!.id,
      from: { name: 'Someone', address: 'someone@example.com' },
      to: [this.owner],
      cc: [],
      bcc: [],
      received: Date.now(),
      sent: Date.now(),
      body: { contentType: 'text', content: '' },
      isRead: false,
      isDraft: false,
      importance: 'normal',
      flagged: false,
      attachments: [],
      ...m,
    };
    this.messages.set(msg.id, msg);
    return msg;
  }
}

function stripHtml(html: string): string {
  return html
    .replace(/<(style|script)[\s\S]*?<\/\1>/gi, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function messageJson(m: FakeMessage): Record<string, unknown> {
  const text =
    m.body.contentType === 'html' ? stripHtml(m.body.content) : m.body.content.replace(/\s+/g, ' ').trim();
  return {
    id: m.id,
    subject: m.subject,
    from: recipient(m.from),
    sender: recipient(m.sender ?? m.from),
    toRecipients: m.to.map(recipient),
    ccRecipients: m.cc.map(recipient),
    bccRecipients: m.bcc.map(recipient),
    receivedDateTime: new Date(m.received).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    sentDateTime: new Date(m.sent).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    bodyPreview: text.slice(0, 255),
    body: { contentType: m.body.contentType, content: m.body.content },
    isRead: m.isRead,
    isDraft: m.isDraft,
    hasAttachments: m.attachments.some((a) => !a.isInline),
    importance: m.importance,
    flag: { flagStatus: m.flagged ? 'flagged' : 'notFlagged' },
    parentFolderId: m.folderId,
    conversationId: 'AAQkAGI2conv',
    webLink: `https://outlook.office365.com/owa/?ItemID=${encodeURIComponent(m.id)}&exvsurl=1&viewmodel=ReadMessageItem`,
    internetMessageHeaders: null,
    categories: [],
  };
}

function attachmentJson(a: FakeAttachment): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.fileAttachment',
    id: a.id,
    name: a.name,
    contentType: a.contentType,
    size: a.bytes.length,
    isInline: a.isInline,
    lastModifiedDateTime: new Date().toISOString(),
    contentBytes: a.bytes.toString('base64'),
  };
}

// ---- calendar -----------------------------------------------------------------------------------

export interface FakeEvent {
  id: string;
  owner: string;
  subject: string;
  start: number;
  end: number;
  timeZone: string;
  isAllDay: boolean;
  location: string;
  body: string;
  organizer: Addr;
  attendees: Array<Addr & { type: 'required' | 'optional' }>;
  isOnlineMeeting: boolean;
  joinUrl: string | undefined;
  showAs: 'busy' | 'tentative' | 'free' | 'oof';
  recurrence?: {
    type: 'daily' | 'weekly';
    interval: number;
    daysOfWeek?: number[];
    count?: number;
    until?: number;
  };
  cancelledDates: Set<string>;
}

interface Occurrence {
  event: FakeEvent;
  id: string;
  start: number;
  end: number;
  type: 'singleInstance' | 'occurrence';
}

// ---- drives -------------------------------------------------------------------------------------

export interface FakeItem {
  id: string;
  name: string;
  parentId: string | undefined;
  folder: boolean;
  content: Buffer;
  modified: number;
  /** What Graph's converter renders for `/content?format=pdf` (the fake cannot run Office; a test supplies it). */
  pdfRendition?: Buffer;
}

/**
 * Source types Graph converts with `format=pdf`, from "Download a file in another format"
 * (https://learn.microsoft.com/en-us/graph/api/driveitem-get-content-format): others answer 406 notSupported.
 */
const PDF_SOURCES = new Set(
  'csv doc docx odp ods odt pot potm potx pps ppsx ppsxm ppt pptm pptx rtf xls xlsx'.split(' '),
);

export class Drive {
  readonly items = new Map<string, FakeItem>();
  readonly rootId: string;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly webUrl: string,
  ) {
    this.rootId = this.newId();
    this.items.set(this.rootId, {
      id: this.rootId,
      name: 'root',
      parentId: undefined,
      folder: true,
      content: Buffer.alloc(0),
      modified: Date.now(),
    });
  }

  newId(): string {
    return `01${randomBytes(20).toString('base64url').toUpperCase().replace(/[-_]/g, 'Q').slice(0, 32)}`;
  }

  children(id: string): FakeItem[] {
    return [...this.items.values()]
      .filter((i) => i.parentId === id)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  byPath(path: string, from = this.rootId): FakeItem | undefined {
    let cur = this.items.get(from);
    for (const part of path.split('/').filter(Boolean)) {
      cur = cur && this.children(cur.id).find((c) => c.name.toLowerCase() === part.toLowerCase());
    }
    return cur;
  }

  pathOf(item: FakeItem): string {
    const names: string[] = [];
    let cur = item.parentId ? this.items.get(item.parentId) : undefined;
    while (cur && cur.id !== this.rootId) {
      names.unshift(cur.name);
      cur = cur.parentId ? this.items.get(cur.parentId) : undefined;
    }
    return `/drive/root:${names.length ? `/${names.join('/')}` : ''}`;
  }

  /** Create folders along a path, then put a file there (replacing one of the same name). */
  put(path: string, content: Buffer | string): FakeItem {
    const parts = path.split('/').filter(Boolean);
    const name = parts.pop()!;
    const parent = this.mkdirs(parts.join('/'));
    const existing = this.children(parent.id).find((c) => c.name.toLowerCase() === name.toLowerCase());
    const item: FakeItem = {
      id: existing?.id ?? this.newId(),
      name,
      parentId: parent.id,
      folder: false,
      content: Buffer.from(content),
      modified: Date.now(),
    };
    this.items.set(item.id, item);
    return item;
  }

  mkdirs(path: string): FakeItem {
    let cur = this.items.get(this.rootId)!;
    for (const part of path.split('/').filter(Boolean)) {
      let next = this.children(cur.id).find((c) => c.name.toLowerCase() === part.toLowerCase());
      if (!next) {
        next = {
          id: this.newId(),
          name: part,
          parentId: cur.id,
          folder: true,
          content: Buffer.alloc(0),
          modified: Date.now(),
        };
        this.items.set(next.id, next);
      }
      cur = next;
    }
    return cur;
  }
}

export interface FakeSite {
  id: string;
  displayName: string;
  name: string;
  webUrl: string;
  drives: Drive[];
}

interface UploadSession {
  kind: 'drive' | 'mail';
  token: string;
  size: number;
  received: Buffer[];
  next: number;
  expires: number;
  complete: (content: Buffer) => FakeReply;
}

/** How chunk uploads fail, for interruption tests. */
export interface UploadFault {
  /** Only chunks starting at or after this offset fail. */
  fromOffset: number;
  times: number;
  /** `drop`: the connection closes before the chunk is stored; `after-store`: it is stored, then the answer is lost. */
  mode: 'drop' | 'after-store';
}

interface Ctx {
  /** The mailbox the request works in: the signed-in user's, or the one named by `/users/{id}`. */
  user: string;
  /** The signed-in user, when the request reaches another mailbox through `/users/{id}`. */
  delegate?: string;
  token: IssuedToken;
  prefer: Record<string, string>;
}

const MIME: Record<string, string> = {
  txt: 'text/plain',
  md: 'text/markdown',
  csv: 'text/csv',
  json: 'application/json',
  html: 'text/html',
  pdf: 'application/pdf',
  // OneDrive's MIME types for Office files, as driveItem.file.mimeType reports them.
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  doc: 'application/msword',
  xls: 'application/vnd.ms-excel',
  ppt: 'application/vnd.ms-powerpoint',
  zip: 'application/zip',
  png: 'image/png',
};
const mimeOf = (name: string) =>
  MIME[name.split('.').pop()?.toLowerCase() ?? ''] ?? 'application/octet-stream';

const MAIL_READ = ['Mail.Read', 'Mail.ReadWrite'];
const MAIL_WRITE = ['Mail.ReadWrite'];
const MAIL_SEND = ['Mail.Send'];
const CAL_READ = ['Calendars.Read', 'Calendars.ReadWrite'];
const CAL_WRITE = ['Calendars.ReadWrite'];
const CAL_SHARED = ['Calendars.Read.Shared', 'Calendars.ReadWrite.Shared'];
const FILES_READ = [
  'Files.Read',
  'Files.Read.All',
  'Files.ReadWrite',
  'Files.ReadWrite.All',
  'Sites.Read.All',
];
const FILES_WRITE = ['Files.ReadWrite', 'Files.ReadWrite.All'];
const SITES_READ = ['Sites.Read.All', 'Sites.ReadWrite.All'];

/**
 * What one user may do in another's mailbox, as Exchange grants it: Full Access and Send As (admin), Send on Behalf,
 * and calendar delegation or sharing (the owner, in Outlook). learn.microsoft.com/graph/outlook-share-messages-folders,
 * /graph/outlook-send-mail-from-other-user, /graph/outlook-get-shared-events-calendars.
 */
export interface MailboxRights {
  fullAccess?: boolean;
  sendAs?: boolean;
  sendOnBehalf?: boolean;
  calendar?: 'read' | 'write';
}

/** The mailbox right each kind of `/users/{id}/…` route needs. */
type Right = 'mail.read' | 'mail.write' | 'mail.send' | 'calendar.read' | 'calendar.write';
const RIGHT = new Map<string[], Right>([
  [MAIL_READ, 'mail.read'],
  [MAIL_WRITE, 'mail.write'],
  [MAIL_SEND, 'mail.send'],
  [CAL_READ, 'calendar.read'],
  [CAL_WRITE, 'calendar.write'],
]);

export class FakeGraph {
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
  private readonly inflight = new Map<string, number>();
  private readonly occurrenceIds = new Map<string, { eventId: string; date: string }>();

  private constructor(
    service: FakeService,
    readonly authority: FakeAuthority,
  ) {
    this.service = service;
  }

  static async start(authority: FakeAuthority): Promise<FakeGraph> {
    const service = await FakeService.start('fake Microsoft Graph');
    const graph = new FakeGraph(service, authority);
    graph.install();
    return graph;
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

  // ---- plumbing ---------------------------------------------------------------------------------

  private error(
    status: number,
    code: string,
    message: string,
    headers: Record<string, string> = {},
  ): FakeReply {
    return {
      status,
      headers,
      body: {
        error: { code, message, innerError: { 'request-id': randomUUID(), date: new Date().toISOString() } },
      },
    };
  }

  /** Bearer check (with scopes), mailbox concurrency, request ids and OData errors around a handler. */
  private guard(
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

  /** A delegate with Send on Behalf shows as `sender`; with Send As nothing tells (outlook-send-mail-from-other-user). */
  private stampSender(ctx: Ctx, msg: FakeMessage): void {
    if (!ctx.delegate || this.rights.get(`${ctx.user}|${ctx.delegate}`)?.sendAs) return;
    const user = this.authority.users.get(ctx.delegate);
    msg.sender = { name: user?.name ?? ctx.delegate, address: ctx.delegate };
  }

  /** A page of a collection, with `@odata.nextLink` carrying the whole query plus `$skip` or `$skiptoken`. */
  private page(
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

  private install(): void {
    const s = this.service;
    const v = '/v1.0';
    s.route(
      'GET',
      `${v}/me`,
      this.guard(['User.Read'], (_req, ctx) => {
        const user = this.authority.users.get(ctx.token.username!)!;
        return {
          body: {
            id: user.oid,
            displayName: user.name,
            userPrincipalName: user.username,
            mail: user.username,
          },
        };
      }),
    );

    // ---- mail ----
    const mb = { mailbox: true };
    // Every mail and calendar route also answers as `/users/{id | userPrincipalName}/…` (user-list-messages,
    // message-get, user-sendmail, user-list-calendarview, user-post-events on learn.microsoft.com/graph/api).
    const mailRoute = (method: string, path: string, handler: Parameters<FakeService['route']>[2]) => {
      s.route(method, path, handler);
      s.route(method, path.replace(`${v}/me/`, `${v}/users/:mailbox/`), handler);
    };
    mailRoute(
      'GET',
      `${v}/me/mailFolders`,
      this.guard(MAIL_READ, (req, ctx) => this.listFolders(req, ctx, undefined), mb),
    );
    mailRoute(
      'GET',
      `${v}/me/mailFolders/:folder/childFolders`,
      this.guard(MAIL_READ, (req, ctx) => this.listFolders(req, ctx, req.params.folder), mb),
    );
    mailRoute(
      'GET',
      `${v}/me/mailFolders/:folder/messages`,
      this.guard(MAIL_READ, (req, ctx) => this.listMessages(req, ctx, req.params.folder), mb),
    );
    mailRoute(
      'GET',
      `${v}/me/mailFolders/:folder`,
      this.guard(
        MAIL_READ,
        (req, ctx) => {
          const f = this.mailbox(ctx.user).folder(req.params.folder!);
          return f ? { body: select(this.folderJson(ctx.user, f), req.query) } : this.notFound();
        },
        mb,
      ),
    );
    mailRoute(
      'GET',
      `${v}/me/messages`,
      this.guard(MAIL_READ, (req, ctx) => this.listMessages(req, ctx, undefined), mb),
    );
    mailRoute(
      'POST',
      `${v}/me/messages`,
      this.guard(MAIL_WRITE, (req, ctx) => this.createDraft(req, ctx), mb),
    );
    mailRoute(
      'GET',
      `${v}/me/messages/:id`,
      this.guard(
        MAIL_READ,
        (req, ctx) => {
          const m = this.message(ctx, req.params.id!);
          return m ? { body: select(messageJson(m), req.query) } : this.notFound();
        },
        mb,
      ),
    );
    mailRoute(
      'DELETE',
      `${v}/me/messages/:id`,
      this.guard(
        MAIL_WRITE,
        (req, ctx) => {
          return this.mailbox(ctx.user).messages.delete(req.params.id!) ? { status: 204 } : this.notFound();
        },
        mb,
      ),
    );
    mailRoute(
      'GET',
      `${v}/me/messages/:id/attachments`,
      this.guard(
        MAIL_READ,
        (req, ctx) => {
          const m = this.message(ctx, req.params.id!);
          return m ? this.page(req, m.attachments.map(attachmentJson), 100) : this.notFound();
        },
        mb,
      ),
    );
    mailRoute(
      'GET',
      `${v}/me/messages/:id/attachments/:aid`,
      this.guard(
        MAIL_READ,
        (req, ctx) => {
          const a = this.message(ctx, req.params.id!)?.attachments.find((x) => x.id === req.params.aid);
          return a ? { body: select(attachmentJson(a), req.query) } : this.notFound();
        },
        mb,
      ),
    );
    mailRoute(
      'GET',
      `${v}/me/messages/:id/attachments/:aid/$value`,
      this.guard(
        MAIL_READ,
        (req, ctx) => {
          const a = this.message(ctx, req.params.id!)?.attachments.find((x) => x.id === req.params.aid);
          return a ? { headers: { 'content-type': a.contentType }, body: a.bytes } : this.notFound();
        },
        mb,
      ),
    );
    mailRoute(
      'POST',
      `${v}/me/messages/:id/attachments`,
      this.guard(MAIL_WRITE, (req, ctx) => this.addAttachment(req, ctx), mb),
    );
    mailRoute(
      'POST',
      `${v}/me/messages/:id/attachments/createUploadSession`,
      this.guard(MAIL_WRITE, (req, ctx) => this.mailUploadSession(req, ctx), mb),
    );
    mailRoute(
      'POST',
      `${v}/me/messages/:id/send`,
      this.guard(
        MAIL_SEND,
        (req, ctx) => {
          const m = this.message(ctx, req.params.id!);
          if (!m) return this.notFound();
          if (!m.isDraft) return this.error(400, 'ErrorInvalidRequest', 'Only a draft can be sent.');
          this.mailbox(ctx.user).messages.delete(m.id);
          this.stampSender(ctx, m);
          this.deliver(ctx.user, m, true);
          return { status: 202 };
        },
        mb,
      ),
    );
    mailRoute(
      'POST',
      `${v}/me/sendMail`,
      this.guard(MAIL_SEND, (req, ctx) => this.sendMail(req, ctx), mb),
    );
    mailRoute(
      'POST',
      `${v}/me/messages/:id/move`,
      this.guard(MAIL_WRITE, (req, ctx) => this.move(req, ctx), mb),
    );
    for (const action of ['reply', 'replyAll', 'forward']) {
      mailRoute(
        'POST',
        `${v}/me/messages/:id/${action}`,
        this.guard(MAIL_SEND, (req, ctx) => this.respond(req, ctx, action, false), mb),
      );
      const create = `create${action[0]!.toUpperCase()}${action.slice(1)}`;
      mailRoute(
        'POST',
        `${v}/me/messages/:id/${create}`,
        this.guard(MAIL_WRITE, (req, ctx) => this.respond(req, ctx, action, true), mb),
      );
    }

    // ---- calendar ----
    mailRoute(
      'GET',
      `${v}/me/calendarView`,
      this.guard(CAL_READ, (req, ctx) => this.calendarView(req, ctx), mb),
    );
    mailRoute(
      'GET',
      `${v}/me/events/:id`,
      this.guard(
        CAL_READ,
        (req, ctx) => {
          const found = this.findEvent(ctx, req.params.id!);
          if (!found) return this.notFound();
          return { body: select(this.eventJson(found, ctx), req.query) };
        },
        mb,
      ),
    );
    mailRoute(
      'POST',
      `${v}/me/events`,
      this.guard(CAL_WRITE, (req, ctx) => this.createEvent(req, ctx), mb),
    );
    mailRoute(
      'PATCH',
      `${v}/me/events/:id`,
      this.guard(CAL_WRITE, (req, ctx) => this.updateEvent(req, ctx), mb),
    );
    mailRoute(
      'POST',
      `${v}/me/events/:id/cancel`,
      this.guard(CAL_WRITE, (req, ctx) => this.cancelEvent(req, ctx), mb),
    );
    s.route(
      'POST',
      `${v}/me/findMeetingTimes`,
      this.guard(CAL_SHARED, (req, ctx) => this.findMeetingTimes(req, ctx), mb),
    );

    // ---- drives ----
    for (const method of ['GET', 'PUT', 'POST', 'DELETE']) {
      const scopes = method === 'GET' ? FILES_READ : FILES_WRITE;
      s.route(
        method,
        `${v}/me/drive/*`,
        this.guard(scopes, (req, ctx) =>
          this.driveRequest(req, ctx, this.drive(ctx.user), req.path.slice(`${v}/me/drive/`.length)),
        ),
      );
      s.route(
        method,
        `${v}/drives/:drive/*`,
        this.guard(scopes, (req, ctx) => {
          const d = this.drives.get(req.params.drive!);
          if (!d) return this.error(404, 'itemNotFound', 'The resource could not be found.');
          return this.driveRequest(req, ctx, d, req.path.slice(`${v}/drives/${req.params.drive}/`.length));
        }),
      );
    }
    s.route('GET', '/download/:token', (req) => this.download(req));
    s.route('PUT', '/upload/:kind/:token', (req, raw) => this.uploadChunk(req, raw));
    s.route('GET', '/upload/:kind/:token', (req) => {
      const session = this.uploads.get(req.params.token!);
      if (!session) return this.error(404, 'itemNotFound', 'The upload session was not found.');
      return {
        body: {
          expirationDateTime: new Date(session.expires).toISOString(),
          nextExpectedRanges: [`${session.next}-`],
        },
      };
    });
    s.route('DELETE', '/upload/:kind/:token', (req) => {
      this.uploads.delete(req.params.token!);
      return { status: 204 };
    });

    // ---- SharePoint ----
    s.route(
      'GET',
      `${v}/sites`,
      this.guard(SITES_READ, (req, ctx) => {
        if (ctx.token.tenantId === CONSUMER_TENANT)
          return this.error(400, 'BadRequest', 'Sites are not available for personal Microsoft accounts.');
        const q = (req.query.get('search') ?? '').toLowerCase();
        const found = this.sites.filter(
          (x) => x.displayName.toLowerCase().includes(q) || x.name.toLowerCase().includes(q),
        );
        return this.page(
          req,
          found.map((x) => ({
            id: x.id,
            displayName: x.displayName,
            name: x.name,
            webUrl: x.webUrl,
            createdDateTime: '2020-01-01T00:00:00Z',
            description: '',
          })),
          10,
          '$skiptoken',
        );
      }),
    );
    s.route(
      'GET',
      `${v}/sites/*`,
      this.guard(SITES_READ, (req, ctx) => {
        if (ctx.token.tenantId === CONSUMER_TENANT)
          return this.error(400, 'BadRequest', 'Sites are not available for personal Microsoft accounts.');
        const rest = req.path.slice(`${v}/sites/`.length);
        const m = /^(.+?)(\/drives)?$/.exec(rest)!;
        const key = m[1]!.replace(/:$/, '');
        const site = key.includes(':/')
          ? this.sites.find(
              (x) => x.webUrl.toLowerCase() === `https://${key.replace(':/', '/')}`.toLowerCase(),
            )
          : this.sites.find((x) => x.id === key);
        if (!site) return this.error(404, 'itemNotFound', 'Requested site could not be found');
        if (!m[2])
          return {
            body: select(
              { id: site.id, displayName: site.displayName, name: site.name, webUrl: site.webUrl },
              req.query,
            ),
          };
        return this.page(
          req,
          site.drives.map((d) => ({
            id: d.id,
            name: d.name,
            webUrl: d.webUrl,
            driveType: 'documentLibrary',
            description: '',
          })),
          50,
          '$skiptoken',
        );
      }),
    );
  }

  private notFound(): FakeReply {
    return this.error(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
  }

  // ---- mail handlers ----------------------------------------------------------------------------

  private message(ctx: Ctx, id: string): FakeMessage | undefined {
    return this.mailbox(ctx.user).messages.get(id);
  }

  private folderJson(user: string, f: FakeFolder): Record<string, unknown> {
    const box = this.mailbox(user);
    const msgs = [...box.messages.values()].filter((m) => m.folderId === f.id);
    return {
      id: f.id,
      displayName: f.displayName,
      parentFolderId: f.parentId,
      childFolderCount: [...box.folders.values()].filter((c) => c.parentId === f.id).length,
      unreadItemCount: msgs.filter((m) => !m.isRead).length,
      totalItemCount: msgs.length,
    };
  }

  private listFolders(req: FakeRequest, ctx: Ctx, parentKey: string | undefined): FakeReply {
    const box = this.mailbox(ctx.user);
    const parent = parentKey ? box.folder(parentKey) : { id: box.root };
    if (!parent) return this.notFound();
    const clauses = req.query.get('$filter') ? parseFilter(req.query.get('$filter')!) : [];
    const folders = [...box.folders.values()]
      .filter((f) => f.parentId === parent.id)
      .map((f) => this.folderJson(ctx.user, f))
      .filter((f) => clauses.every((c) => c.test(pick(f, c.property))));
    return this.page(req, folders, 10);
  }

  private listMessages(req: FakeRequest, ctx: Ctx, folderKey: string | undefined): FakeReply {
    const box = this.mailbox(ctx.user);
    const folder = folderKey ? box.folder(folderKey) : undefined;
    if (folderKey && !folder) return this.notFound();
    const { predicate } = messageQuery(req.query);
    const list = [...box.messages.values()]
      .filter((m) => !folder || m.folderId === folder.id)
      .sort((a, b) => b.received - a.received)
      .map(messageJson)
      .filter(predicate);
    return this.page(req, list, 10);
  }

  private size(m: FakeMessage): number {
    return m.attachments.reduce((n, a) => n + a.bytes.length, 0) + m.body.content.length;
  }

  private fromBody(body: Record<string, unknown>, owner: Addr, folderId: string): FakeMessage {
    const list = (k: string) =>
      ((body[k] as Array<{ emailAddress?: { address?: string; name?: string } }>) ?? []).map(fromRecipient);
    const b = (body.body as { contentType?: string; content?: string }) ?? {};
    return {
      id: graphId(),
      folderId,
      subject: String(body.subject ?? ''),
      from: owner,
      to: list('toRecipients'),
      cc: list('ccRecipients'),
      bcc: list('bccRecipients'),
      received: Date.now(),
      sent: Date.now(),
      body: {
        contentType: b.contentType?.toLowerCase() === 'html' ? 'html' : 'text',
        content: b.content ?? '',
      },
      isRead: true,
      isDraft: true,
      importance: 'normal',
      flagged: false,
      attachments: (
        (body.attachments as Array<{ name?: string; contentBytes?: string; contentType?: string }>) ?? []
      ).map((a) => ({
        id: graphId('AAMkAGI2att', 150),
        name: a.name ?? 'attachment',
        contentType: a.contentType ?? mimeOf(a.name ?? ''),
        bytes: Buffer.from(a.contentBytes ?? '', 'base64'),
        isInline: false,
      })),
    };
  }

  private createDraft(req: FakeRequest, ctx: Ctx): FakeReply {
    const box = this.mailbox(ctx.user);
    const msg = this.fromBody(req.json<Record<string, unknown>>() ?? {}, box.owner, box.folder('drafts')!.id);
    box.messages.set(msg.id, msg);
    return { status: 201, body: messageJson(msg) };
  }

  /** Put a sent message in Sent Items and a copy in each recipient's inbox that this fake holds. */
  private deliver(user: string, msg: FakeMessage, saveToSent: boolean): void {
    const box = this.mailbox(user);
    msg.isDraft = false;
    msg.sent = msg.received = Date.now();
    if (saveToSent) {
      msg.folderId = box.folder('sentitems')!.id;
      box.messages.set(msg.id, msg);
    }
    for (const r of [...msg.to, ...msg.cc, ...msg.bcc]) {
      const other = this.mailboxes.get(r.address.toLowerCase());
      if (other && other !== box) {
        other.add({
          ...msg,
          id: graphId(),
          folderId: other.folder('inbox')!.id,
          isRead: false,
          bcc: [],
          attachments: msg.attachments.map((a) => ({ ...a })),
        });
      }
    }
  }

  private sendMail(req: FakeRequest, ctx: Ctx): FakeReply {
    if (req.body.length > 4 * MB)
      return this.error(413, 'RequestBodyTooLarge', 'The maximum request length supported is 4MB.');
    const body = req.json<{ message?: Record<string, unknown>; saveToSentItems?: boolean }>();
    if (!body?.message) return this.error(400, 'ErrorInvalidRequest', 'The message is missing.');
    const box = this.mailbox(ctx.user);
    const msg = this.fromBody(body.message, box.owner, box.folder('drafts')!.id);
    if (msg.to.length + msg.cc.length + msg.bcc.length === 0)
      return this.error(400, 'ErrorInvalidRecipients', 'At least one recipient is not valid.');
    if (this.size(msg) > this.maxMessageBytes)
      return this.error(413, 'ErrorMessageSizeExceeded', 'The message exceeds the maximum supported size.');
    this.stampSender(ctx, msg);
    this.deliver(ctx.user, msg, body.saveToSentItems !== false);
    return { status: 202 };
  }

  private addAttachment(req: FakeRequest, ctx: Ctx): FakeReply {
    const msg = this.message(ctx, req.params.id!);
    if (!msg) return this.notFound();
    const a = req.json<{ name?: string; contentBytes?: string; contentType?: string }>() ?? {};
    const bytes = Buffer.from(a.contentBytes ?? '', 'base64');
    if (bytes.length >= 3 * MB)
      return this.error(
        413,
        'RequestBodyTooLarge',
        'Attach files of 3 MB or more through an upload session.',
      );
    if (this.size(msg) + bytes.length > this.maxMessageBytes)
      return this.error(413, 'ErrorMessageSizeExceeded', 'The message exceeds the maximum supported size.');
    const att = {
      id: graphId('AAMkAGI2att', 150),
      name: a.name ?? 'attachment',
      contentType: a.contentType ?? mimeOf(a.name ?? ''),
      bytes,
      isInline: false,
    };
    msg.attachments.push(att);
    return { status: 201, body: attachmentJson(att) };
  }

  private mailUploadSession(req: FakeRequest, ctx: Ctx): FakeReply {
    const msg = this.message(ctx, req.params.id!);
    if (!msg) return this.notFound();
    const item = req.json<{ AttachmentItem?: { attachmentType?: string; name?: string; size?: number } }>()
      ?.AttachmentItem;
    if (!item?.name || !item.size)
      return this.error(400, 'ErrorInvalidRequest', 'AttachmentItem needs a name and a size.');
    if (item.size < 3 * MB)
      return this.error(
        400,
        'ErrorAttachmentSizeShouldNotBeLessThanMinimumSize',
        'Attachment size must be greater than the minimum size.',
      );
    if (this.size(msg) + item.size > this.maxMessageBytes)
      return this.error(413, 'ErrorMessageSizeExceeded', 'The message exceeds the maximum supported size.');
    const name = item.name;
    const session = this.newSession('mail', item.size, (content) => {
      msg.attachments.push({
        id: graphId('AAMkAGI2att', 150),
        name,
        contentType: mimeOf(name),
        bytes: content,
        isInline: false,
      });
      return { status: 201, headers: { location: `${this.url}/me/messages/${msg.id}/attachments` } };
    });
    return {
      status: 201,
      body: {
        uploadUrl: `${this.service.url}/upload/mail/${session.token}?sig=${randomBytes(16).toString('hex')}`,
        expirationDateTime: new Date(session.expires).toISOString(),
        nextExpectedRanges: ['0-'],
      },
    };
  }

  private move(req: FakeRequest, ctx: Ctx): FakeReply {
    const box = this.mailbox(ctx.user);
    const msg = box.messages.get(req.params.id!);
    if (!msg) return this.notFound();
    const dest = box.folder(req.json<{ destinationId?: string }>()?.destinationId ?? '');
    if (!dest) return this.error(400, 'ErrorInvalidIdMalformed', 'Id is malformed.');
    msg.folderId = dest.id;
    // Without immutable ids, a moved message gets a new id (as Outlook does).
    if (ctx.prefer.idtype !== 'ImmutableId') {
      box.messages.delete(msg.id);
      msg.id = graphId();
      box.messages.set(msg.id, msg);
    }
    return { status: 201, body: messageJson(msg) };
  }

  private respond(req: FakeRequest, ctx: Ctx, action: string, asDraft: boolean): FakeReply {
    const box = this.mailbox(ctx.user);
    const original = box.messages.get(req.params.id!);
    if (!original) return this.notFound();
    const body =
      req.json<{ comment?: string; toRecipients?: Array<{ emailAddress?: { address?: string } }> }>() ?? {};
    const extra = (body.toRecipients ?? []).map(fromRecipient);
    const me = box.owner.address.toLowerCase();
    let to: Addr[];
    let cc: Addr[] = [];
    if (action === 'forward') {
      if (!asDraft && extra.length === 0)
        return this.error(400, 'ErrorInvalidRecipients', 'At least one recipient is not valid.');
      to = extra;
    } else {
      to = [original.from, ...extra];
      if (action === 'replyAll') {
        to.push(...original.to.filter((r) => r.address.toLowerCase() !== me));
        cc = original.cc.filter((r) => r.address.toLowerCase() !== me);
      }
    }
    const prefix = action === 'forward' ? 'FW: ' : 'RE: ';
    const quoted =
      original.body.contentType === 'html' ? original.body.content : `<pre>${original.body.content}</pre>`;
    const msg: FakeMessage = {
      ...original,
      id: graphId(),
      folderId: box.folder('drafts')!.id,
      subject: prefix + original.subject.replace(/^(RE|FW): /i, ''),
      from: box.owner,
      to,
      cc,
      bcc: [],
      body: { contentType: 'html', content: `<p>${body.comment ?? ''}</p><hr>${quoted}` },
      isDraft: true,
      isRead: true,
      attachments: action === 'forward' ? original.attachments.map((a) => ({ ...a })) : [],
    };
    if (asDraft) {
      box.messages.set(msg.id, msg);
      return { status: 201, body: messageJson(msg) };
    }
    this.stampSender(ctx, msg);
    this.deliver(ctx.user, msg, true);
    return { status: 202 };
  }

  // ---- calendar handlers ------------------------------------------------------------------------

  private occurrences(event: FakeEvent, from: number, to: number): Occurrence[] {
    if (!event.recurrence) {
      return event.start < to && event.end > from
        ? [{ event, id: event.id, start: event.start, end: event.end, type: 'singleInstance' }]
        : [];
    }
    const r = event.recurrence;
    const out: Occurrence[] = [];
    const zone = event.timeZone;
    const startLocal = toZone(event.start, zone);
    const duration = event.end - event.start;
    const time = startLocal.slice(10, 19);
    const day0 = Date.UTC(
      Number(startLocal.slice(0, 4)),
      Number(startLocal.slice(5, 7)) - 1,
      Number(startLocal.slice(8, 10)),
    );
    let count = 0;
    for (let d = 0; d < 3660; d++) {
      const dayMs = day0 + d * 86_400_000;
      const weekday = new Date(dayMs).getUTCDay();
      const due =
        r.type === 'daily'
          ? d % r.interval === 0
          : Math.floor(d / 7) % r.interval === 0 &&
            (r.daysOfWeek ?? [weekdayIn(event.start, zone)]).includes(weekday);
      if (!due) continue;
      const date = new Date(dayMs).toISOString().slice(0, 10);
      const start = fromZone(`${date}${time}`, zone);
      if (r.until !== undefined && start > r.until) break;
      if (r.count !== undefined && count >= r.count) break;
      count++;
      if (start >= to) break;
      if (start + duration <= from || event.cancelledDates.has(date)) continue;
      const id = `AAMkAGI2occ${createHash('sha256').update(`${event.id}|${date}`).digest('base64url')}${event.id.slice(54)}`;
      this.occurrenceIds.set(id, { eventId: event.id, date });
      out.push({ event, id, start, end: start + duration, type: 'occurrence' });
    }
    return out;
  }

  private findEvent(ctx: Ctx, id: string): Occurrence | undefined {
    const direct = this.events.get(id);
    if (direct && direct.owner === ctx.user)
      return {
        event: direct,
        id,
        start: direct.start,
        end: direct.end,
        type: direct.recurrence ? 'occurrence' : 'singleInstance',
      };
    const occ = this.occurrenceIds.get(id);
    const event = occ && this.events.get(occ.eventId);
    if (!occ || !event || event.owner !== ctx.user || event.cancelledDates.has(occ.date)) return undefined;
    const start = fromZone(`${occ.date}${toZone(event.start, event.timeZone).slice(10, 19)}`, event.timeZone);
    return { event, id, start, end: start + event.end - event.start, type: 'occurrence' };
  }

  private eventJson(o: Occurrence, ctx: Ctx): Record<string, unknown> {
    const zone = ctx.prefer['outlook.timezone'] || 'UTC';
    const e = o.event;
    const isOrganizer = e.organizer.address.toLowerCase() === ctx.user;
    return {
      id: o.id,
      subject: e.subject,
      start: { dateTime: toZone(o.start, zone), timeZone: zone },
      end: { dateTime: toZone(o.end, zone), timeZone: zone },
      location: { displayName: e.location, locationType: 'default' },
      organizer: recipient(e.organizer),
      attendees: e.attendees.map((a) => ({
        type: a.type,
        status: { response: 'none', time: '0001-01-01T00:00:00Z' },
        ...recipient(a),
      })),
      isAllDay: e.isAllDay,
      isCancelled: false,
      isOrganizer,
      showAs: e.showAs,
      isOnlineMeeting: e.isOnlineMeeting,
      onlineMeeting: e.joinUrl ? { joinUrl: e.joinUrl } : null,
      type: o.type,
      seriesMasterId: o.type === 'occurrence' ? e.id : null,
      responseStatus: { response: isOrganizer ? 'organizer' : 'notResponded', time: '0001-01-01T00:00:00Z' },
      body: { contentType: 'text', content: e.body },
      bodyPreview: e.body.slice(0, 255),
      webLink: `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(o.id)}&exvsurl=1&path=/calendar/item`,
    };
  }

  private calendarView(req: FakeRequest, ctx: Ctx): FakeReply {
    const from = Date.parse(req.query.get('startDateTime') ?? '');
    const to = Date.parse(req.query.get('endDateTime') ?? '');
    if (Number.isNaN(from) || Number.isNaN(to)) {
      return this.error(
        400,
        'ErrorInvalidParameter',
        'This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.',
      );
    }
    const list = [...this.events.values()]
      .filter((e) => e.owner === ctx.user)
      .flatMap((e) => this.occurrences(e, from, to))
      .sort((a, b) => a.start - b.start)
      .map((o) => this.eventJson(o, ctx));
    return this.page(req, list, 10, '$skip');
  }

  private parseTime(t: { dateTime?: string; timeZone?: string } | undefined): number | undefined {
    if (!t?.dateTime) return undefined;
    return fromZone(t.dateTime, t.timeZone || 'UTC');
  }

  private createEvent(req: FakeRequest, ctx: Ctx): FakeReply {
    const b = req.json<Record<string, unknown>>() ?? {};
    const start = this.parseTime(b.start as { dateTime?: string; timeZone?: string });
    const end = this.parseTime(b.end as { dateTime?: string; timeZone?: string });
    if (start === undefined || end === undefined)
      return this.error(400, 'ErrorInvalidRequest', 'Start and end are required.');
    if (end <= start)
      return this.error(400, 'ErrorInvalidRequest', 'The end of the event must be after its start.');
    const attendees = (
      (b.attendees as Array<{ type?: string; emailAddress?: { address?: string; name?: string } }>) ?? []
    ).map((a) => ({
      ...fromRecipient(a),
      type: (a.type === 'optional' ? 'optional' : 'required') as 'required' | 'optional',
    }));
    const event = this.addEvent(ctx.user, {
      subject: String(b.subject ?? ''),
      start,
      end,
      timeZone: (b.start as { timeZone?: string }).timeZone || 'UTC',
      isAllDay: b.isAllDay === true,
      location: (b.location as { displayName?: string })?.displayName ?? '',
      body: (b.body as { content?: string })?.content ?? '',
      attendees,
      isOnlineMeeting: b.isOnlineMeeting === true,
      joinUrl: b.isOnlineMeeting
        ? `https://teams.microsoft.com/l/meetup-join/19%3ameeting_${randomBytes(12).toString('hex')}%40thread.v2/0`
        : undefined,
    });
    return {
      status: 201,
      body: this.eventJson({ event, id: event.id, start, end, type: 'singleInstance' }, ctx),
    };
  }

  private updateEvent(req: FakeRequest, ctx: Ctx): FakeReply {
    const found = this.findEvent(ctx, req.params.id!);
    if (!found) return this.notFound();
    const e = found.event;
    const b = req.json<Record<string, unknown>>() ?? {};
    if (b.subject !== undefined) e.subject = String(b.subject);
    const start = this.parseTime(b.start as { dateTime?: string; timeZone?: string });
    const end = this.parseTime(b.end as { dateTime?: string; timeZone?: string });
    if (start !== undefined) {
      const length = e.end - e.start;
      e.start = start;
      if (end === undefined) e.end = start + length;
      e.timeZone = (b.start as { timeZone?: string }).timeZone || e.timeZone;
    }
    if (end !== undefined) e.end = end;
    if (e.end <= e.start)
      return this.error(400, 'ErrorInvalidRequest', 'The end of the event must be after its start.');
    if (b.location !== undefined) e.location = (b.location as { displayName?: string }).displayName ?? '';
    if (b.body !== undefined) e.body = (b.body as { content?: string }).content ?? '';
    if (b.isOnlineMeeting !== undefined) {
      e.isOnlineMeeting = b.isOnlineMeeting === true;
      e.joinUrl = e.isOnlineMeeting
        ? (e.joinUrl ?? `https://teams.microsoft.com/l/meetup-join/${randomBytes(8).toString('hex')}`)
        : undefined;
    }
    if (b.attendees !== undefined) {
      e.attendees = (
        b.attendees as Array<{ type?: string; emailAddress?: { address?: string; name?: string } }>
      ).map((a) => ({
        ...fromRecipient(a),
        type: a.type === 'optional' ? 'optional' : 'required',
      }));
    }
    return { body: this.eventJson({ ...found, start: e.start, end: e.end }, ctx) };
  }

  private cancelEvent(req: FakeRequest, ctx: Ctx): FakeReply {
    const found = this.findEvent(ctx, req.params.id!);
    if (!found) return this.notFound();
    const e = found.event;
    if (e.organizer.address.toLowerCase() !== ctx.user) {
      return this.error(
        400,
        'ErrorInvalidRequest',
        "Your request can't be completed. You need to be an organizer to cancel a meeting.",
      );
    }
    const comment = req.json<{ Comment?: string }>()?.Comment ?? '';
    const occ = this.occurrenceIds.get(found.id);
    if (occ) e.cancelledDates.add(occ.date);
    else this.events.delete(e.id);
    if (e.attendees.length > 0) {
      const box = this.mailbox(ctx.user);
      const notice = box.add(
        {
          subject: `Canceled: ${e.subject}`,
          from: box.owner,
          to: e.attendees,
          body: { contentType: 'text', content: comment },
          isRead: true,
        },
        'sentitems',
      );
      this.deliver(ctx.user, notice, true);
    }
    return { status: 202 };
  }

  private busy(
    address: string,
    from: number,
    to: number,
  ): Array<{ start: number; end: number; showAs: string }> {
    const own = [...this.events.values()]
      .filter(
        (e) =>
          e.owner === address.toLowerCase() ||
          e.attendees.some((a) => a.address.toLowerCase() === address.toLowerCase()),
      )
      .flatMap((e) =>
        this.occurrences(e, from, to).map((o) => ({ start: o.start, end: o.end, showAs: e.showAs })),
      );
    const external = (this.schedules.get(address.toLowerCase()) ?? []).map((x) => ({ ...x, showAs: 'busy' }));
    return [...own, ...external].filter((x) => x.showAs !== 'free');
  }

  private findMeetingTimes(req: FakeRequest, ctx: Ctx): FakeReply {
    if (ctx.token.tenantId === CONSUMER_TENANT)
      return this.error(403, 'ErrorAccessDenied', 'findMeetingTimes is not supported for personal accounts.');
    const b = req.json<{
      attendees?: Array<{ emailAddress?: { address?: string } }>;
      timeConstraint?: {
        activityDomain?: string;
        timeSlots?: Array<{
          start: { dateTime: string; timeZone: string };
          end: { dateTime: string; timeZone: string };
        }>;
      };
      meetingDuration?: string;
      maxCandidates?: number;
      minimumAttendeePercentage?: number;
    }>();
    const slot = b?.timeConstraint?.timeSlots?.[0];
    if (!slot) return this.error(400, 'ErrorInvalidRequest', 'timeConstraint.timeSlots is required.');
    const zone = ctx.prefer['outlook.timezone'] || 'UTC';
    const from = fromZone(slot.start.dateTime, slot.start.timeZone);
    const to = fromZone(slot.end.dateTime, slot.end.timeZone);
    const minutes = Number(
      /PT(?:(\d+)H)?(?:(\d+)M)?/
        .exec(b?.meetingDuration ?? 'PT30M')!
        .slice(1)
        .reduce((n, x, i) => n + Number(x ?? 0) * (i === 0 ? 60 : 1), 0),
    );
    const work = (b?.timeConstraint?.activityDomain ?? 'work') === 'work';
    const people = (b?.attendees ?? []).map((a) => a.emailAddress?.address ?? '');
    const step = 30 * 60_000;
    const suggestions = [];
    for (let t = Math.ceil(from / step) * step; t + minutes * 60_000 <= to; t += step) {
      const end = t + minutes * 60_000;
      if (work) {
        const wd = weekdayIn(t, zone);
        const m0 = minutesOfDayIn(t, zone);
        if (wd === 0 || wd === 6 || m0 < 8 * 60 || m0 + minutes > 17 * 60) continue;
      }
      const overlaps = (address: string) =>
        this.busy(address, t, end).some((x) => x.start < end && x.end > t);
      if (overlaps(ctx.user)) continue;
      const availability = people.map((p) => ({
        attendee: { type: 'required', emailAddress: { address: p } },
        availability: overlaps(p) ? 'busy' : 'free',
      }));
      const free = availability.filter((a) => a.availability === 'free').length;
      const confidence = people.length ? (100 * free) / people.length : 100;
      if (confidence < (b?.minimumAttendeePercentage ?? 50)) continue;
      suggestions.push({
        confidence,
        organizerAvailability: 'free',
        attendeeAvailability: availability,
        locations: [],
        suggestionReason:
          confidence === 100
            ? 'Suggested because it is one of the nearest times when all attendees are available.'
            : 'Suggested because it is one of the nearest times when most attendees are available.',
        meetingTimeSlot: {
          start: { dateTime: toZone(t, zone), timeZone: zone },
          end: { dateTime: toZone(end, zone), timeZone: zone },
        },
      });
    }
    suggestions.sort((x, y) => y.confidence - x.confidence);
    const picked = suggestions.slice(0, b?.maxCandidates ?? 5);
    return {
      body: {
        emptySuggestionsReason: picked.length ? '' : 'AttendeesUnavailable',
        meetingTimeSuggestions: picked,
      },
    };
  }

  // ---- drive handlers ---------------------------------------------------------------------------

  private itemJson(d: Drive, i: FakeItem): Record<string, unknown> {
    return {
      id: i.id,
      name: i.name,
      size: i.folder ? d.children(i.id).reduce((n, c) => n + c.content.length, 0) : i.content.length,
      lastModifiedDateTime: new Date(i.modified).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      createdDateTime: new Date(i.modified).toISOString(),
      webUrl: `${d.webUrl}/${encodeURIComponent(i.name)}`,
      eTag: `"{${randomUUID()}},1"`,
      parentReference: { driveId: d.id, driveType: 'business', id: i.parentId, path: d.pathOf(i) },
      ...(i.folder
        ? { folder: { childCount: d.children(i.id).length } }
        : { file: { mimeType: mimeOf(i.name), hashes: { quickXorHash: 'AAAA' } } }),
    };
  }

  private driveRequest(req: FakeRequest, ctx: Ctx, d: Drive, rest: string): FakeReply | Promise<FakeReply> {
    void ctx;
    const m =
      /^(root|items\/([^/:]+))(?::(\/[^:]*):?)?(\/(children|content|createUploadSession|createLink|invite|permissions(?:\/([^/]+))?|search\(q='((?:[^']|'')*)'\)))?$/.exec(
        rest,
      );
    if (!m) return this.error(400, 'invalidRequest', `Unsupported drive address ${rest}`);
    const [, , itemId, relPath, , rawAction, permissionId, q] = m;
    const action = rawAction?.startsWith('permissions') ? 'permissions' : rawAction;
    const base = itemId ? d.items.get(itemId) : d.items.get(d.rootId);
    const target = base && relPath ? d.byPath(relPath, base.id) : base;
    const notFound = () => this.error(404, 'itemNotFound', 'The resource could not be found.');

    if (req.method === 'PUT' && action === 'content') return this.simpleUpload(req, d, base, relPath);
    if (req.method === 'POST' && action === 'createUploadSession')
      return this.driveUploadSession(req, d, base, relPath);
    if (target && req.method === 'POST' && action === 'createLink')
      return this.sharing.createLink(req, d, target);
    if (target && req.method === 'POST' && action === 'invite') return this.sharing.invite(req, target);
    if (target && action === 'permissions') {
      // driveItem: list permissions / permission: get (learn.microsoft.com/graph/api/driveitem-list-permissions,
      // /graph/api/permission-get) and permission: delete.
      if (req.method === 'DELETE' && permissionId)
        return this.sharing.remove(d, target, decodeURIComponent(permissionId));
      const all = this.sharing.all(d, target);
      if (req.method === 'GET' && permissionId) {
        const p = all.find((x) => x.id === decodeURIComponent(permissionId));
        return p ? { body: select(p, req.query) } : notFound();
      }
      if (req.method === 'GET') return this.page(req, all, 200, '$skiptoken');
    }
    if (req.method !== 'GET') return this.error(405, 'invalidRequest', 'Method not allowed.');
    if (action?.startsWith('search(')) {
      const needle = (q ?? '').replace(/''/g, "'").toLowerCase();
      const hits = [...d.items.values()]
        .filter(
          (i) =>
            i.id !== d.rootId &&
            (i.name.toLowerCase().includes(needle) ||
              (!i.folder && i.content.toString('utf8').toLowerCase().includes(needle))),
        )
        .map((i) => this.itemJson(d, i));
      return this.page(req, hits, 200, '$skiptoken');
    }
    if (!target) return notFound();
    if (action === 'children') {
      if (!target.folder) return this.error(400, 'invalidRequest', 'The item is not a folder.');
      return this.page(
        req,
        d.children(target.id).map((i) => this.itemJson(d, i)),
        200,
        '$skiptoken',
      );
    }
    if (action === 'content') {
      if (target.folder) return this.error(400, 'invalidRequest', 'A folder has no content.');
      let served = target;
      const format = req.query.get('format');
      if (format !== null) {
        // Converted content answers 302 to the rendition, like the original (driveitem-get-content-format).
        const ext = target.name.split('.').pop()?.toLowerCase() ?? '';
        if (format !== 'pdf' || !PDF_SOURCES.has(ext) || !target.pdfRendition)
          return this.error(406, 'notSupported', `Conversion of this item to ${format} is not supported.`);
        served = { ...target, name: target.name.replace(/\.[^.]*$/, '.pdf'), content: target.pdfRendition };
      }
      const token = randomBytes(16).toString('hex');
      this.downloads.set(token, served);
      return {
        status: 302,
        headers: {
          location: `${this.service.url}/download/${token}?tempauth=${randomBytes(24).toString('hex')}`,
        },
      };
    }
    return { body: select(this.itemJson(d, target), req.query) };
  }

  private readonly downloads = new Map<string, FakeItem>();

  private download(req: FakeRequest): FakeReply {
    const item = this.downloads.get(req.params.token!);
    if (!item) return this.error(401, 'unauthenticated', 'The download URL has expired.');
    const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
    if (range) {
      const start = Number(range[1]);
      const end = Math.min(range[2] ? Number(range[2]) : item.content.length - 1, item.content.length - 1);
      return {
        status: 206,
        headers: {
          'content-range': `bytes ${start}-${end}/${item.content.length}`,
          'content-type': mimeOf(item.name),
        },
        body: item.content.subarray(start, end + 1),
      };
    }
    return { headers: { 'content-type': mimeOf(item.name) }, body: item.content };
  }

  /** Where a new file goes, honouring `@microsoft.graph.conflictBehavior`. */
  private place(
    d: Drive,
    base: FakeItem | undefined,
    relPath: string | undefined,
    behavior: string,
  ): { path: string } | FakeReply {
    if (!base || !relPath) return this.error(400, 'invalidRequest', 'Upload to a path (root:/folder/name:).');
    const baseDir =
      base.id === d.rootId ? '' : `${d.pathOf(base).replace(/^\/drive\/root:\/?/, '')}/${base.name}`;
    const parts = [baseDir, ...relPath.split('/')].filter(Boolean).join('/').split('/');
    const name = parts.pop()!;
    const folder = parts.join('/');
    const parent = d.byPath(folder);
    const taken = (n: string) =>
      Boolean(parent && d.children(parent.id).some((c) => c.name.toLowerCase() === n.toLowerCase()));
    if (!taken(name) || behavior === 'replace') return { path: `${folder}/${name}` };
    if (behavior === 'fail')
      return this.error(409, 'nameAlreadyExists', 'The specified item name already exists.');
    const dot = name.lastIndexOf('.');
    for (let n = 1; ; n++) {
      const candidate = dot > 0 ? `${name.slice(0, dot)} ${n}${name.slice(dot)}` : `${name} ${n}`;
      if (!taken(candidate)) return { path: `${folder}/${candidate}` };
    }
  }

  private simpleUpload(
    req: FakeRequest,
    d: Drive,
    base: FakeItem | undefined,
    relPath: string | undefined,
  ): FakeReply {
    if (req.body.length > 4 * MB)
      return this.error(413, 'requestTooLarge', 'Use an upload session for files over 4 MB.');
    const placed = this.place(
      d,
      base,
      relPath,
      req.query.get('@microsoft.graph.conflictBehavior') ?? 'replace',
    );
    if (!('path' in placed)) return placed;
    const item = d.put(placed.path, req.body);
    return { status: 201, body: this.itemJson(d, item) };
  }

  private driveUploadSession(
    req: FakeRequest,
    d: Drive,
    base: FakeItem | undefined,
    relPath: string | undefined,
  ): FakeReply {
    const behavior =
      req.json<{ item?: Record<string, string> }>()?.item?.['@microsoft.graph.conflictBehavior'] ?? 'replace';
    const placed = this.place(d, base, relPath, behavior);
    if (!('path' in placed)) return placed;
    const session = this.newSession('drive', -1, (content) => {
      const item = d.put(placed.path, content);
      return { status: 201, body: this.itemJson(d, item) };
    });
    return {
      body: {
        uploadUrl: `${this.service.url}/upload/drive/${session.token}?tempauth=${randomBytes(24).toString('hex')}`,
        expirationDateTime: new Date(session.expires).toISOString(),
        nextExpectedRanges: ['0-'],
      },
    };
  }

  private newSession(
    kind: 'drive' | 'mail',
    size: number,
    complete: (content: Buffer) => FakeReply,
  ): UploadSession {
    const session: UploadSession = {
      kind,
      token: randomBytes(16).toString('hex'),
      size,
      received: [],
      next: 0,
      expires: Date.now() + 3_600_000,
      complete,
    };
    this.uploads.set(session.token, session);
    return session;
  }

  /** A chunk to an upload session: Content-Range checked, OneDrive's 320 KiB rule, Outlook's 4 MB cap. */
  private uploadChunk(
    req: FakeRequest,
    raw: { req: IncomingMessage; res: ServerResponse },
  ): FakeReply | void {
    const session = this.uploads.get(req.params.token!);
    if (!session) return this.error(404, 'itemNotFound', 'The upload session was not found or has expired.');
    if (req.headers.authorization) {
      return this.error(
        401,
        'unauthenticated',
        'Do not send an Authorization header to a pre-authenticated upload URL.',
      );
    }
    const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(req.headers['content-range'] ?? ''));
    if (!m) return this.error(400, 'invalidRequest', 'A Content-Range header is required.');
    const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (session.size === -1) session.size = total;
    if (total !== session.size)
      return this.error(400, 'invalidRequest', 'The total size does not match the session.');
    if (req.body.length !== end - start + 1)
      return this.error(400, 'invalidRequest', 'The body length does not match Content-Range.');
    if (start !== session.next) {
      return this.error(
        416,
        'invalidRange',
        `The fragment starts at ${start}, but the session expects ${session.next}.`,
      );
    }
    const last = end + 1 === total;
    if (session.kind === 'drive') {
      if (!last && req.body.length % UNIT !== 0)
        return this.error(400, 'invalidRequest', 'Fragments must be a multiple of 320 KiB.');
      if (req.body.length > 60 * MB)
        return this.error(413, 'requestTooLarge', 'Fragments must be smaller than 60 MiB.');
    } else if (req.body.length > 4 * MB) {
      return this.error(413, 'RequestBodyTooLarge', 'Attachment upload chunks must be at most 4 MB.');
    }
    const fault = this.uploadFault;
    const failing = fault !== undefined && fault.times > 0 && start >= fault.fromOffset;
    if (failing) fault.times--;
    if (failing && fault.mode === 'drop') {
      raw.req.socket.destroy();
      return;
    }
    session.received.push(req.body);
    session.next = end + 1;
    let reply: FakeReply;
    if (last) {
      this.uploads.delete(session.token);
      reply = session.complete(Buffer.concat(session.received));
    } else {
      reply = {
        status: session.kind === 'drive' ? 202 : 200,
        body: {
          expirationDateTime: new Date(session.expires).toISOString(),
          nextExpectedRanges: [`${session.next}-`],
        },
      };
    }
    if (failing) {
      // Stored, but the answer never arrives: the client must ask the session where it stands.
      raw.req.socket.destroy();
      return;
    }
    return reply;
  }
}
