import type { AzureToken } from './azure.js';
import { z } from 'zod';
import type { Logger } from './log.js';
import { resumable, type Resumable } from './cursor.js';
import { DEFAULT_RESULT_BYTES, MAX_RESULT_BYTES } from './wire.js';

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

/** The user a request over HTTP was signed in as. */
export interface Caller {
  /** `user:<tenant id>:<object id>`. */
  id: string;
  username: string | undefined;
  token(scopes: string[], forceRefresh?: boolean): Promise<AzureToken>;
}

/** What a tool handler gets besides its arguments. */
export interface ToolContext {
  /** Fires when the caller cancels the request; pass it down to every I/O call. */
  signal: AbortSignal;
  log: Logger;
  /**
   * Over HTTP with per-user sign-in: the signed-in user, and `token(scopes)` for a downstream API as that user (the
   * on-behalf-of exchange with the server's own app credential; the user's own token is never sent on). Undefined
   * on stdio and for a key: the server's own sign-in applies.
   */
  caller?: Caller;
  /**
   * Who is calling, as the audit log names them: `os:<user>` on stdio, `key` for the HTTP key, `user:<tenant>:<oid>`
   * for a user signed in over HTTP, `anonymous` on an open loopback HTTP port. What a server maps to its own scopes
   * (the lakehouse's tenant per caller).
   */
  principal: string;
  /** Send an MCP progress notification (a no-op when the caller asked for none). */
  progress(progress: number, total?: number, message?: string): Promise<void>;
  /** Ask the host's model for text (MCP sampling); undefined when the client does not support it. */
  sample: ((request: SamplingRequest) => Promise<string>) | undefined;
  /** When `sample` is undefined: why, in words a model relays (the host lacks sampling, or the session's era). */
  sampleUnavailable?: string;
  /**
   * For a tool whose input has a `cursor`: the `next_cursor` that resumes this very request (see core's cursor.ts);
   * the handler's `cursor` argument is then the position to resume from.
   */
  nextCursor?: Resumable['nextCursor'];
}

/**
 * What a handler returns: the text the model reads (rows and bodies travel here once, as compact fenced text), and
 * `data`, the tool's `structuredContent`: small control data a host or model acts on (ids, counts, `truncated`, a
 * cursor, a spill file), never a second copy of the rows or bodies in the text.
 */
export interface ToolReply<Data = Record<string, unknown>> {
  text: string;
  data?: Data;
  /** How to get the rest if core has to cut this answer to the tool's byte cap (a cursor, a narrower query). */
  more?: string;
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
  /** The id of the toolset it belongs to (a toolset the server declares with `defineToolset`), for `--toolsets`. */
  toolset: string;
  input: I;
  output?: O;
  annotations: ToolAnnotations;
  /**
   * The most bytes the whole serialized result may take (text, structuredContent, links). Default: the `max_bytes`
   * argument when the tool takes one, else {@link DEFAULT_RESULT_BYTES}; never above {@link MAX_RESULT_BYTES}.
   */
  maxBytes?: number | ((args: Args<I>) => number);
  /**
   * Other names the tool accepts for its arguments (`{ dax_query: 'query' }`), for callers written against another
   * server. Not shown in tools/list; an alias is renamed before the input is checked.
   */
  aliases?: Readonly<Record<string, keyof I & string>>;
  /**
   * For what cannot be taken back (sending mail, sharing, deleting): what the user is asked before the handler
   * runs, when the client supports elicitation and confirmations are on (see {@link Confirmation}). Undefined
   * for a call that needs no question (a draft, a dry run).
   */
  confirm?: (
    args: Args<I>,
    ctx: ToolContext,
  ) => Confirmation<Data<O>> | undefined | Promise<Confirmation<Data<O>> | undefined>;
  /**
   * For work that may run long (a sync, an upload, a refresh followed to its end): whether this call runs as an MCP
   * task when the client declares the tasks extension (see core's tasks.ts). The call's answer is then a task handle;
   * the client polls for the same result. Without the extension the call runs as always.
   */
  task?: boolean | ((args: Args<I>) => boolean | Promise<boolean>);
  handler: (args: Args<I>, ctx: ToolContext) => Promise<ToolReply<Data<O>>>;
}

/**
 * A question put to the user (not the model) through MCP elicitation before a tool does what cannot be undone.
 * The message shows what will happen: recipients, subject and first lines; the record and its fields. It never
 * asks for a secret (the MCP specification forbids it): the only answer is go ahead or not.
 */
export interface Confirmation<Data = Record<string, unknown>> {
  /** What will happen, in a few short lines, for the person at the keyboard. */
  message: string;
  /** The answer when the user declines: an ordinary result saying nothing was done (it matches the output schema). */
  declined: ToolReply<Data>;
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
  /** The byte cap of this call's whole result (see {@link ToolSpec.maxBytes}). */
  readonly maxBytes: (args: Record<string, unknown>) => number;
  readonly aliases: Readonly<Record<string, string>>;
  readonly confirm:
    | ((
        args: Record<string, unknown>,
        ctx: ToolContext,
      ) => Confirmation | undefined | Promise<Confirmation | undefined>)
    | undefined;
  /** Whether this call may run as an MCP task (see {@link ToolSpec.task}). */
  readonly task: ((args: Record<string, unknown>) => boolean | Promise<boolean>) | undefined;
  readonly handler: (args: Record<string, unknown>, ctx: ToolContext) => Promise<ToolReply>;
}

const NAME = /^[a-z][a-z0-9]*(_[a-z0-9]+)+$/;

/** Declare a tool as data. Core registers it, validates its input and shapes its result. */
export function defineTool<I extends Shape, O extends Shape | undefined = undefined>(
  spec: ToolSpec<I, O>,
): ToolDefinition {
  if (!NAME.test(spec.name))
    throw new Error(`Tool name '${spec.name}' is not <server>_<verb>_<noun> snake_case`);
  const inputSchema = z.strictObject(spec.input);
  // A paging tool's cursor carries its whole request: core opens it before the handler runs.
  const handler =
    'cursor' in spec.input ? resumable(spec.input, inputSchema, spec.handler, spec.name) : spec.handler;
  return {
    name: spec.name,
    title: spec.title,
    description: spec.description,
    toolset: spec.toolset,
    annotations: spec.annotations,
    inputSchema,
    outputSchema: spec.output ? z.object(spec.output) : undefined,
    maxBytes: (args) => {
      const declared =
        typeof spec.maxBytes === 'function'
          ? spec.maxBytes(args as Args<I>)
          : (spec.maxBytes ?? (typeof args.max_bytes === 'number' ? args.max_bytes : DEFAULT_RESULT_BYTES));
      return Math.min(declared, MAX_RESULT_BYTES);
    },
    aliases: spec.aliases ?? {},
    confirm: spec.confirm as unknown as ToolDefinition['confirm'],
    task:
      spec.task === undefined || spec.task === false
        ? undefined
        : spec.task === true
          ? () => true
          : (spec.task as unknown as ToolDefinition['task']),
    handler: handler as unknown as ToolDefinition['handler'],
  };
}

/**
 * Arguments renamed from their aliases to the names the schema knows. An alias given beside its own name is left
 * as it is, so the schema refuses it as an unknown argument rather than one silently winning.
 */
export function resolveAliases(
  args: Record<string, unknown>,
  aliases: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    const name = Object.hasOwn(aliases, key) ? aliases[key]! : key;
    out[name !== key && !Object.hasOwn(args, name) ? name : key] = value;
  }
  return out;
}

/** The `max_bytes` argument every tool that takes one declares: bounded so no answer outgrows what a host reads. */
export function maxBytesArg(defaultBytes = 32_768): z.ZodDefault<z.ZodNumber> {
  return z
    .number()
    .int()
    .min(1024)
    .max(MAX_RESULT_BYTES)
    .default(defaultBytes)
    .describe('Most bytes of the whole answer.');
}
