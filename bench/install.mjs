// First `npx` start from a cold cache, per server: pack every public package as `npm publish` would, then run
// `npm exec --yes --package <tarball> -- <bin> --version` from an empty folder with an empty npm cache, as a
// host's `npx -y @switchyard/<name>` does on a new machine. Third-party packages come from the npm registry.
// Prints the seconds until the bin answered, the MB the installed tree takes on disk (and, beside it, the npm
// cache's copy of the tarballs), its package count, and the largest packages: where to look when a figure grows.
// Run after `npm run build`: `node bench/install.mjs [lakehouse-mcp ...]`. Figures are printed, never asserted.
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { print, root, round } from './lib.mjs';

const wanted = process.argv.slice(2);
const packagesDir = join(root, 'packages');
const packages = readdirSync(packagesDir)
  .map((dir) => ({ dir: join(packagesDir, dir), json: readJson(join(packagesDir, dir, 'package.json')) }))
  .filter((p) => !p.json.private);

// Pack every public package: a server may depend on another (the demo on the lakehouse server).
const tarballDir = mkdtempSync(join(tmpdir(), 'bench-tarballs-'));
const tarballs = new Map();
for (const p of packages) {
  const out = run('npm', ['pack', '--json', '--pack-destination', tarballDir], { cwd: p.dir });
  tarballs.set(p.json.name, join(tarballDir, JSON.parse(out)[0].filename));
}

const rows = [];
for (const p of packages) {
  const [binName] = Object.keys(p.json.bin ?? {});
  if (!binName || (wanted.length && !wanted.includes(binName))) continue;
  // Workspace packages it needs are not on the registry: hand npm their tarballs too.
  const own = Object.keys(p.json.dependencies ?? {}).filter((name) => tarballs.has(name));
  const specs = [p.json.name, ...own].flatMap((name) => ['--package', tarballs.get(name)]);
  const cache = mkdtempSync(join(tmpdir(), 'bench-npm-cache-'));
  const cwd = mkdtempSync(join(tmpdir(), 'bench-empty-'));
  const started = process.hrtime.bigint();
  const out = run(
    'npm',
    [
      'exec',
      '--yes',
      '--prefer-online',
      '--cache',
      cache,
      '--no-audit',
      '--no-fund',
      ...specs,
      '--',
      binName,
      '--version',
    ],
    { cwd },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const [npx] = readdirSync(join(cache, '_npx'));
  const modules = join(cache, '_npx', npx, 'node_modules');
  const installed = Object.keys(readJson(join(modules, '.package-lock.json')).packages);
  const sizes = installed.map((path) => ({ path, bytes: diskBytes(join(modules, '..', path), true) }));
  rows.push({
    server: binName,
    version: out.trim(),
    seconds: round(seconds),
    mbOnDisk: round(diskBytes(modules) / 2 ** 20),
    npmCacheMb: round(diskBytes(join(cache, '_cacache')) / 2 ** 20),
    packages: installed.length,
    largest: sizes
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, 4)
      .map((s) => `${s.path.replace(/^.*node_modules\//, '')} ${round(s.bytes / 2 ** 20)} MB`),
  });
}
print('first npx start from a cold cache (npm exec --yes of the packed tarball)', rows);

function run(command, args, options) {
  const r = spawnSync(command, args, { ...options, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Bytes a folder takes on disk (allocated blocks); `own` leaves out nested node_modules. */
function diskBytes(path, own = false) {
  const st = lstatSync(path);
  if (!st.isDirectory()) return st.blocks * 512;
  let total = st.blocks * 512;
  for (const entry of readdirSync(path)) {
    if (own && entry === 'node_modules') continue;
    total += diskBytes(join(path, entry), own);
  }
  return total;
}
