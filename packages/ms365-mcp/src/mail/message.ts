/** Outlook messages as Graph returns them (learn.microsoft.com/graph/api/resources/message), and new ones. */
import { UserInputError } from '@switchyard/core';
import { shortId } from '../graph-client.js';
import type { EmailAddress } from '../format.js';

/** Ids stay the same when a message moves (Graph's immutable ids). */
export const IMMUTABLE = { prefer: 'IdType="ImmutableId"' };

export interface Message {
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

export interface Attachment {
  id: string;
  name?: string;
  contentType?: string;
  size?: number;
  isInline?: boolean;
  '@odata.type'?: string;
}

export const notFoundMessage = (id: string) => ({
  notFound: `No message has id '${shortId(id)}' in this mailbox`,
  notFoundHint: 'Take ids from ms365_list_messages; a deleted message is gone for good',
});

export function checkAddresses(list: string[] | undefined, field: string): string[] {
  for (const a of list ?? []) {
    if (!/^[^@\s]+@[^@\s]+$/.test(a.trim())) {
      throw new UserInputError(`${field} has '${a}', which is not an email address`);
    }
  }
  return (list ?? []).map((a) => a.trim());
}

/**
 * Whom a reply or forward goes to, checked before anything is asked or sent: a forward needs addresses; reply and
 * replyAll take none (Graph's message-reply declares only `comment` and `message`).
 */
export function replyRecipients(a: {
  mode: 'reply' | 'reply_all' | 'forward';
  to?: string[] | undefined;
}): string[] {
  const to = checkAddresses(a.to, 'to');
  if (a.mode === 'forward' && to.length === 0) throw new UserInputError("Forwarding needs 'to' addresses");
  if (a.mode !== 'forward' && to.length > 0)
    throw new UserInputError(
      "'to' is for forwarding: a reply goes to the sender, reply_all to everyone on the message",
      { hint: "Leave 'to' out, or use mode 'forward' to send the message to others" },
    );
  return to;
}

export const toRecipients = (list: string[]) => list.map((a) => ({ emailAddress: { address: a } }));

export interface NewMessage {
  to?: string[] | undefined;
  cc?: string[] | undefined;
  bcc?: string[] | undefined;
  subject?: string | undefined;
  body?: string | undefined;
  body_type?: 'text' | 'html' | undefined;
}

/** The message part of a new mail or draft. */
export function messageBody(args: NewMessage): Record<string, unknown> {
  return {
    subject: args.subject ?? '',
    body: { contentType: args.body_type === 'html' ? 'HTML' : 'Text', content: args.body ?? '' },
    toRecipients: toRecipients(checkAddresses(args.to, 'to')),
    ...(args.cc?.length ? { ccRecipients: toRecipients(checkAddresses(args.cc, 'cc')) } : {}),
    ...(args.bcc?.length ? { bccRecipients: toRecipients(checkAddresses(args.bcc, 'bcc')) } : {}),
  };
}
