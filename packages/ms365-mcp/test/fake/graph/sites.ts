// SharePoint sites on the fake Graph: search, a site by id or by host and path, and its document libraries
// (learn.microsoft.com/graph/api/site-search, /graph/api/site-getbypath, /graph/api/drive-list). Personal
// (consumer) accounts have no sites.
import { select } from '../odata.js';
import { CONSUMER_TENANT, SITES_READ } from './common.js';
import type { GraphCore } from './core.js';

/** `/sites?search=`, `/sites/{id}`, `/sites/{host}:/{path}` and their `/drives`. */
export function installSites(g: GraphCore): void {
  const s = g.service;
  const v = '/v1.0';
  s.route(
    'GET',
    `${v}/sites`,
    g.guard(SITES_READ, (req, ctx) => {
      if (ctx.token.tenantId === CONSUMER_TENANT)
        return g.error(400, 'BadRequest', 'Sites are not available for personal Microsoft accounts.');
      const q = (req.query.get('search') ?? '').toLowerCase();
      const found = g.sites.filter(
        (x) => x.displayName.toLowerCase().includes(q) || x.name.toLowerCase().includes(q),
      );
      return g.page(
        req,
        found.map((x) => ({
          id: x.id,
          displayName: x.displayName,
          name: x.name,
          webUrl: x.webUrl,
          createdDateTime: '2020-01-01T00:00:00Z',
          description: '',
        })),
        10,
        '$skiptoken',
      );
    }),
  );
  s.route(
    'GET',
    `${v}/sites/*`,
    g.guard(SITES_READ, (req, ctx) => {
      if (ctx.token.tenantId === CONSUMER_TENANT)
        return g.error(400, 'BadRequest', 'Sites are not available for personal Microsoft accounts.');
      const rest = req.path.slice(`${v}/sites/`.length);
      const m = /^(.+?)(\/drives)?$/.exec(rest)!;
      const key = m[1]!.replace(/:$/, '');
      const site = key.includes(':/')
        ? g.sites.find((x) => x.webUrl.toLowerCase() === `https://${key.replace(':/', '/')}`.toLowerCase())
        : g.sites.find((x) => x.id === key);
      if (!site) return g.error(404, 'itemNotFound', 'Requested site could not be found');
      if (!m[2])
        return {
          body: select(
            { id: site.id, displayName: site.displayName, name: site.name, webUrl: site.webUrl },
            req.query,
          ),
        };
      return g.page(
        req,
        site.drives.map((d) => ({
          id: d.id,
          name: d.name,
          webUrl: d.webUrl,
          driveType: 'documentLibrary',
          description: '',
        })),
        50,
        '$skiptoken',
      );
    }),
  );
}
