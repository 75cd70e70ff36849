// The signed-in user on the fake Graph (learn.microsoft.com/graph/api/user-get: `GET /me` with User.Read).
import type { GraphCore } from './core.js';

/** `GET /me`: the token's user. */
export function installUsers(g: GraphCore): void {
  const s = g.service;
  const v = '/v1.0';
  s.route(
    'GET',
    `${v}/me`,
    g.guard(['User.Read'], (_req, ctx) => {
      const user = g.authority.users.get(ctx.token.username!)!;
      return {
        body: {
          id: user.oid,
          displayName: user.name,
          userPrincipalName: user.username,
          mail: user.username,
        },
      };
    }),
  );
}
