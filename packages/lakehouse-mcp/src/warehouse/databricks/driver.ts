/** The boundary to @databricks/sql (client, session, operation; tests replace the module with a fake), and what
 * its errors mean. */
import { commandHint, AuthError, UpstreamError, type Logger, untrusted } from '@switchyard/core';
import type { ColumnInfo } from '../types.js';

// ---- the driver boundary: what @databricks/sql's DBSQLClient, DBSQLSession and DBSQLOperation offer

export interface DriverOperation {
  fetchChunk(options?: { maxRows?: number }): Promise<object[]>;
  hasMoreRows(): Promise<boolean>;
  getSchema(): Promise<DriverSchema | null>;
  cancel(): Promise<unknown>;
  close(): Promise<unknown>;
}
export interface DriverSchema {
  columns: Array<{
    columnName: string;
    position?: number;
    typeDesc: {
      types: Array<{
        primitiveEntry?: {
          type: number;
          typeQualifiers?: { qualifiers?: Record<string, { i32Value?: number }> } | null;
        };
      }>;
    };
  }>;
}
export interface DriverSession {
  executeStatement(
    sql: string,
    options?: {
      maxRows?: number;
      namedParameters?: Record<string, unknown>;
      stagingAllowedLocalPath?: string | string[];
    },
  ): Promise<DriverOperation>;
  close(): Promise<unknown>;
}
export interface DriverClient {
  connect(options: Record<string, unknown>): Promise<unknown>;
  openSession(request?: {
    initialCatalog?: string;
    initialSchema?: string;
    configuration?: Record<string, string>;
  }): Promise<DriverSession>;
  close(): Promise<void>;
}
export interface DriverModule {
  DBSQLClient: new (options?: { logger?: { log(level: string, message: string): void } }) => DriverClient;
}

export type DatabricksAuth =
  { kind: 'token'; token: string } | { kind: 'oauth-m2m'; clientId: string; clientSecret: string };

export interface DatabricksSettings {
  /** Workspace host name, e.g. adb-123.4.azuredatabricks.net. */
  host: string;
  /** The warehouse's HTTP path, /sql/1.0/warehouses/<id>. */
  httpPath: string;
  warehouseId: string | undefined;
  /** Schemas per tenant in this catalog instead of a catalog per tenant. */
  sharedCatalog: string | undefined;
  /** Credentials, resolved on first use (environment, then the keychain). */
  auth: () => Promise<DatabricksAuth>;
  /** Local folder for run files and spills. */
  home: string;
  log: Logger;
  /** The REST API base (default https://<host>): the warehouse state and OAuth tokens. */
  apiUrl?: string | undefined;
  /** Replaces @databricks/sql (tests: a fake of the driver's client/session/operation). */
  driverModule?: string | undefined;
  /** How long to wait for the warehouse to answer a new session. Default 30 s. */
  connectTimeoutMs?: number;
  loadMemoryLimit?: string;
}

/** The 21 Thrift type ids the driver reports, as Databricks names them. */
const TYPE_IDS = [
  'boolean',
  'tinyint',
  'smallint',
  'int',
  'bigint',
  'float',
  'double',
  'string',
  'timestamp',
  'binary',
  'array',
  'map',
  'struct',
  'union',
  'user_defined',
  'decimal',
  'void',
  'date',
  'varchar',
  'char',
  'interval year to month',
  'interval day to second',
];

export function schemaColumns(schema: DriverSchema | null): ColumnInfo[] {
  return (schema?.columns ?? []).map((c) => {
    const entry = c.typeDesc.types[0]?.primitiveEntry;
    let type = entry ? (TYPE_IDS[entry.type] ?? 'string') : 'string';
    if (type === 'decimal') {
      const q = entry?.typeQualifiers?.qualifiers ?? {};
      type = `decimal(${q.precision?.i32Value ?? 10},${q.scale?.i32Value ?? 0})`;
    }
    return { name: c.columnName, type, nullable: true };
  });
}

/** JSON-safe values: BIGINTs as numbers when exact, else text; bytes as hex; dates as ISO text. */
export function cleanValue(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : String(value);
  if (value instanceof Date)
    return value
      .toISOString()
      .replace('T', ' ')
      .replace(/\.000Z$|Z$/, '');
  if (Buffer.isBuffer(value) || value instanceof Uint8Array)
    return `\\x${Buffer.from(value).toString('hex')}`;
  if (Array.isArray(value)) return value.map(cleanValue);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cleanValue(v)]));
  }
  return value;
}

// ---- errors

/** `[ERROR_CLASS]` at the start of a Databricks message, if any. */
export function errorClass(err: unknown): string | undefined {
  return /\[([A-Z][A-Z0-9_]*)(?:\.[A-Z0-9_]+)?\]/.exec(rawMessage(err))?.[1];
}

export function rawMessage(err: unknown): string {
  const e = err as { message?: string; response?: { displayMessage?: string; errorMessage?: string } };
  return e?.response?.displayMessage ?? e?.message ?? String(err);
}

/** Databricks' own reason in one line: the error class, the first sentence line, the SQLSTATE. */
export function databricksMessage(err: unknown): string {
  const text = rawMessage(err);
  const lines = text.split('\n').map((l) => l.trim());
  let first = lines[0] ?? '';
  const state =
    (err as { response?: { sqlState?: string } })?.response?.sqlState ??
    /SQLSTATE: ([0-9A-Z]{5})/.exec(text)?.[1];
  first = first.replace(/\s*SQLSTATE: [0-9A-Z]{5}.*$/, '');
  return state ? `${first} (SQLSTATE ${state})` : first;
}

export const MISSING = new Set([
  'TABLE_OR_VIEW_NOT_FOUND',
  'SCHEMA_NOT_FOUND',
  'NO_SUCH_CATALOG_EXCEPTION',
  'CATALOG_NOT_FOUND',
  'UNRESOLVED_ROUTINE',
  'UNRESOLVED_COLUMN',
  'UNRESOLVED_FIELD',
]);
export const DENIED = new Set(['PERMISSION_DENIED', 'INSUFFICIENT_PERMISSIONS', 'UNAUTHORIZED_ACCESS']);

export function isCancelled(err: unknown): boolean {
  return (err as { errorCode?: string })?.errorCode === 'CANCELED';
}

export function isTimeout(err: unknown): boolean {
  return (
    (err as { errorCode?: string })?.errorCode === 'TIMEOUT' ||
    /timed? ?out|TIMEOUT/.test(errorClass(err) ?? '') ||
    /query has timed out|statement timeout/i.test(rawMessage(err))
  );
}

/** The REST call found no workspace at all (name does not resolve, nothing listening, no route). */
export function unreachableError(err: unknown, host: string): UpstreamError | undefined {
  const cause = ((err as { cause?: unknown })?.cause ?? err) as { code?: string };
  // Only failures that will not pass by themselves; a reset or a slow DNS answer may, so the driver gets its go.
  if (!['ENOTFOUND', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH'].includes(cause?.code ?? ''))
    return undefined;
  const found = connectionError(cause, host);
  return found instanceof UpstreamError ? found : undefined;
}

/** A driver or connection failure that is not about a statement (host, credentials, network). */
export function connectionError(err: unknown, host: string): Error | undefined {
  const e = err as { code?: string; name?: string; message?: string; statusCode?: number };
  const text = e?.message ?? '';
  if (e?.code === 'ENOTFOUND' || e?.code === 'EAI_AGAIN' || /getaddrinfo/.test(text)) {
    return new UpstreamError(`Could not reach Databricks at ${host}: the host name does not resolve`, {
      hint: 'Check DATABRICKS_HOST (the workspace host, e.g. adb-123.4.azuredatabricks.net)',
    });
  }
  if (['ECONNREFUSED', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH'].includes(e?.code ?? '')) {
    return new UpstreamError(`Could not reach Databricks at ${host} (${e.code})`, {
      hint: 'Check DATABRICKS_HOST and the network path (proxy, firewall) to the workspace',
    });
  }
  if (
    e?.name === 'AuthenticationError' ||
    /\b(401|403)\b|unauthori[sz]ed|invalid access token|credential/i.test(text)
  ) {
    return new AuthError(
      `Databricks at ${host} refused the credentials: ${untrusted(text.split('\n')[0], 300)}`,
      {
        hint: `Check DATABRICKS_TOKEN (or DATABRICKS_CLIENT_ID/DATABRICKS_CLIENT_SECRET), or run \`${commandHint('lakehouse-mcp login --databricks')}\``,
      },
    );
  }
  return undefined;
}

/** Every row of a finished statement, fetched 10,000 at a time (for the server's own, bounded statements). */
export async function readAll(op: DriverOperation): Promise<{ columns: ColumnInfo[]; rows: unknown[][] }> {
  const rows: unknown[][] = [];
  let columns: ColumnInfo[] | undefined;
  for (;;) {
    const chunk = await op.fetchChunk({ maxRows: 10_000 });
    columns ??= schemaColumns(await op.getSchema());
    for (const r of chunk) rows.push(columns.map((c) => cleanValue((r as Record<string, unknown>)[c.name])));
    if (!(await op.hasMoreRows())) break;
  }
  return { columns: columns ?? [], rows };
}

export function sessionKey(options: { catalog?: string; schema?: string; timeoutSeconds?: number }): string {
  return `${options.catalog ?? ''}|${options.schema ?? ''}|${options.timeoutSeconds ?? 3600}`;
}

/** The warehouse no longer holds the session (it stopped, or expired an idle one). */
export function isLostSession(err: unknown): boolean {
  return /invalid sessionhandle|session handle.*(not been initialized|already closed)|session \[[^\]]*\] is closed/i.test(
    rawMessage(err),
  );
}

/** STATEMENT_TIMEOUT values sessions are opened with (seconds); the tools allow up to 300. */
export const TIMEOUT_STEPS = [10, 30, 60, 120, 300];
