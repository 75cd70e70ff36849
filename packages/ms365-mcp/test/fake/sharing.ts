// Sharing on the fake drives: createLink, invite, list / get / delete permissions, with inheritance from folders
// and the tenant's sharing policy. Shapes follow learn.microsoft.com (each cited beside it).
import { randomBytes, randomUUID } from 'node:crypto';
import type { FakeReply, FakeRequest } from '@switchyard/testkit';
import type { Drive, FakeItem } from './graph.js';

interface Identity {
  id: string;
  displayName: string;
  email?: string;
}

export interface FakePermission {
  id: string;
  roles: string[];
  link?: { type: string; scope: string; webUrl: string };
  grantedToV2?: { user?: Identity; group?: Identity };
  invitation?: { email: string; signInRequired: boolean };
  expirationDateTime?: string;
  hasPassword?: boolean;
}

type ErrorReply = (status: number, code: string, message: string) => FakeReply;

export class Sharing {
  /** Permissions set on an item itself (children inherit them). */
  readonly own = new Map<string, FakePermission[]>();
  /** Tenant policy: "Anyone" links (SharePoint admin center → Sharing). */
  anonymousLinks = true;
  /** Groups the directory knows, by address. */
  readonly groups = new Map<string, string>();
  /** Invitations that were emailed: to, item name, message. */
  readonly invitations: Array<{ to: string; item: string; message: string }> = [];
  /** The last createLink and invite bodies, as Graph received them. */
  readonly bodies: Array<{ action: string; body: Record<string, unknown> }> = [];

  constructor(
    private readonly users: (address: string) => { oid: string; name: string } | undefined,
    private readonly error: ErrorReply,
    private readonly personal: (d: Drive) => boolean,
  ) {}

  /** The item's own permissions, then those of every folder above it, with `inheritedFrom` naming the folder. */
  all(d: Drive, item: FakeItem): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = (this.own.get(item.id) ?? []).map((p) => ({ ...p }));
    let parent = item.parentId ? d.items.get(item.parentId) : undefined;
    while (parent) {
      // permission resource: inheritedFrom is an itemReference (learn.microsoft.com/graph/api/resources/permission)
      const from = {
        driveId: d.id,
        id: parent.id,
        path: `${d.pathOf(parent)}/${parent.name}`.replace(/\/root\/root$/, '/root'),
      };
      if (parent.id === d.rootId) from.path = '/drive/root:';
      for (const p of this.own.get(parent.id) ?? []) out.push({ ...p, inheritedFrom: from });
      parent = parent.parentId ? d.items.get(parent.parentId) : undefined;
    }
    return out;
  }

  /**
   * POST …/createLink (learn.microsoft.com/graph/api/driveitem-createlink): 201 with a permission, or 200 with the
   * existing link of the same type and scope. An "Anyone" link where the tenant disallows it is a 403
   * (github.com/OneDrive/onedrive-api-docs/issues/413, body as in issues/724: accessDenied "Access Denied");
   * a password outside OneDrive personal is a 400 invalidRequest (github.com/MicrosoftDocs/feedback/issues/3419).
   */
  createLink(req: FakeRequest, d: Drive, item: FakeItem): FakeReply {
    const body = req.json<Record<string, unknown>>() ?? {};
    this.bodies.push({ action: 'createLink', body });
    const type = String(body.type ?? '');
    if (!['view', 'edit', 'embed'].includes(type))
      return this.error(400, 'invalidRequest', 'Invalid request');
    const scope = String(body.scope ?? 'organization');
    if (scope === 'anonymous' && !this.anonymousLinks)
      return this.error(403, 'accessDenied', 'Access Denied');
    if (body.password !== undefined && !this.personal(d))
      return this.error(400, 'invalidRequest', 'Invalid request');
    const list = this.own.get(item.id) ?? [];
    const existing = list.find((p) => p.link?.type === type && p.link.scope === scope);
    if (existing) return { status: 200, body: existing };
    const p: FakePermission = {
      id: randomUUID(),
      roles: [type === 'edit' ? 'write' : 'read'],
      link: {
        type,
        scope,
        webUrl: `https://contoso-my.sharepoint.com/:x:/g/${randomBytes(18).toString('base64url')}`,
      },
      ...(typeof body.expirationDateTime === 'string' ? { expirationDateTime: body.expirationDateTime } : {}),
      ...(body.password !== undefined ? { hasPassword: true } : {}),
    };
    this.own.set(item.id, [...list, p]);
    return { status: 201, body: p };
  }

  /**
   * POST …/invite (learn.microsoft.com/graph/api/driveitem-invite): 200 with a permission collection, one per
   * recipient; a person of the directory is granted as grantedToV2.user, a group as grantedToV2.group.
   */
  invite(req: FakeRequest, item: FakeItem): FakeReply {
    const body = req.json<Record<string, unknown>>() ?? {};
    this.bodies.push({ action: 'invite', body });
    const recipients = (body.recipients as Array<{ email?: string }> | undefined) ?? [];
    const roles = (body.roles as string[] | undefined) ?? [];
    if (!recipients.length || !roles.every((r) => r === 'read' || r === 'write') || !roles.length)
      return this.error(400, 'invalidRequest', 'Invalid request');
    if (typeof body.message === 'string' && body.message.length > 2000)
      return this.error(400, 'invalidRequest', 'The message is longer than 2000 characters.');
    const granted: FakePermission[] = recipients.map((r) => {
      const email = String(r.email ?? '');
      const user = this.users(email);
      const group = this.groups.get(email.toLowerCase());
      return {
        id: randomUUID(),
        roles,
        ...(user
          ? { grantedToV2: { user: { id: user.oid, displayName: user.name, email } } }
          : group
            ? { grantedToV2: { group: { id: randomUUID(), displayName: group, email } } }
            : {}),
        invitation: { email, signInRequired: body.requireSignIn !== false },
      };
    });
    this.own.set(item.id, [...(this.own.get(item.id) ?? []), ...granted]);
    if (body.sendInvitation !== false)
      for (const r of recipients)
        this.invitations.push({ to: String(r.email), item: item.name, message: String(body.message ?? '') });
    return { status: 200, body: { value: granted } };
  }

  /**
   * DELETE …/permissions/{id} (learn.microsoft.com/graph/api/permission-delete): 204; only permissions that are
   * not inherited can be deleted (the error for an inherited one is Graph's generic shape, graph/errors).
   */
  remove(d: Drive, item: FakeItem, id: string): FakeReply {
    const list = this.own.get(item.id) ?? [];
    if (!list.some((p) => p.id === id)) {
      const inherited = this.all(d, item).some((p) => p.id === id);
      return inherited
        ? this.error(400, 'invalidRequest', 'Inherited permissions cannot be deleted.')
        : this.error(404, 'itemNotFound', 'The resource could not be found.');
    }
    this.own.set(
      item.id,
      list.filter((p) => p.id !== id),
    );
    return { status: 204 };
  }
}
