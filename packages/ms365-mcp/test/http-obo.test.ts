// ms365 over HTTP with per-user sign-in: each request carries a user's Entra ID token for the server's app
// registration; Graph is reached as that user through the on-behalf-of exchange (the fake Entra ID's jwt-bearer
// grant, learn.microsoft.com/entra/identity-platform/v2-oauth2-on-behalf-of-flow), never with the user's own token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnHttpServer, type HttpServer } from '@switchyard/testkit';
import { ALICE, bin, hostEnv, startWorld, type World } from './helpers.js';

const BOB = 'bob@contoso.com';
const CAROL = 'carol@contoso.com';
const SERVER_APP = 'f00dcafe-1111-2222-3333-444455556666';
const SERVER_SECRET = 'server-app-secret-0b0-4e2';

let world: World;
let server: HttpServer;
let tenant: string;

beforeAll(async () => {
  world = await startWorld();
  world.authority.addApp({ clientId: SERVER_APP, clientSecret: SERVER_SECRET });
  world.authority.addUser({ username: BOB, name: 'Bob Builder' });
  // Has not consented to mail for this app: the exchange is refused (AADSTS65001).
  world.authority.addUser({ username: CAROL, name: 'Carol', consented: ['Calendars.Read'] });
  tenant = world.authority.users.get(ALICE)!.tenantId;
  world.graph.mailbox(ALICE).add({ subject: 'For Alice only' });
  world.graph.mailbox(BOB).add({ subject: 'For Bob only' });
  server = await spawnHttpServer(bin, {
    env: hostEnv(world, {
      SWITCHYARD_HTTP_OAUTH_TENANT: tenant,
      SWITCHYARD_HTTP_OAUTH_CLIENT_ID: SERVER_APP,
      SWITCHYARD_HTTP_OAUTH_CLIENT_SECRET: SERVER_SECRET,
    }),
  });
});
afterAll(async () => {
  await server.stop();
  await world.close();
});

const tokenFor = (username: string) =>
  world.authority.mintForApi({ username, audience: SERVER_APP, scopes: ['access_as_user'] });

describe('ms365 over HTTP, as the signed-in user', () => {
  it.each(['legacy', 'modern'] as const)(
    'reads each user their own mailbox through the on-behalf-of exchange (%s era)',
    async (era) => {
      const presented = { alice: tokenFor(ALICE), bob: tokenFor(BOB) };
      const alice = await server.connect({ era, headers: { Authorization: `Bearer ${presented.alice}` } });
      const bob = await server.connect({ era, headers: { Authorization: `Bearer ${presented.bob}` } });
      try {
        const [a, b] = await Promise.all([
          alice.call('ms365_list_messages', {}),
          bob.call('ms365_list_messages', {}),
        ]);
        expect(a.text).toContain('For Alice only');
        expect(a.text).not.toContain('For Bob only');
        expect(b.text).toContain('For Bob only');
        expect(b.text).not.toContain('For Alice only');
      } finally {
        await alice.close();
        await bob.close();
      }
      // Graph saw tokens the authority issued to the server's app for each user, never the tokens they presented.
      const graphTokens = world.graph.service.requests.map((r) => String(r.headers.authorization ?? ''));
      expect(graphTokens.some((h) => h.includes(presented.alice) || h.includes(presented.bob))).toBe(false);
      const used = graphTokens
        .map((h) => world.authority.issued.get(h.replace(/^Bearer /, '')))
        .filter((t) => t !== undefined);
      expect(new Set(used.map((t) => `${t.clientId} ${t.username}`))).toEqual(
        new Set([`${SERVER_APP} ${ALICE}`, `${SERVER_APP} ${BOB}`]),
      );
      expect(world.authority.oboRequests.filter((r) => r.granted).map((r) => r.username)).toEqual(
        expect.arrayContaining([ALICE, BOB]),
      );
      expect(server.stderr()).not.toContain(presented.alice);
    },
  );

  it('says in one sentence when the exchange is refused, and leaks no token', async () => {
    const presented = tokenFor(CAROL);
    const carol = await server.connect({ headers: { Authorization: `Bearer ${presented}` } });
    try {
      const call = await carol.call('ms365_list_messages', {});
      expect(call.isError).toBe(true);
      expect(call.text).toMatch(/AADSTS65001/);
      expect(call.text).not.toContain(presented);
      expect(call.text).not.toContain(SERVER_SECRET);
    } finally {
      await carol.close();
    }
  });
});
