/**
 * What every tool shares: the warehouse, the default tenant, the secret store, the limits. Built once in
 * `createServer` without touching disk or network; the warehouse opens a tenant on first use.
 */
import { tmpdir, homedir } from 'node:os';
import { join } from 'node:path';
import { AuthError, NotFoundError, UserInputError, type Logger, type SecretStore } from '@switchyard/core';
import { defaultFileRoots } from './files.js';
import type { PostgresConfig } from './sources/postgres.js';
import { DuckDbWarehouse, type DuckDbTenant } from './warehouse/duckdb-warehouse.js';
import type { Layer, TableRef } from './warehouse/types.js';

export interface LakehouseSettings {
  home: string;
  defaultTenant: string;
  profile: string;
  /** Bytes per CSV part while syncing. */
  partBytes: number;
  maxUploadBytes: number;
  fileRoots: string[];
  memoryLimit: string;
  loadMemoryLimit: string;
}

export function settingsFromEnv(
  env: NodeJS.ProcessEnv,
  options: { home?: string | undefined; tenant?: string | undefined; profile: string; dataDir: string },
): LakehouseSettings {
  const home = options.home || env.LAKEHOUSE_HOME || join(options.dataDir, 'lakehouse');
  const roots = env.LAKEHOUSE_FILE_ROOTS
    ? env.LAKEHOUSE_FILE_ROOTS.split(/[:;]/).filter(Boolean)
    : defaultFileRoots(homedir(), process.cwd(), tmpdir());
  return {
    home,
    defaultTenant: options.tenant || env.LAKEHOUSE_TENANT || 'default',
    profile: options.profile,
    partBytes: Math.max(1, Number(env.LAKEHOUSE_SYNC_PART_MB) || 32) * 1024 * 1024,
    maxUploadBytes: Math.max(1, Number(env.LAKEHOUSE_MAX_UPLOAD_MB) || 2048) * 1024 * 1024,
    fileRoots: roots,
    memoryLimit: env.LAKEHOUSE_MEMORY_LIMIT || '1GB',
    loadMemoryLimit: env.LAKEHOUSE_LOAD_MEMORY_LIMIT || '128MB',
  };
}

export class Lakehouse {
  readonly warehouse: DuckDbWarehouse;

  constructor(
    readonly settings: LakehouseSettings,
    private readonly secretStore: () => SecretStore,
    readonly log: Logger,
  ) {
    this.warehouse = new DuckDbWarehouse({
      home: settings.home,
      log,
      memoryLimit: settings.memoryLimit,
      loadMemoryLimit: settings.loadMemoryLimit,
    });
  }

  tenant(id: string | undefined): Promise<DuckDbTenant> {
    return this.warehouse.tenant(id ?? this.settings.defaultTenant);
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
  ): Promise<{ tenant: DuckDbTenant; config: PostgresConfig }> {
    const tenant = await this.tenant(tenantId);
    const record = await tenant.getConnection(name);
    if (!record) {
      const known = (await tenant.listConnections()).map((c) => c.name);
      throw new NotFoundError(`No connection named '${name}' in tenant '${tenant.tenant}'`, {
        candidates: known,
        hint: known.length
          ? 'Use one of the candidates, or register it with lakehouse_connect_postgres'
          : 'Register one with lakehouse_connect_postgres (or `lakehouse-mcp login --connection NAME` in a terminal)',
      });
    }
    const password = await this.secrets.get(this.secretService(), this.secretAccount(tenant.tenant, name));
    if (password === undefined) {
      throw new AuthError(`The password of connection '${name}' is not in the keychain`, {
        hint: `Run \`lakehouse-mcp login --connection ${name}${tenant.tenant === this.settings.defaultTenant ? '' : ` --tenant ${tenant.tenant}`}\` in a terminal, or call lakehouse_connect_postgres again with the password`,
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
