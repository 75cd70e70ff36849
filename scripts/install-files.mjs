#!/usr/bin/env node
// The files that tell hosts and registries how to install each server, kept in step with the code:
//
// - packages/<server>/manifest.json: the Claude Desktop extension manifest (MCPB spec 0.3). Its own words (display
//   name, descriptions, privacy policies, user_config and the env variables they fill) are written by hand; what
//   package.json and the tool snapshots already say (version, author, links, keywords, Node range, tools, the
//   pinned npx command) is filled in here.
// - packages/<server>/server.json: the MCP Registry entry (schema 2025-12-11), derived from both: one npm
//   package run with npx over stdio, its environment variables with isSecret where user_config says sensitive.
// - the install links in packages/<server>/README.md (VS Code, Cursor, the extension), between the markers.
//
//   node scripts/install-files.mjs          rewrite them
//   node scripts/install-files.mjs --check  exit 1, naming the files that are out of step (a test runs this)
// `lerna version` runs it too (the root `version` script), so a release's new versions reach these files.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REGISTRY_SCHEMA = 'https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json';
const root = fileURLToPath(new URL('..', import.meta.url));
const BEGIN = '<!-- install links: written by scripts/install-files.mjs from manifest.json -->';
const END = '<!-- /install links -->';

/** Every server package that has an extension manifest. */
export function servers() {
  return readdirSync(join(root, 'packages'))
    .map((folder) => join(root, 'packages', folder))
    .filter((dir) => existsSync(join(dir, 'manifest.json')))
    .map((dir) => {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      return {
        dir,
        pkg,
        bin: Object.keys(pkg.bin)[0],
        manifest: JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')),
      };
    });
}

/** The name a host's configuration gives the server (`powerbi` for powerbi-mcp), as the READMEs do. */
export const hostName = (bin) => bin.replace(/-mcp$/, '');

/** How every host starts a server: npx, the package, nothing else (settings come from env or `login`). */
export const npxConfig = (pkg) => ({ command: 'npx', args: ['-y', pkg.name] });

export function extensionManifest({ dir, pkg, manifest }) {
  const repo = pkg.repository.url.replace(/\.git$/, '');
  const [, major, minor, patch = '0'] = /^>=\s*(\d+)\.(\d+)(?:\.(\d+))?$/.exec(pkg.engines.node);
  const snapshots = join(dir, 'test', '__toolsnaps__');
  const tools = readdirSync(snapshots)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(snapshots, f), 'utf8')))
    .map((t) => ({ name: t.name, description: t.title }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return {
    manifest_version: '0.3',
    name: manifest.name,
    display_name: manifest.display_name,
    version: pkg.version,
    description: manifest.description,
    long_description: manifest.long_description,
    author: { name: pkg.author, url: repo },
    repository: { type: 'git', url: pkg.repository.url },
    homepage: pkg.homepage,
    documentation: pkg.homepage,
    support: pkg.bugs.url,
    license: pkg.license,
    keywords: pkg.keywords,
    server: {
      type: 'node',
      entry_point: 'dist/bin.js',
      // The host runs the published package of this very version: npm installs its native parts (keychain,
      // DuckDB) for the user's platform, which a bundle packed on one platform could not carry for all.
      mcp_config: {
        command: 'npx',
        args: ['-y', `${pkg.name}@${pkg.version}`],
        env: manifest.server.mcp_config.env,
      },
    },
    tools,
    privacy_policies: manifest.privacy_policies,
    compatibility: {
      platforms: ['darwin', 'win32', 'linux'],
      runtimes: { node: `>=${major}.${minor}.${patch}` },
    },
    user_config: manifest.user_config,
  };
}

const FORMATS = {
  string: 'string',
  number: 'number',
  boolean: 'boolean',
  directory: 'filepath',
  file: 'filepath',
};

export function registryEntry({ pkg, manifest }) {
  const repo = pkg.repository.url.replace(/\.git$/, '');
  const environmentVariables = Object.entries(manifest.server.mcp_config.env).map(([name, value]) => {
    const key = /^\$\{user_config\.([\w-]+)\}$/.exec(value)?.[1];
    const option = manifest.user_config[key];
    if (!option) throw new Error(`${pkg.name}: ${name} is not filled from a user_config entry`);
    const entry = {
      name,
      description: option.description,
      format: FORMATS[option.type],
      isRequired: option.required === true,
      isSecret: option.sensitive === true,
    };
    if (option.default !== undefined && !String(option.default).includes('${'))
      entry.default = String(option.default);
    return entry;
  });
  return {
    $schema: REGISTRY_SCHEMA,
    name: pkg.mcpName,
    title: manifest.display_name,
    description: manifest.description,
    repository: { url: repo, source: 'github', subfolder: pkg.repository.directory },
    websiteUrl: pkg.homepage,
    version: pkg.version,
    packages: [
      {
        registryType: 'npm',
        registryBaseUrl: 'https://registry.npmjs.org',
        identifier: pkg.name,
        version: pkg.version,
        runtimeHint: 'npx',
        transport: { type: 'stdio' },
        environmentVariables,
      },
    ],
  };
}

/** VS Code's install link (its https redirect: GitHub and npm do not link `vscode:` URLs). */
export function vscodeLink(bin, pkg) {
  const config = encodeURIComponent(JSON.stringify(npxConfig(pkg)));
  return `https://insiders.vscode.dev/redirect/mcp/install?name=${encodeURIComponent(hostName(bin))}&config=${config}`;
}

/** VS Code's own URL handler: `vscode:mcp/install?` and the `--add-mcp` JSON, URL-encoded. */
export function vscodeUrl(bin, pkg) {
  return `vscode:mcp/install?${encodeURIComponent(JSON.stringify({ name: hostName(bin), ...npxConfig(pkg) }))}`;
}

/** Cursor's deeplink: the server's mcp.json entry, base64-encoded (and URL-encoded, base64 holds + / =). */
export function cursorLink(bin, pkg) {
  const config = encodeURIComponent(Buffer.from(JSON.stringify(npxConfig(pkg))).toString('base64'));
  return `cursor://anysphere.cursor-deeplink/mcp/install?name=${encodeURIComponent(hostName(bin))}&config=${config}`;
}

export function installLinks({ bin, pkg }) {
  return [
    BEGIN,
    `One click: [Install in VS Code](${vscodeLink(bin, pkg)}) · [Install in Cursor](${cursorLink(bin, pkg)})`,
    `(or open \`${vscodeUrl(bin, pkg)}\`, or run`,
    `\`code --add-mcp '${JSON.stringify({ name: hostName(bin), ...npxConfig(pkg) })}'\`).`,
    `Claude Desktop: the extension \`${bin}.mcpb\` (\`npm run mcpb\` builds it into \`packages/${bin}/dist/\`; open it`,
    'with Claude Desktop) asks for the settings in a form, keeps the secret ones safe, and runs the same npm package.',
    END,
  ].join('\n');
}

function withLinks(readme, links) {
  const start = readme.indexOf(BEGIN);
  if (start >= 0)
    return readme.slice(0, start) + links + readme.slice(readme.indexOf(END, start) + END.length);
  // First time: right under the section that tells how to add the server to a host.
  const heading = /^## (Add it to your (MCP )?host|Configure your MCP host|Configuration)\n/m.exec(readme);
  if (!heading) throw new Error('no host section in the README to put the install links under');
  const at = heading.index + heading[0].length;
  return `${readme.slice(0, at)}\n${links}\n${readme.slice(at)}`;
}

/** Every file this script writes, with the content it should have. */
export function expectedFiles() {
  return servers().flatMap((server) => {
    const readme = readFileSync(join(server.dir, 'README.md'), 'utf8');
    return [
      {
        path: join(server.dir, 'manifest.json'),
        text: `${JSON.stringify(extensionManifest(server), null, 2)}\n`,
      },
      { path: join(server.dir, 'server.json'), text: `${JSON.stringify(registryEntry(server), null, 2)}\n` },
      { path: join(server.dir, 'README.md'), text: withLinks(readme, installLinks(server)) },
    ];
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  const stale = expectedFiles().filter(
    ({ path, text }) => !existsSync(path) || readFileSync(path, 'utf8') !== text,
  );
  if (check) {
    for (const { path } of stale)
      console.error(`out of step: ${path.slice(root.length)} (run npm run install-files)`);
    process.exitCode = stale.length ? 1 : 0;
  } else {
    for (const { path, text } of stale) writeFileSync(path, text);
    console.log(`${stale.length} file(s) written`);
  }
}
