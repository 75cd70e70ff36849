// PostgreSQL → bronze through the built bin: every mapped type, a big table with progress, views, tables
// without a key, incremental merges and the run records.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rowsOf, tableOf } from '@switchyard/testkit';
import { connect, pgClient, pgInfo, query, withWorld } from './helpers.js';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe('sync from PostgreSQL', () => {
  const t = withWorld({ ready: (server) => connect(server) });

  it('registers a source without putting the password in the catalog or in plain files', async () => {
    const info = pgInfo();
    const conns = await query(t.server, 'SELECT * FROM _meta.connections');
    expect(conns.isError).toBe(false);
    expect(conns.text).toContain(`lake,postgres,${info.host},${info.port},lake,postgres,disable`);
    expect(conns.text).not.toContain(info.password);
    for (const dir of [t.server.env.SWITCHYARD_CONFIG_DIR!, t.server.env.SWITCHYARD_DATA_DIR!]) {
      for (const file of filesUnder(dir)) {
        if (statSync(file).size < 5_000_000) expect(readFileSync(file).includes(info.password)).toBe(false);
      }
    }
    expect(t.server.stderr()).not.toContain(info.password);
  });

  it('tests a connection and reports what the user cannot read', async () => {
    const info = pgInfo();
    const reg = await t.server.call('lakehouse_connect_postgres', {
      name: 'reader',
      host: info.host,
      port: info.port,
      database: info.database,
      user: 'reader',
      password: 'reader-pass-123',
      ssl_mode: 'prefer',
    });
    expect(reg.isError).toBe(false);
    const test = await t.server.call('lakehouse_test_connection', { connection: 'reader' });
    expect(test.isError).toBe(false);
    expect(test.text).toMatch(
      /^Connection 'reader' works: PostgreSQL 18\.\d+ at 127\.0\.0\.1:\d+\/lake as reader, round trip [\d.]+ ms\.$/m,
    );
    expect(test.text).toContain('Readable tables and views: 5.');
    expect(test.text).toContain(
      'Not readable by reader (1): public.secret_stuff. Grant SELECT to sync them.',
    );
    expect(test.structured).toMatchObject({
      connection: 'reader',
      user: 'reader',
      readable_tables: 5,
      unreadable_tables: ['public.secret_stuff'],
    });
  });

  it('lists source tables with estimates, keys and readability', async () => {
    const list = await t.server.call('lakehouse_list_source_tables', { connection: 'lake' });
    expect(list.isError).toBe(false);
    const tables = rowsOf(list).map((t) => [t[0], t[1], t[4]]);
    expect(tables).toEqual([
      ['public.all_types', 'table', 'id'],
      ['public.big_orders', 'table', 'id'],
      ['public.customers', 'table', 'id'],
      ['public.no_pk', 'table', ''],
      ['public.order_summary', 'view', ''],
      ['public.secret_stuff', 'table', ''],
    ]);
    expect(list.structured).toEqual({ table_count: 6, truncated: false });
    expect(list.text).toContain('public.big_orders,table,300000,7,id,yes');
    expect(list.text).toContain('[BEGIN UNTRUSTED tables of lake');
    const filtered = await t.server.call('lakehouse_list_source_tables', {
      connection: 'lake',
      name_like: '%order%',
      limit: 1,
    });
    expect(filtered.structured).toEqual({ truncated: true, table_count: 1 });
    expect(rowsOf(filtered).map((t) => t[0])).toEqual(['public.big_orders']);
  });

  it('keeps every mapped type through the trip, NULLs included', async () => {
    const sync = await t.server.call('lakehouse_sync_table_to_bronze', {
      connection: 'lake',
      table: 'all_types',
    });
    expect(sync.isError).toBe(false);
    expect(sync.structured).toMatchObject({
      target: 'tenant_default.bronze.all_types',
      rows_read: 3,
      table_rows: 3,
    });
    const described = await t.server.call('lakehouse_describe_table', {
      table: 'bronze.all_types',
      profile: false,
    });
    const types = Object.fromEntries(rowsOf(described).map((c) => [c[0], c[1]]));
    expect(types).toEqual({
      id: 'INTEGER',
      small: 'SMALLINT',
      big: 'BIGINT',
      dom: 'INTEGER',
      num: 'DECIMAL(12,2)',
      num_wide: 'DECIMAL(38,10)',
      num_free: 'DECIMAL(38,14)',
      r: 'FLOAT',
      d: 'DOUBLE',
      flag: 'BOOLEAN',
      t: 'VARCHAR',
      vc: 'VARCHAR',
      ch: 'VARCHAR',
      day: 'DATE',
      tod: 'TIME',
      todtz: 'TIME WITH TIME ZONE',
      ts: 'TIMESTAMP',
      tstz: 'TIMESTAMP WITH TIME ZONE',
      span: 'INTERVAL',
      id_uuid: 'UUID',
      doc: 'JSON',
      docb: 'JSON',
      raw: 'BLOB',
      ints: 'INTEGER[]',
      texts: 'VARCHAR[]',
      nums: 'DECIMAL(6,2)[]',
      feeling: 'VARCHAR',
      cash: 'DECIMAL(19,2)',
      addr: 'VARCHAR',
    });
    expect(rowsOf(described).find((c) => c[0] === 'id')?.[2]).toBe('no');

    const row1 = await query(
      t.server,
      `SELECT num::VARCHAR AS num, num_wide::VARCHAR AS wide, num_free::VARCHAR AS free, big::VARCHAR AS big, t, ch, day::VARCHAR AS day, tod::VARCHAR AS tod,
         ts::VARCHAR AS ts, epoch_us(tstz) AS tstz_us, to_months(14) + to_days(3) + to_microseconds(14706500000) = span AS span_ok,
         id_uuid::VARCHAR AS u, docb->>'k' AS k, json_extract(doc, '$.a[2].b') AS doc_b, hex(raw) AS raw, ints::VARCHAR AS ints,
         texts, nums::VARCHAR AS nums, feeling, cash::VARCHAR AS cash, addr, r, d, flag, dom
       FROM bronze.all_types WHERE id = 1`,
    );
    expect(row1.isError).toBe(false);
    // Rows travel as CSV text: each value as the text shows it (JSON for lists, empty for NULL).
    const v = firstRow(row1);
    expect(v).toEqual(
      asText({
        num: '1234567890.12',
        wide: '1234567890123456789012345678.0123456789',
        free: '3.14159265358979',
        big: '9007199254740993',
        t: 'plain, "quoted"\nand multi-line',
        ch: 'ab ',
        day: '2024-02-29',
        tod: '13:45:30.123456',
        ts: '2024-02-29 13:45:30.123456',
        tstz_us: String(Date.UTC(2024, 1, 29, 11, 45, 30, 123) * 1000 + 456),
        span_ok: true,
        u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
        k: 'v',
        doc_b: 'null',
        raw: 'DEADBEEF00',
        ints: '[1, 2, NULL, 4]',
        texts: ['a b', 'c,d', null, 'e"f'],
        nums: '[1.50, -2.25]',
        feeling: 'happy',
        cash: '12.34',
        addr: '192.168.1.1',
        r: 1.5,
        d: 2.718281828459045,
        flag: true,
        dom: 7,
      }),
    );
    const nulls = await query(
      t.server,
      `SELECT count(*) FILTER (WHERE COLUMNS(* EXCLUDE (id)) IS NULL) FROM bronze.all_types WHERE id = 2`,
    );
    expect(nulls.isError).toBe(false);
    expect(rowsOf(nulls)[0]!.every((x) => x === '1')).toBe(true);
    const edge = await query(
      t.server,
      `SELECT t = '' AS empty_text, isnan(r) AS nan, d = '-infinity'::DOUBLE AS neg_inf, ts::VARCHAR AS ts, tstz = '-infinity'::TIMESTAMPTZ AS tstz_inf,
         span = INTERVAL '-1 day' + INTERVAL '2 hours' AS span_ok, hex(raw) AS raw, len(ints) AS ints, texts, docb::VARCHAR AS docb, doc::VARCHAR AS doc
       FROM bronze.all_types WHERE id = 3`,
    );
    const ev = firstRow(edge);
    expect(ev).toEqual(
      asText({
        empty_text: true,
        nan: true,
        neg_inf: true,
        ts: 'infinity',
        tstz_inf: true,
        span_ok: true,
        raw: '',
        ints: '0',
        texts: [''],
        docb: '[]',
        doc: 'null',
      }),
    );
  });

  it('streams a 300,000-row table in batches with progress, and the totals match the source', async () => {
    const progress: Array<{ progress: number; total?: number; message?: string }> = [];
    const sync = await t.server.call(
      'lakehouse_sync_table_to_bronze',
      { connection: 'lake', table: 'public.big_orders' },
      { onProgress: (p) => progress.push(p), timeoutMs: 300_000 },
    );
    expect(sync.text).toMatch(
      /^Synced public\.big_orders from 'lake' into bronze\.big_orders \(full: 300,000 rows\); the table now has 300,000 rows\. Read [\d.]+ MB in [\d.]+ s\. Run \w+\.$/,
    );
    expect(progress.length).toBeGreaterThan(3);
    const values = progress.map((p) => p.progress);
    expect([...values].sort((a, b) => a - b)).toEqual(values);
    expect(progress.some((p) => /rows loaded/.test(p.message ?? ''))).toBe(true);
    const client = await pgClient();
    const source = (
      await client.query(
        'SELECT count(*)::int AS n, sum(amount)::text AS s, count(note)::int AS notes FROM big_orders',
      )
    ).rows[0];
    await client.end();
    const lake = await query(
      t.server,
      'SELECT count(*) AS n, sum(amount)::VARCHAR AS s, count(note) AS notes FROM bronze.big_orders',
    );
    expect(rowsOf(lake)[0]).toEqual([String(source.n), source.s, String(source.notes)]);
  });

  it('answers queries while a sync runs, and they never see a half-loaded table', async () => {
    const before = await query(t.server, 'SELECT count(*) FROM bronze.big_orders');
    let answeredDuringSync: unknown;
    let syncDone = false;
    let asked: Promise<void> | undefined;
    const sync = t.server.call(
      'lakehouse_sync_table_to_bronze',
      { connection: 'lake', table: 'public.big_orders' },
      {
        onProgress: (p) => {
          if (!asked && /rows loaded/.test(p.message ?? '')) {
            asked = query(t.server, 'SELECT count(*) FROM bronze.big_orders').then((r) => {
              answeredDuringSync = syncDone ? 'after' : rowsOf(r);
            });
          }
        },
        timeoutMs: 300_000,
      },
    );
    const result = await sync;
    syncDone = true;
    await asked;
    expect(result.isError).toBe(false);
    expect(answeredDuringSync).toEqual(rowsOf(before));
  });

  it('syncs a view and a SELECT', async () => {
    const view = await t.server.call('lakehouse_sync_table_to_bronze', {
      connection: 'lake',
      table: 'order_summary',
    });
    expect(view.structured).toMatchObject({ rows_read: 4 });
    const q = await t.server.call('lakehouse_sync_table_to_bronze', {
      connection: 'lake',
      source_query: "SELECT id, amount FROM big_orders WHERE status = 'paid' AND id < 1000",
      target_table: 'paid_orders',
    });
    expect(q.isError).toBe(false);
    expect(q.structured).toMatchObject({ target: 'tenant_default.bronze.paid_orders', rows_read: 250 });
    const noTarget = await t.server.call('lakehouse_sync_table_to_bronze', {
      connection: 'lake',
      source_query: 'SELECT 1',
    });
    expect(noTarget.text).toBe('A source_query needs target_table, the bronze table to fill.');
    const write = await t.server.call('lakehouse_sync_table_to_bronze', {
      connection: 'lake',
      source_query: 'DELETE FROM big_orders RETURNING *',
      target_table: 'nope',
    });
    expect(write.text).toBe('source_query must be a single SELECT (or WITH ... SELECT) statement.');
  });

  it('handles a table without a primary key: full works, incremental asks for key_columns', async () => {
    const full = await t.server.call('lakehouse_sync_table_to_bronze', {
      connection: 'lake',
      table: 'no_pk',
    });
    expect(full.structured).toMatchObject({ rows_read: 3 });
    const inc = await t.server.call('lakehouse_sync_table_to_bronze', {
      connection: 'lake',
      table: 'no_pk',
      sync_mode: 'incremental',
      cursor_column: 'seen_at',
    });
    expect(inc.isError).toBe(true);
    expect(inc.text).toBe(
      "public.no_pk has no primary key, so an incremental sync cannot merge its rows. Pass key_columns (columns that identify a row), or use sync_mode 'full'.",
    );
    const keyed = await t.server.call('lakehouse_sync_table_to_bronze', {
      connection: 'lake',
      table: 'no_pk',
      sync_mode: 'incremental',
      cursor_column: 'seen_at',
      key_columns: ['code'],
    });
    expect(keyed.isError).toBe(false);
    expect(keyed.structured).toMatchObject({ rows_read: 3, table_rows: 3 });
  });

  it('syncs incrementally from the stored watermark and merges on the primary key', async () => {
    const first = await t.server.call('lakehouse_sync_table_to_bronze', {
      connection: 'lake',
      table: 'customers',
      sync_mode: 'incremental',
      cursor_column: 'updated_at',
    });
    expect(first.isError).toBe(false);
    expect(first.structured).toMatchObject({
      rows_read: 100,
      table_rows: 100,
      watermark: '2024-01-05 04:00:00+00',
    });
    const client = await pgClient();
    await client.query(
      "UPDATE customers SET name = 'renamed ' || id, updated_at = '2024-02-01T00:00:00Z' WHERE id IN (3, 4)",
    );
    await client.query("INSERT INTO customers VALUES (101, 'newcomer', '2024-02-02T00:00:00Z')");
    const second = await t.server.call('lakehouse_sync_table_to_bronze', {
      connection: 'lake',
      table: 'customers',
      sync_mode: 'incremental',
    });
    await client.query('DELETE FROM customers WHERE id = 101');
    await client.query(
      "UPDATE customers SET name = 'customer ' || id, updated_at = timestamptz '2024-01-01 00:00:00+00' + id * interval '1 hour' WHERE id IN (3, 4)",
    );
    await client.end();
    expect(second.isError).toBe(false);
    // The row at the watermark was seen by the first run's snapshot: only the changed rows are read.
    expect(second.text).toContain(
      'incremental: 3 rows changed since updated_at = 2024-01-05 04:00:00+00 merged on id',
    );
    expect(second.structured).toMatchObject({
      rows_read: 3,
      table_rows: 101,
      watermark: '2024-02-02 00:00:00+00',
    });
    const rows = await query(
      t.server,
      'SELECT id, name FROM bronze.customers WHERE id IN (3, 4, 101) ORDER BY id',
    );
    expect(rowsOf(rows)).toEqual([
      ['3', 'renamed 3'],
      ['4', 'renamed 4'],
      ['101', 'newcomer'],
    ]);
    const runs = await query(
      t.server,
      "SELECT status, rows, bytes > 0, duration_ms >= 0, watermark FROM _meta.sync_runs WHERE source = 'public.customers' ORDER BY finished_at",
    );
    expect(rowsOf(runs)).toEqual([
      ['succeeded', '100', 'true', 'true', '2024-01-05 04:00:00+00'],
      ['succeeded', '3', 'true', 'true', '2024-02-02 00:00:00+00'],
    ]);
    const state = await query(
      t.server,
      "SELECT target, cursor_column, key_columns, watermark FROM _meta.sync_state WHERE target = 'bronze.customers'",
    );
    expect(rowsOf(state)).toEqual([['bronze.customers', 'updated_at', '["id"]', '2024-02-02 00:00:00+00']]);
  });

  it('explains a missing table with candidates', async () => {
    const missing = await t.server.call('lakehouse_sync_table_to_bronze', {
      connection: 'lake',
      table: 'public.big_order',
    });
    expect(missing.isError).toBe(true);
    expect(missing.text).toBe(
      'The source has no table or view public.big_order. Candidates: public.big_orders. Call lakehouse_list_source_tables to see what the connection can read.',
    );
    const noConn = await t.server.call('lakehouse_test_connection', { connection: 'nope' });
    expect(noConn.text).toBe(
      "No connection named 'nope' in tenant 'default'. Candidates: lake, reader. Use one of the candidates, or register it with lakehouse_connect_postgres.",
    );
  });
});

/** The first row of a query's CSV text, by column name. */
function firstRow(call: { text: string }): Record<string, string> {
  const { columns, rows } = tableOf(call);
  return Object.fromEntries(columns.map((c, i) => [c, rows[0]![i]!]));
}

/** Values as a CSV cell shows them: lists and objects as JSON, NULL empty, the rest as written. */
function asText(values: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).map(([k, v]) => [
      k,
      v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v),
    ]),
  );
}
