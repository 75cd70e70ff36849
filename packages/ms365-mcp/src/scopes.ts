/**
 * What each tool needs from Microsoft Graph, as capabilities, and the delegated scopes they resolve to.
 * The scopes asked for at login and on every call follow the tools actually served: `--read-only` asks
 * for `Mail.Read` instead of `Mail.ReadWrite` and never for `Mail.Send`, a server without the sharepoint
 * toolset never asks for `Sites.Read.All`. Shared mailboxes (`--shared-mailboxes`) add the `.Shared` scopes of the
 * mail and calendar capabilities served, and nothing when they are off.
 */

export type Capability =
  | 'mail.read'
  | 'mail.write'
  | 'mail.send'
  | 'calendar.read'
  | 'calendar.write'
  | 'calendar.shared'
  | 'files.read'
  | 'files.write'
  | 'files.share'
  | 'sites.read';

/** Capabilities only work or school accounts have (personal Microsoft accounts get no such scope). */
export const WORK_ONLY: ReadonlySet<Capability> = new Set(['sites.read', 'calendar.shared']);

const AREA: Record<Capability, 'mail' | 'calendar' | 'files' | 'sites'> = {
  'mail.read': 'mail',
  'mail.write': 'mail',
  'mail.send': 'mail',
  'calendar.read': 'calendar',
  'calendar.write': 'calendar',
  'calendar.shared': 'calendar',
  'files.read': 'files',
  'files.write': 'files',
  'files.share': 'files',
  'sites.read': 'sites',
};

/** The tenant id of personal Microsoft accounts (what `tid` says in their tokens). */
export const CONSUMER_TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';

export function isPersonalTenant(tenant: string | undefined): boolean {
  const t = (tenant ?? '').toLowerCase();
  return t === 'consumers' || t === CONSUMER_TENANT_ID;
}

/**
 * The scope plan of one server: built from the capabilities of the tools it serves. A read tool asks for
 * the write scope of its area when a write tool of that area is served too, so that one sign-in (one
 * cached token) covers every call.
 */
export class ScopePlan {
  private readonly writes = new Set<string>();
  private readonly personal: boolean;
  private readonly shared: boolean;

  constructor(
    served: Iterable<readonly Capability[]>,
    options: { personal?: boolean; sharedMailboxes?: boolean } = {},
  ) {
    this.personal = options.personal ?? false;
    // Personal accounts have no shared mailboxes or delegates to reach.
    this.shared = (options.sharedMailboxes ?? false) && !this.personal;
    const caps = new Set<Capability>();
    for (const needs of served) for (const c of needs) caps.add(c);
    for (const c of caps) if (c.endsWith('.write') || c === 'files.share') this.writes.add(AREA[c]);
    this.all = this.scopesFor([...caps], { otherMailbox: true });
  }

  /** Every scope the served tools need, User.Read first: what `login` asks for. */
  readonly all: string[];

  /**
   * The scopes one call needs. A call in the user's own mailbox needs no `.Shared` scope, so that it works even where
   * the tenant has not consented to them; only a call with a `mailbox` (`otherMailbox`) asks for them.
   */
  scopesFor(needs: readonly Capability[], options: { otherMailbox?: boolean } = {}): string[] {
    const scopes = new Set<string>(['User.Read']);
    const other = this.shared && (options.otherMailbox ?? false);
    for (const c of needs) {
      if (this.personal && WORK_ONLY.has(c)) continue;
      for (const s of this.resolve(c, other)) scopes.add(s);
    }
    return [...scopes];
  }

  private resolve(c: Capability, other: boolean): string[] {
    const shared = (scope: string) => (other ? [scope] : []);
    switch (c) {
      case 'mail.read': {
        const s = this.writes.has('mail') ? 'Mail.ReadWrite' : 'Mail.Read';
        return [s, ...shared(`${s}.Shared`)];
      }
      case 'mail.write':
        return ['Mail.ReadWrite', ...shared('Mail.ReadWrite.Shared')];
      case 'mail.send':
        return ['Mail.Send', ...shared('Mail.Send.Shared')];
      case 'calendar.read': {
        const s = this.writes.has('calendar') ? 'Calendars.ReadWrite' : 'Calendars.Read';
        return [s, ...shared(`${s}.Shared`)];
      }
      case 'calendar.write':
        return ['Calendars.ReadWrite', ...shared('Calendars.ReadWrite.Shared')];
      case 'calendar.shared':
        return ['Calendars.Read.Shared'];
      case 'files.read':
        return [this.writes.has('files') ? 'Files.ReadWrite.All' : 'Files.Read.All'];
      case 'files.write':
      case 'files.share':
        // Also covers items in SharePoint libraries the user can reach (driveItem createLink / invite).
        return ['Files.ReadWrite.All'];
      case 'sites.read':
        return ['Sites.Read.All'];
    }
  }
}

/** Whether a granted scope list covers a needed scope (`Mail.ReadWrite` covers `Mail.Read`). */
export function covers(granted: readonly string[], needed: string): boolean {
  const have = new Set(granted.map((s) => s.toLowerCase()));
  const n = needed.toLowerCase();
  if (have.has(n)) return true;
  const write = n.replace(/\.read(\.|$)/, '.readwrite$1');
  return write !== n && have.has(write);
}
