// What a published server loads at run time must be what npm installs with it: every package its bundle
// leaves outside (imports, require() and require.resolve() of a package, in every published .js file) is one
// of its dependencies, and every dependency is loaded by the bundle (a dependency nothing loads is install
// time and disk for nothing). Read from the built files, for every package with a bin: run `npm run build` first.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bareImports, publishedScripts, type PackageManifest } from '../src/bundle.js';

const packagesDir = fileURLToPath(new URL('../..', import.meta.url));
const servers = readdirSync(packagesDir)
  .map((dir) => ({
    dir: join(packagesDir, dir),
    manifest: JSON.parse(readFileSync(join(packagesDir, dir, 'package.json'), 'utf8')) as PackageManifest,
  }))
  .filter((p) => p.manifest.bin && !p.manifest.private);

describe('bundled packages declare exactly what they load', () => {
  it('finds the servers and the demo', () => {
    expect(servers.map((s) => s.manifest.name)).toEqual(
      expect.arrayContaining([
        '@switchyard/lakehouse-mcp',
        '@switchyard/lakehouse-demo',
        '@switchyard/odoo-mcp',
      ]),
    );
  });

  it.each(servers.map((s) => [s.manifest.name, s] as const))('%s', (_name, { dir, manifest }) => {
    const scripts = publishedScripts(dir, manifest);
    expect(scripts.length).toBeGreaterThan(0);
    const loaded = new Set(scripts.flatMap((f) => [...bareImports(f)]));
    const declared = new Set([
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.optionalDependencies ?? {}),
    ]);
    expect({ undeclared: [...loaded].filter((p) => !declared.has(p)).sort() }).toEqual({ undeclared: [] });
    expect({ unused: [...declared].filter((p) => !loaded.has(p)).sort() }).toEqual({ unused: [] });
  });
});
