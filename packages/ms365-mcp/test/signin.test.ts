// Device-code sign-in through the built CLI against testkit's fake Azure AD: login, status and logout, a call
// without a usable sign-in, consent, profiles and personal Microsoft accounts.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnServer } from '@switchyard/testkit';
import { CONSUMER_TENANT } from './fake/graph.js';
import { ALICE, bin, cli, folders, hostEnv, login, signedInServer, withWorld } from './helpers.js';

const DANA = 'dana@contoso.com';
const PAT = 'pat@outlook.com';

const t = withWorld({
  seed: (world) => {
    // Dana may not consent to Mail.Send (a tenant policy); Pat has a personal Microsoft account.
    world.authority.addUser({
      username: DANA,
      name: 'Dana Scully',
      consented: [
        'User.Read',
        'Mail.Read',
        'Mail.ReadWrite',
        'Calendars.Read',
        'Calendars.ReadWrite',
        'Calendars.Read.Shared',
        'Files.Read.All',
        'Files.ReadWrite.All',
        'Sites.Read.All',
      ],
    });
    world.authority.addUser({ username: PAT, name: 'Pat', tenantId: CONSUMER_TENANT });
    world.graph.mailbox(ALICE).add({ subject: 'Hello Alice' });
    world.graph.mailbox(DANA).add({ subject: 'Hello Dana' });
    world.graph.mailbox(PAT).add({ subject: 'Hello Pat' });
  },
  signIn: false,
  server: false,
});

/** The scopes of the last device-code request (without MSAL's OIDC scopes). */
function requestedScopes(): string[] {
  const req = t.world.authority.service.requestsTo(/\/oauth2\/v2\.0\/devicecode$/, 'POST').at(-1)!;
  return (new URLSearchParams(req.body).get('scope') ?? '')
    .split(' ')
    .filter((s) => !['openid', 'profile', 'offline_access'].includes(s));
}

describe('login, status, logout', () => {
  it('with a lost or damaged store key, login says what was lost before any device code; logout then login recovers', async () => {
    const dirs = folders();
    try {
      expect((await login(t.world, dirs)).code).toBe(0);
      const keyFile = join(dirs.configDir, 'secret.key');
      const sentence = (why: string) =>
        `2 stored secrets can no longer be read because the key file ${keyFile} that encrypts them is ${why}: switchyard/ms365/default (msal-token-cache, settings). Run \`ms365-mcp logout\`, then \`ms365-mcp login\`, to store them again under a new key (nothing was changed).`;
      for (const [why, damage] of [
        ['missing', () => rmSync(keyFile)],
        ['damaged (not a 32-byte key)', () => writeFileSync(keyFile, 'x'.repeat(44))],
      ] as const) {
        damage();
        const deviceCodes = t.world.authority.service.requestsTo(/devicecode$/, 'POST').length;
        for (const env of [{}, { MS365_TENANT_ID: 'organizations' }]) {
          const refused = await login(t.world, dirs, { env });
          expect(refused.code).toBe(1);
          expect(refused.stderr.trim().split('\n').at(-1)).toBe(`ms365-mcp: ${sentence(why)}`);
          expect(refused.stderr).not.toMatch(/devicelogin|Invalid key length/);
        }
        expect(t.world.authority.service.requestsTo(/devicecode$/, 'POST').length).toBe(deviceCodes);
        expect((await cli(t.world, dirs, ['status'])).stdout).toContain(`Signed in: no. ${sentence(why)}\n`);
        const out = await cli(t.world, dirs, ['logout']);
        expect(out.code).toBe(0);
        expect((await login(t.world, dirs)).code).toBe(0);
        expect((await cli(t.world, dirs, ['status'])).stdout).toContain('Signed in: alice@contoso.com\n');
      }
    } finally {
      dirs.cleanup();
    }
  });

  it('signs in with a device code shown on stderr, and asks for the scopes of every toolset', async () => {
    const dirs = folders();
    try {
      const result = await login(t.world, dirs);
      expect(result.code).toBe(0);
      expect(result.stderr).toMatch(
        /To sign in, use a web browser to open the page https:\/\/localhost:\d+\/devicelogin and enter the code [0-9A-F]{8} to authenticate\./,
      );
      expect(result.stdout).not.toContain('devicelogin');
      expect(requestedScopes()).toEqual([
        'User.Read',
        'Mail.ReadWrite',
        'Mail.Send',
        'Calendars.ReadWrite',
        'Calendars.Read.Shared',
        'Files.ReadWrite.All',
        'Sites.Read.All',
      ]);
      const lines = result.stdout.trim().split('\n');
      expect(lines[0]).toBe('Signed in as alice@contoso.com (profile default, tenant organizations).');
      expect(lines[1]).toBe(
        'Granted: User.Read Mail.ReadWrite Mail.Send Calendars.ReadWrite Calendars.Read.Shared Files.ReadWrite.All Sites.Read.All',
      );
      expect(lines[2]).toMatch(
        /^Access token valid until \d{4}-\d{2}-\d{2} \d{2}:\d{2}Z \(in 60 min\); it is refreshed silently from now on\.$/,
      );
      expect(lines[3]).toMatch(
        /^Token cache: encrypted files under .* \(no OS keychain: SWITCHYARD_KEYCHAIN is off\)\.$/,
      );

      const status = await cli(t.world, dirs, ['status']);
      expect(status.code).toBe(0);
      expect(status.stdout).toContain('Signed in: alice@contoso.com\n');
      expect(status.stdout).toContain(
        'Granted scopes: User.Read Mail.ReadWrite Mail.Send Calendars.ReadWrite Calendars.Read.Shared Files.ReadWrite.All Sites.Read.All\n',
      );
      expect(status.stdout).toMatch(/Access token expires: \d{4}-\d{2}-\d{2} \d{2}:\d{2}Z \(in \d+ min\)\n/);
      expect(status.stdout).toContain('Graph answered: Alice Example <alice@contoso.com>\n');
      expect(status.stdout).not.toMatch(/Missing:/);

      const out = await cli(t.world, dirs, ['logout']);
      expect(out.stdout.trim()).toBe(
        'Signed out of profile default: removed 1 account(s) and the token cache.',
      );
      const after = await cli(t.world, dirs, ['status']);
      expect(after.code).toBe(1);
      expect(after.stdout).toContain('Signed in: no. Not signed in. Run `ms365-mcp login` in a terminal.\n');
    } finally {
      dirs.cleanup();
    }
  });

  it('asks only for what --read-only and --toolsets serve', async () => {
    const dirs = folders();
    try {
      expect((await login(t.world, dirs, { args: ['--read-only'] })).code).toBe(0);
      expect(requestedScopes()).toEqual([
        'User.Read',
        'Mail.Read',
        'Calendars.Read',
        'Calendars.Read.Shared',
        'Files.Read.All',
        'Sites.Read.All',
      ]);
      expect((await login(t.world, dirs, { args: ['--toolsets', 'mail'] })).code).toBe(0);
      expect(requestedScopes()).toEqual(['User.Read', 'Mail.ReadWrite', 'Mail.Send']);
      expect(
        (await login(t.world, dirs, { env: { MS365_TOOLSETS: 'files', MS365_READ_ONLY: '1' } })).code,
      ).toBe(0);
      expect(requestedScopes()).toEqual(['User.Read', 'Files.Read.All']);
      // A server that serves more than was granted says what is missing.
      const status = await cli(t.world, dirs, ['status']);
      expect(status.stdout).toContain(
        'Missing: Mail.ReadWrite Mail.Send Calendars.ReadWrite Calendars.Read.Shared Files.ReadWrite.All Sites.Read.All — run `ms365-mcp login` again (without --read-only for write scopes).\n',
      );
    } finally {
      dirs.cleanup();
    }
  });

  it('needs a client id, and remembers it for the server', async () => {
    const dirs = folders();
    try {
      const none = await login(t.world, dirs, { env: { MS365_CLIENT_ID: undefined } });
      expect(none.code).toBe(2);
      expect(none.stderr.trim().split('\n').at(-1)).toBe(
        'ms365-mcp: MS365_CLIENT_ID is not set, so there is no app to sign in with. Register an app in Entra ID (App registrations → New registration), turn on "Allow public client flows" under Authentication, add the delegated Microsoft Graph permissions, then set MS365_CLIENT_ID to its Application (client) id.',
      );
      expect((await login(t.world, dirs)).code).toBe(0);
      const server = await spawnServer(bin, {
        configDir: dirs.configDir,
        dataDir: dirs.dataDir,
        env: hostEnv(t.world, { MS365_CLIENT_ID: undefined }),
      });
      try {
        const call = await server.call('ms365_list_messages', {});
        expect(call.text).toContain('Hello Alice');
      } finally {
        await server.close();
      }
    } finally {
      dirs.cleanup();
    }
  });

  it('keeps profiles apart', async () => {
    const dirs = folders();
    try {
      expect((await login(t.world, dirs, { args: ['--profile', 'work'] })).code).toBe(0);
      expect((await cli(t.world, dirs, ['status', '--profile', 'work'])).code).toBe(0);
      const other = await cli(t.world, dirs, ['status']);
      expect(other.code).toBe(1);
      const server = await spawnServer(bin, {
        configDir: dirs.configDir,
        dataDir: dirs.dataDir,
        env: hostEnv(t.world),
      });
      try {
        expect((await server.call('ms365_list_messages', {})).text).toBe(
          'Not signed in. Run `ms365-mcp login` in a terminal.',
        );
      } finally {
        await server.close();
      }
      const work = await spawnServer(bin, {
        configDir: dirs.configDir,
        dataDir: dirs.dataDir,
        env: hostEnv(t.world),
        args: ['--profile', 'work'],
      });
      try {
        expect((await work.call('ms365_list_messages', {})).text).toContain('Hello Alice');
        const otherHint = await cli(t.world, dirs, ['status', '--profile', 'home']);
        expect(otherHint.stdout).toContain(
          'Not signed in. Run `ms365-mcp login --profile home` in a terminal.',
        );
      } finally {
        await work.close();
      }
    } finally {
      dirs.cleanup();
    }
  });
});

describe('a call without a usable sign-in', () => {
  it('answers with what to run at once and never starts a sign-in', async () => {
    const dirs = folders();
    const before = t.world.authority.service.requestsTo(/devicecode/).length;
    const server = await spawnServer(bin, {
      configDir: dirs.configDir,
      dataDir: dirs.dataDir,
      env: hostEnv(t.world),
    });
    try {
      const call = await server.call('ms365_list_messages', {});
      expect(call.isError).toBe(true);
      expect(call.text).toBe('Not signed in. Run `ms365-mcp login` in a terminal.');
      expect(t.world.authority.service.requestsTo(/devicecode/).length).toBe(before);
    } finally {
      await server.close();
      dirs.cleanup();
    }
  });

  it('says how to configure the app when there is no client id at all', async () => {
    const dirs = folders();
    const server = await spawnServer(bin, {
      configDir: dirs.configDir,
      dataDir: dirs.dataDir,
      env: hostEnv(t.world, { MS365_CLIENT_ID: undefined }),
    });
    try {
      const call = await server.call('ms365_list_events', {});
      expect(call.text).toBe(
        'Not signed in: no app registration is configured (MS365_CLIENT_ID is not set). Set MS365_CLIENT_ID to the client id of your Azure app registration and run `ms365-mcp login` in a terminal.',
      );
    } finally {
      await server.close();
      dirs.cleanup();
    }
  });

  it('says to run login when the token expired and the refresh token was revoked, and recovers after login', async () => {
    const dirs = folders();
    t.world.authority.accessTokenSeconds = 120; // shorter than MSAL's 5-minute margin: every call refreshes
    const server = await signedInServer(t.world, dirs);
    try {
      expect((await server.call('ms365_list_messages', {})).isError).toBe(false);
      t.world.authority.revokeRefreshTokens();
      const call = await server.call('ms365_list_messages', {});
      expect(call.isError).toBe(true);
      expect(call.text).toBe(
        'The saved sign-in can no longer be refreshed (AADSTS70008). Upstream said: Azure AD AADSTS70008: «The provided authorization code or refresh token has expired due to inactivity or was already used.» Run `ms365-mcp login` in a terminal.',
      );
      expect((await login(t.world, dirs)).code).toBe(0);
      expect((await server.call('ms365_list_messages', {})).text).toContain('Hello Alice');
    } finally {
      t.world.authority.accessTokenSeconds = 3600;
      await server.close();
      dirs.cleanup();
    }
  });

  it('refreshes once when Graph refuses the access token, then says to run login if that fails', async () => {
    const dirs = folders();
    const server = await signedInServer(t.world, dirs);
    try {
      // Graph forgets every token (revoked sessions), and the refresh tokens are gone too.
      t.world.authority.issued.clear();
      t.world.authority.revokeRefreshTokens();
      const call = await server.call('ms365_list_messages', {});
      expect(call.text).toBe(
        'The saved sign-in can no longer be refreshed (AADSTS70008). Upstream said: Azure AD AADSTS70008: «The provided authorization code or refresh token has expired due to inactivity or was already used.» Run `ms365-mcp login` in a terminal.',
      );
      expect(t.world.graph.service.requestsTo('/v1.0/me/mailFolders/inbox/messages').at(-1)!.status).toBe(
        401,
      );
    } finally {
      await server.close();
      dirs.cleanup();
    }
  });
});

describe('consent', () => {
  it('names the scope that lacks consent, at login and per call, while other tools keep working', async () => {
    const dirs = folders();
    try {
      const full = await login(t.world, dirs, { username: DANA });
      expect(full.code).toBe(1);
      expect(full.stderr).toContain(
        'ms365-mcp: The account has not consented to the scopes Mail.Send for this app (AADSTS65001). Upstream said: Azure AD AADSTS65001:',
      );
      const server = await signedInServer(t.world, dirs, { username: DANA, loginArgs: ['--read-only'] });
      try {
        expect((await server.call('ms365_list_messages', {})).text).toContain('Hello Dana');
        const send = await server.call('ms365_send_mail', { to: [ALICE], subject: 'hi', body: 'x' });
        expect(send.isError).toBe(true);
        expect(send.text).toMatch(
          /^The account has not consented to the scopes Mail\.Send for this app \(AADSTS65001\)\. Upstream said: Azure AD AADSTS65001: «.* Missing: Mail\.Send»\. Ask an administrator to grant consent to the app registration, or run `ms365-mcp login` in a terminal and accept the consent prompt\.$/,
        );
        // The refused refresh did not cost the sign-in.
        expect((await server.call('ms365_list_events', {})).isError).toBe(false);
      } finally {
        await server.close();
      }
    } finally {
      dirs.cleanup();
    }
  });

  it('names the scope a supplied token lacks when Graph answers 403', async () => {
    const dirs = folders();
    const token = t.world.authority.mint({
      username: ALICE,
      scopes: ['User.Read', 'Mail.Read'],
      audience: 'https://graph.microsoft.com',
    });
    const server = await spawnServer(bin, {
      configDir: dirs.configDir,
      dataDir: dirs.dataDir,
      env: hostEnv(t.world, { MS365_ACCESS_TOKEN: token }),
    });
    try {
      expect((await server.call('ms365_list_messages', {})).text).toContain('Hello Alice');
      const call = await server.call('ms365_send_mail', { to: [DANA], subject: 'x' });
      expect(call.text).toMatch(
        /^The sign-in has no consent for Mail\.Send, Mail\.ReadWrite, which this call needs\. Upstream said: Microsoft Graph 403 ErrorAccessDenied: «Access is denied\. Check credentials and try again\.» \(request id [0-9a-f-]{36}\)\. Supply a token that carries this scope, or unset MS365_ACCESS_TOKEN and sign in\.$/,
      );
      expect(server.stderr()).not.toContain(token);
      expect(call.text).not.toContain(token);
    } finally {
      await server.close();
      dirs.cleanup();
    }
  });

  it('says when a supplied token expired', async () => {
    const dirs = folders();
    const token = t.world.authority.mint({
      username: ALICE,
      scopes: ['User.Read', 'Mail.Read'],
      seconds: -10,
    });
    const server = await spawnServer(bin, {
      configDir: dirs.configDir,
      dataDir: dirs.dataDir,
      env: hostEnv(t.world, { MS365_ACCESS_TOKEN: token }),
    });
    try {
      const call = await server.call('ms365_list_messages', {});
      expect(call.text).toMatch(
        /^Microsoft Graph refused the token in MS365_ACCESS_TOKEN \(expired, revoked or not for Graph\)\. Upstream said: Microsoft Graph 401 InvalidAuthenticationToken: «Lifetime validation failed, the token is expired\.» \(request id [0-9a-f-]{36}\)\. Supply a fresh token, or unset MS365_ACCESS_TOKEN and run `ms365-mcp login` in a terminal\.$/,
      );
    } finally {
      await server.close();
      dirs.cleanup();
    }
  });
});

describe('personal Microsoft accounts', () => {
  it('signs in through consumers without work-only scopes, and explains that SharePoint needs a work account', async () => {
    const dirs = folders();
    const server = await signedInServer(t.world, dirs, {
      username: PAT,
      env: { MS365_TENANT_ID: 'consumers' },
    });
    try {
      expect(requestedScopes()).toEqual([
        'User.Read',
        'Mail.ReadWrite',
        'Mail.Send',
        'Calendars.ReadWrite',
        'Files.ReadWrite.All',
      ]);
      expect((await server.call('ms365_list_messages', {})).text).toContain('Hello Pat');
      const before = t.world.graph.service.requestsTo(/^\/v1\.0\/sites/).length;
      const sites = await server.call('ms365_search_sites', { query: 'sales' });
      expect(sites.isError).toBe(true);
      expect(sites.text).toBe(
        'SharePoint needs a work or school account; the signed-in account (pat@outlook.com) is a personal Microsoft account, so ms365_search_sites cannot work with it. Use the OneDrive tools (ms365_list_files, ms365_search_files) for personal files, or sign in with a work account (MS365_TENANT_ID=organizations).',
      );
      const meeting = await server.call('ms365_find_meeting_times', { attendees: [ALICE] });
      expect(meeting.text).toMatch(
        /^Finding meeting times needs a work or school account; .* so ms365_find_meeting_times cannot work with it\./,
      );
      expect(t.world.graph.service.requestsTo(/^\/v1\.0\/sites/).length).toBe(before);
    } finally {
      await server.close();
      dirs.cleanup();
    }
  });

  it('recognises a personal account from its token too', async () => {
    const dirs = folders();
    const token = t.world.authority.mint({ username: PAT, scopes: ['User.Read', 'Sites.Read.All'] });
    const server = await spawnServer(bin, {
      configDir: dirs.configDir,
      dataDir: dirs.dataDir,
      env: hostEnv(t.world, { MS365_ACCESS_TOKEN: token }),
    });
    try {
      const call = await server.call('ms365_list_site_libraries', {
        site: 'https://contoso.sharepoint.com/sites/Sales',
      });
      expect(call.text).toBe(
        'SharePoint needs a work or school account; the signed-in account (pat@outlook.com) is a personal Microsoft account, so ms365_list_site_libraries cannot work with it. Use the OneDrive tools (ms365_list_files, ms365_search_files) for personal files, or sign in with a work account (MS365_TENANT_ID=organizations).',
      );
    } finally {
      await server.close();
      dirs.cleanup();
    }
  });
});

describe('two hosts sharing one sign-in', () => {
  it('never loses a rotated refresh token', async () => {
    const dirs = folders();
    t.world.authority.accessTokenSeconds = 120; // every call refreshes, and every refresh rotates the refresh token
    const first = await signedInServer(t.world, dirs);
    const second = await spawnServer(bin, {
      configDir: dirs.configDir,
      dataDir: dirs.dataDir,
      env: hostEnv(t.world),
    });
    try {
      const refreshes = () =>
        t.world.authority.service
          .requestsTo(/\/oauth2\/v2\.0\/token$/, 'POST')
          .filter((r) => r.body.includes('grant_type=refresh_token'));
      const before = refreshes().length;
      // Callers within one process share one refresh (core's TokenCache); the two processes race each round.
      const results = [];
      for (let i = 0; i < 6; i++) {
        results.push(
          ...(await Promise.all([
            first.call('ms365_list_messages', { top: 1 }),
            second.call('ms365_list_messages', { top: 1 }),
          ])),
        );
      }
      expect(results.map((r) => r.isError)).toEqual(Array(12).fill(false));
      const used = refreshes().slice(before);
      expect(used.length).toBeGreaterThanOrEqual(12);
      expect(used.every((r) => r.status === 200)).toBe(true);
      // A third process (the CLI) still finds a working refresh token.
      expect((await cli(t.world, dirs, ['status'])).code).toBe(0);
      for (const token of t.world.authority.issued.keys()) {
        expect(first.stderr()).not.toContain(token);
        expect(second.stderr()).not.toContain(token);
      }
    } finally {
      t.world.authority.accessTokenSeconds = 3600;
      await first.close();
      await second.close();
      dirs.cleanup();
    }
  });
});
