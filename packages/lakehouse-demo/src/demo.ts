/**
 * `lakehouse-demo`: the whole flow with nothing to set up. A throw-away PostgreSQL, the installed
 * lakehouse-mcp bin started as a real MCP server over stdio, and each tool call printed as it happens.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants as osConstants, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pgDriver from 'pg';
import { connectStdio, resultText, type CallToolResult } from '@switchyard/core/client';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';

export interface DemoOptions {
  /** Keep the demo lakehouse folder and print its path. */
  keep: boolean;
  print(text: string): void;
}

/** The bin of the lakehouse-mcp package this demo depends on, as npm installed it. */
export function lakehouseBin(): string {
  const manifest = createRequire(import.meta.url).resolve('@switchyard/lakehouse-mcp/package.json');
  const { bin } = JSON.parse(readFileSync(manifest, 'utf8')) as { bin: Record<string, string> };
  return join(dirname(manifest), bin['lakehouse-mcp']!);
}

/** The sample CSV shipped in this package's assets (the bundle is dist/main.js, one level down). */
const SAMPLE_CSV = fileURLToPath(new URL('../assets/products.csv', import.meta.url));

const SEED = `
CREATE TYPE order_status AS ENUM ('placed', 'shipped', 'delivered', 'returned');
CREATE TABLE orders (
  order_id bigint PRIMARY KEY,
  product_id int NOT NULL,
  quantity int NOT NULL,
  amount numeric(10,2) NOT NULL,
  status order_status NOT NULL,
  ordered_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
INSERT INTO orders
SELECT g, 1 + g % 8, 1 + g % 3, round((10 + (g * 7919) % 200)::numeric + 0.99, 2),
  (ARRAY['placed', 'shipped', 'delivered', 'returned']::order_status[])[1 + g % 4],
  timestamptz '2024-01-01 00:00:00+00' + g * interval '7 minutes',
  timestamptz '2024-06-01 00:00:00+00' + g * interval '1 second'
FROM generate_series(1, 20000) AS g;
ANALYZE orders;
`;

export async function runDemo(options: DemoOptions): Promise<number> {
  const say = (text: string) => options.print(text);
  const bin = lakehouseBin();
  const work = mkdtempSync(join(tmpdir(), 'lakehouse-demo-'));
  let pg: EmbeddedPostgres | undefined;
  let server: Awaited<ReturnType<typeof connectStdio>> | undefined;
  // Whatever ends the demo (success, a failure, Ctrl-C, the terminal closing), its server, its PostgreSQL and
  // its folder go with it.
  let cleaning: Promise<void> | undefined;
  const cleanUp = () =>
    (cleaning ??= (async () => {
      await server?.close().catch(() => {});
      await pg?.stop().catch(() => {});
      if (!options.keep) rmSync(work, { recursive: true, force: true });
    })());
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\nStopped by ${signal}; cleaning up…\n`);
    void cleanUp().finally(() => process.exit(128 + (osConstants.signals[signal] ?? 1)));
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, onSignal);
  try {
    say('Lakehouse demo: PostgreSQL + a CSV → bronze → silver → gold → SQL, on embedded DuckDB.\n');
    if (process.getuid?.() === 0)
      say('(Running as root: PostgreSQL runs as the system user "postgres", created if missing.)');
    say('Starting a throw-away PostgreSQL (embedded-postgres)…');
    pg = await startEmbeddedPostgres();
    const { host, port, user, password } = pg;
    const admin = new pgDriver.Client({
      host,
      port,
      user,
      password,
      database: 'postgres',
    });
    await admin.connect();
    await admin.query('CREATE DATABASE shop');
    await admin.end();
    const shop = new pgDriver.Client({
      host,
      port,
      user,
      password,
      database: 'shop',
    });
    await shop.connect();
    await shop.query(SEED);
    await shop.end();
    say(`PostgreSQL is up on ${host}:${port} with database "shop" (table orders, 20,000 rows).\n`);

    const csv = join(work, 'products.csv');
    copyFileSync(SAMPLE_CSV, csv);
    const home = join(work, 'lakehouse');
    say(`Starting the MCP server: node ${bin} (LAKEHOUSE_HOME=${home})`);
    server = await connectStdio({
      command: process.execPath,
      args: [bin],
      env: {
        ...(process.env as Record<string, string>),
        LAKEHOUSE_HOME: home,
        LAKEHOUSE_WAREHOUSE: 'duckdb',
        LAKEHOUSE_FILE_ROOTS: work,
        LAKEHOUSE_TENANT: 'demo',
        SWITCHYARD_CONFIG_DIR: join(work, 'config'),
        SWITCHYARD_KEYCHAIN: 'off',
        SWITCHYARD_LOG_LEVEL: 'error',
      },
      clientName: 'lakehouse-demo',
    });
    const { tools } = await server.client.listTools();
    say(`Connected over stdio: ${tools.length} tools (${tools.map((t) => t.name).join(', ')}).\n`);

    let step = 0;
    const call = async (name: string, args: Record<string, unknown>, note: string): Promise<void> => {
      step++;
      say(`── ${step}. ${note}\n   → ${name} ${JSON.stringify(args).replace(password, '***')}`);
      const result = (await server!.client.callTool(
        { name, arguments: args },
        {
          onprogress: (p) => say(`   … ${p.message ?? p.progress}`),
          timeout: 300_000,
        },
      )) as CallToolResult;
      const text = resultText(result);
      say(
        text
          .split('\n')
          .map((l) => `   ${l}`)
          .join('\n') + '\n',
      );
      if (result.isError)
        throw new Error(`${name} failed: ${text}\nServer log:\n${server!.stderr().slice(-4000)}`);
    };

    await call(
      'lakehouse_connect_postgres',
      {
        name: 'shop',
        host,
        port,
        database: 'shop',
        user,
        password,
        ssl_mode: 'disable',
      },
      'Register the PostgreSQL source (the password goes to the secret store, not the catalog)',
    );
    await call('lakehouse_list_source_tables', { connection: 'shop' }, 'List what the source has');
    await call(
      'lakehouse_sync_table_to_bronze',
      { connection: 'shop', table: 'public.orders', sync_mode: 'incremental', cursor_column: 'updated_at' },
      'Sync orders into bronze (streamed, atomic; incremental on updated_at)',
    );
    await call('lakehouse_upload_file', { path: csv }, 'Upload the sample CSV shipped with the package');
    await call(
      'lakehouse_transform_to_silver',
      {
        source_table: 'bronze.products',
        steps: [
          { op: 'trim', column: 'name' },
          { op: 'lower', column: 'category' },
          { op: 'parse_number', column: 'price', decimal_separator: ',', to: 'decimal(10,2)' },
          { op: 'fill_null', column: 'launched', value: '2022-01-01' },
          { op: 'deduplicate', columns: ['product_id'] },
        ],
      },
      'Clean products into silver (trim, lower, parse numbers, fill nulls, deduplicate)',
    );
    await call(
      'lakehouse_create_gold_view',
      {
        name: 'revenue_by_category',
        sql: 'SELECT p.category, count(*) AS orders, sum(o.amount) AS revenue FROM bronze.orders o JOIN silver.products p USING (product_id) GROUP BY p.category',
      },
      'Curate a gold view',
    );
    await call(
      'lakehouse_query_sql',
      { sql: 'SELECT * FROM gold.revenue_by_category ORDER BY revenue DESC' },
      'Ask a question in SQL',
    );
    await call('lakehouse_list_tables', {}, 'See the lakehouse');
    say(
      'Done. Every step above went through the MCP protocol to the built server, as an assistant would call it.',
    );
    if (options.keep) say(`The demo lakehouse is kept in ${home}.`);
    return 0;
  } finally {
    await cleanUp();
    for (const s of signals) process.off(s, onSignal);
  }
}
