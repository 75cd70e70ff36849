// Pack core and this package as npm would publish them, install the tarballs in an empty folder, and run
// the installed bin as `npx -y @switchyard/odoo-mcp` would.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packAndInstall, runBin, spawnServer } from '@switchyard/testkit';
import { FakeOdoo } from './fake/odoo.js';
import { odooEnv } from './helpers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('the published package', () => {
  let fake: FakeOdoo;
  let installed: ReturnType<typeof packAndInstall>;
  beforeAll(async () => {
    fake = await FakeOdoo.start({ version: '19.0' });
    installed = packAndInstall([join(root, 'packages/odoo-mcp')]);
  }, 300_000);
  afterAll(() => fake?.close());

  it('ships only the bundled bin, and runs it from an empty folder', async () => {
    const pkgDir = join(installed.dir, 'node_modules', '@switchyard', 'odoo-mcp');
    expect(existsSync(join(pkgDir, 'dist', 'bin.js'))).toBe(true);
    expect(existsSync(join(pkgDir, 'src'))).toBe(false);
    expect(existsSync(join(pkgDir, 'test'))).toBe(false);
    const version = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version as string;
    const bin = installed.bin('odoo-mcp');
    expect((await runBin(bin, ['--version'])).stdout.trim()).toBe(version);

    const server = await spawnServer(bin, { env: odooEnv(fake) });
    try {
      const call = await server.call('odoo_list_sales_orders', {});
      expect(call.isError, call.text).toBe(false);
      expect(call.structured).toMatchObject({ total: 4, currency: 'EUR' });
    } finally {
      await server.close();
    }
  });
});
