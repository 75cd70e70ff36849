import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { bareImports } from './bundle.js';
import { workspacePackages, type WorkspaceManifest } from './servers.js';
import { runCommand, tempDir, type CommandResult } from './spawn.js';

/** A workspace package as the registry sees it: its npm name, version and bins. */
export interface PublishedPackage {
  name: string;
  version: string;
  dir: string;
  /** bin name → file, as package.json declares it. */
  bin: Record<string, string>;
  json: WorkspaceManifest;
}

/** The packages `npm publish` would publish: every workspace package not marked private. */
export function publishablePackages(): PublishedPackage[] {
  return workspacePackages()
    .filter((p) => p.json.private !== true)
    .map((p) => ({
      name: p.json.name,
      version: p.json.version,
      dir: p.dir,
      bin:
        typeof p.json.bin === 'string'
          ? { [p.json.name.replace(/^@[^/]+\//, '')]: p.json.bin }
          : (p.json.bin ?? {}),
      json: p.json,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The MCP servers among them: a published package whose bin is named `<system>-mcp` (the convention every
 * server's README starts with: `npx -y @switchyard/<system>-mcp`).
 */
export function publishedServers(): PublishedPackage[] {
  return publishablePackages().filter((p) => Object.keys(p.bin).some((b) => b.endsWith('-mcp')));
}

/** npm's own variables (`npm test` exports the caller's config as `npm_config_*`): none may leak to a user. */
export function withoutNpmEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || /^npm_/i.test(k)) continue;
    out[k] = v;
  }
  return out;
}

/** A machine's user that has never run npm: an empty working folder, a fresh HOME and npm cache. */
export interface ColdUser {
  /** The empty folder commands run in. */
  cwd: string;
  home: string;
  /** npm's cache (`npm_config_cache`), empty to begin with. */
  cache: string;
  /** The environment: npm pointed at the local registry, nothing of the caller's npm config. */
  env: Record<string, string>;
}

export interface LocalRegistry {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  /** What the registry logged (for a failure's message). */
  log(): string;
  /** `npm publish` a package folder to this registry (only here: the token is in a temporary .npmrc). */
  publish(dir: string): Promise<CommandResult>;
  /** A user with an empty folder and a cold npm cache whose npm reads from this registry. */
  coldUser(prefix?: string): ColdUser;
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Start verdaccio on loopback with its config and storage in a temporary folder: `@switchyard/*` is served
 * from what is published here only (never proxied), everything else through an uplink to the public npm
 * registry, kept in the storage: a run downloads each third-party tarball once, whatever installs it.
 */
export async function startLocalRegistry(options: { uplink?: string } = {}): Promise<LocalRegistry> {
  const folder = tempDir('switchyard-registry-');
  const root = folder.path;
  const uplink = options.uplink ?? 'https://registry.npmjs.org/';
  const config = join(root, 'config.yaml');
  writeFileSync(
    config,
    [
      `storage: ${JSON.stringify(join(root, 'storage'))}`,
      'auth:',
      '  htpasswd:',
      `    file: ${JSON.stringify(join(root, 'htpasswd'))}`,
      'uplinks:',
      '  npmjs:',
      `    url: ${JSON.stringify(uplink)}`,
      '    timeout: 120s',
      '    maxage: 30m',
      'packages:',
      // Ours: local only. A name that is not published here is a 404, never a public package.
      "  '@switchyard/*':",
      '    access: $all',
      '    publish: $authenticated',
      // Every other scope, then everything else (verdaccio's `**` does not match a scoped name): the uplink.
      "  '@*/*':",
      '    access: $all',
      '    publish: $authenticated',
      '    proxy: npmjs',
      "  '**':",
      '    access: $all',
      '    publish: $authenticated',
      '    proxy: npmjs',
      'server:',
      '  keepAliveTimeout: 60',
      'max_body_size: 200mb',
      `log: { type: stdout, format: json, level: ${process.env.SWITCHYARD_REGISTRY_LOG ?? 'warn'} }`,
      '',
    ].join('\n'),
  );
  const bin = join(dirname(require.resolve('verdaccio/package.json')), 'bin', 'verdaccio');

  let child: ChildProcess | undefined;
  let output = '';
  let url = '';
  // Another process may take the free port between the probe and verdaccio's listen: try a few.
  for (let attempt = 0; attempt < 5 && !url; attempt++) {
    const port = await freePort();
    output = '';
    const started = spawn(process.execPath, [bin, '--config', config, '--listen', `127.0.0.1:${port}`], {
      cwd: root,
      env: { ...withoutNpmEnv(process.env), HOME: root },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    started.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const exited = once(started, 'exit').then(() => false);
    const candidate = `http://127.0.0.1:${port}/`;
    const up = await Promise.race([exited, waitForPing(candidate, 60_000)]);
    if (up) {
      child = started;
      url = candidate;
    } else {
      started.kill('SIGKILL');
    }
  }
  if (!child) {
    folder.cleanup();
    throw new Error(`verdaccio did not start:\n${output}`);
  }
  const running = child;

  // A user, as `npm adduser` creates one: the answer carries the token npm publish needs.
  const user = `switchyard-ci-${process.pid}`;
  const res = await fetch(new URL(`-/user/org.couchdb.user:${user}`, url), {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: user,
      password: `pw-${process.pid}-${Date.now()}`,
      type: 'user',
      roles: [],
    }),
  });
  const { token } = (await res.json()) as { token?: string };
  if (!res.ok || !token) throw new Error(`verdaccio refused to create a user (${res.status})`);
  const hostPath = url.replace(/^http:/, '');
  const publishRc = join(root, 'publish.npmrc');
  writeFileSync(publishRc, `registry=${url}\n${hostPath}:_authToken=${token}\n`, { mode: 0o600 });

  let users = 0;
  const coldUser = (prefix = 'user'): ColdUser => {
    const base = join(root, `${prefix}-${++users}`);
    const home = join(base, 'home');
    const cwd = join(base, 'empty');
    const cache = join(base, 'npm-cache');
    for (const d of [home, cwd, cache]) mkdirSync(d, { recursive: true });
    writeFileSync(join(home, '.npmrc'), '');
    return {
      cwd,
      home,
      cache,
      env: {
        ...withoutNpmEnv(process.env),
        HOME: home,
        XDG_CONFIG_HOME: join(home, '.config'),
        XDG_CACHE_HOME: join(home, '.cache'),
        XDG_DATA_HOME: join(home, '.local', 'share'),
        XDG_STATE_HOME: join(home, '.local', 'state'),
        npm_config_cache: cache,
        npm_config_registry: url,
        npm_config_userconfig: join(home, '.npmrc'),
        npm_config_update_notifier: 'false',
        npm_config_audit: 'false',
        npm_config_fund: 'false',
      },
    };
  };

  return {
    url,
    log: () => output,
    publish: (dir) => {
      const publisher = coldUser('publisher');
      return runCommand('npm', ['publish', '--registry', url, '--userconfig', publishRc], {
        cwd: dir,
        env: { ...publisher.env, npm_config_userconfig: publishRc },
        timeoutMs: 180_000,
      });
    },
    coldUser,
    close: async () => {
      if (running.exitCode === null && running.signalCode === null) {
        const exited = once(running, 'exit');
        running.kill('SIGTERM');
        const timer = setTimeout(() => running.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      folder.cleanup();
    },
  };
}

async function waitForPing(url: string, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      const res = await fetch(new URL('-/ping', url), { signal: AbortSignal.timeout(2000) });
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/** Where `npx` installed a package in a cache (`<cache>/_npx/<hash>/node_modules/<name>`), if it did. */
export function npxInstalled(cache: string, name: string): string | undefined {
  const npx = join(cache, '_npx');
  if (!existsSync(npx)) return undefined;
  for (const hash of readdirSync(npx)) {
    const dir = join(npx, hash, 'node_modules', ...name.split('/'));
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  return undefined;
}

/**
 * The packages an installed package's shipped code loads from outside itself (every `.js`/`.mjs`/`.cjs` file
 * in it, node_modules aside: what npm installed is what was published), read from the syntax tree by
 * {@link bareImports}. Returns package name → the files that load it.
 */
export function externalModules(pkgDir: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of shippedCode(pkgDir)) {
    for (const name of bareImports(file)) {
      const files = found.get(name) ?? [];
      files.push(relative(pkgDir, file));
      found.set(name, files);
    }
  }
  return found;
}

function shippedCode(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules') continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...shippedCode(path));
    else if (/\.(m|c)?js$/.test(entry)) out.push(path);
  }
  return out;
}

/**
 * What an installed package loads from outside itself but does not declare as a runtime dependency
 * (`dependencies`, `optionalDependencies` or `peerDependencies`): each would be missing, or whatever version
 * happens to be hoisted, on a user's machine.
 */
export function undeclaredExternals(pkgDir: string): string[] {
  const json = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as Record<
    string,
    Record<string, string> | undefined
  >;
  const declared = new Set([
    json.name as unknown as string,
    ...Object.keys(json.dependencies ?? {}),
    ...Object.keys(json.optionalDependencies ?? {}),
    ...Object.keys(json.peerDependencies ?? {}),
  ]);
  return [...externalModules(pkgDir)]
    .filter(([name]) => !declared.has(name))
    .map(([name, files]) => `${name} (loaded by ${files.join(', ')})`);
}
