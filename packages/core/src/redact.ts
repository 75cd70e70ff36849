/**
 * Keeps secrets out of logs, error messages and tool results: the one rule every server shares. Every secret core
 * resolves is registered here. Logs, printed lines and error messages pass through `redact`: known secrets, URL
 * passwords, and anything that looks like a credential (`password=…`, bearer tokens, JWTs). Successful tool
 * results and resource reads pass through `redactSecrets`: known secrets and URL passwords only, because they
 * carry the user's own data (a mail that says "password: …", a table with a `token` column), which the user asked
 * for and which is not ours to mask.
 */

const known = new Set<string>();

/** Remember a secret value so that it is masked wherever it would otherwise appear. */
export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= 6) known.add(value);
}

const patterns: Array<[RegExp, string]> = [
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 [redacted]'],
  [
    /\b(password|passwd|pwd|secret|client_secret|api[_-]?key|access_token|refresh_token|id_token|token)(["']?\s*[:=]\s*["']?)[^\s"'&,;}]+/gi,
    '$1$2[redacted]',
  ],
  [/\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*/g, '[redacted-jwt]'],
  // A password inside any URL's userinfo (`https://user:pass@host`, `postgres://…`): configured base URLs carry
  // them to proxies, and URLs end up in error messages, status lines and debug logs.
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/?#@]*:)[^\s/?#]+@/gi, '$1[redacted]@'],
];

const URL_PASSWORD = patterns[patterns.length - 1]!;

export function redact(text: string): string {
  let out = redactKnown(text);
  for (const [pattern, replacement] of patterns) out = out.replace(pattern, replacement);
  return out;
}

/** Known secrets and URL passwords only: for answers that carry the user's own data. */
export function redactSecrets(text: string): string {
  return redactKnown(text).replace(URL_PASSWORD[0], URL_PASSWORD[1]);
}

function redactKnown(text: string): string {
  let out = text;
  for (const secret of known) {
    if (out.includes(secret)) out = out.split(secret).join('[redacted]');
  }
  return out;
}

/** Every string inside a JSON-like value passed through `rule` (a structured tool result). */
export function redactValue<T>(value: T, rule: (text: string) => string = redact): T {
  if (typeof value === 'string') return rule(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => redactValue(item, rule)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v, rule)])) as T;
  }
  return value;
}

const REDACTING = Symbol('redacting');

/**
 * Pass everything written to a stream through `redact` (a CLI's stderr, where libraries write too). Text is
 * written in whole lines in practice, so a secret is not split between two writes.
 */
export function redactWrites(stream: NodeJS.WriteStream): void {
  const guarded = stream as NodeJS.WriteStream & { [REDACTING]?: true };
  if (guarded[REDACTING]) return;
  guarded[REDACTING] = true;
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) =>
    write(
      typeof chunk === 'string'
        ? redact(chunk)
        : chunk instanceof Uint8Array
          ? redact(Buffer.from(chunk).toString('utf8'))
          : chunk,
      ...rest,
    )) as typeof stream.write;
}
