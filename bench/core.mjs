// Start-up cost of core itself: the example server of core's tests, bundled the way server bins are,
// against a bare node responder.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { compareStartup, print, root } from './lib.mjs';

const example = join(root, 'packages', 'core', 'test', 'fixtures', 'example-server.mjs');
const bundled = join(mkdtempSync(join(tmpdir(), 'bench-core-')), 'example.mjs');
await build({
  entryPoints: [example],
  outfile: bundled,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['@napi-rs/keyring', '@azure/msal-node', 'undici'],
  minifySyntax: true,
  minifyWhitespace: true,
  logLevel: 'warning',
  banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
});
print('core: example server, spawn → tools/list', [
  await compareStartup('example-mcp (bundled, as server bins ship)', process.execPath, [bundled]),
  await compareStartup('example-mcp (bundled), MCP 2026-07-28 opening', process.execPath, [bundled], {
    era: 'modern',
  }),
  await compareStartup('example-mcp (unbundled modules)', process.execPath, [example]),
]);
