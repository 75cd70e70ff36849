import { UserInputError, z } from '@switchyard/core';
import type { Ms365 } from './context.js';

/**
 * Shared mailboxes and delegated calendars: with `--shared-mailboxes` the mail and calendar tools take a `mailbox`
 * address and call `/users/{address}/…` instead of `/me/…` (learn.microsoft.com/graph/outlook-share-messages-folders,
 * /graph/outlook-send-mail-from-other-user, /graph/outlook-get-shared-events-calendars). Without the option the
 * argument is not offered at all, so a model cannot reach past the user's own mailbox.
 */
// Kept very short: with every toolset on, ten tools carry it and tools/list must stay within 16 KB.
const mailboxField = z.string().max(320).optional().describe('Shared mailbox.');
const calendarField = z.string().max(320).optional().describe('Whose calendar.');

/** The `mailbox` argument of a mail tool, or of a calendar tool (a delegator's or a shared mailbox's calendar). */
export function mailboxInput(
  m: Ms365,
  area: 'mail' | 'calendar' = 'mail',
): { mailbox?: typeof mailboxField } {
  if (!m.sharedMailboxes) return {};
  return { mailbox: area === 'calendar' ? calendarField : mailboxField };
}

/** `/me`, or `/users/{address}` for a shared mailbox or a delegator's calendar. */
export function mailboxRoot(args: { mailbox?: unknown }): string {
  const mailbox = typeof args.mailbox === 'string' ? args.mailbox.trim() : '';
  if (!mailbox) return '/me';
  if (!/^[^@\s/]+@[^@\s/]+$/.test(mailbox))
    throw new UserInputError(`mailbox '${mailbox}' is not an email address`, {
      hint: 'Give the shared mailbox’s address, e.g. sales@contoso.com',
    });
  return `/users/${encodeURIComponent(mailbox)}`;
}

/** `sales@contoso.com: ` before an answer about a shared mailbox, so that the model knows whose it is. */
export function whose(args: { mailbox?: unknown }): string {
  const mailbox = typeof args.mailbox === 'string' ? args.mailbox.trim() : '';
  return mailbox ? `${mailbox}: ` : '';
}
