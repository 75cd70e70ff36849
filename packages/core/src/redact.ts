/**
 * Keeps secrets out of logs, error messages and tool results. Every secret core resolves is registered
 * here, and every line core writes to stderr or returns as an error passes through `redact`.
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
  [/(postgres(?:ql)?:\/\/[^:/\s]+:)[^@\s]+@/gi, '$1[redacted]@'],
];

export function redact(text: string): string {
  let out = text;
  for (const secret of known) {
    if (out.includes(secret)) out = out.split(secret).join('[redacted]');
  }
  for (const [pattern, replacement] of patterns) out = out.replace(pattern, replacement);
  return out;
}
