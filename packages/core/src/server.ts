import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { UriTemplate } from '@modelcontextprotocol/sdk/shared/uriTemplate.js';
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  ErrorCode,
  GetPromptRequestSchema,
  InitializeRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type CallToolResult,
  type JSONRPCRequest,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { CancelledError, errorText, isSwitchyardError } from './errors.js';
import { cleanStructured } from './untrusted.js';
import type { Logger } from './log.js';
import { redact, redactSecrets, redactValue } from './redact.js';
import { StdioLineTransport } from './stdio.js';
import type { PromptDefinition, ResourceDefinition } from './resource.js';
import { DEFAULT_RESULT_BYTES, fitResult } from './wire.js';
import { resolveAliases, type ToolContext, type ToolDefinition } from './tool.js';
import { resolveModes, type ModeOptions, type ServedModes, type ToolsetDefinition } from './toolset.js';

/** Everything a server is: its identity, its tools (all of them; modes pick), resources and prompts. */
export interface ServerDefinition {
  name: string;
  version: string;
  title?: string;
  /**
   * Shown to the model once per session: what this server is for and how its tools fit together. A function gets
   * what the modes serve (Odoo says whether writes are on).
   */
  instructions?: string | ((served: ServedModes) => string);
  /** Every toolset the tools name; core publishes them, with their tools, in the `switchyard://toolsets` resource. */
  toolsets: readonly ToolsetDefinition[];
  tools: ToolDefinition[];
  /** Told once what the modes serve, before anything is answered (ms365's sign-in scopes follow the served tools). */
  serving?: (served: ServedModes) => void;
  resources?: ResourceDefinition[];
  prompts?: PromptDefinition[];
  /** Release what the server holds (database handles, timers) before the process exits. */
  close?: () => Promise<void> | void;
}

/** JSON Schema for a zod object as `tools/list` shows it: compact, no `$schema`. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Tool['inputSchema'] {
  const json = z.toJSONSchema(schema, { io, target: 'draft-7', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  delete json.$schema;
  // An output schema describes what the server promises to send; the server checks it before sending, and a
  // client has no use for `additionalProperties: false` there, which costs ~30 bytes per object in tools/list.
  if (io === 'output') dropClosedObjects(json);
  return json as Tool['inputSchema'];
}

function dropClosedObjects(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) dropClosedObjects(item);
  } else if (node && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    if (record.additionalProperties === false) delete record.additionalProperties;
    for (const value of Object.values(record)) dropClosedObjects(value);
  }
}

/** The `tools/list` entry of a tool. */
export function describeTool(tool: ToolDefinition): Tool {
  const entry: Tool = {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: jsonSchemaOf(tool.inputSchema, 'input'),
    annotations: tool.annotations,
  };
  if (tool.outputSchema) entry.outputSchema = jsonSchemaOf(tool.outputSchema, 'output');
  return entry;
}

/** What zod expected, in words a model reads: `number` → "a number", `int` → "a whole number". */
const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  bigint: 'a whole number',
  boolean: 'true or false',
  array: 'an array',
  object: 'an object',
  record: 'an object',
  date: 'a date',
  null: 'null',
};

/** What was given instead, by its JSON type and a short preview: `the string "lots"`, `the number 5`. */
export function describeGiven(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'object') return 'an object';
  const preview = JSON.stringify(value) ?? String(value);
  const short = preview.length > 40 ? `${preview.slice(0, 39)}…"` : preview;
  if (typeof value === 'string') return `the string ${short}`;
  if (typeof value === 'number') return `the number ${short}`;
  if (typeof value === 'boolean') return `${short}`;
  return typeof value;
}

/** The value at a zod path inside the raw input; `absent` when a step of the path is not there. */
function valueAt(input: unknown, path: readonly PropertyKey[]): { absent: boolean; value?: unknown } {
  let node: unknown = input;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return { absent: true };
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node === undefined ? { absent: true } : { absent: false, value: node };
}

/**
 * The wrong fields of a zod error, each in a few words: `'id' is required`, `'limit' must be a number, not the
 * string "lots"`, `unknown argument 'limt'`. Zod 4 leaves the input out of its issues, so the value is read from
 * the arguments themselves: only a field that is truly absent is called required.
 */
function issueList(error: { issues: readonly z.core.$ZodIssue[] }, input: unknown): string {
  const parts = error.issues.slice(0, 5).map((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys')
      return `unknown argument${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    const at = valueAt(input, issue.path);
    if (issue.code === 'invalid_type') {
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      if (at.absent) return path ? `'${path}' is required` : `${expected} is required`;
      return `${path ? `'${path}'` : 'the arguments'} must be ${expected}, not ${describeGiven(at.value)}`;
    }
    const given = !at.absent && issue.code === 'invalid_value' ? `, not ${describeGiven(at.value)}` : '';
    return path ? `'${path}': ${issue.message}${given}` : `${issue.message}${given}`;
  });
  const more = error.issues.length > 5 ? `; and ${error.issues.length - 5} more` : '';
  return `${parts.join('; ')}${more}`;
}

/** One sentence naming each wrong argument and what is wrong with it. */
export function describeInputIssues(toolName: string, error: z.ZodError, input?: unknown): string {
  return `Invalid arguments for ${toolName}: ${issueList(error, input)}. Check the tool's input schema and call it again.`;
}

/** The sentence of a `-32602 Invalid params` answer to a request whose params break the MCP schema. */
export function describeRequestIssues(
  method: string,
  error: { issues: readonly z.core.$ZodIssue[] },
  request?: unknown,
): string {
  return `Invalid params for ${method}: ${issueList(error, request)}; see the MCP specification of ${method}.`;
}

function shortId(): string {
  return randomBytes(4).toString('hex');
}

/** Turn any thrown value into an `isError` result; unexpected ones get an id that is logged with the stack. */
export function errorResult(err: unknown, log: Logger, toolName: string): CallToolResult {
  let text: string;
  if (isSwitchyardError(err)) {
    text = errorText(err);
    log.debug(`${toolName} answered with ${err.name}`, { message: err.message });
  } else {
    const id = shortId();
    log.error(
      `unexpected error ${id} in ${toolName}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
    text = `${toolName} failed with an unexpected error (id ${id}); the details are in the server's log. Try again, and report the id if it persists.`;
  }
  return { isError: true, content: [{ type: 'text', text: redact(text) }] };
}

export interface ServeOptions {
  modes: ModeOptions;
  log: Logger;
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
}

/**
 * Apply the modes to a server, once: core resolves them (see {@link resolveModes}) and tells the server what it
 * serves. `serveStdio` calls it; a CLI command that needs the served tools without serving (ms365's `login`) too.
 */
export function applyModes(def: ServerDefinition, modes: ModeOptions, log?: Logger): ServedModes {
  const served = resolveModes(def.tools, def.toolsets, modes, log);
  def.serving?.(served);
  return served;
}

export interface RunningServer {
  tools: readonly ToolDefinition[];
  /** Resolves when shutting down begins (the client closed stdin, or close() was called). */
  stopping: Promise<void>;
  /** Resolves when the server has shut down and released its resources. */
  closed: Promise<void>;
  close(): Promise<void>;
}

/** Build the MCP server from its definition (after applying modes) and serve it over stdio. */
export async function serveStdio(def: ServerDefinition, options: ServeOptions): Promise<RunningServer> {
  const { log } = options;
  const served = applyModes(def, options.modes, log);
  const tools = served.tools;
  const server = buildServer(def, served, log);
  const transport = new StdioLineTransport({
    log,
    screen: screenRequest,
    ...(options.stdin ? { stdin: options.stdin } : {}),
    ...(options.stdout ? { stdout: options.stdout } : {}),
  });
  transport.onerror = (error) => log.warn(`stdin failed: ${error.message.slice(0, 200)}`);

  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  let resolveStopping!: () => void;
  const stopping = new Promise<void>((resolve) => (resolveStopping = resolve));
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      resolveStopping();
      try {
        await def.close?.();
      } catch (err) {
        log.warn(`error while releasing resources: ${err instanceof Error ? err.message : String(err)}`);
      }
      await server.close().catch(() => {});
      resolveClosed();
    })());

  await server.connect(transport);
  const stdin = options.stdin ?? process.stdin;
  stdin.once('end', () => void close());
  stdin.once('close', () => void close());
  server.onclose = () => void close();
  log.info(`${def.name} ${def.version} serving ${tools.length} tools over stdio`);
  return { tools, stopping, closed, close };
}

/**
 * The MCP schema of each request a server answers. A request whose params break it is answered `-32602 Invalid
 * params` with one sentence before it reaches the SDK, which would answer `-32603` with a raw zod dump.
 */
interface RequestSchema {
  safeParse(value: unknown): { success: boolean; error?: { issues: readonly z.core.$ZodIssue[] } };
}

const REQUEST_SCHEMAS = new Map<string, RequestSchema>(
  [
    InitializeRequestSchema,
    ListToolsRequestSchema,
    CallToolRequestSchema,
    ListResourcesRequestSchema,
    ListResourceTemplatesRequestSchema,
    ReadResourceRequestSchema,
    ListPromptsRequestSchema,
    GetPromptRequestSchema,
    CompleteRequestSchema,
  ].map((schema): [string, RequestSchema] => [schema.shape.method.value, schema]),
);

function screenRequest(request: JSONRPCRequest): string | undefined {
  const parsed = REQUEST_SCHEMAS.get(request.method)?.safeParse(request);
  return parsed?.error && !parsed.success
    ? describeRequestIssues(request.method, parsed.error, request)
    : undefined;
}

/** The URI of the resource where every server publishes its toolsets and their tools. */
export const TOOLSETS_URI = 'switchyard://toolsets';

/**
 * What `switchyard://toolsets` holds: each toolset as data, the tools it declares and those the modes serve. It is
 * published once here rather than in each tool's `_meta`, which would take tools/list past its 16 KB budget.
 */
export interface PublishedToolset {
  id: string;
  description: string;
  default: boolean;
  /** The flag that turns an opt-in toolset on. */
  enabled_by?: string;
  tools: string[];
  served: string[];
}

export function publishedToolsets(def: ServerDefinition, served: ServedModes): PublishedToolset[] {
  const servedNames = new Set(served.tools.map((t) => t.name));
  return def.toolsets.map((set) => {
    const own = def.tools.filter((t) => t.toolset === set.id).map((t) => t.name);
    return {
      id: set.id,
      description: set.description,
      default: set.default,
      ...(set.enabledBy ? { enabled_by: set.enabledBy.flags } : {}),
      tools: own,
      served: own.filter((n) => servedNames.has(n)),
    };
  });
}

function toolsetsResource(def: ServerDefinition, served: ServedModes): ResourceDefinition {
  const text = JSON.stringify({ toolsets: publishedToolsets(def, served) });
  return {
    name: 'toolsets',
    title: 'Toolsets',
    description: `The toolsets of ${def.name} (what --toolsets selects), the tools of each, and which are served.`,
    uriTemplate: TOOLSETS_URI,
    mimeType: 'application/json',
    read: async () => ({ text }),
  };
}

function buildServer(def: ServerDefinition, served: ServedModes, log: Logger): Server {
  const tools = served.tools;
  const resources = [...(def.resources ?? []), toolsetsResource(def, served)];
  const prompts = def.prompts ?? [];
  const capabilities: Record<string, object> = { tools: {}, resources: {} };
  if (prompts.length > 0) capabilities.prompts = {};
  if (resources.some((r) => r.complete)) capabilities.completions = {};
  const instructions = typeof def.instructions === 'function' ? def.instructions(served) : def.instructions;
  const server = new Server(
    { name: def.name, version: def.version, ...(def.title ? { title: def.title } : {}) },
    { capabilities, ...(instructions ? { instructions } : {}) },
  );
  const byName = new Map(tools.map((t) => [t.name, t]));
  let listed: Tool[] | undefined;

  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: (listed ??= tools.map(describeTool)) }));

  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const tool = byName.get(request.params.name);
    if (!tool) {
      throw new McpError(
        ErrorCode.InvalidParams,
        `Unknown tool '${request.params.name}'; this server serves ${[...byName.keys()].join(', ')}`,
      );
    }
    const toolLog = log.child(tool.name);
    const args = resolveAliases(request.params.arguments ?? {}, tool.aliases);
    const parsed = tool.inputSchema.safeParse(args);
    if (!parsed.success) {
      return fitResult(
        {
          isError: true,
          content: [{ type: 'text', text: describeInputIssues(tool.name, parsed.error, args) }],
        },
        { cap: DEFAULT_RESULT_BYTES },
      );
    }
    const cap = tool.maxBytes(parsed.data as Record<string, unknown>);
    const progressToken = request.params._meta?.progressToken;
    const clientCaps = server.getClientCapabilities();
    const ctx: ToolContext = {
      signal: extra.signal,
      log: toolLog,
      progress: async (progress, total, message) => {
        if (progressToken === undefined || extra.signal.aborted) return;
        await extra
          .sendNotification({
            method: 'notifications/progress',
            params: {
              progressToken,
              progress,
              ...(total !== undefined ? { total } : {}),
              ...(message ? { message } : {}),
            },
          })
          .catch((err: unknown) => toolLog.debug(`progress notification not sent: ${String(err)}`));
      },
      sample: clientCaps?.sampling
        ? async ({ system, prompt, maxTokens, temperature }) => {
            const result = await server.createMessage(
              {
                messages: [{ role: 'user', content: { type: 'text', text: prompt } }],
                maxTokens,
                ...(system ? { systemPrompt: system } : {}),
                ...(temperature !== undefined ? { temperature } : {}),
              },
              { signal: extra.signal },
            );
            return result.content.type === 'text' ? result.content.text : '';
          }
        : undefined,
    };
    const started = performance.now();
    toolLog.debug('started');
    try {
      const reply = await tool.handler(parsed.data as Record<string, unknown>, ctx);
      if (extra.signal.aborted) throw new CancelledError();
      const result: CallToolResult = { content: [{ type: 'text', text: redactSecrets(reply.text) }] };
      if (tool.outputSchema) {
        const checked = tool.outputSchema.safeParse(reply.data);
        if (!checked.success) {
          throw new Error(`structured result does not match the output schema: ${checked.error.message}`);
        }
        // Rule 7 for the structured copy: the same cleaning as fenced text (see docs/architecture.md).
        result.structuredContent = redactValue(
          cleanStructured(reply.data as Record<string, unknown>),
          redactSecrets,
        );
      }
      toolLog.debug(`done in ${(performance.now() - started).toFixed(1)} ms`);
      // Rule 6: the whole answer within the tool's cap, cut the same way in text and structure if it is not.
      return fitResult(result, { cap, more: reply.more });
    } catch (err) {
      return fitResult(
        errorResult(
          extra.signal.aborted && !isSwitchyardError(err) ? new CancelledError() : err,
          toolLog,
          tool.name,
        ),
        { cap },
      );
    }
  });

  registerResources(server, resources, log);
  if (prompts.length > 0) registerPrompts(server, prompts);
  return server;
}

function registerResources(server: Server, resources: ResourceDefinition[], log: Logger): void {
  const templates = resources.map((r) => ({ def: r, template: new UriTemplate(r.uriTemplate) }));
  const isTemplate = (r: ResourceDefinition) => UriTemplate.isTemplate(r.uriTemplate);
  const toMcpError = (err: unknown): McpError => {
    if (err instanceof McpError) return err;
    if (isSwitchyardError(err)) {
      const code =
        err.kind === 'not_found' || err.kind === 'user_input'
          ? ErrorCode.InvalidParams
          : ErrorCode.InternalError;
      return new McpError(code, redact(errorText(err)));
    }
    const id = shortId();
    log.error(
      `unexpected error ${id} reading a resource: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
    return new McpError(
      ErrorCode.InternalError,
      `Reading the resource failed unexpectedly (id ${id}); see the server's log`,
    );
  };

  server.setRequestHandler(ListResourcesRequestSchema, async (_request, extra) => {
    const ctx = { signal: extra.signal, log };
    const listed = [];
    for (const r of resources) {
      if (!isTemplate(r)) {
        listed.push({
          uri: r.uriTemplate,
          name: r.name,
          description: r.description,
          ...(r.mimeType ? { mimeType: r.mimeType } : {}),
        });
      } else if (r.list) {
        try {
          listed.push(...(await r.list(ctx)).map((item) => ({ mimeType: r.mimeType, ...item })));
        } catch (err) {
          // Listing is a convenience: a server without credentials still answers, just with fewer entries.
          log.info(`could not enumerate ${r.name}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
    return { resources: listed };
  });

  server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({
    resourceTemplates: resources.filter(isTemplate).map((r) => ({
      uriTemplate: r.uriTemplate,
      name: r.name,
      ...(r.title ? { title: r.title } : {}),
      description: r.description,
      ...(r.mimeType ? { mimeType: r.mimeType } : {}),
    })),
  }));

  server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
    const uri = request.params.uri;
    for (const { def, template } of templates) {
      const match = isTemplate(def) ? template.match(uri) : def.uriTemplate === uri ? {} : null;
      if (!match) continue;
      const params = Object.fromEntries(
        Object.entries(match).map(([k, v]) => [k, decodeURIComponent(Array.isArray(v) ? v.join(',') : v)]),
      );
      try {
        const content = await def.read(params, { signal: extra.signal, log });
        return {
          contents: [
            {
              uri,
              mimeType: content.mimeType ?? def.mimeType ?? 'text/plain',
              text: redactSecrets(content.text),
            },
          ],
        };
      } catch (err) {
        throw toMcpError(err);
      }
    }
    throw new McpError(ErrorCode.InvalidParams, `No resource matches '${uri}'; see resources/templates/list`);
  });

  if (resources.some((r) => r.complete)) {
    server.setRequestHandler(CompleteRequestSchema, async (request, extra) => {
      const ref = request.params.ref;
      const def = ref.type === 'ref/resource' ? resources.find((r) => r.uriTemplate === ref.uri) : undefined;
      const complete = def?.complete?.[request.params.argument.name];
      const values = complete
        ? await complete(request.params.argument.value, { signal: extra.signal, log }).catch(() => [])
        : [];
      return {
        completion: { values: values.slice(0, 100), total: values.length, hasMore: values.length > 100 },
      };
    });
  }
}

function registerPrompts(server: Server, prompts: PromptDefinition[]): void {
  const byName = new Map(prompts.map((p) => [p.name, p]));
  server.setRequestHandler(ListPromptsRequestSchema, () => ({
    prompts: prompts.map((p) => ({
      name: p.name,
      title: p.title,
      description: p.description,
      arguments: Object.entries(p.args).map(([name, schema]) => ({
        name,
        description: schema.description ?? name,
        required: !schema.safeParse(undefined).success,
      })),
    })),
  }));
  server.setRequestHandler(GetPromptRequestSchema, (request) => {
    const prompt = byName.get(request.params.name);
    if (!prompt) throw new McpError(ErrorCode.InvalidParams, `Unknown prompt '${request.params.name}'`);
    const promptArgs = request.params.arguments ?? {};
    const parsed = z.object(prompt.args).safeParse(promptArgs);
    if (!parsed.success)
      throw new McpError(ErrorCode.InvalidParams, describeInputIssues(prompt.name, parsed.error, promptArgs));
    const built = prompt.build(parsed.data);
    const messages = typeof built === 'string' ? [{ role: 'user' as const, text: built }] : built;
    return {
      description: prompt.description,
      messages: messages.map((m) => ({ role: m.role, content: { type: 'text' as const, text: m.text } })),
    };
  });
}
