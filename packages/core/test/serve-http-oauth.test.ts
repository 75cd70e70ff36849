import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAuthority, spawnHttpServer, tempDir, type HttpServer } from '@switchyard/testkit';

// serve --http with per-user sign-in (MCP authorization): every request carries a user's Entra ID token for this
// server's app registration, checked against the fake tenant's JWKS by the spawned server; refusals follow RFC 6750
// and name the RFC 9728 metadata, which is served without a token.
const bin = fileURLToPath(new URL('./fixtures/example-server.mjs', import.meta.url));
const APP = 'a11ce000-1111-2222-3333-444455556666';

let authority: FakeAuthority;
let server: HttpServer;
let tenant: string;
const dir = tempDir();
const auditPath = join(dir.path, 'audit.jsonl');

beforeAll(async () => {
  authority = await FakeAuthority.start();
  authority.addApp({ clientId: APP, clientSecret: 'server-app-secret-abc123' });
  tenant = authority.addUser({ username: 'alice@contoso.com', name: 'Alice' }).tenantId;
  server = await spawnHttpServer(bin, {
    args: ['--audit-log', auditPath],
    env: {
      AZURE_AUTHORITY_HOST: authority.host,
      SWITCHYARD_HTTP_OAUTH_TENANT: tenant,
      SWITCHYARD_HTTP_OAUTH_CLIENT_ID: APP,
    },
  });
});
afterAll(async () => {
  await server.stop();
  await authority.close();
  dir.cleanup();
});

const token = (extra: Partial<Parameters<FakeAuthority['mintForApi']>[0]> = {}) =>
  authority.mintForApi({
    username: 'alice@contoso.com',
    audience: APP,
    scopes: ['access_as_user'],
    ...extra,
  });

async function post(headers: Record<string, string>) {
  const res = await fetch(`${server.origin}/mcp`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }),
  });
  return { status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.text() };
}

describe('serve --http with per-user sign-in', () => {
  it('publishes where to get a token (RFC 9728), without a token', async () => {
    for (const path of [
      '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-protected-resource',
    ]) {
      const res = await fetch(`${server.origin}${path}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        resource: server.url,
        authorization_servers: [`${authority.host}/${tenant}/v2.0`],
        bearer_methods_supported: ['header'],
        scopes_supported: [`api://${APP}/access_as_user`],
        resource_name: 'Switchyard MCP server',
      });
    }
  });

  it('answers a request without a token with 401 and where to get one', async () => {
    const answer = await post({});
    expect(answer.status).toBe(401);
    expect(answer.challenge).toBe(
      `Bearer resource_metadata="${server.origin}/.well-known/oauth-protected-resource/mcp"`,
    );
  });

  it.each([
    [
      'an expired token',
      () => token({ claims: { exp: Math.floor(Date.now() / 1000) - 600 } }),
      401,
      'invalid_token',
    ],
    [
      'a token for another app',
      () => token({ audience: 'https://graph.microsoft.com' }),
      401,
      'invalid_token',
    ],
    ['a forged token', () => token({ forged: true }), 401, 'invalid_token'],
    ['a token without the scope', () => token({ scopes: ['User.Read'] }), 403, 'insufficient_scope'],
  ] as const)('refuses %s in one sentence, with the RFC 6750 error', async (_what, make, status, error) => {
    const answer = await post({ authorization: `Bearer ${make()}` });
    expect(answer.status).toBe(status);
    expect(answer.challenge).toContain(`error="${error}"`);
    expect(JSON.parse(answer.body).error.message).toMatch(/^(Unauthorized|Forbidden): The token('s)? /);
  });

  it.each(['legacy', 'modern'] as const)(
    'serves a signed-in user in the %s era, and the audit log names them without their token',
    async (era) => {
      const presented = token();
      const c = await server.connect({ era, headers: { Authorization: `Bearer ${presented}` } });
      try {
        expect((await c.client.listTools()).tools.length).toBeGreaterThan(0);
        expect((await c.call('example_list_notes', { limit: 1 })).text).toBe('1,first note');
      } finally {
        await c.close();
      }
      const log = readFileSync(auditPath, 'utf8');
      expect(log).not.toContain(presented);
      const oid = authority.users.get('alice@contoso.com')!.oid;
      const last = JSON.parse(log.trim().split('\n').at(-1)!) as { principal: string; tool: string };
      expect(last).toMatchObject({ principal: `user:${tenant}:${oid}`, tool: 'example_list_notes' });
      expect(server.stderr()).not.toContain(presented);
    },
  );
});
