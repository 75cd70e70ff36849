/**
 * Registering a PostgreSQL source: tested before anything is kept, then its password goes to the secret store (OS
 * keychain or encrypted file) and the rest of its settings to the tenant's catalog. The tool and `login` share it.
 */
import { commandHint, registerSecret, UserInputError } from '@switchyard/core';
import type { Lakehouse } from '../lakehouse.js';
import type { TenantWarehouse } from '../warehouse/types.js';
import { testConnection, type ConnectionReport } from './postgres/catalog.js';
import type { PostgresConfig } from './postgres/connection.js';

export interface SavedConnection {
  report: ConnectionReport;
  /** The name was registered before (its settings and password were replaced). */
  updated: boolean;
}

/** Test the connection, then keep its password in the secret store and its settings in the catalog. */
export async function savePostgresConnection(
  lh: Lakehouse,
  tenant: TenantWarehouse,
  name: string,
  config: PostgresConfig,
  signal?: AbortSignal,
): Promise<SavedConnection> {
  const report = await testConnection(config, signal);
  await lh.secrets.set(lh.secretService(), lh.secretAccount(tenant.tenant, name), config.password);
  const existing = await tenant.meta.getConnection(name);
  const now = new Date().toISOString();
  await tenant.meta.saveConnection({
    name,
    kind: 'postgres',
    host: config.host,
    port: config.port,
    database: config.database,
    user: config.user,
    sslMode: config.sslMode,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  });
  return { report, updated: existing !== undefined };
}

/** `lakehouse_connect_postgres`'s arguments. */
export interface PostgresSourceRequest {
  name: string;
  host: string;
  port: number;
  database: string;
  user: string;
  /** Omitted: the stored one. */
  password?: string | undefined;
  ssl_mode: PostgresConfig['sslMode'];
}

/** Register or update a source with the password given, else the one stored for its name. */
export async function registerPostgres(
  lh: Lakehouse,
  tenant: TenantWarehouse,
  request: PostgresSourceRequest,
  signal?: AbortSignal,
): Promise<SavedConnection & { config: PostgresConfig }> {
  const password =
    request.password ??
    (await lh.secrets.get(lh.secretService(), lh.secretAccount(tenant.tenant, request.name)));
  if (password === undefined) {
    throw new UserInputError(`No password is stored for connection '${request.name}', so one is needed`, {
      hint: `Pass password, or run \`${commandHint(`lakehouse-mcp login --connection ${request.name}`)}\` in a terminal first`,
    });
  }
  // Masked in every log line and message from here on, even if the connection test fails.
  registerSecret(password);
  const config: PostgresConfig = {
    host: request.host,
    port: request.port,
    database: request.database,
    user: request.user,
    password,
    sslMode: request.ssl_mode,
  };
  return { config, ...(await savePostgresConnection(lh, tenant, request.name, config, signal)) };
}
