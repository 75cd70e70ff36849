// Writes a built server's tools/list entries to dist/tools-list.json (core's tool-catalog.ts serves them at
// start-up instead of converting zod to JSON Schema in every process) and its opening as data to
// dist/opening.json (core's quick-start.ts answers a session's opening from it before the server's code loads).
// Both come from the built server itself, in an empty environment: the tools asked over stdio as a host asks, with
// every toolset served (opt-in ones switched on); the opening from its hidden `opening-data` command, with the
// answers it gives to the lists of each protocol era. The same bytes the server computes, computed once per build.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Send the messages to `node bin ...args` and resolve with the answers by id, once `want` ids have answered. */
function ask(bin, args, env, messages, want, { errorsOk = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      // The server itself answers, not a quick start from data of an earlier build.
      env: { ...env, SWITCHYARD_QUICK_START: 'off' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const answers = new Map();
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill(), 60_000);
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      for (let i = out.indexOf('\n'); i !== -1; i = out.indexOf('\n')) {
        const msg = JSON.parse(out.slice(0, i));
        out = out.slice(i + 1);
        if (msg.id !== undefined) answers.set(msg.id, msg);
      }
      if (want.every((id) => answers.has(id))) child.stdin.end();
    });
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      const missing = want.filter((id) => !answers.has(id) || (!errorsOk && answers.get(id).error));
      if (missing.length === 0) resolve(answers);
      else
        reject(
          new Error(
            `${bin} ${args.join(' ')} did not answer request ${missing.join(', ')}: ${
              answers.get(missing[0])?.error?.message ?? err.slice(-500)
            }`,
          ),
        );
    });
    for (const m of messages) child.stdin.write(`${JSON.stringify(m)}\n`);
  });
}

const opening = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bundle', version: '1' } },
};
const initialized = { jsonrpc: '2.0', method: 'notifications/initialized' };

export async function writeToolsList(pkgDir) {
  const bin = join(pkgDir, 'dist', 'bin.js');
  const home = mkdtempSync(join(tmpdir(), 'switchyard-tools-list-'));
  // Nothing of the builder's own configuration: no modes, no credentials, no keychain.
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    SWITCHYARD_CONFIG_DIR: join(home, 'config'),
    SWITCHYARD_DATA_DIR: join(home, 'data'),
    SWITCHYARD_KEYCHAIN: 'off',
    SWITCHYARD_LOG_LEVEL: 'error',
  };
  try {
    const read = {
      jsonrpc: '2.0',
      id: 1,
      method: 'resources/read',
      params: { uri: 'switchyard://toolsets' },
    };
    const first = await ask(bin, [], env, [opening, initialized, read], [0, 1]);
    const { toolsets } = JSON.parse(first.get(1).result.contents[0].text);
    const args = [
      '--toolsets',
      toolsets.map((s) => s.id).join(','),
      ...toolsets.flatMap((s) =>
        s.enabled_by ? s.enabled_by.split(/[ ,]+/).filter((f) => f.startsWith('--')) : [],
      ),
    ];
    const list = { jsonrpc: '2.0', id: 2, method: 'tools/list' };
    const second = await ask(bin, args, env, [opening, initialized, list], [0, 2]);
    const tools = second.get(2).result.tools;
    const every = toolsets.flatMap((s) => s.tools);
    const listed = new Set(tools.map((t) => t.name));
    const absent = every.filter((n) => !listed.has(n));
    if (absent.length) throw new Error(`tools/list with every toolset left out ${absent.join(', ')}`);
    writeFileSync(
      join(pkgDir, 'dist', 'tools-list.json'),
      JSON.stringify(Object.fromEntries(tools.map((t) => [t.name, t]))),
    );
    await writeOpening(bin, env);
    return tools.length;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** The server's opening as data, with the lists' answers of both eras as the server gives them (see above). */
async function writeOpening(bin, env) {
  const data = JSON.parse(
    await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [bin, 'opening-data'], {
        env: { ...env, SWITCHYARD_QUICK_START: 'off' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolve(out) : reject(new Error(`${bin} opening-data failed: ${err.slice(-500)}`)),
      );
    }),
  );
  // resources/list only where no resource enumerates what it holds (which may ask the upstream): then it is the
  // same in every session.
  const lists = [
    'prompts/list',
    'resources/templates/list',
    ...(data.staticResources ? ['resources/list'] : []),
  ];
  const legacyAnswers = await ask(
    bin,
    [],
    env,
    [opening, initialized, ...lists.map((method, i) => ({ jsonrpc: '2.0', id: i + 1, method }))],
    [0, ...lists.map((_, i) => i + 1)],
    { errorsOk: true },
  );
  const _meta = {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientCapabilities': {},
    'io.modelcontextprotocol/clientInfo': { name: 'bundle', version: '1' },
  };
  const modernAnswers = await ask(
    bin,
    [],
    env,
    [
      { jsonrpc: '2.0', id: 0, method: 'server/discover', params: { _meta } },
      ...lists.map((method, i) => ({ jsonrpc: '2.0', id: i + 1, method, params: { _meta } })),
    ],
    [0, ...lists.map((_, i) => i + 1)],
    { errorsOk: true },
  );
  // Only what the server answers: a list it does not serve (no prompts) is left to it.
  const answered = (answers) =>
    Object.fromEntries(
      lists.flatMap((method, i) => {
        const a = answers.get(i + 1);
        return a && a.result ? [[method, a.result]] : [];
      }),
    );
  data.versions.modern = modernAnswers.get(0).result.supportedVersions;
  data.lists = { legacy: answered(legacyAnswers), modern: answered(modernAnswers) };
  writeFileSync(join(dirname(bin), 'opening.json'), JSON.stringify(data));
}
