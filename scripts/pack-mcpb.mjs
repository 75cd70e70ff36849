#!/usr/bin/env node
// Builds each server's Claude Desktop extension (.mcpb) with the MCPB CLI (`mcpb pack`): the files npm would
// publish for the package (package.json in its published form), plus its manifest.json. The manifest runs the
// published npm package through npx, so the bundle carries no node_modules (see scripts/install-files.mjs).
//
//   node scripts/pack-mcpb.mjs [--out DIR] [server ...]   default: every server, into packages/<server>/dist/
// Not committed: build it with `npm run mcpb` (after `npm run build`).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { servers } from './install-files.mjs';
import { publishedManifest } from './publish-manifest.mjs';

const require = createRequire(import.meta.url);
// The package's bin (dist/cli/cli.js); its exports map offers no package.json to find it by.
const mcpb = join(dirname(require.resolve('@anthropic-ai/mcpb')), 'cli', 'cli.js');

const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? resolve(args.splice(outAt, 2)[1]) : undefined;
const wanted = new Set(args);

for (const server of servers().filter((s) => wanted.size === 0 || wanted.has(s.bin))) {
  const stage = mkdtempSync(join(tmpdir(), `mcpb-${server.bin}-`));
  try {
    // What `npm pack` would publish, without running prepack (which rewrites package.json in place).
    const listed = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: server.dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const { path } of JSON.parse(listed)[0].files) {
      mkdirSync(dirname(join(stage, path)), { recursive: true });
      if (path === 'package.json') {
        writeFileSync(join(stage, path), `${JSON.stringify(publishedManifest(server.pkg), null, 2)}\n`);
      } else copyFileSync(join(server.dir, path), join(stage, path));
    }
    copyFileSync(join(server.dir, 'manifest.json'), join(stage, 'manifest.json'));
    const file = join(out ?? join(server.dir, 'dist'), `${server.bin}.mcpb`);
    mkdirSync(dirname(file), { recursive: true });
    execFileSync(process.execPath, [mcpb, 'pack', stage, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    console.log(`${file} (${(statSync(file).size / 1024).toFixed(0)} KB)`);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
