import { oneLine, plainOrUntrusted, untrusted } from './untrusted.js';

/**
 * Typed errors that core turns into `isError` tool results with one actionable sentence.
 * Servers throw these; anything else is "unexpected" and gets an id that is logged with its stack.
 */

/** What an upstream service said about a failed call, kept for the error message. */
export interface UpstreamInfo {
  /** Human name of the upstream, e.g. "Power BI". */
  service: string;
  status?: number;
  code?: string;
  message?: string;
  requestId?: string;
}

export type ErrorKind =
  'user_input' | 'auth' | 'not_found' | 'permission' | 'upstream' | 'rate_limited' | 'cancelled' | 'busy';

export interface SwitchyardErrorOptions {
  /** What the user (or model) can do about it: a command to run, a permission to grant. */
  hint?: string;
  upstream?: UpstreamInfo;
  cause?: unknown;
}

export abstract class SwitchyardError extends Error {
  abstract readonly kind: ErrorKind;
  readonly hint: string | undefined;
  readonly upstream: UpstreamInfo | undefined;

  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
    this.upstream = options.upstream;
  }
}

/** The arguments are wrong: a bad value, a missing field, a name that matches nothing. */
export class UserInputError extends SwitchyardError {
  readonly kind = 'user_input' as const;
}

/** No usable sign-in, or the credentials were refused. The hint says what to run. */
export class AuthError extends SwitchyardError {
  readonly kind = 'auth' as const;
}

/** The thing asked for does not exist (or is invisible to the caller). */
export class NotFoundError extends SwitchyardError {
  readonly kind = 'not_found' as const;
  readonly candidates: string[] | undefined;
  constructor(message: string, options: SwitchyardErrorOptions & { candidates?: string[] } = {}) {
    super(message, options);
    this.candidates = options.candidates;
  }
}

/** Signed in, but not allowed. The hint names the role, permission or tenant setting. */
export class PermissionError extends SwitchyardError {
  readonly kind = 'permission' as const;
}

/** The upstream failed in a way that is not one of the above (5xx, an unexpected 4xx, a network error). */
export class UpstreamError extends SwitchyardError {
  readonly kind = 'upstream' as const;
}

/** The upstream throttled us and the wait it asked for is longer than we are willing to block. */
export class RateLimitedError extends SwitchyardError {
  readonly kind = 'rate_limited' as const;
  readonly retryAfterSeconds: number | undefined;
  constructor(message: string, options: SwitchyardErrorOptions & { retryAfterSeconds?: number } = {}) {
    super(message, options);
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** Something local is held by another process (a lock) for longer than we wait; trying again later helps. */
export class BusyError extends SwitchyardError {
  readonly kind = 'busy' as const;
}

/** The caller cancelled the request (MCP `notifications/cancelled`, or an aborted signal). */
export class CancelledError extends SwitchyardError {
  readonly kind = 'cancelled' as const;
  constructor(
    message = 'The call was cancelled before it finished; nothing was changed by the cancelled part.',
  ) {
    super(message);
  }
}

export function isSwitchyardError(err: unknown): err is SwitchyardError {
  return err instanceof SwitchyardError;
}

/**
 * One line describing an upstream's answer: `Power BI 404 PowerBIEntityNotFound: «…» (request id abc)`.
 * The upstream's own words are outside text: cleaned to one bounded line and quoted with {@link untrusted}.
 */
export function describeUpstream(info: UpstreamInfo): string {
  const head = [info.service, info.status, info.code === undefined ? undefined : oneLine(info.code, 80)]
    .filter((part) => part !== undefined && part !== '')
    .join(' ');
  const message = info.message ? `: ${untrusted(info.message, 300)}` : '';
  const requestId = info.requestId ? ` (request id ${oneLine(info.requestId, 80)})` : '';
  return `${head}${message}${requestId}`;
}

/**
 * The text an error shows to the model: the message, the upstream's own reason (quoted as outside text),
 * and what to do. Candidates are names from the upstream, so each is quoted too, unless it is a plain identifier
 * (letters, digits, `_ . : @ / -`) that cannot carry a sentence.
 */
export function errorText(err: SwitchyardError): string {
  const parts = [ensureSentence(err.message)];
  if (err.upstream && (err.upstream.code || err.upstream.message || err.upstream.status)) {
    const said = describeUpstream(err.upstream);
    const quoted = err.upstream.message ? untrusted(err.upstream.message, 300) : said;
    if (!err.message.includes(quoted)) parts.push(`Upstream said: ${ensureSentence(said)}`);
  }
  if (err instanceof NotFoundError && err.candidates && err.candidates.length > 0) {
    parts.push(
      `Candidates: ${err.candidates
        .slice(0, 20)
        .map((c) => plainOrUntrusted(c, 80))
        .join(', ')}${err.candidates.length > 20 ? ', …' : ''}.`,
    );
  }
  if (err.hint) parts.push(ensureSentence(err.hint));
  return parts.join(' ');
}

function ensureSentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?][»)]?$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

/** An error as it crosses a process boundary (a child process answering over IPC). */
export interface ErrorRecord {
  kind: ErrorKind | 'unexpected';
  message: string;
  hint?: string;
}

export function toErrorRecord(err: unknown): ErrorRecord {
  if (isSwitchyardError(err)) return { kind: err.kind, message: err.message, hint: err.hint };
  return { kind: 'unexpected', message: err instanceof Error ? err.message : String(err) };
}

/** The typed error a record stands for; an unknown kind becomes an UpstreamError with the same words. */
export function fromErrorRecord(record: ErrorRecord): SwitchyardError {
  const options = { hint: record.hint };
  switch (record.kind) {
    case 'user_input':
      return new UserInputError(record.message, options);
    case 'auth':
      return new AuthError(record.message, options);
    case 'not_found':
      return new NotFoundError(record.message, options);
    case 'permission':
      return new PermissionError(record.message, options);
    case 'rate_limited':
      return new RateLimitedError(record.message, options);
    case 'cancelled':
      return new CancelledError(record.message);
    default:
      return new UpstreamError(record.message, options);
  }
}
