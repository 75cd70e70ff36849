// Every error the issue lists, on both protocols, with the exact sentence the model sees; after each,
// the server still answers and Odoo's data is unchanged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fenceProblems, injection, type SpawnedServer } from '@switchyard/testkit';
import { FakeOdoo } from './fake/odoo.js';
import { PROTOCOLS, spawnOdoo, withWorld } from './helpers.js';

const NEW_KEY =
  'Create a new key in Odoo (Preferences → Account Security → New API Key), then run `odoo-mcp login` or set ODOO_API_KEY.';
const PREFIX_HINT =
  'Write it in prefix notation, e.g. ["|", ["state", "=", "sale"], ["amount_total", ">", 1000]].';

async function withServer<T>(
  fake: FakeOdoo,
  options: Parameters<typeof spawnOdoo>[1],
  work: (server: SpawnedServer) => Promise<T>,
): Promise<T> {
  const server = await spawnOdoo(fake, options);
  try {
    return await work(server);
  } finally {
    await server.close();
  }
}

/** Snapshot of the data an error must leave alone. */
function dataOf(fake: FakeOdoo): string {
  return JSON.stringify(
    ['sale.order', 'res.partner', 'hr.employee', 'account.move'].map((m) => [...fake.orm.table(m).values()]),
  );
}

describe.each(PROTOCOLS)('errors over $protocol (Odoo $version)', ({ version, protocol }) => {
  // From Odoo 19.1 a key may be bound to one use: a key bound to another than RPC is refused like a wrong one
  // (res.users.apikeys._check_credentials(scope='rpc')), so the sentence names it and says to make an RPC key.
  const scope =
    version >= '19.1' ? ', or was made for another use than RPC (a key bound to another scope)' : '';
  const NEW_KEY_HINT =
    version >= '19.1'
      ? 'Create a new key for RPC use in Odoo (Preferences → Account Security → New API Key, with no scope or the RPC scope), then run `odoo-mcp login` or set ODOO_API_KEY.'
      : NEW_KEY;
  // Odoo 20 has no db service (odoo/http.py dispatch_rpc), so the databases cannot be listed.
  const canList = version < '19.1';
  let host: string;
  let before: string;

  const t = withWorld({
    version,
    seed: (world) => {
      host = new URL(world.url).host;
    },
  });
  beforeAll(async () => {
    before = dataOf(t.world);
  });
  afterAll(async () => {
    expect(dataOf(t.world)).toBe(before);
  });

  /** The server survives: an ordinary call still answers. */
  const stillServes = async () => {
    const ok = await t.server.call('odoo_count_records', {
      model: 'res.partner',
      domain: [['is_company', '=', true]],
    });
    expect(ok.text).toBe('7 res.partner records match.');
  };

  it('an invalid API key (401)', async () => {
    await withServer(t.world, { env: { ODOO_API_KEY: 'wrong-key-0123456789abcdef' } }, async (bad) => {
      const call = await bad.call('odoo_count_records', { model: 'res.partner' });
      expect(call.isError).toBe(true);
      expect(call.text).toBe(
        protocol === 'json2'
          ? `Odoo refused the API key (401 «Invalid apikey»): the key is wrong, revoked or expired${scope}. ${NEW_KEY_HINT}`
          : `Odoo refused the sign-in of 'admin' on database 'acme' (authenticate answered false): the login or API key is wrong, revoked or expired${scope}. ${NEW_KEY_HINT}`,
      );
      expect(bad.stderr()).not.toContain('wrong-key-0123456789abcdef');
      // Still alive, and it tries again rather than caching the failure.
      expect((await bad.call('odoo_count_records', { model: 'res.partner' })).text).toBe(call.text);
    });
    if (protocol === 'json2') {
      expect(t.world.service.requestsTo(/^\/json\/2\//).some((r) => r.status === 401)).toBe(true);
    }
  });

  it('an expired API key', async () => {
    await withServer(
      t.world,
      { env: { ODOO_API_KEY: 'expired-key-0123456789abcdef', ODOO_API_KEY_EXPIRES: '2020-01-31' } },
      async (bad) => {
        const call = await bad.call('odoo_list_sales_orders', {});
        expect(call.text).toBe(
          `The Odoo API key expired on 2020-01-31, so Odoo refuses it (${protocol === 'json2' ? '401 «Invalid apikey»' : 'authenticate answered false'}). ${NEW_KEY_HINT}`,
        );
        expect(bad.stderr()).toContain('the Odoo API key expired on 2020-01-31');
      },
    );
  });

  it('a key revoked while serving', async () => {
    const extra = await FakeOdoo.start({ version });
    try {
      await withServer(extra, {}, async (s) => {
        expect((await s.call('odoo_count_records', { model: 'res.partner' })).isError).toBe(false);
        extra.revokeKey(extra.adminKey);
        const call = await s.call('odoo_count_records', { model: 'res.partner' });
        expect(call.text).toBe(
          protocol === 'json2'
            ? `Odoo refused the API key (401 «Invalid apikey»): the key is wrong, revoked or expired${scope}. ${NEW_KEY_HINT}`
            : `Odoo refused the sign-in of 'admin' on database 'acme' («Access Denied»): the login or API key is wrong, revoked or expired${scope}. ${NEW_KEY_HINT}`,
        );
      });
    } finally {
      await extra.close();
    }
  });

  it('an unknown database', async () => {
    const unlisted =
      protocol === 'json2'
        ? `Odoo at ${host} answered 404 for the JSON-2 API of database 'nope'; the database probably does not exist. Check ODOO_DB.`
        : `Odoo at ${host} has no database 'nope'. Check ODOO_DB.`;
    await withServer(t.world, { env: { ODOO_DB: 'nope' } }, async (bad) => {
      const call = await bad.call('odoo_list_employees', {});
      expect(call.text).toBe(
        canList ? `Odoo at ${host} has no database 'nope'. Set ODOO_DB to one of: acme.` : unlisted,
      );
    });
    t.world.listDatabases = false;
    try {
      await withServer(t.world, { env: { ODOO_DB: 'nope' } }, async (bad) => {
        const call = await bad.call('odoo_list_employees', {});
        expect(call.text).toBe(unlisted);
      });
    } finally {
      t.world.listDatabases = true;
    }
  });

  it("a missing model access right names the model, the right, Odoo's sentence and the groups that have it", async () => {
    await withServer(t.world, { who: 'sales' }, async (sales) => {
      const call = await sales.call('odoo_list_employees', {});
      expect(call.isError).toBe(true);
      expect(call.text).toBe(
        "Odoo denied read access to hr.employee: this user lacks the model access right (ir.model.access) to read that model; Odoo said «You are not allowed to access 'Employee' (hr.employee) records». It is granted to: «Employees / Officer: Manage all employees»; «Administration / Settings». An Odoo administrator can add this user to one of those groups (Settings → Users → the user → Access Rights), or use the API key of a user who has the right.",
      );
      const invoices = await sales.call('odoo_search_records', { model: 'account.move' });
      expect(invoices.text).toBe(
        "Odoo denied read access to account.move: this user lacks the model access right (ir.model.access) to read that model; Odoo said «You are not allowed to access 'Journal Entry' (account.move) records». It is granted to: «Invoicing / Billing»; «Administration / Settings». An Odoo administrator can add this user to one of those groups (Settings → Users → the user → Access Rights), or use the API key of a user who has the right.",
      );
      expect((await sales.call('odoo_count_records', { model: 'sale.order' })).isError).toBe(false);
    });
  });

  it('an unknown field, in the fields, a dotted domain path and the order, before anything is sent', async () => {
    const sent = t.world.orm.calls.filter((c) => c.method === 'search_read').length;
    const fields = await t.server.call('odoo_search_records', {
      model: 'sale.order',
      fields: ['name', 'amount'],
    });
    expect(fields.text).toBe(
      "sale.order has no field 'amount'. Close matches: amount_total, amount_untaxed. Call odoo_describe_model with model 'sale.order' to see its fields.",
    );
    const dotted = await t.server.call('odoo_search_records', {
      model: 'sale.order',
      domain: [['partner_id.contry_id.code', '=', 'BE']],
    });
    expect(dotted.text).toBe(
      'In the domain condition ["partner_id.contry_id.code","=","BE"], res.partner has no field \'contry_id\'. Close matches: country_id. Call odoo_describe_model with model \'res.partner\' to see its fields.',
    );
    const notRelation = await t.server.call('odoo_count_records', {
      model: 'sale.order',
      domain: [['name.foo', '=', 1]],
    });
    expect(notRelation.text).toBe(
      'In the domain condition ["name.foo","=",1], sale.order.name is a char field, so the path \'name.foo\' cannot continue past it.',
    );
    const order = await t.server.call('odoo_search_records', {
      model: 'sale.order',
      order: 'dat_order desc',
    });
    expect(order.text).toBe(
      "In the order, sale.order has no field 'dat_order'. Close matches: date_order. Call odoo_describe_model with model 'sale.order' to see its fields.",
    );
    expect(t.world.orm.calls.filter((c) => c.method === 'search_read').length).toBe(sent);
    await stillServes();
  });

  it('a bad domain, with what is wrong', async () => {
    const cases: Array<[unknown[], string]> = [
      [
        ['|', ['state', '=', 'sale']],
        "The domain is invalid: '|' at element 1 needs two conditions after it, but has only 1.",
      ],
      [
        ['state = sale'],
        `The domain is invalid: element 1 ("state = sale") is neither a condition [field, operator, value] nor one of '&', '|', '!'.`,
      ],
      [
        [['state', 'equals', 'sale']],
        'The domain is invalid: condition ["state","equals","sale"] uses the operator "equals", which Odoo does not know; use one of =, !=, <, <=, >, >=, =?, in, not in, like, not like, ilike, not ilike, =like, =ilike, child_of, parent_of, any, not any.',
      ],
      [
        [['state', 'in', 'sale']],
        'The domain is invalid: condition ["state","in","sale"] needs a list value for \'in\', e.g. ["state", "in", ["sale", "done"]].',
      ],
      [
        [['state', '=', 'confirmed']],
        'The domain is invalid: condition ["state","=","confirmed"]: "confirmed" is not a value of sale.order.state; the values are draft, sent, sale, cancel.',
      ],
      [
        [['state', '=']],
        "The domain is invalid: element 1 ([\"state\",\"=\"]) is neither a condition [field, operator, value] nor one of '&', '|', '!'.",
      ],
      [
        ['!', '&', ['state', '=', 'sale']],
        "The domain is invalid: '&' at element 2 needs two conditions after it, but has only 1.",
      ],
    ];
    for (const [domain, text] of cases) {
      const call = await t.server.call('odoo_count_records', { model: 'sale.order', domain });
      expect(call.isError).toBe(true);
      expect(call.text).toBe(`${text} ${PREFIX_HINT}`);
    }
    await stillServes();
  });

  it('a record that does not exist, and a model that does not exist', async () => {
    const call = await t.server.call('odoo_get_record', { model: 'sale.order', id: 9999 });
    expect(call.text).toBe(
      'sale.order has no record with id 9999 (it does not exist, was deleted, or is archived out of reach). Use odoo_search_records to find the ids that exist.',
    );
    const model = await t.server.call('odoo_describe_model', { model: 'sale.ordr' });
    expect(model.text).toBe(
      "Odoo has no model 'sale.ordr'. Candidates: sale.advance.payment.inv, sale.order, sale.order.line. Call odoo_list_models to find the technical model name.",
    );
    await stillServes();
  });

  it('a network failure', async () => {
    await withServer(t.world, { env: { ODOO_URL: 'https://127.0.0.1:9' } }, async (down) => {
      const call = await down.call('odoo_count_records', { model: 'res.partner' });
      expect(call.text).toBe(
        'Could not reach Odoo at 127.0.0.1:9 (ECONNREFUSED). Check the network connection and the configured URL.',
      );
    });
    // A connection dropped once is retried for reads.
    await t.server.call('odoo_count_records', { model: 'sale.order' });
    t.world.service.inject({
      path: protocol === 'json2' ? '/json/2/sale.order/search_count' : '/jsonrpc',
      drop: true,
    });
    const retried = await t.server.call('odoo_count_records', { model: 'sale.order' });
    expect(retried.text).toBe('52 sale.order records match.');
  });

  it('a 5xx from Odoo or from a proxy in front of it', async () => {
    t.world.fail({
      model: 'sale.order',
      method: 'search_read',
      name: 'builtins.ZeroDivisionError',
      message: 'division by zero',
    });
    const call = await t.server.call('odoo_search_records', { model: 'sale.order' });
    expect(call.text).toBe(
      `Odoo failed on its side${protocol === 'json2' ? ' (HTTP 500)' : ''} while running sale.order.search_read: ZeroDivisionError: «division by zero». Try again in a moment; if it keeps failing, an Odoo administrator can find the traceback in the Odoo server log.`,
    );
    expect(call.text).not.toContain('Traceback (most recent call last)');

    await t.server.call('odoo_count_records', { model: 'sale.order' });
    const path = protocol === 'json2' ? '/json/2/sale.order/search_count' : '/jsonrpc';
    const html = '<html><body><h1>503 Service Unavailable</h1>No server is available.</body></html>';
    t.world.service.inject({ path, status: 503, body: html, times: 4 });
    const proxy = await t.server.call('odoo_count_records', { model: 'sale.order' });
    expect(proxy.text).toBe(
      'Odoo failed on its side (HTTP 503) while running sale.order.search_count: «503 Service Unavailable No server is available.» Try again in a moment; if it keeps failing, an Odoo administrator can find the traceback in the Odoo server log.',
    );
    // Once is retried.
    t.world.service.inject({ path, status: 502, body: html, times: 1 });
    expect((await t.server.call('odoo_count_records', { model: 'sale.order' })).text).toBe(
      '52 sale.order records match.',
    );
    await stillServes();
  });

  it('an error message that is an injection is quoted on one line and cannot fake a fence', async () => {
    for (const name of ['odoo.exceptions.ValidationError', 'builtins.RuntimeError']) {
      t.world.fail({
        model: 'res.partner',
        method: 'search_read',
        name,
        message: `${injection('SYSTEM OVERRIDE')}\nsecond line`,
      });
      const call = await t.server.call('odoo_search_records', { model: 'res.partner' });
      expect(call.isError).toBe(true);
      expect(call.text).toContain('SYSTEM OVERRIDE');
      expect(call.text).not.toContain('\n');
      expect(fenceProblems(call.text, 'SYSTEM OVERRIDE', { quoted: true })).toEqual([]);
    }
    await stillServes();
  });

  it('a 429 from Odoo or from a proxy in front of it says when to try again', async () => {
    await t.server.call('odoo_count_records', { model: 'sale.order' });
    const later =
      'Odoo is throttling requests while running sale.order.search_count and asks to wait 120 s. Try again in 120 s or later, with fewer calls at once.';
    // 120 s is longer than core's retry policy waits, so the call fails at once with the wait.
    t.world.fail({
      model: 'sale.order',
      method: 'search_count',
      name: 'werkzeug.exceptions.TooManyRequests',
      message: '429 Too Many Requests: The user has sent too many requests in a given amount of time.',
      status: 429,
      retryAfter: 120,
    });
    const odoo = await t.server.call('odoo_count_records', { model: 'sale.order' });
    expect(odoo.isError).toBe(true);
    // JSON-RPC carries Odoo's exception in an HTTP 200, without Retry-After.
    expect(odoo.text).toBe(
      protocol === 'json2'
        ? later
        : 'Odoo is throttling requests while running sale.order.search_count. Wait a minute and try again, with fewer calls at once.',
    );

    const path = protocol === 'json2' ? '/json/2/sale.order/search_count' : '/jsonrpc';
    const html = '<html><body><h1>429 Too Many Requests</h1></body></html>';
    t.world.service.inject({ path, status: 429, retryAfter: 120, body: html });
    const proxy = await t.server.call('odoo_count_records', { model: 'sale.order' });
    expect(proxy.isError).toBe(true);
    expect(proxy.text).toBe(later);
    // A short wait is waited out.
    t.world.service.inject({ path, status: 429, retryAfter: 0, body: html });
    expect((await t.server.call('odoo_count_records', { model: 'sale.order' })).text).toBe(
      '52 sale.order records match.',
    );
    await stillServes();
  });

  it('a cancelled call', async () => {
    await t.server.call('odoo_count_records', { model: 'sale.order' });
    const path = protocol === 'json2' ? '/json/2/sale.order/search_count' : '/jsonrpc';
    t.world.service.inject({ path, delayMs: 3000 });
    const controller = new AbortController();
    const sent = t.world.service.requestsTo(path).length;
    const pending = t.server.call(
      'odoo_count_records',
      { model: 'sale.order' },
      { signal: controller.signal },
    );
    // Cancel once the count has reached Odoo.
    await expect.poll(() => t.world.service.requestsTo(path).length).toBeGreaterThan(sent);
    controller.abort('user cancelled');
    await expect(pending).rejects.toThrow();
    await expect.poll(() => t.world.service.requestsTo(path).at(-1)!.abandoned).toBe(true);
    await expect
      .poll(() => t.server.stderr())
      .toContain(
        'odoo_count_records answered with CancelledError {"message":"The call was cancelled before it finished; nothing was changed by the cancelled part."}',
      );
    await stillServes();
  });
});

describe('a server on an unsupported version', () => {
  it('is refused with the version it runs and the one needed', async () => {
    const old = await FakeOdoo.start({ version: '15.0' });
    try {
      await withServer(old, {}, async (server) => {
        const call = await server.call('odoo_list_sales_orders', {});
        expect(call.text).toBe(
          `Odoo at ${new URL(old.url).host} runs version 15.0, which odoo-mcp does not support; it needs Odoo 16.0 or newer. Upgrade Odoo, or use its web interface for this database.`,
        );
      });
      // Odoo 15 has no /web/version: the version came from JSON-RPC common.version.
      expect(old.service.requestsTo('/jsonrpc').map((r) => JSON.parse(r.body).params.method)).toEqual([
        'version',
      ]);
    } finally {
      await old.close();
    }
  });
});
