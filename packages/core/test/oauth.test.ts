import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureSignIn, BearerRejected, ResourceServer, SecretStore, errorText } from '@switchyard/core';
import { FakeAuthority, tempDir } from '@switchyard/testkit';

// A server as an OAuth resource server (MCP authorization) and its on-behalf-of exchange, against the fake Entra
// ID: real jose checking real RS256 signatures from the tenant's JWKS, real msal-node doing the OBO grant.
const APP = 'c0ffee00-1111-2222-3333-444455556666';
const SECRET = 'server-app-secret-9f8e7d';
const GRAPH_MAIL = 'https://graph.microsoft.com/Mail.Read';

let authority: FakeAuthority;
let tenant: string;
let resource: ResourceServer;
const dir = tempDir();

beforeAll(async () => {
  authority = await FakeAuthority.start();
  authority.addApp({ clientId: APP, clientSecret: SECRET });
  tenant = authority.addUser({ username: 'alice@contoso.com', name: 'Alice' }).tenantId;
  authority.addUser({ username: 'bob@contoso.com', name: 'Bob', consented: ['Calendars.Read'] });
  authority.addUser({
    username: 'eve@fabrikam.com',
    name: 'Eve',
    tenantId: '99999999-8888-7777-6666-555555555555',
  });
  resource = new ResourceServer({
    authorityHost: authority.host,
    tenantId: tenant,
    clientId: APP,
    requiredScopes: ['access_as_user'],
    resource: 'https://mcp.contoso.com/mcp',
  });
});
afterAll(async () => {
  await authority.close();
  dir.cleanup();
});

const bearer = (token: string) => `Bearer ${token}`;
const aliceToken = (extra: Partial<Parameters<FakeAuthority['mintForApi']>[0]> = {}) =>
  authority.mintForApi({
    username: 'alice@contoso.com',
    audience: APP,
    scopes: ['access_as_user'],
    ...extra,
  });

async function refusal(header: string | undefined): Promise<BearerRejected> {
  try {
    await resource.verify(header);
  } catch (err) {
    if (err instanceof BearerRejected) return err;
    throw err;
  }
  throw new Error('the token was accepted');
}

describe('the resource server checks each bearer token', () => {
  it('accepts a v2.0 token for this app from its tenant, and says who it is', async () => {
    const principal = await resource.verify(bearer(aliceToken()));
    expect(principal).toMatchObject({
      subject: authority.users.get('alice@contoso.com')!.oid,
      tenantId: tenant,
      username: 'alice@contoso.com',
      scopes: ['access_as_user'],
    });
    expect(principal.expiresAt).toBeGreaterThan(Date.now());
  });

  it('accepts a v1.0 token addressed to the app id URI, from sts.windows.net', async () => {
    const token = aliceToken({ audience: `api://${APP}`, version: '1.0' });
    expect((await resource.verify(bearer(token))).username).toBe('alice@contoso.com');
  });

  it.each([
    [
      'no header',
      undefined,
      401,
      undefined,
      "This server needs a bearer token from your organisation's sign-in.",
    ],
    [
      'not a bearer token',
      'Basic YWxpY2U6cHc=',
      401,
      'invalid_request',
      'The Authorization header is not a bearer token.',
    ],
    ['garbage', 'Bearer not.a.jwt', 401, 'invalid_token', 'The token is not a valid signed JWT.'],
  ] as const)('refuses %s', async (_what, header, status, error, message) => {
    expect(await refusal(header)).toMatchObject({ status, error, message });
  });

  it('refuses an expired token', async () => {
    const token = aliceToken({ claims: { exp: Math.floor(Date.now() / 1000) - 600 } });
    expect(await refusal(bearer(token))).toMatchObject({
      status: 401,
      error: 'invalid_token',
      message: 'The token has expired; sign in again for a new one.',
    });
  });

  it('refuses a token for another application (a token for Graph is not a token for this server)', async () => {
    const token = aliceToken({ audience: 'https://graph.microsoft.com' });
    expect((await refusal(bearer(token))).message).toBe(
      'The token was issued for another application (its audience is not this server).',
    );
  });

  it('refuses a token signed with a key the tenant does not publish', async () => {
    expect((await refusal(bearer(aliceToken({ forged: true })))).message).toBe(
      "The token's signature does not match any key the tenant publishes.",
    );
  });

  it('refuses a token with alg none', async () => {
    const [, payload] = aliceToken().split('.');
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
    expect((await refusal(bearer(none))).error).toBe('invalid_token');
  });

  it('refuses a user of another tenant, even signed by the same authority', async () => {
    const token = authority.mintForApi({
      username: 'eve@fabrikam.com',
      audience: APP,
      scopes: ['access_as_user'],
    });
    expect((await refusal(bearer(token))).message).toBe(
      'The token was issued by another authority or tenant.',
    );
  });

  it('refuses a token claiming this tenant in tid under another issuer', async () => {
    const token = aliceToken({ claims: { iss: 'https://evil.example/v2.0' } });
    expect((await refusal(bearer(token))).message).toBe(
      'The token was issued by another authority or tenant.',
    );
  });

  it('refuses an app-only token and one without the required scope (403)', async () => {
    const appOnly = aliceToken({ scopes: [], claims: { roles: ['Mail.Read'] } });
    expect(await refusal(bearer(appOnly))).toMatchObject({ status: 403, error: 'insufficient_scope' });
    const other = aliceToken({ scopes: ['User.Read'] });
    expect(await refusal(bearer(other))).toMatchObject({
      status: 403,
      error: 'insufficient_scope',
      message: 'The token lacks the scope access_as_user.',
    });
    expect(
      resource.challenge(
        await refusal(bearer(other)),
        'https://mcp.contoso.com/.well-known/oauth-protected-resource',
      ),
    ).toBe(
      'Bearer resource_metadata="https://mcp.contoso.com/.well-known/oauth-protected-resource", error="insufficient_scope", error_description="The token lacks the scope access_as_user.", scope="access_as_user"',
    );
  });

  it('publishes its Protected Resource Metadata (RFC 9728)', () => {
    expect(resource.metadata()).toEqual({
      resource: 'https://mcp.contoso.com/mcp',
      authorization_servers: [`${authority.host}/${tenant}/v2.0`],
      bearer_methods_supported: ['header'],
      scopes_supported: [`api://${APP}/access_as_user`],
      resource_name: 'Switchyard MCP server',
    });
  });
});

describe('on behalf of the user, never with the user token itself', () => {
  const signIn = () =>
    new AzureSignIn({
      clientId: APP,
      tenantId: tenant,
      authorityHost: authority.host,
      secrets: new SecretStore({
        configDir: dir.path,
        keychain: Promise.resolve({ keychain: undefined, reason: 'test' }),
      }),
      cacheService: 'oauth-test',
      loginHint: 'Configure the server app',
    });

  it('exchanges the caller token for a Graph token as that user, held per user', async () => {
    const azure = signIn();
    const alice = await resource.verify(bearer(aliceToken()));
    const before = authority.oboRequests.length;
    const first = await azure.onBehalfOf({
      assertion: alice.assertion,
      user: `${alice.tenantId}:${alice.subject}`,
      scopes: [GRAPH_MAIL],
      clientSecret: SECRET,
    });
    // A new token, for Graph, as Alice: not the one she presented (the spec forbids token passthrough).
    expect(first.accessToken).not.toBe(alice.assertion);
    expect(authority.issued.get(first.accessToken)).toMatchObject({
      kind: 'user',
      username: 'alice@contoso.com',
      audience: 'https://graph.microsoft.com',
      scopes: ['Mail.Read'],
      clientId: APP,
    });
    const again = await azure.onBehalfOf({
      assertion: alice.assertion,
      user: `${alice.tenantId}:${alice.subject}`,
      scopes: [GRAPH_MAIL],
      clientSecret: SECRET,
    });
    expect(again.accessToken).toBe(first.accessToken);
    expect(authority.oboRequests.length).toBe(before + 1);
  });

  it("never hands one user's token to another", async () => {
    const azure = signIn();
    const alice = await resource.verify(bearer(aliceToken()));
    const bob = await resource.verify(
      bearer(
        authority.mintForApi({ username: 'bob@contoso.com', audience: APP, scopes: ['access_as_user'] }),
      ),
    );
    const calendar = 'https://graph.microsoft.com/Calendars.Read';
    const [a, b] = await Promise.all([
      azure.onBehalfOf({
        assertion: alice.assertion,
        user: `${tenant}:${alice.subject}`,
        scopes: [calendar],
        clientSecret: SECRET,
      }),
      azure.onBehalfOf({
        assertion: bob.assertion,
        user: `${tenant}:${bob.subject}`,
        scopes: [calendar],
        clientSecret: SECRET,
      }),
    ]);
    expect(authority.issued.get(a.accessToken)!.username).toBe('alice@contoso.com');
    expect(authority.issued.get(b.accessToken)!.username).toBe('bob@contoso.com');
  });

  it('says in one sentence when the user has not consented, and leaks no token', async () => {
    const azure = signIn();
    const bob = await resource.verify(
      bearer(
        authority.mintForApi({ username: 'bob@contoso.com', audience: APP, scopes: ['access_as_user'] }),
      ),
    );
    const err = await azure
      .onBehalfOf({
        assertion: bob.assertion,
        user: `${tenant}:${bob.subject}`,
        scopes: [GRAPH_MAIL],
        clientSecret: SECRET,
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    const text = errorText(err as never);
    expect(text).toMatch(/AADSTS65001/);
    expect(text).not.toContain(bob.assertion);
    expect(text).not.toContain(SECRET);
  });

  it('refuses a wrong app secret with the authority’s sentence', async () => {
    const azure = signIn();
    const alice = await resource.verify(bearer(aliceToken()));
    const err = await azure
      .onBehalfOf({
        assertion: alice.assertion,
        user: `${tenant}:${alice.subject}`,
        scopes: [GRAPH_MAIL],
        clientSecret: 'wrong-secret-xyz',
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(errorText(err as never)).toMatch(/AADSTS7000215/);
  });
});
