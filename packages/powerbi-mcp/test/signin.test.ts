// Sign-in through core's AzureSignIn with the real msal-node against testkit's fake Azure AD: service
// principal (secret from env or stored by `login`, certificate), device code through the CLI, a supplied
// token, clouds, and what `status` and `logout` say.
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  isolatedEnv,
  keychainStatus,
  rowsOf,
  runBin,
  spawnServer,
  tempDir,
  deviceCodeLogin,
  serverFolders,
} from '@switchyard/testkit';
import { FakePowerBi } from './fake/index.js';
import { ALICE, bin, CERT_APP, hostEnv, PUBLIC_APP, SP, TENANT, withWorld } from './helpers.js';

const t = withWorld({ server: false });

const at = { workspace: 'Sales Analytics', dataset: 'Sales Model' };

/** One user's machine: its own config and data folders, the fake endpoints, no credentials in the env. */
function machine(extra: Record<string, string | undefined> = {}) {
  const dirs = serverFolders([], 'pbi-');
  const env = isolatedEnv({
    configDir: dirs.configDir,
    dataDir: dirs.dataDir,
    env: { POWERBI_API_URL: t.world.pbi.apiUrl, AZURE_AUTHORITY_HOST: t.world.authority.host, ...extra },
  });
  return {
    env,
    configDir: dirs.configDir,
    run: (args: string[], input?: string) =>
      runBin(bin, args, { env, ...(input !== undefined ? { input } : {}) }),
    server: (args: string[] = []) =>
      spawnServer(bin, {
        configDir: dirs.configDir,
        dataDir: dirs.dataDir,
        args,
        env: { POWERBI_API_URL: t.world.pbi.apiUrl, AZURE_AUTHORITY_HOST: t.world.authority.host, ...extra },
      }),
    /** Every byte stored under the config folder, to prove no secret sits there in the clear. */
    stored: () =>
      filesUnder(dirs.configDir)
        .map((p) => readFileSync(p, 'utf8'))
        .join('\n'),
    cleanup: dirs.cleanup,
  };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Run `login` for a device code, read the code from stderr and approve it as a user, as a person would. */
function deviceLogin(m: ReturnType<typeof machine>, args: string[], user = ALICE) {
  return deviceCodeLogin(t.world.authority, bin, { args, env: m.env, username: user });
}

describe('service principal', () => {
  it('from the environment: status says who, how, until when, and what is reachable', async () => {
    const m = machine(hostEnv(t.world));
    try {
      const status = await m.run(['status']);
      expect(status.code).toBe(0);
      const lines = status.stdout.trimEnd().split('\n');
      expect(lines.slice(0, 3)).toEqual([
        'Profile: default',
        `Signed in: service principal ${SP.clientId} in tenant ${TENANT}, with client credentials from env POWERBI_CLIENT_SECRET`,
        `Cloud: public (API ${t.world.pbi.apiUrl}, authority ${t.world.authority.host})`,
      ]);
      expect(lines[3]).toMatch(
        /^Access token valid until \d{4}-\d\d-\d\dT[\d:.]+Z \((59|60) min from now\)$/,
      );
      expect(lines.slice(4, 6)).toEqual([
        'Workspaces reachable: 27',
        "DAX queries: work (checked on 'Sales Model' in 'Sales Analytics')",
      ]);
      expect(lines[6]).toMatch(/^Secrets: encrypted files under /);
      expect(status.stdout + status.stderr).not.toContain(SP.secret);
    } finally {
      m.cleanup();
    }
  });

  it('keeps a password inside POWERBI_API_URL (a proxy) out of status, tool results and the debug log', async () => {
    const PASSWORD = 'Pr0xyPassw0rd';
    const apiUrl = t.world.pbi.apiUrl.replace('://', `://proxy-user:${PASSWORD}@`);
    const m = machine({ ...hostEnv(t.world), POWERBI_API_URL: apiUrl, SWITCHYARD_LOG_LEVEL: 'debug' });
    try {
      const status = await m.run(['status']);
      expect(status.stdout).toContain(`API ${apiUrl.replace(PASSWORD, '[redacted]')}`);
      expect(status.stdout + status.stderr).not.toContain(PASSWORD);
      const server = await m.server();
      try {
        const call = await server.call('powerbi_list_workspaces', {});
        expect(JSON.stringify(call.result)).not.toContain(PASSWORD);
        await expect.poll(() => server.stderr()).toContain('DEBUG');
        expect(server.stderr()).not.toContain(PASSWORD);
      } finally {
        await server.close();
      }
    } finally {
      m.cleanup();
    }
  });

  it('stored by `login --service-principal` with the secret piped on stdin, used by the server, removed by logout', async () => {
    const m = machine();
    try {
      const login = await m.run(
        ['login', '--service-principal', '--tenant', TENANT, '--client-id', SP.clientId],
        `${SP.secret}\n`,
      );
      expect(login.stderr).not.toContain(SP.secret);
      expect(login.code).toBe(0);
      const lines = login.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(
        new RegExp(
          `^Signed in as service principal ${SP.clientId} in tenant ${TENANT} \\(public cloud\\); its secret is stored in the encrypted files under .+\\.$`,
        ),
      );
      expect(lines.slice(1)).toEqual([
        'Workspaces reachable: 27',
        "DAX queries: work (checked on 'Sales Model' in 'Sales Analytics')",
      ]);
      expect(login.stdout).not.toContain(SP.secret);
      expect(m.stored()).not.toContain(SP.secret);

      const server = await m.server();
      try {
        const tokenPosts = t.world.authority.service.requestsTo(/token$/, 'POST').length;
        const call = await server.call('powerbi_execute_dax', {
          ...at,
          query: 'EVALUATE ROW("n", [Order Count])',
        });
        expect(rowsOf(call)).toEqual([['1000']]);
        // Core's sign-in holds the app token: a second call asks Azure AD for nothing.
        expect((await server.call('powerbi_list_workspaces', { top: 1 })).isError).toBe(false);
        expect(t.world.authority.service.requestsTo(/token$/, 'POST').length).toBe(tokenPosts + 1);
        expect(server.stderr()).not.toContain(SP.secret);
      } finally {
        await server.close();
      }

      const logout = await m.run(['logout']);
      expect(logout.stdout.trim()).toBe(
        'Signed out of profile default: removed the sign-in settings, the client secret.',
      );
      const status = await m.run(['status']);
      expect(status.code).toBe(1);
      expect(status.stdout.trim().split('\n')[1]).toBe(
        'Signed in: no. Not signed in to Power BI. Run `powerbi-mcp login` (a user, by device code) or `powerbi-mcp login --service-principal`, or give the server POWERBI_TENANT_ID, POWERBI_CLIENT_ID and POWERBI_CLIENT_SECRET (or POWERBI_ACCESS_TOKEN) in its environment.',
      );
    } finally {
      m.cleanup();
    }
  });

  it('refuses a wrong secret without echoing it, and stores nothing', async () => {
    const m = machine();
    try {
      const wrong = 'not-the-secret-5678';
      const login = await m.run(
        ['login', '--service-principal', '--tenant', TENANT, '--client-id', SP.clientId],
        `${wrong}\n`,
      );
      expect(login.code).toBe(1);
      // The question goes to stderr on its own line when the answer is piped; the error follows it.
      expect(login.stderr.trim()).toBe(
        `Client secret of app ${SP.clientId}: \n` +
          "powerbi-mcp: Azure AD refused the app's credentials during service principal sign-in. Upstream said: Azure AD AADSTS7000215: «Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.» Check the tenant id, client id and secret or certificate (an expired secret gives AADSTS7000222).",
      );
      expect(login.stdout + login.stderr).not.toContain(wrong);
      expect((await m.run(['status'])).code).toBe(1);
    } finally {
      m.cleanup();
    }
  });

  it('with a certificate instead of a secret', async () => {
    const m = machine();
    const dir = tempDir('pbi-cert-');
    try {
      const pem = join(dir.path, 'app.pem');
      writeFileSync(pem, t.world.certificatePem, { mode: 0o600 });
      const login = await m.run([
        'login',
        '--service-principal',
        '--tenant',
        TENANT,
        '--client-id',
        CERT_APP,
        '--certificate',
        pem,
      ]);
      expect(login.code).toBe(0);
      expect(login.stdout.split('\n')[0]).toMatch(
        /^Signed in as service principal .+; its certificate is stored in /,
      );
      expect(m.stored()).not.toContain('PRIVATE KEY');
      const server = await m.server();
      try {
        const call = await server.call('powerbi_list_datasets', { workspace: 'Sales Analytics' });
        expect(call.isError).toBe(false);
        const issued = [...t.world.authority.issued.values()].filter((t) => t.clientId === CERT_APP);
        expect(issued.length).toBeGreaterThan(0);
        expect(issued[0]).toMatchObject({
          kind: 'app',
          audience: 'https://analysis.windows.net/powerbi/api',
        });
      } finally {
        await server.close();
      }
      // The same certificate from the environment, without a stored sign-in.
      const fromEnv = machine({
        ...hostEnv(t.world),
        POWERBI_CLIENT_ID: CERT_APP,
        POWERBI_CLIENT_SECRET: undefined,
        POWERBI_CLIENT_CERTIFICATE: pem,
      });
      const envServer = await fromEnv.server();
      try {
        expect((await envServer.call('powerbi_list_workspaces', { top: 1 })).isError).toBe(false);
        expect((await fromEnv.run(['status'])).stdout).toContain(
          `Signed in: service principal ${CERT_APP} in tenant ${TENANT}, with client credentials from the certificate ${pem} (env POWERBI_CLIENT_CERTIFICATE)`,
        );
      } finally {
        await envServer.close();
        fromEnv.cleanup();
      }
    } finally {
      dir.cleanup();
      m.cleanup();
    }
  });

  it('status says in plain words which tenant setting or role is missing', async () => {
    const m = machine(hostEnv(t.world));
    try {
      t.world.pbi.settings.executeQueriesEnabled = false;
      let status = await m.run(['status']);
      expect(status.code).toBe(1);
      expect(status.stdout).toContain(
        `DAX queries on 'Sales Model' in 'Sales Analytics' fail. Power BI refused to run DAX for service principal ${SP.clientId}: the tenant setting 'Dataset Execute Queries REST API' is off or does not include this identity.`,
      );
      t.world.pbi.settings.executeQueriesEnabled = true;
      t.world.pbi.settings.servicePrincipalsEnabled = false;
      status = await m.run(['status']);
      expect(status.code).toBe(1);
      expect(status.stdout).toContain(
        `Workspaces: the call failed. Power BI refused the call for service principal ${SP.clientId}. Upstream said: Power BI 401 PowerBINotAuthorizedException. A Power BI admin must turn on 'Service principals can call Fabric public APIs' (Admin portal → Tenant settings → Developer settings) for a security group that holds the app, and the app needs a role in the workspace.`,
      );
    } finally {
      t.world.pbi.settings.executeQueriesEnabled = true;
      t.world.pbi.settings.servicePrincipalsEnabled = true;
      m.cleanup();
    }
    t.world.authority.addApp({ clientId: 'lonely-app', clientSecret: 'lonely-secret-123' });
    const lonely = machine({
      ...hostEnv(t.world),
      POWERBI_CLIENT_ID: 'lonely-app',
      POWERBI_CLIENT_SECRET: 'lonely-secret-123',
    });
    try {
      const status = await lonely.run(['status']);
      expect(status.code).toBe(1);
      expect(status.stdout).toContain(
        'Workspaces reachable: 0\nProblem: the service principal is in no workspace. Add it to each workspace it should read (Manage access → Viewer; Contributor to refresh).',
      );
    } finally {
      lonely.cleanup();
    }
  });
});

describe('delegated sign-in by device code', () => {
  it('signs in through the CLI, serves with refreshed tokens, and can refresh datasets', async () => {
    const m = machine();
    try {
      const login = await deviceLogin(m, ['--client-id', PUBLIC_APP, '--tenant', TENANT]);
      expect(login.code).toBe(0);
      expect(login.stderr).toContain(
        `To sign in, use a web browser to open the page ${t.world.authority.host}/devicelogin and enter the code ${login.userCode}`,
      );
      expect(login.stdout.split('\n')[0]).toMatch(
        /^Signed in as alice@contoso\.com \(public cloud, read and refresh\); tokens are cached in the encrypted files under .+ and refresh silently\.$/,
      );
      const asked = t.world.authority.service.requestsTo(/devicecode$/, 'POST').at(-1)!.body;
      expect(new URLSearchParams(asked).get('scope')!.split(' ')).toEqual(
        expect.arrayContaining([
          'https://analysis.windows.net/powerbi/api/Workspace.Read.All',
          'https://analysis.windows.net/powerbi/api/Dataset.Read.All',
          'https://analysis.windows.net/powerbi/api/Report.Read.All',
          'https://analysis.windows.net/powerbi/api/Dataset.ReadWrite.All',
        ]),
      );

      const status = await m.run(['status']);
      expect(status.stdout.split('\n')[1]).toBe(
        `Signed in: ${ALICE} (tenant ${TENANT}, app ${PUBLIC_APP}), by device code; tokens refresh silently from the stored cache`,
      );

      const server = await m.server();
      try {
        const started = await server.call('powerbi_refresh_dataset', at);
        expect(started.isError).toBe(false);
        expect(JSON.parse(t.world.pbi.service.requestsTo(/refreshes$/, 'POST').at(-1)!.body)).toEqual({
          notifyOption: 'NoNotification',
        });
        // Power BI refuses the token once: the server refreshes it silently (rotating refresh token) and goes on.
        const tokenPosts = t.world.authority.service.requestsTo(/token$/, 'POST').length;
        t.world.pbi.expireIssuedTokens();
        const again = await server.call('powerbi_list_workspaces', { top: 1 });
        expect(again.isError).toBe(false);
        expect(t.world.authority.service.requestsTo(/token$/, 'POST').length).toBe(tokenPosts + 1);
      } finally {
        await server.close();
      }
    } finally {
      m.cleanup();
    }
  });

  it('with a lost or damaged store key, login says what was lost before any prompt; logout then login recovers', async () => {
    const m = machine();
    try {
      expect((await deviceLogin(m, ['--client-id', PUBLIC_APP, '--tenant', TENANT])).code).toBe(0);
      const keyFile = join(m.configDir, 'secret.key');
      const sentence = (why: string) =>
        `powerbi-mcp: 2 stored secrets can no longer be read because the key file ${keyFile} that encrypts them is ${why}: switchyard/powerbi/default (config, msal-token-cache). Run \`powerbi-mcp logout\`, then \`powerbi-mcp login\`, to store them again under a new key (nothing was changed).`;
      for (const [why, damage] of [
        ['damaged (not a 32-byte key)', () => writeFileSync(keyFile, 'bm90IGEga2V5')],
        ['missing', () => rmSync(keyFile)],
      ] as const) {
        damage();
        const deviceCodes = t.world.authority.service.requestsTo(/devicecode$/, 'POST').length;
        const user = await m.run(['login', '--client-id', PUBLIC_APP, '--tenant', TENANT]);
        expect(user.code).toBe(1);
        expect(user.stderr.trim().split('\n').at(-1)).toBe(sentence(why));
        expect(user.stderr).not.toMatch(/enter the code|RangeError|Invalid key length/);
        expect(t.world.authority.service.requestsTo(/devicecode$/, 'POST').length).toBe(deviceCodes);
        const app = await m.run(
          ['login', '--service-principal', '--tenant', TENANT, '--client-id', SP.clientId],
          `${SP.secret}\n`,
        );
        expect(app.code).toBe(1);
        expect(app.stderr.trim().split('\n').at(-1)).toBe(sentence(why));
        expect(app.stderr).not.toMatch(/Client secret of app|RangeError|Invalid key length/);
        const status = await m.run(['status']);
        expect(status.stdout.split('\n')[1]).toBe(
          `Signed in: no. ${sentence(why).replace('powerbi-mcp: ', '')}`,
        );
        const logout = await m.run(['logout']);
        expect(logout.code).toBe(0);
        expect(logout.stdout.trim()).toBe(
          'Signed out of profile default: removed the sign-in settings, the cached tokens.',
        );
        expect((await deviceLogin(m, ['--client-id', PUBLIC_APP, '--tenant', TENANT])).code).toBe(0);
        expect((await m.run(['status'])).stdout.split('\n')[1]).toMatch(/^Signed in: alice@contoso\.com/);
      }
    } finally {
      m.cleanup();
    }
  });

  it('with --read-only asks for no write scope, and the refresh tool says why it cannot refresh', async () => {
    const m = machine();
    try {
      const login = await deviceLogin(m, [
        '--client-id',
        PUBLIC_APP,
        '--tenant',
        TENANT,
        '--read-only',
        '--profile',
        'reader',
      ]);
      expect(login.code).toBe(0);
      const asked = new URLSearchParams(
        t.world.authority.service.requestsTo(/devicecode$/, 'POST').at(-1)!.body,
      ).get('scope')!;
      expect(asked).not.toContain('Dataset.ReadWrite.All');
      expect((await m.run(['status'])).stdout).toContain('Signed in: no.');
      const server = await m.server(['--profile', 'reader']);
      try {
        expect((await server.call('powerbi_list_workspaces', { top: 1 })).isError).toBe(false);
        const refresh = await server.call('powerbi_refresh_dataset', at);
        expect(refresh.text).toBe(
          'The sign-in of alice@contoso.com is read-only (login --read-only), so it cannot start refreshes. Run `powerbi-mcp login --profile reader` without --read-only to add the Dataset.ReadWrite.All permission.',
        );
      } finally {
        await server.close();
      }
      const logout = await m.run(['logout', '--profile', 'reader']);
      expect(logout.stdout.trim()).toBe(
        'Signed out of profile reader: removed the sign-in settings, the cached tokens.',
      );
    } finally {
      m.cleanup();
    }
  });
});

describe('a supplied token', () => {
  it('is used as given, and status shows whose it is', async () => {
    const token = t.world.authority.mint({
      username: ALICE,
      scopes: ['Dataset.ReadWrite.All', 'Workspace.Read.All'],
    });
    const m = machine({ POWERBI_ACCESS_TOKEN: token });
    try {
      const server = await m.server();
      try {
        const call = await server.call('powerbi_list_reports', { workspace: 'Sales Analytics' });
        expect(call.isError).toBe(false);
        expect(t.world.pbi.service.requestsTo(/reports$/).at(-1)!.headers.authorization).toBe(
          `Bearer ${token}`,
        );
      } finally {
        await server.close();
      }
      const status = await m.run(['status']);
      expect(status.stdout.split('\n')[1]).toBe(
        `Signed in: ${ALICE}, with a supplied token (env POWERBI_ACCESS_TOKEN)`,
      );
      expect(status.stdout + status.stderr).not.toContain(token);
    } finally {
      m.cleanup();
    }
  });

  it('says when it has expired, without calling Power BI', async () => {
    const token = t.world.authority.mint({ username: ALICE, seconds: -60 });
    const m = machine({ POWERBI_ACCESS_TOKEN: token });
    const server = await m.server();
    try {
      const before = t.world.pbi.service.requests.length;
      const call = await server.call('powerbi_list_workspaces', {});
      expect(call.text).toMatch(
        /^The token in POWERBI_ACCESS_TOKEN expired at \S+Z\. Put a fresh token for https:\/\/analysis\.windows\.net\/powerbi\/api in POWERBI_ACCESS_TOKEN and restart the server, or unset it and use `powerbi-mcp login`\.$/,
      );
      expect(t.world.pbi.service.requests.length).toBe(before);
    } finally {
      await server.close();
      m.cleanup();
    }
  });
});

describe('clouds', () => {
  it('--cloud usgov asks Azure AD for the US Government resource, which only a US Gov Power BI accepts', async () => {
    const gov = await FakePowerBi.start(t.world.authority, {
      audience: 'https://analysis.usgovcloudapi.net/powerbi/api',
    });
    gov.grant(SP.clientId, 'Member');
    try {
      const m = machine({ ...hostEnv(t.world), POWERBI_API_URL: gov.apiUrl });
      const server = await m.server(['--cloud', 'usgov']);
      try {
        const call = await server.call('powerbi_list_workspaces', { top: 1 });
        expect(call.isError).toBe(false);
        const scope = new URLSearchParams(
          t.world.authority.service.requestsTo(/token$/, 'POST').at(-1)!.body,
        ).get('scope');
        expect(scope).toBe('https://analysis.usgovcloudapi.net/powerbi/api/.default');
      } finally {
        await server.close();
        m.cleanup();
      }
      const publicCloud = machine({ ...hostEnv(t.world), POWERBI_API_URL: gov.apiUrl });
      const wrong = await publicCloud.server();
      try {
        const call = await wrong.call('powerbi_list_workspaces', { top: 1 });
        expect(call.text).toMatch(
          new RegExp(
            `^Power BI refused the access token of service principal ${SP.clientId} \\(InvalidToken\\) even after a fresh one was fetched\\.`,
          ),
        );
      } finally {
        await wrong.close();
        publicCloud.cleanup();
      }
    } finally {
      await gov.close();
    }
  });

  it('without overrides, each cloud has its own API and authority', async () => {
    const m = machine(hostEnv(t.world));
    try {
      const env = { ...m.env };
      delete env.POWERBI_API_URL;
      delete env.AZURE_AUTHORITY_HOST;
      env.POWERBI_CLOUD = 'china';
      // status resolves the endpoints before any call; the fake authority is not China's, so stop there.
      const status = await runBin(bin, ['status'], {
        env: { ...env, POWERBI_ACCESS_TOKEN: t.world.authority.mint({ username: ALICE }) },
      });
      expect(status.stdout).toContain(
        'Cloud: china (API https://api.powerbi.cn/v1.0/myorg, authority https://login.chinacloudapi.cn)',
      );
    } finally {
      m.cleanup();
    }
  });
});

describe('the OS keychain', async () => {
  const keychain = await keychainStatus();
  it.skipIf(!keychain.available)('keeps a service principal secret in the keychain', async () => {
    const config = tempDir('pbi-keychain-');
    try {
      const env = isolatedEnv({
        keychain: true,
        configDir: config.path,
        env: {
          POWERBI_API_URL: t.world.pbi.apiUrl,
          AZURE_AUTHORITY_HOST: t.world.authority.host,
          POWERBI_PROFILE: `kc-${process.pid}`,
        },
      });
      const login = await runBin(
        bin,
        ['login', '--service-principal', '--tenant', TENANT, '--client-id', SP.clientId],
        { env, input: `${SP.secret}\n` },
      );
      expect(login.code).toBe(0);
      expect(login.stdout).toContain('its secret is stored in the OS keychain');
      expect(
        filesUnder(config.path)
          .map((p) => readFileSync(p, 'utf8'))
          .join(''),
      ).not.toContain(SP.secret);
      const status = await runBin(bin, ['status'], { env });
      expect(status.code).toBe(0);
      expect((await runBin(bin, ['logout'], { env })).stdout).toContain(
        'removed the sign-in settings, the client secret',
      );
    } finally {
      config.cleanup();
    }
  });
});
