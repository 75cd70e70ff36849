// Issue 13 part 5: what hosts and registries read to install a server. Published package metadata and manifests,
// the Claude Desktop extension (MCPB 0.3, checked and packed by the MCPB CLI itself), the MCP Registry entry
// (validated against a byte-exact copy of the registry's schema, so no test needs the internet) and the VS Code and
// Cursor install links in each README.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  packTarballs,
  packedFiles,
  repoRoot,
  runCommand,
  serverPackages,
  tempDir,
  workspacePackages,
  type PackageManifest,
} from '@switchyard/testkit';

const require = createRequire(import.meta.url);
const mcpbCli = join(dirname(require.resolve('@anthropic-ai/mcpb')), 'cli', 'cli.js');
// ajv-formats is CommonJS: its default export arrives wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

const published = workspacePackages().filter((p) => !p.json.private);
const servers = serverPackages();
const dirs = tempDir('install-files-');
afterAll(() => dirs.cleanup());

const read = (path: string) => readFileSync(path, 'utf8');
const json = <T = Record<string, unknown>>(path: string) => JSON.parse(read(path)) as T;
const npmQuiet = (args: string[], cwd: string) =>
  runCommand('npm', args, { cwd, env: process.env as Record<string, string>, timeoutMs: 170_000 });

interface UserConfigOption {
  type: string;
  title: string;
  description: string;
  required?: boolean;
  sensitive?: boolean;
  default?: unknown;
}
interface ExtensionManifest {
  manifest_version: string;
  name: string;
  version: string;
  server: {
    type: string;
    entry_point: string;
    mcp_config: { command: string; args: string[]; env: Record<string, string> };
  };
  tools: Array<{ name: string; description: string }>;
  user_config: Record<string, UserConfigOption>;
}
interface RegistryEntry {
  $schema: string;
  name: string;
  version: string;
  description: string;
  packages: Array<{
    registryType: string;
    identifier: string;
    version: string;
    transport: { type: string };
    environmentVariables: Array<{ name: string; isSecret: boolean; isRequired: boolean }>;
  }>;
}
const manifestOf = (dir: string) => json<ExtensionManifest>(join(dir, 'manifest.json'));
/** The env variables a manifest fills, by the user_config entry that fills them. */
function envOptions(
  manifest: ExtensionManifest,
): Array<{ env: string; key: string; option?: UserConfigOption }> {
  return Object.entries(manifest.server.mcp_config.env).map(([env, value]) => {
    const key = /^\$\{user_config\.([\w-]+)\}$/.exec(value)?.[1] ?? '';
    return { env, key, option: manifest.user_config[key] };
  });
}

describe('package metadata', () => {
  it('root LICENSE is MIT, 2026 Switchyard contributors, and every published package carries the same file', () => {
    const license = read(join(repoRoot, 'LICENSE'));
    expect(license).toMatch(/^MIT License\n\nCopyright \(c\) 2026 Switchyard contributors\n/);
    expect(published.map((p) => p.folder)).toEqual([
      'core',
      'lakehouse-demo',
      'lakehouse-mcp',
      'ms365-mcp',
      'odoo-mcp',
      'powerbi-mcp',
    ]);
    for (const p of published) expect(read(join(p.dir, 'LICENSE')), p.folder).toBe(license);
  });

  it.each(published.map((p) => [p.folder, p] as const))(
    '%s: author, repository, keywords, homepage, bugs, license; LICENSE and README published',
    (folder, p) => {
      const pkg = p.json as PackageManifest & Record<string, unknown>;
      expect(pkg.license).toBe('MIT');
      expect(pkg.author).toBe('Switchyard contributors');
      expect(pkg.repository).toEqual({
        type: 'git',
        url: 'https://github.com/switchyard/switchyard.git',
        directory: `packages/${folder}`,
      });
      expect((pkg.keywords as string[]).length).toBeGreaterThan(2);
      expect(pkg.keywords).toContain('mcp');
      expect(pkg.homepage).toBe(
        `https://github.com/switchyard/switchyard/tree/main/packages/${folder}#readme`,
      );
      expect(pkg.bugs).toEqual({ url: 'https://github.com/switchyard/switchyard/issues' });
      if (folder.endsWith('-mcp')) expect(pkg.mcpName).toBe(`io.github.switchyard/${folder}`);
      const files = packedFiles(p.dir);
      expect(files).toContain('LICENSE');
      expect(files).toContain('README.md');
      expect(files).toContain('package.json');
    },
  );
});

describe('the published package.json', () => {
  const unpacked = new Map<string, string>();
  const tarballOf = new Map<string, string>();
  beforeAll(() => {
    const before = published.map((p) => read(join(p.dir, 'package.json')));
    const tarballs = packTarballs(
      published.map((p) => p.dir),
      dirs.path,
    );
    published.forEach((p, i) => {
      const dest = join(dirs.path, p.folder);
      execFileSync('mkdir', ['-p', dest]);
      execFileSync('tar', ['xzf', tarballs[i]!, '-C', dest]);
      unpacked.set(p.folder, join(dest, 'package'));
      tarballOf.set(p.json.name, tarballs[i]!);
    });
    // prepack rewrote each package.json for the pack only: postpack put it back.
    expect(published.map((p) => read(join(p.dir, 'package.json')))).toEqual(before);
    for (const p of published) expect(readdirSync(p.dir)).not.toContain('package.json.repo');
  }, 300_000);

  it.each(published.map((p) => [p.folder, p] as const))(
    '%s leaves out devDependencies (the private testkit), scripts and bundle settings, and keeps the rest',
    (folder, p) => {
      const shipped = json<PackageManifest & Record<string, unknown>>(
        join(unpacked.get(folder)!, 'package.json'),
      );
      const { devDependencies: _d, scripts: _s, bundle: _b, ...kept } = p.json as Record<string, unknown>;
      expect(shipped).toEqual(kept);
      expect(JSON.stringify(shipped)).not.toContain('@switchyard/testkit');
    },
  );

  // `npm install` in the unpacked package resolves every dependency against the registry (--dry-run: it resolves
  // the whole tree, which is where a private or unpublished package 404s, but writes nothing).
  it.each(published.map((p) => [p.folder] as const))(
    '%s: npm install inside it finds everything',
    async (folder) => {
      // A dependency on another package of ours (the demo's on lakehouse-mcp) is published with it: its tarball.
      const manifestPath = join(unpacked.get(folder)!, 'package.json');
      const manifest = json<{ dependencies?: Record<string, string> }>(manifestPath);
      for (const name of Object.keys(manifest.dependencies ?? {})) {
        if (tarballOf.has(name)) manifest.dependencies![name] = `file:${tarballOf.get(name)}`;
      }
      writeFileSync(manifestPath, JSON.stringify(manifest));
      const run = await npmQuiet(
        ['install', '--dry-run', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'],
        unpacked.get(folder)!,
      );
      expect(run.stderr).not.toMatch(/E404|404 Not Found/);
      expect(run.code).toBe(0);
    },
  );

  it("the same install of the repository's own manifest does 404 (the check above can fail)", async () => {
    const odoo = published.find((p) => p.folder === 'odoo-mcp')!;
    const dir = join(dirs.path, 'repo-manifest');
    execFileSync('mkdir', ['-p', dir]);
    execFileSync('cp', [join(odoo.dir, 'package.json'), dir]);
    const run = await npmQuiet(['install', '--dry-run', '--prefer-offline', '--no-audit', '--no-fund'], dir);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/E404/);
  });
});

describe('Claude Desktop extension (MCPB 0.3)', () => {
  it('the generated parts of manifest.json, server.json and the README links are up to date', () => {
    const check = execFileSync(
      process.execPath,
      [join(repoRoot, 'scripts', 'install-files.mjs'), '--check'],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    expect(check).toBe('');
  });

  it.each(servers.map((s) => [s.name, s] as const))(
    '%s: mcpb validate accepts manifest.json',
    async (_n, s) => {
      const run = await runCommand(process.execPath, [mcpbCli, 'validate', join(s.dir, 'manifest.json')]);
      expect(run.stdout).toContain('Manifest schema validation passes!');
      expect(run.code).toBe(0);
    },
  );

  it.each(servers.map((s) => [s.name, s] as const))(
    '%s: runs this version of the npm package with npx; every setting fills an env variable the server reads; secrets are sensitive',
    (name, s) => {
      const manifest = manifestOf(s.dir);
      expect(manifest.manifest_version).toBe('0.3');
      expect(manifest.version).toBe(s.json.version);
      expect(manifest.server).toMatchObject({
        type: 'node',
        entry_point: 'dist/bin.js',
        mcp_config: { command: 'npx', args: ['-y', `${s.json.name}@${s.json.version}`] },
      });
      const options = envOptions(manifest);
      // Every user_config entry is used, and every env value comes from one.
      expect(options.every((o) => o.option)).toBe(true);
      expect(options.map((o) => o.key).sort()).toEqual(Object.keys(manifest.user_config).sort());
      const source = readdirSync(join(s.dir, 'src'), { recursive: true })
        .map(String)
        .filter((f) => f.endsWith('.ts'))
        .map((f) => read(join(s.dir, 'src', f)))
        .join('\n');
      const readme = read(join(s.dir, 'README.md'));
      for (const { env } of options) {
        // Read by the server (its own code, or core's shared <PREFIX>_READ_ONLY / _ALLOWED_DIRS) and documented.
        if (!/_(READ_ONLY|ALLOWED_DIRS)$/.test(env)) expect(source, `${name} reads ${env}`).toContain(env);
        expect(readme, `${name}'s README documents ${env}`).toContain(env);
      }
      const secret = /(SECRET|TOKEN|API_KEY|PASSWORD)$/;
      expect(options.filter((o) => o.option!.sensitive).map((o) => o.env)).toEqual(
        options.filter((o) => secret.test(o.env)).map((o) => o.env),
      );
      // The tools listed are the server's (from its tools/list snapshot).
      // (Subfolders hold the schemas of optional variants, e.g. ms365's shared-mailboxes.)
      const snapshots = readdirSync(join(s.dir, 'test', '__toolsnaps__'))
        .filter((f) => f.endsWith('.json'))
        .map((f) => f.replace(/\.json$/, ''));
      expect(manifest.tools.map((t) => t.name)).toEqual(snapshots.sort());
    },
  );

  it('npm run mcpb packs each server into a .mcpb that unpacks to its manifest and its published files', () => {
    const out = join(dirs.path, 'mcpb');
    const printed = execFileSync(
      process.execPath,
      [join(repoRoot, 'scripts', 'pack-mcpb.mjs'), '--out', out],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    console.log(printed.trim());
    for (const s of servers) {
      const file = join(out, `${s.name}.mcpb`);
      const into = join(dirs.path, 'unpacked-mcpb', s.name);
      execFileSync(process.execPath, [mcpbCli, 'unpack', file, into], { stdio: 'ignore' });
      const files = readdirSync(into, { recursive: true })
        .map(String)
        .filter((f) => statSync(join(into, f)).isFile())
        .sort();
      expect(files).toEqual(['manifest.json', ...packedFiles(s.dir)].sort());
      expect(json(join(into, 'manifest.json'))).toEqual(manifestOf(s.dir));
      expect(json(join(into, 'package.json'))).not.toHaveProperty('devDependencies');
      const again = execFileSync(process.execPath, [mcpbCli, 'validate', join(into, 'manifest.json')], {
        encoding: 'utf8',
      });
      expect(again).toContain('Manifest schema validation passes!');
      // No dependencies travel in the bundle: npx installs them for the user's platform.
      expect(files.filter((f) => f.includes('node_modules'))).toEqual([]);
    }
  });
});

describe('MCP Registry server.json (schema 2025-12-11)', () => {
  const schemaFile = join(repoRoot, 'packages', 'testkit', 'fixtures', 'mcp-registry', 'server.schema.json');
  const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
  const validate = ajv.compile(json(schemaFile));

  it('the schema copy is the published file, byte for byte', () => {
    // https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json, from modelcontextprotocol/static
    // (schemas/2025-12-11/server.schema.json, commit a9ba437); see fixtures/mcp-registry/SOURCE.md.
    expect(createHash('sha256').update(readFileSync(schemaFile)).digest('hex')).toBe(
      '3fba09590c99f61735d234822279f4223fab9e300c0a81e81c91ab62a4114de0',
    );
    expect(json(schemaFile).$id).toBe(
      'https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json',
    );
  });

  it.each(servers.map((s) => [s.name, s] as const))(
    '%s: valid; one npm package over stdio; mcpName matches; env variables and secrets as in manifest.json',
    (_n, s) => {
      const entry = json<RegistryEntry>(join(s.dir, 'server.json'));
      expect(validate(entry), JSON.stringify(validate.errors)).toBe(true);
      expect(entry.$schema).toBe(
        'https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json',
      );
      expect(entry.name).toBe(s.json.mcpName);
      expect(entry.version).toBe(s.json.version);
      expect(entry.packages).toHaveLength(1);
      const [pkg] = entry.packages;
      expect(pkg).toMatchObject({
        registryType: 'npm',
        identifier: s.json.name,
        version: s.json.version,
        transport: { type: 'stdio' },
      });
      expect(pkg!.environmentVariables.map((v) => [v.name, v.isSecret, v.isRequired])).toEqual(
        envOptions(manifestOf(s.dir)).map((o) => [
          o.env,
          o.option!.sensitive === true,
          o.option!.required === true,
        ]),
      );
    },
  );

  it('the validator rejects what the registry would (a long description, no name, a version range)', () => {
    const good = json<RegistryEntry>(join(servers[0]!.dir, 'server.json'));
    expect(validate({ ...good, description: 'x'.repeat(101) })).toBe(false);
    const { name: _name, ...nameless } = good;
    expect(validate(nameless)).toBe(false);
    expect(validate({ ...good, packages: [{ ...good.packages[0], version: 'latest' }] })).toBe(false);
  });
});

describe('install links in each README', () => {
  const expected = (s: (typeof servers)[number]) => ({ command: 'npx', args: ['-y', s.json.name] });
  const host = (s: (typeof servers)[number]) => s.name.replace(/-mcp$/, '');

  it.each(servers.map((s) => [s.name, s] as const))(
    '%s: VS Code and Cursor links install `npx -y <package>` under the name the README uses',
    (_n, s) => {
      const readme = read(join(s.dir, 'README.md'));
      // https://code.visualstudio.com/docs/copilot/guides/mcp-developer-guide#_mcp-url-handler
      const vscode = new URL(
        /\]\((https:\/\/insiders\.vscode\.dev\/redirect\/mcp\/install\?[^)]+)\)/.exec(readme)![1]!,
      );
      expect(vscode.searchParams.get('name')).toBe(host(s));
      expect(JSON.parse(vscode.searchParams.get('config')!)).toEqual(expected(s));
      const handler = /`vscode:mcp\/install\?([^`]+)`/.exec(readme)![1]!;
      expect(JSON.parse(decodeURIComponent(handler))).toEqual({ name: host(s), ...expected(s) });
      const addMcp = /`code --add-mcp '([^']+)'`/.exec(readme)![1]!;
      expect(JSON.parse(addMcp)).toEqual({ name: host(s), ...expected(s) });
      // https://cursor.com/docs/context/mcp/install-links: name, and the config base64-encoded
      const cursor = new URL(
        /\]\((cursor:\/\/anysphere\.cursor-deeplink\/mcp\/install\?[^)]+)\)/.exec(readme)![1]!,
      );
      expect(cursor.searchParams.get('name')).toBe(host(s));
      expect(JSON.parse(Buffer.from(cursor.searchParams.get('config')!, 'base64').toString('utf8'))).toEqual(
        expected(s),
      );
      // The README's own host configuration starts the server the same way.
      expect(readme).toContain(`"${host(s)}": {`);
      expect(readme).toContain(`"args": ["-y", "${s.json.name}"`);
    },
  );
});
