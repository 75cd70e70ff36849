import {
  UserInputError,
  plainFileName,
  safeFileName,
  untrusted,
  z,
  type ToolDefinition,
  listFooter,
  pageCount,
  formatBytes,
  cursorArg,
} from '@switchyard/core';
import { readAttachment } from '../documents/attachment.js';
import { confirmReply, confirmSend } from '../confirmations.js';
import type { Ms365 } from '../context.js';
import { SAVES_TO_DISK, saveToDiskInput } from '../local-files.js';
import { shortId } from '../graph-client.js';
import { fencedCsv, resumable } from '../format.js';
import { resolveFolder } from '../mail/folders.js';
import { listMessages, messageLine } from '../mail/list.js';
import {
  IMMUTABLE,
  notFoundMessage,
  replyRecipients,
  toRecipients,
  type Attachment,
  type Message,
} from '../mail/message.js';
import { getMessage, messageText } from '../mail/read.js';
import { saveDraft, sendDraft, sendMessage } from '../mail/send.js';
import { mailboxInput, mailboxRoot, whose } from '../mailbox.js';

const address = z.string().max(320);
const recipients = (what: string) => z.array(address).max(100).describe(what);
const attachmentsField = z.array(z.string().max(1024)).max(20).describe('Local paths, 150 MB max each.');

/** The mail tools: each handler checks its arguments, calls one function of ../mail/ and words the answer. */
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
        const { page, folder, useSearch, showTo } = await listMessages(graph, a, ctx.signal);
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
        const { msg, attachments } = await getMessage(graph, mailboxRoot(a), id, ctx.signal);
        // Headers, attachment names and the body all come from the sender: one fence holds them.
        return { text: messageText(msg, attachments, max_chars) };
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
      confirm: (a) => confirmSend(a),
      handler: async (a, ctx, graph) => {
        const root = mailboxRoot(a);
        if (a.draft) {
          if (a.draft_id) throw new UserInputError('draft_id sends a saved draft; leave out draft: true');
          return saveDraft(m.files, graph, root, a, ctx);
        }
        if (a.draft_id) {
          if (a.to || a.cc || a.bcc || a.subject || a.body || a.attachments) {
            throw new UserInputError('draft_id sends a draft as it is; it takes no other fields', {
              hint: 'Send the draft alone, or leave out draft_id to send a new message',
            });
          }
          return sendDraft(graph, root, a.draft_id, ctx.signal);
        }
        if (!a.to?.length) throw new UserInputError("'to' needs at least one address (or pass draft_id)");
        if (a.subject === undefined) throw new UserInputError("'subject' is required for a new message");
        return sendMessage(m.files, graph, root, { ...a, subject: a.subject }, ctx);
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
      confirm: (a, ctx, graph) => confirmReply(a, ctx, graph),
      handler: async (a, ctx, graph) => {
        const to = replyRecipients(a);
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
        ...saveToDiskInput,
      },
      annotations: SAVES_TO_DISK,
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
