/**
 * What every tool shares: the warehouse, the default tenant, the secret store, the limits. Built once in
 * `createServer` without touching disk or network; the warehouse opens a tenant on first use.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  commandHint,
  AuthError,
  NotFoundError,
  LocalFiles,
  registerSecret,
  splitDirList,
  PermissionError,
  UserInputError,
  type SwitchyardPaths,
  type Logger,
  type SecretStore,
} from '@switchyard/core';
import type { PostgresConfig } from './sources/postgres/connection.js';
import type { DatabricksAuth } from './warehouse/databricks/driver.js';
import { DatabricksWarehouse } from './warehouse/databricks/warehouse.js';
import { DuckDbWarehouse } from './warehouse/duckdb/warehouse.js';
import type { Layer, SqlDialect, TableRef, TenantWarehouse, Warehouse } from './warehouse/types.js';

/** Where the Databricks warehouse is and who signs in (secrets from the environment, else the keychain). */
export interface DatabricksConfig {
  host: string | undefined;
  httpPath: string | undefined;
  warehouseId: string | undefined;
  sharedCatalog: string | undefined;
  token: string | undefined;
  clientId: string | undefined;
  clientSecret: string | undefined;
  apiUrl: string | undefined;
  driverModule: string | undefined;
  connectTimeoutMs: number;
}

export function databricksFromEnv(
  env: NodeJS.ProcessEnv,
  options: { catalog?: string | undefined } = {},
): DatabricksConfig {
  const host = env.DATABRICKS_HOST?.trim()
    .replace(/^https?:\/\//, '')
    .replace(/\/+$/, '');
  const warehouseId =
    env.DATABRICKS_WAREHOUSE_ID?.trim() || /\/warehouses\/([^/?]+)/.exec(env.DATABRICKS_HTTP_PATH ?? '')?.[1];
  const httpPath =
    env.DATABRICKS_HTTP_PATH?.trim() || (warehouseId ? `/sql/1.0/warehouses/${warehouseId}` : undefined);
  return {
    host: host || undefined,
    httpPath,
    warehouseId: warehouseId || undefined,
    sharedCatalog: options.catalog || env.LAKEHOUSE_DATABRICKS_CATALOG || undefined,
    token: env.DATABRICKS_TOKEN || undefined,
    clientId: env.DATABRICKS_CLIENT_ID || undefined,
    clientSecret: env.DATABRICKS_CLIENT_SECRET || undefined,
    apiUrl: env.LAKEHOUSE_DATABRICKS_API_URL || undefined,
    driverModule: env.LAKEHOUSE_DATABRICKS_DRIVER_MODULE || undefined,
    connectTimeoutMs: Number(env.LAKEHOUSE_DATABRICKS_CONNECT_TIMEOUT_MS) || 30_000,
  };
}

/** The pinned tenant: an id, or a yes-word that pins the default tenant; a pin and a different default clash. */
function tenantPin(raw: string | undefined, named: string | undefined): string | undefined {
  const value = raw?.trim();
  if (!value || /^(0|false|no|off)$/i.test(value)) return undefined;
  if (/^(1|true|yes|on)$/i.test(value)) return named || 'default';
  if (named && named !== value) {
    throw new UserInputError(
      `The tenant pin '${value}' and the default tenant '${named}' differ: a pinned server works in its pinned tenant only`,
      { hint: 'Drop --tenant / LAKEHOUSE_TENANT, or set LAKEHOUSE_TENANT_PIN=1 to pin the --tenant one' },
    );
  }
  return value;
}

/**
 * Tenants assigned per caller, for a server that many callers reach over HTTP (LAKEHOUSE_TENANTS_BY_CALLER): a JSON
 * object from principal (`key`, `user:<tenant id>:<object id>`, as the audit log names callers) to lakehouse tenant,
 * inline or in a file. A caller then reaches its own tenant only, and a caller not in it nothing.
 */
function tenantsByCaller(
  raw: string | undefined,
  pinned: string | undefined,
): Map<string, string> | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  if (pinned !== undefined) {
    throw new UserInputError(
      'LAKEHOUSE_TENANTS_BY_CALLER and a tenant pin both say which tenant is reachable: set one of them',
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.startsWith('{') ? value : readFileSync(value, 'utf8'));
  } catch (err) {
    throw new UserInputError(
      `LAKEHOUSE_TENANTS_BY_CALLER is neither a JSON object nor a readable JSON file (${err instanceof Error ? err.message.slice(0, 120) : String(err)})`,
      { hint: 'Give {"key": "acme", "user:<tenant id>:<object id>": "globex"}, inline or in a file' },
    );
  }
  const entries =
    parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? Object.entries(parsed) : [];
  const bad = entries.find(
    ([, tenant]) => typeof tenant !== 'string' || !/^[A-Za-z0-9_-]{1,63}$/.test(tenant),
  );
  if (entries.length === 0 || bad) {
    throw new UserInputError(
      bad
        ? `LAKEHOUSE_TENANTS_BY_CALLER assigns ${JSON.stringify(bad[1])} to '${bad[0]}', which is not a tenant id (letters, digits, _ and -, at most 63)`
        : 'LAKEHOUSE_TENANTS_BY_CALLER assigns no tenant to anyone',
    );
  }
  return new Map(entries as Array<[string, string]>);
}

export interface LakehouseSettings {
  home: string;
  defaultTenant: string;
  /** The only tenant tools, resources and prompts may reach (`--tenant-pin`, `LAKEHOUSE_TENANT_PIN`). */
  pinnedTenant: string | undefined;
  /** Each caller's only tenant (LAKEHOUSE_TENANTS_BY_CALLER). */
  tenantsByCaller: Map<string, string> | undefined;
  profile: string;
  /** Bytes per CSV part while syncing. */
  partBytes: number;
  maxUploadBytes: number;
  /** Where uploads may read local files from (core's policy). */
  files: LocalFiles;
  memoryLimit: string;
  loadMemoryLimit: string;
  /** Resident memory the query process may reach before it is stopped. */
  queryProcessBytes: number;
  /** Disk a query engine may use for temp files, e.g. `4GB`. */
  tempLimit: string;
  warehouse: SqlDialect;
  databricks: DatabricksConfig;
}

export function settingsFromEnv(
  env: NodeJS.ProcessEnv,
  options: {
    home?: string | undefined;
    tenant?: string | undefined;
    /** `--tenant-pin <id>`; LAKEHOUSE_TENANT_PIN is an id, or `1`/`true` to pin the default tenant. */
    tenantPin?: string | undefined;
    profile: string;
    dataDir: string;
    /** `--allow-dir` and its env variables, gathered by the CLI. */
    allowDirs?: string[];
    paths?: SwitchyardPaths;
    warehouse?: string | undefined;
    catalog?: string | undefined;
  },
): LakehouseSettings {
  const warehouse = (options.warehouse || env.LAKEHOUSE_WAREHOUSE || 'duckdb').toLowerCase();
  if (warehouse !== 'duckdb' && warehouse !== 'databricks') {
    throw new UserInputError(`'${warehouse}' is not a warehouse: use duckdb or databricks`);
  }
  const home = options.home || env.LAKEHOUSE_HOME || join(options.dataDir, 'lakehouse');
  const files = new LocalFiles({
    server: 'lakehouse-mcp',
    envPrefix: 'LAKEHOUSE',
    allowDirs: options.allowDirs ?? [],
    // LAKEHOUSE_FILE_ROOTS (older than --allow-dir) adds folders to read from.
    readRoots: splitDirList(env.LAKEHOUSE_FILE_ROOTS?.replaceAll(';', ',')),
    // The warehouse files, staged loads and spills are the server's own, like Switchyard's folders.
    denied: [home],
    env,
    ...(options.paths ? { paths: options.paths } : {}),
  });
  const named = options.tenant || env.LAKEHOUSE_TENANT;
  const pinned = tenantPin(options.tenantPin || env.LAKEHOUSE_TENANT_PIN, named);
  return {
    home,
    defaultTenant: pinned ?? named ?? 'default',
    pinnedTenant: pinned,
    tenantsByCaller: tenantsByCaller(env.LAKEHOUSE_TENANTS_BY_CALLER, pinned),
    profile: options.profile,
    partBytes: Math.max(1, Number(env.LAKEHOUSE_SYNC_PART_MB) || 32) * 1024 * 1024,
    maxUploadBytes: Math.max(1, Number(env.LAKEHOUSE_MAX_UPLOAD_MB) || 2048) * 1024 * 1024,
    files,
    memoryLimit: env.LAKEHOUSE_MEMORY_LIMIT || '1GB',
    loadMemoryLimit: env.LAKEHOUSE_LOAD_MEMORY_LIMIT || '128MB',
    queryProcessBytes: Math.max(256, Number(env.LAKEHOUSE_QUERY_MEMORY_MB) || 2048) * 1024 * 1024,
    tempLimit: env.LAKEHOUSE_TEMP_LIMIT || '4GB',
    warehouse,
    databricks: databricksFromEnv(env, { catalog: options.catalog }),
  };
}

export class Lakehouse {
  readonly warehouse: Warehouse;

  constructor(
    readonly settings: LakehouseSettings,
    private readonly secretStore: () => SecretStore,
    readonly log: Logger,
  ) {
    const d = settings.databricks;
    this.warehouse =
      settings.warehouse === 'databricks'
        ? new DatabricksWarehouse({
            host: d.host ?? '',
            httpPath: d.httpPath ?? '',
            warehouseId: d.warehouseId,
            sharedCatalog: d.sharedCatalog,
            auth: () => this.databricksAuth(),
            home: settings.home,
            log,
            apiUrl: d.apiUrl,
            driverModule: d.driverModule,
            connectTimeoutMs: d.connectTimeoutMs,
            loadMemoryLimit: settings.loadMemoryLimit,
          })
        : new DuckDbWarehouse({
            home: settings.home,
            log,
            memoryLimit: settings.memoryLimit,
            loadMemoryLimit: settings.loadMemoryLimit,
            queryProcessBytes: settings.queryProcessBytes,
            tempLimit: settings.tempLimit,
          });
  }

  /** What is missing from the Databricks configuration, if anything (checked on use, not at start-up). */
  databricksProblem(): string | undefined {
    const d = this.settings.databricks;
    if (this.settings.warehouse !== 'databricks') return undefined;
    if (!d.host) return 'DATABRICKS_HOST is not set';
    if (!d.httpPath) return 'neither DATABRICKS_WAREHOUSE_ID nor DATABRICKS_HTTP_PATH is set';
    return undefined;
  }

  /**
   * A tenant's warehouse, for `principal` (who calls: see core's `ToolContext.principal`). With tenants assigned per
   * caller (LAKEHOUSE_TENANTS_BY_CALLER, for HTTP) a caller reaches only their own; with a pin, only the pinned one.
   */
  async tenant(id: string | undefined, principal?: string): Promise<TenantWarehouse> {
    const problem = this.databricksProblem();
    if (problem) {
      throw new UserInputError(`The Databricks warehouse is not configured: ${problem}`, {
        hint: 'Set DATABRICKS_HOST and DATABRICKS_WAREHOUSE_ID (or DATABRICKS_HTTP_PATH), or use the local warehouse (LAKEHOUSE_WAREHOUSE=duckdb)',
      });
    }
    const assigned = this.assignedTenant(principal);
    if (assigned !== undefined && id !== undefined && id !== assigned) {
      throw new PermissionError(
        `Tenant '${id}' is not yours to reach: ${principal} works in tenant '${assigned}' only; nothing was read or changed`,
        { hint: `Omit tenant_id (or pass '${assigned}')` },
      );
    }
    const pin = this.settings.pinnedTenant;
    if (pin !== undefined && id !== undefined && id !== pin) {
      throw new PermissionError(
        `This server is pinned to tenant '${pin}', so tenant '${id}' cannot be reached from it; nothing was read or changed`,
        {
          hint: `Omit tenant_id (or pass '${pin}'); another tenant needs its own server entry with its own pin`,
        },
      );
    }
    return this.warehouse.tenant(id ?? assigned ?? this.settings.defaultTenant);
  }

  /** The tenants `principal` may see: their assigned one, the pinned one, or every tenant under the home. */
  async reachableTenants(principal?: string): Promise<string[]> {
    const assigned = this.assignedTenant(principal);
    if (assigned !== undefined) return [assigned];
    const pin = this.settings.pinnedTenant;
    return pin !== undefined ? [pin] : this.warehouse.tenants();
  }

  /** With tenants assigned per caller: the caller's tenant; a caller without one is refused outright. */
  private assignedTenant(principal: string | undefined): string | undefined {
    const byCaller = this.settings.tenantsByCaller;
    if (!byCaller || principal === undefined) return undefined;
    const assigned = byCaller.get(principal);
    if (assigned === undefined) {
      throw new PermissionError(
        `No lakehouse tenant is assigned to ${principal}, so nothing can be read or changed for it`,
        { hint: 'Add it to LAKEHOUSE_TENANTS_BY_CALLER on the server' },
      );
    }
    return assigned;
  }

  /** Keychain accounts of the Databricks secrets: one per workspace (token) or per workspace and client. */
  databricksAccount(clientId?: string): string {
    const host = this.settings.databricks.host ?? '';
    return clientId ? `databricks/${host}/${clientId}` : `databricks/${host}`;
  }

  /** Databricks credentials: a token or OAuth M2M from the environment, else what login stored. */
  async databricksAuth(): Promise<DatabricksAuth> {
    const d = this.settings.databricks;
    let auth: DatabricksAuth | undefined;
    if (d.token) auth = { kind: 'token', token: d.token };
    else if (d.clientId && d.clientSecret)
      auth = { kind: 'oauth-m2m', clientId: d.clientId, clientSecret: d.clientSecret };
    else if (d.clientId) {
      const secret = await this.secrets.get(this.secretService(), this.databricksAccount(d.clientId));
      if (secret) auth = { kind: 'oauth-m2m', clientId: d.clientId, clientSecret: secret };
    } else {
      const token = await this.secrets.get(this.secretService(), this.databricksAccount());
      if (token) auth = { kind: 'token', token };
    }
    if (!auth) {
      throw new AuthError(`No Databricks credentials for ${d.host ?? 'the workspace'}`, {
        hint: `Set DATABRICKS_TOKEN (or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET), or run \`${commandHint('lakehouse-mcp login --databricks')}\` in a terminal`,
      });
    }
    registerSecret(auth.kind === 'token' ? auth.token : auth.clientSecret);
    return auth;
  }

  get secrets(): SecretStore {
    return this.secretStore();
  }

  /** Where a connection's password lives: one keychain service per profile, one account per tenant+name. */
  secretService(): string {
    return `switchyard/lakehouse/${this.settings.profile}`;
  }

  secretAccount(tenant: string, connection: string): string {
    return `${tenant}/${connection}`;
  }

  /** A registered connection with its password from the secret store. */
  async connection(
    tenantId: string | undefined,
    name: string,
    principal?: string,
  ): Promise<{ tenant: TenantWarehouse; config: PostgresConfig }> {
    const tenant = await this.tenant(tenantId, principal);
    const record = await tenant.meta.getConnection(name);
    if (!record) {
      const known = (await tenant.meta.listConnections()).map((c) => c.name);
      throw new NotFoundError(`No connection named '${name}' in tenant '${tenant.tenant}'`, {
        candidates: known,
        hint: known.length
          ? 'Use one of the candidates, or register it with lakehouse_connect_postgres'
          : `Register one with lakehouse_connect_postgres (or \`${commandHint('lakehouse-mcp login --connection NAME')}\` in a terminal)`,
      });
    }
    const password = await this.secrets.get(this.secretService(), this.secretAccount(tenant.tenant, name));
    if (password === undefined) {
      throw new AuthError(`The password of connection '${name}' is not in the keychain`, {
        hint: `Run \`${commandHint(`lakehouse-mcp login --connection ${name}${tenant.tenant === this.settings.defaultTenant ? '' : ` --tenant ${tenant.tenant}`}`)}\` in a terminal, or call lakehouse_connect_postgres again with the password`,
      });
    }
    return {
      tenant,
      config: {
        host: record.host,
        port: record.port,
        database: record.database,
        user: record.user,
        password,
        sslMode: record.sslMode,
      },
    };
  }

  async close(): Promise<void> {
    await this.warehouse.close();
  }
}

const LAYER_NAMES = ['bronze', 'silver', 'gold'];

/** `silver.orders`, `orders` (bronze by default), or `tenant_x.silver.orders` for this tenant. */
export function parseTableRef(text: string, catalog: string, defaultLayer: Layer = 'bronze'): TableRef {
  const parts = splitName(text);
  if (parts.length === 3) {
    if (parts[0] !== catalog) {
      throw new UserInputError(
        `'${text}' names catalog ${parts[0]}, but this tenant's catalog is ${catalog}`,
        {
          hint: 'Tables of other tenants cannot be reached; pass tenant_id to work in another tenant',
        },
      );
    }
    parts.shift();
  }
  if (parts.length === 2) {
    if (!LAYER_NAMES.includes(parts[0]!)) {
      throw new UserInputError(
        `'${parts[0]}' is not a layer; use bronze, silver or gold (e.g. silver.orders)`,
      );
    }
    return { layer: parts[0] as Layer, name: parts[1]! };
  }
  if (parts.length === 1 && parts[0]) return { layer: defaultLayer, name: parts[0] };
  throw new UserInputError(`'${text}' is not a table name; use layer.table, e.g. bronze.orders`);
}

function splitName(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') {
      if (quoted && text[i + 1] === '"') {
        current += '"';
        i++;
      } else quoted = !quoted;
    } else if (ch === '.' && !quoted) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim());
}
