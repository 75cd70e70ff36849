/**
 * Reaching a PostgreSQL source: the connection settings, a connection opened with the session settings every read
 * relies on, a running statement stopped on the server, and a driver or server error told in one sentence.
 */
import type { Client, ClientConfig } from 'pg';
import {
  AuthError,
  CancelledError,
  NotFoundError,
  PermissionError,
  UpstreamError,
  untrusted,
} from '@switchyard/core';

export interface PostgresConfig {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  sslMode: 'disable' | 'prefer' | 'require' | 'verify-full';
}

type PgModule = typeof import('pg');
let pgModule: Promise<PgModule> | undefined;
const loadPg = async (): Promise<PgModule> => {
  pgModule ??= import('pg').then((m) => ((m as unknown as { default?: PgModule }).default ?? m) as PgModule);
  return pgModule;
};

interface PgError extends Error {
  code?: string;
  errno?: number;
  syscall?: string;
}

const where = (c: PostgresConfig) => `${c.host}:${c.port}`;

/** Turn a driver or server error into one sentence with PostgreSQL's own reason. */
export function describePgError(err: unknown, config: PostgresConfig, timeoutMs?: number): Error {
  if (err instanceof Error && 'kind' in err) return err;
  const e = err as PgError;
  const upstream = { service: 'PostgreSQL', code: e.code, message: e.message };
  switch (e.code) {
    case '28P01':
      return new AuthError(
        `PostgreSQL at ${where(config)} refused the password for user '${config.user}' (28P01)`,
        { hint: 'Check the password, then call lakehouse_connect_postgres again with the right one' },
      );
    case '28000':
      return new AuthError(
        `PostgreSQL at ${where(config)} refused user '${config.user}': ${untrusted(e.message, 300)}`,
        {
          hint: "Check the user name and the server's pg_hba.conf rules for this host",
        },
      );
    case '3D000':
      return new NotFoundError(`PostgreSQL at ${where(config)} has no database '${config.database}'`, {
        hint: 'Check the database name (lakehouse_test_connection lists nothing until it exists)',
      });
    case 'ECONNREFUSED':
      return new UpstreamError(`Could not reach PostgreSQL at ${where(config)}: the connection was refused`, {
        hint: 'Check that the server runs and listens on that host and port, and that no firewall blocks it',
      });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new UpstreamError(
        `Could not reach PostgreSQL at ${where(config)}: the host name does not resolve`,
        {
          hint: 'Check the host name',
        },
      );
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new UpstreamError(`Could not reach PostgreSQL at ${where(config)}: ${e.code}`, {
        hint: 'Check the host, the port and the network path to the server',
      });
    case '42501':
      return new PermissionError(
        `PostgreSQL user '${config.user}' lacks a privilege: ${untrusted(e.message, 300)} (42501)`,
        {
          hint: `Ask the database owner to GRANT SELECT on the table to ${config.user}`,
        },
      );
    case '57014':
      return new UpstreamError(`PostgreSQL cancelled the statement: ${untrusted(e.message, 300)}`, {
        upstream,
      });
  }
  if (/timeout/i.test(e.message)) {
    return new UpstreamError(
      `Could not reach PostgreSQL at ${where(config)}: no answer within ${Math.round((timeoutMs ?? 10_000) / 1000)} s`,
      { hint: 'Check the host, the port and the network path to the server' },
    );
  }
  if (/does not support SSL/i.test(e.message)) {
    return new UpstreamError(`PostgreSQL at ${where(config)} does not accept SSL connections`, {
      hint: "Use ssl_mode 'prefer' or 'disable' for this server",
    });
  }
  if (/self[- ]signed|certificate/i.test(e.message)) {
    return new UpstreamError(
      `The certificate of PostgreSQL at ${where(config)} was not trusted: ${untrusted(e.message, 300)}`,
      {
        hint: "Install the server's CA for Node (NODE_EXTRA_CA_CERTS), or use ssl_mode 'require' to encrypt without verifying",
      },
    );
  }
  if (e.code && /^[0-9A-Z]{5}$/.test(e.code)) {
    return new UpstreamError(`PostgreSQL answered ${e.code}: ${untrusted(e.message, 300)}`);
  }
  return new UpstreamError(
    `The connection to PostgreSQL at ${where(config)} failed: ${untrusted(e.message, 300)}`,
  );
}

/** The settings each open client was made with: what {@link cancelBackend} needs for its second connection. */
const configs = new WeakMap<Client, PostgresConfig>();

/**
 * Stop the statement a client is running, on the server: `pg_cancel_backend` from a second connection. Closing
 * the client's socket is not enough: PostgreSQL notices a gone client only when it next writes to it, so a
 * statement still computing (a sort, a join, a slow function) would run to its end.
 */
export async function cancelBackend(client: Client): Promise<void> {
  const pid = (client as unknown as { processID?: number | null }).processID;
  const config = configs.get(client);
  if (!pid || !config) return;
  const other = await connectPostgres(config, { timeoutMs: 5_000 });
  try {
    await other.query('SELECT pg_cancel_backend($1)', [pid]);
  } finally {
    await other.end().catch(() => {});
  }
}

/** Open a connection with the session settings every read relies on (UTC, ISO dates, exact floats). */
export async function connectPostgres(
  config: PostgresConfig,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<Client> {
  const pg = await loadPg();
  const timeoutMs = options.timeoutMs ?? 10_000;
  const attempt = async (ssl: ClientConfig['ssl']): Promise<Client> => {
    const client = new pg.Client({
      host: config.host,
      port: config.port,
      database: config.database,
      user: config.user,
      password: config.password,
      ssl,
      connectionTimeoutMillis: timeoutMs,
      application_name: 'lakehouse-mcp',
    });
    client.on('error', () => {}); // errors surface on the pending query
    const abort = () => void client.end().catch(() => {});
    options.signal?.addEventListener('abort', abort, { once: true });
    try {
      await client.connect();
      await client.query(
        "SET TIME ZONE 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3; SET bytea_output = 'hex'",
      );
      configs.set(client, config);
      return client;
    } catch (err) {
      await client.end().catch(() => {});
      if (options.signal?.aborted) throw new CancelledError();
      throw err;
    } finally {
      options.signal?.removeEventListener('abort', abort);
    }
  };
  try {
    switch (config.sslMode) {
      case 'disable':
        return await attempt(false);
      case 'require':
        return await attempt({ rejectUnauthorized: false });
      case 'verify-full':
        return await attempt({ rejectUnauthorized: true });
      case 'prefer':
        try {
          return await attempt({ rejectUnauthorized: false });
        } catch (err) {
          if (!/does not support SSL/i.test((err as Error).message)) throw err;
          return await attempt(false);
        }
    }
  } catch (err) {
    throw describePgError(err, config, timeoutMs);
  }
}
