// lakehouse_query_sql is read-only, one statement, no files, no other tenants, bounded in time, rows and bytes.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fenceProblems, injection, rowsOf } from '@switchyard/testkit';
import { query, withWorld } from './helpers.js';

describe('lakehouse_query_sql safety', () => {
  const t = withWorld({
    ready: async (server) => {
      const up = await server.call('lakehouse_upload_file', {
        content: 'id,name\n1,alpha\n2,beta\n3,gamma\n',
        file_name: 'things.csv',
      });
      expect(up.isError).toBe(false);
      const other = await server.call('lakehouse_upload_file', {
        content: 'secret\nother tenant data\n',
        file_name: 'private.csv',
        tenant_id: 'acme',
      });
      expect(other.isError).toBe(false);
    },
  });

  const intact = async () => {
    const rows = await query(t.server, 'SELECT count(*) FROM bronze.things');
    expect(rowsOf(rows)).toEqual([['3']]);
  };

  // Every row is an attempt to make a read-only query write, read a file, reach another tenant, read the
  // engine's settings (paths of the user's machine) or run more than one statement. Each is refused before
  // anything runs, the tenant's database file is not touched, and the server still answers.
  const NOT_A_QUERY = (kind: string) =>
    `Only read-only queries can run here, and this is ${kind} statement; nothing was run.`;
  const TABLE_FUNCTION = (name: string) =>
    `The table function ${name}() cannot be used in queries (only range, generate_series, unnest, generate_subscripts can); nothing was run.`;
  const NOT_THE_TENANT = (name: string) =>
    `Only this tenant's layers can be queried, and ${name} is not one of them; nothing was run.`;
  const escapes: Array<[string, string, string]> = [
    ['a second statement', 'SELECT 1; DROP TABLE bronze.things', 'this SQL holds 2; nothing was run'],
    ['statements stacked after COMMIT', 'SELECT 1; COMMIT; DROP TABLE bronze.things', 'this SQL holds 3'],
    ['a statement after a comment', 'SELECT 1 -- x\n; DELETE FROM bronze.things', 'this SQL holds 2'],
    ['COPY TO a file', "COPY bronze.things TO '/tmp/lakehouse-escape.csv'", NOT_A_QUERY('a COPY')],
    [
      'EXPLAIN ANALYZE COPY over the database file',
      `EXPLAIN ANALYZE COPY (SELECT 'x' AS gone) TO '${'<db>'}' (FORMAT csv, USE_TMP_FILE false)`,
      NOT_A_QUERY('an EXPLAIN'),
    ],
    [
      'EXPLAIN ANALYZE of CREATE TEMP TABLE',
      'EXPLAIN ANALYZE CREATE TEMP TABLE t AS SELECT 1',
      NOT_A_QUERY('an EXPLAIN'),
    ],
    [
      'EXPLAIN ANALYZE of CREATE MACRO',
      'EXPLAIN ANALYZE CREATE TEMP MACRO m() AS 1',
      NOT_A_QUERY('an EXPLAIN'),
    ],
    ['EXPLAIN ANALYZE of PREPARE', 'EXPLAIN ANALYZE PREPARE p AS SELECT 1', NOT_A_QUERY('an EXPLAIN')],
    ['EXPLAIN ANALYZE of CALL', 'EXPLAIN ANALYZE CALL pragma_version()', NOT_A_QUERY('an EXPLAIN')],
    ['EXPLAIN ANALYZE of PRAGMA', 'EXPLAIN ANALYZE PRAGMA database_list', NOT_A_QUERY('an EXPLAIN')],
    ['EXPLAIN ANALYZE of SET VARIABLE', 'EXPLAIN ANALYZE SET VARIABLE x = 1', NOT_A_QUERY('an EXPLAIN')],
    ['EXPLAIN of a query', 'EXPLAIN SELECT * FROM bronze.things', NOT_A_QUERY('an EXPLAIN')],
    ['reading a file', "SELECT * FROM read_csv('/etc/passwd')", TABLE_FUNCTION('read_csv')],
    ['a relative path climbing out', "SELECT * FROM read_csv('../../x')", TABLE_FUNCTION('read_csv')],
    ['read_text of the environment', "FROM read_text('/proc/self/environ')", TABLE_FUNCTION('read_text')],
    ['read_blob', "SELECT * FROM read_blob('/etc/shadow')", TABLE_FUNCTION('read_blob')],
    ['parquet_scan', "SELECT * FROM parquet_scan('/tmp/x.parquet')", TABLE_FUNCTION('parquet_scan')],
    ['sniff_csv', "SELECT * FROM sniff_csv('/etc/passwd')", TABLE_FUNCTION('sniff_csv')],
    ['glob', "SELECT * FROM glob('/*')", TABLE_FUNCTION('glob')],
    [
      'a file read in a subquery',
      "SELECT * FROM bronze.things WHERE name IN (SELECT * FROM read_csv('/etc/passwd'))",
      TABLE_FUNCTION('read_csv'),
    ],
    [
      'a file read beside a generator',
      "FROM range(3) r, read_json_auto('/etc/x.json')",
      TABLE_FUNCTION('read_json_auto'),
    ],
    [
      'a replacement scan of a path',
      "SELECT * FROM '/etc/passwd'",
      'Files and URLs cannot be read by a query (/etc/passwd); nothing was run.',
    ],
    [
      'a replacement scan of a URL',
      "SELECT * FROM 'https://example.com/x.csv'",
      'Files and URLs cannot be read by a query',
    ],
    [
      'the database paths',
      'SELECT path FROM duckdb_databases() WHERE NOT internal',
      TABLE_FUNCTION('duckdb_databases'),
    ],
    ['the engine settings', 'SELECT name, value FROM duckdb_settings()', TABLE_FUNCTION('duckdb_settings')],
    [
      'settings through the system catalog',
      'SELECT * FROM system.main.duckdb_settings()',
      TABLE_FUNCTION('duckdb_settings'),
    ],
    ['secrets', 'SELECT * FROM duckdb_secrets()', TABLE_FUNCTION('duckdb_secrets')],
    ['extensions', 'SELECT * FROM duckdb_extensions()', TABLE_FUNCTION('duckdb_extensions')],
    [
      'a setting by name',
      "SELECT current_setting('home_directory')",
      "The function current_setting() reads the engine's configuration",
    ],
    ['query() running a string', "SELECT * FROM query('DROP TABLE bronze.things')", TABLE_FUNCTION('query')],
    ['query_table()', "SELECT * FROM query_table('bronze.things')", TABLE_FUNCTION('query_table')],
    [
      'a pragma table function',
      'SELECT * FROM pragma_database_list()',
      TABLE_FUNCTION('pragma_database_list'),
    ],
    ['ATTACH', "ATTACH '/tmp/other.duckdb' AS other", NOT_A_QUERY('an ATTACH')],
    ['DETACH', 'DETACH tenant_default', NOT_A_QUERY('a DETACH')],
    ['INSTALL', 'INSTALL httpfs', NOT_A_QUERY('an INSTALL')],
    ['LOAD', 'LOAD httpfs', NOT_A_QUERY('a LOAD')],
    ['SET', 'SET enable_external_access = true', NOT_A_QUERY('a SET')],
    ['RESET', 'RESET memory_limit', NOT_A_QUERY('a RESET')],
    ['a PRAGMA', 'PRAGMA database_list', NOT_A_QUERY('a PRAGMA')],
    ['CALL', 'CALL pragma_version()', NOT_A_QUERY('a CALL')],
    ['EXPORT DATABASE', "EXPORT DATABASE '/tmp/lakehouse-export'", NOT_A_QUERY('an EXPORT')],
    ['CHECKPOINT', 'CHECKPOINT', NOT_A_QUERY('a CHECKPOINT')],
    ['VACUUM', 'VACUUM', NOT_A_QUERY('a VACUUM')],
    ['CREATE TEMP TABLE', 'CREATE TEMP TABLE t AS SELECT 1', NOT_A_QUERY('a CREATE')],
    ['PREPARE', 'PREPARE p AS SELECT 1', NOT_A_QUERY('a PREPARE')],
    ['BEGIN', 'BEGIN TRANSACTION', NOT_A_QUERY('a BEGIN')],
    ['USE', 'USE memory', NOT_A_QUERY('a USE')],
    ['a write hidden behind a comment', '/* harmless */ DELETE FROM bronze.things', NOT_A_QUERY('a DELETE')],
    [
      'a write inside a CTE',
      "WITH x AS (SELECT 1) INSERT INTO bronze.things SELECT 4, 'delta'",
      NOT_A_QUERY('an INSERT'),
    ],
    [
      'a PIVOT that creates a type first',
      'PIVOT bronze.things ON name USING count(*)',
      'A PIVOT here must list the values it turns into columns; nothing was run.',
    ],
    [
      "another tenant's table",
      'SELECT * FROM tenant_acme.bronze.private',
      NOT_THE_TENANT('tenant_acme.bronze.private'),
    ],
    ['the temp catalog', 'SELECT * FROM temp.main.t', NOT_THE_TENANT('temp.main.t')],
    ['the main schema', 'SELECT * FROM main.t', NOT_THE_TENANT('main.t')],
    ['pg_catalog', 'SELECT * FROM pg_catalog.pg_settings', NOT_THE_TENANT('pg_catalog.pg_settings')],
    [
      'an unqualified table',
      'SELECT * FROM things',
      'The table things is not named with its layer; nothing was run.',
    ],
    ['a schema-qualified function', 'SELECT main.version()', 'Functions cannot be named with a schema here'],
  ];

  const database = () =>
    join(t.server.env.SWITCHYARD_DATA_DIR!, 'lakehouse', 'tenant_default', 'tenant_default.duckdb');
  it.each(escapes)('refuses %s', async (_name, sql, answer) => {
    const file = database();
    const before = statSync(file);
    const call = await query(t.server, sql.replace('<db>', file));
    expect(call.isError).toBe(true);
    expect(call.text).toContain(answer);
    const after = statSync(file);
    expect([after.size, after.mtimeMs]).toEqual([before.size, before.mtimeMs]);
    await intact();
  });

  it.each([
    [
      'a join across layers with a CTE and a window',
      'WITH t AS (SELECT * FROM bronze.things) SELECT name, row_number() OVER (ORDER BY id) FROM t',
    ],
    ['DESCRIBE', 'DESCRIBE bronze.things'],
    ['SUMMARIZE', 'SUMMARIZE bronze.things'],
    ['SHOW TABLES', 'SHOW TABLES'],
    ['a PIVOT with its values', "PIVOT bronze.things ON name IN ('alpha', 'beta') USING count(*)"],
    ['FROM first', 'FROM bronze.things SELECT name'],
    ['VALUES', "VALUES (1, 'a'), (2, 'b')"],
    ['a generator', 'SELECT sum(range) FROM range(10)'],
    ['the run records', 'SELECT count(*) FROM _meta.sync_runs'],
    ['the catalog views', "SELECT table_name FROM information_schema.tables WHERE table_schema = 'bronze'"],
    ['the own catalog by name', 'SELECT count(*) FROM tenant_default.bronze.things'],
    ['strings that look like attacks', "SELECT 'read_csv(''/etc/passwd''); DROP TABLE x; -- /*' AS s"],
  ])('still runs %s', async (_name, sql) => {
    const call = await query(t.server, sql);
    expect(call.text).not.toMatch(/nothing was run/);
    expect(call.isError).toBe(false);
  });

  it('cannot name the other tenant through its catalog in a table reference', async () => {
    const viaDescribe = await t.server.call('lakehouse_describe_table', {
      table: 'tenant_acme.bronze.private',
    });
    expect(viaDescribe.text).toBe(
      "'tenant_acme.bronze.private' names catalog tenant_acme, but this tenant's catalog is tenant_default. Tables of other tenants cannot be reached; pass tenant_id to work in another tenant.",
    );
    const own = await query(t.server, 'SELECT * FROM bronze.private', { tenant_id: 'acme' });
    expect(rowsOf(own)).toEqual([['other tenant data']]);
    expect(existsSync('/tmp/lakehouse-escape.csv')).toBe(false);
  });

  it('stops a huge cross join at the time bound and stays usable', async () => {
    const call = await query(
      t.server,
      'SELECT count(*) FROM range(100000000) a, range(100000000) b WHERE a.range + b.range = 7',
      {
        timeout_seconds: 2,
      },
    );
    expect(call.isError).toBe(true);
    expect(call.text).toBe(
      'The query was stopped after the time limit of 2 s. Add filters or a LIMIT, aggregate before returning rows, or raise timeout_seconds (at most 300).',
    );
    await intact();
  });

  it('caps rows and bytes and says truncated; spills every row to CSV on request', async () => {
    const capped = await query(t.server, 'SELECT range AS n FROM range(5000)', { max_rows: 10 });
    expect(capped.structured).toMatchObject({ row_count: 10, truncated: true });
    expect(capped.text.split('\n')[0]).toBe(
      '10 rows (truncated; raise max_rows or max_bytes, aggregate, or pass spill_csv: true for every row)',
    );
    const bytes = await query(t.server, "SELECT repeat('x', 500) AS wide FROM range(100)", {
      max_rows: 100,
      max_bytes: 2048,
    });
    // The whole answer stays within max_bytes: two 500-byte rows and the lines around them.
    expect(bytes.structured).toMatchObject({ row_count: 2, truncated: true });
    expect(JSON.stringify(bytes.result).length).toBeLessThanOrEqual(2048);
    const spilled = await query(t.server, 'SELECT range AS n FROM range(5000)', {
      max_rows: 5,
      spill_csv: true,
    });
    expect(spilled.structured).toMatchObject({ row_count: 5, truncated: true });
    const file = spilled.structured!.spill_file as string;
    expect(file.startsWith(`${t.server.env.SWITCHYARD_DATA_DIR}`)).toBe(true);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.length).toBe(5001);
    expect(lines[0]).toBe('n');
    expect(spilled.text).toContain(`All 5,000 rows are in ${file}`);
  });

  it("answers SQL errors with DuckDB's own reason", async () => {
    const bad = await query(t.server, 'SELEC 1');
    expect(bad.text).toMatch(/^The SQL could not be parsed: «Parser Error: syntax error at or near "SELEC"/);
    const col = await query(t.server, 'SELECT nme FROM bronze.things');
    expect(col.text).toMatch(/^DuckDB refused the query: «Binder Error: Referenced column "nme" not found/);
    await intact();
  });
});

// Rule 7: a column name or a cell written by whoever made the file reaches the model only inside a fence, in
// the text and in the structured copy, and DuckDB's error quoting a cell is quoted as outside text.
describe('text from a file stays inside a fence', () => {
  const NEEDLE = 'SYSTEM OVERRIDE';
  const BRONZE_NEEDLE = 'system_override';
  const evil = injection(NEEDLE);
  const csv = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const t = withWorld();

  it('in lakehouse_upload_file, lakehouse_list_tables, lakehouse_describe_table and lakehouse_query_sql', async () => {
    const up = await t.server.call('lakehouse_upload_file', {
      content: `id,${csv(evil)}\n1,${csv(evil)}\n2,plain\n`,
      file_name: 'evil.csv',
    });
    expect(up.isError, up.text).toBe(false);
    // The column name is normalised by the naming rule (its original spelling stays in the catalog, shown by
    // describe_table); the bronze name carries the words, and stays inside the fence too.
    expect(up.text).toContain(BRONZE_NEEDLE);
    expect(fenceProblems(up.text, BRONZE_NEEDLE, { quoted: true })).toEqual([]);

    const tables = await t.server.call('lakehouse_list_tables', {});
    expect(fenceProblems(tables.text, 'evil.csv')).toEqual([]);

    const desc = await t.server.call('lakehouse_describe_table', { table: 'bronze.evil' });
    expect(desc.isError, desc.text).toBe(false);
    expect(desc.text).toContain(NEEDLE);
    expect(fenceProblems(desc.text, NEEDLE)).toEqual([]);

    const rows = await query(t.server, 'SELECT * FROM bronze.evil ORDER BY id');
    expect(rows.isError, rows.text).toBe(false);
    expect(rows.text).toContain(NEEDLE);
    expect(fenceProblems(rows.text, NEEDLE)).toEqual([]);
    // Cells and column names travel once, in the fence: the structure holds counts only.
    const structured = JSON.stringify(rows.structured);
    expect(structured).not.toContain(NEEDLE);
    expect(structured).not.toMatch(/(begin|end)\W*untrusted/i);

    const cast = await query(t.server, 'SELECT CAST(COLUMNS(* EXCLUDE (id)) AS INTEGER) FROM bronze.evil');
    expect(cast.isError).toBe(true);
    expect(fenceProblems(cast.text, NEEDLE, { quoted: true })).toEqual([]);
  });

  it('in lakehouse_transform_to_silver (dry run, build, refused step) and lakehouse_create_gold_view', async () => {
    const transform = (extra: Record<string, unknown>) =>
      t.server.call('lakehouse_transform_to_silver', {
        source_table: 'bronze.evil',
        target_table: 'evil',
        ...extra,
      });
    const dry = await transform({ steps: [{ op: 'deduplicate', columns: ['id'] }], dry_run: true });
    expect(dry.isError, dry.text).toBe(false);
    expect(fenceProblems(dry.text.split('\nSQL:')[0]!, NEEDLE)).toEqual([]);
    const built = await transform({ steps: [{ op: 'deduplicate', columns: ['id'] }] });
    expect(built.isError, built.text).toBe(false);
    expect(built.text).toContain(BRONZE_NEEDLE);
    expect(fenceProblems(built.text, BRONZE_NEEDLE)).toEqual([]);
    const refused = await transform({ steps: [{ op: 'trim', columns: ['nope'] }] });
    expect(refused.isError).toBe(true);
    expect(fenceProblems(refused.text, NEEDLE, { quoted: true })).toEqual([]);
    const view = await t.server.call('lakehouse_create_gold_view', {
      name: 'evil_view',
      sql: 'SELECT * FROM bronze.evil',
    });
    expect(view.isError, view.text).toBe(false);
    expect(fenceProblems(view.text, NEEDLE)).toEqual([]);
  });
});
