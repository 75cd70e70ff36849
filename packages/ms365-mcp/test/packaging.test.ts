import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packAndInstall, packedFiles, runBin, spawnServer, tempDir } from '@switchyard/testkit';
import { ALICE, hostEnv, startWorld, type World } from './helpers.js';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
let world: World;
let installed: { dir: string; bin(name: string): string };
const dirs = tempDir('ms365-pack-');

beforeAll(async () => {
  world = await startWorld();
  world.graph.mailbox(ALICE).add({ subject: 'From the tarball' });
  // The bin is one bundled file: the package needs no other workspace package at run time.
  installed = packAndInstall([pkgDir]);
}, 300_000);

afterAll(async () => {
  await world?.close();
  dirs.cleanup();
});

describe('the published package', () => {
  it('ships only the bundled bin (with its loader), its license and notices, package.json and README', () => {
    // msal-node (pure JS, loaded on first sign-in) is a bundled chunk, not a dependency.
    const paths = packedFiles(pkgDir).map((path) => path.replace(/^dist\/chunks\/.*/, 'dist/chunks/*'));
    expect([...new Set(paths)].sort()).toEqual([
      'LICENSE',
      'README.md',
      'dist/THIRD-PARTY-NOTICES.txt',
      'dist/bin.js',
      'dist/chunks/*',
      'dist/main.js',
      'package.json',
    ]);
  });

  it('runs from a clean install as npx would', async () => {
    const bin = installed.bin('ms365-mcp');
    const version = await runBin(bin, ['--version']);
    expect(version.stdout.trim()).toBe('0.1.0');
    const token = world.authority.mint({ username: ALICE, scopes: ['User.Read', 'Mail.Read'] });
    const server = await spawnServer(bin, {
      configDir: dirs.path,
      dataDir: dirs.path,
      env: hostEnv(world, { MS365_ACCESS_TOKEN: token }),
    });
    try {
      expect((await server.client.listTools()).tools).toHaveLength(20);
      const call = await server.call('ms365_list_messages', {});
      expect(call.text).toContain('From the tarball');
    } finally {
      await server.close();
    }
    // Login loads msal-node and the keyring from the installed dependencies.
    const status = await runBin(bin, ['status'], {
      env: {
        ...(process.env as Record<string, string>),
        ...hostEnv(world),
        SWITCHYARD_CONFIG_DIR: dirs.path,
        SWITCHYARD_KEYCHAIN: 'off',
      },
    });
    expect(status.stdout).toContain('Signed in: no. Not signed in. Run `ms365-mcp login` in a terminal.');
  });
});
