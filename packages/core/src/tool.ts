import { z } from 'zod';
import type { Logger } from './log.js';
import { UserInputError } from './errors.js';

/** Hints a host uses to decide how careful to be with a tool. Read-only mode is decided by `readOnlyHint` alone. */
export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

/** A request to the host's own model (MCP sampling). Only present when the client supports sampling. */
export interface SamplingRequest {
  system?: string;
  prompt: string;
  maxTokens: number;
  temperature?: number;
}

/** What a tool handler gets besides its arguments. */
export interface ToolContext {
  /** Fires when the caller cancels the request; pass it down to every I/O call. */
  signal: AbortSignal;
  log: Logger;
  /** Send an MCP progress notification (a no-op when the caller asked for none). */
  progress(progress: number, total?: number, message?: string): Promise<void>;
  /** Ask the host's model for text (MCP sampling); undefined when the client does not support it. */
  sample: ((request: SamplingRequest) => Promise<string>) | undefined;
}

/** What a handler returns: compact text for the model, and the same data as `structuredContent`. */
export interface ToolReply<Data = Record<string, unknown>> {
  text: string;
  data?: Data;
}

type Shape = z.ZodRawShape;
type Args<I extends Shape> = z.output<z.ZodObject<I>>;
type Data<O extends Shape | undefined> = O extends Shape ? z.input<z.ZodObject<O>> : Record<string, unknown>;

export interface ToolSpec<I extends Shape, O extends Shape | undefined> {
  /** `<server>_<verb>_<noun>` in snake_case. */
  name: string;
  title: string;
  /** When to use it, what it returns, what it costs: written for a model. */
  description: string;
  /** The toolset (area) it belongs to, for `--toolsets`. */
  toolset: string;
  input: I;
  output?: O;
  annotations: ToolAnnotations;
  handler: (args: Args<I>, ctx: ToolContext) => Promise<ToolReply<Data<O>>>;
}

/** A tool as core holds it: data plus a handler, with its schemas built once. */
export interface ToolDefinition {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly toolset: string;
  readonly annotations: ToolAnnotations;
  readonly inputSchema: z.ZodObject<Shape>;
  readonly outputSchema: z.ZodObject<Shape> | undefined;
  readonly handler: (args: Record<string, unknown>, ctx: ToolContext) => Promise<ToolReply>;
}

const NAME = /^[a-z][a-z0-9]*(_[a-z0-9]+)+$/;

/** Declare a tool as data. Core registers it, validates its input and shapes its result. */
export function defineTool<I extends Shape, O extends Shape | undefined = undefined>(
  spec: ToolSpec<I, O>,
): ToolDefinition {
  if (!NAME.test(spec.name))
    throw new Error(`Tool name '${spec.name}' is not <server>_<verb>_<noun> snake_case`);
  return {
    name: spec.name,
    title: spec.title,
    description: spec.description,
    toolset: spec.toolset,
    annotations: spec.annotations,
    inputSchema: z.strictObject(spec.input),
    outputSchema: spec.output ? z.object(spec.output) : undefined,
    handler: spec.handler as unknown as ToolDefinition['handler'],
  };
}

/** How a server was asked to run: which tools it serves. */
export interface ModeOptions {
  toolsets?: string[] | undefined;
  tools?: string[] | undefined;
  readOnly?: boolean | undefined;
}

/**
 * Apply `--toolsets`, `--tools` and `--read-only`. With neither list every tool is served; with either,
 * the union of the named toolsets and the named tools. Read-only keeps only tools whose `readOnlyHint`
 * is true and wins over `--tools`. Unknown names are a start-up error that lists the known ones.
 */
export function selectTools(
  all: readonly ToolDefinition[],
  modes: ModeOptions,
  log?: Logger,
): ToolDefinition[] {
  const toolsets = [...new Set(all.map((t) => t.toolset))];
  const names = new Set(all.map((t) => t.name));
  const unknownSets = (modes.toolsets ?? []).filter((s) => !toolsets.includes(s));
  if (unknownSets.length > 0) {
    throw new UserInputError(
      `Unknown toolset${unknownSets.length > 1 ? 's' : ''} ${unknownSets.map((s) => `'${s}'`).join(', ')}; the toolsets are ${toolsets.join(', ')}`,
    );
  }
  const unknownTools = (modes.tools ?? []).filter((n) => !names.has(n));
  if (unknownTools.length > 0) {
    throw new UserInputError(
      `Unknown tool${unknownTools.length > 1 ? 's' : ''} ${unknownTools.map((s) => `'${s}'`).join(', ')}; the tools are ${[...names].join(', ')}`,
    );
  }
  const pickAll = !modes.toolsets?.length && !modes.tools?.length;
  const chosen = all.filter(
    (t) => pickAll || modes.toolsets?.includes(t.toolset) || modes.tools?.includes(t.name),
  );
  if (!modes.readOnly) return chosen;
  for (const t of chosen) {
    if (!t.annotations.readOnlyHint && modes.tools?.includes(t.name)) {
      log?.warn(`'${t.name}' changes data, so --read-only leaves it out although --tools names it`);
    }
  }
  return chosen.filter((t) => t.annotations.readOnlyHint);
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
