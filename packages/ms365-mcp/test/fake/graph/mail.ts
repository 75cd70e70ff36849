// Outlook mail on the fake Graph: folders, messages with $filter/$search (../odata.ts), drafts, sendMail with
// Exchange's size limit, attachments inline or through upload sessions, move with or without immutable ids,
// reply/replyAll/forward and their create* drafts (learn.microsoft.com/graph/api/resources/message).
import { randomBytes } from 'node:crypto';
import type { FakeReply, FakeRequest } from '@switchyard/testkit';
import { messageQuery, parseFilter, pick, select } from '../odata.js';
import { MAIL_READ, MAIL_SEND, MAIL_WRITE, MB, graphId, mimeOf, type Ctx } from './common.js';
import type { GraphCore } from './core.js';
import {
  attachmentJson,
  fromRecipient,
  messageJson,
  type Addr,
  type FakeFolder,
  type FakeMessage,
} from './mailbox.js';
import { newSession } from './uploads.js';

/** Mail folders, messages, attachments, sending and replies, for `/me` and `/users/{id}`. */
export function installMail(g: GraphCore): void {
  const v = '/v1.0';
  const mb = { mailbox: true };
  // List mailFolders: top-level folders, paged with @odata.nextLink
  // (learn.microsoft.com/graph/api/user-list-mailfolders).
  g.mailRoute(
    'GET',
    `${v}/me/mailFolders`,
    g.guard(MAIL_READ, (req, ctx) => listFolders(g, req, ctx, undefined), mb),
  );
  // List childFolders (learn.microsoft.com/graph/api/mailfolder-list-childfolders).
  g.mailRoute(
    'GET',
    `${v}/me/mailFolders/:folder/childFolders`,
    g.guard(MAIL_READ, (req, ctx) => listFolders(g, req, ctx, req.params.folder), mb),
  );
  // List messages in a folder; {folder} may be a well-known name such as inbox
  // (learn.microsoft.com/graph/api/mailfolder-list-messages).
  g.mailRoute(
    'GET',
    `${v}/me/mailFolders/:folder/messages`,
    g.guard(MAIL_READ, (req, ctx) => listMessages(g, req, ctx, req.params.folder), mb),
  );
  // Get mailFolder (learn.microsoft.com/graph/api/mailfolder-get).
  g.mailRoute(
    'GET',
    `${v}/me/mailFolders/:folder`,
    g.guard(
      MAIL_READ,
      (req, ctx) => {
        const f = g.mailbox(ctx.user).folder(req.params.folder!);
        return f ? { body: select(folderJson(g, ctx.user, f), req.query) } : g.notFound();
      },
      mb,
    ),
  );
  // List messages across the mailbox, newest first (learn.microsoft.com/graph/api/user-list-messages).
  g.mailRoute(
    'GET',
    `${v}/me/messages`,
    g.guard(MAIL_READ, (req, ctx) => listMessages(g, req, ctx, undefined), mb),
  );
  // Create a draft: 201 Created with the message, in Drafts (learn.microsoft.com/graph/api/user-post-messages).
  g.mailRoute(
    'POST',
    `${v}/me/messages`,
    g.guard(MAIL_WRITE, (req, ctx) => createDraft(g, req, ctx), mb),
  );
  // Get message, with $select (learn.microsoft.com/graph/api/message-get).
  g.mailRoute(
    'GET',
    `${v}/me/messages/:id`,
    g.guard(
      MAIL_READ,
      (req, ctx) => {
        const m = message(g, ctx, req.params.id!);
        return m ? { body: select(messageJson(m), req.query) } : g.notFound();
      },
      mb,
    ),
  );
  // Delete message: 204 No Content (learn.microsoft.com/graph/api/message-delete).
  g.mailRoute(
    'DELETE',
    `${v}/me/messages/:id`,
    g.guard(
      MAIL_WRITE,
      (req, ctx) => {
        return g.mailbox(ctx.user).messages.delete(req.params.id!) ? { status: 204 } : g.notFound();
      },
      mb,
    ),
  );
  // List attachments (learn.microsoft.com/graph/api/message-list-attachments).
  g.mailRoute(
    'GET',
    `${v}/me/messages/:id/attachments`,
    g.guard(
      MAIL_READ,
      (req, ctx) => {
        const m = message(g, ctx, req.params.id!);
        return m ? g.page(req, m.attachments.map(attachmentJson), 100) : g.notFound();
      },
      mb,
    ),
  );
  // Get attachment: the fileAttachment with contentBytes (learn.microsoft.com/graph/api/attachment-get).
  g.mailRoute(
    'GET',
    `${v}/me/messages/:id/attachments/:aid`,
    g.guard(
      MAIL_READ,
      (req, ctx) => {
        const a = message(g, ctx, req.params.id!)?.attachments.find((x) => x.id === req.params.aid);
        return a ? { body: select(attachmentJson(a), req.query) } : g.notFound();
      },
      mb,
    ),
  );
  // The raw bytes of a file attachment, $value (learn.microsoft.com/graph/api/attachment-get, "Get the raw
  // contents").
  g.mailRoute(
    'GET',
    `${v}/me/messages/:id/attachments/:aid/$value`,
    g.guard(
      MAIL_READ,
      (req, ctx) => {
        const a = message(g, ctx, req.params.id!)?.attachments.find((x) => x.id === req.params.aid);
        return a ? { headers: { 'content-type': a.contentType }, body: a.bytes } : g.notFound();
      },
      mb,
    ),
  );
  // Add attachment under 3 MB: 201 Created with the attachment
  // (learn.microsoft.com/graph/api/message-post-attachments).
  g.mailRoute(
    'POST',
    `${v}/me/messages/:id/attachments`,
    g.guard(MAIL_WRITE, (req, ctx) => addAttachment(g, req, ctx), mb),
  );
  // createUploadSession for 3 MB to 150 MB: 201 Created with an uploadSession
  // (learn.microsoft.com/graph/api/attachment-createuploadsession,
  // learn.microsoft.com/graph/api/resources/uploadsession).
  g.mailRoute(
    'POST',
    `${v}/me/messages/:id/attachments/createUploadSession`,
    g.guard(MAIL_WRITE, (req, ctx) => mailUploadSession(g, req, ctx), mb),
  );
  // Send a draft: 202 Accepted, the message saved in Sent Items (learn.microsoft.com/graph/api/message-send).
  g.mailRoute(
    'POST',
    `${v}/me/messages/:id/send`,
    g.guard(
      MAIL_SEND,
      (req, ctx) => {
        const m = message(g, ctx, req.params.id!);
        if (!m) return g.notFound();
        if (!m.isDraft) return g.error(400, 'ErrorInvalidRequest', 'Only a draft can be sent.');
        g.mailbox(ctx.user).messages.delete(m.id);
        stampSender(g, ctx, m);
        deliver(g, ctx.user, m, true);
        return { status: 202 };
      },
      mb,
    ),
  );
  // sendMail: 202 Accepted, no body; saveToSentItems defaults to true
  // (learn.microsoft.com/graph/api/user-sendmail).
  g.mailRoute(
    'POST',
    `${v}/me/sendMail`,
    g.guard(MAIL_SEND, (req, ctx) => sendMail(g, req, ctx), mb),
  );
  // move: 201 Created with the moved message, a new copy with a new id unless ids are immutable
  // (learn.microsoft.com/graph/api/message-move, learn.microsoft.com/graph/outlook-immutable-id).
  g.mailRoute(
    'POST',
    `${v}/me/messages/:id/move`,
    g.guard(MAIL_WRITE, (req, ctx) => move(g, req, ctx), mb),
  );
  for (const action of ['reply', 'replyAll', 'forward']) {
    // reply, replyAll, forward: 202 Accepted, saved in Sent Items (learn.microsoft.com/graph/api/message-reply,
    // learn.microsoft.com/graph/api/message-replyall, learn.microsoft.com/graph/api/message-forward).
    g.mailRoute(
      'POST',
      `${v}/me/messages/:id/${action}`,
      g.guard(MAIL_SEND, (req, ctx) => respond(g, req, ctx, action, false), mb),
    );
    const create = `create${action[0]!.toUpperCase()}${action.slice(1)}`;
    // createReply, createReplyAll, createForward: 201 Created with the draft
    // (learn.microsoft.com/graph/api/message-createreply,
    // learn.microsoft.com/graph/api/message-createreplyall, learn.microsoft.com/graph/api/message-createforward).
    g.mailRoute(
      'POST',
      `${v}/me/messages/:id/${create}`,
      g.guard(MAIL_WRITE, (req, ctx) => respond(g, req, ctx, action, true), mb),
    );
  }
}

/** A delegate with Send on Behalf shows as `sender`; with Send As nothing tells (outlook-send-mail-from-other-user). */
function stampSender(g: GraphCore, ctx: Ctx, msg: FakeMessage): void {
  if (!ctx.delegate || g.rights.get(`${ctx.user}|${ctx.delegate}`)?.sendAs) return;
  const user = g.authority.users.get(ctx.delegate);
  msg.sender = { name: user?.name ?? ctx.delegate, address: ctx.delegate };
}

function message(g: GraphCore, ctx: Ctx, id: string): FakeMessage | undefined {
  return g.mailbox(ctx.user).messages.get(id);
}

/** A mailFolder's properties (learn.microsoft.com/graph/api/resources/mailfolder). */
function folderJson(g: GraphCore, user: string, f: FakeFolder): Record<string, unknown> {
  const box = g.mailbox(user);
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

function listFolders(g: GraphCore, req: FakeRequest, ctx: Ctx, parentKey: string | undefined): FakeReply {
  const box = g.mailbox(ctx.user);
  const parent = parentKey ? box.folder(parentKey) : { id: box.root };
  if (!parent) return g.notFound();
  const clauses = req.query.get('$filter') ? parseFilter(req.query.get('$filter')!) : [];
  const folders = [...box.folders.values()]
    .filter((f) => f.parentId === parent.id)
    .map((f) => folderJson(g, ctx.user, f))
    .filter((f) => clauses.every((c) => c.test(pick(f, c.property))));
  return g.page(req, folders, 10);
}

function listMessages(g: GraphCore, req: FakeRequest, ctx: Ctx, folderKey: string | undefined): FakeReply {
  const box = g.mailbox(ctx.user);
  const folder = folderKey ? box.folder(folderKey) : undefined;
  if (folderKey && !folder) return g.notFound();
  const { predicate } = messageQuery(req.query);
  const list = [...box.messages.values()]
    .filter((m) => !folder || m.folderId === folder.id)
    .sort((a, b) => b.received - a.received)
    .map(messageJson)
    .filter(predicate);
  return g.page(req, list, 10);
}

function size(g: GraphCore, m: FakeMessage): number {
  return m.attachments.reduce((n, a) => n + a.bytes.length, 0) + m.body.content.length;
}

function fromBody(g: GraphCore, body: Record<string, unknown>, owner: Addr, folderId: string): FakeMessage {
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

function createDraft(g: GraphCore, req: FakeRequest, ctx: Ctx): FakeReply {
  const box = g.mailbox(ctx.user);
  const msg = fromBody(g, req.json<Record<string, unknown>>() ?? {}, box.owner, box.folder('drafts')!.id);
  box.messages.set(msg.id, msg);
  return { status: 201, body: messageJson(msg) };
}

/** Put a sent message in Sent Items and a copy in each recipient's inbox that this fake holds. */
export function deliver(g: GraphCore, user: string, msg: FakeMessage, saveToSent: boolean): void {
  const box = g.mailbox(user);
  msg.isDraft = false;
  msg.sent = msg.received = Date.now();
  if (saveToSent) {
    msg.folderId = box.folder('sentitems')!.id;
    box.messages.set(msg.id, msg);
  }
  for (const r of [...msg.to, ...msg.cc, ...msg.bcc]) {
    const other = g.mailboxes.get(r.address.toLowerCase());
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

function sendMail(g: GraphCore, req: FakeRequest, ctx: Ctx): FakeReply {
  // Graph refuses a request body over 4 MB with 413 (learn.microsoft.com/graph/errors; the sentence as Graph
  // answers it, quoted in github.com/O365/python-o365/issues/472); larger files go through upload sessions.
  if (req.body.length > 4 * MB)
    return g.error(413, 'RequestBodyTooLarge', 'The maximum request length supported is 4MB.');
  const body = req.json<{ message?: Record<string, unknown>; saveToSentItems?: boolean }>();
  if (!body?.message) return g.error(400, 'ErrorInvalidRequest', 'The message is missing.');
  const box = g.mailbox(ctx.user);
  const msg = fromBody(g, body.message, box.owner, box.folder('drafts')!.id);
  if (msg.to.length + msg.cc.length + msg.bcc.length === 0)
    return g.error(400, 'ErrorInvalidRecipients', 'At least one recipient is not valid.');
  if (size(g, msg) > g.maxMessageBytes)
    return g.error(413, 'ErrorMessageSizeExceeded', 'The message exceeds the maximum supported size.');
  stampSender(g, ctx, msg);
  deliver(g, ctx.user, msg, body.saveToSentItems !== false);
  return { status: 202 };
}

function addAttachment(g: GraphCore, req: FakeRequest, ctx: Ctx): FakeReply {
  const msg = message(g, ctx, req.params.id!);
  if (!msg) return g.notFound();
  const a = req.json<{ name?: string; contentBytes?: string; contentType?: string }>() ?? {};
  const bytes = Buffer.from(a.contentBytes ?? '', 'base64');
  // Under 3 MB inline; 3 MB to 150 MB through createUploadSession
  // (learn.microsoft.com/graph/api/attachment-createuploadsession).
  if (bytes.length >= 3 * MB)
    return g.error(413, 'RequestBodyTooLarge', 'Attach files of 3 MB or more through an upload session.');
  if (size(g, msg) + bytes.length > g.maxMessageBytes)
    return g.error(413, 'ErrorMessageSizeExceeded', 'The message exceeds the maximum supported size.');
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

function mailUploadSession(g: GraphCore, req: FakeRequest, ctx: Ctx): FakeReply {
  const msg = message(g, ctx, req.params.id!);
  if (!msg) return g.notFound();
  const item = req.json<{ AttachmentItem?: { attachmentType?: string; name?: string; size?: number } }>()
    ?.AttachmentItem;
  if (!item?.name || !item.size)
    return g.error(400, 'ErrorInvalidRequest', 'AttachmentItem needs a name and a size.');
  if (item.size < 3 * MB)
    return g.error(
      400,
      'ErrorAttachmentSizeShouldNotBeLessThanMinimumSize',
      'Attachment size must be greater than the minimum size.',
    );
  if (size(g, msg) + item.size > g.maxMessageBytes)
    return g.error(413, 'ErrorMessageSizeExceeded', 'The message exceeds the maximum supported size.');
  const name = item.name;
  const session = newSession(g, 'mail', item.size, (content) => {
    msg.attachments.push({
      id: graphId('AAMkAGI2att', 150),
      name,
      contentType: mimeOf(name),
      bytes: content,
      isInline: false,
    });
    return { status: 201, headers: { location: `${g.url}/me/messages/${msg.id}/attachments` } };
  });
  // An uploadSession; for Outlook attachments nextExpectedRanges holds one "{start}"
  // (learn.microsoft.com/graph/api/resources/uploadsession).
  return {
    status: 201,
    body: {
      uploadUrl: `${g.service.url}/upload/mail/${session.token}?sig=${randomBytes(16).toString('hex')}`,
      expirationDateTime: new Date(session.expires).toISOString(),
      nextExpectedRanges: ['0-'],
    },
  };
}

function move(g: GraphCore, req: FakeRequest, ctx: Ctx): FakeReply {
  const box = g.mailbox(ctx.user);
  const msg = box.messages.get(req.params.id!);
  if (!msg) return g.notFound();
  const dest = box.folder(req.json<{ destinationId?: string }>()?.destinationId ?? '');
  if (!dest) return g.error(400, 'ErrorInvalidIdMalformed', 'Id is malformed.');
  msg.folderId = dest.id;
  // Without immutable ids, a moved message gets a new id (as Outlook does).
  if (ctx.prefer.idtype !== 'ImmutableId') {
    box.messages.delete(msg.id);
    msg.id = graphId();
    box.messages.set(msg.id, msg);
  }
  return { status: 201, body: messageJson(msg) };
}

type Recipients = Array<{ emailAddress?: { address?: string; name?: string } }>;

/**
 * reply/replyAll/forward and their create* drafts, in JSON: a `comment` or the `message` parameter's body, not
 * both; a forward names its recipients in `toRecipients` or in `message.toRecipients`, exactly one of them. Each
 * rule answers 400 Bad Request (learn.microsoft.com/graph/api/message-reply,
 * learn.microsoft.com/graph/api/message-forward, learn.microsoft.com/graph/api/message-createforward); the pages
 * name no error code, so the fake uses Exchange's general ones.
 */
function respond(g: GraphCore, req: FakeRequest, ctx: Ctx, action: string, asDraft: boolean): FakeReply {
  const box = g.mailbox(ctx.user);
  const original = box.messages.get(req.params.id!);
  if (!original) return g.notFound();
  const body =
    req.json<{
      comment?: string;
      toRecipients?: Recipients;
      message?: { body?: { content?: string }; toRecipients?: Recipients };
    }>() ?? {};
  // An action takes only its declared parameters; OData refuses any other (RequestBodyRead), e.g. recipients on a
  // reply: reply and replyAll declare `comment` and `message`, forward also `toRecipients`.
  const declared = action === 'forward' ? ['comment', 'message', 'toRecipients'] : ['comment', 'message'];
  const unknown = Object.keys(body).find((key) => !declared.includes(key));
  if (unknown !== undefined)
    return g.error(
      400,
      'RequestBodyRead',
      `The parameter '${unknown}' in the request payload is not a valid parameter for the operation '${asDraft ? `create${action[0]!.toUpperCase()}${action.slice(1)}` : action}'.`,
    );
  if (body.comment !== undefined && body.message?.body !== undefined)
    return g.error(
      400,
      'ErrorInvalidRequest',
      'Specify either a comment or the body of the message, not both.',
    );
  const extra = (body.toRecipients ?? body.message?.toRecipients ?? []).map(fromRecipient);
  const me = box.owner.address.toLowerCase();
  let to: Addr[];
  let cc: Addr[] = [];
  if (action === 'forward') {
    if (body.toRecipients !== undefined && body.message?.toRecipients !== undefined)
      return g.error(
        400,
        'ErrorInvalidRequest',
        'Specify either toRecipients or the toRecipients of the message, not both.',
      );
    if (extra.length === 0)
      return g.error(400, 'ErrorInvalidRecipients', 'At least one recipient is not valid.');
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
    body: {
      contentType: 'html',
      content: `<p>${body.comment ?? body.message?.body?.content ?? ''}</p><hr>${quoted}`,
    },
    isDraft: true,
    isRead: true,
    attachments: action === 'forward' ? original.attachments.map((a) => ({ ...a })) : [],
  };
  if (asDraft) {
    box.messages.set(msg.id, msg);
    return { status: 201, body: messageJson(msg) };
  }
  stampSender(g, ctx, msg);
  deliver(g, ctx.user, msg, true);
  return { status: 202 };
}
