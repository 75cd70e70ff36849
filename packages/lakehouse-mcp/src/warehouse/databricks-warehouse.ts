/**
 * The distributed warehouse: a Databricks SQL warehouse with Unity Catalog, reached with @databricks/sql
 * (Thrift; loaded on first use, telemetry off). A tenant is a catalog `tenant_<id>` with schemas bronze,
 * silver, gold and _meta (or, in a shared catalog, schemas `tenant_<id>_bronze`, ...), and a volume
 * `_meta.landing` where loads put their Parquet parts before COPY INTO / CREATE OR REPLACE picks them up.
 *
 * Every SQL text comes from databricks-dialect.ts. The driver is reached only through `DriverModule`, the
 * three objects the driver hands out (client, session, operation): tests replace that module with a fake.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import {
  commandHint,
  AuthError,
  oneLine,
  errorText,
  CancelledError,
  HttpClient,
  isSwitchyardError,
  NotFoundError,
  PermissionError,
  registerSecret,
  spillCsv,
  TokenCache,
  UpstreamError,
  UserInputError,
  type Logger,
  untrusted,
  upstreamInfo,
} from '@switchyard/core';
import * as dx from './databricks-dialect.js';
import { checkQuery, mapLayers } from './databricks-sql-check.js';
import { insightsFrom } from './insight-rows.js';
import * as duck from './duckdb-dialect.js';
import { bronzeColumnNames } from '../naming.js';
import type {
  ColumnInfo,
  ColumnInsight,
  ColumnProfile,
  ColumnSpec,
  CommitRecords,
  ConnectionRecord,
  FileSpec,
  Layer,
  LineageRecord,
  LogicalType,
  PartColumn,
  QueryDraft,
  QueryOptions,
  QueryResult,
  StagedLoad,
  Statement,
  SyncRunRecord,
  SyncState,
  TableDetails,
  TableRef,
  TableSummary,
  TenantWarehouse,
  TransformPlan,
  Warehouse,
  WarehouseCheck,
} from './types.js';
import { INSPECT_SAMPLE_ROWS, checkTenantId } from './types.js';

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

type DuckDB = typeof import('@duckdb/node-api');
let duckdbModule: Promise<DuckDB> | undefined;
const loadDuckDB = (): Promise<DuckDB> => (duckdbModule ??= import('@duckdb/node-api'));

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

function schemaColumns(schema: DriverSchema | null): ColumnInfo[] {
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
function cleanValue(value: unknown): unknown {
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

function rawMessage(err: unknown): string {
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

const MISSING = new Set([
  'TABLE_OR_VIEW_NOT_FOUND',
  'SCHEMA_NOT_FOUND',
  'NO_SUCH_CATALOG_EXCEPTION',
  'CATALOG_NOT_FOUND',
  'UNRESOLVED_ROUTINE',
  'UNRESOLVED_COLUMN',
  'UNRESOLVED_FIELD',
]);
const DENIED = new Set(['PERMISSION_DENIED', 'INSUFFICIENT_PERMISSIONS', 'UNAUTHORIZED_ACCESS']);

function isCancelled(err: unknown): boolean {
  return (err as { errorCode?: string })?.errorCode === 'CANCELED';
}

function isTimeout(err: unknown): boolean {
  return (
    (err as { errorCode?: string })?.errorCode === 'TIMEOUT' ||
    /timed? ?out|TIMEOUT/.test(errorClass(err) ?? '') ||
    /query has timed out|statement timeout/i.test(rawMessage(err))
  );
}

/** The REST call found no workspace at all (name does not resolve, nothing listening, no route). */
function unreachableError(err: unknown, host: string): UpstreamError | undefined {
  const cause = ((err as { cause?: unknown })?.cause ?? err) as { code?: string };
  // Only failures that will not pass by themselves; a reset or a slow DNS answer may, so the driver gets its go.
  if (!['ENOTFOUND', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH'].includes(cause?.code ?? ''))
    return undefined;
  const found = connectionError(cause, host);
  return found instanceof UpstreamError ? found : undefined;
}

/** A driver or connection failure that is not about a statement (host, credentials, network). */
function connectionError(err: unknown, host: string): Error | undefined {
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

export class DatabricksWarehouse implements Warehouse {
  readonly kind = 'databricks' as const;
  private client: Promise<DriverClient> | undefined;
  private readonly sessions = new Map<string, Promise<DriverSession>>();
  private readonly tenantsById = new Map<string, DatabricksTenant>();
  private rest: HttpClient | undefined;
  /** The OAuth M2M token, held by core's cache until 5 minutes before it expires. */
  private readonly tokens = new TokenCache<{ accessToken: string; expiresOn: Date }>();
  private stateCheckedAt = 0;

  constructor(readonly settings: DatabricksSettings) {}

  get log(): Logger {
    return this.settings.log;
  }

  describe(): string {
    const where = this.settings.sharedCatalog
      ? `schemas tenant_<id>_bronze/silver/gold in catalog ${this.settings.sharedCatalog}`
      : 'one catalog tenant_<id> per tenant';
    return `Databricks SQL warehouse ${this.settings.httpPath} at ${this.settings.host}, ${where}`;
  }

  async tenant(id: string): Promise<DatabricksTenant> {
    checkTenantId(id);
    let t = this.tenantsById.get(id);
    if (!t) {
      t = new DatabricksTenant(this, id);
      this.tenantsById.set(id, t);
    }
    return t;
  }

  async tenants(): Promise<string[]> {
    try {
      if (this.settings.sharedCatalog) {
        const rows = await this.run(
          `SHOW SCHEMAS IN ${dx.ident(this.settings.sharedCatalog)} LIKE 'tenant_*_bronze'`,
        );
        return rows.rows
          .map((r) =>
            String(r[0])
              .replace(/^tenant_/, '')
              .replace(/_bronze$/, ''),
          )
          .sort();
      }
      const rows = await this.run(`${dx.CATALOGS} LIKE 'tenant_*'`);
      return rows.rows.map((r) => String(r[0]).slice('tenant_'.length)).sort();
    } catch {
      return [];
    }
  }

  // ---- credentials and the REST API (warehouse state)

  private async bearer(signal?: AbortSignal): Promise<string> {
    const auth = await this.settings.auth();
    if (auth.kind === 'token') return auth.token;
    const token = await this.tokens.get(auth.clientId, async () => {
      const http = this.restClient(false);
      const basic = Buffer.from(`${auth.clientId}:${auth.clientSecret}`).toString('base64');
      registerSecret(basic);
      const reply = await http.request<{ access_token: string; expires_in?: number }>({
        method: 'POST',
        path: '/oidc/v1/token',
        body: 'grant_type=client_credentials&scope=all-apis',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
        ...(signal ? { signal } : {}),
        idempotent: true,
      });
      registerSecret(reply.data.access_token);
      return {
        accessToken: reply.data.access_token,
        expiresOn: new Date(Date.now() + (reply.data.expires_in ?? 3600) * 1000),
      };
    });
    return token.accessToken;
  }

  private restClient(authenticated = true): HttpClient {
    if (authenticated && this.rest) return this.rest;
    const client = new HttpClient({
      service: 'Databricks',
      baseUrl: this.settings.apiUrl ?? `https://${this.settings.host}`,
      log: this.settings.log,
      timeoutMs: 15_000,
      maxAttempts: 2,
      ...(authenticated
        ? { auth: async ({ signal }) => ({ authorization: `Bearer ${await this.bearer(signal)}` }) }
        : {}),
      // Databricks' REST errors ({ error_code, message }) and OAuth's ({ error, error_description }) are read by
      // core, which keeps the code and message for every other failure.
      describeError: (r) => {
        if (r.status === 401 || r.status === 403) {
          return new AuthError(
            `Databricks at ${this.settings.host} refused the credentials (${r.status}${r.code ? ` ${oneLine(r.code, 80)}` : ''}${r.message ? `: ${untrusted(r.message, 300)}` : ''})`,
            {
              upstream: upstreamInfo(r),
              hint: `Check DATABRICKS_TOKEN (or DATABRICKS_CLIENT_ID/DATABRICKS_CLIENT_SECRET), or run \`${commandHint('lakehouse-mcp login --databricks')}\``,
            },
          );
        }
        return undefined;
      },
    });
    if (authenticated) this.rest = client;
    return client;
  }

  /** The warehouse's state from the REST API (RUNNING, STARTING, STOPPED, ...), when its id is known. */
  async warehouseState(signal?: AbortSignal): Promise<{ state: string; name: string } | undefined> {
    if (!this.settings.warehouseId) return undefined;
    const info = await this.restClient().get<{ state?: string; name?: string }>(
      `/api/2.0/sql/warehouses/${encodeURIComponent(this.settings.warehouseId)}`,
      signal ? { signal } : {},
    );
    return { state: info.state ?? 'UNKNOWN', name: info.name ?? this.settings.warehouseId };
  }

  /**
   * A stopped warehouse takes minutes to start: say so at once instead of holding the call. A STOPPED one is
   * asked to start (as its first query would), so a later call finds it running.
   */
  async ensureRunning(signal?: AbortSignal): Promise<void> {
    if (!this.settings.warehouseId || Date.now() - this.stateCheckedAt < 30_000) return;
    let info: { state: string; name: string } | undefined;
    try {
      info = await this.warehouseState(signal);
    } catch (err) {
      if (err instanceof AuthError) throw err;
      // A workspace that cannot be reached at all is said at once; the driver would retry until the session
      // timeout. Otherwise the state is a courtesy: without it, the session's own bounded wait applies.
      const unreachable = unreachableError(err, this.settings.host);
      if (unreachable) throw unreachable;
      this.log.debug(`warehouse state not read: ${(err as Error).message}`);
      this.stateCheckedAt = Date.now(); // not asked again before every statement
      return;
    }
    if (!info || info.state === 'RUNNING') {
      this.stateCheckedAt = Date.now();
      return;
    }
    if (info.state === 'STOPPED') {
      const startFailed = await this.restClient()
        .request({
          method: 'POST',
          path: `/api/2.0/sql/warehouses/${encodeURIComponent(this.settings.warehouseId)}/start`,
          json: {},
          ...(signal ? { signal } : {}),
          responseType: 'none',
        })
        .then(() => undefined)
        .catch((err: unknown) => err as Error);
      if (startFailed) {
        // Our own sentence about the failure, and Databricks' own code and message beside it.
        throw new UpstreamError(
          `The Databricks SQL warehouse '${info.name}' is stopped, and asking it to start failed (${isSwitchyardError(startFailed) ? startFailed.message : untrusted(startFailed.message, 300)})`,
          {
            ...(isSwitchyardError(startFailed) && startFailed.upstream
              ? { upstream: startFailed.upstream }
              : {}),
            hint: 'Start it in the Databricks workspace (SQL Warehouses), or ask for permission to start it',
          },
        );
      }
      throw new UpstreamError(
        `The Databricks SQL warehouse '${info.name}' was stopped; it is starting now, which usually takes a few minutes`,
        { hint: 'Try again in a minute or two (lakehouse_test_connection shows its state)' },
      );
    }
    if (info.state === 'STARTING') {
      throw new UpstreamError(
        `The Databricks SQL warehouse '${info.name}' is starting, which usually takes a few minutes`,
        { hint: 'Try again in a minute or two (lakehouse_test_connection shows its state)' },
      );
    }
    throw new UpstreamError(
      `The Databricks SQL warehouse '${info.name}' is ${info.state}, so it cannot run queries`,
      {
        hint: 'Start it in the Databricks workspace (SQL Warehouses), or point DATABRICKS_WAREHOUSE_ID at a running one',
      },
    );
  }

  // ---- the driver

  private async driverClient(): Promise<DriverClient> {
    this.client ??= (async () => {
      // A literal specifier, so that the bundle carries the driver in a chunk of its own.
      const loaded = (await (this.settings.driverModule
        ? import(pathToFileURL(this.settings.driverModule).href)
        : import('@databricks/sql'))) as DriverModule & { default?: DriverModule };
      const mod = loaded.DBSQLClient ? loaded : loaded.default!;
      const log = this.settings.log;
      // The driver's own logger writes to stdout, which belongs to MCP: route it to stderr at debug.
      const client = new mod.DBSQLClient({
        logger: { log: (level: string, message: string) => log.debug(`driver ${level}: ${message}`) },
      });
      const auth = await this.settings.auth();
      // The driver appends a port of its own (443 unless told): a host given as host:port (a proxy, a
      // local endpoint) goes to it in two parts.
      const url = new URL(`https://${this.settings.host}`);
      const options: Record<string, unknown> = {
        host: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: this.settings.httpPath,
        telemetryEnabled: false,
        userAgentEntry: 'switchyard-lakehouse-mcp',
        ...(auth.kind === 'token'
          ? { token: auth.token }
          : {
              authType: 'databricks-oauth',
              oauthClientId: auth.clientId,
              oauthClientSecret: auth.clientSecret,
            }),
      };
      try {
        await client.connect(options);
      } catch (err) {
        throw connectionError(err, this.settings.host) ?? err;
      }
      return client;
    })();
    this.client.catch(() => (this.client = undefined));
    return this.client;
  }

  /**
   * A session per (catalog, schema, timeout): STATEMENT_TIMEOUT is session configuration on a SQL warehouse
   * (the driver's queryTimeout does nothing there). Opening one waits at most connectTimeoutMs.
   */
  async session(
    options: { catalog?: string; schema?: string; timeoutSeconds?: number },
    signal?: AbortSignal,
  ): Promise<DriverSession> {
    await this.ensureRunning(signal);
    const timeout = options.timeoutSeconds ?? 3600;
    const key = sessionKey(options);
    let opening = this.sessions.get(key);
    if (!opening) {
      opening = (async () => {
        const client = await this.driverClient();
        const wait = this.settings.connectTimeoutMs ?? 30_000;
        let timer: NodeJS.Timeout | undefined;
        const open = client.openSession({
          ...(options.catalog ? { initialCatalog: options.catalog } : {}),
          ...(options.schema ? { initialSchema: options.schema } : {}),
          configuration: { STATEMENT_TIMEOUT: String(timeout), TIMEZONE: 'UTC' },
        });
        const late = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new UpstreamError(
                  `The Databricks SQL warehouse at ${this.settings.host} did not open a session within ${Math.round(wait / 1000)} s; a stopped warehouse can take minutes to start`,
                  { hint: 'Try again in a minute or two; lakehouse_test_connection shows its state' },
                ),
              ),
            wait,
          );
        });
        try {
          return await Promise.race([open, late]);
        } catch (err) {
          open.then((s) => s.close()).catch(() => {});
          if (err instanceof UpstreamError) throw err;
          throw connectionError(err, this.settings.host) ?? err;
        } finally {
          clearTimeout(timer);
        }
      })();
      opening.catch(() => this.sessions.delete(key));
      this.sessions.set(key, opening);
    }
    return opening;
  }

  /**
   * Start a statement on the session for these options. A session the warehouse no longer holds (it stopped,
   * or expired an idle session) is dropped and the statement started once more on a fresh one.
   */
  async execute(
    options: { catalog?: string; schema?: string; timeoutSeconds?: number },
    sql: string,
    execOptions: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<DriverOperation> {
    for (let attempt = 0; ; attempt++) {
      const session = await this.session(options, signal);
      try {
        return await session.executeStatement(sql, execOptions as never);
      } catch (err) {
        if (attempt > 0 || !isLostSession(err)) throw err;
        this.log.debug(
          `databricks: the session was gone (${rawMessage(err).slice(0, 120)}); opening a new one`,
        );
        this.sessions.delete(sessionKey(options));
        void session.close().catch(() => {});
      }
    }
  }

  /** Run one statement on the internal session and read its (small) result whole. */
  async run(
    sql: string,
    options: { params?: Record<string, unknown>; signal?: AbortSignal; staging?: string } = {},
  ): Promise<{ columns: ColumnInfo[]; rows: unknown[][] }> {
    this.log.debug(`databricks: ${sql.length > 300 ? `${sql.slice(0, 300)}…` : sql}`);
    const op = await this.execute(
      {},
      sql,
      {
        ...(options.params && Object.keys(options.params).length ? { namedParameters: options.params } : {}),
        ...(options.staging ? { stagingAllowedLocalPath: [options.staging] } : {}),
      },
      options.signal,
    );
    const cancel = () => void op.cancel().catch(() => {});
    options.signal?.addEventListener('abort', cancel);
    if (options.signal?.aborted) cancel();
    try {
      return await readAll(op);
    } catch (err) {
      if (options.signal?.aborted || isCancelled(err)) throw new CancelledError();
      throw err;
    } finally {
      options.signal?.removeEventListener('abort', cancel);
      await op.close().catch(() => {});
    }
  }

  async check(signal: AbortSignal): Promise<WarehouseCheck> {
    const lines = [`Databricks workspace ${this.settings.host}, warehouse path ${this.settings.httpPath}`];
    let state: string | undefined;
    try {
      const info = await this.warehouseState(signal);
      if (info) {
        state = info.state;
        lines.push(`warehouse '${info.name}': ${info.state}`);
        if (info.state === 'STARTING' || info.state === 'STOPPED') {
          lines.push(
            info.state === 'STARTING'
              ? 'it is starting, which usually takes a few minutes: try again shortly'
              : 'it is stopped; the first query starts it (a few minutes), or start it in the workspace',
          );
          return { ok: false, lines, state };
        }
      }
    } catch (err) {
      if (err instanceof AuthError) return { ok: false, lines: [...lines, errorText(err)] };
      const unreachable = unreachableError(err, this.settings.host);
      if (unreachable) return { ok: false, lines: [...lines, errorText(unreachable)] };
      lines.push(`warehouse state unknown (${(err as Error).message})`);
    }
    try {
      const started = performance.now();
      const user = String((await this.run(dx.CURRENT_USER, { signal })).rows[0]?.[0] ?? '');
      const ms = Math.round(performance.now() - started);
      const all = (await this.run(dx.CATALOGS, { signal })).rows.map((r) => String(r[0]));
      const catalogs = this.settings.sharedCatalog
        ? all.filter((c) => c === this.settings.sharedCatalog)
        : all.filter((c) => c.startsWith('tenant_'));
      lines.push(`connected as ${user} (${ms} ms for the first statement)`);
      lines.push(
        this.settings.sharedCatalog
          ? catalogs.length
            ? `shared catalog ${this.settings.sharedCatalog} is visible`
            : `shared catalog ${this.settings.sharedCatalog} is NOT visible to ${user}: grant USE CATALOG on it`
          : `tenant catalogs visible: ${catalogs.join(', ') || 'none yet (the first load creates tenant_<id>)'}`,
      );
      return { ok: true, lines, state, user, catalogs };
    } catch (err) {
      const e = connectionError(err, this.settings.host);
      lines.push(
        `not usable: ${e ? e.message : err instanceof Error && 'kind' in err ? err.message : databricksMessage(err)}`,
      );
      return { ok: false, lines, state };
    }
  }

  async close(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of sessions) await s.then((x) => x.close()).catch(() => {});
    const client = this.client;
    this.client = undefined;
    await client?.then((c) => c.close()).catch(() => {});
  }
}

const RUN_DIR = (pid: number, runId: string) => `run-${pid}-${runId}`;

export class DatabricksTenant implements TenantWarehouse {
  readonly dialect = 'databricks' as const;
  readonly naming: dx.Naming;
  readonly spillDir: string;
  readonly workDir: string;
  private bootstrapped: Promise<void> | undefined;

  constructor(
    readonly warehouse: DatabricksWarehouse,
    readonly tenant: string,
  ) {
    this.naming = dx.naming(tenant, warehouse.settings.sharedCatalog);
    const dir = join(warehouse.settings.home, 'databricks', `tenant_${tenant}`);
    this.spillDir = join(dir, 'spill');
    this.workDir = join(dir, 'work');
  }

  get catalog(): string {
    return this.naming.tenantCatalog;
  }

  get location(): string {
    return this.naming.shared
      ? `schemas ${this.naming.schema('bronze')}/silver/gold of catalog ${this.naming.catalog}`
      : `catalog ${this.naming.catalog}`;
  }

  logicalType(engineType: string): LogicalType | undefined {
    return dx.logicalOf(engineType);
  }

  engineMessage(err: unknown): string {
    return err instanceof Error && 'kind' in err ? err.message : databricksMessage(err);
  }

  private ref(ref: TableRef): string {
    return `${ref.layer}.${ref.name}`;
  }

  /** A statement error in words; `what` says what was being done. */
  private fail(err: unknown, what: 'query' | 'write' | 'read'): Error {
    if (err instanceof Error && 'kind' in err) return err;
    const conn = connectionError(err, this.warehouse.settings.host);
    if (conn) return conn;
    if (isCancelled(err)) return new CancelledError();
    const cls = errorClass(err);
    // Databricks' own words (they quote names and values from the data): one bounded, quoted line.
    const message = untrusted(databricksMessage(err), 300);
    if (cls && DENIED.has(cls)) {
      return new PermissionError(`Databricks refused a privilege: ${message}`, {
        hint:
          what === 'write'
            ? `Ask a workspace admin to grant the principal USE CATALOG and CREATE SCHEMA on ${this.naming.catalog}, and CREATE TABLE, MODIFY, READ VOLUME and WRITE VOLUME on its schemas`
            : `Ask a workspace admin to grant the principal USE CATALOG, USE SCHEMA and SELECT on ${this.naming.catalog}`,
      });
    }
    if (what === 'query' && cls && MISSING.has(cls)) {
      return new UserInputError(
        `The query refers to something that does not exist in ${this.catalog}: ${message}`,
        {
          hint: "Only this tenant's tables can be queried; call lakehouse_list_tables to see them",
        },
      );
    }
    if (what === 'query' && cls) return new UserInputError(`Databricks refused the query: ${message}`);
    if (what === 'write' && cls) {
      return new UserInputError(`Databricks refused the change: ${message}`, { hint: 'Nothing was changed' });
    }
    return new UpstreamError(`Databricks could not run the statement: ${message}`);
  }

  private async read(sql: string, params?: Record<string, unknown>, signal?: AbortSignal) {
    try {
      return await this.warehouse.run(sql, { ...(params ? { params } : {}), ...(signal ? { signal } : {}) });
    } catch (err) {
      throw this.fail(err, 'read');
    }
  }

  /** Metadata reads: a catalog nobody loaded into yet has no metadata tables, which means "nothing". */
  private async readMeta(sql: string, params?: Record<string, unknown>): Promise<unknown[][]> {
    try {
      return (await this.warehouse.run(sql, params ? { params } : {})).rows;
    } catch (err) {
      const cls = errorClass(err);
      if (cls && MISSING.has(cls)) return [];
      throw this.fail(err, 'read');
    }
  }

  private async write(sql: string, params?: Record<string, unknown>, signal?: AbortSignal) {
    try {
      return await this.warehouse.run(sql, { ...(params ? { params } : {}), ...(signal ? { signal } : {}) });
    } catch (err) {
      throw this.fail(err, 'write');
    }
  }

  /** Catalog (or schemas), volume and metadata tables, once per process, before the first write. */
  ensureBootstrapped(): Promise<void> {
    this.bootstrapped ??= (async () => {
      for (const statement of dx.bootstrap(this.naming)) {
        try {
          await this.warehouse.run(statement);
        } catch (err) {
          const cls = errorClass(err);
          if (cls && DENIED.has(cls) && /^CREATE CATALOG/.test(statement)) {
            throw new PermissionError(
              `The Databricks principal may not create the catalog ${this.naming.catalog}: ${untrusted(databricksMessage(err), 300)}`,
              {
                hint: `Ask an admin to create it (CREATE CATALOG ${this.naming.catalog}) and grant the principal USE CATALOG, CREATE SCHEMA on it, or set LAKEHOUSE_DATABRICKS_CATALOG to an existing catalog where it may create schemas`,
              },
            );
          }
          throw this.fail(err, 'write');
        }
      }
    })();
    this.bootstrapped.catch(() => (this.bootstrapped = undefined));
    return this.bootstrapped;
  }

  // ---- catalog

  async listTables(layer?: Layer): Promise<TableSummary[]> {
    let rows: unknown[][];
    try {
      const s = dx.listTables(this.naming, layer);
      rows = (await this.warehouse.run(s.sql, { params: s.params })).rows;
    } catch (err) {
      const cls = errorClass(err);
      if (!cls || !MISSING.has(cls)) throw this.fail(err, 'read');
      const s = dx.listTablesPlain(this.naming, layer);
      rows = await this.readMeta(s.sql, s.params);
    }
    const layerOf = (schema: string): Layer =>
      schema === this.naming.schema('bronze')
        ? 'bronze'
        : schema === this.naming.schema('silver')
          ? 'silver'
          : 'gold';
    return rows.map((r) => ({
      layer: layerOf(String(r[0])),
      name: String(r[1]),
      kind: String(r[2]).toUpperCase() === 'VIEW' ? ('view' as const) : ('table' as const),
      rows: r[3] === null || r[3] === undefined ? undefined : Number(r[3]),
      columns: Number(r[4] ?? 0),
      source: r[5]
        ? `${String(r[5])} from ${(JSON.parse(String(r[6])) as string[]).join(', ') || 'a query'}`
        : undefined,
      lastLoadedAt: r[7] ? isoOf(String(r[7])) : undefined,
    }));
  }

  async columnsOf(ref: TableRef): Promise<ColumnInfo[] | undefined> {
    const s = dx.columnsOf(this.naming, ref);
    const rows = await this.readMeta(s.sql, s.params);
    if (rows.length === 0) return undefined;
    return rows.map((r) => ({
      name: String(r[0]),
      type: String(r[1]),
      nullable: String(r[2]).toUpperCase() === 'YES',
    }));
  }

  async rowCount(ref: TableRef): Promise<number> {
    return Number((await this.read(dx.countRows(this.naming, ref))).rows[0]?.[0] ?? 0);
  }

  async details(ref: TableRef): Promise<TableDetails | undefined> {
    try {
      const { columns, rows } = await this.warehouse.run(dx.describeDetail(this.naming, ref));
      const row = rows[0];
      if (!row) return undefined;
      const at = (name: string) => row[columns.findIndex((c) => c.name === name)];
      return {
        format: String(at('format') ?? 'delta'),
        files: at('numFiles') === undefined || at('numFiles') === null ? undefined : Number(at('numFiles')),
        sizeBytes:
          at('sizeInBytes') === undefined || at('sizeInBytes') === null
            ? undefined
            : Number(at('sizeInBytes')),
        lastModified: at('lastModified') ? isoOf(String(at('lastModified'))) : undefined,
      };
    } catch {
      // Views have no detail; a detail that cannot be read is not worth failing a description for.
      return undefined;
    }
  }

  async inspect(
    ref: TableRef,
    columns: ColumnInfo[],
    signal: AbortSignal,
  ): Promise<{ scanned: number; sampled: boolean; columns: ColumnInsight[] }> {
    const total = await this.rowCount(ref);
    const s = dx.inspect(this.naming, ref, columns, total);
    const row = (await this.read(s.sql, s.params, signal)).rows[0]!;
    return { ...insightsFrom(row, columns), sampled: total > INSPECT_SAMPLE_ROWS };
  }

  renderDraft(draft: QueryDraft): string {
    return dx.renderDraft(draft);
  }

  async profile(
    ref: TableRef,
    options: { topValues: number; signal: AbortSignal },
  ): Promise<ColumnProfile[]> {
    const columns = await this.columnsOf(ref);
    if (!columns) throw new NotFoundError(`${ref.layer}.${ref.name} does not exist in ${this.catalog}`);
    const total = await this.rowCount(ref);
    const stats = (await this.read(dx.profile(this.naming, ref, columns, total), undefined, options.signal))
      .rows[0]!;
    const scanned = Number(stats[0]);
    const profiles: ColumnProfile[] = [];
    for (const [i, c] of columns.entries()) {
      const nulls = Number(stats[1 + i * 4]);
      const distinct = stats[2 + i * 4] === null ? null : Number(stats[2 + i * 4]);
      let top: ColumnProfile['top'];
      if (/^string/i.test(c.type) && distinct !== null && distinct <= 50 && options.topValues > 0) {
        const values = await this.read(
          dx.topValues(this.naming, ref, c.name, options.topValues, total),
          undefined,
          options.signal,
        );
        top = values.rows.map((v) => ({ value: String(v[0]), count: Number(v[1]) }));
      }
      profiles.push({
        name: c.name,
        type: c.type,
        nullable: c.nullable,
        nullShare: scanned === 0 ? null : Math.round((nulls / scanned) * 10_000) / 10_000,
        approxDistinct: distinct,
        min: (stats[3 + i * 4] as string | null) ?? null,
        max: (stats[4 + i * 4] as string | null) ?? null,
        top,
      });
    }
    return profiles;
  }

  async preview(ref: TableRef, rows: number): Promise<QueryResult> {
    const started = performance.now();
    const result = await this.read(dx.preview(this.naming, ref, rows));
    return {
      columns: result.columns,
      rows: result.rows,
      truncated: false,
      elapsedMs: Math.round(performance.now() - started),
    };
  }

  // ---- the checked query path

  async validateQuery(
    text: string,
    signal?: AbortSignal,
  ): Promise<{ columns: ColumnInfo[]; tables: string[] }> {
    const checked = await checkQuery(text, this.naming);
    const session = {
      catalog: this.naming.catalog,
      schema: this.naming.schema('bronze'),
      timeoutSeconds: 60,
    };
    try {
      const plan = await this.runOn(session, dx.explain(checked.sql), signal);
      const planText = plan.rows.map((r) => String(r[0] ?? '')).join('\n');
      const failure = /Error occurred during query planning:\s*([\s\S]*)/.exec(planText);
      if (failure) throw Object.assign(new Error(failure[1]!.trim()), { planning: true });
      const described = await this.runOn(session, dx.describeQuery(checked.sql), signal);
      const columns = described.rows.map((r) => ({ name: String(r[0]), type: String(r[1]), nullable: true }));
      return { columns, tables: checked.tables };
    } catch (err) {
      throw this.fail(err, 'query');
    }
  }

  private async runOn(
    options: { catalog?: string; schema?: string; timeoutSeconds?: number },
    sql: string,
    signal?: AbortSignal,
  ): Promise<{ columns: ColumnInfo[]; rows: unknown[][] }> {
    const op = await this.warehouse.execute(options, sql, {}, signal);
    try {
      return await readAll(op);
    } finally {
      await op.close().catch(() => {});
    }
  }

  async query(text: string, options: QueryOptions): Promise<QueryResult> {
    const checked = await checkQuery(text, this.naming);
    const started = performance.now();
    // Sessions are kept per timeout: a few steps (not one per value asked for) keep their number small; the
    // client timer below holds the exact limit when the step is longer.
    const asked = Math.max(1, Math.round(options.timeoutMs / 1000));
    const timeoutSeconds = TIMEOUT_STEPS.find((t) => t >= asked) ?? asked;
    let op: DriverOperation;
    try {
      op = await this.warehouse.execute(
        { catalog: this.naming.catalog, schema: this.naming.schema('bronze'), timeoutSeconds },
        checked.sql,
        { maxRows: Math.min(options.maxRows + 1, 10_000) },
        options.signal,
      );
    } catch (err) {
      throw this.fail(err, 'query');
    }
    let timedOut = false;
    let stopped = false;
    const stop = () => {
      stopped = true;
      void op.cancel().catch(() => {});
    };
    // STATEMENT_TIMEOUT stops it on the warehouse; this is the backstop if the answer gets lost.
    const timer = setTimeout(
      () => {
        timedOut = true;
        stop();
      },
      options.timeoutMs + (timeoutSeconds === asked ? 5_000 : 0),
    );
    options.signal.addEventListener('abort', stop);
    if (options.signal.aborted) stop();
    const columns: ColumnInfo[] = [];
    const shown: unknown[][] = [];
    let bytes = 0;
    let truncated = false;
    let spilled = 0;
    let complete = true;
    const limit = options.spillMaxRows ?? 1_000_000;
    async function* all(): AsyncGenerator<unknown[]> {
      for (;;) {
        const chunk = await op.fetchChunk({ maxRows: 1000 });
        if (columns.length === 0) {
          columns.push(...schemaColumns(await op.getSchema()));
          // The driver returns rows keyed by column name: two columns of one name would show one twice.
          const seen = new Set<string>();
          for (const c of columns) {
            if (seen.has(c.name)) {
              throw new UserInputError(`The result has two columns named ${c.name}`, {
                hint: 'Give them distinct aliases (AS …) and run the query again',
              });
            }
            seen.add(c.name);
          }
        }
        for (const raw of chunk) {
          yield columns.map((c) => cleanValue((raw as Record<string, unknown>)[c.name]));
        }
        if (!(await op.hasMoreRows())) return;
      }
    }
    const take = (row: unknown[]): boolean => {
      const size = Buffer.byteLength(JSON.stringify(row));
      if (shown.length >= options.maxRows || (bytes + size > options.maxBytes && shown.length > 0)) {
        truncated = true;
        return false;
      }
      shown.push(row);
      bytes += size;
      return true;
    };
    try {
      let spill: QueryResult['spill'];
      const rows = all();
      if (options.spillDir) {
        const first = await rows.next();
        const head = first.done ? [] : [first.value];
        const every = async function* (): AsyncGenerator<unknown[]> {
          for (const row of head) yield row;
          for await (const row of rows) yield row;
        };
        const capped = async function* (): AsyncGenerator<unknown[]> {
          for await (const row of every()) {
            if (spilled >= limit) {
              complete = false;
              return;
            }
            spilled++;
            if (!truncated) take(row);
            yield row;
          }
        };
        const result = await spillCsv({
          columns: columns.map((c) => c.name),
          rows: capped() as AsyncIterable<never>,
          dir: options.spillDir,
          name: this.catalog,
        });
        spill = { ...result, complete: complete && result.complete };
      } else {
        for await (const row of rows) if (!take(row)) break;
      }
      // Cut short (rows, bytes or the spill limit): the rest is not wanted, so the warehouse may stop.
      if (truncated || !complete) stop();
      return {
        columns,
        rows: shown,
        truncated,
        elapsedMs: Math.round(performance.now() - started),
        ...(spill ? { spill } : {}),
      };
    } catch (err) {
      if (options.signal.aborted) throw new CancelledError();
      if (timedOut || isTimeout(err)) {
        throw new UserInputError(
          `The query was stopped after the time limit of ${options.timeoutMs / 1000} s`,
          {
            hint: 'Add filters or a LIMIT, aggregate before returning rows, or raise timeout_seconds (at most 300)',
          },
        );
      }
      if (isCancelled(err) && !stopped) {
        throw new UpstreamError(
          'Databricks cancelled the query before it finished (someone cancelled it in the workspace, or the warehouse stopped)',
          {
            hint: 'Run it again; if it keeps happening, check the query history of the warehouse',
          },
        );
      }
      throw this.fail(err, 'query');
    } finally {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', stop);
      await op.close().catch(() => {});
    }
  }

  // ---- loads

  async stage(target: TableRef, runId: string): Promise<StagedLoad> {
    await this.ensureBootstrapped();
    const workDir = join(this.workDir, RUN_DIR(process.pid, runId));
    mkdirSync(workDir, { recursive: true, mode: 0o700 });
    return new DatabricksStagedLoad(this, target, runId, workDir);
  }

  async commitRecords(records: CommitRecords): Promise<void> {
    await this.recordRun(records.run);
    if (records.state) {
      const s = records.state;
      const ins = dx.upsertState(this.naming, {
        target: s.target,
        connection: s.connection,
        source: s.source,
        cursor_column: s.cursorColumn,
        key_columns: JSON.stringify(s.keyColumns),
        watermark: s.watermark,
      });
      await this.write(ins.sql, ins.params);
    }
    await this.saveLineage(records.lineage);
  }

  private async saveLineage(l: LineageRecord): Promise<void> {
    const ins = dx.upsertLineage(this.naming, {
      layer: l.target.layer,
      name: l.target.name,
      kind: l.kind,
      inputs: JSON.stringify(l.inputs),
      definition: l.definition,
    });
    await this.write(ins.sql, ins.params);
  }

  /** Run a load statement; `retry` once for idempotent ones (COPY INTO skips files it has loaded). */
  async load(sql: string, signal: AbortSignal, retry = false): Promise<void> {
    try {
      await this.warehouse.run(sql, { signal });
    } catch (err) {
      if (retry && !signal.aborted && !errorClass(err) && !isCancelled(err)) {
        this.warehouse.log.warn(`retrying an idempotent load after: ${databricksMessage(err)}`);
        await this.write(sql, undefined, signal);
        return;
      }
      throw this.fail(err, 'write');
    }
  }

  async put(local: string, remote: string, allowed: string): Promise<void> {
    try {
      await this.warehouse.run(dx.put(local, remote), { staging: allowed });
    } catch (err) {
      throw this.fail(err, 'write');
    }
  }

  async removeRemote(remote: string, allowed: string): Promise<void> {
    await this.warehouse.run(dx.remove(remote), { staging: allowed });
  }

  // ---- transforms and views

  renderTransform(plan: TransformPlan): Statement {
    const r = dx.renderTransform(this.naming, plan);
    return { sql: r.sql, params: r.params };
  }

  async previewTransform(plan: TransformPlan, rows: number): Promise<QueryResult> {
    const r = dx.renderTransform(this.naming, plan);
    const started = performance.now();
    try {
      const result = await this.warehouse.run(dx.previewSelect(r.sql, rows), { params: r.named });
      return { ...result, truncated: false, elapsedMs: Math.round(performance.now() - started) };
    } catch (err) {
      throw transformError(err, this);
    }
  }

  async runTransform(plan: TransformPlan, lineage: LineageRecord): Promise<{ rows: number }> {
    await this.ensureBootstrapped();
    const r = dx.renderTransform(this.naming, plan);
    try {
      await this.warehouse.run(dx.createTableAs(this.naming, plan.target, r.sql), { params: r.named });
    } catch (err) {
      throw transformError(err, this);
    }
    await this.saveLineage(lineage);
    return { rows: await this.rowCount(plan.target) };
  }

  async createView(
    ref: TableRef,
    selectSql: string,
    replace: boolean,
  ): Promise<{ columns: ColumnInfo[]; tables: string[] }> {
    const checked = await this.validateQuery(selectSql);
    const lineage: LineageRecord = {
      target: ref,
      kind: 'view',
      inputs: checked.tables,
      definition: selectSql,
    };
    await this.ensureBootstrapped();
    const s = dx.objectKind(this.naming, ref);
    const kind = (await this.readMeta(s.sql, s.params))[0]?.[0] as string | undefined;
    if (kind && !replace) {
      throw new UserInputError(`${ref.layer}.${ref.name} already exists`, {
        hint: 'Pass replace: true to redefine it, or choose another name',
      });
    }
    // Names in a view are resolved when it is read: every layer is qualified with the tenant's catalog, and
    // the view is created from a session in the tenant's bronze schema, which Spark stores with the view for
    // the names left unqualified.
    const body = mapLayers(selectSql, this.naming, { qualify: true });
    if (kind && kind.toUpperCase() !== 'VIEW') await this.write(dx.dropTableIfExists(this.naming, ref));
    try {
      await this.runOn(
        { catalog: this.naming.catalog, schema: this.naming.schema('bronze') },
        dx.createView(this.naming, ref, body, replace),
      );
    } catch (err) {
      throw this.fail(err, 'write');
    }
    await this.saveLineage(lineage);
    return checked;
  }

  // ---- metadata

  async listConnections(): Promise<ConnectionRecord[]> {
    return (await this.readMeta(dx.selectConnections(this.naming))).map((r) => ({
      name: String(r[0]),
      kind: 'postgres' as const,
      host: String(r[2]),
      port: Number(r[3]),
      database: String(r[4]),
      user: String(r[5]),
      sslMode: r[6] as ConnectionRecord['sslMode'],
      createdAt: isoOf(String(r[7])),
      updatedAt: isoOf(String(r[8])),
    }));
  }

  async getConnection(name: string): Promise<ConnectionRecord | undefined> {
    return (await this.listConnections()).find((c) => c.name === name);
  }

  async saveConnection(c: ConnectionRecord): Promise<void> {
    await this.ensureBootstrapped();
    const ins = dx.upsertConnection(this.naming, {
      name: c.name,
      kind: c.kind,
      host: c.host,
      port: c.port,
      database: c.database,
      user_name: c.user,
      ssl_mode: c.sslMode,
      created_at: c.createdAt,
      updated_at: c.updatedAt,
    });
    await this.write(ins.sql, ins.params);
  }

  async getSyncState(target: string): Promise<SyncState | undefined> {
    const s = dx.selectState(this.naming, target);
    const r = (await this.readMeta(s.sql, s.params))[0];
    if (!r) return undefined;
    return {
      target: String(r[0]),
      connection: String(r[1]),
      source: String(r[2]),
      cursorColumn: String(r[3]),
      keyColumns: JSON.parse(String(r[4])) as string[],
      watermark: r[5] === null || r[5] === undefined ? null : String(r[5]),
    };
  }

  async recordRun(run: SyncRunRecord): Promise<void> {
    await this.ensureBootstrapped();
    const s = dx.insertRun(this.naming, {
      run_id: run.runId,
      kind: run.kind,
      connection: run.connection ?? null,
      source: run.source,
      target_layer: run.target.layer,
      target_name: run.target.name,
      mode: run.mode,
      status: run.status,
      started_at: run.startedAt.toISOString(),
      finished_at: run.finishedAt.toISOString(),
      rows: run.rows,
      bytes: run.bytes,
      duration_ms: Math.round(run.finishedAt.getTime() - run.startedAt.getTime()),
      watermark: run.watermark ?? null,
      error: run.error ?? null,
    });
    await this.write(s.sql, s.params);
  }

  async lastRuns(limit: number): Promise<SyncRunRecord[]> {
    return (await this.readMeta(dx.selectRuns(this.naming, limit))).map((r) => ({
      runId: String(r[0]),
      kind: r[1] as 'sync' | 'upload',
      connection: r[2] === null ? undefined : String(r[2]),
      source: String(r[3]),
      target: { layer: r[4] as Layer, name: String(r[5]) },
      mode: r[6] as 'full' | 'incremental',
      status: r[7] as SyncRunRecord['status'],
      startedAt: new Date(isoOf(String(r[8]))),
      finishedAt: new Date(isoOf(String(r[9]))),
      rows: Number(r[10]),
      bytes: Number(r[11]),
      watermark: r[12] === null ? undefined : String(r[12]),
      error: r[13] === null ? undefined : String(r[13]),
    }));
  }

  async lineageOf(ref: TableRef): Promise<LineageRecord | undefined> {
    const s = dx.selectLineage(this.naming, ref);
    const r = (await this.readMeta(s.sql, s.params))[0];
    if (!r) return undefined;
    return {
      target: { layer: r[0] as Layer, name: String(r[1]) },
      kind: r[2] as LineageRecord['kind'],
      inputs: JSON.parse(String(r[3])) as string[],
      definition: String(r[4]),
    };
  }

  toString(): string {
    return this.ref({ layer: 'bronze', name: this.catalog });
  }
}

function transformError(err: unknown, tenant: DatabricksTenant): Error {
  if (err instanceof Error && 'kind' in err) return err;
  return new UserInputError(`The transform failed on the data: ${tenant.engineMessage(err)}`, {
    hint: "Fix the step named in the message, or set on_invalid: 'null' to turn values that do not convert into NULL; nothing was changed",
  });
}

/** Databricks text timestamps ('2024-01-02 03:04:05' or ISO) as ISO 8601 in UTC. */
function isoOf(text: string): string {
  const t = text.trim().replace(' ', 'T');
  const withZone = /[zZ]|[+-]\d\d:?\d\d$/.test(t) ? t : `${t}Z`;
  const d = new Date(withZone);
  return Number.isNaN(d.getTime()) ? text : d.toISOString().replace(/\.000Z$/, 'Z');
}

/** Every row of a finished statement, fetched 10,000 at a time (for the server's own, bounded statements). */
async function readAll(op: DriverOperation): Promise<{ columns: ColumnInfo[]; rows: unknown[][] }> {
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

function sessionKey(options: { catalog?: string; schema?: string; timeoutSeconds?: number }): string {
  return `${options.catalog ?? ''}|${options.schema ?? ''}|${options.timeoutSeconds ?? 3600}`;
}

/** The warehouse no longer holds the session (it stopped, or expired an idle one). */
function isLostSession(err: unknown): boolean {
  return /invalid sessionhandle|session handle.*(not been initialized|already closed)|session \[[^\]]*\] is closed/i.test(
    rawMessage(err),
  );
}

/** STATEMENT_TIMEOUT values sessions are opened with (seconds); the tools allow up to 300. */
const TIMEOUT_STEPS = [10, 30, 60, 120, 300];

const NUMERIC_KINDS = new Set(['int16', 'int32', 'int64', 'float32', 'float64', 'decimal']);

/**
 * A load into Databricks: each part is converted to Parquet on this machine (an in-memory DuckDB), PUT into
 * the landing volume under the run's own folder, and removed locally; commit builds the table from the run's
 * files in one statement (full) or COPY INTO a staging table and MERGE (incremental).
 */
class DatabricksStagedLoad implements StagedLoad {
  rows = 0;
  private engine: { instance: DuckDBInstance; conn: DuckDBConnection } | undefined;
  private columns: ColumnSpec[] | undefined;
  private readonly remoteFiles: string[] = [];
  private readonly maxes = new Map<string, string>();
  private part = 0;
  private done = false;
  private stagingCreated = false;
  private readonly remoteDir: string;
  private readonly staging: TableRef;

  constructor(
    private readonly tenant: DatabricksTenant,
    private readonly target: TableRef,
    runId: string,
    readonly workDir: string,
  ) {
    this.remoteDir = `${tenant.naming.volumePath}/${target.layer}_${target.name}/${RUN_DIR(process.pid, runId)}`;
    this.staging = { layer: target.layer, name: `_stage_${process.pid}_${runId}` };
  }

  private async duck(): Promise<DuckDBConnection> {
    if (!this.engine) {
      const { DuckDBInstance } = await loadDuckDB();
      const instance = await DuckDBInstance.create(':memory:', {
        threads: '2',
        memory_limit: this.tenant.warehouse.settings.loadMemoryLimit ?? '128MB',
        autoinstall_known_extensions: 'false',
        autoload_known_extensions: 'false',
      });
      this.engine = { instance, conn: await instance.connect() };
    }
    return this.engine.conn;
  }

  private async rowsOf(statement: Statement): Promise<unknown[][]> {
    const conn = await this.duck();
    const reader = await conn.runAndReadAll(statement.sql, statement.params as never);
    return reader.getRowsJS() as unknown[][];
  }

  /** Convert, measure, PUT, and forget the local copy. */
  private async ship(parquet: string, columns: ColumnSpec[]): Promise<number> {
    const stats = (
      await this.rowsOf(
        duck.parquetStats(
          parquet,
          columns.map((c) => c.name),
        ),
      )
    )[0]!;
    columns.forEach((c, i) => {
      const value = stats[i + 1];
      if (value === null || value === undefined) return;
      const text = String(value);
      const prev = this.maxes.get(c.name);
      if (prev === undefined || greater(text, prev, c.type)) this.maxes.set(c.name, text);
    });
    const remote = `${this.remoteDir}/${basename(parquet)}`;
    await this.tenant.put(parquet, remote, this.workDir);
    this.remoteFiles.push(remote);
    rmSync(parquet, { force: true });
    return Number(stats[0]);
  }

  async appendCsvPart(path: string, columns: PartColumn[]): Promise<number> {
    this.columns ??= columns.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable }));
    const out = join(this.workDir, `part-${String(this.part++).padStart(5, '0')}.parquet`);
    const conn = await this.duck();
    const statement = duck.csvPartToParquet(path, columns, out);
    await conn.run(statement.sql, statement.params as never);
    const n = await this.ship(out, this.columns);
    this.rows += n;
    return n;
  }

  async appendFile(spec: FileSpec): Promise<{ rows: number; columns: ColumnInfo[] }> {
    const read = duck.readFile(spec);
    const select = spec.columns ? `SELECT ${duck.renameDeclared(spec.columns)} FROM (${read.sql})` : read.sql;
    const described = await this.rowsOf({ sql: duck.describeSelect(select), params: read.params });
    // The naming rule of tables applies to the file's columns too (the Parquet part carries the bronze names).
    const names = bronzeColumnNames(described.map((r) => String(r[0])));
    const fileColumns = described.map((r, i) => ({
      name: String(r[0]),
      as: names[i]!,
      type: duck.logicalOf(String(r[1])) ?? ({ kind: 'text' } as LogicalType),
    }));
    const columns = fileColumns.map((c) => ({ name: c.as, type: c.type, nullable: true }));
    this.columns = columns;
    const out = join(this.workDir, `part-${String(this.part++).padStart(5, '0')}.parquet`);
    const statement = duck.fileToParquet({ sql: select, params: read.params }, fileColumns, out);
    const conn = await this.duck();
    await conn.run(statement.sql, statement.params as never);
    this.rows = await this.ship(out, columns);
    return {
      rows: this.rows,
      columns: columns.map((c) => ({ name: c.name, type: dx.typeName(c.type), nullable: true })),
    };
  }

  async maxOf(column: string): Promise<string | null> {
    return this.maxes.get(column) ?? null;
  }

  async commit(
    mode: 'replace' | 'merge',
    keys: string[],
    records: CommitRecords,
    signal: AbortSignal,
  ): Promise<{ rows: number }> {
    const n = this.tenant.naming;
    const columns = this.columns ?? [{ name: 'placeholder', type: { kind: 'int32' }, nullable: true }];
    try {
      const existing = await this.tenant.columnsOf(this.target);
      if (mode === 'merge' && existing) {
        const have = existing.map((c) => `${c.name} ${c.type.toLowerCase()}`);
        const incoming = columns.map((c) => `${c.name} ${dx.typeName(c.type).toLowerCase()}`);
        if (have.join(',') !== incoming.join(',')) {
          throw new UserInputError(
            `The columns of ${this.target.layer}.${this.target.name} (${have.join(', ')}) differ from the source's (${incoming.join(', ')}), so the new rows cannot be merged`,
            { hint: "Run a sync with sync_mode 'full' to rebuild the table with the source's columns" },
          );
        }
        if (this.remoteFiles.length > 0) {
          this.stagingCreated = true;
          await this.tenant.load(dx.createStaging(n, this.staging, columns), signal);
          await this.tenant.load(dx.copyInto(n, this.staging, this.remoteDir), signal, true);
          if (signal.aborted) throw new CancelledError();
          await this.tenant.load(
            dx.mergeFrom(n, this.target, this.staging, keys, records.state?.cursorColumn),
            signal,
          );
        }
      } else if (this.remoteFiles.length > 0) {
        if (signal.aborted) throw new CancelledError();
        await this.tenant.load(dx.replaceFromFiles(n, this.target, this.remoteDir, columns), signal);
      } else {
        await this.tenant.load(dx.replaceEmpty(n, this.target, columns), signal);
      }
      // Delta has no transaction across tables: the records follow the data they describe.
      await this.tenant.commitRecords(records);
      return { rows: await this.tenant.rowCount(this.target) };
    } finally {
      await this.abort();
    }
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    const n = this.tenant.naming;
    try {
      if (this.stagingCreated) {
        await this.tenant
          .load(dx.dropTableIfExists(n, this.staging), new AbortController().signal)
          .catch(() => {});
      }
      for (const remote of this.remoteFiles) {
        await this.tenant.removeRemote(remote, this.workDir).catch(() => {});
      }
    } finally {
      this.engine?.conn.closeSync();
      this.engine?.instance.closeSync();
      this.engine = undefined;
      rmSync(this.workDir, { recursive: true, force: true });
    }
  }
}

/** Compare two maxima as text by their logical type (numbers as numbers; ISO dates and text as text). */
function greater(a: string, b: string, type: LogicalType): boolean {
  if (NUMERIC_KINDS.has(type.kind)) {
    if (/^-?\d+$/.test(a) && /^-?\d+$/.test(b)) return BigInt(a) > BigInt(b);
    return Number(a) > Number(b);
  }
  return a > b;
}
