import {
  commandHint,
  packageVersion,
  SecretKeyError,
  UserInputError,
  type CliContext,
  type CliDefinition,
} from '@switchyard/core';
import { Lakehouse, settingsFromEnv } from './lakehouse.js';
import { createLakehouseServer } from './server.js';
import { savePostgresConnection } from './sources/connections.js';

const version = packageVersion(import.meta.url);

function settingsOf(ctx: CliContext, warehouse?: string) {
  return settingsFromEnv(ctx.env, {
    home: ctx.options.home as string | undefined,
    tenant: ctx.options.tenant as string | undefined,
    tenantPin: ctx.options.tenantPin as string | undefined,
    profile: ctx.profile,
    dataDir: ctx.paths.data,
    allowDirs: (ctx.options.allowDir as string[] | undefined) ?? [],
    paths: ctx.paths,
    warehouse: warehouse ?? (ctx.options.warehouse as string | undefined),
    catalog: ctx.options.databricksCatalog as string | undefined,
  });
}

function lakehouseOf(ctx: CliContext): Lakehouse {
  return new Lakehouse(settingsOf(ctx), () => ctx.secrets, ctx.log);
}

/** `login --databricks`: ask for the token (or the OAuth client secret), test it, then store it. */
async function loginDatabricks(ctx: CliContext): Promise<number> {
  const settings = settingsOf(ctx, 'databricks');
  const d = settings.databricks;
  const clientId = (ctx.options.clientId as string | undefined) ?? d.clientId;
  const probe = new Lakehouse(settings, () => ctx.secrets, ctx.log);
  const problem = probe.databricksProblem();
  if (problem) {
    throw new UserInputError(`login --databricks needs the workspace: ${problem}`, {
      hint: 'Set DATABRICKS_HOST and DATABRICKS_WAREHOUSE_ID (or DATABRICKS_HTTP_PATH) first',
    });
  }
  const secret = await ctx.ask(
    clientId
      ? `OAuth secret of service principal ${clientId} for ${d.host}: `
      : `Databricks personal access token for ${d.host}: `,
    { hidden: true },
  );
  if (!secret) throw new UserInputError('Nothing was entered; nothing was stored');
  const trial = {
    ...settings,
    databricks: clientId
      ? { ...d, token: undefined, clientId, clientSecret: secret }
      : { ...d, token: secret, clientId: undefined, clientSecret: undefined },
  };
  const lh = new Lakehouse(trial, () => ctx.secrets, ctx.log);
  try {
    const check = await lh.warehouse.check(new AbortController().signal);
    for (const line of check.lines) ctx.print(line);
    if (!check.ok && check.state !== 'STARTING' && check.state !== 'STOPPED') {
      ctx.print('The credentials were not stored.');
      return 1;
    }
    await lh.secrets.set(lh.secretService(), lh.databricksAccount(clientId), secret);
    ctx.print(
      `The ${clientId ? 'OAuth secret' : 'token'} for ${d.host} is stored in ${await lh.secrets.describe()}.${clientId && !d.clientId ? ' Set DATABRICKS_CLIENT_ID for the server to use it.' : ''}`,
    );
    return 0;
  } finally {
    await lh.close();
  }
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

/**
 * The login that stores one lost secret again: a connection's password needs `--connection NAME` (plain `login`
 * refuses to run without it), a Databricks secret `--databricks`. Accounts are `<tenant>/<connection>`,
 * `databricks/<host>` and `databricks/<host>/<client id>` (see Lakehouse.secretAccount, databricksAccount).
 */
export function secretLogin(service: string, account: string): string | undefined {
  const profile = /^switchyard\/lakehouse\/(.+)$/.exec(service)?.[1];
  if (profile === undefined) return undefined;
  const profileArg = profile === 'default' ? '' : ` --profile ${profile}`;
  const databricks = /^databricks\/[^/]*(?:\/(.+))?$/.exec(account);
  if (databricks) {
    return `\`${commandHint(`lakehouse-mcp login --databricks${databricks[1] ? ` --client-id ${databricks[1]}` : ''}${profileArg}`)}\``;
  }
  const slash = account.indexOf('/');
  if (slash <= 0) return undefined;
  const tenant = account.slice(0, slash);
  const tenantArg = tenant === 'default' ? '' : ` --tenant ${tenant}`;
  return `\`${commandHint(`lakehouse-mcp login --connection ${account.slice(slash + 1)}${tenantArg}${profileArg}`)}\``;
}

export const cli: CliDefinition = {
  name: 'lakehouse-mcp',
  version,
  description:
    'MCP server: PostgreSQL tables and CSV/Excel/Parquet/JSON files into a bronze/silver/gold lakehouse on embedded DuckDB or a Databricks SQL warehouse, queried with read-only SQL.',
  envPrefix: 'LAKEHOUSE',
  options: [
    { flags: '--home <dir>', description: 'where the tenant catalogs live', env: 'LAKEHOUSE_HOME' },
    // The instructions name the default tenant and the warehouse.
    {
      flags: '--tenant <id>',
      description: 'the default tenant',
      env: 'LAKEHOUSE_TENANT',
      shapesOpening: true,
    },
    {
      flags: '--tenant-pin <id>',
      description: 'serve this tenant only: any other tenant_id or table:// catalog is refused',
      env: 'LAKEHOUSE_TENANT_PIN',
      shapesOpening: true,
    },
    {
      flags: '--warehouse <kind>',
      description: 'duckdb (local, default) or databricks',
      env: 'LAKEHOUSE_WAREHOUSE',
      choices: ['duckdb', 'databricks'],
      shapesOpening: true,
    },
    {
      flags: '--databricks-catalog <name>',
      description:
        'keep tenants as schemas tenant_<id>_bronze, ... in this catalog instead of a catalog each',
      env: 'LAKEHOUSE_DATABRICKS_CATALOG',
    },
  ],
  createServer: (ctx) => createLakehouseServer(lakehouseOf(ctx), version),
  loginFor: secretLogin,
  login: {
    description:
      'store the password of a PostgreSQL connection in the keychain (and register it when --host, --database and --user are given), testing it first; with --databricks, the Databricks token or OAuth secret',
    options: [
      ...connectionOptions,
      {
        flags: '--databricks',
        description: 'store the Databricks token (or, with --client-id, the OAuth secret)',
      },
      { flags: '--client-id <id>', description: 'Databricks service principal (OAuth M2M)' },
    ],
    action: async (ctx) => {
      if (ctx.options.databricks) return loginDatabricks(ctx);
      const lh = lakehouseOf(ctx);
      try {
        const name = ctx.options.connection as string | undefined;
        if (!name) throw new UserInputError('login needs --connection NAME');
        const tenant = await lh.tenant(undefined);
        const existing = await tenant.meta.getConnection(name);
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
        // A lost store key is said before the password is asked for: it could not be stored anyway.
        await lh.secrets.checkKey({ service: lh.secretService() });
        const password = await ctx.ask(`Password for ${user}@${host}:${port}/${database}: `, {
          hidden: true,
        });
        const { report } = await savePostgresConnection(lh, tenant, name, {
          host,
          port,
          database,
          user,
          password,
          sslMode,
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
    description:
      'remove stored connection passwords (one with --connection, else all of the tenant); with --databricks, the Databricks secret',
    options: [
      { flags: '--connection <name>', description: 'the connection name' },
      { flags: '--databricks', description: 'remove the stored Databricks token or OAuth secret' },
      { flags: '--client-id <id>', description: 'Databricks service principal' },
    ],
    action: async (ctx) => {
      const lh = lakehouseOf(ctx);
      if (ctx.options.databricks) {
        const clientId = (ctx.options.clientId as string | undefined) ?? lh.settings.databricks.clientId;
        const removed = await lh.secrets.delete(lh.secretService(), lh.databricksAccount(clientId));
        ctx.print(
          removed ? 'Removed the stored Databricks secret.' : 'No stored Databricks secret to remove.',
        );
        return;
      }
      if (!ctx.options.connection) {
        // When the store's key is lost, none of the profile's secrets can be read: remove them all (no key
        // is needed), so that login can store them again under a new key.
        const service = lh.secretService();
        const lost = await lh.secrets
          .checkKey({ largeValues: true, service })
          .then(() => undefined)
          .catch((err: unknown) => {
            if (err instanceof SecretKeyError && err.lost.some((l) => l.service === service)) return err;
            throw err;
          });
        if (lost) {
          const removed = await lh.secrets.clear(service);
          await lh.close();
          ctx.print(
            `Removed the ${removed.length} unreadable stored secret${removed.length === 1 ? '' : 's'} of profile ${ctx.profile} (${removed.join(', ')}); the connections stay registered. Store them again with ${commandHint('lakehouse-mcp login --connection NAME')} (and ${commandHint('lakehouse-mcp login --databricks')}).`,
          );
          return;
        }
      }
      try {
        const tenant = await lh.tenant(undefined);
        const names = ctx.options.connection
          ? [ctx.options.connection as string]
          : (await tenant.meta.listConnections()).map((c) => c.name);
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
      'show where the lakehouse lives, its tenants, tables, connections and recent syncs; for Databricks, the warehouse state, user and catalogs',
    action: async (ctx) => {
      const lh = lakehouseOf(ctx);
      try {
        ctx.print(`lakehouse-mcp ${version}, profile ${ctx.profile}`);
        ctx.print(`warehouse: ${lh.warehouse.describe()}`);
        const problem = lh.databricksProblem();
        if (problem) {
          ctx.print(`Databricks is not configured: ${problem}.`);
          return 1;
        }
        if (lh.settings.warehouse === 'databricks') {
          const check = await lh.warehouse.check(AbortSignal.timeout(60_000));
          for (const line of check.lines) ctx.print(`  ${line}`);
          if (!check.ok) return 1;
        }
        ctx.print(
          `default tenant: ${lh.settings.defaultTenant}${lh.settings.pinnedTenant !== undefined ? ' (pinned: no other tenant is served)' : ''}`,
        );
        ctx.print(`secrets: ${await lh.secrets.describe()}`);
        ctx.print(lh.settings.files.describe());
        const tenants = new Set([...(await lh.warehouse.tenants()), lh.settings.defaultTenant]);
        for (const id of tenants) {
          const tenant = await lh.tenant(id);
          const tables = await tenant.listTables();
          const counts = ['bronze', 'silver', 'gold'].map(
            (l) => `${tables.filter((t) => t.layer === l).length} ${l}`,
          );
          ctx.print(`\ntenant ${id} (${tenant.location}): ${counts.join(', ')}`);
          for (const c of await tenant.meta.listConnections()) {
            const stored = await lh.secrets.get(lh.secretService(), lh.secretAccount(id, c.name));
            ctx.print(
              `  connection ${c.name}: ${c.user}@${c.host}:${c.port}/${c.database} (ssl ${c.sslMode}); password ${stored ? 'stored' : `MISSING: run ${commandHint(`lakehouse-mcp login --connection ${c.name}`)}`}`,
            );
          }
          for (const r of await tenant.meta.lastRuns(5)) {
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
  helpText: `Environment:
  LAKEHOUSE_HOME          where tenant catalogs live (default: <data dir>/lakehouse)
  LAKEHOUSE_TENANT        default tenant (default: default)
  LAKEHOUSE_FILE_ROOTS    more folders files may be uploaded from, besides ~/Downloads/lakehouse-mcp and --allow-dir
  LAKEHOUSE_MAX_UPLOAD_MB largest upload (default 2048)
  LAKEHOUSE_SYNC_PART_MB  size of one sync batch on disk (default 32)
  LAKEHOUSE_MEMORY_LIMIT  DuckDB memory limit of the query engine (default 1GB)
  LAKEHOUSE_LOAD_MEMORY_LIMIT  DuckDB memory limit while loading (default 128MB)
  LAKEHOUSE_WAREHOUSE     duckdb (default) or databricks
  DATABRICKS_HOST, DATABRICKS_WAREHOUSE_ID or DATABRICKS_HTTP_PATH   the Databricks SQL warehouse
  DATABRICKS_TOKEN, or DATABRICKS_CLIENT_ID + DATABRICKS_CLIENT_SECRET  its credentials (or login --databricks)
  LAKEHOUSE_DATABRICKS_CATALOG  one shared catalog with schemas tenant_<id>_bronze, ... (default: a catalog per tenant)`,
};
