import { redact } from './redact.js';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];

export interface Logger {
  readonly level: LogLevel;
  error(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
  child(name: string): Logger;
  enabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  name: string;
  level?: LogLevel;
  /** Where lines go; stderr by default. stdout belongs to the MCP protocol and is never used. */
  write?: (line: string) => void;
}

export function parseLogLevel(value: string | undefined): LogLevel | undefined {
  if (!value) return undefined;
  const lower = value.toLowerCase();
  if (lower === 'warning') return 'warn';
  return (LOG_LEVELS as readonly string[]).includes(lower) ? (lower as LogLevel) : undefined;
}

/** A logger that writes one redacted line per event to stderr: `time level name: message {fields}`. */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? 'info';
  const threshold = LOG_LEVELS.indexOf(level);
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  const emit = (lvl: LogLevel, message: string, fields?: Record<string, unknown>): void => {
    if (LOG_LEVELS.indexOf(lvl) > threshold) return;
    const extra = fields && Object.keys(fields).length > 0 ? ` ${safeJson(fields)}` : '';
    write(
      redact(`${new Date().toISOString()} ${lvl.toUpperCase()} ${options.name}: ${message}${extra}`) + '\n',
    );
  };
  return {
    level,
    error: (m, f) => emit('error', m, f),
    warn: (m, f) => emit('warn', m, f),
    info: (m, f) => emit('info', m, f),
    debug: (m, f) => emit('debug', m, f),
    child: (name) => createLogger({ ...options, name: `${options.name}:${name}` }),
    enabled: (lvl) => LOG_LEVELS.indexOf(lvl) <= threshold,
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) => (v instanceof Error ? v.message : v));
  } catch {
    return '[unserializable]';
  }
}

/** A logger that drops everything: for library code called without one. */
export const silentLogger: Logger = createLogger({ name: 'silent', level: 'error', write: () => {} });
