/**
 * The server's side of the query process (query-worker.ts): one child per tenant, started on the first
 * query and kept while it is used. Every request gets a hard end that does not depend on DuckDB:
 * - time: the worker interrupts at the time limit; if DuckDB has not stopped 2 s later, the process is killed;
 * - memory: the process's resident size is read every 100 ms, and past the limit it is killed;
 * - cancel: an interrupt, then a kill 1 s later.
 * A killed worker takes its engine's memory and temp files with it; the next request starts a new one.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  CancelledError,
  fromErrorRecord,
  UpstreamError,
  UserInputError,
  type ErrorRecord,
  type Logger,
} from '@switchyard/core';
import type { QueryRun } from './query.js';
import { queryTimeout } from '../result-rows.js';
import type { ColumnInfo, QueryOptions, QueryPlan, QueryResult } from '../types.js';

export interface SandboxSetup {
  file: string;
  catalog: string;
  dir: string;
  /** The read-only engine's settings. */
  options: Record<string, string>;
}

export type SandboxRequest =
  | { type: 'describe'; id: number; text: string }
  | { type: 'query'; id: number; text: string; options: QueryRun }
  | { type: 'interrupt'; id: number; target: number }
  | { type: 'release'; id: number };

export type SandboxReply =
  { id: number; ok: true; value: unknown } | { id: number; ok: false; error: ErrorRecord };

/** How long DuckDB gets to stop after an interrupt before its process is killed. */
const STOP_GRACE_MS = 2_000;
const CANCEL_GRACE_MS = 1_000;
/** A describe (check and prepare) folds constants, so it gets a time limit too. */
const DESCRIBE_TIMEOUT_MS = 20_000;
/**
 * A worker nobody used for this long is ended (it holds a Node process and DuckDB's caches). The assistant's turns
 * are seconds to minutes apart, and a query after a pause should run as warm as the one before it.
 */
const WORKER_IDLE_MS = 10 * 60_000;

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

type KillReason = { kind: 'memory' } | { kind: 'timeout'; timeoutMs: number } | { kind: 'cancelled' };

/** Where the worker's code is: beside the bundle (dist/query-worker.js) or the compiled module. */
function workerPath(): string {
  const candidates = [
    // Beside the bundle or its chunk, or beside this compiled module.
    './query-worker.js',
    '../query-worker.js',
    // Tests that import the sources run the compiled worker.
    '../../../dist/warehouse/duckdb/query-worker.js',
  ].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new UpstreamError('The query process of lakehouse-mcp is missing from its installation');
  return found;
}

/** Resident memory of a process in bytes (Linux); undefined where /proc is not there. */
function residentBytes(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export class QuerySandbox {
  private child: ChildProcess | undefined;
  private ready: Promise<ChildProcess> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private killedFor: KillReason | undefined;
  private watch: NodeJS.Timeout | undefined;
  private idle: NodeJS.Timeout | undefined;
  /** A describe or query was sent since the last release: the worker may hold the file open. */
  private engineMayBeOpen = false;

  constructor(
    private readonly setup: SandboxSetup,
    private readonly memoryLimitBytes: number,
    private readonly log: Logger,
  ) {}

  describe(text: string, signal?: AbortSignal): Promise<QueryPlan> {
    return this.request({ type: 'describe', text }, DESCRIBE_TIMEOUT_MS, signal) as Promise<{
      columns: ColumnInfo[];
      tables: string[];
    }>;
  }

  query(text: string, options: QueryOptions): Promise<QueryResult> {
    const { signal, ...run } = options;
    return this.request(
      { type: 'query', text, options: run },
      options.timeoutMs,
      signal,
    ) as Promise<QueryResult>;
  }

  /** Start the worker ahead of the first query (a tenant was opened), so that query does not wait for it. */
  warm(): void {
    if (this.child) return;
    void this.start()
      .then(() => this.settle())
      .catch(() => {});
  }

  /** Close the worker's engine (a writer is about to open the file); the process stays for the next query. */
  async release(): Promise<void> {
    if (!this.child || !this.engineMayBeOpen) return;
    await this.request({ type: 'release' }, 10_000).catch(() => this.kill());
    this.engineMayBeOpen = false;
  }

  /** End the worker now, whatever it runs; pending requests fail as stopped. */
  kill(reason?: KillReason): void {
    if (!this.child) return;
    this.killedFor ??= reason;
    this.child.kill('SIGKILL');
  }

  private start(): Promise<ChildProcess> {
    if (this.ready) return this.ready;
    const child = fork(workerPath(), [], {
      env: { ...process.env, SWITCHYARD_LAKEHOUSE_QUERY: JSON.stringify(this.setup) },
      execArgv: [],
      // stdout belongs to the MCP protocol: the worker never writes there.
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    this.child = child;
    // Neither the process nor its channel keeps the server alive; a pending request's deadline timer does.
    child.unref();
    child.channel?.unref();
    child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      for (const line of text.split('\n').filter(Boolean)) this.log.debug('query process', { line });
    });
    this.ready = new Promise<ChildProcess>((resolve, reject) => {
      child.once('message', () => resolve(child));
      child.once('error', reject);
      child.once('exit', () =>
        reject(new UpstreamError('The query process of lakehouse-mcp stopped as it started')),
      );
    });
    child.on('message', (reply: SandboxReply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiting.resolve(reply.value);
      else waiting.reject(fromErrorRecord(reply.error));
      this.settle();
    });
    child.once('exit', (code, signal) => {
      const reason = this.killedFor;
      this.engineMayBeOpen = false;
      this.child = undefined;
      this.ready = undefined;
      this.killedFor = undefined;
      const failed = [...this.pending.values()];
      this.pending.clear();
      this.settle();
      for (const waiting of failed) waiting.reject(this.stoppedError(reason, code, signal));
    });
    this.ready.catch(() => {});
    return this.ready;
  }

  private stoppedError(
    reason: KillReason | undefined,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): Error {
    if (reason?.kind === 'memory') {
      const mb = Math.round(this.memoryLimitBytes / 1024 ** 2).toLocaleString('en-US');
      return new UserInputError(
        `The query needed more than ${mb} MB of memory and was stopped; nothing was changed`,
        {
          hint: 'Return fewer or smaller values (aggregate, filter, LIMIT, no very long strings or lists), or raise LAKEHOUSE_QUERY_MEMORY_MB',
        },
      );
    }
    if (reason?.kind === 'timeout') return queryTimeout(reason.timeoutMs);
    if (reason?.kind === 'cancelled') return new CancelledError();
    return new UpstreamError(
      `The query process stopped unexpectedly (${signal ?? `exit code ${String(code)}`}); nothing was changed`,
      { hint: 'Try again; if it repeats, run the server with --debug and report what it logs' },
    );
  }

  private async request(
    message:
      | { type: 'describe'; text: string }
      | { type: 'query'; text: string; options: QueryRun }
      | {
          type: 'release';
        },
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<unknown> {
    if (signal?.aborted) throw new CancelledError();
    const child = await this.start();
    if (message.type !== 'release') this.engineMayBeOpen = true;
    const id = this.nextId++;
    const answer = new Promise<unknown>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    if (this.idle) clearTimeout(this.idle);
    this.watchMemory();
    const deadline = setTimeout(() => this.kill({ kind: 'timeout', timeoutMs }), timeoutMs + STOP_GRACE_MS);
    let cancelKill: NodeJS.Timeout | undefined;
    const cancel = () => {
      child.send({ type: 'interrupt', id: 0, target: id } satisfies SandboxRequest);
      cancelKill = setTimeout(() => this.kill({ kind: 'cancelled' }), CANCEL_GRACE_MS);
    };
    signal?.addEventListener('abort', cancel);
    child.send({ ...message, id } as SandboxRequest);
    try {
      return await answer;
    } catch (err) {
      if (signal?.aborted) throw new CancelledError();
      throw err;
    } finally {
      clearTimeout(deadline);
      clearTimeout(cancelKill);
      signal?.removeEventListener('abort', cancel);
    }
  }

  private watchMemory(): void {
    if (this.watch || process.platform !== 'linux') return;
    this.watch = setInterval(() => {
      const pid = this.child?.pid;
      const rss = pid === undefined ? undefined : residentBytes(pid);
      if (rss !== undefined && rss > this.memoryLimitBytes) {
        this.log.warn('query process over its memory limit; stopped', { rss, limit: this.memoryLimitBytes });
        this.kill({ kind: 'memory' });
      }
    }, 100);
    this.watch.unref();
  }

  /** Nothing pending: stop watching, and end the worker if it stays unused. */
  private settle(): void {
    if (this.pending.size > 0) return;
    if (this.watch) clearInterval(this.watch);
    this.watch = undefined;
    if (this.idle) clearTimeout(this.idle);
    if (!this.child) return;
    this.idle = setTimeout(() => this.kill(), WORKER_IDLE_MS);
    this.idle.unref();
  }
}
