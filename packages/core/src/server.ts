import {
  ProtocolError,
  ProtocolErrorCode,
  Server,
  SUPPORTED_PROTOCOL_VERSIONS,
  type CallToolRequest,
  type CallToolResult,
  type ServerContext,
  type Tool,
} from '@modelcontextprotocol/server';
import { serveStdio as serveSdkStdio } from '@modelcontextprotocol/server/stdio';
import { CancelledError, isSwitchyardError } from './errors.js';
import { cleanStructured } from './untrusted.js';
import type { Logger } from './log.js';
import { redactSecrets, redactValue } from './redact.js';
import { StdioLineTransport } from './stdio.js';
import { handoff } from './handoff.js';
import type { PromptDefinition, ResourceDefinition } from './resource.js';
import { DEFAULT_RESULT_BYTES, fitResult } from './wire.js';
import {
  resolveAliases,
  type Caller,
  type ToolContext,
  type ToolDefinition,
  type ToolReply,
} from './tool.js';
import type { OnBehalfOf } from './oauth.js';
import { resolveModes, type ModeOptions, type ServedModes, type ToolsetDefinition } from './toolset.js';
import { describeInputIssues, screenRequest } from './input-issues.js';
import { listedTools } from './tool-catalog.js';
import { errorResult } from './server-errors.js';
import { canElicit, confirmStep, type ConfirmStep } from './confirm.js';
import { registerPrompts, registerResources, toolsetsResource } from './serve-resources.js';
import { createTaskResult, declaresTasks, registerTaskMethods, TaskStore } from './tasks.js';
import {
  renderInstructions,
  serverCapabilities,
  type Instructions,
  type OpeningData,
  type OpeningOption,
  CACHE_HINTS,
} from './opening.js';
import { auditCalls, callerOf, osPrincipal, type AuditLog } from './audit.js';

export { describeGiven, describeInputIssues, describeRequestIssues } from './input-issues.js';
export { describeTool, jsonSchemaOf } from './tool-schema.js';
export { listedTools, TOOLS_LIST_FILE } from './tool-catalog.js';
export { errorResult } from './server-errors.js';
export { publishedToolsets, TOOLSETS_URI, type PublishedToolset } from './serve-resources.js';

/** Everything a server is: its identity, its tools (all of them; modes pick), resources and prompts. */
export interface ServerDefinition {
  name: string;
  version: string;
  title?: string;
  /**
   * Shown to the model once per session: what this server is for and how its tools fit together. Sentences may
   * follow what the modes serve (Odoo says whether writes are on); data, so that the quick start words it too.
   */
  instructions?: Instructions;
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

export interface ServeOptions {
  modes: ModeOptions;
  log: Logger;
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
  /** Where every tool call is recorded (`--audit-log`); none when absent. */
  audit?: AuditLog;
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

/**
 * Build the MCP server from its definition (after applying modes) and serve it over stdio, in both protocol eras:
 * the SDK's `serveStdio` reads the opening message (`initialize` for 2025-11-25 and earlier, `server/discover` or a
 * request with the per-request `_meta` envelope for 2026-07-28) and pins one server instance to the connection.
 */
export async function serveStdio(def: ServerDefinition, options: ServeOptions): Promise<RunningServer> {
  const { log } = options;
  // After the quick start, which logged what the modes serve already, the server does not say it twice.
  const quiet = handoff()?.logged === true;
  const served = applyModes(def, options.modes, quiet ? undefined : log);
  const tools = served.tools;
  const shared: Shared = {
    served,
    listed: undefined,
    tasks: new TaskStore({ log: log.child('tasks') }),
    audit: { log: options.audit, principal: osPrincipal() },
  };
  const transport = new StdioLineTransport({
    log,
    screen: screenRequest,
    ...(options.stdin ? { stdin: options.stdin } : {}),
    ...(options.stdout ? { stdout: options.stdout } : {}),
  });

  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  let resolveStopping!: () => void;
  const stopping = new Promise<void>((resolve) => (resolveStopping = resolve));
  let closing: Promise<void> | undefined;
  // The SDK builds an instance per era it is asked to serve (a `server/discover` probe followed by `initialize`
  // builds two), so building one is cheap: the tool list is computed once, on first ask, and shared.
  const handle = serveSdkStdio(({ era }) => buildServer(def, shared, log, era), {
    transport,
    onerror: (error) => log.warn(`stdio: ${error.message.slice(0, 200)}`),
  });
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      resolveStopping();
      try {
        // Running tasks stop first, so what they had not committed is undone before the server lets go.
        await shared.tasks.close();
        await def.close?.();
      } catch (err) {
        log.warn(`error while releasing resources: ${err instanceof Error ? err.message : String(err)}`);
      }
      await handle.close().catch(() => {});
      resolveClosed();
    })());
  const stdin = options.stdin ?? process.stdin;
  stdin.once('end', () => void close());
  stdin.once('close', () => void close());
  if (!quiet) log.info(`${def.name} ${def.version} serving ${tools.length} tools over stdio`);
  return { tools, stopping, closed, close };
}

/** What every instance of one process's server shares: the modes served, the tools/list entries, the tasks, the audit log. */
interface Shared {
  served: ServedModes;
  listed: Tool[] | undefined;
  tasks: TaskStore;
  /** The audit log and the principal of a call that carries none (stdio: the OS user). */
  audit: { log: AuditLog | undefined; principal: string };
  /** Over HTTP with per-user sign-in: the exchange of a caller's token for a downstream one (see `Caller`). */
  onBehalfOf?: OnBehalfOf;
}

/** The signed-in user of an HTTP request (per-user sign-in), with their downstream tokens; else undefined. */
function signedInCaller(shared: Shared, ctx: ServerContext): Caller | undefined {
  const auth = ctx.http?.authInfo;
  const exchange = shared.onBehalfOf;
  if (!auth?.token || !auth.clientId.startsWith('user:') || !exchange) return undefined;
  const username = (auth.extra as { username?: string } | undefined)?.username;
  return {
    id: auth.clientId,
    username,
    token: (scopes, forceRefresh) =>
      exchange({
        assertion: auth.token,
        user: auth.clientId,
        scopes,
        ...(forceRefresh ? { forceRefresh } : {}),
      }),
  };
}

/**
 * The modes applied once, and a factory of fresh SDK servers that share only what never varies between callers
 * (the served tools and their list) and the process's tasks, each bound to the principal that started it: how the
 * HTTP entry builds one instance per request.
 */
export function serverFactory(
  def: ServerDefinition,
  options: { modes: ModeOptions; log: Logger; audit?: AuditLog; principal: string; onBehalfOf?: OnBehalfOf },
): { tools: readonly ToolDefinition[]; tasks: TaskStore; build(era: 'legacy' | 'modern'): Server } {
  const served = applyModes(def, options.modes, options.log);
  const shared: Shared = {
    served,
    listed: undefined,
    tasks: new TaskStore({ log: options.log.child('tasks') }),
    audit: { log: options.audit, principal: options.principal },
    ...(options.onBehalfOf ? { onBehalfOf: options.onBehalfOf } : {}),
  };
  return {
    tools: served.tools,
    tasks: shared.tasks,
    build: (era) => buildServer(def, shared, options.log, era),
  };
}

/** Whether a server instance speaks MCP 2026-07-28 or later (pinned by the SDK's stdio entry). */
function isModern(server: Server): boolean {
  return (server.getNegotiatedProtocolVersion() ?? '') >= '2026-07-28';
}

const RUN: ConfirmStep = { kind: 'run' };

/** Why a tool cannot ask the host's model, in a sentence a model relays. */
const NO_SAMPLING = {
  legacy: 'the host offers no sampling, so no model was asked',
  modern:
    'this session speaks MCP 2026-07-28, where sampling is deprecated and Switchyard does not ask the host for it, so no model was asked',
};

/** How a progress report reads as a task's status message. */
function progressText(progress: number, total: number | undefined, message: string | undefined): string {
  return message ?? (total !== undefined ? `${progress} of ${total}` : `${progress} done`);
}

function buildServer(def: ServerDefinition, shared: Shared, log: Logger, era: 'legacy' | 'modern'): Server {
  const { served } = shared;
  const tools = served.tools;
  const resources = [...(def.resources ?? []), toolsetsResource(def, served)];
  const prompts = def.prompts ?? [];
  // Tasks are an extension of MCP 2026-07-28; a 2025-era session is not offered them.
  const offersTasks = era === 'modern' && tools.some((t) => t.task);
  const capabilities = serverCapabilities({
    prompts: prompts.length > 0,
    completions: resources.some((r) => r.complete),
    tasks: offersTasks,
  });
  const instructions = renderInstructions(def.instructions, served);
  const server = new Server(
    { name: def.name, version: def.version, ...(def.title ? { title: def.title } : {}) },
    { capabilities, cacheHints: CACHE_HINTS, ...(instructions ? { instructions } : {}) },
  );
  const byName = new Map(tools.map((t) => [t.name, t]));

  server.setRequestHandler('tools/list', () => ({ tools: (shared.listed ??= listedTools(tools)) }));

  const callTool = async (request: CallToolRequest, extra: ServerContext) => {
    const tool = byName.get(request.params.name);
    if (!tool) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
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
    const signal = extra.mcpReq.signal;
    const modern = isModern(server);
    const canSample = !modern && server.getClientCapabilities()?.sampling !== undefined;
    const caller = signedInCaller(shared, extra);
    const ctx: ToolContext = {
      signal,
      log: toolLog,
      principal: callerOf(extra, shared.audit.principal),
      ...(caller ? { caller } : {}),
      progress: async (progress, total, message) => {
        if (progressToken === undefined || signal.aborted) return;
        await extra.mcpReq
          .notify({
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
      sample: canSample
        ? async ({ system, prompt, maxTokens, temperature }) => {
            const result = await extra.mcpReq.requestSampling(
              {
                messages: [{ role: 'user', content: { type: 'text', text: prompt } }],
                maxTokens,
                ...(system ? { systemPrompt: system } : {}),
                ...(temperature !== undefined ? { temperature } : {}),
              },
              { signal },
            );
            const content = Array.isArray(result.content) ? result.content[0] : result.content;
            return content?.type === 'text' ? content.text : '';
          }
        : undefined,
      sampleUnavailable: canSample ? undefined : modern ? NO_SAMPLING.modern : NO_SAMPLING.legacy,
    };
    try {
      const args = parsed.data as Record<string, unknown>;
      const step =
        tool.confirm &&
        served.confirm &&
        canElicit(extra, modern ? undefined : server.getClientCapabilities())
          ? await confirmStep(tool, args, ctx, extra)
          : RUN;
      if (step.kind === 'ask') return step.result;
      if (step.kind === 'declined') return await runTool(tool, args, ctx, cap, step.reply);
      // Long work for a client that takes tasks: the handle now (confirmations were settled above, as the
      // extension asks), the result through tasks/get. The work gets its own signal: the call has returned.
      if (
        offersTasks &&
        tool.task &&
        declaresTasks(extra) &&
        shared.tasks.hasRoom() &&
        (await tool.task(args))
      ) {
        const task = shared.tasks.start(tool.name, callerOf(extra, shared.audit.principal), (run) =>
          runTool(
            tool,
            args,
            {
              ...ctx,
              signal: run.signal,
              progress: async (progress, total, message) =>
                run.report(progressText(progress, total, message)),
            },
            cap,
          ),
        );
        toolLog.info(`running as task ${task.taskId.slice(0, 6)}…`);
        return createTaskResult(task);
      }
      return await runTool(tool, args, ctx, cap);
    } catch (err) {
      return fitResult(
        errorResult(
          signal.aborted && !isSwitchyardError(err) ? new CancelledError() : err,
          toolLog,
          tool.name,
        ),
        { cap },
      );
    }
  };
  server.setRequestHandler('tools/call', auditCalls(shared.audit, callTool));

  if (offersTasks) registerTaskMethods(server, shared.tasks, (ctx) => callerOf(ctx, shared.audit.principal));
  registerResources(server, resources, log, (extra) => ({
    principal: callerOf(extra, shared.audit.principal),
    caller: signedInCaller(shared, extra),
  }));
  if (prompts.length > 0) registerPrompts(server, prompts);
  return server;
}

/**
 * Run a tool's handler (or take the reply the user's decline gave) and shape its answer: redacted text, the checked
 * and cleaned structured copy, all within the tool's byte cap; any error becomes an `isError` answer.
 */
async function runTool(
  tool: ToolDefinition,
  args: Record<string, unknown>,
  ctx: ToolContext,
  cap: number,
  declined?: ToolReply,
): Promise<CallToolResult> {
  const { signal, log } = ctx;
  const started = performance.now();
  log.debug('started');
  try {
    const reply = declined ?? (await tool.handler(args, ctx));
    if (signal.aborted) throw new CancelledError();
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
    log.debug(`done in ${(performance.now() - started).toFixed(1)} ms`);
    // Rule 6: the whole answer within the tool's cap, cut the same way in text and structure if it is not.
    return fitResult(result, { cap, more: reply.more });
  } catch (err) {
    return fitResult(
      errorResult(signal.aborted && !isSwitchyardError(err) ? new CancelledError() : err, log, tool.name),
      { cap },
    );
  }
}

/**
 * The server's opening as data, for every mode (what `<server> opening-data` prints at build time for the quick
 * start): its identity, instructions, toolsets, tools and what the capabilities depend on. The command line's
 * options come from the CLI.
 */
export function openingDataOf(
  def: ServerDefinition,
  cli: { envPrefix: string; options: OpeningOption[]; switches: { id: string; flags: string }[] },
): OpeningData {
  return {
    server: { name: def.name, version: def.version, ...(def.title ? { title: def.title } : {}) },
    ...(def.instructions !== undefined ? { instructions: def.instructions } : {}),
    envPrefix: cli.envPrefix,
    options: cli.options,
    switches: cli.switches,
    toolsets: [...def.toolsets],
    tools: def.tools.map((t) => ({
      name: t.name,
      toolset: t.toolset,
      readOnlyHint: t.annotations.readOnlyHint === true,
      task: Boolean(t.task),
    })),
    prompts: (def.prompts ?? []).length > 0,
    completions: (def.resources ?? []).some((r) => r.complete),
    staticResources: !(def.resources ?? []).some((r) => r.list),
    versions: { legacy: [...SUPPORTED_PROTOCOL_VERSIONS], modern: [] },
  };
}
