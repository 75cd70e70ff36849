// lakehouse-mcp on Databricks: what the server itself costs on this machine, with the warehouse replaced by the
// test fake of @databricks/sql (test/fake/databricks-driver.mjs) that answers at once and keeps PUT files in a
// local folder. So the figures are the client side only: PostgreSQL extraction → Parquet parts (DuckDB) → PUT,
// against the raw COPY floor; the round trip of lakehouse_query_sql over a 1,000-row result; the AI-assisted
// tools on the local warehouse over a 1M-row table. The warehouse's own time is not in them. Printed, never
// asserted.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeService, testCertificate } from '@switchyard/testkit';
import { connectStdio } from '@switchyard/core/client';
import { benchEnv, lakehouseSource, peakRssMb, print, root, round, stats } from './lib.mjs';

const pkg = join(root, 'packages', 'lakehouse-mcp');
const bin = join(pkg, 'dist', 'bin.js');
const ROWS = Number(process.env.BENCH_LAKEHOUSE_DBX_ROWS ?? 1_000_000);

const cert = await testCertificate();
const rest = await FakeService.start('Databricks');
rest.route('GET', '/api/2.0/sql/warehouses/:id', (req) => ({
  body: { id: req.params.id, name: 'Bench warehouse', state: 'RUNNING' },
}));
const dir = mkdtempSync(join(tmpdir(), 'bench-dbx-'));
const scriptPath = join(dir, 'script.json');
const script = (rules) => writeFileSync(scriptPath, JSON.stringify({ volume: join(dir, 'volume'), rules }));

const source = await lakehouseSource([ROWS]);
const { dsn } = source;
const table = `t_${ROWS}`;
const spawnLakehouse = (env) =>
  connectStdio({
    command: process.execPath,
    args: [bin],
    env: benchEnv({ NODE_EXTRA_CA_CERTS: cert.certPath, ...env }),
  });
const databricksEnv = {
  LAKEHOUSE_WAREHOUSE: 'databricks',
  DATABRICKS_HOST: new URL(rest.url).host,
  DATABRICKS_WAREHOUSE_ID: 'bench',
  DATABRICKS_TOKEN: 'dapi-bench-token',
  LAKEHOUSE_DATABRICKS_DRIVER_MODULE: join(pkg, 'test', 'fake', 'databricks-driver.mjs'),
  LAKEHOUSE_FAKE_DATABRICKS_SCRIPT: scriptPath,
};
const call = async (conn, name, args) => {
  const result = await conn.client.callTool({ name, arguments: args }, { timeout: 600_000 });
  if (result.isError) throw new Error(`${name}: ${result.content[0].text}`);
  return result;
};
const timed = async (fn) => {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
};
try {
  // The statements a full sync runs, answered as an empty, writable catalog would.
  const connectionRow = [
    'bench',
    'postgres',
    dsn.host,
    dsn.port,
    'postgres',
    dsn.user,
    'disable',
    '2024-01-01',
    '2024-01-01',
  ];
  const syncRules = [
    { match: '^CREATE (CATALOG|SCHEMA|VOLUME|TABLE) IF NOT EXISTS' },
    { match: '^(INSERT INTO|DELETE FROM|MERGE INTO) `[^`]+`\\.`(_meta|tenant_\\w+_meta)`\\.' },
    {
      match: '^SELECT name, kind, host, port, database, user_name',
      columns: [
        'name',
        'kind',
        'host',
        'port',
        'database',
        'user_name',
        'ssl_mode',
        'created_at',
        'updated_at',
      ].map((c) => [c, 'string']),
      rows: [connectionRow],
    },
    { match: '^SELECT target, connection, source, cursor_column', columns: [['target', 'string']], rows: [] },
    {
      match: 'information_schema`\\.`columns` WHERE table_schema',
      columns: [['column_name', 'string']],
      rows: [],
    },
    { match: '^CREATE OR REPLACE TABLE' },
    { match: '^SELECT count\\(\\*\\) FROM', columns: [['count(1)', 'bigint']], rows: [[ROWS]] },
  ];
  script(syncRules);

  await source.rawCopyMs(table); // warm the source's cache
  const raw = [];
  const sync = [];
  let last;
  for (let i = 0; i < 3; i++) {
    raw.push(await source.rawCopyMs(table));
    const conn = await spawnLakehouse(databricksEnv);
    try {
      await source.register(conn);
      let parts = 0;
      const run = await timed(() =>
        conn.client.callTool(
          { name: 'lakehouse_sync_table_to_bronze', arguments: { connection: 'bench', table } },
          undefined,
          { timeout: 600_000, onprogress: () => parts++ },
        ),
      );
      if (run.value.isError) throw new Error(run.value.content[0].text);
      sync.push(run.ms);
      last = { ...run.value.structuredContent, parts, peak: peakRssMb(conn.pid) };
    } finally {
      await conn.close();
    }
  }
  const mb = last.bytes_read / 1024 / 1024;
  const rawMs = stats(raw).median;
  const syncMs = stats(sync).median;
  print(
    `lakehouse on Databricks (fake warehouse): PostgreSQL → Parquet parts → PUT, ${ROWS.toLocaleString('en-US')} rows (median of 3)`,
    {
      csvMB: round(mb),
      rawCopyMs: round(rawMs),
      syncMs: round(syncMs),
      syncVsRaw: `${round((rawMs / syncMs) * 100)} %`,
      progressNotifications: last.parts,
      serverPeakRssMB: round(last.peak),
    },
  );

  // lakehouse_query_sql over a 1,000-row result the fake returns at once: parse check, session, chunked reads,
  // shaping to CSV. The fake's own cost is a JSON read of the script per statement.
  const columns = [
    ['id', 'bigint'],
    ['status', 'string'],
    ['amount', 'decimal(12,2)'],
    ['created_at', 'timestamp'],
  ];
  const rows = Array.from({ length: 1000 }, (_, i) => [
    i,
    ['new', 'paid'][i % 2],
    (i * 1.25).toFixed(2),
    '2024-01-01T00:00:00Z',
  ]);
  script([{ match: '^SELECT id, status', columns, rows }]);
  const conn = await spawnLakehouse(databricksEnv);
  const sql = 'SELECT id, status, amount, created_at FROM bronze.orders';
  const latencies = [];
  for (let i = 0; i < 60; i++) {
    const { ms } = await timed(() =>
      call(conn, 'lakehouse_query_sql', { sql, max_rows: 1000, max_bytes: 1048576 }),
    );
    if (i >= 10) latencies.push(ms);
  }
  await conn.close();
  const s = stats(latencies);
  print(
    'lakehouse on Databricks (fake warehouse): lakehouse_query_sql, 1,000 rows × 4 columns round trip (ms)',
    {
      median: round(s.median, 2),
      p90: round(s.p90, 2),
    },
  );

  // The AI-assisted tools on the local warehouse, over the same table synced into bronze.
  const local = await spawnLakehouse({ LAKEHOUSE_HOME: mkdtempSync(join(tmpdir(), 'bench-lh-ai-')) });
  try {
    await source.register(local);
    await call(local, 'lakehouse_sync_table_to_bronze', { connection: 'bench', table });
    const figures = [];
    const measure = async (label, name, args) => {
      const samples = [];
      let bytes = 0;
      for (let i = 0; i < 5; i++) {
        const { ms, value } = await timed(() => call(local, name, args));
        samples.push(ms);
        bytes =
          Buffer.byteLength(JSON.stringify(value.content)) +
          Buffer.byteLength(JSON.stringify(value.structuredContent ?? {}));
      }
      figures.push({ call: label, medianMs: round(stats(samples).median), resultBytes: bytes });
    };
    await measure(`analyze_schema bronze.${table}`, 'lakehouse_analyze_schema', { table: `bronze.${table}` });
    await measure('suggest_query "total amount by status per month"', 'lakehouse_suggest_query', {
      question: 'total amount by status per month',
    });
    await measure('explain_data over 50,000 rows', 'lakehouse_explain_data', {
      sql: `SELECT status, amount, created_at FROM bronze.${table}`,
      max_rows: 50000,
    });
    print(
      `lakehouse: AI-assisted tools on the local warehouse, ${ROWS.toLocaleString('en-US')}-row table (median of 5)`,
      figures,
    );
  } finally {
    await local.close();
  }
} finally {
  await source.stop();
  await rest.close();
}
