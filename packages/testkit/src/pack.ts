import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * The files `npm publish` would put in a package's tarball (`npm pack --dry-run`), sorted. Installing and
 * running the published packages is the registry test's (test/published.test.ts); this pins what ships.
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
