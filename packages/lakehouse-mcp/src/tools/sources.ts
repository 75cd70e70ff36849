import {
  defineTool,
  fenceUntrusted,
  formatTable,
  DEFAULT_RESULT_BYTES,
  payloadBudget,
  UpstreamError,
  UserInputError,
  z,
  type ToolDefinition,
} from '@switchyard/core';
import type { Lakehouse } from '../lakehouse.js';
import { registerPostgres } from '../sources/connections.js';
import { listSourceTables, testConnection, type ConnectionReport } from '../sources/postgres/catalog.js';
import type { PostgresConfig } from '../sources/postgres/connection.js';
import { connectionArg, n, tenantArg } from './common.js';

const CONNECTION_NAME = /^[a-z][a-z0-9_-]{0,62}$/;

function reportText(name: string, config: Omit<PostgresConfig, 'password'>, r: ConnectionReport): string {
  const lines = [
    `Connection '${name}' works: PostgreSQL ${r.serverVersion} at ${config.host}:${config.port}/${config.database} as ${r.currentUser}, round trip ${r.latencyMs} ms${r.readOnlyServer ? ' (a read-only standby)' : ''}.`,
    `Readable tables and views: ${n(r.readableTables)}.`,
  ];
  if (r.unreadableTables.length > 0) {
    lines.push(
      `Not readable by ${r.currentUser} (${n(r.unreadableTables.length)}): ${r.unreadableTables.slice(0, 20).join(', ')}${r.unreadableTables.length > 20 ? ', …' : ''}. Grant SELECT to sync them.`,
    );
  }
  if (r.schemasWithoutUsage.length > 0)
    lines.push(`Schemas without USAGE: ${r.schemasWithoutUsage.join(', ')}.`);
  return lines.join('\n');
}

const sourceReport = {
  connection: z.string(),
  server_version: z.string(),
  user: z.string(),
  latency_ms: z.number(),
  readable_tables: z.number(),
  unreadable_tables: z.array(z.string()),
};

/** A source's report, or the warehouse's (its state and the catalogs it sees). */
const reportOutput = {
  ...sourceReport,
  state: z.string().optional(),
  catalogs: z.array(z.string()).optional(),
};

function reportData(name: string, r: ConnectionReport) {
  return {
    connection: name,
    server_version: r.serverVersion,
    user: r.currentUser,
    latency_ms: r.latencyMs,
    readable_tables: r.readableTables,
    unreadable_tables: r.unreadableTables.slice(0, 100),
  };
}

export function sourceTools(lh: Lakehouse): ToolDefinition[] {
  return [
    defineTool({
      name: 'lakehouse_connect_postgres',
      title: 'Register a PostgreSQL source',
      description:
        'Registers or updates a PostgreSQL source after testing it; the password goes to the OS keychain.',
      toolset: 'sources',
      input: {
        name: z.string().regex(CONNECTION_NAME).describe('Short source name.'),
        host: z.string().min(1).max(253).describe('Host name or IP address.'),
        port: z.number().int().min(1).max(65535).default(5432).describe('Port.'),
        database: z.string().min(1).max(63).describe('Database name.'),
        user: z.string().min(1).max(63).describe('User name; a read-only role is best.'),
        password: z.string().max(1000).optional().describe('Omit to use the stored one.'),
        ssl_mode: z
          .enum(['disable', 'prefer', 'require', 'verify-full'])
          .default('prefer')
          .describe('require: SSL unverified; verify-full: verified.'),
        tenant_id: tenantArg,
      },
      output: sourceReport,
      // destructive: registering an existing name overwrites its host, user and stored password.
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
      handler: async (args, ctx) => {
        const tenant = await lh.tenant(args.tenant_id, ctx.principal);
        const { config, report, updated } = await registerPostgres(lh, tenant, args, ctx.signal);
        return {
          text: `${updated ? 'Updated' : 'Registered'} connection '${args.name}' in tenant '${tenant.tenant}'; the password is kept in the secret store (OS keychain or encrypted file), not in the catalog.\n${reportText(args.name, config, report)}`,
          data: reportData(args.name, report),
        };
      },
    }),
    defineTool({
      name: 'lakehouse_test_connection',
      title: 'Test a source or the warehouse',
      description:
        'Tests a source (version, latency, readable tables) or, without connection, the warehouse (state, user, catalogs).',
      toolset: 'sources',
      input: {
        connection: connectionArg.optional().describe('Source to test; omit for the warehouse.'),
        tenant_id: tenantArg,
      },
      output: reportOutput,
      annotations: { readOnlyHint: true, openWorldHint: true },
      handler: async ({ connection, tenant_id }, ctx) => {
        if (!connection) {
          const problem = lh.databricksProblem();
          if (problem) throw new UserInputError(`The Databricks warehouse is not configured: ${problem}`);
          const started = performance.now();
          const check = await lh.warehouse.check(ctx.signal);
          if (!check.ok)
            throw new UpstreamError(`The warehouse is not usable: ${check.lines.slice(1).join('; ')}`);
          const tenant = await lh.tenant(tenant_id, ctx.principal);
          const tables = await tenant.listTables();
          return {
            text: `${check.lines.join('\n')}\nTenant ${tenant.tenant} (${tenant.location}): ${n(tables.length)} tables and views.`,
            data: {
              connection: 'warehouse',
              server_version: lh.warehouse.describe(),
              user: check.user ?? '',
              latency_ms: Math.round(performance.now() - started),
              readable_tables: tables.length,
              unreadable_tables: [],
              ...(check.state ? { state: check.state } : {}),
              ...(check.catalogs ? { catalogs: check.catalogs } : {}),
            },
          };
        }
        const { config } = await lh.connection(tenant_id, connection, ctx.principal);
        const report = await testConnection(config, ctx.signal);
        return { text: reportText(connection, config, report), data: reportData(connection, report) };
      },
    }),
    defineTool({
      name: 'lakehouse_list_source_tables',
      title: 'List tables of a source',
      description: "Lists a source's tables and views: estimated rows, columns, primary key, readability.",
      toolset: 'sources',
      input: {
        connection: connectionArg,
        schema: z.string().max(63).optional().describe('Only this schema.'),
        name_like: z.string().max(100).optional().describe('ILIKE pattern, e.g. %order%.'),
        limit: z.number().int().min(1).max(1000).default(200).describe('Most tables to list.'),
        tenant_id: tenantArg,
      },
      output: { table_count: z.number(), truncated: z.boolean() },
      annotations: { readOnlyHint: true, openWorldHint: true },
      handler: async (args, ctx) => {
        const { config } = await lh.connection(args.tenant_id, args.connection, ctx.principal);
        const { tables, truncated } = await listSourceTables(
          config,
          { schema: args.schema, namePattern: args.name_like, limit: args.limit },
          ctx.signal,
        );
        // Names come from the source database: quoted as CSV, and fenced as data from outside.
        const table = formatTable(
          ['name', 'kind', 'estimated_rows', 'columns', 'primary_key', 'readable'],
          tables.map((t) => [
            `${t.schema}.${t.name}`,
            t.kind,
            t.estimatedRows ?? '',
            t.columns,
            t.primaryKey.join('+'),
            t.readable ? 'yes' : 'no',
          ]),
          { maxRows: tables.length, maxBytes: payloadBudget(DEFAULT_RESULT_BYTES) },
        );
        const cut = table.returnedRows < tables.length;
        const head = `${n(table.returnedRows)} table${tables.length === 1 ? '' : 's'} and views in '${args.connection}'${truncated || cut ? ` (truncated at ${n(truncated ? args.limit : table.returnedRows)}; filter with schema or name_like)` : ''}. Estimated rows come from PostgreSQL statistics (empty: never analyzed, or a view).`;
        return {
          text: `${head}\n${fenceUntrusted(table.text, `tables of ${args.connection}`)}`,
          data: { table_count: table.returnedRows, truncated: truncated || cut },
        };
      },
    }),
  ];
}
