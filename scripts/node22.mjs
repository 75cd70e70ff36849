#!/usr/bin/env node
// Installs, from the npm registry, the test tools that need Node 22 while the project runs on Node 20: Node 22
// itself (the `node` package, whose binary ships inside an npm package), the MCP Inspector 2.x, which needs
// Node ≥ 22.19, and the MCP conformance suite (its CLI calls fs.globSync, new in Node 22). They go to
// .cache/node22 (not in git, not in the workspace's lockfile, so `npm ci` and the servers' installs stay as they
// are). Idempotent: a second run with the same pins does nothing.
// testkit's runInspector() and runConformance() use them (packages/testkit/src/inspector.ts).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PINS = {
  node: '22.23.3',
  '@modelcontextprotocol/inspector': '2.12.0',
  '@modelcontextprotocol/conformance': '0.2.0-alpha.12',
};

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const prefix = join(root, '.cache', 'node22');
const marker = join(prefix, 'pins.json');
const want = JSON.stringify(PINS);

if (existsSync(marker) && readFileSync(marker, 'utf8') === want) process.exit(0);
rmSync(prefix, { recursive: true, force: true });
mkdirSync(prefix, { recursive: true });
writeFileSync(join(prefix, 'package.json'), JSON.stringify({ private: true }));
const specs = Object.entries(PINS).map(([name, version]) => `${name}@${version}`);
process.stderr.write(`installing ${specs.join(', ')} into .cache/node22 (test tools that need Node 22)\n`);
execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefix', prefix, ...specs], {
  stdio: ['ignore', 'inherit', 'inherit'],
});
const version = execFileSync(join(prefix, 'node_modules', 'node', 'bin', 'node'), ['--version'], {
  encoding: 'utf8',
}).trim();
if (version !== `v${PINS.node}`) throw new Error(`.cache/node22 has Node ${version}, not ${PINS.node}`);
writeFileSync(marker, want);
