#!/usr/bin/env node
// Bundles a server's compiled entry (dist/index.js) into one file (dist/main.js) that its bin (dist/bin.js)
// loads after turning on Node's compile cache (Node 22.1+; a no-op on Node 20).
// Start-up is most of a stdio server's felt speed: one file instead of hundreds of modules halves it
// (see bench/). Pure-JS dependencies are bundled too, those reached only through import() into chunks read on
// first use: an install then fetches a few native packages instead of hundreds of small ones (bench/install.mjs).
// Native modules stay external and are runtime dependencies of the package (test/bundle-externals.test.ts
// in testkit checks every server's bundle against its package.json).
import { chmodSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { writeToolsList } from './tools-list.mjs';

const pkgDir = resolve(process.argv[2] ?? '.');
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const external = [
  // the OS keychain is a native addon; undici stays a package of its own so that its
  // global dispatcher is one object whoever loads it
  '@napi-rs/keyring',
  'undici',
  ...(pkg.bundle?.external ?? []),
];

// Parts of a bundled dependency a server never uses and that would drag native binaries in (package.json
// "bundle.leaveOut": { "<package>/<path inside it>": "why" }). Loading one throws MODULE_NOT_FOUND, as an
// optional dependency that is not installed does, with the reason in the message.
const leaveOut = Object.entries(pkg.bundle?.leaveOut ?? {});
const leftOut = {
  name: 'left-out',
  setup(b) {
    if (!leaveOut.length) return;
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.namespace === 'left-out' || args.pluginData === 'left-out') return undefined;
      const target = /^\.\.?\//.test(args.path)
        ? join(args.resolveDir, args.path)
        : `node_modules/${args.path}`;
      const hit = leaveOut.find(([path]) => target.replaceAll('\\', '/').endsWith(`node_modules/${path}`));
      return hit ? { path: hit[0], namespace: 'left-out', pluginData: hit[1] } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'left-out' }, (args) => ({
      contents: `throw Object.assign(new Error(${JSON.stringify(`${args.path} is left out of this bundle: `)} + ${JSON.stringify(args.pluginData)}), { code: 'MODULE_NOT_FOUND' });`,
      loader: 'js',
    }));
  },
};

// zod 4 re-exports every locale (`z.locales`, ~300 KB: a fifth of a bundle) though it only ever configures
// English; our messages are English. Parsing them costs start-up time, so the bundle gets English alone.
const englishOnlyZod = {
  name: 'english-only-zod',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer)
        ? { path: join(args.resolveDir, 'locales-en-only.js'), namespace: 'zod-locales' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: 'export { default as en } from "./en.js";',
      resolveDir: join(args.path, '..', '..', 'locales'),
    }));
  },
};

// The SDK packages may get a zod copy of their own (npm nests one when the workspace root hoists another major):
// point every zod import of theirs at core's zod, so that one copy is bundled, not two.
const coreDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages', 'core');
const oneZod = {
  name: 'one-zod',
  setup(b) {
    b.onResolve({ filter: /^zod(\/.*)?$/ }, (args) =>
      args.pluginData === 'one-zod' || !/@modelcontextprotocol[\\/]/.test(args.importer)
        ? undefined
        : b.resolve(args.path, { resolveDir: coreDir, kind: args.kind, pluginData: 'one-zod' }),
    );
  },
};

// The SDK's Server constructs an Ajv-based validator (through their `_shims` entry), which loads Ajv with every
// string format (217 KB of code, a fifth of a bundle) only to check elicitation answers and output schemas. In the
// bundle that entry goes to a stand-in whose validator require()s the real one, bundled on its own into
// dist/chunks/json-schema-validator.cjs, on first use: a start then neither compiles nor runs Ajv.
const VALIDATOR_CHUNK = 'json-schema-validator.cjs';
let validatorEntry;
const ajvOnFirstUse = {
  name: 'ajv-on-first-use',
  setup(b) {
    b.onResolve({ filter: /^@modelcontextprotocol\/server\/_shims$/ }, async (args) => {
      if (args.pluginData === 'ajv-shim') return undefined;
      const real = await b.resolve(args.path, {
        resolveDir: args.resolveDir,
        kind: args.kind,
        pluginData: 'ajv-shim',
      });
      if (real.errors.length) return undefined;
      validatorEntry ??= real.path;
      return { path: real.path, namespace: 'ajv-shim' };
    });
    b.onLoad({ filter: /.*/, namespace: 'ajv-shim' }, () => ({
      contents: [
        "import process from 'node:process';",
        "import { join } from 'node:path';",
        // This stand-in lands in main.js or in a chunk of dist/chunks/: the validator is in dist/chunks/ either way.
        `const file = join(/[\\\\/]chunks$/.test(__dirname) ? __dirname : join(__dirname, 'chunks'), ${JSON.stringify(VALIDATOR_CHUNK)});`,
        'let Real;',
        'export class DefaultJsonSchemaValidator {',
        '  constructor(...options) { this.options = options; }',
        '  getValidator(schema) {',
        '    Real ??= require(file).DefaultJsonSchemaValidator;',
        '    this.real ??= new Real(...this.options);',
        '    return this.real.getValidator(schema);',
        '  }',
        '}',
        'export { process };',
      ].join('\n'),
      resolveDir: pkgDir,
    }));
  },
};

rmSync(join(pkgDir, 'dist', 'chunks'), { recursive: true, force: true });
// The opening data of an earlier build must never answer for this one: it is written again at the end.
rmSync(join(pkgDir, 'dist', 'opening.json'), { force: true });
const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external,
  minifySyntax: true,
  minifyWhitespace: true,
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [oneZod, englishOnlyZod, ajvOnFirstUse, leftOut],
  // Bundled CommonJS code calls require() and may compute paths from __dirname at load time (open's xdg-open):
  // give it both. A path so computed points into dist/, where no package file is: whatever reads files of its
  // own package at run time stays external.
  define: { __dirname: '__switchyardDirname', __filename: '__switchyardFilename' },
  banner: {
    js: [
      "import { createRequire as __switchyardRequire } from 'node:module';",
      "import { dirname as __switchyardDirnameOf } from 'node:path';",
      "import { fileURLToPath as __switchyardPath } from 'node:url';",
      'const require = __switchyardRequire(import.meta.url);',
      'const __switchyardFilename = __switchyardPath(import.meta.url);',
      'const __switchyardDirname = __switchyardDirnameOf(__switchyardFilename);',
    ].join(' '),
  },
};
// Programs a server starts as child processes ("bundle.workers": name -> compiled entry) are bundled on their
// own, beside main.js, so that starting one reads one file and never the server's code.
const workers = await Promise.all(
  Object.entries(pkg.bundle?.workers ?? {}).map(([name, entry]) =>
    build({
      ...common,
      entryPoints: { [name]: join(pkgDir, entry) },
      outdir: join(pkgDir, 'dist'),
      metafile: true,
    }),
  ),
);
const result = await build({
  // Code reached only through import() (a demo, a warehouse's SQL grammars) goes to dist/chunks/ and is
  // read only when used.
  entryPoints: { main: join(pkgDir, 'dist', 'index.js') },
  outdir: join(pkgDir, 'dist'),
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  metafile: true,
  ...common,
});

// The quick start (core's quick-start.ts): what the bin loads first. It answers a session's opening from the data the
// build writes beside main.js and loads main.js only when a message needs the server, so it is a file of its own
// that imports nothing of the server's.
const isServer = Object.keys(pkg.bin ?? {})[0]?.endsWith('-mcp') ?? false;
const starter = isServer
  ? await build({
      ...common,
      plugins: [],
      banner: {},
      define: {},
      external: ['./main.js'],
      stdin: {
        contents: [
          `import { quickStart } from ${JSON.stringify(join(coreDir, 'dist', 'quick-start.js'))};`,
          "quickStart(new URL('.', import.meta.url), () => import('./main.js'));",
        ].join('\n'),
        resolveDir: join(pkgDir, 'dist'),
        sourcefile: 'quick-start-entry.js',
      },
      outfile: join(pkgDir, 'dist', 'start.js'),
      metafile: true,
    })
  : undefined;
for (const input of Object.keys(starter?.metafile.inputs ?? {})) {
  if (/node_modules/.test(input)) throw new Error(`the quick start must not bundle a dependency: ${input}`);
}

// The SDK's real validator, for the stand-in above (CommonJS: the stand-in require()s it synchronously).
const validator = validatorEntry
  ? await build({
      ...common,
      plugins: [oneZod, englishOnlyZod, leftOut],
      entryPoints: [validatorEntry],
      outfile: join(pkgDir, 'dist', 'chunks', VALIDATOR_CHUNK),
      format: 'cjs',
      banner: {},
      define: {},
      metafile: true,
    })
  : undefined;

// What the bundle carries of other people's code, with their licenses: MIT, ISC, BSD and Apache-2.0 all ask
// that the notice travel with the copy.
const notices = new Map();
for (const input of [result, ...workers, ...(validator ? [validator] : [])].flatMap((r) =>
  Object.keys(r.metafile.inputs),
)) {
  const m = /^(?:[\w-]+:)?(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (!m) continue;
  const dir = resolve(pkgDir, m[1]);
  const meta = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const title = `${meta.name} ${meta.version} (${meta.license ?? 'see below'})`;
  if (notices.has(title)) continue;
  const files = readdirSync(dir).filter((f) => /^(licen[cs]e|copying|notice)([.-]|$)/i.test(f));
  notices.set(
    title,
    files.map((f) => readFileSync(join(dir, f), 'utf8').trim()).join('\n\n') ||
      `No license file in the package; its package.json says: ${meta.license ?? 'nothing'}.`,
  );
}
writeFileSync(
  join(pkgDir, 'dist', 'THIRD-PARTY-NOTICES.txt'),
  [`${pkg.name} bundles the following packages.`, '']
    .concat(
      [...notices].sort(([a], [b]) => a.localeCompare(b)).map(([title, text]) => `## ${title}\n\n${text}\n`),
    )
    .join('\n'),
);

// The bin refuses an older Node than engines.node before anything else loads: the bundle needs what that Node
// brings, and an older one would fail on an import or a syntax error that says nothing about the version. So
// the bin is written in syntax old Nodes parse (no top-level await, no static import, no `?.`), checks, and
// only then loads the bundle. Where Node supports it, it keeps the bundle's compiled bytecode between starts
// (a host starts the server often); the cache lives in NODE_COMPILE_CACHE or the OS temp folder.
const engines = /^>=\s*(\d+)\.(\d+)(?:\.(\d+))?$/.exec(pkg.engines?.node ?? '');
if (!engines)
  throw new Error(`${pkg.name}: engines.node must read ">=MAJOR.MINOR[.PATCH]" for the bin's check`);
const need = engines.slice(1).map((n) => Number(n ?? 0));
const binName = Object.keys(pkg.bin ?? {})[0] ?? pkg.name;
const bin = join(pkgDir, 'dist', 'bin.js');
writeFileSync(
  bin,
  [
    '#!/usr/bin/env node',
    `var need = ${JSON.stringify(need)};`,
    "var have = process.versions.node.split('.').map(Number);",
    'var old = have[0] !== need[0] ? have[0] < need[0] : have[1] !== need[1] ? have[1] < need[1] : have[2] < need[2];',
    'if (old) {',
    '  process.stderr.write(',
    `    ${JSON.stringify(`${binName} needs Node.js ${need.join('.')} or newer but was started with Node.js `)} +`,
    '      process.versions.node +',
    "      ' (' + process.execPath + '): install a current Node.js LTS from https://nodejs.org and restart the app that started it.\\n'",
    '  );',
    '  process.exitCode = 1;',
    '} else {',
    "  import('node:module')",
    '    .then(function (m) {',
    '      if (m.default.enableCompileCache) m.default.enableCompileCache();',
    `      return import(${JSON.stringify(isServer ? './start.js' : './main.js')});`,
    '    })',
    '    .catch(function (err) {',
    '      process.stderr.write((err && err.stack) || String(err));',
    "      process.stderr.write('\\n');",
    '      process.exitCode = 1;',
    '    });',
    '}',
    '',
  ].join('\n'),
);
chmodSync(bin, 0o755);

// A server's tools/list entries and its opening as data, computed once here instead of at every start
// (scripts/tools-list.mjs).
if (isServer) await writeToolsList(pkgDir);
