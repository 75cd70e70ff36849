import {
  UserInputError,
  isSwitchyardError,
  registerSecret,
  untrusted,
  z,
  type ToolDefinition,
  listFooter,
  oneLine,
} from '@switchyard/core';
import type { Ms365 } from '../context.js';
import { shortId, type Graph } from '../graph-client.js';
import { csvLine, fencedCsv } from '../format.js';
import { compactUtc, parseTime } from '../time.js';
import { itemFields, itemRef, type DriveItem } from './files.js';

/** A sharing permission (learn.microsoft.com/graph/api/resources/permission). */
interface Identity {
  id?: string;
  displayName?: string;
  email?: string;
}
interface Permission {
  id: string;
  roles?: string[];
  link?: { type?: string; scope?: string; webUrl?: string };
  grantedToV2?: { user?: Identity; group?: Identity; siteUser?: Identity; siteGroup?: Identity };
  grantedToIdentitiesV2?: Array<{ user?: Identity; group?: Identity }>;
  invitation?: { email?: string; signInRequired?: boolean };
  inheritedFrom?: { path?: string; id?: string } | null;
  expirationDateTime?: string;
  hasPassword?: boolean;
}

const PERMISSION_SELECT =
  'id,roles,link,grantedToV2,grantedToIdentitiesV2,invitation,inheritedFrom,expirationDateTime,hasPassword';

const address = z.string().max(320);
/** The most permissions listed for one item (Graph gives them all at once). */
export const PERMISSION_LIMIT = 200;

function who(p: Permission): string {
  const one = (i: Identity | undefined) =>
    i ? (i.email && i.displayName ? `${i.displayName} <${i.email}>` : (i.email ?? i.displayName ?? '')) : '';
  const g = p.grantedToV2;
  const direct = one(g?.user) || one(g?.group) || one(g?.siteUser) || one(g?.siteGroup);
  if (direct) return direct;
  const many = (p.grantedToIdentitiesV2 ?? []).map((x) => one(x.user) || one(x.group)).filter(Boolean);
  if (many.length) return many.join('; ');
  return p.invitation?.email ?? '';
}

function kind(p: Permission): string {
  if (p.link) return `${p.link.type ?? ''} link (${p.link.scope ?? 'default'})`;
  if (p.roles?.includes('owner')) return 'owner';
  return p.grantedToV2?.group || p.grantedToV2?.siteGroup ? 'group' : 'person';
}

/** Where an inherited permission comes from: the folder path Graph names (`/drive/root:/Finance`). */
function inherited(p: Permission): string {
  if (!p.inheritedFrom) return '';
  const path = (p.inheritedFrom.path ?? '')
    .replace(/^\/drives?\/[^/]*\/?root:?/, '')
    .replace(/^\/drive\/root:?/, '');
  return decodeURIComponent(path) || '/';
}

function expiry(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const at = parseTime(value, 'UTC', 'expires');
  if (at.getTime() <= Date.now()) throw new UserInputError(`expires ${value} is in the past`);
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

async function itemName(graph: Graph, item: ReturnType<typeof itemRef>, signal: AbortSignal) {
  const meta = await graph.get<DriveItem>(item.ref, {
    query: { $select: 'id,name' },
    signal,
    ...item.notFound,
  });
  return meta.name ?? 'the item';
}

export function sharingTools(m: Ms365): ToolDefinition[] {
  return [
    m.tool({
      name: 'ms365_share_file',
      title: 'Share a file',
      description: 'Share a drive item: invite recipients, else make a view/edit link.',
      toolset: 'sharing',
      input: {
        ...itemFields,
        access: z.enum(['view', 'edit']).default('view').describe('Access given.'),
        recipients: z.array(address).max(50).optional().describe('People or groups to invite.'),
        scope: z
          .enum(['anonymous', 'organization', 'users'])
          .optional()
          .describe('Link audience; default the tenant’s.'),
        message: z.string().max(2000).optional().describe('Invitation text.'),
        require_sign_in: z.boolean().default(true).describe('Invitees must sign in.'),
        send_invitation: z.boolean().default(true).describe('Email the invitees.'),
        expires: z.string().max(40).optional().describe('Expiry (UTC).'),
        password: z.string().max(256).optional().describe('Password (OneDrive personal only).'),
      },
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: true,
      },
      needs: ['files.share'],
      handler: async (a, ctx, graph) => {
        if (!a.path && !a.item_id) throw new UserInputError('Give the path or item_id of the file or folder');
        if (a.password) registerSecret(a.password);
        const item = itemRef(a);
        const expirationDateTime = expiry(a.expires);
        const recipients = (a.recipients ?? []).map((r) => r.trim());
        for (const r of recipients)
          if (!/^[^@\s]+@[^@\s]+$/.test(r))
            throw new UserInputError(`recipients has '${r}', which is not an email address`);
        const name = await itemName(graph, item, ctx.signal);

        if (recipients.length > 0) {
          if (a.scope)
            throw new UserInputError('scope is for links; an invitation goes to the recipients only');
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
            { signal: ctx.signal, ...item.notFound },
          );
          const lines = (granted.value ?? []).map((p) =>
            csvLine([oneLine(who(p), 160), (p.roles ?? []).join(' '), p.id]),
          );
          return {
            text: [
              `${a.access === 'edit' ? 'Edit' : 'View'} access to ${untrusted(name, 200)} for ${recipients.length} recipient(s)${
                a.send_invitation ? '; invitations emailed' : '; no email sent'
              }.`,
              fencedCsv('permission list', 'who,roles,permission_id', lines),
            ].join('\n'),
          };
        }

        if (a.message)
          throw new UserInputError(
            'message goes with an invitation: add recipients, or leave message out for a link',
          );
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
            signal: ctx.signal,
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
        const p = res.data;
        const details = [
          p.link?.scope ?? 'tenant default',
          p.expirationDateTime ? `expires ${compactUtc(p.expirationDateTime)}` : '',
          p.hasPassword ? 'password' : '',
        ].filter(Boolean);
        return {
          text: [
            `${res.status === 200 ? 'Existing' : 'New'} ${p.link?.type ?? a.access} link to ${untrusted(name, 200)} (${details.join(', ')}): ${oneLine(p.link?.webUrl, 500)}`,
            `permission_id: ${p.id}`,
          ].join('\n'),
        };
      },
    }),

    m.tool({
      name: 'ms365_list_permissions',
      title: 'Who has access',
      description: 'Who has access to a drive item (people, groups, links).',
      toolset: 'sharing',
      input: itemFields,
      annotations: { readOnlyHint: true, openWorldHint: false },
      needs: ['files.read'],
      handler: async (a, ctx, graph) => {
        if (!a.path && !a.item_id) throw new UserInputError('Give the path or item_id of the file or folder');
        const item = itemRef(a);
        // driveItem: list permissions (learn.microsoft.com/graph/api/driveitem-list-permissions) takes only $select:
        // no $top or $skipToken, the whole collection comes in one answer, so this tool has no cursor.
        const page = await graph.list<Permission>(
          item.sub('/permissions'),
          { query: { $select: PERMISSION_SELECT }, top: PERMISSION_LIMIT, ...item.notFound },
          ctx.signal,
        );
        return {
          text: [
            `Access to ${a.item_id ? `item ${shortId(a.item_id)}` : `/${(a.path ?? '').replace(/^\/+/, '')}`}; inherited_from names the folder it comes from.`,
            fencedCsv(
              'permission list',
              'permission_id,kind,who,roles,inherited_from,expires,url',
              page.items.map((p) =>
                csvLine([
                  p.id,
                  kind(p),
                  oneLine(who(p), 160),
                  (p.roles ?? []).join(' '),
                  inherited(p),
                  p.expirationDateTime ? compactUtc(p.expirationDateTime) : '',
                  oneLine(p.link?.webUrl, 300),
                ]),
              ),
            ),
            listFooter({
              shown: page.items.length,
              noun: 'permission',
              truncated: page.truncated,
              hint: `only the first ${PERMISSION_LIMIT} are shown`,
            }),
          ].join('\n'),
        };
      },
    }),

    m.tool({
      name: 'ms365_remove_permission',
      title: 'Remove access',
      description: 'Remove a link or someone’s access to a drive item.',
      toolset: 'sharing',
      input: {
        ...itemFields,
        permission_id: z.string().max(400).describe('From ms365_list_permissions.'),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
      needs: ['files.share'],
      handler: async (a, ctx, graph) => {
        if (!a.path && !a.item_id) throw new UserInputError('Give the path or item_id of the file or folder');
        const item = itemRef(a);
        const path = item.sub(`/permissions/${encodeURIComponent(a.permission_id)}`);
        const notFound = {
          notFound: `The item has no permission with id '${shortId(a.permission_id)}'`,
          notFoundHint: 'Take permission ids from ms365_list_permissions',
        };
        // permission: get, then delete (learn.microsoft.com/graph/api/permission-get, /permission-delete):
        // only permissions that are not inherited can be deleted.
        const p = await graph.get<Permission>(path, {
          query: { $select: PERMISSION_SELECT },
          signal: ctx.signal,
          ...notFound,
        });
        if (p.inheritedFrom) {
          throw new UserInputError(
            `That permission is inherited from the folder ${inherited(p)}, so it cannot be removed here`,
            { hint: 'Remove it on that folder (ms365_list_permissions on the folder shows its id)' },
          );
        }
        if (p.roles?.includes('owner')) throw new UserInputError('The owner’s access cannot be removed');
        await graph.request({
          method: 'DELETE',
          path,
          responseType: 'none',
          signal: ctx.signal,
          ...notFound,
        });
        return { text: `Removed the ${kind(p)} permission${who(p) ? ` of ${untrusted(who(p), 160)}` : ''}.` };
      },
    }),
  ];
}
