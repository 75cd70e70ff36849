// Issue 13 part 4: a hint that names a command names it the way the user started the server. The four servers
// are packed, then run as a user's host runs them: installed globally (the bin on PATH), and through a real
// `npx -y` (which puts them in npm's _npx cache folder and nowhere on PATH). Each prints a sign-in hint
// without any network or credential: `status` with nothing configured.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, packTarballs, runCommand, serverPackages, tempDir } from '@switchyard/testkit';

const servers = serverPackages();
const dirs = tempDir('command-hint-');

/** What each server needs in its environment to print a hint, and the command that hint names. */
const hints: Record<string, { env?: Record<string, string>; command: string }> = {
  'lakehouse-mcp': {
    env: {
      LAKEHOUSE_WAREHOUSE: 'databricks',
      DATABRICKS_HOST: 'https://127.0.0.1:9',
      DATABRICKS_HTTP_PATH: '/sql/1.0/warehouses/x',
    },
    command: 'lakehouse-mcp login --databricks',
  },
  'ms365-mcp': { command: 'ms365-mcp login' },
  'odoo-mcp': { command: 'odoo-mcp login --url <address>' },
  'powerbi-mcp': { command: 'powerbi-mcp login --service-principal' },
};

const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

let tarballs: string[];
let globalBin: string;
let npxFolder: string | undefined;

beforeAll(() => {
  tarballs = packTarballs(
    servers.map((s) => s.dir),
    dirs.path,
  );
  const prefix = join(dirs.path, 'global');
  npm(
    ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', ...tarballs],
    dirs.path,
  );
  globalBin = join(prefix, 'bin');
});

afterAll(() => {
  // npx keeps what it installed under <npm cache>/_npx/<hash of these tarballs' paths>: remove that folder.
  if (npxFolder) rmSync(npxFolder, { recursive: true, force: true });
  dirs.cleanup();
});

function npx(shellCommand: string, env: Record<string, string>) {
  const packages = tarballs.map((t) => `--package=${t}`);
  return runCommand('npx', ['-y', '--prefer-offline', ...packages, '-c', shellCommand], {
    env,
    cwd: dirs.path,
  });
}

describe('hints name commands the way the user started the server', () => {
  it('every server has a case', () => {
    expect(servers.map((s) => s.name)).toEqual(Object.keys(hints));
  });

  it.each(servers.map((s) => [s.name] as const))('%s installed globally: the bin name', async (name) => {
    const { env, command } = hints[name]!;
    const run = await runCommand(join(globalBin, name), ['status'], {
      env: isolatedEnv({ env: { ...env, PATH: `${globalBin}:${process.env.PATH}` } }),
    });
    expect(run.stdout).toContain(`\`${command}\``);
    expect(run.stdout).not.toContain('npx');
  });

  it('every server started through npx: `npx -y @switchyard/<name> …`', async () => {
    const located = await npx('command -v odoo-mcp', isolatedEnv());
    expect(located.stdout).toMatch(/[\\/]_npx[\\/]/);
    npxFolder = dirname(dirname(dirname(located.stdout.trim())));
    for (const { name } of servers) {
      const { env, command } = hints[name]!;
      const run = await npx(`${name} status`, isolatedEnv({ env }));
      expect(run.stdout).toContain(`\`npx -y @switchyard/${command}\``);
      expect(run.stdout.replaceAll(`npx -y @switchyard/${name}`, '')).not.toContain(`\`${name}`);
    }
  });
});
