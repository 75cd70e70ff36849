import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { spawnServer, type SpawnedServer } from '@switchyard/testkit';

export const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
export const packageDir = fileURLToPath(new URL('..', import.meta.url));

export interface PgInfo {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export function pgInfo(): PgInfo {
  const raw = process.env.LAKEHOUSE_TEST_PG;
  if (!raw) throw new Error('LAKEHOUSE_TEST_PG is not set: the lakehouse global setup did not run');
  return JSON.parse(raw) as PgInfo;
}

export async function pgClient(database?: string): Promise<pg.Client> {
  const info = pgInfo();
  const client = new pg.Client({ ...info, ...(database ? { database } : {}) });
  await client.connect();
  return client;
}

/** A server with its own lakehouse home, config and data folders. */
export async function startLakehouse(
  env: Record<string, string> = {},
  options: { args?: string[]; cwd?: string } = {},
): Promise<SpawnedServer> {
  return spawnServer(bin, { env: { LAKEHOUSE_SYNC_PART_MB: '4', ...env }, ...options });
}

export async function connect(server: SpawnedServer, name = 'lake', extra: Record<string, unknown> = {}) {
  const info = pgInfo();
  const call = await server.call('lakehouse_connect_postgres', {
    name,
    host: info.host,
    port: info.port,
    database: info.database,
    user: info.user,
    password: info.password,
    ssl_mode: 'disable',
    ...extra,
  });
  if (call.isError) throw new Error(call.text);
  return call;
}

export async function query(server: SpawnedServer, sql: string, extra: Record<string, unknown> = {}) {
  return server.call('lakehouse_query_sql', { sql, max_rows: 1000, ...extra });
}
