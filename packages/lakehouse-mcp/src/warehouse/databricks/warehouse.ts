/**
 * The distributed warehouse: a Databricks SQL warehouse with Unity Catalog, reached with @databricks/sql
 * (Thrift; loaded on first use, telemetry off). A tenant is a catalog `tenant_<id>` with schemas bronze,
 * silver, gold and _meta (or, in a shared catalog, schemas `tenant_<id>_bronze`, ...), and a volume
 * `_meta.landing` where loads put their Parquet parts before COPY INTO / CREATE OR REPLACE picks them up.
 *
 * Every SQL text comes from databricks/dialect.ts. The driver is reached only through `DriverModule`, the
 * three objects the driver hands out (client, session, operation): tests replace that module with a fake.
 */
import { pathToFileURL } from 'node:url';
import {
  commandHint,
  AuthError,
  oneLine,
  errorText,
  CancelledError,
  HttpClient,
  isSwitchyardError,
  registerSecret,
  TokenCache,
  UpstreamError,
  type Logger,
  untrusted,
  upstreamInfo,
} from '@switchyard/core';
import * as dx from './dialect.js';
import type { ColumnInfo, Warehouse, WarehouseCheck } from '../types.js';
import { checkTenantId } from '../types.js';
import {
  type DriverOperation,
  type DriverSession,
  type DriverClient,
  type DriverModule,
  type DatabricksSettings,
  rawMessage,
  databricksMessage,
  isCancelled,
  unreachableError,
  connectionError,
  readAll,
  sessionKey,
  isLostSession,
} from './driver.js';
import { DatabricksTenant } from './tenant.js';

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
