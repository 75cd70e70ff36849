// Issue 13 part 3: every bin (the servers', the demo's) refuses a Node older than its engines.node in one sentence, with a
// non-zero exit, before it loads anything else; a Node that is new enough runs it.
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { binPackages, olderNode, runCommand, tempDir } from '@switchyard/testkit';

// Every bin: the servers and the lakehouse demo.
const servers = binPackages();
const dirs = tempDir('node-version-');
afterAll(() => dirs.cleanup());

// A preload that makes the process report another Node version (process.versions.node is configurable) and
// logs every module the process then resolves, through a module hook, to the file LOAD_LOG names.
const hooks = join(dirs.path, 'hooks.mjs');
writeFileSync(
  hooks,
  `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.LOAD_LOG, result.url + '\\n');
  return result;
}
`,
);
const preload = join(dirs.path, 'pretend.mjs');
writeFileSync(
  preload,
  `import { register } from 'node:module';
Object.defineProperty(process.versions, 'node', { value: process.env.PRETEND_NODE });
register(${JSON.stringify(pathToFileURL(hooks).href)});
`,
);

async function runAs(version: string, bin: string, log: string) {
  writeFileSync(log, '');
  const result = await runCommand(process.execPath, ['--import', preload, bin, '--version'], {
    env: { ...(process.env as Record<string, string>), PRETEND_NODE: version, LOAD_LOG: log },
  });
  const loaded = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  return { ...result, loaded };
}

describe('the bin checks the Node version first', () => {
  it('every server asks for engines.node >=20.19', () => {
    expect(servers.map((s) => [s.name, s.json.engines?.node])).toEqual(
      servers.map((s) => [s.name, '>=20.19']),
    );
  });

  it.each(servers.map((s) => [s.name, s] as const))(
    '%s refuses Node 18.20.8 and 20.18.3 in one sentence, loading nothing but its bin',
    async (name, server) => {
      for (const version of ['18.20.8', '20.18.3']) {
        const run = await runAs(version, server.bin, join(dirs.path, `${name}-${version}.log`));
        expect(run.code).toBe(1);
        expect(run.stdout).toBe('');
        expect(run.stderr).toBe(
          `${name} needs Node.js 20.19.0 or newer but was started with Node.js ${version} (${process.execPath}): ` +
            'install a current Node.js LTS from https://nodejs.org and restart the app that started it.\n',
        );
        // Only the bin itself was resolved: the bundle (dist/main.js) and its imports never began to load.
        expect(
          run.loaded.filter((u) => u.startsWith('file:')).map((u) => u.slice(u.lastIndexOf('/') + 1)),
        ).toEqual(['bin.js']);
      }
    },
  );

  it.each(servers.map((s) => [s.name, s] as const))(
    '%s runs on Node 20.19.0 and 22.0.0',
    async (name, server) => {
      for (const version of ['20.19.0', '22.0.0']) {
        const run = await runAs(version, server.bin, join(dirs.path, `${name}-${version}.log`));
        expect(run.stderr).toBe('');
        expect(run.stdout.trim()).toBe(server.json.version);
        expect(run.code).toBe(0);
        expect(run.loaded.some((u) => u.endsWith('/dist/main.js'))).toBe(true);
      }
    },
  );

  it('a real Node 18 gets the same sentence from every server', async () => {
    const node18 = olderNode('18.20.8');
    for (const server of servers) {
      const run = await runCommand(node18, [server.bin, '--version']);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toBe(
        `${server.name} needs Node.js 20.19.0 or newer but was started with Node.js 18.20.8 (${node18}): ` +
          'install a current Node.js LTS from https://nodejs.org and restart the app that started it.\n',
      );
    }
  });
});
