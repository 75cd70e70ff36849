// Power BI over HTTP with per-user sign-in: each request carries a user's Entra ID token for the server's app
// registration; Power BI is reached as that user through the on-behalf-of exchange (the fake Entra ID's jwt-bearer
// grant, learn.microsoft.com/entra/identity-platform/v2-oauth2-on-behalf-of-flow), with the delegated Power BI
// scopes (learn.microsoft.com/rest/api/power-bi/groups/get-groups: Workspace.Read.All), never with the user's own
// token and never with the server's own service principal, which is configured too and sees other workspaces.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf, spawnHttpServer, type HttpServer } from '@switchyard/testkit';
import { guid } from './fake/index.js';
import { ALICE, SP, TENANT, bin, hostEnv, startWorld, type World } from './helpers.js';

const BOB = 'bob@contoso.com';
const CAROL = 'carol@contoso.com';
const DAVE = 'dave@contoso.com';
const SERVER_APP = 'f00dcafe-1111-2222-3333-444455556666';
const SERVER_SECRET = 'server-app-secret-0b0-pbi-7';
const RESOURCE = 'https://analysis.windows.net/powerbi/api';
const READ = ['Workspace.Read.All', 'Dataset.Read.All', 'Report.Read.All'];

let world: World;
let server: HttpServer;

beforeAll(async () => {
  world = await startWorld();
  world.authority.addApp({ clientId: SERVER_APP, clientSecret: SERVER_SECRET });
  world.authority.addUser({ username: BOB, name: 'Bob', tenantId: TENANT });
  // Consented to reading only: reads work, starting a refresh is refused (AADSTS65001).
  world.authority.addUser({ username: CAROL, name: 'Carol', tenantId: TENANT, consented: READ });
  // Consented to nothing of Power BI for this app: every exchange is refused.
  world.authority.addUser({ username: DAVE, name: 'Dave', tenantId: TENANT, consented: [] });
  // Bob sees Finance alone, which neither Alice nor the server's own service principal can reach.
  world.pbi.grant(BOB, 'Member', ['Finance']).grant(CAROL, 'Member', ['Sales Analytics']);
  server = await spawnHttpServer(bin, {
    env: hostEnv(world, {
      SWITCHYARD_HTTP_OAUTH_TENANT: TENANT,
      SWITCHYARD_HTTP_OAUTH_CLIENT_ID: SERVER_APP,
      SWITCHYARD_HTTP_OAUTH_CLIENT_SECRET: SERVER_SECRET,
    }),
  });
});
afterAll(async () => {
  await server?.stop();
  await world?.close();
});

const tokenFor = (username: string) =>
  world.authority.mintForApi({ username, audience: SERVER_APP, scopes: ['access_as_user'] });

/** The Power BI scopes of an exchange (MSAL adds openid, profile and offline_access). */
const powerBiScopes = (scopes: string[]) => scopes.filter((s) => s.startsWith(`${RESOURCE}/`));

/** Who the tokens Power BI was sent since `from` were issued to (`<app> <user>`), and whether any was a presented one. */
function powerBiTokens(from: number, presented: string[]) {
  const headers = world.pbi.service.requests
    .slice(from)
    .map((r) => String(r.headers.authorization ?? '').replace(/^Bearer /, ''));
  const issued = headers.map((h) => world.authority.issued.get(h));
  return {
    presentedSent: headers.some((h) => presented.includes(h)),
    holders: new Set(issued.map((t) => (t ? `${t.clientId} ${t.username ?? '(app)'} ${t.audience}` : '?'))),
  };
}

describe('Power BI over HTTP, as the signed-in user', () => {
  it.each(['legacy', 'modern'] as const)(
    'lists each user the workspaces they can reach through the on-behalf-of exchange (%s era)',
    async (era) => {
      const from = world.pbi.service.requests.length;
      const presented = { alice: tokenFor(ALICE), bob: tokenFor(BOB) };
      const alice = await server.connect({ era, headers: { Authorization: `Bearer ${presented.alice}` } });
      const bob = await server.connect({ era, headers: { Authorization: `Bearer ${presented.bob}` } });
      try {
        const [a, b] = await Promise.all([
          alice.call('powerbi_list_workspaces', {}),
          bob.call('powerbi_list_workspaces', {}),
        ]);
        expect(a.isError).toBe(false);
        expect(b.isError).toBe(false);
        const names = (call: typeof a) => rowsOf(call).map((w) => w[1]);
        expect(names(a)).toContain('Sales Analytics');
        expect(names(a)).not.toContain('Finance');
        expect(names(b)).toEqual(['Finance']);
        // Bob's query runs as Bob: the fake records the principal of each executeQueries call.
        const dax = await bob.call('powerbi_execute_dax', {
          workspace: 'Finance',
          dataset: 'Finance Model',
          query: 'EVALUATE ROW("n", 1)',
        });
        expect(dax.isError).toBe(false);
        expect(world.pbi.queries.at(-1)!.principal).toBe(BOB);
      } finally {
        await alice.close();
        await bob.close();
      }
      // Power BI saw tokens the authority issued to the server's app for each user, for Power BI: never the tokens
      // they presented, never the server's service principal.
      const seen = powerBiTokens(from, [presented.alice, presented.bob]);
      expect(seen.presentedSent).toBe(false);
      expect(seen.holders).toEqual(
        new Set([`${SERVER_APP} ${ALICE} ${RESOURCE}`, `${SERVER_APP} ${BOB} ${RESOURCE}`]),
      );
      const exchanged = world.authority.oboRequests.filter((r) => r.granted);
      expect(exchanged.map((r) => r.username)).toEqual(expect.arrayContaining([ALICE, BOB]));
      // Reading asks for the delegated read permissions only.
      for (const r of exchanged) expect(powerBiScopes(r.scopes)).toEqual(READ.map((p) => `${RESOURCE}/${p}`));
      expect(server.stderr()).not.toContain(presented.alice);
      expect(server.stderr()).not.toContain(presented.bob);
    },
  );

  it('lists and reads schema resources as the signed-in user', async () => {
    const from = world.pbi.service.requests.length;
    const presented = tokenFor(BOB);
    const bob = await server.connect({ headers: { Authorization: `Bearer ${presented}` } });
    try {
      const listed = await bob.client.listResources();
      expect(listed.resources.filter((r) => r.uri.startsWith('powerbi://')).map((r) => r.name)).toEqual([
        'Finance / Finance Model',
      ]);
      const read = await bob.client.readResource({
        uri: `powerbi://workspaces/${guid(2, 1)}/datasets/${guid(10, 2)}/schema`,
      });
      const content = read.contents[0] as { text: string };
      expect(content.text.split('\n')[0]).toBe(
        `# Schema of dataset ${guid(10, 2)} in workspace ${guid(2, 1)}`,
      );
      expect(content.text).toContain('CustomerKey (Int64, hidden)');
    } finally {
      await bob.close();
    }
    const seen = powerBiTokens(from, [presented]);
    expect(seen.presentedSent).toBe(false);
    expect(seen.holders).toEqual(new Set([`${SERVER_APP} ${BOB} ${RESOURCE}`]));
  });

  it('starts a refresh with the write permission, and says when the user has not consented to it', async () => {
    const alice = await server.connect({ headers: { Authorization: `Bearer ${tokenFor(ALICE)}` } });
    const carol = await server.connect({ headers: { Authorization: `Bearer ${tokenFor(CAROL)}` } });
    const at = { workspace: 'Sales Analytics', dataset: 'Sales Model' };
    try {
      const started = await alice.call('powerbi_refresh_dataset', at);
      expect(started.isError).toBe(false);
      expect(started.text).toMatch(/^Started a refresh of dataset/);
      const exchange = world.authority.oboRequests.at(-1)!;
      expect(exchange).toMatchObject({ username: ALICE, granted: true });
      expect(powerBiScopes(exchange.scopes)).toEqual(
        [...READ, 'Dataset.ReadWrite.All'].map((p) => `${RESOURCE}/${p}`),
      );
      // Carol may read, but has not consented to Dataset.ReadWrite.All for the server's app.
      const history = await carol.call('powerbi_get_refresh_history', at);
      expect(history.isError).toBe(false);
      const refused = await carol.call('powerbi_refresh_dataset', at);
      expect(refused.isError).toBe(true);
      expect(refused.text).toMatch(/AADSTS65001/);
      expect(refused.text).toContain('Dataset.ReadWrite.All');
    } finally {
      await alice.close();
      await carol.close();
    }
  });

  it('says in one sentence when the exchange is refused, and leaks no token or secret', async () => {
    const from = world.pbi.service.requests.length;
    const presented = tokenFor(DAVE);
    const dave = await server.connect({ headers: { Authorization: `Bearer ${presented}` } });
    try {
      const call = await dave.call('powerbi_list_workspaces', {});
      expect(call.isError).toBe(true);
      expect(call.text).toMatch(/AADSTS65001/);
      expect(call.text.trim().split('\n')).toHaveLength(1);
      expect(call.text).not.toContain(presented);
      expect(call.text).not.toContain(SERVER_SECRET);
      expect(call.text).not.toContain(SP.secret);
    } finally {
      await dave.close();
    }
    // Nothing reached Power BI: not with Dave's token, and not with the server's own sign-in instead.
    expect(world.pbi.service.requests.length).toBe(from);
    expect(server.stderr()).not.toContain(presented);
    expect(server.stderr()).not.toContain(SERVER_SECRET);
  });
});
