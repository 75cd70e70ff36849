// Reaching each real Odoo as its own source answers: the version probe in both shapes, a configured protocol
// without a probe, a URL that is not an Odoo, Odoo 20's JSON-RPC switch, Odoo Online's missing db service and
// API-key scopes, and refusals named by what an administrator must change.
import { request } from 'node:https';
import { describe, expect, it } from 'vitest';
import { FakeService, isolatedEnv, runBin } from '@switchyard/testkit';
import { FakeOdoo } from './fake/odoo.js';
import { PROTOCOLS, bin, hostEnv, spawnOdoo, withWorld } from './helpers.js';

/** A plain GET, as a browser or curl would send it, answered with status, content type and body. */
function get(url: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { rejectUnauthorized: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }),
      );
    })
      .on('error', reject)
      .end();
  });
}

/** A JSON-RPC call straight to the fake, answered with Odoo's whole reply body. */
function jsonRpc(url: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
  const body = JSON.stringify({ jsonrpc: '2.0', method: 'call', id: 7, params });
  return new Promise((resolve, reject) => {
    request(
      `${url}/jsonrpc`,
      { method: 'POST', rejectUnauthorized: false, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(JSON.parse(text) as Record<string, unknown>));
      },
    )
      .on('error', reject)
      .end(body);
  });
}

async function status(fake: FakeOdoo, env: Record<string, string | undefined> = {}) {
  return runBin(bin, ['status'], { env: isolatedEnv({ env: hostEnv(fake, 'admin', env) }) });
}

describe('GET /web/version', () => {
  it("answers exactly as Odoo 19's controller does (addons/rpc/controllers/__init__.py), and odoo-mcp reads it", async () => {
    const fake = await FakeOdoo.start({ version: '19.0' });
    try {
      for (const path of ['/web/version', '/json/version']) {
        const res = await get(`${fake.url}${path}`);
        expect(res.status).toBe(200);
        expect(res.type).toMatch(/^application\/json/);
        expect(res.body).toBe('{"version_info":[19,0,0,"final",0,""],"version":"19.0"}');
      }
      const ran = await status(fake, { ODOO_USERNAME: undefined });
      expect(ran.stdout).toContain('Server: Odoo 19.0; protocol JSON-2 (detected); database acme');
      expect(ran.code).toBe(0);
      // The version came from /web/version alone: no JSON-RPC at all.
      expect(fake.service.requestsTo('/jsonrpc')).toEqual([]);
    } finally {
      await fake.close();
    }
  });

  it.each([
    ['17.0', 'JSON-RPC', 404],
    ['18.0', 'JSON-RPC', 404],
    ['19.0', 'JSON-2', 200],
    ['saas~19.1', 'JSON-2', 200],
    ['20.0', 'JSON-2', 200],
  ])('Odoo %s: status detects it and picks %s (/web/version answers %i)', async (version, protocol, web) => {
    const fake = await FakeOdoo.start({ version });
    try {
      const ran = await status(fake);
      expect(ran.stdout).toContain(`Server: Odoo ${version}; protocol ${protocol} (detected); database acme`);
      expect(ran.code).toBe(0);
      expect(fake.service.requestsTo('/web/version')[0]!.status).toBe(web);
      const versionCalls = fake.service
        .requestsTo('/jsonrpc')
        .filter((r) => JSON.parse(r.body).params.method === 'version');
      // Odoo 17 and 18 have no /web/version: common.version (odoo/service/common.py) tells the version.
      expect(versionCalls.length).toBe(web === 404 ? 1 : 0);
    } finally {
      await fake.close();
    }
  });
});

describe("the fake's JSON-RPC answers, per version, as each version's source writes them", () => {
  // odoo/http.py JsonRPCDispatcher.handle_error: code 200 in 17.0/18.0, 0 from 19.0. Unknown method:
  // odoo/api.py call_kw (17.0) vs odoo/service/model.py get_public_method (18.0 on). Private method:
  // odoo/models.py check_method_name (17.0) vs get_public_method (18.0 on).
  it.each([
    [
      '17.0',
      200,
      "The method 'nope' does not exist on the model 'res.partner'",
      'Private methods (such as _x) cannot be called remotely.',
      'leaf',
    ],
    [
      '18.0',
      200,
      "The method 'res.partner.nope' does not exist",
      "Private methods (such as 'res.partner._x') cannot be called remotely.",
      'leaf',
    ],
    [
      '19.0',
      0,
      "The method 'res.partner.nope' does not exist",
      "Private methods (such as 'res.partner._x') cannot be called remotely.",
      'condition',
    ],
    [
      '20.0',
      0,
      "The method 'res.partner.nope' does not exist",
      "Private methods (such as 'res.partner._x') cannot be called remotely.",
      'condition',
    ],
  ])('Odoo %s: error code %i and its own messages', async (version, code, unknown, privateText, where) => {
    const fake = await FakeOdoo.start({ version, deprecatedRpc: true });
    try {
      const call = (method: string) =>
        jsonRpc(fake.url, {
          service: 'object',
          method: 'execute_kw',
          args: ['acme', 2, fake.adminKey, 'res.partner', method, [], {}],
        });
      const missing = await call('nope');
      expect(missing).toMatchObject({
        jsonrpc: '2.0',
        id: 7,
        error: {
          code,
          message: 'Odoo Server Error',
          data: { name: 'builtins.AttributeError', message: unknown },
        },
      });
      expect(await call('_x')).toMatchObject({
        error: { code, data: { name: 'odoo.exceptions.AccessError', message: privateText } },
      });
      // A domain naming an unknown field: odoo/osv/expression.py (17.0, 18.0), odoo/orm/domains.py (19.0 on).
      expect(
        await jsonRpc(fake.url, {
          service: 'object',
          method: 'execute_kw',
          args: [
            'acme',
            2,
            fake.adminKey,
            'res.partner',
            'search_read',
            [[['nope', '=', 1]]],
            { fields: ['name'] },
          ],
        }),
      ).toMatchObject({
        error: {
          code,
          data: {
            name: 'builtins.ValueError',
            message: `Invalid field res.partner.nope in ${where} ('nope', '=', 1)`,
          },
        },
      });
      // odoo/service/common.py `dispatch`: an unknown method of the common service.
      expect(await jsonRpc(fake.url, { service: 'common', method: 'nope', args: [] })).toMatchObject({
        error: { code, data: { name: 'builtins.Exception', message: 'Method not found: nope' } },
      });
    } finally {
      await fake.close();
    }
  });
});

describe('an address that is not an Odoo', () => {
  it('is told in one sentence saying what each probe got', async () => {
    const other = await FakeService.start('a website');
    other.route('GET', '/web/version', () => ({
      headers: { 'content-type': 'text/html' },
      body: '<html><body>Welcome</body></html>',
    }));
    other.route('POST', '/jsonrpc', () => ({
      status: 404,
      headers: { 'content-type': 'text/html' },
      body: 'no',
    }));
    try {
      const ran = await runBin(bin, ['status'], {
        env: isolatedEnv({
          env: { ODOO_URL: other.url, ODOO_API_KEY: 'k-0123456789abcdef', ODOO_DB: 'acme' },
        }),
      });
      expect(ran.code).toBe(1);
      expect(ran.stdout).toContain(
        `Connection failed: ${new URL(other.url).host} does not answer like an Odoo server: GET /web/version answered with something that is not JSON, and POST /jsonrpc answered 404. Check that ODOO_URL is the address of the Odoo server itself (e.g. https://acme.odoo.com), not a page, a login portal or another service; with --protocol json2 or jsonrpc no version check is made.`,
      );
    } finally {
      await other.close();
    }
  });
});

describe('a configured protocol', () => {
  it('never needs the version probe: --protocol json2 works while /web/version is broken', async () => {
    const fake = await FakeOdoo.start({ version: '19.0' });
    fake.service.inject({ path: '/web/version', status: 200, body: 'garbage', times: 100 });
    try {
      const server = await spawnOdoo(fake, { args: ['--protocol', 'json2'] });
      try {
        const call = await server.call('odoo_count_records', { model: 'sale.order' });
        expect(call.text).toBe('52 sale.order records match.');
        expect(fake.service.requestsTo('/web/version')).toEqual([]);
        expect(fake.service.requestsTo('/json/version')).toEqual([]);
      } finally {
        await server.close();
      }
      // status asks for the version once the configured protocol works: /web/version is broken here, so the
      // JSON-RPC common.version answers it.
      const ran = await status(fake, { ODOO_PROTOCOL: 'json2' });
      expect(ran.stdout).toContain('Server: Odoo 19.0; protocol JSON-2 (forced)');
    } finally {
      await fake.close();
    }
  });

  it.each(['saas~19.1', '20.0'])(
    'status with --protocol json2 says the real version of Odoo %s, read after connecting',
    async (version) => {
      const fake = await FakeOdoo.start({ version });
      try {
        const ran = await status(fake, { ODOO_PROTOCOL: 'json2' });
        expect(ran.stdout).toContain(`Server: Odoo ${version}; protocol JSON-2 (forced)`);
        // The first call of the connection went out before any version was asked for.
        const first = fake.service.requests[0]!;
        expect(first.path).toBe('/json/2/res.users/context_get');
      } finally {
        await fake.close();
      }
    },
  );

  it('status with --protocol json2 still works when no version can be read at all', async () => {
    const fake = await FakeOdoo.start({ version: '19.0' });
    fake.service.inject({ path: '/web/version', status: 200, body: 'garbage', times: 100 });
    fake.service.inject({ path: '/jsonrpc', status: 404, body: 'no', times: 100 });
    try {
      const ran = await status(fake, { ODOO_PROTOCOL: 'json2' });
      expect(ran.code).toBe(0);
      expect(ran.stdout).toContain('Server: Odoo 19.0 or newer (JSON-2 forced); protocol JSON-2 (forced)');
    } finally {
      await fake.close();
    }
  });
});

describe('Odoo 20 and Odoo Online 19.1', () => {
  it('Odoo 20 with --protocol jsonrpc says JSON-RPC is switched off, and works once the parameter is set', async () => {
    const fake = await FakeOdoo.start({ version: '20.0' });
    try {
      const server = await spawnOdoo(fake, { args: ['--protocol', 'jsonrpc'] });
      try {
        const call = await server.call('odoo_count_records', { model: 'sale.order' });
        expect(call.text).toBe(
          "Odoo answered JSON-RPC with 404: this Odoo does not serve JSON-RPC's sign-in and object services (Odoo 20 turns them off unless an administrator sets the system parameter rpc.use_deprecated_services). Use JSON-2 instead: remove --protocol jsonrpc (or ODOO_PROTOCOL); or ask an Odoo administrator to set rpc.use_deprecated_services.",
        );
        // Odoo's own JSON-RPC answer: code 404, "404: Not Found" (odoo/http.py JsonRPCDispatcher.handle_error).
        const reply = fake.service.requestsTo('/jsonrpc').at(-1)!;
        expect(reply.status).toBe(200);
        fake.deprecatedRpc = true;
        expect((await server.call('odoo_count_records', { model: 'sale.order' })).text).toBe(
          '52 sale.order records match.',
        );
      } finally {
        await server.close();
      }
    } finally {
      await fake.close();
    }
  });

  it.each(['saas~19.1', '20.0'])(
    'Odoo %s has no db service: without ODOO_DB, JSON-RPC asks for it instead of failing obscurely',
    async (version) => {
      const fake = await FakeOdoo.start({ version, deprecatedRpc: true });
      try {
        const ran = await status(fake, { ODOO_DB: undefined, ODOO_PROTOCOL: 'jsonrpc' });
        expect(ran.stdout).toContain(
          `Connection failed: Odoo at ${new URL(fake.url).host} does not list its databases, so ODOO_DB must name the one to use. Set ODOO_DB, or run \`odoo-mcp login --db <name>\`.`,
        );
        // JSON-2 needs no database name when the server hosts one.
        const json2 = await status(fake, { ODOO_DB: undefined });
        expect(json2.code).toBe(0);
      } finally {
        await fake.close();
      }
    },
  );

  it.each<[string, string | null]>([
    ['17.0', null],
    ['19.0', null],
    ['saas~19.1', null],
    ['saas~19.1', 'rpc'],
    ['20.0', 'rpc'],
  ])('Odoo %s, a key with scope %s: accepted', async (version, scope) => {
    const fake = await FakeOdoo.start({ version });
    fake.keyScopes.set(fake.adminKey, scope);
    try {
      expect((await status(fake)).code).toBe(0);
    } finally {
      await fake.close();
    }
  });

  it.each([
    [
      'saas~19.1',
      'mcp',
      'Connection failed: Odoo refused the API key (401 «Invalid apikey»): the key is wrong, revoked or expired, or was made for another use than RPC (a key bound to another scope). Create a new key for RPC use in Odoo (Preferences → Account Security → New API Key, with no scope or the RPC scope), then run `odoo-mcp login` or set ODOO_API_KEY.',
    ],
    [
      '20.0',
      'website',
      'Connection failed: Odoo refused the API key (401 «Invalid apikey»): the key is wrong, revoked or expired, or was made for another use than RPC (a key bound to another scope). Create a new key for RPC use in Odoo (Preferences → Account Security → New API Key, with no scope or the RPC scope), then run `odoo-mcp login` or set ODOO_API_KEY.',
    ],
    [
      '18.0',
      'odoobot',
      "Connection failed: Odoo refused the sign-in of 'admin' on database 'acme' (authenticate answered false): the login or API key is wrong, revoked or expired. Create a new key in Odoo (Preferences → Account Security → New API Key), then run `odoo-mcp login` or set ODOO_API_KEY.",
    ],
  ])('Odoo %s, a key bound to the scope %s is refused with what to do', async (version, scope, said) => {
    const fake = await FakeOdoo.start({ version });
    fake.keyScopes.set(fake.adminKey, scope);
    try {
      const ran = await status(fake);
      expect(ran.code).toBe(1);
      expect(ran.stdout).toContain(said);
    } finally {
      await fake.close();
    }
  });

  it.each(['saas~19.1', '20.0'])(
    'Odoo %s: status, tools and a wrong ODOO_DB never call the db service, which is gone there',
    async (version) => {
      const fake = await FakeOdoo.start({ version });
      try {
        expect((await status(fake)).code).toBe(0);
        const server = await spawnOdoo(fake);
        try {
          expect((await server.call('odoo_count_records', { model: 'sale.order' })).isError).toBe(false);
        } finally {
          await server.close();
        }
        const wrong = await status(fake, { ODOO_DB: 'acmee' });
        expect(wrong.stdout).toContain(
          `Connection failed: Odoo at ${new URL(fake.url).host} answered 404 for the JSON-2 API of database 'acmee'; the database probably does not exist. Check ODOO_DB.`,
        );
        const services = fake.service
          .requestsTo('/jsonrpc')
          .map((r) => (JSON.parse(r.body) as { params: { service: string } }).params.service);
        expect(services).not.toContain('db');
      } finally {
        await fake.close();
      }
    },
  );
});

describe.each(PROTOCOLS)('refusals over $protocol (Odoo $version)', ({ version }) => {
  let hidden: number;
  let otherCompany: number;
  const t = withWorld({
    version,
    seed: (world) => {
      [hidden, otherCompany] = [...world.orm.table('sale.order').keys()] as [number, number];
      // A salesperson may read sale.order (ir.model.access) but only their own orders (ir.rule) — Odoo's
      // sale.sale_order_personal_rule — and only the companies they are allowed in.
      world.orm.rules.push(
        {
          name: 'Personal Orders',
          model: 'sale.order',
          groups: [2],
          operations: ['read', 'write', 'create', 'unlink'],
          allows: (rec, user) => rec.id !== hidden || user.id !== 6,
        },
        {
          name: 'Sales Order multi-company',
          model: 'sale.order',
          // Readable, not writable: the write is what Odoo refuses.
          operations: ['write', 'unlink'],
          allows: (rec, user) => rec.id !== otherCompany || user.id !== 6,
          company: true,
        },
      );
      world.orm.fieldGroups.set('res.partner', { phone: [6] });
    },
    server: { who: 'sales', args: ['--allow-writes'] },
  });

  it('a record rule is not a missing access right: the user still lists orders, and the rule is named', async () => {
    const listed = await t.server.call('odoo_count_records', { model: 'sale.order' });
    expect(listed.isError).toBe(false);
    const call = await t.server.call('odoo_get_record', { model: 'sale.order', id: hidden });
    expect(call.text).toBe(
      "Odoo refused read access to some sale.order records: a record rule excludes them for this user, who may still read other sale.order records; Odoo said «Sorry, Sales Bot (id=6) doesn't have 'read' access to: Sales Order (sale.order)». An Odoo administrator can review the record rules of sale.order (Settings → Technical → Security → Record Rules) for this user's groups; adding model access rights does not help.",
    );
    expect(call.text).not.toContain('lacks');
  });

  it('in debug mode, the rules Odoo blames are listed, and a company rule is named as multi-company', async () => {
    t.world.orm.users.get(6)!.debug = true;
    try {
      const rule = await t.server.call('odoo_get_record', { model: 'sale.order', id: hidden });
      expect(rule.text).toContain('The rules: «Personal Orders».');
      const company = await t.server.call('odoo_update_record', {
        model: 'sale.order',
        ids: [otherCompany],
        values: { note: 'x' },
      });
      // ir_rule.py (17.0 onwards) names the refused records in debug mode: "- Sales Order, <name> (sale.order: <id>)".
      expect(company.text).toMatch(
        new RegExp(
          "^Odoo refused write access to some sale\\.order records: a multi-company record rule excludes them, so they probably belong to a company this user is not allowed in or has not selected; Odoo said «Sorry, Sales Bot \\(id=6\\) doesn't have 'write' access to: Sales Order, [^«»]+ \\(sale\\.order: " +
            otherCompany +
            "\\)»\\. The rules: «Sales Order multi-company»\\. An Odoo administrator can add that company to the user's Allowed Companies \\(Settings → Users → the user\\); model access rights do not help here\\.$",
        ),
      );
    } finally {
      t.world.orm.users.get(6)!.debug = false;
    }
  });

  it('a field restricted to some groups is left out of fields_get, so it reads as unknown before anything is sent', async () => {
    const call = await t.server.call('odoo_search_records', {
      model: 'res.partner',
      fields: ['name', 'phone'],
    });
    expect(call.text).toContain("res.partner has no field 'phone'.");
    expect(
      (await t.server.call('odoo_search_records', { model: 'res.partner', fields: ['name'] })).isError,
    ).toBe(false);
  });
});
