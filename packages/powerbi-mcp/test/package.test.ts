// As `npx -y @switchyard/powerbi-mcp` would: the packed tarball installed in an empty folder, its bin run
// from there. Only this package is packed: its bin bundles core, so core need not be installed.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packAndInstall, runBin, spawnServer } from '@switchyard/testkit';
import { fakeEnv, packageDir, startFakes, type Fakes } from './helpers.js';

let f: Fakes;
let installed: { dir: string; bin(name: string): string };
beforeAll(async () => {
  f = await startFakes();
  installed = packAndInstall([packageDir]);
}, 300_000);
afterAll(() => f?.close());

describe('the published package', () => {
  it('holds only the bundled bin (with its loader), its license and notices, package.json and README', () => {
    const pkg = join(installed.dir, 'node_modules', '@switchyard', 'powerbi-mcp');
    expect(readdirSync(pkg).sort()).toEqual(['LICENSE', 'README.md', 'dist', 'package.json']);
    // msal-node (pure JS, loaded on first sign-in) is a bundled chunk, not a dependency.
    expect(readdirSync(join(pkg, 'dist')).sort()).toEqual([
      'THIRD-PARTY-NOTICES.txt',
      'bin.js',
      'chunks',
      'main.js',
    ]);
    expect(existsSync(join(installed.dir, 'node_modules', '@azure', 'msal-node'))).toBe(false);
  });

  it('runs from the installed bin: version, help, and a query against the fake', async () => {
    const bin = installed.bin('powerbi-mcp');
    const version = await runBin(bin, ['--version']);
    expect(version.stdout.trim()).toBe('0.1.0');
    const server = await spawnServer(bin, { env: fakeEnv(f) });
    try {
      expect((await server.client.listTools()).tools).toHaveLength(7);
      const call = await server.call('powerbi_execute_dax', {
        workspace: 'Sales Analytics',
        dataset: 'Sales Model',
        query: 'EVALUATE ROW("orders", [Order Count])',
      });
      expect(call.structured).toMatchObject({ rows: [[1000]] });
    } finally {
      await server.close();
    }
  });
});
