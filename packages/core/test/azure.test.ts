import { fileURLToPath } from 'node:url';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthError,
  AzureSignIn,
  SecretStore,
  authorityHostFor,
  errorText,
  parseCertificate,
  suppliedToken,
  type KeychainProbe,
} from '@switchyard/core';
import { FakeAuthority, runCommand, tempDir } from '@switchyard/testkit';

const helper = fileURLToPath(new URL('./fixtures/azure-client.mjs', import.meta.url));
const noKeychain: Promise<KeychainProbe> = Promise.resolve({ keychain: undefined, reason: 'test' });
const GRAPH_MAIL = 'https://graph.microsoft.com/Mail.Read';

let authority: FakeAuthority;
let certificatePem: string;
const dir = tempDir();

beforeAll(async () => {
  authority = await FakeAuthority.start();
  const pems = await generate([{ name: 'commonName', value: 'switchyard-test-app' }], {
    keySize: 2048,
    algorithm: 'sha256',
  });
  certificatePem = `${pems.cert}\n${pems.private}`;
  authority.addApp({ clientId: 'app-with-secret', clientSecret: 'app-secret-123456' });
  authority.addApp({ clientId: 'app-with-cert', certificatePem: pems.cert });
  authority.addApp({ clientId: 'public-app' });
  authority.addUser({ username: 'alice@contoso.com', name: 'Alice' });
  authority.addUser({ username: 'bob@contoso.com', name: 'Bob', consented: ['Mail.Read'] });
});
afterAll(async () => {
  await authority.close();
  dir.cleanup();
});

const TENANT = '11111111-2222-3333-4444-555555555555';
const signIn = (
  clientId: string,
  configDir = dir.path,
  tenantId = clientId === 'public-app' ? 'organizations' : TENANT,
) =>
  new AzureSignIn({
    clientId,
    tenantId,
    authorityHost: authority.host,
    secrets: new SecretStore({ configDir, keychain: noKeychain }),
    cacheService: 'test-msal',
    loginHint: 'Run `example login`',
  });
const tokenPosts = () => authority.service.requestsTo(/\/oauth2\/v2\.0\/token$/, 'POST').length;

describe('client credentials', () => {
  it('gets an app token with a secret and reuses it from the cache', async () => {
    const s = signIn('app-with-secret');
    const before = tokenPosts();
    const token = await s.clientCredentials({
      scopes: ['https://analysis.windows.net/powerbi/api/.default'],
      clientSecret: 'app-secret-123456',
    });
    expect(authority.check(`Bearer ${token.accessToken}`)).toMatchObject({
      ok: true,
      token: { kind: 'app', audience: 'https://analysis.windows.net/powerbi/api' },
    });
    expect(token.expiresOn!.getTime()).toBeGreaterThan(Date.now());
    const again = await s.clientCredentials({
      scopes: ['https://analysis.windows.net/powerbi/api/.default'],
      clientSecret: 'app-secret-123456',
    });
    expect(again.accessToken).toBe(token.accessToken);
    expect(tokenPosts() - before).toBe(1);
  });

  it('holds the app token for every caller until it is refused, then fetches one fresh token', async () => {
    const s = signIn('app-with-secret');
    const request = { scopes: ['api://held/.default'], clientSecret: 'app-secret-123456' };
    const before = tokenPosts();
    const [a, b, c] = await Promise.all([
      s.clientCredentials(request),
      s.clientCredentials(request),
      s.clientCredentials(request),
    ]);
    expect(new Set([a.accessToken, b.accessToken, c.accessToken]).size).toBe(1);
    expect(tokenPosts() - before).toBe(1);
    const fresh = await s.clientCredentials({ ...request, forceRefresh: true });
    expect(tokenPosts() - before).toBe(2);
    expect((await s.clientCredentials(request)).accessToken).toBe(fresh.accessToken);
    expect(tokenPosts() - before).toBe(2);
  });

  it('gets an app token with a certificate (the assertion is verified)', async () => {
    const token = await signIn('app-with-cert').clientCredentials({
      scopes: ['https://analysis.windows.net/powerbi/api/.default'],
      certificatePem,
    });
    expect(authority.check(`Bearer ${token.accessToken}`).ok).toBe(true);
    expect(parseCertificate(certificatePem).thumbprintSha256).toMatch(/^[0-9A-F]{64}$/);
  });

  it('explains a wrong secret without echoing it', async () => {
    const err = await signIn('app-with-secret')
      .clientCredentials({
        scopes: ['https://analysis.windows.net/powerbi/api/.default'],
        clientSecret: 'wrong-secret-999',
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    const text = errorText(err as AuthError);
    expect(text).toContain("Azure AD refused the app's credentials during service principal sign-in");
    expect(text).toContain('AADSTS7000215');
    expect(text).not.toContain('wrong-secret-999');
  });

  it('says when the authority cannot be reached', async () => {
    const s = new AzureSignIn({
      clientId: 'app-with-secret',
      tenantId: TENANT,
      authorityHost: 'https://127.0.0.1:9',
      secrets: new SecretStore({ configDir: dir.path, keychain: noKeychain }),
      cacheService: 'x',
      loginHint: 'Run `example login`',
    });
    const err = await s
      .clientCredentials({ scopes: ['api://x/.default'], clientSecret: 'abcdefgh' })
      .catch((e: unknown) => e);
    expect(errorText(err as AuthError)).toMatch(
      /^Could not reach the Azure AD authority https:\/\/127\.0\.0\.1:9 during service principal sign-in\./,
    );
  });

  it('asks for a tenant id instead of a multi-tenant authority', async () => {
    const err = await signIn('app-with-secret', dir.path, 'organizations')
      .clientCredentials({ scopes: ['api://x/.default'], clientSecret: 'app-secret-123456' })
      .catch((e: unknown) => e);
    expect(errorText(err as AuthError)).toBe(
      "A service principal signs in to one tenant, not 'organizations'. Set the tenant id (a GUID or domain) of the app registration.",
    );
  });
});

describe('device code and silent refresh', () => {
  it('signs in on another device, caches the tokens and refreshes silently', async () => {
    const s = signIn('public-app');
    const prompts: string[] = [];
    const token = await s.deviceCode({
      scopes: [GRAPH_MAIL],
      onPrompt: (p) => {
        prompts.push(p.message);
        authority.approve(p.userCode, 'alice@contoso.com');
      },
    });
    expect(prompts[0]).toMatch(/enter the code [0-9A-F]{8}/);
    expect(token.account).toMatchObject({ username: 'alice@contoso.com', name: 'Alice' });
    expect(await s.accounts()).toHaveLength(1);

    const before = tokenPosts();
    const cached = await s.silent({ scopes: [GRAPH_MAIL] });
    expect(cached.accessToken).toBe(token.accessToken);
    expect(tokenPosts()).toBe(before);

    const refreshed = await s.silent({ scopes: [GRAPH_MAIL], forceRefresh: true });
    expect(refreshed.accessToken).not.toBe(token.accessToken);
    expect(tokenPosts()).toBe(before + 1);

    // A new instance (a restarted server) finds the sign-in in the store.
    expect((await signIn('public-app').silent({ scopes: [GRAPH_MAIL] })).account?.username).toBe(
      'alice@contoso.com',
    );
  });

  it('shares the cache between processes without losing a rotated refresh token', async () => {
    const shared = tempDir();
    try {
      const a = signIn('public-app', shared.path);
      await a.deviceCode({
        scopes: [GRAPH_MAIL],
        onPrompt: (p) => authority.approve(p.userCode, 'alice@contoso.com'),
      });
      const env = { ...(process.env as Record<string, string>), SWITCHYARD_KEYCHAIN: 'off' };
      // Two other processes refresh (each use rotates the refresh token), at the same time.
      const runs = await Promise.all(
        [1, 2].map(() =>
          runCommand(process.execPath, [helper, shared.path, authority.host, 'public-app', '3'], { env }),
        ),
      );
      for (const run of runs) {
        expect(run.stderr.replace(/.*no OS keychain answered.*\n?/g, '')).toBe('');
        expect(JSON.parse(run.stdout)).toEqual([
          'alice@contoso.com',
          'alice@contoso.com',
          'alice@contoso.com',
        ]);
      }
      // The first process still holds the old refresh token in memory: it must reload, not reuse it.
      expect((await a.silent({ scopes: [GRAPH_MAIL], forceRefresh: true })).account?.username).toBe(
        'alice@contoso.com',
      );
    } finally {
      shared.cleanup();
    }
  });

  it('tells the user to sign in again when the refresh token is revoked or missing', async () => {
    const fresh = tempDir();
    try {
      const none = await signIn('public-app', fresh.path)
        .silent({ scopes: [GRAPH_MAIL] })
        .catch((e: unknown) => e);
      expect(errorText(none as AuthError)).toBe('Not signed in. Run `example login`.');
      const s = signIn('public-app', fresh.path);
      await s.deviceCode({
        scopes: [GRAPH_MAIL],
        onPrompt: (p) => authority.approve(p.userCode, 'alice@contoso.com'),
      });
      authority.revokeRefreshTokens();
      const err = await s.silent({ scopes: [GRAPH_MAIL], forceRefresh: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthError);
      expect(errorText(err as AuthError)).toMatch(
        /The saved sign-in can no longer be refreshed .*Run `example login`\./,
      );
      // The AADSTS code is said once, not repeated from the start of Azure AD's description.
      expect(errorText(err as AuthError)).toContain(
        'Upstream said: Azure AD AADSTS70008: «The provided authorization code or refresh token',
      );
      expect(await s.signOut()).toBe(1);
      expect(await s.accounts()).toEqual([]);
    } finally {
      fresh.cleanup();
    }
  });

  it('names the missing consent', async () => {
    const err = await signIn('public-app')
      .deviceCode({
        scopes: ['https://graph.microsoft.com/Mail.Send'],
        onPrompt: (p) => authority.approve(p.userCode, 'bob@contoso.com'),
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect(errorText(err as AuthError)).toMatch(
      /^The account has not consented to the scopes https:\/\/graph\.microsoft\.com\/Mail\.Send for this app \(AADSTS65001\)/,
    );
  });

  it('keeps the refresh token usable when a refresh for an unconsented scope is refused', async () => {
    const fresh = tempDir();
    try {
      const s = signIn('public-app', fresh.path);
      await s.deviceCode({
        scopes: [GRAPH_MAIL],
        onPrompt: (p) => authority.approve(p.userCode, 'bob@contoso.com'),
      });
      const refused = await s
        .silent({ scopes: ['https://graph.microsoft.com/Mail.Send'] })
        .catch((e: unknown) => e);
      expect(errorText(refused as AuthError)).toMatch(/not consented to the scopes .*Mail\.Send/);
      // The refused request did not spend the (rotating) refresh token.
      expect((await s.silent({ scopes: [GRAPH_MAIL], forceRefresh: true })).account?.username).toBe(
        'bob@contoso.com',
      );
    } finally {
      fresh.cleanup();
    }
  });

  it('can be cancelled while waiting for the user', async () => {
    const controller = new AbortController();
    const err = await signIn('public-app')
      .deviceCode({
        scopes: [GRAPH_MAIL],
        onPrompt: () => setTimeout(() => controller.abort(), 200),
        signal: controller.signal,
      })
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe('The sign-in was cancelled; nothing was stored.');
  });
});

describe('clouds and supplied tokens', () => {
  it('picks the authority host per cloud, AZURE_AUTHORITY_HOST first', () => {
    expect(authorityHostFor('public', {})).toBe('https://login.microsoftonline.com');
    expect(authorityHostFor('usgov', {})).toBe('https://login.microsoftonline.us');
    expect(authorityHostFor('china', {})).toBe('https://login.chinacloudapi.cn');
    expect(authorityHostFor('china', { AZURE_AUTHORITY_HOST: 'https://proxy.local/' })).toBe(
      'https://proxy.local',
    );
  });

  it('reads who and until when from a supplied JWT', () => {
    const minted = authority.mint({
      username: 'alice@contoso.com',
      scopes: ['Dataset.Read.All'],
      seconds: 600,
    });
    const token = suppliedToken(minted);
    expect(token.account?.username).toBe('alice@contoso.com');
    expect(token.expiresOn!.getTime()).toBeGreaterThan(Date.now() + 500_000);
    expect(suppliedToken('opaque-token-value').expiresOn).toBeUndefined();
  });
});
