// Right answers on data synced from a real PostgreSQL (issue 16, item 1): time columns of every precision
// summarized, exact row counts after merges, no local paths in answers, exact decimals from CSV, one naming rule
// for tables and columns, key guesses that need a key-like name or type.
import { describe, expect, it } from 'vitest';
import { rowsOf } from '@switchyard/testkit';
import { connect, pgClient, query, withWorld } from './helpers.js';

const SEED = `
DROP TABLE IF EXISTS ans_orders, ans_events, "Gift Cards";
CREATE TABLE ans_events (id integer PRIMARY KEY, kind text NOT NULL, updated_at timestamptz NOT NULL);
INSERT INTO ans_events SELECT g, 'k' || g % 7, timestamptz '2024-01-01 00:00:00+00' FROM generate_series(1, 50000) g;
CREATE TABLE ans_orders (
  id integer PRIMARY KEY,
  customer_id integer NOT NULL,
  amount numeric(12,2) NOT NULL,
  ordered_at timestamptz NOT NULL,
  placed_local timestamp(3) NOT NULL,
  placed_on date NOT NULL,
  updated_at timestamptz NOT NULL
);
INSERT INTO ans_orders
SELECT g, 1 + g % 40, 10 + g * 1.37, timestamptz '2024-01-01 08:00:00+00' + g * interval '1 day',
  timestamp '2024-01-01 08:00:00.123' + g * interval '1 day', date '2024-01-01' + g,
  timestamptz '2024-06-01 00:00:00+00'
FROM generate_series(1, 200) AS g;
CREATE TABLE "Gift Cards" ("Card Code" text PRIMARY KEY, "Balance" numeric(10,2), "IssuedAt" timestamptz);
INSERT INTO "Gift Cards" VALUES ('GC-1', 25.00, '2024-01-01T00:00:00Z'), ('GC-2', 10.50, '2024-02-01T00:00:00Z');
`;

describe('answers on synced data', () => {
  const t = withWorld({
    seed: SEED,
    unseed: 'DROP TABLE IF EXISTS ans_orders, ans_events, "Gift Cards"',
    ready: async (server) => {
      await connect(server);
      const sync = await server.call('lakehouse_sync_table_to_bronze', {
        connection: 'lake',
        table: 'ans_orders',
        sync_mode: 'incremental',
        cursor_column: 'updated_at',
      });
      expect(sync.isError, sync.text).toBe(false);
    },
  });

  it('a. explains timestamptz, timestamp(3) and date columns: min, max and the change over time', async () => {
    for (const column of ['ordered_at', 'placed_local', 'placed_on']) {
      const call = await t.server.call('lakehouse_explain_data', {
        sql: `SELECT ${column}, amount FROM bronze.ans_orders ORDER BY id`,
      });
      expect(call.isError, call.text).toBe(false);
      expect(call.structured, column).toMatchObject({ rows: 200, trend_by: `${column} (month)` });
      expect(call.text, column).toMatch(new RegExp(`${column}: from 2024-01-0[12]T\\S+ to 2024-07-1[89]T`));
      expect(call.text, column).not.toContain('null');
      expect(call.text).toContain(`amount over ${column} by month:`);
    }
  });

  it('b. counts rows exactly after incremental merges', async () => {
    const sync = (mode: string) =>
      t.server.call('lakehouse_sync_table_to_bronze', {
        connection: 'lake',
        table: 'ans_events',
        sync_mode: mode,
        cursor_column: 'updated_at',
      });
    expect((await sync('full')).isError).toBe(false);
    expect((await sync('incremental')).isError).toBe(false);
    const client = await pgClient();
    // A few rows change, twice, and 1,000 arrive: DuckDB's estimate still counts the replaced versions.
    for (const at of ['2024-07-01T00:00:00Z', '2024-08-01T00:00:00Z']) {
      await client.query('UPDATE ans_events SET updated_at = $1 WHERE id % 5000 = 7', [at]);
      const merged = await sync('incremental');
      expect(merged.isError, merged.text).toBe(false);
      expect(merged.structured).toMatchObject({ table_rows: 50000 });
    }
    await client.query(
      "INSERT INTO ans_events SELECT g, 'new', '2024-09-01T00:00:00Z' FROM generate_series(50001, 51000) g",
    );
    await client.end();
    expect((await sync('incremental')).structured).toMatchObject({ table_rows: 51000 });
    const list = await t.server.call('lakehouse_list_tables', { layer: 'bronze' });
    expect(list.isError, list.text).toBe(false);
    const row = rowsOf(list).find((r) => r[0] === 'bronze.ans_events');
    // table,kind,rows,columns,…
    expect(row?.slice(0, 4)).toEqual(['bronze.ans_events', 'table', '51000', '3']);
  });

  it('c. refuses catalog functions that show local paths, and keeps paths out of answers and errors', async () => {
    const home = t.server.env.SWITCHYARD_DATA_DIR!;
    for (const sql of [
      'SELECT name, value FROM duckdb_settings()',
      'SELECT * FROM duckdb_extensions()',
      'SELECT * FROM duckdb_secrets()',
      'SELECT * FROM duckdb_databases()',
      "SELECT * FROM (SELECT 1) t, duckdb_settings() s WHERE s.name = 'secret_directory'",
      'SELECT (SELECT max(value) FROM duckdb_settings())',
      "SELECT current_setting('home_directory')",
      'SELECT * FROM duckdb_settings',
    ]) {
      const call = await query(t.server, sql);
      expect(call.isError, sql).toBe(true);
      expect(call.text, sql).toMatch(/cannot be used in queries|not named with its layer/);
      expect(call.text, sql).not.toContain(home);
    }
    // What may run answers without the machine's folders.
    for (const sql of [
      'SHOW databases',
      'SHOW ALL TABLES',
      'SELECT * FROM information_schema.schemata',
      'SELECT * FROM _meta.sync_runs',
      "SELECT * FROM bronze.ans_orders WHERE ordered_at = 'not a time'",
    ]) {
      const call = await query(t.server, sql);
      expect(call.text, sql).not.toContain(home);
      expect(call.text, sql).not.toMatch(/\/(tmp|home|root)\//);
    }
    // A file DuckDB cannot read names the file, not the folder it sits in under the lakehouse home.
    const bad = await t.server.call('lakehouse_upload_file', {
      content: '{"a": 1}\n{"a": ',
      file_name: 'broken.ndjson',
    });
    expect(bad.isError).toBe(true);
    expect(bad.text).toContain('broken.ndjson could not be read as ndjson');
    expect(bad.text).not.toContain(home);
    expect(bad.text).not.toMatch(/\/(tmp|home|root)\//);
  });

  it('f. guesses keys from key-like names and types, never from amounts or timestamps', async () => {
    const call = await t.server.call('lakehouse_analyze_schema', { table: 'bronze.ans_orders' });
    expect(call.isError, call.text).toBe(false);
    expect(call.structured!.candidate_keys).toEqual(['id']);
  });

  it('d. loads CSV money as exact DECIMAL wide enough; other numbers stay DOUBLE', async () => {
    const content = [
      'code,amount,rate,ratio',
      'A,10.50,1.5e3,0.5',
      'B,0.25,2,x',
      'C,-1234.125,3,0.25',
      ...Array.from({ length: 3000 }, (_, i) => `R${i},${i}.99,${i},0.${i}`),
    ].join('\n');
    const up = await t.server.call('lakehouse_upload_file', { content, file_name: 'payments.csv' });
    expect(up.isError, up.text).toBe(false);
    const d = await t.server.call('lakehouse_describe_table', { table: 'bronze.payments', profile: false });
    const cols = Object.fromEntries(rowsOf(d).map((r) => [r[0], r[1]]));
    expect(cols).toEqual({ code: 'VARCHAR', amount: 'DECIMAL(18,3)', rate: 'DOUBLE', ratio: 'VARCHAR' });
    const sum = await query(
      t.server,
      "SELECT sum(amount) AS s, max(amount) AS m FROM bronze.payments WHERE code IN ('A', 'B', 'C')",
    );
    expect(rowsOf(sum)).toEqual([['-1223.375', '10.500']]);
    // 39 digits do not fit a DECIMAL: DOUBLE, as the sniffer said.
    const wide = await t.server.call('lakehouse_upload_file', {
      content: 'v\n123456789012345678901234567890.123456789\n1.5\n',
      file_name: 'wide.csv',
    });
    expect(wide.isError, wide.text).toBe(false);
    const w = await t.server.call('lakehouse_describe_table', { table: 'bronze.wide', profile: false });
    expect(rowsOf(w)[0]!.slice(0, 2)).toEqual(['v', 'DOUBLE']);
  });

  it('e. one naming rule for tables and columns, the source spelling kept in the catalog', async () => {
    const sync = await t.server.call('lakehouse_sync_table_to_bronze', {
      connection: 'lake',
      table: 'Gift Cards',
      sync_mode: 'incremental',
      cursor_column: 'IssuedAt',
    });
    expect(sync.isError, sync.text).toBe(false);
    expect(sync.structured).toMatchObject({ target: 'tenant_default.bronze.gift_cards', table_rows: 2 });
    const q = await query(t.server, 'SELECT card_code, balance, issued_at FROM bronze.gift_cards ORDER BY 1');
    expect(q.isError, q.text).toBe(false);
    expect(rowsOf(q)).toEqual([
      ['GC-1', '25.00', '2024-01-01 00:00:00+00'],
      ['GC-2', '10.50', '2024-02-01 00:00:00+00'],
    ]);
    const described = await t.server.call('lakehouse_describe_table', {
      table: 'bronze.gift_cards',
      profile: false,
    });
    expect(rowsOf(described)).toEqual([
      ['card_code', 'VARCHAR', 'no', 'Card Code'],
      ['balance', 'DECIMAL(10,2)', 'yes', 'Balance'],
      ['issued_at', 'TIMESTAMP WITH TIME ZONE', 'yes', 'IssuedAt'],
    ]);
    // The next run finds its cursor and keys under the new names and merges.
    const client = await pgClient();
    await client.query(
      `UPDATE "Gift Cards" SET "Balance" = 5, "IssuedAt" = '2024-03-01T00:00:00Z' WHERE "Card Code" = 'GC-2'`,
    );
    await client.end();
    const again = await t.server.call('lakehouse_sync_table_to_bronze', {
      connection: 'lake',
      table: 'Gift Cards',
      sync_mode: 'incremental',
    });
    expect(again.isError, again.text).toBe(false);
    expect(again.text).toContain('merged on card_code');
    expect(again.structured).toMatchObject({ table_rows: 2 });
    expect(
      rowsOf(await query(t.server, "SELECT balance FROM bronze.gift_cards WHERE card_code = 'GC-2'")),
    ).toEqual([['5.00']]);
    // Files follow the same rule: headers are renamed like the table, and keep their spelling.
    const up = await t.server.call('lakehouse_upload_file', {
      content: 'Card Code,amountPaid,Café Name,card_code\nA,1,x,dup\n',
      file_name: 'Gift Card Payments.csv',
    });
    expect(up.isError, up.text).toBe(false);
    expect(up.structured).toMatchObject({ table: 'tenant_default.bronze.gift_card_payments' });
    const file = await t.server.call('lakehouse_describe_table', {
      table: 'bronze.gift_card_payments',
      profile: false,
    });
    expect(rowsOf(file).map((r) => [r[0], r[3]])).toEqual([
      ['card_code', 'Card Code'],
      ['amount_paid', 'amountPaid'],
      ['cafe_name', 'Café Name'],
      ['card_code_2', 'card_code'],
    ]);
  });
});
