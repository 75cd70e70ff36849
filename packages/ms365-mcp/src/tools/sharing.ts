import {
  UserInputError,
  registerSecret,
  untrusted,
  z,
  type ToolDefinition,
  listFooter,
  oneLine,
} from '@switchyard/core';
import { confirmShare } from '../confirmations.js';
import type { Ms365 } from '../context.js';
import { shortId } from '../graph-client.js';
import { csvLine, fencedCsv } from '../format.js';
import { PERMISSION_SELECT, inherited, kind, who, type Permission } from '../sharing/permissions.js';
import { shareItem } from '../sharing/share.js';
import { compactUtc } from '../time.js';
import { itemFields, itemRef } from './files.js';

const address = z.string().max(320);
/** The most permissions listed for one item (Graph gives them all at once). */
export const PERMISSION_LIMIT = 200;

/** The sharing tools: each handler checks its arguments, calls ../sharing/ or Graph once, and words the answer. */
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
      confirm: (a) => confirmShare(a),
      handler: async (a, ctx, graph) => {
        if (!a.path && !a.item_id) throw new UserInputError('Give the path or item_id of the file or folder');
        if (a.password) registerSecret(a.password);
        const { name, recipients, granted, link } = await shareItem(graph, itemRef(a), a, ctx.signal);
        if (!link) {
          const lines = (granted ?? []).map((p) =>
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
        const p = link.permission;
        const details = [
          p.link?.scope ?? 'tenant default',
          p.expirationDateTime ? `expires ${compactUtc(p.expirationDateTime)}` : '',
          p.hasPassword ? 'password' : '',
        ].filter(Boolean);
        return {
          text: [
            `${link.existing ? 'Existing' : 'New'} ${p.link?.type ?? a.access} link to ${untrusted(name, 200)} (${details.join(', ')}): ${oneLine(p.link?.webUrl, 500)}`,
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
