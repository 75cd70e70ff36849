// lakehouse_query_sql is read-only, one statement, no files, no other tenants, bounded in time, rows and bytes.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpawnedServer } from '@switchyard/testkit';
import { query, startLakehouse } from './helpers.js';

describe('lakehouse_query_sql safety', () => {
  let server: SpawnedServer;
  beforeAll(async () => {
    server = await startLakehouse();
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
  });
  afterAll(() => server.close());

  const intact = async () => {
    const rows = await query(server, 'SELECT count(*) FROM bronze.things');
    expect(rows.structured!.rows).toEqual([['3']]);
  };

  const escapes: Array<[string, string, string]> = [
    [
      'a second statement',
      'SELECT 1; DROP TABLE bronze.things',
      'Only one statement may run per call, and this SQL holds 2; nothing was run. Send a single SELECT without a second statement after a semicolon.',
    ],
    [
      'COPY TO a file',
      "COPY bronze.things TO '/tmp/lakehouse-escape.csv'",
      'Only read-only queries can run here, and this is a COPY statement; nothing was run. Use SELECT (or WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN); data changes go through the sync, upload and transform tools.',
    ],
    [
      'reading a file',
      "SELECT * FROM read_csv('/etc/passwd')",
      'Reading or writing files is disabled for queries: Permission Error: Cannot access file "/etc/passwd" - file system operations are disabled by configuration. Load a file with lakehouse_upload_file first, then query its bronze table.',
    ],
    [
      'a relative path climbing out',
      "SELECT * FROM read_csv('../../x')",
      'Reading or writing files is disabled for queries: Permission Error: Cannot access file "../../x" - file system operations are disabled by configuration. Load a file with lakehouse_upload_file first, then query its bronze table.',
    ],
    [
      'ATTACH',
      "ATTACH '/tmp/other.duckdb' AS other",
      'Only read-only queries can run here, and this is a ATTACH statement; nothing was run. Use SELECT (or WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN); data changes go through the sync, upload and transform tools.',
    ],
    [
      'INSTALL',
      'INSTALL httpfs',
      'Only read-only queries can run here, and this is a INSTALL statement; nothing was run. Use SELECT (or WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN); data changes go through the sync, upload and transform tools.',
    ],
    [
      'SET',
      'SET enable_external_access = true',
      'Only read-only queries can run here, and this is a SET statement; nothing was run. Use SELECT (or WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN); data changes go through the sync, upload and transform tools.',
    ],
    [
      'a PRAGMA',
      'PRAGMA database_list',
      'Only read-only queries can run here, and this is a PRAGMA statement; nothing was run. Use SELECT (or WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN); data changes go through the sync, upload and transform tools.',
    ],
    [
      'a write hidden behind a comment',
      '/* harmless */ DELETE FROM bronze.things',
      'Only read-only queries can run here, and this is a DELETE statement; nothing was run. Use SELECT (or WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN); data changes go through the sync, upload and transform tools.',
    ],
    [
      "another tenant's table",
      'SELECT * FROM tenant_acme.bronze.private',
      'The query refers to something that does not exist in tenant_default: Binder Error: Catalog "tenant_acme" does not exist! Only this tenant\'s tables can be queried; call lakehouse_list_tables to see them.',
    ],
    [
      'a write inside a CTE',
      "WITH x AS (SELECT 1) INSERT INTO bronze.things SELECT 4, 'delta'",
      'Only read-only queries can run here, and this is a INSERT statement; nothing was run. Use a single SELECT; data changes go through the sync, upload and transform tools.',
    ],
  ];

  it.each(escapes)('refuses %s', async (_name, sql, answer) => {
    const call = await query(server, sql);
    expect(call.isError).toBe(true);
    expect(call.text).toBe(answer);
    await intact();
  });

  it('cannot name the other tenant through its catalog in a table reference', async () => {
    const viaDescribe = await server.call('lakehouse_describe_table', {
      table: 'tenant_acme.bronze.private',
    });
    expect(viaDescribe.text).toBe(
      "'tenant_acme.bronze.private' names catalog tenant_acme, but this tenant's catalog is tenant_default. Tables of other tenants cannot be reached; pass tenant_id to work in another tenant.",
    );
    const own = await query(server, 'SELECT * FROM bronze.private', { tenant_id: 'acme' });
    expect(own.structured!.rows).toEqual([['other tenant data']]);
    expect(existsSync('/tmp/lakehouse-escape.csv')).toBe(false);
  });

  it('stops a huge cross join at the time bound and stays usable', async () => {
    const call = await query(
      server,
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
    const capped = await query(server, 'SELECT range AS n FROM range(5000)', { max_rows: 10 });
    expect(capped.structured).toMatchObject({ row_count: 10, truncated: true });
    expect(capped.text.split('\n')[0]).toBe(
      '10 rows (truncated; raise max_rows or max_bytes, aggregate, or pass spill_csv: true for every row)',
    );
    const bytes = await query(server, "SELECT repeat('x', 500) AS wide FROM range(100)", {
      max_rows: 100,
      max_bytes: 2048,
    });
    expect(bytes.structured).toMatchObject({ row_count: 4, truncated: true });
    const spilled = await query(server, 'SELECT range AS n FROM range(5000)', {
      max_rows: 5,
      spill_csv: true,
    });
    expect(spilled.structured).toMatchObject({ row_count: 5, truncated: true });
    const file = spilled.structured!.spill_file as string;
    expect(file.startsWith(`${server.env.SWITCHYARD_DATA_DIR}`)).toBe(true);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.length).toBe(5001);
    expect(lines[0]).toBe('n');
    expect(spilled.text).toContain(`All 5,000 rows are in ${file}`);
  });

  it("answers SQL errors with DuckDB's own reason", async () => {
    const bad = await query(server, 'SELEC 1');
    expect(bad.text).toMatch(/^The SQL could not be parsed: Parser Error: syntax error at or near "SELEC"/);
    const col = await query(server, 'SELECT nme FROM bronze.things');
    expect(col.text).toMatch(/^DuckDB refused the query: Binder Error: Referenced column "nme" not found/);
    await intact();
  });
});
