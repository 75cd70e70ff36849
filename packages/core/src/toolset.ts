import { UserInputError } from './errors.js';
import type { Logger } from './log.js';
import type { ToolDefinition } from './tool.js';

/**
 * The flag that switches an opt-in toolset on (Odoo's `--allow-writes`). Core adds it to the command line, with its
 * environment variable, and names both when a toolset that is off is asked for.
 */
export interface ToolsetSwitch {
  /** A boolean flag, e.g. `--allow-writes`. */
  flags: string;
  /** The `--help` line. */
  description: string;
  /** The environment variable read when the flag is absent (`1`, `true`, `yes` or `on` turns it on). */
  env: string;
  /** What the switch turns on, as a plural subject for sentences: `Odoo writes` ("… are off by default"). */
  what: string;
}

export interface ToolsetSpec {
  /** The name `--toolsets` takes, e.g. `mail`. */
  id: string;
  /** What its tools are for, in a line (published in the toolsets resource). */
  description: string;
  /** Served when neither `--toolsets` nor `--tools` is given. Default true. */
  default?: boolean;
  /**
   * The switch that makes an opt-in toolset available: without it, its tools are not served and naming them
   * (`--toolsets`, `--tools`) is a start-up error that says which flag turns them on; with it, they are served by
   * default like any other toolset.
   */
  enabledBy?: ToolsetSwitch;
}

/** A toolset as core holds it: data that docs, tests and the toolsets resource read. */
export interface ToolsetDefinition {
  readonly id: string;
  readonly description: string;
  readonly default: boolean;
  readonly enabledBy: ToolsetSwitch | undefined;
}

const ID = /^[a-z][a-z0-9-]*$/;

/** Declare a toolset as data: the grouping `--toolsets` selects, and whether it is on by default or behind a flag. */
export function defineToolset(spec: ToolsetSpec): ToolsetDefinition {
  if (!ID.test(spec.id)) throw new Error(`Toolset id '${spec.id}' is not lower-case letters, digits and -`);
  return {
    id: spec.id,
    description: spec.description,
    default: spec.default ?? true,
    enabledBy: spec.enabledBy,
  };
}

/** How a server was asked to run: which tools it serves. */
export interface ModeOptions {
  toolsets?: string[] | undefined;
  tools?: string[] | undefined;
  readOnly?: boolean | undefined;
  /** The opt-in toolsets whose switch (`enabledBy`) was given. */
  enabled?: string[] | undefined;
  /** The server's env prefix (`ODOO`), to name its `_READ_ONLY` variable in messages. */
  envPrefix?: string | undefined;
  /** Ask the user before what cannot be undone, where the client supports elicitation (default true). */
  confirm?: boolean | undefined;
}

/** What a server serves once core has applied the modes: handed to the server, never worked out twice. */
export interface ServedModes {
  /** The tools served, in the order the server declares them. */
  readonly tools: readonly ToolDefinition[];
  /** Every toolset the server declares, served or not. */
  readonly toolsets: readonly ToolsetDefinition[];
  readonly readOnly: boolean;
  /** Whether tools that declare a confirmation ask the user first (`--no-confirm` turns it off). */
  readonly confirm: boolean;
  /** Whether at least one tool of the toolset is served. */
  serves(toolsetId: string): boolean;
}

/**
 * Apply `--toolsets`, `--tools`, `--read-only` and the opt-in switches. With neither list every tool of a toolset
 * that is on (by default, or by its switch) is served; with either, the union of the named toolsets and the named
 * tools. Read-only keeps only tools whose `readOnlyHint` is true and wins over `--tools`. Unknown names, and names
 * of an opt-in toolset that cannot be served, are start-up errors that say what to do.
 */
export function resolveModes(
  tools: readonly ToolDefinition[],
  toolsets: readonly ToolsetDefinition[],
  modes: ModeOptions,
  log?: Logger,
): ServedModes {
  const byId = new Map(toolsets.map((s) => [s.id, s]));
  for (const t of tools) {
    if (!byId.has(t.toolset))
      throw new Error(`Tool '${t.name}' names toolset '${t.toolset}', which the server does not declare`);
  }
  const ids = toolsets.map((s) => s.id);
  const names = new Set(tools.map((t) => t.name));
  const unknownSets = (modes.toolsets ?? []).filter((s) => !byId.has(s));
  if (unknownSets.length > 0) {
    throw new UserInputError(
      `Unknown toolset${unknownSets.length > 1 ? 's' : ''} ${unknownSets.map((s) => `'${s}'`).join(', ')}; the toolsets are ${ids.join(', ')}`,
    );
  }
  const unknownTools = (modes.tools ?? []).filter((n) => !names.has(n));
  if (unknownTools.length > 0) {
    throw new UserInputError(
      `Unknown tool${unknownTools.length > 1 ? 's' : ''} ${unknownTools.map((s) => `'${s}'`).join(', ')}; the tools are ${[...names].join(', ')}`,
    );
  }
  for (const set of toolsets) if (set.enabledBy) refuseUnservable(set, tools, modes);

  const available = (t: ToolDefinition) => {
    const set = byId.get(t.toolset)!;
    return !set.enabledBy || (modes.enabled ?? []).includes(set.id);
  };
  const pickAll = !modes.toolsets?.length && !modes.tools?.length;
  const chosen = tools.filter(
    (t) =>
      available(t) &&
      (pickAll
        ? byId.get(t.toolset)!.default || byId.get(t.toolset)!.enabledBy
        : modes.toolsets?.includes(t.toolset) || modes.tools?.includes(t.name)),
  );
  if (modes.readOnly) {
    for (const t of chosen) {
      if (!t.annotations.readOnlyHint && modes.tools?.includes(t.name)) {
        log?.warn(`'${t.name}' changes data, so --read-only leaves it out although --tools names it`);
      }
    }
  }
  const served = modes.readOnly ? chosen.filter((t) => t.annotations.readOnlyHint) : chosen;
  const servedSets = new Set(served.map((t) => t.toolset));
  for (const set of toolsets) {
    if (set.enabledBy && servedSets.has(set.id)) {
      const list = served.filter((t) => t.toolset === set.id).map((t) => t.name);
      log?.warn(`${set.enabledBy.what} are enabled: ${list.join(', ')}`);
    }
  }
  return {
    tools: served,
    toolsets,
    readOnly: modes.readOnly === true,
    confirm: modes.confirm !== false,
    serves: (id) => servedSets.has(id),
  };
}

/** An opt-in toolset named on the command line that its switch, or --read-only, keeps from being served. */
function refuseUnservable(
  set: ToolsetDefinition,
  tools: readonly ToolDefinition[],
  modes: ModeOptions,
): void {
  const own = tools.filter((t) => t.toolset === set.id);
  const asked = [
    ...(modes.toolsets?.includes(set.id) ? [`--toolsets ${set.id}`] : []),
    ...(modes.tools ?? []).filter((n) => own.some((t) => t.name === n)).map((n) => `--tools ${n}`),
  ];
  if (asked.length === 0) return;
  const flag = set.enabledBy!;
  const askedTools = own.filter((t) => modes.toolsets?.includes(set.id) || modes.tools?.includes(t.name));
  if (modes.readOnly && askedTools.every((t) => !t.annotations.readOnlyHint)) {
    const env = modes.envPrefix ? ` (and ${modes.envPrefix}_READ_ONLY)` : '';
    throw new UserInputError(
      `${asked.join(' and ')} asks for ${set.id} tools, but --read-only is set and always wins, so none can be served`,
      { hint: `Remove --read-only${env} and add ${flag.flags} to serve them` },
    );
  }
  if (!(modes.enabled ?? []).includes(set.id)) {
    throw new UserInputError(
      `${asked.join(' and ')} asks for ${set.id} tools, but ${flag.what} are off by default`,
      {
        hint: `Add ${flag.flags} (or set ${flag.env}=1) to serve ${own.map((t) => t.name).join(', ')}`,
      },
    );
  }
}

/** Split "a, b,c" into ["a","b","c"]; undefined for an empty value. */
export function parseList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return items.length > 0 ? items : undefined;
}
