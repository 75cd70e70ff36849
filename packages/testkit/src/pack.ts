import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Pack packages as `npm publish` would (`npm pack`) into `dest`; returns the tarballs' paths. */
export function packTarballs(packageDirs: string[], dest: string): string[] {
  return packageDirs.map((pkg) => {
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dest], {
      cwd: resolve(pkg),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const [info] = JSON.parse(out) as Array<{ filename: string }>;
    return join(dest, info!.filename);
  });
}

/**
 * Pack packages as `npm publish` would (`npm pack`) and install the tarballs into an empty folder, as
 * `npx -y @switchyard/<name>` would. Returns the folder and a function giving a bin's path inside it.
 * Servers bundle core into their bin, so the server's own folder is usually all it needs; list any
 * workspace package it depends on at run time first.
 */
export function packAndInstall(packageDirs: string[]): { dir: string; bin(name: string): string } {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-pack-'));
  const tarballs = packTarballs(packageDirs, dir);
  const app = join(dir, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'empty-folder', private: true }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--omit=dev', ...tarballs], {
    cwd: app,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { dir: app, bin: (name: string) => join(app, 'node_modules', '.bin', name) };
}
