import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Pack packages as `npm publish` would (`npm pack`) into `dest`; returns the tarballs' paths. A package's
 * prepack rewrites its package.json for the pack's duration (scripts/publish-manifest.mjs), so test files that
 * pack the same package at once take turns.
 */
export function packTarballs(packageDirs: string[], dest: string): string[] {
  return packageDirs.map((pkg) =>
    oneAtATime(join(resolve(pkg), '.pack-lock'), () => {
      const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dest], {
        cwd: resolve(pkg),
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const [info] = JSON.parse(out) as Array<{ filename: string }>;
      return join(dest, info!.filename);
    }),
  );
}

/** Run `work` while holding a lock folder (mkdir is atomic across processes); waits up to two minutes. */
function oneAtATime<T>(lock: string, work: () => T): T {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || Date.now() > deadline) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    return work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Pack packages as `npm publish` would (`npm pack`) and install the tarballs into an empty folder, as
 * `npx -y @switchyard/<name>` would. Returns the folder and a function giving a bin's path inside it.
 * Servers bundle core into their bin, so the server's own folder is usually all it needs; list any
 * workspace package it depends on at run time first. `ignoreScripts` installs as a user with
 * `npm_config_ignore_scripts=true` (or a locked-down npm) would: no package's install script runs.
 */
export function packAndInstall(
  packageDirs: string[],
  options: { ignoreScripts?: boolean } = {},
): { dir: string; bin(name: string): string } {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-pack-'));
  const tarballs = packTarballs(packageDirs, dir);
  const app = join(dir, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'empty-folder', private: true }));
  const flags = ['--no-audit', '--no-fund', '--prefer-offline', '--omit=dev'];
  if (options.ignoreScripts) flags.push('--ignore-scripts');
  execFileSync('npm', ['install', ...flags, ...tarballs], {
    cwd: app,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { dir: app, bin: (name: string) => join(app, 'node_modules', '.bin', name) };
}

/**
 * The files `npm publish` would put in a package's tarball (`npm pack --dry-run`), sorted. Installing and
 * starting the published servers from a registry is testkit's test/published.test.ts; this pins what ships.
 * Scripts are skipped, so no lock is needed: prepack's manifest rewrite keeps "files" as it is.
 */
export function packedFiles(packageDir: string): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: resolve(packageDir),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [info] = JSON.parse(out) as Array<{ files: Array<{ path: string }> }>;
  return info!.files.map((f) => f.path).sort();
}
