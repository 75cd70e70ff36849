import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FakeAuthority,
  serverPackages,
  spawnHttpServer,
  spawnServer,
  type HttpServer,
} from '@switchyard/testkit';

// Every server of the repository serves the same tools over `serve --http` as over stdio, in both protocol eras:
// the HTTP entry is core's, so no server has code of its own for it.
describe.each(serverPackages().map((p) => [p.name, p.bin] as const))('%s over HTTP', (name, bin) => {
  let server: HttpServer;
  let stdioTools: string[];
  beforeAll(async () => {
    const stdio = await spawnServer(bin);
    try {
      stdioTools = (await stdio.client.listTools()).tools.map((t) => t.name).sort();
    } finally {
      await stdio.close();
    }
    server = await spawnHttpServer(bin, { env: { SWITCHYARD_HTTP_KEY: `key-for-${name}-0123456789` } });
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it.each(['legacy', 'modern'] as const)('lists the same tools as over stdio (%s era)', async (era) => {
    const c = await server.connect({ era, key: `key-for-${name}-0123456789` });
    try {
      const tools = (await c.client.listTools()).tools.map((t) => t.name).sort();
      expect(tools.length).toBeGreaterThan(0);
      expect(tools).toEqual(stdioTools);
      const prefix = name.replace(/-mcp$/, '');
      for (const tool of tools) expect(tool.startsWith(`${prefix}_`), tool).toBe(true);
    } finally {
      await c.close();
    }
  });
});

// Per-user sign-in is core's too: every server lets in a user of the tenant with a token for its app, and refuses one
// without it (what each server then does as that user is tested in its own package: ms365, Power BI, the lakehouse).
describe('every server with per-user sign-in', () => {
  const APP = '5e7e7e7e-1111-2222-3333-444455556666';
  let authority: FakeAuthority;
  beforeAll(async () => {
    authority = await FakeAuthority.start();
    authority.addApp({ clientId: APP });
    authority.addUser({ username: 'alice@contoso.com', name: 'Alice' });
  });
  afterAll(() => authority.close());

  it.each(serverPackages().map((p) => [p.name, p.bin] as const))('%s', async (_name, bin) => {
    const server = await spawnHttpServer(bin, {
      env: {
        AZURE_AUTHORITY_HOST: authority.host,
        SWITCHYARD_HTTP_OAUTH_TENANT: authority.users.get('alice@contoso.com')!.tenantId,
        SWITCHYARD_HTTP_OAUTH_CLIENT_ID: APP,
      },
    });
    try {
      const token = authority.mintForApi({
        username: 'alice@contoso.com',
        audience: APP,
        scopes: ['access_as_user'],
      });
      for (const era of ['legacy', 'modern'] as const) {
        const c = await server.connect({ era, headers: { Authorization: `Bearer ${token}` } });
        try {
          expect((await c.client.listTools()).tools.length).toBeGreaterThan(0);
        } finally {
          await c.close();
        }
      }
      const refused = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toContain('resource_metadata=');
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});
