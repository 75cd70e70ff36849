// The command line: login / status / logout with the secret store, the write switch and its start-up
// errors, protocol detection and override, database discovery, and versions 16 and 18.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isolatedEnv, keychainStatus, runBin, spawnServer } from '@switchyard/testkit';
import { serverTest } from '@switchyard/testkit/server-test';
import { COMPANY_TZ } from './fake/company.js';
import { FakeOdoo } from './fake/odoo.js';
import { bin, hostEnv, spawnOdoo, withWorld } from './helpers.js';

const keychain = await keychainStatus();

const toolNames = async (fake: FakeOdoo, args: string[], env: Record<string, string> = {}) => {
  const server = await spawnOdoo(fake, { args, env });
  try {
    return (await server.client.listTools()).tools.map((t) => t.name).sort();
  } finally {
    await server.close();
  }
};

const READ_TOOLS = [
  'odoo_aggregate_records',
  'odoo_count_records',
  'odoo_describe_model',
  'odoo_get_inventory',
  'odoo_get_record',
  'odoo_list_employees',
  'odoo_list_invoices',
  'odoo_list_models',
  'odoo_list_sales_orders',
  'odoo_search_records',
];
const WRITE_TOOLS = ['odoo_create_record', 'odoo_delete_record', 'odoo_update_record'];
/** Served unless --read-only: saving an attachment writes to local disk, never to Odoo. */
const DEFAULT_TOOLS = [...READ_TOOLS, 'odoo_save_attachment'].sort();

describe('the write switch', () => {
  const t = withWorld({ server: false });

  it('serves no write tool by default, all three with --allow-writes or ODOO_ALLOW_WRITES=1', async () => {
    expect(await toolNames(t.world, [])).toEqual(DEFAULT_TOOLS);
    expect(await toolNames(t.world, ['--allow-writes'])).toEqual([...DEFAULT_TOOLS, ...WRITE_TOOLS].sort());
    expect(await toolNames(t.world, [], { ODOO_ALLOW_WRITES: '1' })).toEqual(
      [...DEFAULT_TOOLS, ...WRITE_TOOLS].sort(),
    );
    expect(await toolNames(t.world, ['--allow-writes', '--toolsets', 'write'])).toEqual(WRITE_TOOLS);
    expect(await toolNames(t.world, ['--toolsets', 'business'])).toEqual([
      'odoo_get_inventory',
      'odoo_list_employees',
      'odoo_list_invoices',
      'odoo_list_sales_orders',
    ]);
  });

  it('lets --read-only win over --allow-writes', async () => {
    expect(await toolNames(t.world, ['--allow-writes', '--read-only'])).toEqual(READ_TOOLS);
    expect(await toolNames(t.world, [], { ODOO_ALLOW_WRITES: '1', ODOO_READ_ONLY: '1' })).toEqual(READ_TOOLS);
  });

  it('refuses at start-up to serve write tools that were asked for but not allowed', async () => {
    const env = isolatedEnv({ env: hostEnv(t.world) });
    const set = await runBin(bin, ['--toolsets', 'records,write'], { env });
    expect(set.code).toBe(2);
    expect(set.stdout).toBe('');
    expect(set.stderr.trim()).toBe(
      'odoo-mcp: --toolsets write asks for write tools, but Odoo writes are off by default. Add --allow-writes (or set ODOO_ALLOW_WRITES=1) to serve odoo_create_record, odoo_update_record, odoo_delete_record.',
    );
    const tool = await runBin(bin, ['--tools', 'odoo_delete_record'], { env });
    expect(tool.code).toBe(2);
    expect(tool.stderr).toContain(
      'odoo-mcp: --tools odoo_delete_record asks for write tools, but Odoo writes are off by default.',
    );
    const readOnly = await runBin(bin, ['--allow-writes', '--read-only', '--toolsets', 'write'], { env });
    expect(readOnly.code).toBe(2);
    expect(readOnly.stderr.trim()).toBe(
      'odoo-mcp: --toolsets write asks for write tools, but --read-only is set and always wins, so none can be served. Remove --read-only (and ODOO_READ_ONLY) and add --allow-writes to serve them.',
    );
  });
});

describe('login, status and logout', () => {
  // Two Odoos: the one signed in to, and an older one a second profile points at.
  const t = serverTest({
    bin,
    world: async () => {
      const [fake, old] = await Promise.all([
        FakeOdoo.start({ version: '19.0' }),
        FakeOdoo.start({ version: '17.0' }),
      ]);
      return { fake, old, close: () => Promise.all([fake.close(), old.close()]).then(() => {}) };
    },
    server: false,
  });

  it('stores the address and key after checking them, then serves from the store alone', async () => {
    const env = isolatedEnv();
    const host = new URL(t.world.fake.url).host;
    const notConfigured = await runBin(bin, ['status'], { env });
    expect(notConfigured.code).toBe(1);
    expect(notConfigured.stdout).toContain(
      'Not configured: No Odoo address is configured: ODOO_URL is not set and nothing was stored by login. Set ODOO_URL (e.g. https://acme.odoo.com) and ODOO_API_KEY, or run `odoo-mcp login --url <address>`.',
    );

    const login = await runBin(
      bin,
      ['login', '--url', `${t.world.fake.url}/odoo/action-42`, '--key-expires', '2099-12-31'],
      {
        env,
        input: `${t.world.fake.adminKey}\n`,
      },
    );
    expect(login.code).toBe(0);
    expect(login.stdout).toContain(
      `Signed in to Odoo 19.0 at ${host} as Mitchell Admin (admin) over JSON-2.\nStored for profile default: the API key in encrypted files under`,
    );
    expect(login.stdout + login.stderr).not.toContain(t.world.fake.adminKey);

    const status = await runBin(bin, ['status'], { env });
    expect(status.code).toBe(0);
    const lines = status.stdout.split('\n');
    expect(lines).toContain(`Odoo: ${t.world.fake.url} (from login)`);
    expect(
      lines.some((l) =>
        /^API key: from the encrypted file store; expires 2099-12-31 \(in \d+ days\)$/.test(l),
      ),
    ).toBe(true);
    expect(lines).toContain('Server: Odoo 19.0; protocol JSON-2 (detected)');
    expect(lines).toContain('User: Mitchell Admin (admin), uid 2, company Acme Robotics');
    expect(lines).toContain(`Time zone: ${COMPANY_TZ} (the user's)`);
    expect(lines).toContain(
      'Groups (6): Administration / Settings; Employees / Officer: Manage all employees; Inventory / User; Invoicing / Billing; Sales / User: Own Documents Only; User types / Internal User',
    );
    expect(lines).toContain('Writes: off (start with --allow-writes to enable)');
    expect(status.stdout).not.toContain(t.world.fake.adminKey);

    // The server needs nothing but what login stored.
    const server = await spawnServer(bin, {
      configDir: env.SWITCHYARD_CONFIG_DIR,
      dataDir: env.SWITCHYARD_DATA_DIR,
    });
    try {
      expect((await server.call('odoo_count_records', { model: 'res.partner' })).text).toBe(
        '8 res.partner records match.',
      );
    } finally {
      await server.close();
    }

    const logout = await runBin(bin, ['logout'], { env });
    expect(logout.stdout.trim()).toBe('Removed the stored Odoo API key and connection of profile default.');
    expect((await runBin(bin, ['status'], { env })).code).toBe(1);
    expect((await runBin(bin, ['logout'], { env })).stdout.trim()).toBe(
      'Nothing was stored for profile default.',
    );
  });

  it('after the key file is lost or damaged, says what was lost, and logout then login recovers', async () => {
    const env = isolatedEnv();
    const keyFile = join(env.SWITCHYARD_CONFIG_DIR!, 'secret.key');
    const login = () =>
      runBin(bin, ['login', '--url', t.world.fake.url], { env, input: `${t.world.fake.adminKey}\n` });
    expect((await login()).code).toBe(0);
    const sentence = (why: string) =>
      `2 stored secrets can no longer be read because the key file ${keyFile} that encrypts them is ${why}: switchyard/odoo/default (api_key, connection). Run \`odoo-mcp logout\`, then \`odoo-mcp login\`, to store them again under a new key (nothing was changed).`;
    for (const [why, damage] of [
      ['missing', () => rmSync(keyFile)],
      ['damaged (not a 32-byte key)', () => writeFileSync(keyFile, 'c2hvcnQ=')],
    ] as const) {
      damage();
      const status = await runBin(bin, ['status'], { env });
      expect(status.code).toBe(1);
      expect(status.stdout.split('\n')[1]).toBe(`Stored secrets unreadable: ${sentence(why)}`);
      // login without logout refuses before asking for a key, and no new key is made.
      const refused = await login();
      expect(refused.code).toBe(1);
      expect(refused.stderr.trim().split('\n').at(-1)).toBe(`odoo-mcp: ${sentence(why)}`);
      expect(refused.stderr).not.toContain('Odoo API key:');
      expect(existsSync(keyFile)).toBe(why !== 'missing');
      const logout = await runBin(bin, ['logout'], { env });
      expect(logout.code).toBe(0);
      expect(logout.stdout.trim()).toBe('Removed the stored Odoo API key and connection of profile default.');
      const again = await login();
      expect(again.code).toBe(0);
      expect(again.stdout + again.stderr).not.toContain(t.world.fake.adminKey);
      const healthy = await runBin(bin, ['status'], { env });
      expect(healthy.code).toBe(0);
      expect(healthy.stdout).toContain('User: Mitchell Admin (admin), uid 2, company Acme Robotics');
    }
  });

  it('stores nothing when Odoo refuses the key', async () => {
    const env = isolatedEnv();
    const login = await runBin(bin, ['login', '--url', t.world.fake.url, '--profile', 'work'], {
      env,
      input: 'not-a-valid-key-1234567890\n',
    });
    expect(login.code).toBe(1);
    // The prompt (on stderr, on a line of its own when stdin is a pipe) comes right before the answer.
    const lines = login.stderr.trim().split('\n');
    expect(lines.at(-2)).toBe('Odoo API key: ');
    expect(lines.at(-1)).toBe(
      'odoo-mcp: Odoo refused the API key (401 «Invalid apikey»): the key is wrong, revoked or expired. Create a new key in Odoo (Preferences → Account Security → New API Key), then run `odoo-mcp login --profile work` or set ODOO_API_KEY.',
    );
    expect(login.stderr).not.toContain('not-a-valid-key-1234567890');
    expect((await runBin(bin, ['status', '--profile', 'work'], { env })).code).toBe(1);
  });

  it('needs a login for JSON-RPC, finds the only database, and keeps profiles apart', async () => {
    const env = isolatedEnv();
    const noUser = await runBin(bin, ['login', '--url', t.world.old.url, '--profile', 'legacy'], {
      env,
      input: `${t.world.old.salesKey}\n`,
    });
    expect(noUser.code).toBe(2);
    expect(noUser.stderr.trim().split('\n').at(-1)).toBe(
      'odoo-mcp: Odoo 17.0 is reached over JSON-RPC, which signs in with a login; nothing was stored. Run `odoo-mcp login --profile legacy --username <login>` again.',
    );
    const login = await runBin(
      bin,
      ['login', '--url', t.world.old.url, '--username', 'sales.bot@acme.test', '--profile', 'legacy'],
      { env, input: `${t.world.old.salesKey}\n` },
    );
    expect(login.code).toBe(0);
    expect(login.stdout).toContain(
      `Signed in to Odoo 17.0 at ${new URL(t.world.old.url).host} (database acme) as Sales Bot (sales.bot@acme.test) over JSON-RPC.`,
    );
    const status = await runBin(bin, ['status', '--profile', 'legacy'], { env });
    expect(status.stdout).toContain('Server: Odoo 17.0; protocol JSON-RPC (detected); database acme');
    expect(status.stdout).toContain("Time zone: America/New_York (the user's)");
    expect(status.stdout).toContain(
      'Groups (3): Inventory / User; Sales / User: Own Documents Only; User types / Internal User',
    );
    expect(status.stdout).toContain('API key: from the encrypted file store; expiry unknown');
    expect((await runBin(bin, ['status'], { env })).code).toBe(1);
  });

  it('reports from the environment, with the key expiry and a forced protocol', async () => {
    const env = isolatedEnv({
      env: hostEnv(t.world.fake, 'admin', { ODOO_API_KEY_EXPIRES: '2099-01-31', ODOO_PROTOCOL: 'jsonrpc' }),
    });
    const status = await runBin(bin, ['status', '--allow-writes'], { env });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`Odoo: ${t.world.fake.url} (from flag or ODOO_URL), database acme`);
    expect(status.stdout).toMatch(/API key: from ODOO_API_KEY; expires 2099-01-31 \(in \d+ days\)/);
    expect(status.stdout).toContain('Server: Odoo 19.0; protocol JSON-RPC (forced); database acme');
    expect(status.stdout).toContain('Writes: enabled (--allow-writes)');
    const bad = await runBin(bin, ['status'], {
      env: { ...env, ODOO_API_KEY: 'wrong-key-abcdef123456', ODOO_PROTOCOL: 'auto' },
    });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('Connection failed: Odoo refused the API key (401 «Invalid apikey»)');
    const noTz = await runBin(bin, ['status'], { env: isolatedEnv({ env: hostEnv(t.world.fake, 'notz') }) });
    const machineTz = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
    expect(noTz.stdout).toContain(`Time zone: ${machineTz} (the user has none set; this machine's)`);
  });

  it.skipIf(!keychain.available)('keeps the key in the OS keychain when there is one', async () => {
    const env = isolatedEnv({ keychain: true });
    const login = await runBin(bin, ['login', '--url', t.world.fake.url, '--profile', `kc-${process.pid}`], {
      env,
      input: `${t.world.fake.adminKey}\n`,
    });
    expect(login.stdout).toContain('the API key in OS keychain');
    const status = await runBin(bin, ['status', '--profile', `kc-${process.pid}`], { env });
    expect(status.stdout).toContain('API key: from the OS keychain');
    await runBin(bin, ['logout', '--profile', `kc-${process.pid}`], { env });
  });
});

describe('protocols and versions', () => {
  it('--protocol jsonrpc on Odoo 19 speaks JSON-RPC only, with a deprecation warning', async () => {
    const fake = await FakeOdoo.start({ version: '19.0' });
    try {
      const server = await spawnOdoo(fake, { args: ['--protocol', 'jsonrpc'] });
      try {
        expect((await server.call('odoo_count_records', { model: 'sale.order' })).text).toBe(
          '52 sale.order records match.',
        );
        expect(fake.service.requestsTo(/^\/json\/2\//)).toEqual([]);
        expect(server.stderr()).toContain(
          'Odoo 19.0 deprecates JSON-RPC (removed in Odoo 22); drop --protocol jsonrpc to use JSON-2',
        );
      } finally {
        await server.close();
      }
    } finally {
      await fake.close();
    }
  });

  it('--protocol json2 on Odoo 17 is a clear error', async () => {
    const fake = await FakeOdoo.start({ version: '17.0' });
    try {
      const server = await spawnOdoo(fake, { env: { ODOO_PROTOCOL: 'json2' } });
      try {
        const call = await server.call('odoo_count_records', { model: 'sale.order' });
        expect(call.text).toBe(
          `Odoo 17.0 at ${new URL(fake.url).host} has no JSON-2 API (it arrived in Odoo 19.0), so --protocol json2 cannot work. Remove --protocol json2 (or ODOO_PROTOCOL) to use JSON-RPC.`,
        );
      } finally {
        await server.close();
      }
    } finally {
      await fake.close();
    }
  });

  it('Odoo 16 (no /web/version) is detected through common.version and keeps its own states', async () => {
    const fake = await FakeOdoo.start({ version: '16.0' });
    try {
      const server = await spawnOdoo(fake);
      try {
        const locked = await server.call('odoo_list_sales_orders', { period: 'yesterday', states: ['done'] });
        expect(locked.structured).toMatchObject({ total: 1 });
        expect(fake.service.requestsTo('/web/version')[0]!.status).toBe(404);
      } finally {
        await server.close();
      }
    } finally {
      await fake.close();
    }
    const newer = await FakeOdoo.start({ version: '17.0' });
    try {
      const server = await spawnOdoo(newer);
      try {
        const call = await server.call('odoo_list_sales_orders', { states: ['done'] });
        expect(call.text).toBe(
          "sale.order.state has no value 'done' in this database; the values are draft, sent, sale, cancel.",
        );
      } finally {
        await server.close();
      }
    } finally {
      await newer.close();
    }
  });

  it('Odoo 18 uses read_group and finds storable products by is_storable', async () => {
    const fake = await FakeOdoo.start({ version: '18.0' });
    try {
      const server = await spawnOdoo(fake);
      try {
        const low = await server.call('odoo_get_inventory', { low_stock_below: 5 });
        expect(low.structured).toMatchObject({ total: 3 });
        const search = fake.orm.calls.find(
          (c) => c.model === 'product.product' && c.method === 'search_read',
        )!;
        expect(JSON.stringify(search.args.domain)).toContain('["is_storable","=",true]');
        await server.call('odoo_aggregate_records', { model: 'sale.order', group_by: ['state'] });
        expect(fake.orm.calls.filter((c) => /read_group/.test(c.method)).map((c) => c.method)).not.toContain(
          'formatted_read_group',
        );
      } finally {
        await server.close();
      }
    } finally {
      await fake.close();
    }
  });

  it('finds the one database, or asks which of several, on both protocols', async () => {
    for (const version of ['17.0', '19.0']) {
      const single = await FakeOdoo.start({ version });
      const several = await FakeOdoo.start({ version, databases: ['acme', 'test'] });
      try {
        const a = await spawnOdoo(single, { env: { ODOO_DB: undefined } });
        try {
          expect((await a.call('odoo_count_records', { model: 'hr.employee' })).text).toBe(
            '6 hr.employee records match.',
          );
        } finally {
          await a.close();
        }
        const b = await spawnOdoo(several, { env: { ODOO_DB: undefined } });
        try {
          expect((await b.call('odoo_count_records', { model: 'hr.employee' })).text).toBe(
            `Odoo at ${new URL(several.url).host} hosts several databases (acme, test): ODOO_DB must name one. Set ODOO_DB, or run \`odoo-mcp login --db <name>\`.`,
          );
        } finally {
          await b.close();
        }
      } finally {
        await single.close();
        await several.close();
      }
    }
  });

  it('answers a call without configuration with what to set, and still lists its tools', async () => {
    const server = await spawnServer(bin, {});
    try {
      expect((await server.client.listTools()).tools).toHaveLength(11);
      expect((await server.call('odoo_list_sales_orders', {})).text).toBe(
        'No Odoo address is configured: ODOO_URL is not set and nothing was stored by login. Set ODOO_URL (e.g. https://acme.odoo.com) and ODOO_API_KEY, or run `odoo-mcp login --url <address>`.',
      );
    } finally {
      await server.close();
    }
    const noKey = await spawnServer(bin, { env: { ODOO_URL: 'https://odoo.example.com' } });
    try {
      expect((await noKey.call('odoo_list_sales_orders', {})).text).toBe(
        "No Odoo API key is configured for profile 'default'. Run `odoo-mcp login`, or set ODOO_API_KEY (Odoo: Preferences → Account Security → New API Key).",
      );
    } finally {
      await noKey.close();
    }
  });
});
