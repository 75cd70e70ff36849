import type { Confirmation, ToolContext } from '@switchyard/core';
import { notFound, prefer } from './calendar/event.js';
import { notFoundMessage, replyRecipients } from './mail/message.js';
import type { Graph } from './graph-client.js';
import { mailboxRoot } from './mailbox.js';

/**
 * What the user sees before mail goes out, a meeting is cancelled or a file is shared (core asks through the
 * host's elicitation when the host supports it; `--no-confirm` turns it off). Each says who gets what, so the
 * user can stop a send the model got wrong. Text from Graph (a subject) is shown to the user, not the model, and
 * core cleans every line of it.
 */

const who = (addresses: readonly string[] | undefined) =>
  addresses?.length
    ? addresses.slice(0, 10).join(', ') + (addresses.length > 10 ? ` and ${addresses.length - 10} more` : '')
    : '';

/** The first lines of a body, as the user would recognise it (HTML tags dropped). */
function firstLines(body: string | undefined, type: 'text' | 'html' = 'text', lines = 4): string[] {
  if (!body) return [];
  const text = type === 'html' ? body.replace(/<[^>]*>/g, ' ') : body;
  const kept = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return kept.length > lines ? [...kept.slice(0, lines), '…'] : kept;
}

const from = (a: { mailbox?: unknown }) =>
  typeof a.mailbox === 'string' && a.mailbox.trim() ? `From: ${a.mailbox.trim()}` : 'From: your mailbox';

export function confirmSend(a: {
  mailbox?: unknown;
  to?: string[] | undefined;
  cc?: string[] | undefined;
  bcc?: string[] | undefined;
  subject?: string | undefined;
  body?: string | undefined;
  body_type: 'text' | 'html';
  attachments?: string[] | undefined;
  draft_id?: string | undefined;
  draft: boolean;
}): Confirmation | undefined {
  if (a.draft) return undefined; // a draft is saved, not sent
  const declined = { text: 'Not sent: the user declined. Nothing was sent.' };
  if (a.draft_id) return { message: `Send the saved draft now?\n${from(a)}`, declined };
  if (!a.to?.length || a.subject === undefined) return undefined; // the handler refuses it
  return {
    message: [
      'Send this message?',
      from(a),
      `To: ${who(a.to)}`,
      ...(a.cc?.length ? [`Cc: ${who(a.cc)}`] : []),
      ...(a.bcc?.length ? [`Bcc: ${who(a.bcc)}`] : []),
      `Subject: ${a.subject}`,
      ...firstLines(a.body, a.body_type),
      ...(a.attachments?.length ? [`Attachments: ${a.attachments.length}`] : []),
    ].join('\n'),
    declined,
  };
}

/** The subject and sender of a message, to say which one is answered (one small read). */
async function messageHeading(graph: Graph, root: string, id: string, signal: AbortSignal): Promise<string> {
  const msg = await graph.get<{ subject?: string; from?: { emailAddress?: { address?: string } } }>(
    `${root}/messages/${encodeURIComponent(id)}`,
    // The same sentence as the tool's own when the id is wrong.
    { query: { $select: 'subject,from' }, signal, ...notFoundMessage(id) },
  );
  return `“${msg.subject ?? '(no subject)'}” from ${msg.from?.emailAddress?.address ?? 'an unknown sender'}`;
}

export async function confirmReply(
  a: {
    mailbox?: unknown;
    id: string;
    mode: 'reply' | 'reply_all' | 'forward';
    comment: string;
    to?: string[] | undefined;
    draft: boolean;
  },
  ctx: ToolContext,
  graph: Graph,
): Promise<Confirmation | undefined> {
  if (a.draft) return undefined;
  const to = replyRecipients(a);
  const heading = await messageHeading(graph, mailboxRoot(a), a.id, ctx.signal);
  const what =
    a.mode === 'forward'
      ? `Forward ${heading} to ${who(to)}?`
      : a.mode === 'reply_all'
        ? `Reply to everyone on ${heading}?`
        : `Reply to ${heading}?`;
  return {
    message: [what, from(a), ...firstLines(a.comment)].join('\n'),
    declined: { text: 'Not sent: the user declined. Nothing was sent.' },
  };
}

export async function confirmCancel(
  a: { mailbox?: unknown; id: string; comment: string },
  ctx: ToolContext,
  graph: Graph,
  zone: string,
): Promise<Confirmation | undefined> {
  const event = await graph.get<{
    subject?: string;
    start?: { dateTime?: string; timeZone?: string };
    attendees?: unknown[];
  }>(`${mailboxRoot(a)}/events/${encodeURIComponent(a.id)}`, {
    query: { $select: 'subject,start,attendees' },
    // The start in the user's own zone, as the calendar tools show it.
    headers: prefer(zone),
    signal: ctx.signal,
    ...notFound(a.id),
  });
  const when = event.start?.dateTime
    ? ` on ${event.start.dateTime.slice(0, 16).replace('T', ' ')} (${event.start.timeZone ?? 'UTC'})`
    : '';
  const count = event.attendees?.length ?? 0;
  return {
    message: [
      `Cancel “${event.subject ?? '(no subject)'}”${when}?`,
      `${count} attendee${count === 1 ? '' : 's'} will be told it is cancelled.`,
      ...firstLines(a.comment),
    ].join('\n'),
    declined: { text: 'Not cancelled: the user declined. The meeting stands.' },
  };
}

export function confirmShare(a: {
  path?: string | undefined;
  item_id?: string | undefined;
  access: 'view' | 'edit';
  recipients?: string[] | undefined;
  scope?: 'anonymous' | 'organization' | 'users' | undefined;
  send_invitation: boolean;
}): Confirmation {
  const item = a.path ?? `item ${a.item_id ?? ''}`;
  const whom = a.recipients?.length
    ? `${who(a.recipients)}${a.send_invitation ? ' (they get an email)' : ''}`
    : a.scope === 'anonymous'
      ? 'anyone with the link, without signing in'
      : a.scope === 'organization'
        ? 'anyone in your organization with the link'
        : 'people with the link';
  return {
    message: `Share ${item} (${a.access === 'edit' ? 'can edit' : 'can view'}) with ${whom}?`,
    declined: { text: 'Not shared: the user declined. No one was given access.' },
  };
}
