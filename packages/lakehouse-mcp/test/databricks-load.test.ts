// The write side on Databricks: PostgreSQL and files → Parquet parts (DuckDB, on this machine) → PUT into the
// landing volume (staging limited to the run's folder) → CREATE OR REPLACE from the run's files (full) or
// COPY INTO + MERGE (incremental); temp files gone on success and failure; transforms and gold views
// rendered by the Databricks dialect. The data PUT into the fake volume is read back with DuckDB.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeEach, describe, expect, it } from 'vitest';
import { rowsOf } from '@switchyard/testkit';
import { BOOTSTRAP, META_WRITES, type LogEntry, type Rule } from './databricks-fake.js';
import { connect, pgClient, pgInfo, withDatabricks } from './helpers.js';

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

async function readParquet(files: string[], select: string): Promise<unknown[][]> {
  const duck = await DuckDBInstance.create(':memory:');
  const conn = await duck.connect();
  try {
    const list = files.map((f) => `'${f}'`).join(', ');
    const reader = await conn.runAndReadAll(select.replace('$files', `read_parquet([${list}])`));
    return reader.getRowsJS() as unknown[][];
  } finally {
    conn.closeSync();
    duck.closeSync();
  }
}

const NO_COLUMNS: Rule = {
  match: 'information_schema`\\.`columns` WHERE table_schema',
  columns: [['column_name', 'string']],
  rows: [],
};
const NO_STATE: Rule = {
  match: '^SELECT target, connection, source, cursor_column',
  columns: [['target', 'string']],
  rows: [],
};
const count = (n: number, table: string): Rule => ({
  match: `^SELECT count\\(\\*\\) FROM \`tenant_default\`\\.\`bronze\`\\.\`${table}\`$`,
  columns: [['count(1)', 'bigint']],
  rows: [[n]],
});

describe('Databricks: loads', () => {
  const info = pgInfo();
  const CONNECTION: Rule = {
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
    ].map((c) => [c, 'string'] as [string, string]),
    rows: [
      [
        'lake',
        'postgres',
        info.host,
        info.port,
        info.database,
        info.user,
        'disable',
        '2024-01-01 00:00:00',
        '2024-01-01 00:00:00',
      ],
    ],
  };
  const work = () => join(t.dirs.dataDir, 'lakehouse', 'databricks', 'tenant_default', 'work');

  let registration: LogEntry[] = [];
  const t = withDatabricks({
    ready: async (server, { world: fake }) => {
      fake.script([BOOTSTRAP, META_WRITES, CONNECTION]);
      await connect(server);
      registration = fake.log();
    },
  });
  beforeEach(() => t.world.clearLog());

  it('registered the connection in the tenant catalog, without the password', () => {
    const insert = registration.find(
      (e) => e.call === 'execute' && /`_meta`\.`connections` AS t/.test(e.sql!),
    );
    expect(insert?.sql).toMatch(
      /^MERGE INTO `tenant_default`\.`_meta`\.`connections` AS t USING \(SELECT :name AS name, /,
    );
    expect(insert?.params).toMatchObject({ name: 'lake', host: info.host, user_name: info.user });
    expect(JSON.stringify(registration)).not.toContain(info.password);
  });

  it('uploads a CSV: one Parquet part PUT into the run folder, the table replaced from it in one statement', async () => {
    t.world.script([
      BOOTSTRAP,
      META_WRITES,
      NO_COLUMNS,
      { match: '^CREATE OR REPLACE TABLE' },
      count(4, 'sales'),
    ]);
    const call = await t.server.call('lakehouse_upload_file', {
      content:
        'id,city,amount,day\n1,Paris,10.5,2024-01-02\n2,Paris,20,2024-01-03\n3,Lyon,,2024-01-04\n4,Nice,7.25,\n',
      file_name: 'sales.csv',
    });
    expect(call.isError).toBe(false);
    expect(call.text.split('\n')[0]).toBe('Loaded «sales.csv» into bronze.sales: 4 rows, 4 columns.');
    // Column names come from the file: fenced.
    expect(call.text).toContain('\nid BIGINT, city STRING, amount DOUBLE, day DATE\n[END UNTRUSTED columns ');
    const log = t.world.log().filter((e) => e.call === 'execute');
    const put = log.find((e) => e.sql!.startsWith('PUT '))!;
    const runDir = put.staging![0]!;
    expect(runDir.startsWith(work())).toBe(true);
    expect(put.sql).toMatch(
      new RegExp(
        `^PUT '${runDir.replace(/[.]/g, '\\.')}/part-00000\\.parquet' INTO '/Volumes/tenant_default/_meta/landing/bronze_sales/run-\\d+-\\w+/part-00000\\.parquet' OVERWRITE$`,
      ),
    );
    const replace = log.find((e) => e.sql!.startsWith('CREATE OR REPLACE TABLE'))!.sql!;
    expect(replace).toMatch(
      /^CREATE OR REPLACE TABLE `tenant_default`\.`bronze`\.`sales` AS SELECT CAST\(`id` AS BIGINT\) AS `id`, CAST\(`city` AS STRING\) AS `city`, CAST\(`amount` AS DOUBLE\) AS `amount`, CAST\(`day` AS DATE\) AS `day` FROM read_files\('\/Volumes\/tenant_default\/_meta\/landing\/bronze_sales\/run-\d+-\w+', format => 'parquet'\)$/,
    );
    const run = log.find((e) => e.sql!.includes('`sync_runs` VALUES'))!;
    expect(run.params).toMatchObject({
      kind: 'upload',
      source: 'inline:sales.csv',
      target_layer: 'bronze',
      target_name: 'sales',
      status: 'succeeded',
      rows: 4,
    });
    expect(log.at(-1)!.sql).toMatch(
      /^REMOVE '\/Volumes\/tenant_default\/_meta\/landing\/bronze_sales\/run-\d+-\w+\/part-00000\.parquet'$/,
    );
    // The part left the volume after the load, and the local run folder is gone.
    expect(filesUnder(t.world.volume)).toEqual([]);
    expect(readdirSync(work())).toEqual([]);
    const loaded = filesUnder(`${t.world.volume}-removed`).filter((f) => f.includes('bronze_sales'));
    expect(
      await readParquet(loaded, 'SELECT id, city, amount, CAST(day AS VARCHAR) FROM $files ORDER BY id'),
    ).toEqual([
      [1n, 'Paris', 10.5, '2024-01-02'],
      [2n, 'Paris', 20, '2024-01-03'],
      [3n, 'Lyon', null, '2024-01-04'],
      [4n, 'Nice', 7.25, null],
    ]);
  });

  it('syncs a 300,000-row table: one part per 4 MB with progress after each, every row in the volume', async () => {
    t.world.script([
      BOOTSTRAP,
      META_WRITES,
      CONNECTION,
      NO_STATE,
      NO_COLUMNS,
      { match: '^CREATE OR REPLACE TABLE' },
      count(300000, 'big_orders'),
    ]);
    const progress: string[] = [];
    const call = await t.server.call(
      'lakehouse_sync_table_to_bronze',
      { connection: 'lake', table: 'big_orders' },
      { onProgress: (p) => progress.push(p.message ?? ''), timeoutMs: 120_000 },
    );
    expect(call.isError).toBe(false);
    expect(call.structured).toMatchObject({
      target: 'tenant_default.bronze.big_orders',
      rows_read: 300000,
      table_rows: 300000,
    });
    const puts = t.world.statements().filter((s) => s.startsWith('PUT '));
    expect(puts.length).toBeGreaterThanOrEqual(4);
    expect(progress.filter((m) => / rows loaded$/.test(m))).toHaveLength(puts.length);
    const replace = t.world.statements().find((s) => s.startsWith('CREATE OR REPLACE TABLE'))!;
    expect(replace).toContain(
      'SELECT CAST(`id` AS BIGINT) AS `id`, CAST(`customer_id` AS INT) AS `customer_id`, CAST(`amount` AS DECIMAL(12,2)) AS `amount`, CAST(`status` AS STRING) AS `status`, CAST(`note` AS STRING) AS `note`, CAST(`created_at` AS TIMESTAMP) AS `created_at`, CAST(`updated_at` AS TIMESTAMP) AS `updated_at` FROM read_files(',
    );
    expect(readdirSync(work())).toEqual([]);
    const parts = filesUnder(`${t.world.volume}-removed`).filter((f) => f.includes('bronze_big_orders'));
    expect(parts).toHaveLength(puts.length);
    const db = await pgClient();
    const expected = (
      await db.query(
        'SELECT count(*)::int AS n, sum(amount)::text AS s, max(updated_at) AS m FROM big_orders',
      )
    ).rows[0];
    await db.end();
    const [[n, s]] = (await readParquet(
      parts,
      'SELECT count(*), CAST(sum(amount) AS VARCHAR) FROM $files',
    )) as [[bigint, string]];
    expect(Number(n)).toBe(expected.n);
    expect(s).toBe(expected.s);
  });

  it('syncs incrementally: the watermark from the parts, then COPY INTO a staging table and MERGE on the key', async () => {
    t.world.script([
      BOOTSTRAP,
      META_WRITES,
      CONNECTION,
      NO_STATE,
      NO_COLUMNS,
      { match: '^CREATE OR REPLACE TABLE' },
      count(100, 'customers'),
    ]);
    const first = await t.server.call('lakehouse_sync_table_to_bronze', {
      connection: 'lake',
      table: 'customers',
      sync_mode: 'incremental',
      cursor_column: 'updated_at',
    });
    expect(first.isError).toBe(false);
    expect(first.structured).toMatchObject({ rows_read: 100, watermark: '2024-01-05 04:00:00+00' });
    const state = t.world.log().find((e) => e.sql?.includes('`sync_state` AS t USING'))!;
    expect(state.params).toEqual({
      target: 'bronze.customers',
      connection: 'lake',
      source: 'public.customers',
      cursor_column: 'updated_at',
      key_columns: '["id"]',
      watermark: '2024-01-05 04:00:00+00',
    });

    t.world.clearLog();
    t.world.script([
      BOOTSTRAP,
      META_WRITES,
      CONNECTION,
      {
        match: '^SELECT target, connection, source, cursor_column',
        columns: ['target', 'connection', 'source', 'cursor_column', 'key_columns', 'watermark'].map(
          (c) => [c, 'string'] as [string, string],
        ),
        rows: [
          ['bronze.customers', 'lake', 'public.customers', 'updated_at', '["id"]', '2024-01-05 04:00:00+00'],
        ],
      },
      {
        match: 'information_schema`\\.`columns` WHERE table_schema',
        columns: [
          ['column_name', 'string'],
          ['full_data_type', 'string'],
          ['is_nullable', 'string'],
        ],
        rows: [
          ['id', 'int', 'NO'],
          ['name', 'string', 'NO'],
          ['updated_at', 'timestamp', 'NO'],
        ],
      },
      {
        match:
          '^(CREATE TABLE IF NOT EXISTS `tenant_default`\\.`bronze`\\.`_stage_|COPY INTO|MERGE INTO|DROP TABLE IF EXISTS)',
      },
      count(100, 'customers'),
    ]);
    const second = await t.server.call('lakehouse_sync_table_to_bronze', {
      connection: 'lake',
      table: 'customers',
      sync_mode: 'incremental',
    });
    expect(second.isError).toBe(false);
    expect(second.text).toMatch(
      /^Synced public\.customers from 'lake' into bronze\.customers \(incremental: 1 rows at or after updated_at = 2024-01-05 04:00:00\+00 merged on id\)/,
    );
    const statements = t.world
      .statements()
      .filter((s) =>
        /^(CREATE TABLE IF NOT EXISTS `tenant_default`\.`bronze`|COPY INTO|MERGE INTO `tenant_default`\.`bronze`|DROP)/.test(
          s,
        ),
      );
    const stage = /`(_stage_\d+_\w+)`/.exec(statements[0]!)![1];
    const dir = /FROM '([^']+)'/.exec(statements[1]!)![1];
    expect(statements).toEqual([
      `CREATE TABLE IF NOT EXISTS \`tenant_default\`.\`bronze\`.\`${stage}\` (\`id\` INT, \`name\` STRING, \`updated_at\` TIMESTAMP)`,
      `COPY INTO \`tenant_default\`.\`bronze\`.\`${stage}\` FROM '${dir}' FILEFORMAT = PARQUET`,
      `MERGE INTO \`tenant_default\`.\`bronze\`.\`customers\` AS t USING (SELECT * FROM \`tenant_default\`.\`bronze\`.\`${stage}\` QUALIFY row_number() OVER (PARTITION BY \`id\` ORDER BY \`updated_at\` DESC NULLS LAST) = 1) AS s ON t.\`id\` <=> s.\`id\` WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *`,
      `DROP TABLE IF EXISTS \`tenant_default\`.\`bronze\`.\`${stage}\``,
    ]);
    expect(dir).toMatch(/^\/Volumes\/tenant_default\/_meta\/landing\/bronze_customers\/run-\d+-\w+$/);
  });

  it('a PUT the volume refuses: the reason, a failed run, no parts left in the volume or on disk', async () => {
    t.world.script([
      BOOTSTRAP,
      META_WRITES,
      CONNECTION,
      NO_STATE,
      NO_COLUMNS,
      {
        match: '^PUT .*part-00001',
        at: 'execute',
        error: {
          class: 'PERMISSION_DENIED',
          message: "User does not have WRITE VOLUME on Volume 'tenant_default._meta.landing'.",
          sqlState: '42501',
        },
      },
    ]);
    const call = await t.server.call('lakehouse_sync_table_to_bronze', {
      connection: 'lake',
      table: 'big_orders',
      target_table: 'refused',
    });
    expect(call.isError).toBe(true);
    expect(call.text).toBe(
      "Databricks refused a privilege: «[PERMISSION_DENIED] User does not have WRITE VOLUME on Volume 'tenant_default._meta.landing'. (SQLSTATE 42501)». Ask a workspace admin to grant the principal USE CATALOG and CREATE SCHEMA on tenant_default, and CREATE TABLE, MODIFY, READ VOLUME and WRITE VOLUME on its schemas.",
    );
    const statements = t.world.statements();
    expect(statements.some((s) => s.startsWith('CREATE OR REPLACE'))).toBe(false);
    expect(statements.filter((s) => s.startsWith('REMOVE ')).length).toBe(1);
    const failed = t.world.log().find((e) => e.sql?.includes('`sync_runs` VALUES'))!;
    expect(failed.params).toMatchObject({ status: 'failed', target_name: 'refused' });
    expect(filesUnder(t.world.volume)).toEqual([]);
    expect(readdirSync(work())).toEqual([]);
  });

  it('refuses to create a tenant catalog it may not create, with what to do instead', async () => {
    t.world.script([
      {
        match: '^CREATE CATALOG',
        error: {
          class: 'PERMISSION_DENIED',
          message: 'User does not have CREATE CATALOG on Metastore.',
          sqlState: '42501',
        },
      },
    ]);
    const call = await t.server.call('lakehouse_upload_file', {
      content: 'a\n1\n',
      file_name: 'x.csv',
      tenant_id: 'newco',
    });
    expect(call.text).toBe(
      'The Databricks principal may not create the catalog tenant_newco: «[PERMISSION_DENIED] User does not have CREATE CATALOG on Metastore. (SQLSTATE 42501)». Ask an admin to create it (CREATE CATALOG tenant_newco) and grant the principal USE CATALOG, CREATE SCHEMA on it, or set LAKEHOUSE_DATABRICKS_CATALOG to an existing catalog where it may create schemas.',
    );
  });

  it('transforms to silver with the Databricks dialect: dry run with named parameters, then the table', async () => {
    const columns: Rule = {
      match: 'information_schema`\\.`columns` WHERE table_schema',
      columns: [
        ['column_name', 'string'],
        ['full_data_type', 'string'],
        ['is_nullable', 'string'],
      ],
      rows: [
        ['id', 'bigint', 'YES'],
        ['name', 'string', 'YES'],
        ['price', 'string', 'YES'],
        ['day', 'string', 'YES'],
      ],
    };
    const preview: Rule = {
      match: '^SELECT \\* FROM \\(SELECT',
      columns: [
        ['id', 'int'],
        ['customer', 'string'],
        ['price', 'decimal(10,2)'],
        ['day', 'date'],
      ],
      rows: [[1, 'ann', '1234.50', '2024-01-03']],
    };
    t.world.script([
      BOOTSTRAP,
      META_WRITES,
      columns,
      preview,
      { match: '^CREATE OR REPLACE TABLE `tenant_default`\\.`silver`' },
      {
        match: '^SELECT count\\(\\*\\) FROM `tenant_default`\\.`silver`\\.`people`$',
        columns: [['n', 'bigint']],
        rows: [[3]],
      },
    ]);
    const steps = [
      { op: 'trim', column: 'name' },
      { op: 'rename', column: 'name', to: 'customer' },
      { op: 'cast', column: 'id', to: 'integer' },
      { op: 'parse_date', column: 'day', format: '%d %b %Y' },
      { op: 'parse_number', column: 'price', decimal_separator: ',', to: 'decimal(10,2)' },
      { op: 'filter_rows', column: 'customer', operator: 'starts_with', value: 'a' },
      { op: 'deduplicate', columns: ['id'] },
    ];
    const dry = await t.server.call('lakehouse_transform_to_silver', {
      source_table: 'bronze.raw_people',
      target_table: 'people',
      steps,
      on_invalid: 'null',
      dry_run: true,
    });
    expect(dry.isError).toBe(false);
    expect(dry.text).toContain(
      "SELECT * FROM (SELECT * FROM (SELECT `id` AS `id`, `customer` AS `customer`, try_cast(replace(replace(replace(CAST(`price` AS STRING), ' ', ''), '.', ''), ',', '.') AS DECIMAL(10,2)) AS `price`, `day` AS `day` FROM (SELECT `id` AS `id`, `customer` AS `customer`, `price` AS `price`, CAST(try_to_timestamp(CAST(`day` AS STRING), :p1) AS DATE) AS `day` FROM (SELECT try_cast(`id` AS INT) AS `id`, `customer` AS `customer`, `price` AS `price`, `day` AS `day` FROM (SELECT `id` AS `id`, `name` AS `customer`, `price` AS `price`, `day` AS `day` FROM (SELECT `id` AS `id`, trim(`name`) AS `name`, `price` AS `price`, `day` AS `day` FROM (SELECT * FROM `tenant_default`.`bronze`.`raw_people`) AS s1) AS s2) AS s3) AS s4) AS s5) AS s6 WHERE startswith(CAST(`customer` AS STRING), :p2)) AS s7 QUALIFY row_number() OVER (PARTITION BY `id` ORDER BY 1) = 1\n-- parameters: [\"dd MMM yyyy\",\"a\"]",
    );
    const previewCall = t.world.log().find((e) => e.sql?.startsWith('SELECT * FROM (SELECT'))!;
    expect(previewCall.params).toEqual({ p1: 'dd MMM yyyy', p2: 'a' });
    const run = await t.server.call('lakehouse_transform_to_silver', {
      source_table: 'bronze.raw_people',
      target_table: 'people',
      steps,
      on_invalid: 'null',
    });
    expect(run.text.split('\n')[0]).toBe(
      'Built silver.people from bronze.raw_people with 7 steps: 3 rows, 4 columns.',
    );
    expect(run.text).toContain(
      '\nid int, customer string, price decimal(10,2), day date\n[END UNTRUSTED columns ',
    );
    const lineage = t.world.log().find((e) => e.sql?.includes('`lineage` AS t USING'))!;
    expect(lineage.params).toMatchObject({
      layer: 'silver',
      name: 'people',
      kind: 'transform',
      inputs: '["bronze.raw_people"]',
    });
  });

  it('creates a gold view after planning it, with the layers qualified by the tenant catalog', async () => {
    t.world.script([
      BOOTSTRAP,
      META_WRITES,
      {
        match: '^EXPLAIN ',
        columns: [['plan', 'string']],
        rows: [['== Physical Plan ==\nAdaptiveSparkPlan isFinalPlan=false']],
      },
      {
        match: '^DESCRIBE QUERY ',
        columns: [
          ['col_name', 'string'],
          ['data_type', 'string'],
          ['comment', 'string'],
        ],
        rows: [
          ['city', 'string', null],
          ['revenue', 'double', null],
        ],
      },
      {
        match: 'information_schema`\\.`tables` WHERE table_schema',
        columns: [['table_type', 'string']],
        rows: [],
      },
      { match: '^CREATE VIEW' },
    ]);
    const call = await t.server.call('lakehouse_create_gold_view', {
      name: 'Revenue by City',
      sql: 'SELECT city, sum(amount) AS revenue FROM bronze.sales GROUP BY city',
    });
    expect(call.text.split('\n')[0]).toBe(
      'Created view gold.revenue_by_city with 2 columns; query it with SELECT * FROM gold.revenue_by_city.',
    );
    expect(call.text).toContain('\ncity string, revenue double\n[END UNTRUSTED columns ');
    expect(t.world.statements().find((s) => s.startsWith('CREATE VIEW'))).toBe(
      'CREATE VIEW `tenant_default`.`gold`.`revenue_by_city` AS SELECT city, sum(amount) AS revenue FROM `tenant_default`.`bronze`.sales GROUP BY city',
    );
    // Planned once, and created from a session in the tenant's catalog (Spark keeps it with the view).
    expect(t.world.statements().filter((s) => s.startsWith('EXPLAIN '))).toHaveLength(1);
    const log = t.world.log();
    const create = log.find((e) => e.call === 'execute' && e.sql!.startsWith('CREATE VIEW'))!;
    expect(log.find((e) => e.call === 'openSession' && e.session === create.session)?.request).toMatchObject({
      initialCatalog: 'tenant_default',
      initialSchema: 'bronze',
    });
    t.world.script([
      {
        match: '^EXPLAIN ',
        columns: [['plan', 'string']],
        rows: [
          [
            '== Physical Plan ==\nError occurred during query planning: \n[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name `amout` cannot be resolved. SQLSTATE: 42703',
          ],
        ],
      },
    ]);
    const bad = await t.server.call('lakehouse_create_gold_view', {
      name: 'bad',
      sql: 'SELECT sum(amout) FROM bronze.sales',
    });
    expect(bad.text).toBe(
      "The query refers to something that does not exist in tenant_default: «[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name `amout` cannot be resolved. (SQLSTATE 42703)». Only this tenant's tables can be queried; call lakehouse_list_tables to see them.",
    );
  });
});

describe('Databricks: a shared catalog for workspaces that cannot create catalogs', () => {
  const t = withDatabricks({ server: { env: { LAKEHOUSE_DATABRICKS_CATALOG: 'main' } } });

  it('keeps the tenant in schemas tenant_<id>_bronze, ... of the catalog, and maps bronze.x in queries', async () => {
    t.world.script([
      { match: '^CREATE (SCHEMA|VOLUME|TABLE) IF NOT EXISTS' },
      {
        match: '^(INSERT INTO|MERGE INTO) `main`\\.`tenant_default_meta`\\.',
      },
      { match: 'information_schema`\\.`columns` WHERE', columns: [['column_name', 'string']], rows: [] },
      { match: '^CREATE OR REPLACE TABLE `main`\\.`tenant_default_bronze`\\.`things`' },
      {
        match: '^SELECT count\\(\\*\\) FROM `main`\\.`tenant_default_bronze`\\.`things`$',
        columns: [['n', 'bigint']],
        rows: [[1]],
      },
      {
        match: '^SELECT \\* FROM `tenant_default_bronze`\\.things',
        columns: [['a', 'bigint']],
        rows: [[1]],
      },
    ]);
    const up = await t.server.call('lakehouse_upload_file', { content: 'a\n1\n', file_name: 'things.csv' });
    expect(up.structured).toMatchObject({ table: 'tenant_default.bronze.things', rows: 1 });
    const statements = t.world.statements();
    expect(statements.slice(0, 5)).toEqual([
      'CREATE SCHEMA IF NOT EXISTS `main`.`tenant_default_bronze`',
      'CREATE SCHEMA IF NOT EXISTS `main`.`tenant_default_silver`',
      'CREATE SCHEMA IF NOT EXISTS `main`.`tenant_default_gold`',
      'CREATE SCHEMA IF NOT EXISTS `main`.`tenant_default_meta`',
      'CREATE VOLUME IF NOT EXISTS `main`.`tenant_default_meta`.`landing`',
    ]);
    expect(statements.find((s) => s.startsWith('PUT '))).toMatch(
      / INTO '\/Volumes\/main\/tenant_default_meta\/landing\/bronze_things\//,
    );
    const q = await t.server.call('lakehouse_query_sql', { sql: 'SELECT * FROM bronze.things' });
    expect(rowsOf(q)).toEqual([['1']]);
    const other = await t.server.call('lakehouse_query_sql', {
      sql: 'SELECT * FROM tenant_acme_bronze.secret',
    });
    expect(other.text).toBe(
      "The query names tenant_acme_bronze.secret, which is outside this tenant's catalog tenant_default; nothing was run. Only this tenant's tables can be queried; call lakehouse_list_tables to see them.",
    );
  });
});
