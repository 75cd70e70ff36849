// With a real OS keychain (Secret Service in CI), a source password lands there under the lakehouse service
// and nowhere else; without one the test says why it is skipped (SWITCHYARD_REQUIRE_KEYCHAIN=1 makes that fail).
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SecretStore } from '@switchyard/core';
import { isolatedEnv, keychainStatus, runBin } from '@switchyard/testkit';
import { bin, connect, pgInfo, withWorld } from './helpers.js';

const status = await keychainStatus();

describe.skipIf(!status.available)('source passwords in the OS keychain', () => {
  const t = withWorld({ server: false });

  it('stores the password under switchyard/lakehouse/<profile>, per tenant and connection', async () => {
    const info = pgInfo();
    const profile = `test${process.pid}`;
    const server = await t.spawn({ keychain: true, args: ['--profile', profile] });
    const store = new SecretStore({ env: { ...server.env } });
    try {
      await connect(server, 'kc', { tenant_id: 'kc_tenant' });
      expect(await store.get(`switchyard/lakehouse/${profile}`, 'kc_tenant/kc')).toBe(info.password);
      const configFiles = readdirSync(server.env.SWITCHYARD_CONFIG_DIR!, {
        recursive: true,
        withFileTypes: true,
      })
        .filter((e) => e.isFile())
        .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'));
      expect(configFiles.some((f) => f.includes(info.password))).toBe(false);
      const test = await server.call('lakehouse_test_connection', {
        connection: 'kc',
        tenant_id: 'kc_tenant',
      });
      expect(test.isError).toBe(false);
    } finally {
      // The real keychain outlives the file's folders: its entry goes now, whatever the test saw.
      await store.delete(`switchyard/lakehouse/${profile}`, 'kc_tenant/kc');
    }
  });
});

describe('a lost key of the encrypted file store', () => {
  const t = withWorld({
    ready: async (server) => {
      await connect(server, 'shop');
      await connect(server, 'crm', { tenant_id: 'acme' });
      await server.close();
    },
  });

  it('names the login that stores each connection again, with --connection NAME (and --tenant)', async () => {
    rmSync(join(t.dirs.configDir, 'secret.key'));
    const env = isolatedEnv({ configDir: t.dirs.configDir, dataDir: t.dirs.dataDir });
    const lines = async (args: string[]) => {
      const run = await runBin(bin, args, { env });
      expect(run.code).not.toBe(0);
      return run.stderr;
    };
    // Plain `lakehouse-mcp login` refuses to run without --connection: the hint must not send the user there.
    const expected =
      'Run `lakehouse-mcp logout`, then `lakehouse-mcp login --connection crm --tenant acme` and `lakehouse-mcp login --connection shop`, to store them again under a new key (nothing was changed).';
    expect(await lines(['status'])).toContain(expected);
    expect(await lines(['login', '--connection', 'shop'])).toContain(expected);
  });
});
