// Exactness of PostgreSQL → bronze on a real PostgreSQL: incremental runs read each changed row once and lose
// none (bulk UPDATEs sharing one now(), a late commit at the watermark), and numerics without a precision stay
// exact (a view's sum(numeric) becomes a DECIMAL chosen from the data, or exact text when no DECIMAL holds it).
import { describe, expect, it } from 'vitest';
import { rowsOf } from '@switchyard/testkit';
import { connect, pgClient, pgRun, query, withWorld } from './helpers.js';

describe('sync exactness', () => {
  const t = withWorld({
    // Its own database, so that its tables stay out of the other files' listings.
    seed: async () => {
      await pgRun('CREATE DATABASE exact');
      await pgRun(
        `
      CREATE TABLE items (id integer PRIMARY KEY, v integer NOT NULL, updated_at timestamptz NOT NULL);
      INSERT INTO items SELECT g, 0, timestamptz '2024-01-01 00:00:00+00' FROM generate_series(1, 20000) g;
      CREATE TABLE payments (id integer PRIMARY KEY, amount numeric(12,2) NOT NULL);
      INSERT INTO payments VALUES (1, 416666666.67), (2, 416666666.66), (3, 416666666.67);
      CREATE TABLE ledger (id integer PRIMARY KEY, amount numeric, updated_at timestamptz NOT NULL);
      INSERT INTO ledger VALUES (1, 10.50, '2024-01-01T00:00:00Z'), (2, 7, '2024-01-02T00:00:00Z');
      CREATE TABLE odd_amounts (id integer PRIMARY KEY, amount numeric(10,2));
      INSERT INTO odd_amounts SELECT g, g / 100.0 FROM generate_series(1, 50000) g;
      CREATE VIEW payment_total AS SELECT sum(amount) AS total, avg(amount) AS mean, count(*) AS n FROM payments;`,
        'exact',
      );
    },
    ready: (server) => connect(server, 'exact', { database: 'exact' }),
  });

  const sync = async () => {
    const call = await t.server.call('lakehouse_sync_table_to_bronze', {
      connection: 'exact',
      table: 'items',
      sync_mode: 'incremental',
      cursor_column: 'updated_at',
    });
    expect(call.isError, call.text).toBe(false);
    return call.structured as { rows_read: number; table_rows: number; watermark: string };
  };

  it('reads each changed row once after bulk updates, and loses no row committed later at the watermark', async () => {
    const db = await pgClient('exact');
    try {
      expect(await sync()).toMatchObject({ rows_read: 20000, table_rows: 20000 });
      // Two bulk updates, each sharing one now(): the second run must not read the first batch again.
      await db.query('UPDATE items SET v = 1, updated_at = now() WHERE id <= 10000');
      expect(await sync()).toMatchObject({ rows_read: 10000, table_rows: 20000 });
      await db.query('UPDATE items SET v = 2, updated_at = now() WHERE id > 10000');
      const third = await sync();
      expect(third).toMatchObject({ rows_read: 10000, table_rows: 20000 });
      // Nothing changed: nothing read.
      expect(await sync()).toMatchObject({ rows_read: 0, table_rows: 20000 });

      // A transaction writes a row at exactly the watermark but commits only after the next sync's snapshot:
      // that sync cannot see it, the one after must read it (and only it).
      const late = await pgClient('exact');
      try {
        await late.query('BEGIN');
        await late.query('UPDATE items SET v = 3, updated_at = $1::timestamptz WHERE id = 10005', [
          third.watermark,
        ]);
        await late.query('INSERT INTO items VALUES (20001, 3, $1::timestamptz)', [third.watermark]);
        expect(await sync()).toMatchObject({ rows_read: 0, table_rows: 20000 });
        await late.query('COMMIT');
      } finally {
        await late.end();
      }
      expect(await sync()).toMatchObject({ rows_read: 2, table_rows: 20001, watermark: third.watermark });
      expect(await sync()).toMatchObject({ rows_read: 0, table_rows: 20001 });

      // The warehouse holds exactly what the source holds.
      const source = (await db.query('SELECT sum(v)::int AS s, count(*)::int AS n FROM items')).rows[0];
      const bronze = rowsOf(await query(t.server, 'SELECT sum(v), count(*) FROM bronze.items'));
      expect(bronze).toEqual([[String(source.s), String(source.n)]]);
      expect(rowsOf(await query(t.server, 'SELECT v FROM bronze.items WHERE id IN (10005, 20001)'))).toEqual([
        ['3'],
        ['3'],
      ]);
    } finally {
      await db.end();
    }
  });

  it("keeps a view's sum(numeric) exact as DECIMAL(38, s) with s from the data", async () => {
    const call = await t.server.call('lakehouse_sync_table_to_bronze', {
      connection: 'exact',
      table: 'payment_total',
    });
    expect(call.isError, call.text).toBe(false);
    const types = rowsOf(
      await query(
        t.server,
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'payment_total' ORDER BY ordinal_position",
      ),
    );
    // What PostgreSQL itself answers: the DECIMAL's scale is the most decimals in the data, the text identical.
    const db = await pgClient('exact');
    const pg = (
      await db.query('SELECT total::text AS total, mean::text AS mean, scale(mean) AS s FROM payment_total')
    ).rows[0] as { total: string; mean: string; s: number };
    await db.end();
    expect(pg.total).toBe('1250000000.00');
    expect(types).toEqual([
      ['total', 'DECIMAL(38,2)'],
      ['mean', `DECIMAL(38,${pg.s})`],
      ['n', 'BIGINT'],
    ]);
    const values = rowsOf(
      await query(t.server, 'SELECT total::VARCHAR, mean::VARCHAR FROM bronze.payment_total'),
    );
    expect(values).toEqual([[pg.total, pg.mean]]);
  });

  it('keeps numerics no DECIMAL can hold (NaN, more than 38 digits) as their exact text', async () => {
    const call = await t.server.call('lakehouse_sync_table_to_bronze', {
      connection: 'exact',
      source_query:
        "SELECT 1 AS id, 'NaN'::numeric AS odd, 12345678901234567890123456789012345.6789::numeric AS wide UNION ALL SELECT 2, 1.5, 1",
      target_table: 'numeric_edges',
    });
    expect(call.isError, call.text).toBe(false);
    const rows = rowsOf(
      await query(
        t.server,
        'SELECT id, odd, wide, typeof(odd), typeof(wide) FROM bronze.numeric_edges ORDER BY id',
      ),
    );
    expect(rows).toEqual([
      ['1', 'NaN', '12345678901234567890123456789012345.6789', 'VARCHAR', 'VARCHAR'],
      ['2', '1.5', '1', 'VARCHAR', 'VARCHAR'],
    ]);
  });

  it('refuses to merge new values that need more decimals than the table has, and says to run full', async () => {
    const args = {
      connection: 'exact',
      table: 'ledger',
      sync_mode: 'incremental',
      cursor_column: 'updated_at',
    };
    const first = await t.server.call('lakehouse_sync_table_to_bronze', args);
    expect(first.isError, first.text).toBe(false);
    const db = await pgClient('exact');
    await db.query("INSERT INTO ledger VALUES (3, 0.125, '2024-01-03T00:00:00Z')");
    await db.end();
    const second = await t.server.call('lakehouse_sync_table_to_bronze', args);
    expect(second.isError).toBe(true);
    expect(second.text).toContain('amount DECIMAL(38,2)');
    expect(second.text).toContain('amount DECIMAL(38,3)');
    expect(second.text).toContain("Run a sync with sync_mode 'full'");
    expect(rowsOf(await query(t.server, 'SELECT count(*) FROM bronze.ledger'))).toEqual([['2']]);
    const full = await t.server.call('lakehouse_sync_table_to_bronze', {
      connection: 'exact',
      table: 'ledger',
    });
    expect(full.isError, full.text).toBe(false);
    expect(rowsOf(await query(t.server, 'SELECT amount::VARCHAR FROM bronze.ledger ORDER BY id'))).toEqual([
      ['10.500'],
      ['7.000'],
      ['0.125'],
    ]);
  });

  it('a value DuckDB cannot load, far into the stream, fails the sync in one sentence and keeps the table', async () => {
    const args = { connection: 'exact', table: 'odd_amounts' };
    expect((await t.server.call('lakehouse_sync_table_to_bronze', args)).isError).toBe(false);
    const db = await pgClient('exact');
    // numeric(10,2) accepts NaN; a DECIMAL does not.
    await db.query("UPDATE odd_amounts SET amount = 'NaN' WHERE id = 49000");
    await db.end();
    const call = await t.server.call('lakehouse_sync_table_to_bronze', args);
    expect(call.isError).toBe(true);
    expect(call.text).toMatch(
      /^The sync of public\.odd_amounts failed while loading: .*NaN.*; bronze\.odd_amounts was left as it was\.$/s,
    );
    // The model learns the value, not where the server keeps its files.
    expect(call.text).not.toMatch(/feed-\d+\.csv|tenant_default/);
    expect(rowsOf(await query(t.server, 'SELECT count(*), sum(amount) FROM bronze.odd_amounts'))).toEqual([
      ['50000', '12500250.00'],
    ]);
  });
});
