// The lakehouse over HTTP for many callers: each caller (a user signed in with Entra ID, or the backend's key) is
// assigned one tenant (LAKEHOUSE_TENANTS_BY_CALLER), reaches only that one in tools and resources, and a caller
// without a tenant reaches nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FakeAuthority,
  isolatedEnv,
  runBin,
  spawnHttpServer,
  type HttpClient,
  type HttpServer,
} from '@switchyard/testkit';
import { bin } from './helpers.js';

const APP = 'be11e000-1111-2222-3333-444455556666';
const KEY = 'backend-key-0123456789abcdef';

let authority: FakeAuthority;
let server: HttpServer;
const principal: Record<string, string> = {};

beforeAll(async () => {
  authority = await FakeAuthority.start();
  authority.addApp({ clientId: APP });
  for (const username of ['alice@contoso.com', 'bob@contoso.com', 'carol@contoso.com']) {
    const user = authority.addUser({ username, name: username.split('@')[0]! });
    principal[username] = `user:${user.tenantId}:${user.oid}`;
  }
  const tenant = authority.users.get('alice@contoso.com')!.tenantId;
  server = await spawnHttpServer(bin, {
    env: {
      AZURE_AUTHORITY_HOST: authority.host,
      SWITCHYARD_HTTP_OAUTH_TENANT: tenant,
      SWITCHYARD_HTTP_OAUTH_CLIENT_ID: APP,
      SWITCHYARD_HTTP_KEY: KEY,
      LAKEHOUSE_TENANTS_BY_CALLER: JSON.stringify({
        [principal['alice@contoso.com']!]: 'acme',
        [principal['bob@contoso.com']!]: 'globex',
        key: 'backend',
      }),
    },
  });
});
afterAll(async () => {
  await server.stop();
  await authority.close();
});

const as = (username: string): Promise<HttpClient> =>
  server.connect({
    headers: {
      Authorization: `Bearer ${authority.mintForApi({ username, audience: APP, scopes: ['access_as_user'] })}`,
    },
  });

const upload = (c: HttpClient, name: string) =>
  c.call('lakehouse_upload_file', { content: 'id,region\n1,North\n2,South\n', file_name: `${name}.csv` });

describe('tenants from the caller, over HTTP', () => {
  it('puts each caller in its own tenant, whatever it asks for', async () => {
    const alice = await as('alice@contoso.com');
    const bob = await as('bob@contoso.com');
    try {
      expect((await upload(alice, 'alice_regions')).structured).toMatchObject({
        table: 'tenant_acme.bronze.alice_regions',
      });
      expect((await upload(bob, 'bob_regions')).structured).toMatchObject({
        table: 'tenant_globex.bronze.bob_regions',
      });
      const aliceTables = await alice.call('lakehouse_list_tables', {});
      expect(aliceTables.text).toContain('alice_regions');
      expect(aliceTables.text).not.toContain('bob_regions');
      // Naming another tenant is refused, in tools and in resources, and nothing is read.
      const reach = await alice.call('lakehouse_query_sql', {
        sql: 'SELECT * FROM bronze.bob_regions',
        tenant_id: 'globex',
      });
      expect(reach).toMatchObject({ isError: true });
      expect(reach.text).toMatch(
        new RegExp(
          `^Tenant 'globex' is not yours to reach: ${principal['alice@contoso.com']} works in tenant 'acme' only; nothing was read or changed`,
        ),
      );
      await expect(
        alice.client.readResource({ uri: 'table://tenant_globex/bronze/bob_regions/schema' }),
      ).rejects.toThrow(/not yours to reach/);
      expect(
        (await alice.client.readResource({ uri: 'table://tenant_acme/bronze/alice_regions/schema' }))
          .contents[0],
      ).toMatchObject({
        text: expect.stringContaining('tenant_acme.bronze.alice_regions: 2 rows'),
      });
    } finally {
      await alice.close();
      await bob.close();
    }
  });

  it('gives the backend key its own tenant', async () => {
    const backend = await server.connect({ key: KEY });
    try {
      expect((await upload(backend, 'backend_regions')).structured).toMatchObject({
        table: 'tenant_backend.bronze.backend_regions',
      });
    } finally {
      await backend.close();
    }
  });

  it('refuses a signed-in caller without a tenant, in one sentence', async () => {
    const carol = await as('carol@contoso.com');
    try {
      const call = await carol.call('lakehouse_list_tables', {});
      expect(call).toMatchObject({
        isError: true,
        text: `No lakehouse tenant is assigned to ${principal['carol@contoso.com']}, so nothing can be read or changed for it. Add it to LAKEHOUSE_TENANTS_BY_CALLER on the server.`,
      });
    } finally {
      await carol.close();
    }
  });

  it.each([
    [
      'not JSON',
      '{"key": ',
      /^lakehouse-mcp: LAKEHOUSE_TENANTS_BY_CALLER is neither a JSON object nor a readable JSON file/,
    ],
    [
      'a bad tenant id',
      '{"key": "acme corp!"}',
      /^lakehouse-mcp: LAKEHOUSE_TENANTS_BY_CALLER assigns "acme corp!" to 'key', which is not a tenant id/,
    ],
  ])('refuses to start with an assignment that is %s', async (_what, value, sentence) => {
    const run = await runBin(bin, ['serve', '--http', '127.0.0.1:0'], {
      env: isolatedEnv({ env: { LAKEHOUSE_TENANTS_BY_CALLER: value, SWITCHYARD_HTTP_KEY: KEY } }),
      timeoutMs: 20_000,
    });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(sentence);
  });
});
