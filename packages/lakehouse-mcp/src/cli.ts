import { packageVersion, UserInputError, type CliContext, type CliDefinition } from '@switchyard/core';
import { Lakehouse, settingsFromEnv } from './lakehouse.js';
import { createLakehouseServer } from './server.js';
import { testConnection } from './sources/postgres.js';

const version = packageVersion(import.meta.url);

function lakehouseOf(ctx: CliContext): Lakehouse {
  const settings = settingsFromEnv(ctx.env, {
    home: ctx.options.home as string | undefined,
    tenant: ctx.options.tenant as string | undefined,
    profile: ctx.profile,
    dataDir: ctx.paths.data,
  });
  return new Lakehouse(settings, () => ctx.secrets, ctx.log);
}

const connectionOptions = [
  { flags: '--connection <name>', description: 'the connection name' },
  { flags: '--host <host>', description: 'PostgreSQL host (registers or updates the connection)' },
  { flags: '--port <port>', description: 'PostgreSQL port', default: '5432' },
  { flags: '--database <name>', description: 'database name' },
  { flags: '--user <name>', description: 'user name' },
  {
    flags: '--ssl-mode <mode>',
    description: 'disable, prefer, require or verify-full',
    choices: ['disable', 'prefer', 'require', 'verify-full'],
    default: 'prefer',
  },
];

export const cli: CliDefinition = {
  name: 'lakehouse-mcp',
  version,
  description:
    'MCP server: PostgreSQL tables and CSV/Excel/Parquet/JSON files into a local bronze/silver/gold lakehouse on embedded DuckDB, queried with read-only SQL.',
  envPrefix: 'LAKEHOUSE',
  options: [
    { flags: '--home <dir>', description: 'where the tenant catalogs live', env: 'LAKEHOUSE_HOME' },
    { flags: '--tenant <id>', description: 'the default tenant', env: 'LAKEHOUSE_TENANT' },
  ],
  createServer: (ctx) => createLakehouseServer(lakehouseOf(ctx), version),
  login: {
    description:
      'store the password of a PostgreSQL connection in the keychain (and register it when --host, --database and --user are given), testing it first',
    options: connectionOptions,
    action: async (ctx) => {
      const lh = lakehouseOf(ctx);
      try {
        const name = ctx.options.connection as string | undefined;
        if (!name) throw new UserInputError('login needs --connection NAME');
        const tenant = await lh.tenant(undefined);
        const existing = await tenant.getConnection(name);
        const host = (ctx.options.host as string | undefined) ?? existing?.host;
        const database = (ctx.options.database as string | undefined) ?? existing?.database;
        const user = (ctx.options.user as string | undefined) ?? existing?.user;
        if (!host || !database || !user) {
          throw new UserInputError(
            `Connection '${name}' is not registered yet: pass --host, --database and --user`,
          );
        }
        const port = ctx.options.host
          ? Number(ctx.options.port)
          : (existing?.port ?? Number(ctx.options.port));
        const sslMode = (
          ctx.options.host ? ctx.options.sslMode : (existing?.sslMode ?? ctx.options.sslMode)
        ) as 'disable' | 'prefer' | 'require' | 'verify-full';
        const password = await ctx.ask(`Password for ${user}@${host}:${port}/${database}: `, {
          hidden: true,
        });
        const report = await testConnection({ host, port, database, user, password, sslMode });
        await lh.secrets.set(lh.secretService(), lh.secretAccount(tenant.tenant, name), password);
        const now = new Date().toISOString();
        await tenant.saveConnection({
          name,
          kind: 'postgres',
          host,
          port,
          database,
          user,
          sslMode,
          createdAt: existing?.createdAt ?? now,
          updatedAt: now,
        });
        ctx.print(
          `Connection '${name}' (tenant ${tenant.tenant}) works: PostgreSQL ${report.serverVersion}, ${report.readableTables} readable tables. The password is stored in ${await lh.secrets.describe()}.`,
        );
      } finally {
        await lh.close();
      }
    },
  },
  logout: {
    description: 'remove stored connection passwords (one with --connection, else all of the tenant)',
    options: [{ flags: '--connection <name>', description: 'the connection name' }],
    action: async (ctx) => {
      const lh = lakehouseOf(ctx);
      try {
        const tenant = await lh.tenant(undefined);
        const names = ctx.options.connection
          ? [ctx.options.connection as string]
          : (await tenant.listConnections()).map((c) => c.name);
        let removed = 0;
        for (const name of names) {
          if (await lh.secrets.delete(lh.secretService(), lh.secretAccount(tenant.tenant, name))) removed++;
        }
        ctx.print(
          removed
            ? `Removed ${removed} stored password${removed === 1 ? '' : 's'} (tenant ${tenant.tenant}); the connections stay registered.`
            : 'No stored password to remove.',
        );
      } finally {
        await lh.close();
      }
    },
  },
  status: {
    description:
      'show where the lakehouse lives, its tenants, tables, connections and recent syncs (no network)',
    action: async (ctx) => {
      const lh = lakehouseOf(ctx);
      try {
        ctx.print(`lakehouse-mcp ${version}, profile ${ctx.profile}`);
        ctx.print(`warehouse: ${lh.warehouse.describe()}`);
        ctx.print(`default tenant: ${lh.settings.defaultTenant}`);
        ctx.print(`secrets: ${await lh.secrets.describe()}`);
        ctx.print(`files may be uploaded from: ${lh.settings.fileRoots.join(', ')}`);
        const tenants = new Set([...(await lh.warehouse.tenants()), lh.settings.defaultTenant]);
        for (const id of tenants) {
          const tenant = await lh.tenant(id);
          const tables = await tenant.listTables();
          const counts = ['bronze', 'silver', 'gold'].map(
            (l) => `${tables.filter((t) => t.layer === l).length} ${l}`,
          );
          ctx.print(`\ntenant ${id} (${tenant.location}): ${counts.join(', ')}`);
          for (const c of await tenant.listConnections()) {
            const stored = await lh.secrets.get(lh.secretService(), lh.secretAccount(id, c.name));
            ctx.print(
              `  connection ${c.name}: ${c.user}@${c.host}:${c.port}/${c.database} (ssl ${c.sslMode}); password ${stored ? 'stored' : 'MISSING: run lakehouse-mcp login --connection ' + c.name}`,
            );
          }
          for (const r of await tenant.lastRuns(5)) {
            ctx.print(
              `  ${r.finishedAt.toISOString()} ${r.kind} ${r.source} → ${r.target.layer}.${r.target.name}: ${r.status}, ${r.rows} rows${r.error ? ` (${r.error})` : ''}`,
            );
          }
        }
      } finally {
        await lh.close();
      }
    },
  },
  commands: {
    demo: {
      description:
        'run the whole flow against a throw-away PostgreSQL: start this server over MCP, sync a table, upload a CSV, build silver and gold, query (no account needed)',
      options: [{ flags: '--keep', description: 'keep the demo lakehouse folder and print its path' }],
      // Loaded on use: the demo's MCP client stays out of the server's start-up.
      action: async (ctx) => (await import('./demo.js')).runDemo(ctx),
    },
  },
  helpText: `Environment:
  LAKEHOUSE_HOME          where tenant catalogs live (default: <data dir>/lakehouse)
  LAKEHOUSE_TENANT        default tenant (default: default)
  LAKEHOUSE_FILE_ROOTS    folders files may be uploaded from (default: home, current and temp folders)
  LAKEHOUSE_MAX_UPLOAD_MB largest upload (default 2048)
  LAKEHOUSE_SYNC_PART_MB  size of one sync batch on disk (default 32)
  LAKEHOUSE_MEMORY_LIMIT  DuckDB memory limit of the query engine (default 1GB)
  LAKEHOUSE_LOAD_MEMORY_LIMIT  DuckDB memory limit while loading (default 128MB)`,
};
