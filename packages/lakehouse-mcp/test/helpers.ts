import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import pg from 'pg';
import type { SpawnedServer } from '@switchyard/testkit';
import {
  serverTest,
  type ServerSpec,
  type ServerTest,
  type ServerTestContext,
  type SpawnSpec,
} from '@switchyard/testkit/server-test';
import { FakeDatabricks } from './databricks-fake.js';

export const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
export const packageDir = fileURLToPath(new URL('..', import.meta.url));

export interface PgInfo {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/** The run's PostgreSQL (global-setup.ts starts and seeds it once for every file). */
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

/** Run SQL on the run's PostgreSQL (its `lake` database unless another is named). */
export async function pgRun(sql: string, database?: string): Promise<void> {
  const client = await pgClient(database);
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Register the run's PostgreSQL with a server as source `name`; `extra` overrides the connection's fields. */
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

/** Small sync parts, so that a few hundred thousand rows already take several. */
const DEFAULT_ENV = { LAKEHOUSE_SYNC_PART_MB: '4' };

export interface WithWorldOptions<W, F extends string> {
  /** The fakes the file's servers talk to (a Databricks), closed after the file. */
  world?: () => Promise<W>;
  /** The env every server of the file starts with, under its own: the world's endpoints. */
  env?: (world: W) => Record<string, string | undefined>;
  /** The file's own tables on the run's PostgreSQL, made before the server starts: SQL for `lake`, or steps. */
  seed?: string | ((world: W) => Promise<void> | void);
  /** SQL on `lake` after the file's last test, before its server closes (drop what `seed` made). */
  unseed?: string;
  /** Named folders beside the config and data folders (allowed roots, a lakehouse home), removed after. */
  folders?: readonly F[];
  /** How the file's server starts; `false` when the file only starts its own (`t.spawn`). */
  server?: ServerSpec | ((context: ServerTestContext<W, F>) => ServerSpec) | false;
  /** Once the file's server answers: what every test reads (a registered source, an upload, a sync). */
  ready?: (server: SpawnedServer, context: ServerTestContext<W, F>) => Promise<unknown> | void;
}

/**
 * A test file's (or describe's) lakehouse: its tables on the run's PostgreSQL, its world, folders and a server on
 * them, cleaned up after it. `t.spawn` starts more servers with the same env defaults, closed with the file's.
 */
export function withWorld<W = undefined, F extends string = never>(
  options: WithWorldOptions<W, F> = {},
): ServerTest<W, F> {
  const { server, seed, unseed, ready } = options;
  const envOf = (world: W, own: Record<string, string | undefined> = {}) => ({
    ...DEFAULT_ENV,
    ...options.env?.(world),
    ...own,
  });
  const t = serverTest<W, F>({
    bin,
    ...(options.world ? { world: options.world } : {}),
    ...(options.folders ? { folders: options.folders } : {}),
    prepare: async ({ world }) => {
      if (typeof seed === 'string') await pgRun(seed);
      else await seed?.(world);
    },
    server:
      server === false
        ? false
        : (context) => {
            const spec = typeof server === 'function' ? server(context) : (server ?? {});
            return { ...spec, env: envOf(context.world, spec.env) };
          },
  });
  if (ready)
    beforeAll(async () => {
      await ready(t.server, t);
    });
  if (unseed) afterAll(() => pgRun(unseed));
  return {
    get world() {
      return t.world;
    },
    get dirs() {
      return t.dirs;
    },
    get server() {
      return t.server;
    },
    spawn: (spec: SpawnSpec = {}) => t.spawn({ ...spec, env: envOf(t.world, spec.env) }),
  };
}

/** withWorld against a fake Databricks SQL warehouse: every server of the file uses it as its warehouse. */
export function withDatabricks<F extends string = never>(
  options: Omit<WithWorldOptions<FakeDatabricks, F>, 'world' | 'env'> = {},
): ServerTest<FakeDatabricks, F> {
  return withWorld<FakeDatabricks, F>({
    ...options,
    world: () => FakeDatabricks.start(),
    env: (fake) => fake.env(),
  });
}
