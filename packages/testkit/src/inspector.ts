import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand, type CommandResult } from './spawn.js';

/** Where scripts/node22.mjs installs Node 22, the MCP Inspector 2.x and the conformance suite (`npm test` runs it first). */
const TOOLS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '.cache', 'node22');

/** The Node 22 binary from the npm registry (the project runs on Node 20; some tools need 22). */
export function node22(): string {
  const node = join(TOOLS, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(node)) {
    throw new Error(
      `Node 22 is not installed for the tests: run \`node scripts/node22.mjs\` (npm test does).`,
    );
  }
  return node;
}

/**
 * Run the MCP Inspector CLI 2.x (on Node 22) against a server command, as a test from outside our own client
 * code, in one protocol era: `legacy` opens with `initialize` (MCP 2025-11-25), `modern` speaks MCP 2026-07-28
 * (`server/discover`, then the per-request `_meta` envelope).
 */
export function runInspector(
  serverCommand: string[],
  methodArgs: string[],
  options: { env?: Record<string, string>; timeoutMs?: number; era?: 'legacy' | 'modern' } = {},
): Promise<CommandResult> {
  const cli = join(
    TOOLS,
    'node_modules',
    '@modelcontextprotocol',
    'inspector',
    'clients',
    'launcher',
    'build',
    'index.js',
  );
  const envArgs = Object.entries(options.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  return runCommand(
    node22(),
    [cli, '--cli', '--protocol-era', options.era ?? 'legacy', ...envArgs, ...serverCommand, ...methodArgs],
    {
      env: { ...(process.env as Record<string, string>), ...options.env },
      timeoutMs: options.timeoutMs ?? 60_000,
    },
  );
}

/**
 * Run the official MCP conformance suite (`@modelcontextprotocol/conformance`, on Node 22) in server mode
 * against a Streamable HTTP endpoint, for what one spec revision requires (`--requirements`, run at that
 * revision's wire: 2025-11-25 opens with `initialize`, 2026-07-28 is stateless). With `expectedFailures` (a
 * baseline YAML file) the exit code is 0 only when every failure is listed and no listed check passes.
 * Each scenario's checks.json lands under `outputDir`.
 */
export function runConformance(
  url: string,
  options: { requirements: string; expectedFailures?: string; outputDir: string; timeoutMs?: number },
): Promise<CommandResult> {
  const cli = join(TOOLS, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
  if (!existsSync(cli)) {
    throw new Error(
      'The MCP conformance suite is not installed for the tests: run `node scripts/node22.mjs` (npm test does).',
    );
  }
  return runCommand(
    node22(),
    [
      cli,
      'server',
      '--url',
      url,
      '--requirements',
      options.requirements,
      '--output-dir',
      options.outputDir,
      ...(options.expectedFailures ? ['--expected-failures', options.expectedFailures] : []),
    ],
    { timeoutMs: options.timeoutMs ?? 180_000 },
  );
}
