/**
 * Sharing a drive item: an invitation to people (learn.microsoft.com/graph/api/driveitem-invite) or a link
 * (learn.microsoft.com/graph/api/driveitem-createlink), with Graph's refusals turned into what the user can change.
 */
import { UserInputError, isSwitchyardError } from '@switchyard/core';
import type { Graph } from '../graph-client.js';
import { parseTime } from '../time.js';
import type { DriveItem, itemRef } from '../tools/files.js';
import type { Permission } from './permissions.js';

type Item = ReturnType<typeof itemRef>;

export interface ShareRequest {
  access: 'view' | 'edit';
  recipients?: string[] | undefined;
  scope?: 'anonymous' | 'organization' | 'users' | undefined;
  message?: string | undefined;
  require_sign_in: boolean;
  send_invitation: boolean;
  expires?: string | undefined;
  password?: string | undefined;
}

/** An expiry in the future, as Graph wants it (UTC, no milliseconds). */
export function expiry(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const at = parseTime(value, 'UTC', 'expires');
  if (at.getTime() <= Date.now()) throw new UserInputError(`expires ${value} is in the past`);
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The recipients, trimmed; each must be an email address. */
export function checkRecipients(list: string[] | undefined): string[] {
  const recipients = (list ?? []).map((r) => r.trim());
  for (const r of recipients)
    if (!/^[^@\s]+@[^@\s]+$/.test(r))
      throw new UserInputError(`recipients has '${r}', which is not an email address`);
  return recipients;
}

/** The item's name, for the answer (and a not-found answer before anything is shared). */
export async function itemName(graph: Graph, item: Item, signal: AbortSignal) {
  const meta = await graph.get<DriveItem>(item.ref, {
    query: { $select: 'id,name' },
    signal,
    ...item.notFound,
  });
  return meta.name ?? 'the item';
}

/** Invite the recipients; the permissions Graph granted. */
export async function invite(
  graph: Graph,
  item: Item,
  a: ShareRequest,
  recipients: string[],
  expirationDateTime: string | undefined,
  signal: AbortSignal,
): Promise<Permission[]> {
  // driveItem: invite (learn.microsoft.com/graph/api/driveitem-invite)
  const granted = await graph.post<{ value?: Permission[] }>(
    item.sub('/invite'),
    {
      recipients: recipients.map((email) => ({ email })),
      roles: [a.access === 'edit' ? 'write' : 'read'],
      requireSignIn: a.require_sign_in,
      sendInvitation: a.send_invitation,
      ...(a.message ? { message: a.message } : {}),
      ...(expirationDateTime ? { expirationDateTime } : {}),
      ...(a.password ? { password: a.password } : {}),
    },
    { signal, ...item.notFound },
  );
  return granted.value ?? [];
}

/** Create a sharing link, or get the existing one of the same kind (`existing`: Graph answered 200, not 201). */
export async function createLink(
  graph: Graph,
  item: Item,
  a: ShareRequest,
  expirationDateTime: string | undefined,
  signal: AbortSignal,
): Promise<{ permission: Permission; existing: boolean }> {
  // driveItem: createLink (learn.microsoft.com/graph/api/driveitem-createlink): 201 new, 200 existing.
  let res;
  try {
    res = await graph.request<Permission>({
      method: 'POST',
      path: item.sub('/createLink'),
      json: {
        type: a.access,
        ...(a.scope ? { scope: a.scope } : {}),
        ...(expirationDateTime ? { expirationDateTime } : {}),
        ...(a.password ? { password: a.password } : {}),
      },
      // An existing link of the same kind comes back as it is, so repeating it makes nothing new.
      idempotent: true,
      signal,
      ...item.notFound,
    });
  } catch (err) {
    const up = isSwitchyardError(err) ? err.upstream : undefined;
    if (up?.status === 403 && a.scope === 'anonymous') {
      throw new UserInputError(
        'Microsoft Graph refused an anonymous link: the tenant’s or site’s sharing policy does not allow "Anyone" links',
        {
          upstream: up,
          hint: "Use scope 'organization' or invite the people with recipients, or ask a SharePoint admin to allow Anyone links",
        },
      );
    }
    if (up?.status === 400 && a.password) {
      throw new UserInputError(
        'Microsoft Graph refused a link with a password, which only OneDrive personal links can have',
        {
          upstream: up,
          hint: 'Leave out password, or invite the people with recipients instead',
        },
      );
    }
    throw err;
  }
  return { permission: res.data, existing: res.status === 200 };
}

/** Share an item: an invitation when there are recipients, else a link; the name is read first, so a wrong item shares nothing. */
export async function shareItem(graph: Graph, item: Item, a: ShareRequest, signal: AbortSignal) {
  const expirationDateTime = expiry(a.expires);
  const recipients = checkRecipients(a.recipients);
  const name = await itemName(graph, item, signal);
  if (recipients.length > 0) {
    if (a.scope) throw new UserInputError('scope is for links; an invitation goes to the recipients only');
    const granted = await invite(graph, item, a, recipients, expirationDateTime, signal);
    return { name, recipients, granted };
  }
  if (a.message)
    throw new UserInputError(
      'message goes with an invitation: add recipients, or leave message out for a link',
    );
  return { name, recipients, link: await createLink(graph, item, a, expirationDateTime, signal) };
}
