import { appendFileSync, chmodSync, closeSync, existsSync, openSync, renameSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { CallToolResult, ServerContext } from '@modelcontextprotocol/server';
import { UserInputError, type ErrorKind } from './errors.js';
import type { Logger } from './log.js';
import { redact } from './redact.js';

/**
 * The audit log: one JSON line per tool call, on every transport, for compliance use (who called which tool with
 * what, how it ended, how long it took, how much it returned). Arguments are kept only as far as they are safe to
 * keep: secret-named fields are masked, body-like fields keep only their length, every other string passes
 * through `redact` and is cut at {@link MAX_KEPT_CHARS} with its length. The file is created 0600 and rotated by
 * size (`PATH` → `PATH.1` → … → `PATH.<keep>`), so it never grows without bound.
 */
export interface AuditOptions {
  path: string;
  /** Rotate when the file would grow past this many bytes (default 10 MB). */
  maxBytes?: number;
  /** How many rotated files to keep beside the live one (default 3). */
  keep?: number;
  log?: Logger;
}

export type AuditOutcome = 'ok' | 'error' | 'input_required' | 'protocol_error' | ErrorKind | 'unexpected';

export interface AuditEntry {
  /** When the call came in (ISO 8601, UTC). */
  time: string;
  principal: string;
  tool: string;
  arguments: unknown;
  outcome: AuditOutcome;
  duration_ms: number;
  result_bytes: number;
}

/** Strings longer than this are cut in the log, with their length (a mail body, a file, a long SQL text). */
export const MAX_KEPT_CHARS = 200;
const SECRET_KEY =
  /pass(word|wd|phrase)?$|secret|token|api[_-]?key|^key$|_key$|credential|authorization|cookie/i;
const BODY_KEY = /^(body|content|content_base64|contents|html|data|file_content|attachment|bytes|base64)$/i;

/** An argument value as the audit log keeps it. */
export function auditValue(value: unknown, key = '', depth = 0): unknown {
  if (key && SECRET_KEY.test(key) && value !== undefined && value !== null && value !== '')
    return '[redacted]';
  if (typeof value === 'string') {
    if (key && BODY_KEY.test(key)) return `[${value.length} chars]`;
    const clean = redact(value);
    return clean.length > MAX_KEPT_CHARS
      ? `${clean.slice(0, MAX_KEPT_CHARS)}… [${value.length} chars]`
      : clean;
  }
  if (depth >= 4)
    return Array.isArray(value)
      ? `[${value.length} items]`
      : value && typeof value === 'object'
        ? '[object]'
        : value;
  if (Array.isArray(value)) {
    const kept = value.slice(0, 20).map((item) => auditValue(item, key, depth + 1));
    return value.length > 20 ? [...kept, `… [${value.length} items]`] : kept;
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, auditValue(v, k, depth + 1)]),
    );
  }
  return value;
}

export class AuditLog {
  readonly path: string;
  private readonly maxBytes: number;
  private readonly keep: number;
  private size = 0;
  private failed = false;

  constructor(private readonly options: AuditOptions) {
    this.path = options.path;
    this.maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
    this.keep = Math.max(1, options.keep ?? 3);
    // Created (or narrowed) to 0600 at start, so a bad path fails the start, not the first call.
    try {
      closeSync(openSync(this.path, 'a', 0o600));
      chmodSync(this.path, 0o600);
      this.size = statSync(this.path).size;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UserInputError(
        `Cannot write the audit log ${this.path} (${code === 'ENOENT' ? 'its folder does not exist' : code === 'EACCES' || code === 'EPERM' ? 'not allowed' : (err as Error).message}); give a file in a folder this user can write`,
      );
    }
  }

  /** Append one entry; a failure to write is logged once and never fails the tool call. */
  write(entry: AuditEntry): void {
    const line = `${JSON.stringify(entry)}\n`;
    const bytes = Buffer.byteLength(line);
    try {
      if (this.size > 0 && this.size + bytes > this.maxBytes) this.rotate();
      appendFileSync(this.path, line, { mode: 0o600 });
      this.size += bytes;
      this.failed = false;
    } catch (err) {
      if (!this.failed)
        this.options.log?.error(
          `could not write the audit log ${this.path}: ${err instanceof Error ? err.message : String(err)}`,
        );
      this.failed = true;
    }
  }

  private rotate(): void {
    for (let i = this.keep - 1; i >= 1; i--) {
      if (existsSync(`${this.path}.${i}`)) renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
    }
    renameSync(this.path, `${this.path}.1`);
    closeSync(openSync(this.path, 'a', 0o600));
    this.size = 0;
  }
}

/** Who runs a stdio server: the OS user (its host started it on their behalf). */
export function osPrincipal(): string {
  try {
    return `os:${userInfo().username}`;
  } catch {
    return `os:uid-${process.getuid?.() ?? 'unknown'}`;
  }
}

/** The kind of error a result stands for, when core's error path made it (see server-errors.ts). */
const errorKinds = new WeakMap<object, ErrorKind | 'unexpected'>();
export function markErrorKind(result: object, kind: ErrorKind | 'unexpected'): void {
  errorKinds.set(result, kind);
}

type CallRequest = { params: { name: string; arguments?: Record<string, unknown> | undefined } };

/**
 * Wrap a `tools/call` handler so that every call lands in the audit log (when one is configured): the principal
 * is the HTTP caller's (`authInfo.clientId`: "key" for the static key) or, on stdio, `fallbackPrincipal`.
 */
export function auditCalls<R extends CallRequest, X extends ServerContext, T>(
  audit: { log: AuditLog | undefined; principal: string },
  handler: (request: R, extra: X) => Promise<T>,
): (request: R, extra: X) => Promise<T> {
  return async (request, extra) => {
    const log = audit.log;
    if (!log) return handler(request, extra);
    const at = new Date();
    const started = performance.now();
    const record = (outcome: AuditOutcome, bytes: number) =>
      log.write({
        time: at.toISOString(),
        principal: callerOf(extra, audit.principal),
        tool: String(request.params.name).slice(0, 128),
        arguments: auditValue(request.params.arguments ?? {}),
        outcome,
        duration_ms: Math.round((performance.now() - started) * 10) / 10,
        result_bytes: bytes,
      });
    try {
      const result = await handler(request, extra);
      const answer = result as CallToolResult & { resultType?: string };
      const outcome: AuditOutcome =
        answer.resultType === 'input_required'
          ? 'input_required'
          : answer.isError
            ? (errorKinds.get(answer) ?? 'error')
            : 'ok';
      record(outcome, Buffer.byteLength(JSON.stringify(result)));
      return result;
    } catch (err) {
      record('protocol_error', 0);
      throw err;
    }
  };
}

/** Who is calling: over HTTP the key or the signed-in user the entry verified, else the process's own principal. */
export function callerOf(ctx: ServerContext, fallback: string): string {
  return ctx.http?.authInfo?.clientId ?? fallback;
}
