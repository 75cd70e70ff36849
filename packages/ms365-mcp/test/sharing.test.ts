import { describe, expect, it } from 'vitest';
import type { Drive } from './fake/graph.js';
import { ALICE, folders, signedInServer, withWorld } from './helpers.js';

const BOB = 'bob@contoso.com';
const FINANCE = 'finance@contoso.com';
let drive: Drive;

const permissionRows = (text: string) => text.split('\n').slice(3, -2);

const t = withWorld({
  seed: (world) => {
    world.authority.addUser({ username: BOB, name: 'Bob Builder' });
    world.graph.sharing.groups.set(FINANCE, 'Finance team');
    drive = world.graph.drive(ALICE);
    drive.put('Finance/budget.xlsx', 'cells');
    drive.put('Finance/Q4 report.docx', 'report');
  },
});

describe('ms365_share_file', () => {
  it('makes an organization edit link with createLink, and gives the same link back the second time', async () => {
    const call = await t.server.call('ms365_share_file', {
      path: 'Finance/budget.xlsx',
      access: 'edit',
      scope: 'organization',
      expires: '2099-01-31',
    });
    expect(call.isError).toBe(false);
    expect(t.world.graph.sharing.bodies.at(-1)).toEqual({
      action: 'createLink',
      body: { type: 'edit', scope: 'organization', expirationDateTime: '2099-01-31T00:00:00Z' },
    });
    const [first, id] = call.text.split('\n');
    expect(first).toMatch(
      /^New edit link to «budget\.xlsx» \(organization, expires 2099-01-31 00:00Z\): https:\/\/contoso-my\.sharepoint\.com\/:x:\/g\/\S+$/,
    );
    const again = await t.server.call('ms365_share_file', {
      path: 'Finance/budget.xlsx',
      access: 'edit',
      scope: 'organization',
    });
    expect(again.text.split('\n')[0]).toMatch(/^Existing edit link to /);
    expect(again.text.split('\n')[1]).toBe(id);
  });

  it('says the tenant disallows anonymous links when Graph refuses one', async () => {
    t.world.graph.sharing.anonymousLinks = false;
    try {
      const call = await t.server.call('ms365_share_file', {
        path: 'Finance/budget.xlsx',
        scope: 'anonymous',
      });
      expect(call.isError).toBe(true);
      expect(call.text).toMatch(
        /^Microsoft Graph refused an anonymous link: the tenant’s or site’s sharing policy does not allow "Anyone" links\. Upstream said: Microsoft Graph 403 accessDenied: «Access Denied»/,
      );
      expect(call.text).toContain("Use scope 'organization' or invite the people with recipients");
    } finally {
      t.world.graph.sharing.anonymousLinks = true;
    }
  });

  it('refuses a link password outside OneDrive personal, and never echoes it', async () => {
    const call = await t.server.call('ms365_share_file', {
      path: 'Finance/budget.xlsx',
      password: 'Hunter2-secret',
    });
    expect(call.isError).toBe(true);
    expect(call.text).toMatch(
      /^Microsoft Graph refused a link with a password, which only OneDrive personal links can have\. /,
    );
    expect(call.text).not.toContain('Hunter2-secret');
  });

  it('refuses a message without recipients, and bad addresses, before calling Graph', async () => {
    const before = t.world.graph.sharing.bodies.length;
    const msg = await t.server.call('ms365_share_file', { path: 'Finance/budget.xlsx', message: 'hi' });
    expect(msg.text).toBe(
      'message goes with an invitation: add recipients, or leave message out for a link.',
    );
    const bad = await t.server.call('ms365_share_file', { path: 'Finance/budget.xlsx', recipients: ['bob'] });
    expect(bad.text).toBe("recipients has 'bob', which is not an email address.");
    const past = await t.server.call('ms365_share_file', {
      path: 'Finance/budget.xlsx',
      expires: '2001-01-01',
    });
    expect(past.text).toBe('expires 2001-01-01 is in the past.');
    expect(t.world.graph.sharing.bodies.length).toBe(before);
  });

  it('invites a person and a group with a message, and Graph gets the documented body', async () => {
    const call = await t.server.call('ms365_share_file', {
      path: 'Finance',
      recipients: [BOB, FINANCE],
      access: 'edit',
      message: 'The budget folder, as promised.',
    });
    expect(call.isError).toBe(false);
    expect(t.world.graph.sharing.bodies.at(-1)).toEqual({
      action: 'invite',
      body: {
        recipients: [{ email: BOB }, { email: FINANCE }],
        roles: ['write'],
        requireSignIn: true,
        sendInvitation: true,
        message: 'The budget folder, as promised.',
      },
    });
    expect(call.text.split('\n')[0]).toBe(
      'Edit access to «Finance» for 2 recipient(s); invitations emailed.',
    );
    expect(
      call.text
        .split('\n')
        .slice(3, -1)
        .map((r) => r.split(',').slice(0, 2).join(',')),
    ).toEqual(['Bob Builder <bob@contoso.com>,write', 'Finance team <finance@contoso.com>,write']);
    expect(t.world.graph.sharing.invitations.slice(-2).map((i) => i.to)).toEqual([BOB, FINANCE]);
  });
});

describe('ms365_list_permissions and ms365_remove_permission', () => {
  it('lists the file’s own link and the folder’s invitations as inherited, and removes only its own', async () => {
    const list = await t.server.call('ms365_list_permissions', { path: 'Finance/budget.xlsx' });
    expect(list.isError).toBe(false);
    expect(list.text.split('\n')[2]).toBe('permission_id,kind,who,roles,inherited_from,expires,url');
    const r = permissionRows(list.text).map((l) => l.split(','));
    expect(r.map((c) => [c[1], c[2], c[3], c[4]])).toEqual([
      ['edit link (organization)', '', 'write', ''],
      ['person', 'Bob Builder <bob@contoso.com>', 'write', '/Finance'],
      ['group', 'Finance team <finance@contoso.com>', 'write', '/Finance'],
    ]);
    expect(list.text.split('\n').at(-1)).toBe('3 permissions.');

    const inherited = await t.server.call('ms365_remove_permission', {
      path: 'Finance/budget.xlsx',
      permission_id: r[1]![0],
    });
    expect(inherited.isError).toBe(true);
    expect(inherited.text).toBe(
      'That permission is inherited from the folder /Finance, so it cannot be removed here. Remove it on that folder (ms365_list_permissions on the folder shows its id).',
    );

    const removed = await t.server.call('ms365_remove_permission', {
      path: 'Finance/budget.xlsx',
      permission_id: r[0]![0],
    });
    expect(removed.text).toBe('Removed the edit link (organization) permission.');
    const after = await t.server.call('ms365_list_permissions', { path: 'Finance/budget.xlsx' });
    expect(permissionRows(after.text)).toHaveLength(2);

    const gone = await t.server.call('ms365_remove_permission', {
      path: 'Finance/budget.xlsx',
      permission_id: r[0]![0],
    });
    expect(gone.isError).toBe(true);
    expect(gone.text).toMatch(
      /^The item has no permission with id '.+'\. Upstream said: Microsoft Graph 404/,
    );
  });
});

describe('read-only mode', () => {
  it('serves ms365_list_permissions but neither sharing writer, and asks for no write scope', async () => {
    const ro = folders();
    const s = await signedInServer(t.world, ro, { args: ['--read-only', '--toolsets', 'sharing'] });
    try {
      expect((await s.client.listTools()).tools.map((t) => t.name)).toEqual(['ms365_list_permissions']);
      const tokens = [...t.world.authority.issued.values()].filter((t) => t.username === ALICE);
      expect(tokens.at(-1)!.scopes.join(' ')).not.toMatch(/ReadWrite/);
    } finally {
      await s.close();
      ro.cleanup();
    }
  });
});
