// What the published package holds. Installing it from a registry and starting it with npx, as a user's host
// does, is testkit's test/published.test.ts (every server at once).
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { packedFiles } from '@switchyard/testkit';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));

describe('the published package', () => {
  it('ships only the bundled bin (with its loader), its license and notices, package.json and README', () => {
    // msal-node (pure JS, loaded on first sign-in) is a bundled chunk, not a dependency.
    const files = packedFiles(pkgDir).map((f) => f.replace(/^dist\/chunks\/.*/, 'dist/chunks/*'));
    expect([...new Set(files)]).toEqual([
      'LICENSE',
      'README.md',
      'dist/THIRD-PARTY-NOTICES.txt',
      'dist/bin.js',
      'dist/chunks/*',
      'dist/main.js',
      'package.json',
    ]);
  });
});
