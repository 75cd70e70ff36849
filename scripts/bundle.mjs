#!/usr/bin/env node
// Bundles a server's compiled entry (dist/index.js) into one file (dist/main.js) that its bin (dist/bin.js)
// loads after turning on Node's compile cache (Node 22.1+; a no-op on Node 20).
// Start-up is most of a stdio server's felt speed: one file instead of hundreds of modules halves it
// (see bench/). Native and lazily loaded modules stay external and are installed as dependencies.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const pkgDir = resolve(process.argv[2] ?? '.');
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const external = [
  // native addons, and what core loads only when a call needs it
  '@napi-rs/keyring',
  '@azure/msal-node',
  'undici',
  ...(pkg.bundle?.external ?? []),
];

await build({
  entryPoints: [join(pkgDir, 'dist', 'index.js')],
  outfile: join(pkgDir, 'dist', 'main.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external,
  minifySyntax: true,
  minifyWhitespace: true,
  legalComments: 'none',
  logLevel: 'warning',
  // Bundled CommonJS code calls require(); give it one.
  banner: {
    js: "import { createRequire as __switchyardRequire } from 'node:module'; const require = __switchyardRequire(import.meta.url);",
  },
});

// The bin: where Node supports it, keep the bundle's compiled bytecode between starts (a host starts the
// server often), then load it. The cache lives in NODE_COMPILE_CACHE or the OS temp folder.
const bin = join(pkgDir, 'dist', 'bin.js');
writeFileSync(
  bin,
  [
    '#!/usr/bin/env node',
    "import module from 'node:module';",
    'module.enableCompileCache?.();',
    "await import('./main.js');",
    '',
  ].join('\n'),
);
chmodSync(bin, 0o755);
