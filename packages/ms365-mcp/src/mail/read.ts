/** One message read whole: headers, attachment list and body as plain text, all of it the sender's words. */
import { fenceUntrusted, htmlToText, stripInvisible, oneLine, formatBytes } from '@switchyard/core';
import { people, person } from '../format.js';
import type { Graph } from '../graph-client.js';
import { compactUtc } from '../time.js';
import { IMMUTABLE, notFoundMessage, type Attachment, type Message } from './message.js';

/** The message and, when it has any, its attachments' names and sizes: one or two calls. */
export async function getMessage(graph: Graph, root: string, id: string, signal: AbortSignal) {
  const path = `${root}/messages/${encodeURIComponent(id)}`;
  const msg = await graph.get<Message>(path, {
    query: {
      $select:
        'id,subject,from,toRecipients,ccRecipients,bccRecipients,receivedDateTime,sentDateTime,body,hasAttachments,importance,isRead,isDraft,flag',
    },
    headers: IMMUTABLE,
    signal,
    ...notFoundMessage(id),
  });
  const attachments = msg.hasAttachments
    ? ((
        await graph.get<{ value?: Attachment[] }>(`${path}/attachments`, {
          query: { $select: 'id,name,contentType,size,isInline' },
          headers: IMMUTABLE,
          signal,
        })
      )?.value ?? [])
    : [];
  return { msg, attachments };
}

/** Headers, attachments and the body cut at `maxChars`, in one fence: every part of it came from the sender. */
export function messageText(msg: Message, attachments: Attachment[], maxChars: number): string {
  const raw = msg.body?.content ?? '';
  let body = msg.body?.contentType?.toLowerCase() === 'html' ? htmlToText(raw) : stripInvisible(raw).trim();
  const fullLength = body.length;
  if (body.length > maxChars)
    body = `${body.slice(0, maxChars)}\n[… cut at ${maxChars} of ${fullLength} characters]`;
  const f = [
    msg.isDraft ? 'draft' : '',
    msg.isRead === false ? 'unread' : '',
    msg.importance === 'high' ? 'important' : '',
    msg.flag?.flagStatus === 'flagged' ? 'flagged' : '',
  ].filter(Boolean);
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
  return fenceUntrusted(lines.join('\n'), 'email');
}
