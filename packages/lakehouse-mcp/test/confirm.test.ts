// Before a tool replaces data that is already there (a full sync, a file, a silver rebuild over a table with rows;
// replace on an existing gold view) the user is asked through the host's elicitation, in both protocol eras: the
// question names the table and its rows, accept runs, decline keeps the old rows and is an ordinary answer. A first
// load, an incremental merge, a dry run, a host without elicitation and --no-confirm ask nothing.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { rowsOf, type SpawnedServer } from '@switchyard/testkit';
import { BOOTSTRAP, META_WRITES } from './databricks-fake.js';
import { connect, pgInfo, query, withDatabricks, withWorld } from './helpers.js';

type Answer = { action: 'accept' | 'decline' | 'cancel'; content?: Record<string, boolean> };
const ACCEPT: Answer = { action: 'accept', content: { confirm: true } };
const DECLINE: Answer = { action: 'decline' };

const t = withWorld({ server: false, folders: ['files'] });

/** A server of its own (its own warehouse), with the run's PostgreSQL registered as `lake`. */
async function lakehouse(spec: Parameters<typeof t.spawn>[0] = {}): Promise<SpawnedServer> {
  const server = await t.spawn({
    ...spec,
    isolated: true,
    env: { LAKEHOUSE_FILE_ROOTS: t.dirs.files, ...spec.env },
  });
  await connect(server);
  return server;
}

const rowCount = async (server: SpawnedServer, table: string) =>
  Number(rowsOf(await query(server, `SELECT count(*) FROM ${table}`))[0]![0]);

const firstTen = 'SELECT id, name FROM customers WHERE id <= 10';

describe.each(['legacy', 'modern'] as const)('confirmations, %s era', (era) => {
  const asked: string[] = [];
  let next: Answer = ACCEPT;
  let server: SpawnedServer;
  const answer = (a: Answer) => {
    next = a;
    asked.length = 0;
  };
  const where = () => `(lake on ${pgInfo().host}:${pgInfo().port})`;
  beforeAll(async () => {
    server = await lakehouse({
      era,
      elicit: async ({ message }) => {
        asked.push(message);
        return next;
      },
    });
  });

  it('asks nothing for a first sync, and names the table, its rows and the source before a full sync replaces it', async () => {
    answer(ACCEPT);
    const first = await server.call('lakehouse_sync_table_to_bronze', {
      connection: 'lake',
      source_query: firstTen,
      target_table: 'cust',
    });
    expect(first.isError).toBe(false);
    expect(asked).toEqual([]);

    answer(DECLINE);
    const declined = await server.call('lakehouse_sync_table_to_bronze', {
      connection: 'lake',
      source_query: 'SELECT id, name FROM customers\nWHERE id <= 20',
      target_table: 'cust',
    });
    expect(asked).toEqual([
      `Replace bronze.cust in tenant 'default'? It holds 10 rows now.\nA full sync replaces them with the result of a query from connection 'lake' ${where()}.\nQuery: SELECT id, name FROM customers`,
    ]);
    expect(declined).toMatchObject({
      isError: false,
      text: 'Not synced: the user declined. bronze.cust keeps its 10 rows.',
      structured: { target: first.structured!.target, mode: 'full', table_rows: 10 },
    });
    expect(await rowCount(server, 'bronze.cust')).toBe(10);

    answer(ACCEPT);
    const accepted = await server.call('lakehouse_sync_table_to_bronze', {
      connection: 'lake',
      table: 'customers',
      target_table: 'cust',
    });
    expect(accepted.isError).toBe(false);
    expect(asked).toEqual([
      `Replace bronze.cust in tenant 'default'? It holds 10 rows now.\nA full sync replaces them with public.customers from connection 'lake' ${where()}.`,
    ]);
    expect(accepted.structured).toMatchObject({ table_rows: 100, rows_read: 100 });
    expect(await rowCount(server, 'bronze.cust')).toBe(100);
  });

  it('asks nothing for an incremental merge past its watermark, but asks when an incremental run would replace a table', async () => {
    answer(DECLINE);
    const sync = (target: string, cursor_column = 'updated_at') =>
      server.call('lakehouse_sync_table_to_bronze', {
        connection: 'lake',
        table: 'customers',
        target_table: target,
        sync_mode: 'incremental',
        cursor_column,
      });
    expect((await sync('cust_inc')).isError).toBe(false);
    const merge = await sync('cust_inc');
    expect(merge.isError).toBe(false);
    expect(merge.text).toContain('merged on id');
    expect(await sync('cust_inc', 'UPDATED_AT')).toMatchObject({ isError: false });
    expect(asked).toEqual([]);

    // The stored watermark is on updated_at: another cursor starts over and replaces the table.
    const otherCursor = await sync('cust_inc', 'id');
    expect(asked).toEqual([
      `Replace bronze.cust_inc in tenant 'default'? It holds 100 rows now.\nAn incremental sync with no watermark stored for public.customers on id loads it in full and replaces them with public.customers from connection 'lake' ${where()}.`,
    ]);
    expect(otherCursor).toMatchObject({ isError: false, structured: { table_rows: 100 } });
    asked.length = 0;

    // bronze.cust was filled by full syncs: no watermark, so this run would load everything over it.
    const over = await sync('cust');
    expect(asked).toEqual([
      `Replace bronze.cust in tenant 'default'? It holds 100 rows now.\nAn incremental sync with no watermark stored for public.customers on updated_at loads it in full and replaces them with public.customers from connection 'lake' ${where()}.`,
    ]);
    expect(over).toMatchObject({ isError: false, structured: { mode: 'incremental', table_rows: 100 } });
  });

  it('asks before a file replaces a bronze table, with the file, and keeps the rows when declined', async () => {
    const path = join(t.dirs.files, `prices_${era}.csv`);
    writeFileSync(path, 'item,price\napple,1\npear,2\n');
    answer(DECLINE);
    const first = await server.call('lakehouse_upload_file', { path, table_name: 'prices' });
    expect(first.isError).toBe(false);
    expect(asked).toEqual([]);

    writeFileSync(path, 'item,price\napple,1\npear,2\nplum,3\n');
    const declined = await server.call('lakehouse_upload_file', { path, table_name: 'prices' });
    expect(asked).toEqual([
      `Replace bronze.prices in tenant 'default'? It holds 2 rows now.\nIts rows are replaced by the file ${path}.`,
    ]);
    expect(declined).toMatchObject({
      isError: false,
      text: 'Not loaded: the user declined. bronze.prices keeps its 2 rows.',
      structured: { table: first.structured!.table },
    });
    expect(await rowCount(server, 'bronze.prices')).toBe(2);

    answer(ACCEPT);
    const inline = await server.call('lakehouse_upload_file', {
      content: 'item,price\nfig,4\n',
      file_name: 'prices.csv',
    });
    expect(inline.isError).toBe(false);
    expect(asked).toEqual([
      `Replace bronze.prices in tenant 'default'? It holds 2 rows now.\nIts rows are replaced by the file prices.csv (content given inline).`,
    ]);
    expect(await rowCount(server, 'bronze.prices')).toBe(1);
  });

  it('asks before a silver rebuild over rows, not for a first build or a dry run', async () => {
    answer(DECLINE);
    const build = (steps: unknown[], dry_run = false) =>
      server.call('lakehouse_transform_to_silver', { source_table: 'bronze.cust', steps, dry_run });
    expect((await build([{ op: 'trim', column: 'name' }])).isError).toBe(false);
    const filter = [{ op: 'filter_rows', column: 'id', operator: 'le', value: 5 }];
    expect((await build(filter, true)).isError).toBe(false);
    expect(asked).toEqual([]);

    const declined = await build(filter);
    expect(asked).toEqual([
      `Replace silver.cust in tenant 'default'? It holds 100 rows now.\nIt is rebuilt from bronze.cust with 1 step.`,
    ]);
    expect(declined).toMatchObject({
      isError: false,
      text: 'Not built: the user declined. silver.cust keeps its 100 rows.',
      structured: { dry_run: false, rows: null },
    });
    expect(declined.structured!.target).toMatch(/\.silver\.cust$/);
    expect(await rowCount(server, 'silver.cust')).toBe(100);

    answer(ACCEPT);
    expect((await build(filter)).structured).toMatchObject({ rows: 5 });
    expect(await rowCount(server, 'silver.cust')).toBe(5);
  });

  it('refuses a bad transform with its own sentence before asking anything', async () => {
    answer(ACCEPT);
    const bad = await server.call('lakehouse_transform_to_silver', {
      source_table: 'bronze.cust',
      steps: [{ op: 'trim', column: 'no_such_column' }],
    });
    expect(bad.isError).toBe(true);
    expect(bad.text).toContain('no_such_column');
    expect(asked).toEqual([]);
  });

  it('asks before replace redefines a gold view, showing the first line of the new SQL cleaned', async () => {
    answer(DECLINE);
    const view = (sql: string, replace: boolean) =>
      server.call('lakehouse_create_gold_view', { name: 'Top Customers', sql, replace });
    const first = await view('SELECT id FROM silver.cust WHERE id <= 2', true);
    expect(first.isError).toBe(false);
    expect(asked).toEqual([]);

    // A hostile first line: invisible characters and a bidi override are dropped from what the user reads.
    const declined = await view(
      '\n  SELECT id -- ok\u202e\u200b to all\nFROM silver.cust WHERE id <= 4',
      true,
    );
    expect(asked).toEqual([
      "Redefine the view gold.top_customers in tenant 'default'? Its current definition is replaced by:\nSELECT id -- ok to all",
    ]);
    expect(declined).toMatchObject({
      isError: false,
      text: 'Not replaced: the user declined. gold.top_customers keeps its definition.',
    });
    expect(await rowCount(server, 'gold.top_customers')).toBe(2);

    answer(ACCEPT);
    expect((await view('SELECT id FROM silver.cust WHERE id <= 4', true)).isError).toBe(false);
    expect(await rowCount(server, 'gold.top_customers')).toBe(4);

    // Without replace the tool refuses on its own; nothing to ask.
    answer(ACCEPT);
    const taken = await view('SELECT 1 AS x', false);
    expect(taken.isError).toBe(true);
    expect(taken.text).toContain('gold.top_customers already exists');
    expect(asked).toEqual([]);
  });
});

describe('without a question', () => {
  const replaceTwice = async (server: SpawnedServer) => {
    for (const sql of [firstTen, 'SELECT id, name FROM customers WHERE id <= 30']) {
      const call = await server.call('lakehouse_sync_table_to_bronze', {
        connection: 'lake',
        source_query: sql,
        target_table: 'cust',
      });
      expect(call.isError).toBe(false);
    }
    return rowCount(server, 'bronze.cust');
  };
  const asked: string[] = [];
  const neverAsked = async ({ message }: { message: string }): Promise<Answer> => {
    asked.push(message);
    return ACCEPT;
  };

  it('replaces at once for a host without elicitation, as before', async () => {
    expect(await replaceTwice(await lakehouse())).toBe(30);
  });

  it('replaces at once with --no-confirm', async () => {
    expect(await replaceTwice(await lakehouse({ args: ['--no-confirm'], elicit: neverAsked }))).toBe(30);
    expect(asked).toEqual([]);
  });

  it('replaces at once with LAKEHOUSE_NO_CONFIRM or SWITCHYARD_NO_CONFIRM', async () => {
    for (const env of [{ LAKEHOUSE_NO_CONFIRM: '1' }, { SWITCHYARD_NO_CONFIRM: 'true' }]) {
      const server = await lakehouse({ era: 'modern', env, elicit: neverAsked });
      expect(await replaceTwice(server)).toBe(30);
    }
    expect(asked).toEqual([]);
  });
});

describe('confirmations on a Databricks warehouse', () => {
  // The same question from the Unity Catalog's information_schema and a count, and nothing written on decline.
  const asked: string[] = [];
  const d = withDatabricks({
    server: {
      era: 'modern',
      elicit: async ({ message }) => {
        asked.push(message);
        return DECLINE;
      },
    },
  });

  it('names the table and its rows, and sends no load when the user declines', async () => {
    d.world.script([
      BOOTSTRAP,
      META_WRITES,
      {
        match: 'information_schema`\\.`columns` WHERE table_schema',
        columns: [
          ['column_name', 'string'],
          ['data_type', 'string'],
          ['is_nullable', 'string'],
        ],
        rows: [['id', 'bigint', 'YES']],
      },
      {
        match: '^SELECT count\\(\\*\\) FROM `tenant_default`\\.`bronze`\\.`sales`$',
        columns: [['count(1)', 'bigint']],
        rows: [[1234]],
      },
    ]);
    d.world.clearLog();
    const call = await d.server.call('lakehouse_upload_file', { content: 'id\n1\n', file_name: 'sales.csv' });
    expect(asked).toEqual([
      "Replace bronze.sales in tenant 'default'? It holds 1,234 rows now.\nIts rows are replaced by the file sales.csv (content given inline).",
    ]);
    expect(call).toMatchObject({
      isError: false,
      text: 'Not loaded: the user declined. bronze.sales keeps its 1,234 rows.',
      structured: { table: 'tenant_default.bronze.sales' },
    });
    const statements = d.world.statements();
    expect(statements).toContain('SELECT count(*) FROM `tenant_default`.`bronze`.`sales`');
    expect(statements.filter((s) => /^(PUT|CREATE OR REPLACE|INSERT|MERGE|COPY)/.test(s))).toEqual([]);
  });
});
