// The tenant pin (issue 16): a server started with LAKEHOUSE_TENANT_PIN / --tenant-pin serves one tenant, in
// tools, resources and prompts alike; without it, tenants are namespaces any call may name.
import { beforeAll, describe, expect, it } from 'vitest';
import { runBin, rowsOf, type SpawnedServer } from '@switchyard/testkit';
import { bin, connect, withWorld } from './helpers.js';

describe('tenant pin', () => {
  // One home, two tenants with a table each, loaded through a server without a pin.
  const t = withWorld({
    ready: async (server) => {
      for (const tenant of ['acme', 'globex']) {
        const up = await server.call('lakehouse_upload_file', {
          content: `k\n${tenant}-only\n`,
          file_name: `${tenant}.csv`,
          tenant_id: tenant,
        });
        expect(up.isError, up.text).toBe(false);
      }
    },
  });
  let open: SpawnedServer;
  let pinned: SpawnedServer;
  beforeAll(async () => {
    open = t.server;
    pinned = await t.spawn({ env: { LAKEHOUSE_TENANT: 'acme', LAKEHOUSE_TENANT_PIN: '1' } });
  });

  it('without a pin, tenants are namespaces: any tool or resource may name another tenant', async () => {
    const other = await open.call('lakehouse_list_tables', { tenant_id: 'globex' });
    expect(rowsOf(other).map((r) => r[0])).toEqual(['bronze.globex']);
    const schema = await open.client.readResource({ uri: 'table://tenant_globex/bronze/globex/schema' });
    expect(JSON.stringify(schema.contents)).toContain('tenant_globex.bronze.globex');
  });

  it('with a pin, the pinned tenant is the default and every other tenant is refused in tools', async () => {
    const own = await pinned.call('lakehouse_list_tables', {});
    expect(rowsOf(own).map((r) => r[0])).toEqual(['bronze.acme']);
    const named = await pinned.call('lakehouse_query_sql', {
      sql: 'SELECT k FROM bronze.acme',
      tenant_id: 'acme',
    });
    expect(rowsOf(named)).toEqual([['acme-only']]);
    for (const [tool, args] of [
      ['lakehouse_list_tables', {}],
      ['lakehouse_query_sql', { sql: 'SELECT k FROM bronze.globex' }],
      ['lakehouse_describe_table', { table: 'bronze.globex' }],
      ['lakehouse_upload_file', { content: 'k\nx\n', file_name: 'sneak.csv' }],
      ['lakehouse_analyze_schema', { table: 'bronze.globex' }],
    ] as const) {
      const call = await pinned.call(tool, { ...args, tenant_id: 'globex' });
      expect(call.isError, tool).toBe(true);
      expect(call.text, tool).toBe(
        "This server is pinned to tenant 'acme', so tenant 'globex' cannot be reached from it; nothing was read or changed. Omit tenant_id (or pass 'acme'); another tenant needs its own server entry with its own pin.",
      );
    }
    // The upload was refused before anything was written: globex still has its one table.
    const after = await open.call('lakehouse_list_tables', { tenant_id: 'globex' });
    expect(rowsOf(after).map((r) => r[0])).toEqual(['bronze.globex']);
    // A tenant that does not exist yet is refused too, and not created.
    const fresh = await pinned.call('lakehouse_list_tables', { tenant_id: 'initech' });
    expect(fresh.isError).toBe(true);
  });

  it('with a pin, resources of another tenant are refused and not listed', async () => {
    const own = await pinned.client.readResource({ uri: 'table://tenant_acme/bronze/acme/preview' });
    expect(JSON.stringify(own.contents)).toContain('acme-only');
    await expect(
      pinned.client.readResource({ uri: 'table://tenant_globex/bronze/globex/preview' }),
    ).rejects.toThrow(/pinned to tenant 'acme', so tenant 'globex' cannot be reached/);
    const listed = await pinned.client.listResources();
    expect(listed.resources.map((r) => r.uri).filter((u) => u.includes('globex'))).toEqual([]);
    const completion = await pinned.client.complete({
      ref: { type: 'ref/resource', uri: 'table://{catalog}/{schema}/{name}/schema' },
      argument: { name: 'catalog', value: 'tenant_' },
    });
    expect(completion.completion.values).toEqual(['tenant_acme']);
  });

  it('--tenant-pin on the command line pins too, and a pin that contradicts --tenant does not start', async () => {
    const flagged = await t.spawn({ args: ['--tenant-pin', 'globex'] });
    const own = await flagged.call('lakehouse_list_tables', {});
    expect(rowsOf(own).map((r) => r[0])).toEqual(['bronze.globex']);
    const other = await flagged.call('lakehouse_list_tables', { tenant_id: 'acme' });
    expect(other.isError).toBe(true);
    expect(other.text).toContain("pinned to tenant 'globex', so tenant 'acme' cannot be reached");
    await flagged.close();
    const clash = await runBin(bin, ['status', '--tenant', 'acme', '--tenant-pin', 'globex'], {
      env: { SWITCHYARD_DATA_DIR: t.dirs.dataDir, SWITCHYARD_CONFIG_DIR: t.dirs.configDir },
    });
    expect(clash.code).not.toBe(0);
    expect(clash.stderr).toContain("The tenant pin 'globex' and the default tenant 'acme' differ");
  });

  it('keeps connect() usable under a pin (sources of the pinned tenant)', async () => {
    await connect(pinned);
    const listed = await pinned.client.listResources();
    expect(listed.resources.map((r) => r.uri)).toContain('datasource://lake/status');
  });
});
