// What each server's tarball holds: the bundled bin with its loader and quick start, lazily read chunks, license and notices,
// package.json and README, and nothing else (no sources, tests or maps). Installing the tarballs from a registry
// and starting them with npx is test/published.test.ts.
import { describe, expect, it } from 'vitest';
import { packedFiles, serverPackages } from '@switchyard/testkit';

const COMMON = [
  'LICENSE',
  'README.md',
  'dist/THIRD-PARTY-NOTICES.txt',
  'dist/bin.js',
  'dist/chunks/*',
  'dist/main.js',
  // The quick start and the opening it answers from (core's quick-start.ts).
  'dist/opening.json',
  'dist/start.js',
  'dist/tools-list.json',
  'package.json',
];
/** What a server ships beyond the common files, and why. */
const EXTRA: Record<string, string[]> = {
  // User SQL runs in a child process the server can kill (src/warehouse/duckdb/query-sandbox.ts).
  'lakehouse-mcp': ['dist/query-worker.js'],
  // Word, Excel, PowerPoint and PDF text is extracted in a worker thread (src/documents/), loaded on first use.
  'ms365-mcp': ['dist/document-worker.js'],
};

describe('each server tarball', () => {
  it.each(serverPackages().map((p) => [p.name, p.dir] as const))('%s', (name, dir) => {
    // Chunk names carry content hashes: one entry stands for them all.
    const files = new Set(packedFiles(dir).map((f) => f.replace(/^dist\/chunks\/.*/, 'dist/chunks/*')));
    expect([...files].sort()).toEqual([...COMMON, ...(EXTRA[name] ?? [])].sort());
  });
});
