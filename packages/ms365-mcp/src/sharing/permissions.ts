/** Sharing permissions of drive items as Graph returns them, and how a line names one. */
/** A sharing permission (learn.microsoft.com/graph/api/resources/permission). */
export interface Identity {
  id?: string;
  displayName?: string;
  email?: string;
}
export interface Permission {
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

export const PERMISSION_SELECT =
  'id,roles,link,grantedToV2,grantedToIdentitiesV2,invitation,inheritedFrom,expirationDateTime,hasPassword';

export function who(p: Permission): string {
  const one = (i: Identity | undefined) =>
    i ? (i.email && i.displayName ? `${i.displayName} <${i.email}>` : (i.email ?? i.displayName ?? '')) : '';
  const g = p.grantedToV2;
  const direct = one(g?.user) || one(g?.group) || one(g?.siteUser) || one(g?.siteGroup);
  if (direct) return direct;
  const many = (p.grantedToIdentitiesV2 ?? []).map((x) => one(x.user) || one(x.group)).filter(Boolean);
  if (many.length) return many.join('; ');
  return p.invitation?.email ?? '';
}

export function kind(p: Permission): string {
  if (p.link) return `${p.link.type ?? ''} link (${p.link.scope ?? 'default'})`;
  if (p.roles?.includes('owner')) return 'owner';
  return p.grantedToV2?.group || p.grantedToV2?.siteGroup ? 'group' : 'person';
}

/** Where an inherited permission comes from: the folder path Graph names (`/drive/root:/Finance`). */
export function inherited(p: Permission): string {
  if (!p.inheritedFrom) return '';
  const path = (p.inheritedFrom.path ?? '')
    .replace(/^\/drives?\/[^/]*\/?root:?/, '')
    .replace(/^\/drive\/root:?/, '');
  return decodeURIComponent(path) || '/';
}
