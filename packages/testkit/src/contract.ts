import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOOLSETS_URI, type PublishedToolset } from '@switchyard/core';
import { runInspector } from './inspector.js';
import { spawnServer, tempDir } from './spawn.js';

/** The parts of a `tools/list` entry that form a server's contract with hosts and prompts. */
export interface ListedTool {
  name: string;
  title?: string;
  description?: string;
  inputSchema: unknown;
  outputSchema?: unknown;
  annotations?: Record<string, unknown>;
}

const updating = () => process.env.UPDATE_CONTRACTS === '1';

/**
 * Pin every tool's schema in `<dir>/<tool>.json` (like GitHub's `__toolsnaps__`): a renamed parameter or a
 * changed annotation fails the test until the snapshot is updated on purpose with `UPDATE_CONTRACTS=1`.
 * Returns the list of differences (empty when all match).
 */
export function compareToolSnapshots(tools: ListedTool[], dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const problems: string[] = [];
  const expectedFiles = new Set(tools.map((t) => `${t.name}.json`));
  for (const tool of tools) {
    const path = join(dir, `${tool.name}.json`);
    const actual = `${JSON.stringify(tool, null, 2)}\n`;
    let stored: string | undefined;
    try {
      stored = readFileSync(path, 'utf8');
    } catch {
      stored = undefined;
    }
    if (stored === actual) continue;
    if (updating() || (stored === undefined && !process.env.CI)) writeFileSync(path, actual);
    else
      problems.push(
        stored === undefined
          ? `${tool.name}: no snapshot (run with UPDATE_CONTRACTS=1)`
          : `${tool.name}: schema changed (run with UPDATE_CONTRACTS=1 if intended)`,
      );
  }
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json') && !expectedFiles.has(f))) {
    if (updating()) rmSync(join(dir, file));
    else problems.push(`${file}: snapshot of a tool that no longer exists`);
  }
  return problems;
}

/** The markdown tool table of a README, generated from `tools/list`. */
export function renderToolTable(
  tools: ListedTool[],
  toolsetOf: (name: string) => string | undefined = () => undefined,
): string {
  const rows = tools.map((t) => {
    const a = t.annotations ?? {};
    const kind = a.readOnlyHint ? 'read' : a.destructiveHint === false ? 'write' : 'write, destructive';
    const summary = (t.description ?? '').split(/(?<=\.)\s/)[0]!.replace(/\|/g, '\\|');
    const set = toolsetOf(t.name);
    return `| \`${t.name}\` | ${set ? `${set} | ` : ''}${kind} | ${summary} |`;
  });
  const withSets = tools.some((t) => toolsetOf(t.name));
  const head = withSets
    ? '| tool | toolset | kind | what it does |\n|---|---|---|---|'
    : '| tool | kind | what it does |\n|---|---|---|';
  return `${head}\n${rows.join('\n')}`;
}

const START =
  '<!-- tools:start (generated from tools/list by the contract test; UPDATE_CONTRACTS=1 rewrites it) -->';
const END = '<!-- tools:end -->';

/**
 * Check (or with `UPDATE_CONTRACTS=1`, rewrite) the tool table between the markers in a README.
 * Returns a problem description, or undefined when the README is in step with the code.
 */
export function checkReadmeToolTable(readmePath: string, table: string): string | undefined {
  const readme = readFileSync(readmePath, 'utf8');
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  const block = `${START}\n${table}\n${END}`;
  if (start === -1 || end === -1) return `${readmePath} has no tool table markers:\n${START}\n${END}`;
  const current = readme.slice(start, end + END.length);
  if (current === block) return undefined;
  if (updating()) {
    writeFileSync(readmePath, readme.slice(0, start) + block + readme.slice(end + END.length));
    return undefined;
  }
  return `${readmePath}: the tool table is out of date (run the tests with UPDATE_CONTRACTS=1)`;
}

export interface ContractOptions {
  /** The built bin (`dist/bin.js`). */
  bin: string;
  /** The package folder: its README.md holds the tool table, test/__toolsnaps__ the schema snapshots. */
  packageDir: string;
  /** The arguments that serve every tool (Odoo's `--allow-writes`). */
  args?: string[];
  /** Extra environment of the spawned server. */
  env?: Record<string, string>;
  /** What every tool name looks like (`/^odoo_[a-z]+_[a-z_]+$/`). */
  names: RegExp;
  /** The most bytes tools/list may take with every tool served (ARCHITECTURE.md: 16 KB). */
  budget?: number;
  /** Also list the tools with the MCP Inspector CLI, from outside our own client code. */
  inspector?: boolean;
  /** Input fields (by name, in any tool) known to lack a bound: a gap to close, listed where everyone sees it. */
  unbounded?: string[];
}

/** What a server publishes about its interface: read once, shared by the suite and the file's own tests. */
export interface ContractListing {
  /** tools/list with every tool served. */
  tools: ListedTool[];
  /** switchyard://toolsets: each toolset, its tools and those served. */
  toolsets: PublishedToolset[];
  /** The tools marked read-only: what `--read-only` serves (testkit's test/read-only.test.ts checks every server). */
  readOnly: string[];
  toolsetOf(name: string): string | undefined;
}

async function listContract(options: ContractOptions, folder: string): Promise<ContractListing> {
  const server = await spawnServer(options.bin, {
    args: options.args ?? [],
    configDir: folder,
    dataDir: folder,
    ...(options.env ? { env: options.env } : {}),
  });
  try {
    const tools = (await server.client.listTools()).tools as ListedTool[];
    const read = await server.client.readResource({ uri: TOOLSETS_URI });
    const { toolsets } = JSON.parse((read.contents[0] as { text: string }).text) as {
      toolsets: PublishedToolset[];
    };
    const owner = new Map(toolsets.flatMap((set) => set.tools.map((name) => [name, set.id] as const)));
    return {
      tools,
      toolsets,
      readOnly: tools.filter((t) => t.annotations?.readOnlyHint === true).map((t) => t.name),
      toolsetOf: (name) => owner.get(name),
    };
  } finally {
    await server.close();
  }
}

/** Whether a JSON Schema property has a bound: a model cannot send a megabyte through it. */
function bounded(schema: Record<string, unknown>): boolean {
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Array<Record<string, unknown>>).every(bounded);
  // An anchored pattern without open repetition (`^[a-z][a-z0-9_-]{0,62}$`) bounds the length too.
  const pattern = typeof schema.pattern === 'string' ? schema.pattern : '';
  const closedPattern = /^\^.*\$$/.test(pattern) && !/[*+]|\{\d+,\}/.test(pattern.replace(/\\./g, ''));
  return (
    schema.type === 'boolean' ||
    closedPattern ||
    ['enum', 'const', 'maxLength', 'maximum', 'maxItems', 'maxProperties'].some((k) => k in schema)
  );
}

/**
 * The tools/list contract every server keeps, as a vitest suite: every tool in exactly one toolset as
 * `switchyard://toolsets` publishes them, the schema snapshots and the README table (its toolset column read from
 * that resource), the byte budget, every tool titled and every input described and bounded. Returns the listing
 * (read once) for the file's own, server-specific checks. `--read-only` on every server: test/read-only.test.ts.
 */
export function contractSuite(options: ContractOptions): () => Promise<ContractListing> {
  const folder = tempDir('switchyard-contract-');
  let listing: Promise<ContractListing> | undefined;
  const load = () => (listing ??= listContract(options, folder.path));

  describe('the tools/list contract', () => {
    let c: ContractListing;
    beforeAll(async () => {
      c = await load();
    });
    afterAll(() => folder.cleanup());

    it('serves every tool of every toolset, each tool in exactly one, as switchyard://toolsets says', () => {
      const declared = c.toolsets.flatMap((set) => set.tools);
      expect(new Set(declared).size, 'a tool in two toolsets').toBe(declared.length);
      expect(c.tools.map((t) => t.name).sort()).toEqual([...declared].sort());
      expect(c.toolsets.flatMap((set) => set.served)).toEqual(declared);
      for (const set of c.toolsets) {
        expect(set.tools.length, `toolset ${set.id} is empty`).toBeGreaterThan(0);
        expect(set.description, set.id).toBeTruthy();
      }
    });

    it('matches the schema snapshots and the README tool table', () => {
      expect(compareToolSnapshots(c.tools, join(options.packageDir, 'test', '__toolsnaps__'))).toEqual([]);
      expect(
        checkReadmeToolTable(join(options.packageDir, 'README.md'), renderToolTable(c.tools, c.toolsetOf)),
      ).toBeUndefined();
    });

    it('stays within its tools/list budget, every tool titled, every input described and bounded', () => {
      expect(Buffer.byteLength(JSON.stringify({ tools: c.tools }))).toBeLessThanOrEqual(
        options.budget ?? 16 * 1024,
      );
      for (const tool of c.tools) {
        expect(tool.name).toMatch(options.names);
        expect(tool.title, tool.name).toBeTruthy();
        expect(tool.description!.length, tool.name).toBeGreaterThan(20);
        const schema = tool.inputSchema as {
          properties?: Record<string, Record<string, unknown>>;
          additionalProperties?: boolean;
        };
        expect(schema.additionalProperties, `${tool.name} takes unknown arguments`).toBe(false);
        for (const [field, spec] of Object.entries(schema.properties ?? {})) {
          expect(spec.description, `${tool.name}.${field}`).toBeTruthy();
          if (!options.unbounded?.includes(field))
            expect(bounded(spec), `${tool.name}.${field} has no bound`).toBe(true);
          const items = spec.items as Record<string, unknown> | undefined;
          if (items?.type === 'string')
            expect(bounded(items), `${tool.name}.${field} items have no bound`).toBe(true);
        }
      }
    });

    if (options.inspector) {
      it.each(['legacy', 'modern'] as const)(
        'lists the same tools through the MCP Inspector CLI 2.x, %s era',
        async (era) => {
          const env: Record<string, string> = {
            SWITCHYARD_CONFIG_DIR: folder.path,
            SWITCHYARD_DATA_DIR: folder.path,
            SWITCHYARD_KEYCHAIN: 'off',
            ...(process.env.NODE_EXTRA_CA_CERTS
              ? { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS }
              : {}),
            ...options.env,
          };
          const run = await runInspector(
            ['node', options.bin, ...(options.args ?? [])],
            ['--method', 'tools/list'],
            { env, era },
          );
          expect(run.code, run.stderr).toBe(0);
          const listed = JSON.parse(run.stdout) as { tools: ListedTool[] };
          // The same tools, in the same order, with the same schemas in either era.
          expect(listed.tools).toEqual(c.tools);
        },
      );
    }
  });
  return load;
}
