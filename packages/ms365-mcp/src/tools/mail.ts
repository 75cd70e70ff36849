import {
  NotFoundError,
  UserInputError,
  fenceUntrusted,
  htmlToText,
  isSwitchyardError,
  plainFileName,
  registerSecret,
  safeFileName,
  stripInvisible,
  untrusted,
  z,
  type LocalFile,
  type ToolContext,
  type ToolDefinition,
  listFooter,
  oneLine,
  pageCount,
  formatBytes,
  odataString,
  cursorArg,
} from '@switchyard/core';
import { readAttachment } from '../documents/attachment.js';
import type { Ms365 } from '../context.js';
import { mayHaveGoneThrough, shortId, type Graph } from '../graph-client.js';
import { csvLine, fencedCsv, fitBytes, people, person, resumable, type EmailAddress } from '../format.js';
import { mailboxInput, mailboxRoot, whose } from '../mailbox.js';
import { compactUtc, parseTime } from '../time.js';
import { MAIL_CHUNK, uploadChunks } from '../upload.js';

/** Ids stay the same when a message moves (Graph's immutable ids). */
const IMMUTABLE = { prefer: 'IdType="ImmutableId"' };
/** Attachments below this go inline (base64 in the request); larger ones through an upload session. */
export const INLINE_LIMIT = 3 * 1024 * 1024;
/** Outlook's ceiling for one attachment through an upload session. */
const MAX_ATTACHMENT = 150 * 1024 * 1024;
/** One message line at most this many bytes: ten lines and the cursor fit in 4 KB. */
const LINE_BUDGET = 334;
const PREVIEW_CHARS = 160;

const WELL_KNOWN: Record<string, string> = {
  inbox: 'inbox',
  drafts: 'drafts',
  sentitems: 'sentitems',
  sent: 'sentitems',
  'sent items': 'sentitems',
  deleteditems: 'deleteditems',
  deleted: 'deleteditems',
  'deleted items': 'deleteditems',
  trash: 'deleteditems',
  archive: 'archive',
  junkemail: 'junkemail',
  junk: 'junkemail',
  spam: 'junkemail',
  outbox: 'outbox',
};

interface Message {
  id: string;
  subject?: string;
  from?: EmailAddress;
  toRecipients?: EmailAddress[];
  ccRecipients?: EmailAddress[];
  bccRecipients?: EmailAddress[];
  receivedDateTime?: string;
  sentDateTime?: string;
  bodyPreview?: string;
  body?: { contentType?: string; content?: string };
  isRead?: boolean;
  isDraft?: boolean;
  hasAttachments?: boolean;
  importance?: string;
  flag?: { flagStatus?: string };
}

interface Attachment {
  id: string;
  name?: string;
  contentType?: string;
  size?: number;
  isInline?: boolean;
  '@odata.type'?: string;
}

interface MailFolder {
  id: string;
  displayName?: string;
}

const address = z.string().max(320);
const recipients = (what: string) => z.array(address).max(100).describe(what);
const attachmentsField = z.array(z.string().max(1024)).max(20).describe('Local paths, 150 MB max each.');

function checkAddresses(list: string[] | undefined, field: string): string[] {
  for (const a of list ?? []) {
    if (!/^[^@\s]+@[^@\s]+$/.test(a.trim())) {
      throw new UserInputError(`${field} has '${a}', which is not an email address`);
    }
  }
  return (list ?? []).map((a) => a.trim());
}

const toRecipients = (list: string[]) => list.map((a) => ({ emailAddress: { address: a } }));

/** The message part of a new mail or draft. */
function messageBody(args: {
  to?: string[] | undefined;
  cc?: string[] | undefined;
  bcc?: string[] | undefined;
  subject?: string | undefined;
  body?: string | undefined;
  body_type?: 'text' | 'html' | undefined;
}): Record<string, unknown> {
  return {
    subject: args.subject ?? '',
    body: { contentType: args.body_type === 'html' ? 'HTML' : 'Text', content: args.body ?? '' },
    toRecipients: toRecipients(checkAddresses(args.to, 'to')),
    ...(args.cc?.length ? { ccRecipients: toRecipients(checkAddresses(args.cc, 'cc')) } : {}),
    ...(args.bcc?.length ? { bccRecipients: toRecipients(checkAddresses(args.bcc, 'bcc')) } : {}),
  };
}

async function localAttachments(m: Ms365, paths: string[] | undefined): Promise<LocalFile[]> {
  const files: LocalFile[] = [];
  for (const p of paths ?? []) {
    const f = await m.files.readable(p, 'attachment');
    if (f.size > MAX_ATTACHMENT) {
      throw new UserInputError(
        `The attachment ${f.name} is ${formatBytes(f.size)}; Outlook takes attachments up to 150 MB`,
        { hint: 'Upload it with ms365_upload_file and send a link instead' },
      );
    }
    files.push(f);
  }
  return files;
}

async function inlineAttachment(f: LocalFile): Promise<Record<string, unknown>> {
  const { readFile } = await import('node:fs/promises');
  return {
    '@odata.type': '#microsoft.graph.fileAttachment',
    name: f.name,
    contentBytes: (await readFile(f.path)).toString('base64'),
  };
}

/** Add attachments to a draft: small ones in one request each, large ones through an upload session. */
async function attachToDraft(
  graph: Graph,
  root: string,
  draftId: string,
  files: LocalFile[],
  ctx: ToolContext,
) {
  const base = `${root}/messages/${encodeURIComponent(draftId)}/attachments`;
  const total = files.reduce((n, f) => n + f.size, 0);
  let done = 0;
  for (const f of files) {
    try {
      if (f.size < INLINE_LIMIT) {
        await graph.post(base, await inlineAttachment(f), { signal: ctx.signal, responseType: 'none' });
      } else {
        const session = await graph.post<{ uploadUrl: string }>(
          `${base}/createUploadSession`,
          { AttachmentItem: { attachmentType: 'file', name: f.name, size: f.size } },
          { signal: ctx.signal },
        );
        registerSecret(session.uploadUrl);
        await uploadChunks({
          graph,
          uploadUrl: session.uploadUrl,
          file: f,
          chunkSize: MAIL_CHUNK,
          // The draft is deleted when sending fails, so the session dies with it: a new call starts over.
          kept: false,
          signal: ctx.signal,
          log: ctx.log,
          progress: (sent) => ctx.progress(done + sent, total, `uploading ${f.name}`),
        });
      }
    } catch (err) {
      if (isSwitchyardError(err) && /MessageSizeExceeded/i.test(err.upstream?.code ?? '')) {
        throw new UserInputError(
          `The attachment ${f.name} (${formatBytes(f.size)}) makes the message larger than the mailbox allows (the tenant's limit, 35 MB by default)`,
          {
            ...(err.upstream ? { upstream: err.upstream } : {}),
            hint: 'Upload the file with ms365_upload_file and send a link instead',
          },
        );
      }
      throw err;
    }
    done += f.size;
    await ctx.progress(done, total, `attached ${f.name}`);
  }
}

/** Save a new message in Drafts (attachments through upload sessions when large). */
async function saveDraft(
  m: Ms365,
  graph: Graph,
  root: string,
  a: Parameters<typeof messageBody>[0] & { attachments?: string[] | undefined },
  ctx: ToolContext,
) {
  const message = messageBody(a);
  const files = await localAttachments(m, a.attachments);
  const draft = await graph.post<Message>(`${root}/messages`, message, {
    headers: IMMUTABLE,
    signal: ctx.signal,
  });
  try {
    await attachToDraft(graph, root, draft.id, files, ctx);
  } catch (err) {
    await discardDraft(graph, root, draft.id, ctx);
    addNote(err, 'the unfinished draft was deleted');
    throw err;
  }
  return {
    text: `Saved a draft "${oneLine(a.subject, 80)}"${files.length ? ` with ${files.length} attachment(s)` : ''}. draft_id: ${draft.id}`,
  };
}

/** Delete a half-made draft after a failure, so nothing stray stays in Drafts. */
async function discardDraft(graph: Graph, root: string, id: string, ctx: ToolContext): Promise<void> {
  await graph
    .request({ path: `${root}/messages/${encodeURIComponent(id)}`, method: 'DELETE', responseType: 'none' })
    .catch((err: unknown) =>
      ctx.log.warn(`could not delete the unfinished draft: ${(err as Error).message}`),
    );
}

/** Say what was cleaned up in the sentence the model sees (typed errors keep their kind and hint). */
function addNote(err: unknown, note: string): void {
  if (isSwitchyardError(err)) err.message = `${err.message}; ${note}`;
}

const notFoundMessage = (id: string) => ({
  notFound: `No message has id '${shortId(id)}' in this mailbox`,
  notFoundHint: 'Take ids from ms365_list_messages; a deleted message is gone for good',
});

/** Resolve a folder: a well-known name, a display name or path (`Inbox/Projects`), or an id. */
async function resolveFolder(
  graph: Graph,
  root: string,
  folder: string,
  signal: AbortSignal,
): Promise<{ id: string; name: string }> {
  const wk = WELL_KNOWN[folder.trim().toLowerCase()];
  if (wk) return { id: wk, name: wk };
  if (folder.length >= 60 && /^[A-Za-z0-9+/=_-]+$/.test(folder)) return { id: folder, name: shortId(folder) };
  const parts = folder
    .split('/')
    .map((p) => p.trim())
    .filter(Boolean);
  let parent: string | undefined;
  let path = '';
  for (const [i, part] of parts.entries()) {
    const wkPart = i === 0 ? WELL_KNOWN[part.toLowerCase()] : undefined;
    if (wkPart) {
      parent = wkPart;
      path = part;
      continue;
    }
    const base = parent
      ? `${root}/mailFolders/${encodeURIComponent(parent)}/childFolders`
      : `${root}/mailFolders`;
    const query = { $filter: `displayName eq ${odataString(part)}`, $select: 'id,displayName', $top: 5 };
    let found = (await graph.get<{ value?: MailFolder[] }>(base, { query, signal }))?.value?.[0];
    // A single name that is not top-level is most often a folder under Inbox.
    if (!found && !parent && parts.length === 1) {
      found = (
        await graph.get<{ value?: MailFolder[] }>(`${root}/mailFolders/inbox/childFolders`, { query, signal })
      )?.value?.[0];
    }
    if (!found) {
      const siblings = await graph.get<{ value?: MailFolder[] }>(base, {
        query: { $select: 'displayName', $top: 50 },
        signal,
      });
      throw new NotFoundError(`No mail folder is named '${part}'${path ? ` under ${path}` : ''}`, {
        candidates: (siblings?.value ?? []).map((f) => f.displayName ?? '').filter(Boolean),
        hint: 'Use a well-known name (inbox, archive, sentitems, drafts, deleteditems, junkemail), a folder name, or a path like Inbox/Projects',
      });
    }
    parent = found.id;
    path = path ? `${path}/${found.displayName}` : (found.displayName ?? part);
  }
  if (!parent) throw new UserInputError('folder is empty');
  return { id: parent, name: path };
}

/** KQL value: quoted when it has spaces, inner quotes dropped. */
function kql(value: string): string {
  const v = value.replace(/"/g, '').trim();
  return /\s/.test(v) ? `"${v}"` : v;
}

function flags(m: Message): string {
  return [
    m.isRead === false ? 'U' : '',
    m.hasAttachments ? 'A' : '',
    m.importance === 'high' ? '!' : '',
    m.flag?.flagStatus === 'flagged' ? 'F' : '',
  ].join('');
}

/** One compact CSV line; the preview gets whatever the line budget leaves (at most 160 chars). */
function messageLine(m: Message, showTo: boolean): string {
  // The address alone: unambiguous, usable as the from filter or a recipient, and half the bytes of "Name <address>".
  const first = showTo ? m.toRecipients?.[0] : m.from;
  const more = showTo && (m.toRecipients?.length ?? 0) > 1 ? ` +${m.toRecipients!.length - 1}` : '';
  const who = oneLine(first?.emailAddress?.address ?? first?.emailAddress?.name, 80) + more;
  const fixed = [
    m.id,
    compactUtc(m.receivedDateTime ?? m.sentDateTime),
    who,
    oneLine(m.subject, 100),
    flags(m),
  ];
  const used = Buffer.byteLength(csvLine(fixed)) + 3;
  const preview = fitBytes(oneLine(m.bodyPreview, PREVIEW_CHARS), LINE_BUDGET - used);
  return csvLine([...fixed, preview]);
}

export function mailTools(m: Ms365): ToolDefinition[] {
  return [
    m.tool({
      name: 'ms365_list_messages',
      title: 'List mail',
      description:
        'Find mail by folder, sender, subject, dates, flags or KQL; newest first, one CSV line each.',
      toolset: 'mail',
      input: {
        ...mailboxInput(m),
        folder: z
          .string()
          .max(400)
          .optional()
          .describe('inbox (default), sentitems, drafts, archive, name, Inbox/X or id.'),
        from: z.string().max(320).optional().describe('Sender address or name.'),
        subject: z.string().max(200).optional().describe('Text the subject contains.'),
        after: z.string().max(40).optional().describe('Received from (date or ISO, UTC).'),
        before: z.string().max(40).optional().describe('Received before.'),
        unread_only: z.boolean().default(false).describe('Only unread.'),
        has_attachments: z.boolean().optional().describe('Has attachments.'),
        search: z.string().max(500).optional().describe('KQL (budget OR to:bob); by relevance.'),
        top: z.number().int().min(1).max(50).default(10).describe('Page size.'),
        cursor: cursorArg,
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
      needs: ['mail.read'],
      handler: async (a, ctx, graph) => {
        const useSearch = Boolean(a.search) || Boolean(a.from && !a.from.includes('@'));
        const root = mailboxRoot(a);
        let folder: { id: string; name: string } | undefined;
        if (a.folder || !useSearch)
          folder = await resolveFolder(graph, root, a.folder ?? 'inbox', ctx.signal);
        const path = folder
          ? `${root}/mailFolders/${encodeURIComponent(folder.id)}/messages`
          : `${root}/messages`;
        const showTo = folder?.id === 'sentitems' || folder?.id === 'drafts';
        const select = `id,subject,${showTo ? 'toRecipients,sentDateTime' : 'from'},receivedDateTime,bodyPreview,isRead,hasAttachments,importance,flag`;
        const query: Record<string, string | number> = { $select: select, $top: a.top };
        const day = (v: string, field: string) =>
          parseTime(v, 'UTC', field)
            .toISOString()
            .replace(/\.000Z$/, 'Z');
        if (useSearch) {
          // $search cannot be combined with $filter or $orderby: every filter goes into the KQL.
          const terms = [
            a.search ? a.search.replace(/"/g, '\\"') : '',
            a.from ? `from:${kql(a.from)}` : '',
            a.subject ? `subject:${kql(a.subject)}` : '',
            a.after ? `received>=${day(a.after, 'after').slice(0, 10)}` : '',
            a.before ? `received<${day(a.before, 'before').slice(0, 10)}` : '',
            a.unread_only ? 'isread:false' : '',
            a.has_attachments !== undefined ? `hasattachments:${a.has_attachments}` : '',
          ].filter(Boolean);
          query.$search = `"${terms.join(' AND ')}"`;
        } else {
          const filters = [
            a.from ? `from/emailAddress/address eq ${odataString(a.from)}` : '',
            a.subject ? `contains(subject,${odataString(a.subject)})` : '',
            a.before ? `receivedDateTime lt ${day(a.before, 'before')}` : '',
            a.unread_only ? 'isRead eq false' : '',
            a.has_attachments !== undefined ? `hasAttachments eq ${a.has_attachments}` : '',
          ].filter(Boolean);
          // Graph wants the $orderby property first in $filter, else it answers InefficientFilter.
          if (filters.length > 0 || a.after) {
            filters.unshift(
              `receivedDateTime ge ${a.after ? day(a.after, 'after') : '1900-01-01T00:00:00Z'}`,
            );
            query.$filter = filters.join(' and ');
          }
          query.$orderby = 'receivedDateTime desc';
        }
        const page = await graph.list<Message>(
          path,
          { query, headers: IMMUTABLE, top: a.top, ...(a.cursor ? { cursor: a.cursor } : {}) },
          ctx.signal,
        );
        const where = folder ? folder.name : 'all mail';
        const order = useSearch ? 'by relevance' : 'newest first';
        const lines = [
          `${whose(a)}${where}, ${order}. Flags: U unread, A attachments, ! important, F flagged.`,
          fencedCsv(
            'mail list',
            `id,received,${showTo ? 'to' : 'from'},subject,flags,preview`,
            page.items.map((msg) => messageLine(msg, showTo)),
          ),
          listFooter({ ...pageCount(resumable(page, ctx)), noun: 'message' }),
        ];
        return { text: lines.join('\n') };
      },
    }),

    m.tool({
      name: 'ms365_get_message',
      title: 'Read a message',
      description: 'One message: headers, attachment ids, body as text (untrusted).',
      toolset: 'mail',
      input: {
        ...mailboxInput(m),
        id: z.string().max(1000).describe('Message id.'),
        max_chars: z.number().int().min(500).max(100_000).default(10_000).describe('Cut the body here.'),
        attachment_id: z.string().max(2000).optional().describe("Read this attachment's text instead."),
      },
      // Room for max_chars of body however it is written (up to 3 bytes a character), headers and the fence.
      maxBytes: ({ max_chars }) => max_chars * 3 + 16_384,
      annotations: { readOnlyHint: true, openWorldHint: false },
      needs: ['mail.read'],
      handler: async (a, ctx, graph) => {
        const { id, max_chars, attachment_id } = a;
        if (attachment_id)
          return {
            text: await readAttachment(graph, mailboxRoot(a), id, attachment_id, max_chars * 2, ctx.signal),
          };
        const path = `${mailboxRoot(a)}/messages/${encodeURIComponent(id)}`;
        const msg = await graph.get<Message>(path, {
          query: {
            $select:
              'id,subject,from,toRecipients,ccRecipients,bccRecipients,receivedDateTime,sentDateTime,body,hasAttachments,importance,isRead,isDraft,flag',
          },
          headers: IMMUTABLE,
          signal: ctx.signal,
          ...notFoundMessage(id),
        });
        const attachments = msg.hasAttachments
          ? ((
              await graph.get<{ value?: Attachment[] }>(`${path}/attachments`, {
                query: { $select: 'id,name,contentType,size,isInline' },
                headers: IMMUTABLE,
                signal: ctx.signal,
              })
            )?.value ?? [])
          : [];
        const raw = msg.body?.content ?? '';
        let body =
          msg.body?.contentType?.toLowerCase() === 'html' ? htmlToText(raw) : stripInvisible(raw).trim();
        const fullLength = body.length;
        if (body.length > max_chars)
          body = `${body.slice(0, max_chars)}\n[… cut at ${max_chars} of ${fullLength} characters]`;
        const f = [
          msg.isDraft ? 'draft' : '',
          msg.isRead === false ? 'unread' : '',
          msg.importance === 'high' ? 'important' : '',
          msg.flag?.flagStatus === 'flagged' ? 'flagged' : '',
        ].filter(Boolean);
        // Headers, attachment names and the body all come from the sender: one fence holds them.
        const lines = [
          `From: ${person(msg.from)}`,
          `To: ${people(msg.toRecipients, 20)}`,
          ...(msg.ccRecipients?.length ? [`Cc: ${people(msg.ccRecipients, 20)}`] : []),
          ...(msg.bccRecipients?.length ? [`Bcc: ${people(msg.bccRecipients, 20)}`] : []),
          `Received: ${compactUtc(msg.receivedDateTime ?? msg.sentDateTime)}${f.length ? ` (${f.join(', ')})` : ''}`,
          `Subject: ${oneLine(msg.subject, 300)}`,
        ];
        if (attachments.length > 0) {
          lines.push(`Attachments (${attachments.length}):`);
          for (const att of attachments) {
            lines.push(
              `- ${oneLine(att.name, 120)} (${formatBytes(att.size)}, ${att.contentType ?? 'unknown type'}${att.isInline ? ', inline' : ''}) id: ${att.id}`,
            );
          }
        }
        lines.push('', body);
        return { text: fenceUntrusted(lines.join('\n'), 'email') };
      },
    }),

    m.tool({
      name: 'ms365_send_mail',
      title: 'Send mail',
      description:
        'Send a message or a saved draft (draft_id), or only save a draft; kept in Sent Items. Confirm first.',
      toolset: 'mail',
      input: {
        ...mailboxInput(m),
        to: recipients('To.').optional(),
        cc: recipients('Cc.').optional(),
        bcc: recipients('Bcc.').optional(),
        subject: z.string().max(1000).optional().describe('Subject.'),
        body: z.string().max(200_000).optional().describe('Body.'),
        body_type: z.enum(['text', 'html']).default('text').describe('Body format.'),
        attachments: attachmentsField.optional(),
        draft_id: z.string().max(1000).optional().describe('Send this draft (alone).'),
        draft: z.boolean().default(false).describe('Save to Drafts only; gives draft_id.'),
      },
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: true,
      },
      needs: ['mail.send', 'mail.write'],
      handler: async (a, ctx, graph) => {
        const root = mailboxRoot(a);
        if (a.draft) {
          if (a.draft_id) throw new UserInputError('draft_id sends a saved draft; leave out draft: true');
          return saveDraft(m, graph, root, a, ctx);
        }
        if (a.draft_id) {
          if (a.to || a.cc || a.bcc || a.subject || a.body || a.attachments) {
            throw new UserInputError('draft_id sends a draft as it is; it takes no other fields', {
              hint: 'Send the draft alone, or leave out draft_id to send a new message',
            });
          }
          await graph.post(`${root}/messages/${encodeURIComponent(a.draft_id)}/send`, undefined, {
            signal: ctx.signal,
            responseType: 'none',
            ...notFoundMessage(a.draft_id),
          });
          return { text: `Sent the draft ${shortId(a.draft_id)}; it is now in Sent Items.` };
        }
        if (!a.to?.length) throw new UserInputError("'to' needs at least one address (or pass draft_id)");
        if (a.subject === undefined) throw new UserInputError("'subject' is required for a new message");
        const message = messageBody(a);
        const files = await localAttachments(m, a.attachments);
        const total = files.reduce((n, f) => n + f.size, 0);
        const summary = `"${oneLine(a.subject, 80)}" to ${[...(a.to ?? []), ...(a.cc ?? []), ...(a.bcc ?? [])].length} recipient(s)${
          files.length ? ` with ${files.length} attachment(s), ${formatBytes(total)}` : ''
        }`;
        if (total < INLINE_LIMIT) {
          const inline = await Promise.all(files.map(inlineAttachment));
          try {
            await graph.post(
              `${root}/sendMail`,
              {
                message: { ...message, ...(inline.length ? { attachments: inline } : {}) },
                saveToSentItems: true,
              },
              { signal: ctx.signal, responseType: 'none' },
            );
          } catch (err) {
            if (isSwitchyardError(err) && /MessageSizeExceeded/i.test(err.upstream?.code ?? '')) {
              throw new UserInputError(
                `The message with ${formatBytes(total)} of attachments is larger than the mailbox allows (the tenant's limit); nothing was sent`,
                {
                  ...(err.upstream ? { upstream: err.upstream } : {}),
                  hint: 'Send a link to an uploaded file instead',
                },
              );
            }
            throw err;
          }
          return { text: `Sent ${summary}; saved in Sent Items.` };
        }
        // Large attachments: build a draft, attach through upload sessions, then send it.
        const draft = await graph.post<Message>(`${root}/messages`, message, {
          headers: IMMUTABLE,
          signal: ctx.signal,
        });
        let sending = false;
        try {
          await attachToDraft(graph, root, draft.id, files, ctx);
          sending = true;
          await graph.post(`${root}/messages/${encodeURIComponent(draft.id)}/send`, undefined, {
            signal: ctx.signal,
            responseType: 'none',
          });
        } catch (err) {
          if (sending && mayHaveGoneThrough(err)) {
            // It may have gone out; if not, the kept draft can be sent by id without uploading again.
            addNote(
              err,
              `if the mail is not in Sent Items, the draft is still in Drafts (draft_id: ${draft.id})`,
            );
            throw err;
          }
          await discardDraft(graph, root, draft.id, ctx);
          addNote(err, 'the unfinished draft was deleted and nothing was sent');
          throw err;
        }
        return { text: `Sent ${summary}; saved in Sent Items.` };
      },
    }),

    m.tool({
      name: 'ms365_reply',
      title: 'Reply or forward',
      description: 'Reply, reply all or forward; sends unless draft is true.',
      toolset: 'mail',
      input: {
        ...mailboxInput(m),
        id: z.string().max(1000).describe('Message id.'),
        mode: z.enum(['reply', 'reply_all', 'forward']).default('reply').describe('What to do.'),
        comment: z.string().max(100_000).default('').describe('Your text.'),
        to: recipients('Forward to.').optional(),
        draft: z.boolean().default(false).describe('Save as draft, return draft_id.'),
      },
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: true,
      },
      needs: ['mail.send', 'mail.write'],
      handler: async (a, ctx, graph) => {
        const to = checkAddresses(a.to, 'to');
        if (a.mode === 'forward' && to.length === 0)
          throw new UserInputError("Forwarding needs 'to' addresses");
        const action = { reply: 'reply', reply_all: 'replyAll', forward: 'forward' }[a.mode];
        const path = `${mailboxRoot(a)}/messages/${encodeURIComponent(a.id)}`;
        const payload = { comment: a.comment, ...(to.length ? { toRecipients: toRecipients(to) } : {}) };
        if (a.draft) {
          const created = `create${action[0]!.toUpperCase()}${action.slice(1)}`;
          const draft = await graph.post<Message>(`${path}/${created}`, payload, {
            headers: IMMUTABLE,
            signal: ctx.signal,
            ...notFoundMessage(a.id),
          });
          return {
            text: `Saved a ${a.mode.replace('_', '-')} draft ${untrusted(draft.subject, 80)}. draft_id: ${draft.id}`,
          };
        }
        await graph.post(`${path}/${action}`, payload, {
          signal: ctx.signal,
          responseType: 'none',
          ...notFoundMessage(a.id),
        });
        const what = {
          reply: 'Replied',
          reply_all: 'Replied to all',
          forward: `Forwarded to ${to.join(', ')}`,
        }[a.mode];
        return { text: `${what}; the message is in Sent Items.` };
      },
    }),

    m.tool({
      name: 'ms365_download_attachment',
      title: 'Save an attachment',
      description: 'Save an attachment locally; returns the path. Never overwrites.',
      toolset: 'mail',
      input: {
        ...mailboxInput(m),
        message_id: z.string().max(1000).describe('Message id.'),
        attachment_id: z.string().max(2000).describe('Attachment id.'),
        folder: z.string().max(1024).optional().describe('Local folder; else ~/Downloads/ms365-mcp.'),
        save_as: z.string().max(255).optional().describe('Local file name.'),
      },
      // It writes to local disk, so --read-only leaves it out; it never overwrites, so it destroys nothing.
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: false,
      },
      needs: ['mail.read'],
      handler: async (a, ctx, graph) => {
        const name = a.save_as ? plainFileName(a.save_as) : undefined;
        const dir = await m.files.folder(a.folder);
        const path = `${mailboxRoot(a)}/messages/${encodeURIComponent(a.message_id)}/attachments/${encodeURIComponent(a.attachment_id)}`;
        const notFound = {
          notFound: `Message ${shortId(a.message_id)} has no attachment with id '${shortId(a.attachment_id)}'`,
          notFoundHint: 'Take attachment ids from ms365_get_message',
        };
        const meta = await graph.get<Attachment>(path, {
          query: { $select: 'id,name,contentType,size' },
          headers: IMMUTABLE,
          signal: ctx.signal,
          ...notFound,
        });
        const res = await graph.request<import('node:stream').Readable>({
          path: `${path}/$value`,
          headers: IMMUTABLE,
          responseType: 'stream',
          signal: ctx.signal,
          ...notFound,
        });
        const saved = await m.files.save(res.data, dir, name ?? safeFileName(meta.name, 'attachment'));
        return { text: `Saved ${untrusted(meta.name, 120)} (${formatBytes(saved.bytes)}) to ${saved.path}` };
      },
    }),

    m.tool({
      name: 'ms365_move_message',
      title: 'Move messages',
      description: 'Move messages to archive, deleteditems, a folder name, Inbox/X or id.',
      toolset: 'mail',
      input: {
        ...mailboxInput(m),
        ids: z.array(z.string().max(1000)).min(1).max(25).describe('Message ids.'),
        folder: z.string().max(400).describe('Destination.'),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
      needs: ['mail.write'],
      handler: async (a, ctx, graph) => {
        const { ids, folder } = a;
        const root = mailboxRoot(a);
        const target = await resolveFolder(graph, root, folder, ctx.signal);
        const results = await Promise.allSettled(
          ids.map((id) =>
            graph.post<Message>(
              `${root}/messages/${encodeURIComponent(id)}/move`,
              { destinationId: target.id },
              { headers: IMMUTABLE, signal: ctx.signal, ...notFoundMessage(id) },
            ),
          ),
        );
        const moved = results.filter((r) => r.status === 'fulfilled').length;
        const failed = results
          .map((r, i) =>
            r.status === 'rejected' ? `${shortId(ids[i]!)}: ${(r.reason as Error).message}` : '',
          )
          .filter(Boolean);
        if (moved === 0 && failed.length > 0) {
          const first = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
          throw first.reason;
        }
        const changed = results
          .map((r, i) =>
            r.status === 'fulfilled' && r.value.id !== ids[i]
              ? `${shortId(ids[i]!)} is now ${r.value.id}`
              : '',
          )
          .filter(Boolean);
        return {
          text: [
            `Moved ${moved} message${moved === 1 ? '' : 's'} to ${target.id === target.name ? target.name : untrusted(target.name, 200)}.`,
            ...(failed.length ? [`Not moved: ${failed.join('; ')}`] : []),
            ...changed,
          ].join('\n'),
        };
      },
    }),
  ];
}
