// Every failure the issue lists: the exact sentence the model sees, and the data and the server survive.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { rowsOf, spawnRaw } from '@switchyard/testkit';
import { freePort } from '../../lakehouse-demo/src/embedded-postgres.js';
import { bin, connect, pgClient, pgInfo, pgRun, query, withWorld } from './helpers.js';

describe('failures', () => {
  const t = withWorld({
    folders: ['files'],
    // Its own database: tables this file creates and drops stay out of the other files' listings.
    seed: async () => {
      await pgRun('CREATE DATABASE failures');
      await pgRun(
        "CREATE TABLE cancel_src AS SELECT g AS id, 'row ' || g AS note, now() AS at FROM generate_series(1, 300000) g",
        'failures',
      );
    },
    server: ({ dirs }) => ({ env: { LAKEHOUSE_FILE_ROOTS: dirs.files } }),
    ready: async (server) => {
      await connect(server);
      await connect(server, 'fail', { database: 'failures' });
    },
  });

  const count = async (table: string) => rowsOf(await query(t.server, `SELECT count(*) FROM ${table}`));

  it('wrong password', async () => {
    const info = pgInfo();
    const call = await t.server.call('lakehouse_connect_postgres', {
      name: 'wrong',
      host: info.host,
      port: info.port,
      database: info.database,
      user: info.user,
      password: 'not-the-password',
      ssl_mode: 'disable',
    });
    expect(call.isError).toBe(true);
    expect(call.text).toBe(
      `PostgreSQL at ${info.host}:${info.port} refused the password for user 'postgres' (28P01). Check the password, then call lakehouse_connect_postgres again with the right one.`,
    );
    const list = await t.server.call('lakehouse_test_connection', { connection: 'wrong' });
    expect(list.text).toMatch(/^No connection named 'wrong' in tenant 'default'\./);
    expect((await t.server.call('lakehouse_test_connection', { connection: 'lake' })).isError).toBe(false);
  });

  it('unreachable host', async () => {
    const port = await freePort();
    const call = await t.server.call('lakehouse_connect_postgres', {
      name: 'nowhere',
      host: '127.0.0.1',
      port,
      database: 'x',
      user: 'x',
      password: 'whatever-password',
      ssl_mode: 'disable',
    });
    expect(call.isError).toBe(true);
    expect(call.text).toBe(
      `Could not reach PostgreSQL at 127.0.0.1:${port}: the connection was refused. Check that the server runs and listens on that host and port, and that no firewall blocks it.`,
    );
  });

  it('table vanished mid-sync', async () => {
    const admin = await pgClient('failures');
    await admin.query('CREATE TABLE vanishing AS SELECT g AS id FROM generate_series(1, 1000) g');
    const first = await t.server.call('lakehouse_sync_table_to_bronze', {
      connection: 'fail',
      table: 'vanishing',
    });
    expect(first.structured).toMatchObject({ rows_read: 1000 });
    // Drop it in an open transaction: the sync finds the table, then waits for its lock until the drop commits.
    const dropper = await pgClient('failures');
    await dropper.query('BEGIN');
    await dropper.query('DROP TABLE vanishing');
    const pending = t.server.call('lakehouse_sync_table_to_bronze', {
      connection: 'fail',
      table: 'vanishing',
    });
    await expect
      .poll(
        async () =>
          (
            await admin.query(
              "SELECT 1 FROM pg_stat_activity WHERE datname = 'failures' AND application_name = 'lakehouse-mcp' AND wait_event_type = 'Lock'",
            )
          ).rows.length,
      )
      .toBeGreaterThan(0);
    await dropper.query('COMMIT');
    await dropper.end();
    await admin.end();
    const call = await pending;
    expect(call.isError).toBe(true);
    expect(call.text).toMatch(
      /^The source table public\.vanishing disappeared during the sync \(PostgreSQL (XX000: could not open relation with OID \d+|42P01: relation "public\.vanishing" does not exist)\); bronze\.vanishing was left as it was\. Check whether the table was dropped or renamed, then run the sync again\.$/,
    );
    expect(await count('bronze.vanishing')).toEqual([['1000']]);
    const run = await query(
      t.server,
      "SELECT status FROM _meta.sync_runs WHERE source = 'public.vanishing' ORDER BY finished_at",
    );
    expect(rowsOf(run)).toEqual([['succeeded'], ['failed']]);
  });

  it('cancelled sync leaves the previous bronze table, no temp files and no open source transaction', async () => {
    const first = await t.server.call('lakehouse_sync_table_to_bronze', {
      connection: 'fail',
      source_query: 'SELECT * FROM cancel_src WHERE id <= 100',
      target_table: 'cancel_me',
    });
    expect(first.structured).toMatchObject({ rows_read: 100 });
    const controller = new AbortController();
    const pending = t.server.call(
      'lakehouse_sync_table_to_bronze',
      { connection: 'fail', table: 'cancel_src', target_table: 'cancel_me' },
      {
        signal: controller.signal,
        onProgress: (p) => {
          if (/rows loaded/.test(p.message ?? '')) controller.abort();
        },
      },
    );
    await expect(pending).rejects.toThrow(/abort/i);
    // The server records the cancelled run after the client has given up on the call, once the load has stopped:
    // 14 to 17 s on a loaded 2-core machine, so the wait is the shared poll bound (30 s, vitest.shared.ts).
    await expect
      .poll(async () =>
        rowsOf(
          await query(
            t.server,
            "SELECT status, error FROM _meta.sync_runs WHERE target_name = 'cancel_me' ORDER BY finished_at",
          ),
        ),
      )
      .toEqual([
        ['succeeded', ''],
        ['cancelled', 'The sync of public.cancel_src was cancelled; bronze.cancel_me was left as it was.'],
      ]);
    expect(await count('bronze.cancel_me')).toEqual([['100']]);
    const work = join(t.server.env.SWITCHYARD_DATA_DIR!, 'lakehouse', 'tenant_default', 'work');
    expect(readdirSync(work)).toEqual([]);
    const admin = await pgClient('failures');
    const active = await admin.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = 'failures' AND application_name = 'lakehouse-mcp'",
    );
    await admin.end();
    expect(active.rows[0].n).toBe(0);
  });

  it('cancelling a sync stops the statement on PostgreSQL, even one still computing its first row', async () => {
    // A closed socket alone leaves this running for a minute: PostgreSQL notices a gone client only on a write.
    const sleeper = 'SELECT pg_sleep(60)::text AS slept';
    const running = async () => {
      const admin = await pgClient('failures');
      try {
        const rows = await admin.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()",
        );
        return rows.rows[0].n as number;
      } finally {
        await admin.end();
      }
    };
    const controller = new AbortController();
    const pending = t.server.call(
      'lakehouse_sync_table_to_bronze',
      { connection: 'fail', source_query: sleeper, target_table: 'never_loaded' },
      {
        signal: controller.signal,
        onProgress: (p) => {
          if (/^reading/.test(p.message ?? ''))
            void expect
              .poll(running)
              .toBe(1)
              .then(() => controller.abort());
        },
      },
    );
    await expect(pending).rejects.toThrow(/abort/i);
    await expect.poll(running, { timeout: 15_000 }).toBe(0);
    expect((await t.server.call('lakehouse_list_source_tables', { connection: 'fail' })).isError).toBe(false);
  });

  it('disk path unwritable', async () => {
    const blocker = join(t.dirs.files, 'a-file');
    writeFileSync(blocker, 'not a folder');
    const broken = await t.spawn({ isolated: true, env: { LAKEHOUSE_HOME: join(blocker, 'lakehouse') } });
    const call = await broken.call('lakehouse_list_tables', {});
    expect(call.isError).toBe(true);
    expect(call.text).toBe(
      `The lakehouse folder ${join(blocker, 'lakehouse', 'tenant_default')} cannot be created or written (ENOTDIR). Set LAKEHOUSE_HOME to a folder you can write to, or fix the permissions of this one; nothing was changed.`,
    );
    expect((await broken.client.listTools()).tools.length).toBe(13);
  });

  it('malformed CSV', async () => {
    const good = await t.server.call('lakehouse_upload_file', {
      content: 'a,b,c\n1,2,3\n',
      file_name: 'shaky.csv',
    });
    expect(good.isError).toBe(false);
    const bad = await t.server.call('lakehouse_upload_file', {
      content: 'a,b,c\n1,2,3\n4,5,6,7\n8,9,10\n',
      file_name: 'shaky.csv',
    });
    expect(bad.isError).toBe(true);
    expect(bad.text).toBe(
      'shaky.csv is not valid CSV: line 3 has 4 fields where the header has 3. Fix that line (or pass delimiter and header if they were guessed wrong), then upload again; no table was created or changed.',
    );
    expect(await count('bronze.shaky')).toEqual([['1']]);
  });

  it('Excel with merged header cells', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Sales');
    sheet.addRow(['Region', 'Revenue', null]);
    sheet.addRow(['', '2023', '2024']);
    sheet.addRow(['North', 10, 12]);
    sheet.mergeCells('B1:C1');
    const path = join(t.dirs.files, 'report.xlsx');
    await workbook.xlsx.writeFile(path);
    const call = await t.server.call('lakehouse_upload_file', { path });
    expect(call.isError).toBe(true);
    expect(call.text).toBe(
      "Sheet 'Sales' of report.xlsx has merged cells in its header row (B1:C1), so its column names are ambiguous. Unmerge the header cells so each column has its own name, or pass header_row to use another row; nothing was loaded.",
    );
    const second = await t.server.call('lakehouse_upload_file', { path, header_row: 2 });
    expect(second.isError).toBe(false);
    expect(second.text.split('\n')[0]).toBe(
      'Loaded «report.xlsx» from sheet «Sales» into bronze.report: 1 rows, 3 columns (2 names normalised; lakehouse_describe_table shows the originals).',
    );
    // Column names come from the file: fenced; names that start with a digit get c_ (the naming rule).
    expect(second.text).toContain(
      '\ncolumn_1 VARCHAR, c_2023 BIGINT, c_2024 BIGINT\n[END UNTRUSTED columns ',
    );
  });

  it('empty file', async () => {
    const path = join(t.dirs.files, 'empty.csv');
    writeFileSync(path, '');
    const call = await t.server.call('lakehouse_upload_file', { path });
    expect(call.isError).toBe(true);
    expect(call.text).toBe(
      'empty.csv is empty (0 bytes): there is nothing to load, and no table was created or changed.',
    );
    const tables = await t.server.call('lakehouse_list_tables', {});
    expect(tables.text).not.toContain('empty');
  });
});

describe('a host that goes away', () => {
  const LONG_QUERY =
    'SELECT count(*) FROM range(100000000) a, range(100000000) b WHERE a.range + b.range = 7';

  const t = withWorld({ folders: ['homes'], server: false });

  /** A server over raw stdio, busy with a query that would run for two minutes. */
  async function busyServer(home: string) {
    const raw = spawnRaw(bin, {
      configDir: t.dirs.configDir,
      dataDir: t.dirs.dataDir,
      env: { LAKEHOUSE_HOME: home, SWITCHYARD_LOG_LEVEL: 'debug' },
    });
    const { child } = raw;
    const exited = once(child, 'exit');
    const send = (m: unknown) => raw.write(`${JSON.stringify(m)}\n`);
    await send({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    });
    await send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    await send({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'lakehouse_query_sql', arguments: { sql: LONG_QUERY, timeout_seconds: 120 } },
    });
    // The query is running once the server has opened the warehouse for it.
    await expect.poll(() => raw.stderr()).toMatch(/lakehouse_query_sql: started/);
    await new Promise((r) => setTimeout(r, 300));
    return { child, exited, stderr: () => raw.stderr() };
  }

  const stillOpens = async (home: string) => {
    const next = await t.spawn({ env: { LAKEHOUSE_HOME: home } });
    expect(rowsOf(await query(next, 'SELECT 42 AS answer'))).toEqual([['42']]);
    await next.close();
  };

  // The bound the issue sets is 2 s; 15 s here keeps the test honest on a loaded machine while still far
  // below the two minutes the query would have run (and held the tenant's lock) before.
  it.each([
    ['its stdin closes', (c: ReturnType<typeof spawn>) => c.stdin!.end()],
    ['it gets SIGTERM', (c: ReturnType<typeof spawn>) => c.kill('SIGTERM')],
  ])('leaves at once when %s during a long query, and the tenant opens again', async (how, stop) => {
    const home = join(t.dirs.homes, how.replace(/\W+/g, '-'));
    mkdirSync(home);
    const server = await busyServer(home);
    const started = Date.now();
    stop(server.child);
    const [code] = (await server.exited) as [number | null];
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
    await stillOpens(home);
  });
});
