import type { ToolsetDefinition } from './toolset.js';

/**
 * What a session's opening says (the `initialize` and `server/discover` answers and the lists a host reads first),
 * computed in one place for both the full server (server.ts) and the quick start (quick-start.ts), which answers
 * the opening from build-time data before the server's code is loaded.
 */

/** A sentence of the instructions whose wording follows whether a toolset is served (Odoo: writes on or off). */
export interface ServedSentence {
  readonly serving: string;
  readonly yes: string;
  readonly no: string;
}

/**
 * Shown to the model once per session. Data, not a function, so that the quick start can word it from the modes
 * without the server's code: a string, or sentences joined by spaces, some of which follow what is served (an
 * empty one is left out).
 */
export type Instructions = string | readonly (string | ServedSentence)[];

export function renderInstructions(
  instructions: Instructions | undefined,
  served: { serves(toolsetId: string): boolean },
): string | undefined {
  if (instructions === undefined || typeof instructions === 'string') return instructions;
  return instructions
    .map((part) => (typeof part === 'string' ? part : served.serves(part.serving) ? part.yes : part.no))
    .filter((sentence) => sentence !== '')
    .join(' ');
}

/** The id of the MCP 2026-07-28 tasks extension (`io.modelcontextprotocol/tasks`). */
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

/** The server's capabilities: tools and resources always; prompts, completions and tasks when it has them. */
export function serverCapabilities(has: {
  prompts: boolean;
  completions: boolean;
  tasks: boolean;
}): Record<string, object> {
  const capabilities: Record<string, object> = { tools: {}, resources: {} };
  if (has.prompts) capabilities.prompts = {};
  if (has.completions) capabilities.completions = {};
  if (has.tasks) capabilities.extensions = { [TASKS_EXTENSION]: {} };
  return capabilities;
}

/**
 * How long a client may keep what the lists say (MCP 2026-07-28 `ttlMs`/`cacheScope`): the tools, prompts and
 * templates are fixed for the life of the process (the modes are read once at start), so an hour; resource lists
 * and reads hold the user's data, so the SDK's default stays for them (`ttlMs: 0`, `private`). Private throughout:
 * what a server serves follows its user's flags and credentials.
 */
export const CACHE_HINTS: Record<
  'tools/list' | 'prompts/list' | 'resources/templates/list' | 'server/discover',
  { ttlMs: number; cacheScope: 'private' | 'public' }
> = {
  'tools/list': { ttlMs: 3_600_000, cacheScope: 'private' },
  'prompts/list': { ttlMs: 3_600_000, cacheScope: 'private' },
  'resources/templates/list': { ttlMs: 3_600_000, cacheScope: 'private' },
  'server/discover': { ttlMs: 3_600_000, cacheScope: 'private' },
};

/**
 * The `tools/list` entries of a server's bundle, written at build time beside `main.js` (`dist/tools-list.json`,
 * every tool of the server, keyed by name; see tool-catalog.ts).
 */
export const TOOLS_LIST_FILE = 'tools-list.json';

/** The file beside a server's bundle that the quick start answers from (written by scripts/tools-list.mjs). */
export const OPENING_FILE = 'opening.json';

/** The key of an option's value: `--allow-writes` → `allowWrites`, `--no-confirm` → `confirm` (as commander names it). */
export function optionKey(flags: string): string {
  const long = /--([a-z0-9-]+)/i.exec(flags)?.[1] ?? flags;
  return long.replace(/^no-/, '').replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/** A command-line option as data (core's CliOption without what only commander needs). */
export interface OpeningOption {
  flags: string;
  env?: string | undefined;
  fallbackEnv?: string | undefined;
  choices?: string[] | undefined;
  list?: boolean | undefined;
  /** Its value changes what the opening says: a start that sets it is left to the full server. */
  shapesOpening?: boolean | undefined;
}

/**
 * What `<server> opening-data` prints at build time: the server's opening as data, for every mode. The lists'
 * answers in each era (prompts, resource templates) and the protocol versions are added by the build from the
 * server's own answers.
 */
export interface OpeningData {
  server: { name: string; version: string; title?: string };
  instructions?: Instructions;
  envPrefix: string;
  /** Every option the command line takes before a command, the opt-in switches included. */
  options: OpeningOption[];
  /** The opt-in toolsets' switches: toolset id → the option that turns it on. */
  switches: { id: string; flags: string }[];
  toolsets: ToolsetDefinition[];
  /** Every tool, in the server's order, with what the modes and the capabilities read. */
  tools: { name: string; toolset: string; readOnlyHint: boolean; task: boolean }[];
  prompts: boolean;
  completions: boolean;
  /** No resource enumerates what it holds (`list`): `resources/list` is then the same in every session. */
  staticResources: boolean;
  /** The protocol versions the server speaks: `initialize` (2025-11-25 and earlier), and the per-request envelope. */
  versions?: { legacy: string[]; modern: string[] };
  /** The answers to these methods, as the full server gave them at build time, per era. */
  lists?: { legacy: Record<string, unknown>; modern: Record<string, unknown> };
}
