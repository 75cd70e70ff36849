import { TASKS_EXTENSION } from './opening.js';
import { randomBytes } from 'node:crypto';
import {
  CLIENT_CAPABILITIES_META_KEY,
  ProtocolError,
  ProtocolErrorCode,
  type CallToolResult,
  type Server,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Logger } from './log.js';
import { oneLine } from './untrusted.js';

/**
 * Long work as MCP tasks (the `io.modelcontextprotocol/tasks` extension of MCP 2026-07-28, SEP-2663; spec:
 * github.com/modelcontextprotocol/ext-tasks `specification/draft/tasks.md`). A tool that may run long (a sync, an
 * upload, a refresh followed to its end) answers a client that declares the extension with a task handle at once;
 * the work goes on in this process, the client polls `tasks/get` for its status and, at the end, the very result
 * the call would have returned, and `tasks/cancel` stops it the way a cancelled call stops. A client that does not
 * declare the extension (every 2025-era session, where SDK 2 dropped the experimental 2025-11-25 task side channel)
 * gets the call as before: progress notifications and bounded waits.
 */
export { TASKS_EXTENSION };

type Status = 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';

/** The `Task` of the extension's schema, with the fields `tasks/get` inlines for its status. */
export interface DetailedTask {
  [key: string]: unknown;
  taskId: string;
  status: Status;
  statusMessage?: string;
  createdAt: string;
  lastUpdatedAt: string;
  ttlMs: number | null;
  pollIntervalMs?: number;
  result?: CallToolResult & { resultType: 'complete' };
  error?: { code: number; message: string };
}

interface Entry {
  taskId: string;
  /** Who started it (stdio: the OS user; HTTP: the key or the signed-in user): only they can see or stop it. */
  owner: string;
  status: Status;
  statusMessage: string | undefined;
  created: number;
  updated: number;
  /** When the work ended (terminal statuses only): the retention counts from here. */
  ended: number | undefined;
  result: CallToolResult | undefined;
  error: { code: number; message: string } | undefined;
  controller: AbortController;
  settled: Promise<void>;
}

export interface TaskStoreOptions {
  log: Logger;
  /** How long a finished task's result is kept for its client to fetch. Default: an hour. */
  retentionMs?: number;
  /** How many tasks may run at once; a call past it runs as a plain call. Default: 8. */
  maxRunning?: number;
  /** How many tasks are held in all (running and finished); the oldest finished go first. Default: 100. */
  maxHeld?: number;
}

/** What a running task's work is told: its signal, and where its progress goes (the task's status message). */
export interface TaskRun {
  signal: AbortSignal;
  report(message: string): void;
}

/** Task ids are bearer handles to the stored result: 128 random bits (the spec asks for unguessable ids). */
function newTaskId(): string {
  return randomBytes(16).toString('base64url');
}

const CANCELLING = 'Cancelling: the work stops at its next safe point and undoes what it had not committed.';

/** Every task of one server process: stdio serves one client, so one store per process. */
export class TaskStore {
  private readonly tasks = new Map<string, Entry>();
  private readonly retentionMs: number;
  private readonly maxRunning: number;
  private readonly maxHeld: number;
  private readonly log: Logger;

  constructor(options: TaskStoreOptions) {
    this.log = options.log;
    this.retentionMs = options.retentionMs ?? 3_600_000;
    this.maxRunning = options.maxRunning ?? 8;
    this.maxHeld = options.maxHeld ?? 100;
  }

  /** Whether another task may start now (else the call runs as a plain call, which is always allowed). */
  hasRoom(): boolean {
    let running = 0;
    for (const entry of this.tasks.values()) if (entry.ended === undefined) running++;
    return running < Math.min(this.maxRunning, this.maxHeld);
  }

  /**
   * Create a task and start its work; the task exists (a `tasks/get` finds it) before this returns, as the spec
   * requires of a `CreateTaskResult`. `work` produces the call's result; a thrown error becomes a `failed` task.
   */
  start(label: string, owner: string, work: (run: TaskRun) => Promise<CallToolResult>): DetailedTask {
    this.makeRoom();
    const now = Date.now();
    const controller = new AbortController();
    const entry: Entry = {
      taskId: newTaskId(),
      owner,
      status: 'working',
      statusMessage: `${label} is running.`,
      created: now,
      updated: now,
      ended: undefined,
      result: undefined,
      error: undefined,
      controller,
      settled: Promise.resolve(),
    };
    this.tasks.set(entry.taskId, entry);
    const run: TaskRun = {
      signal: controller.signal,
      report: (message) => {
        if (entry.ended !== undefined || controller.signal.aborted) return;
        entry.statusMessage = oneLine(message, 300);
        entry.updated = Date.now();
      },
    };
    entry.settled = (async () => {
      try {
        const result = await work(run);
        this.finish(entry, controller.signal.aborted ? 'cancelled' : 'completed', result);
      } catch (err) {
        this.log.error(
          `task ${label} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        );
        entry.error = {
          code: ProtocolErrorCode.InternalError,
          message: `${label} failed with an internal error.`,
        };
        this.finish(entry, 'failed', undefined);
      }
    })();
    return this.view(entry);
  }

  private finish(entry: Entry, status: Status, result: CallToolResult | undefined): void {
    const now = Date.now();
    entry.status = status;
    entry.ended = now;
    entry.updated = now;
    if (status === 'completed') {
      entry.result = result;
      entry.statusMessage = result?.isError
        ? 'Finished with an error; the result says what went wrong.'
        : 'Done.';
    } else if (status === 'cancelled') {
      // What the work said as it stopped (for instance that nothing was changed) is the status message.
      const said = result?.content.find((c) => c.type === 'text');
      entry.statusMessage = said && said.type === 'text' ? oneLine(said.text, 500) : 'Cancelled.';
    } else {
      entry.statusMessage = entry.error?.message;
    }
  }

  /** The task as `tasks/get` answers it; an unknown or expired id is the spec's -32602. */
  get(taskId: string, owner: string): DetailedTask {
    return this.view(this.find(taskId, owner));
  }

  /** Ask a running task to stop (cooperative, as the spec has it): its work sees the abort and undoes itself. */
  cancel(taskId: string, owner: string): void {
    const entry = this.find(taskId, owner);
    if (entry.ended !== undefined || entry.controller.signal.aborted) return;
    entry.controller.abort();
    entry.statusMessage = CANCELLING;
    entry.updated = Date.now();
  }

  /** Acknowledge `tasks/update`: our tasks never ask for input mid-way, so every response key is ignored. */
  update(taskId: string, owner: string): void {
    this.find(taskId, owner);
  }

  /** Stop every running task and wait (bounded) for them to undo what they had not committed. */
  async close(waitMs = 10_000): Promise<void> {
    const running = [...this.tasks.values()].filter((e) => e.ended === undefined);
    for (const entry of running) entry.controller.abort();
    if (running.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(running.map((e) => e.settled)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs))),
    ]);
    clearTimeout(timer);
  }

  private find(taskId: string, owner: string): Entry {
    this.purge();
    const entry = this.tasks.get(taskId);
    // Another caller's task is answered as unknown: its existence is not theirs to learn (the spec's auth binding).
    if (!entry || entry.owner !== owner) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `Failed to retrieve task: no task '${oneLine(taskId, 64)}' here; it never existed or its result expired (results are kept ${Math.round(this.retentionMs / 60_000)} minutes after the work ends).`,
      );
    }
    return entry;
  }

  private view(entry: Entry): DetailedTask {
    const now = Date.now();
    const elapsed = now - entry.created;
    const task: DetailedTask = {
      taskId: entry.taskId,
      status: entry.status,
      ...(entry.statusMessage ? { statusMessage: entry.statusMessage } : {}),
      createdAt: new Date(entry.created).toISOString(),
      lastUpdatedAt: new Date(entry.updated).toISOString(),
      // From creation: the time it has run (or ran) plus the retention after it ends. It grows while it runs,
      // which the spec allows ("MAY change over the lifetime of a task").
      ttlMs: (entry.ended ?? now) - entry.created + this.retentionMs,
      // Poll often at first (most work is short), then gently.
      pollIntervalMs: elapsed < 10_000 ? 500 : 2_000,
    };
    // The result as the call itself would have carried it on MCP 2026-07-28, `resultType` and all.
    if (entry.status === 'completed' && entry.result)
      task.result = { ...entry.result, resultType: 'complete' };
    if (entry.status === 'failed' && entry.error) task.error = entry.error;
    return task;
  }

  /** Drop finished tasks past their retention. */
  private purge(): void {
    const now = Date.now();
    for (const [id, entry] of this.tasks) {
      if (entry.ended !== undefined && now - entry.ended > this.retentionMs) this.tasks.delete(id);
    }
  }

  /** Before a new task: drop the oldest finished tasks while the store is full. */
  private makeRoom(): void {
    this.purge();
    for (const [id, entry] of this.tasks) {
      if (this.tasks.size < this.maxHeld) break;
      if (entry.ended !== undefined) this.tasks.delete(id);
    }
  }
}

/** Whether this request's client declared the tasks extension (2026-07-28: per request, in the `_meta` envelope). */
export function declaresTasks(ctx: ServerContext): boolean {
  const envelope = ctx.mcpReq.envelope as
    Record<string, { extensions?: Record<string, unknown> }> | undefined;
  const extensions = envelope?.[CLIENT_CAPABILITIES_META_KEY]?.extensions;
  return extensions !== undefined && extensions !== null && TASKS_EXTENSION in extensions;
}

const TaskIdParams = z.looseObject({ taskId: z.string().min(1).max(200) });
const UpdateParams = z.looseObject({
  taskId: z.string().min(1).max(200),
  inputResponses: z.record(z.string(), z.unknown()).optional(),
});
const AnyResult = z.looseObject({});

/** The -32021 the spec asks for when a client that did not declare the extension uses its methods. */
function missingCapability(): ProtocolError {
  return new ProtocolError(
    ProtocolErrorCode.MissingRequiredClientCapability,
    `Missing required client capability: declare the ${TASKS_EXTENSION} extension in this request's client capabilities to use tasks.`,
    { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } },
  );
}

/** Serve `tasks/get`, `tasks/update` and `tasks/cancel` from the store, on a 2026-07-28 server instance. */
export function registerTaskMethods(
  server: Server,
  store: TaskStore,
  ownerOf: (ctx: ServerContext) => string,
): void {
  const owner = (ctx: ServerContext): string => {
    if (!declaresTasks(ctx)) throw missingCapability();
    return ownerOf(ctx);
  };
  server.setRequestHandler('tasks/get', { params: TaskIdParams, result: AnyResult }, (params, ctx) =>
    store.get(params.taskId, owner(ctx)),
  );
  server.setRequestHandler('tasks/update', { params: UpdateParams, result: AnyResult }, (params, ctx) => {
    store.update(params.taskId, owner(ctx));
    return {};
  });
  server.setRequestHandler('tasks/cancel', { params: TaskIdParams, result: AnyResult }, (params, ctx) => {
    store.cancel(params.taskId, owner(ctx));
    return {};
  });
}

/** The `CreateTaskResult` a tools/call answers with: the seed state of the task, `resultType: "task"`. */
export function createTaskResult(task: DetailedTask): CallToolResult {
  const { result: _result, error: _error, ...seed } = task;
  return { ...seed, resultType: 'task' } as unknown as CallToolResult;
}
