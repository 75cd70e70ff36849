// As a user gets the packages: every publishable workspace package published to a local registry (verdaccio),
// then each server started the way its README says, `npx -y @switchyard/<name>`, from an empty folder with a
// fresh HOME and a cold npm cache; then a real host, Claude Code, registers them all and must see each connect.
// Third-party packages come through the registry's uplink and are stored once per run, before any server
// starts.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectStdio } from '@switchyard/core/client';
import {
  claudeCode,
  npxInstalled,
  publishablePackages,
  runCommand,
  publishedServers,
  startLocalRegistry,
  undeclaredExternals,
  type LocalRegistry,
  type PublishedPackage,
} from '@switchyard/testkit';

const published = publishablePackages();
const servers = publishedServers();
const others = published.filter((p) => !servers.some((s) => s.name === p.name));
/** Seconds from spawning `npx -y` on a cold cache to `initialize` answered, per server, for the report. */
const firstStart = new Map<string, number>();

/** A cold `npx` install of the lakehouse takes ~45 s today (DuckDB is 72 MB); allow for a loaded machine. */
const START_TIMEOUT_MS = 240_000;

/**
 * One call per server that needs no upstream: it answers from the machine alone (a local query), or with the
 * sentence that tells the user what to configure. A server not listed here gets its first read-only tool.
 */
const OFFLINE_CALLS: Record<string, { tool: string; args: Record<string, unknown>; answer: RegExp }> = {
  'lakehouse-mcp': {
    tool: 'lakehouse_query_sql',
    args: { sql: 'SELECT 40 + 2 AS answer' },
    answer: /answer\n42/,
  },
  'powerbi-mcp': { tool: 'powerbi_list_workspaces', args: {}, answer: /Not signed in.*powerbi-mcp login/s },
  'ms365-mcp': { tool: 'ms365_list_messages', args: {}, answer: /MS365_CLIENT_ID/ },
  'odoo-mcp': { tool: 'odoo_list_models', args: {}, answer: /ODOO_URL/ },
};

let registry: LocalRegistry;
let warmUpSeconds = 0;

beforeAll(async () => {
  registry = await startLocalRegistry();
  for (const pkg of published) {
    const out = await registry.publish(pkg.dir);
    if (out.code !== 0) throw new Error(`npm publish ${pkg.name} failed:\n${out.stderr}`);
  }
  // Fill the registry's storage from the uplink once (DuckDB alone is 72 MB), so that each first start below
  // measures what a user's does against the public registry: resolving and unpacking, not our proxy's download.
  const warm = registry.coldUser('warm-up');
  const started = performance.now();
  const install = await runCommand(
    'npm',
    ['install', '--ignore-scripts', '--no-package-lock', ...published.map((p) => `${p.name}@${p.version}`)],
    { env: warm.env, cwd: warm.cwd, timeoutMs: 480_000 },
  );
  if (install.code !== 0)
    throw new Error(`the registry's uplink did not serve every dependency:\n${install.stderr}`);
  warmUpSeconds = (performance.now() - started) / 1000;
}, 600_000);

afterAll(async () => {
  if (firstStart.size > 0) {
    console.info(
      `registry storage filled from the uplink in ${warmUpSeconds.toFixed(1)} s; first start through the registry (cold npm cache → initialize answered): ${[
        ...firstStart,
      ]
        .map(([name, s]) => `${name} ${s.toFixed(1)} s`)
        .join(', ')}`,
    );
  }
  await registry?.close();
});

describe('the packages published to a registry', () => {
  it('finds the servers and publishes every package that is not private', async () => {
    expect(servers.length).toBeGreaterThanOrEqual(4);
    for (const pkg of published) {
      const res = await fetch(new URL(pkg.name.replace('/', '%2f'), registry.url));
      expect(res.status, pkg.name).toBe(200);
      const doc = (await res.json()) as { versions: Record<string, unknown> };
      expect(Object.keys(doc.versions), pkg.name).toEqual([pkg.version]);
    }
    // Our scope is never proxied: a name not published here does not reach the public registry.
    expect((await fetch(new URL('@switchyard%2fnot-published', registry.url))).status).toBe(404);
  });

  it.each(servers.map((s) => [s.name, s] as const))(
    '%s starts with npx -y from an empty folder and a cold cache, and answers',
    async (name, pkg) => {
      const user = registry.coldUser(name.replace(/^@switchyard\//, ''));
      const started = performance.now();
      const server = await connectStdio({
        command: 'npx',
        args: ['-y', name],
        env: user.env,
        cwd: user.cwd,
        timeoutMs: START_TIMEOUT_MS,
      });
      firstStart.set(name, (performance.now() - started) / 1000);
      try {
        const { tools } = await server.client.listTools();
        expect(tools.length).toBeGreaterThan(0);
        const bin = Object.keys(pkg.bin).find((b) => b.endsWith('-mcp'))!;
        const offline = OFFLINE_CALLS[bin] ?? {
          tool: tools.find((t) => t.annotations?.readOnlyHint === true)!.name,
          args: {},
          answer: /./,
        };
        const result = await server.client.callTool(
          { name: offline.tool, arguments: offline.args },
          { timeout: 60_000 },
        );
        const text = (result.content as Array<{ type: string; text?: string }>)
          .map((c) => c.text ?? '')
          .join('\n');
        expect(text, server.stderr()).toMatch(offline.answer);
      } finally {
        await server.close();
      }

      const installed = npxInstalled(user.cache, name);
      expect(installed, `npx left no ${name} in ${user.cache}`).toBeDefined();
      await expectInstalledPackageWhole(installed!, pkg);

      const version = await runCommand('npx', ['-y', name, '--version'], { env: user.env, cwd: user.cwd });
      expect(version.stdout.trim(), version.stderr).toBe(pkg.version);

      // status says where secrets go: the OS keychain, or why not. Here the keychain module must have loaded
      // (whether a Secret Service answers depends on the machine; CI has one).
      const status = await runCommand('npx', ['-y', name, 'status'], { env: user.env, cwd: user.cwd });
      const said = status.stdout + status.stderr;
      expect(status.code, said).not.toBeNull();
      expect(said).not.toMatch(/unexpected error/);
      expect(said).toMatch(/OS keychain/);
      expect(said).not.toMatch(/keyring module did not load/);
      expect(said).not.toMatch(/SWITCHYARD_KEYCHAIN is off/);
    },
    START_TIMEOUT_MS + 180_000,
  );

  it.each(others.map((p) => [p.name, p] as const))(
    '%s installs from the registry into an empty folder with every module it loads declared',
    async (name, pkg) => {
      const user = registry.coldUser(name.replace(/^@switchyard\//, ''));
      const install = await runCommand('npm', ['install', '--no-package-lock', `${name}@${pkg.version}`], {
        env: user.env,
        cwd: user.cwd,
        timeoutMs: START_TIMEOUT_MS,
      });
      expect(install.code, install.stderr).toBe(0);
      await expectInstalledPackageWhole(join(user.cwd, 'node_modules', ...name.split('/')), pkg);
    },
    START_TIMEOUT_MS + 60_000,
  );
});

/**
 * What was installed is the package at this version, everything its shipped code loads from outside itself is
 * a declared runtime dependency, and the OS keychain module loads from where the package sits.
 */
async function expectInstalledPackageWhole(dir: string, pkg: PublishedPackage): Promise<void> {
  const require = createRequire(join(dir, 'package.json'));
  expect((require('./package.json') as { version: string }).version).toBe(pkg.version);
  expect(undeclaredExternals(dir), `${pkg.name} loads modules it does not declare`).toEqual([]);
  const loadsKeychain = (require('./package.json') as { dependencies?: Record<string, string> })
    .dependencies?.['@napi-rs/keyring'];
  if (loadsKeychain) {
    const probe = await runCommand(
      process.execPath,
      [
        '-e',
        "const r = require('node:module').createRequire(process.argv[1]); const k = r('@napi-rs/keyring'); process.stdout.write(typeof k.AsyncEntry)",
        join(dir, 'package.json'),
      ],
      { timeoutMs: 30_000 },
    );
    expect(probe.stdout, probe.stderr).toBe('function');
  }
}

describe('Claude Code as the host', () => {
  it('connects every server registered with claude mcp add … -- npx -y @switchyard/<name>', async () => {
    const claude = await claudeCode();
    const host = registry.coldUser('claude');
    const env = {
      ...host.env,
      CLAUDE_CONFIG_DIR: join(host.home, '.claude'),
      // No login, no prompt, nothing sent anywhere: `claude mcp` needs none of it.
      DISABLE_AUTOUPDATER: '1',
      DISABLE_TELEMETRY: '1',
      DISABLE_ERROR_REPORTING: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    };
    const names = new Map<string, string>();
    for (const pkg of servers) {
      const bin = Object.keys(pkg.bin).find((b) => b.endsWith('-mcp'))!;
      const short = bin.replace(/-mcp$/, '');
      names.set(short, pkg.name);
      // Each server gets its own cold npm cache, as on a machine that never ran it.
      const cache = registry.coldUser(`claude-${short}`).cache;
      const add = await runCommand(
        claude.bin,
        [
          'mcp',
          'add',
          '--scope',
          'user',
          short,
          '-e',
          `npm_config_registry=${registry.url}`,
          '-e',
          `npm_config_cache=${cache}`,
          '--',
          'npx',
          '-y',
          pkg.name,
        ],
        { env, cwd: host.cwd, timeoutMs: 60_000 },
      );
      expect(add.code, add.stdout + add.stderr).toBe(0);
    }

    const started = performance.now();
    const list = await runCommand(claude.bin, ['mcp', 'list'], { env, cwd: host.cwd, timeoutMs: 180_000 });
    const seconds = (performance.now() - started) / 1000;
    const lines = list.stdout.split('\n');
    const state = new Map(
      [...names.keys()].map((short) => [
        short,
        lines.find((l) => l.startsWith(`${short}: `)) ?? '(not listed)',
      ]),
    );
    console.info(
      `claude ${claude.version} mcp list (${seconds.toFixed(1)} s, servers checked in parallel):\n${[...state.values()].join('\n')}`,
    );
    // Claude Code marks a server that answered with "✔ Connected" (and one that did not with "✘ Failed to
    // connect"). It gives each 30 s (MCP_TIMEOUT, left at its default: what a user gets).
    const failed = [...state].filter(([, line]) => !/[✔✓] Connected/.test(line));
    expect(
      failed.map(([short]) => names.get(short)),
      `not connected in Claude Code:\n${failed
        .map(([short, line]) => `${line}\n${mcpLog(host.home, short)}`)
        .join('\n')}\n${list.stderr}`,
    ).toEqual([]);
  }, 600_000);
});

/** The end of what Claude Code logged about one server (its stderr, the error), for a failure's message. */
function mcpLog(home: string, server: string): string {
  const root = join(home, '.cache', 'claude-cli-nodejs');
  if (!existsSync(root)) return '';
  const lines: string[] = [];
  for (const project of readdirSync(root)) {
    const dir = join(root, project, `mcp-logs-${server}`);
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir))
      lines.push(...readFileSync(join(dir, file), 'utf8').trim().split('\n'));
  }
  return lines.slice(-8).join('\n');
}
