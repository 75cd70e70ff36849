// Files into bronze, the catalog tools, silver transforms, gold views, tenants, resources, prompts and the CLI.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { isolatedEnv, runBin, rowsOf } from '@switchyard/testkit';
import { bin, connect, pgInfo, query, withWorld } from './helpers.js';

describe('files, catalog, transforms and views', () => {
  const t = withWorld({
    folders: ['files'],
    server: ({ dirs }) => ({ env: { LAKEHOUSE_FILE_ROOTS: dirs.files, LAKEHOUSE_MAX_UPLOAD_MB: '1' } }),
  });

  const rows = async (sql: string) => rowsOf(await query(t.server, sql));

  it('loads a semicolon-separated Latin-1 CSV with the encoding and delimiter sniffed', async () => {
    const path = join(t.dirs.files, 'Kunden Liste.csv');
    writeFileSync(path, Buffer.from('name;stadt;umsatz\nMüller;Köln;12\nGarçon;Zürich;7\n', 'latin1'));
    const call = await t.server.call('lakehouse_upload_file', { path });
    expect(call.text.split('\n')[0]).toBe(
      'Loaded «Kunden Liste.csv» (latin-1) into bronze.kunden_liste: 2 rows, 3 columns.',
    );
    // Column names come from the file: fenced.
    expect(call.text).toContain('\nname VARCHAR, stadt VARCHAR, umsatz BIGINT\n[END UNTRUSTED columns ');
    expect(await rows('SELECT name, stadt FROM bronze.kunden_liste ORDER BY umsatz DESC')).toEqual([
      ['Müller', 'Köln'],
      ['Garçon', 'Zürich'],
    ]);
  });

  it('loads TSV, JSON, NDJSON, Parquet and XLSX', async () => {
    writeFileSync(join(t.dirs.files, 'scores.tsv'), 'player\tscore\nann\t3\nbob\t5\n');
    writeFileSync(
      join(t.dirs.files, 'events.json'),
      JSON.stringify([
        { id: 1, kind: 'a', tags: ['x'] },
        { id: 2, kind: 'b', tags: [] },
      ]),
    );
    writeFileSync(
      join(t.dirs.files, 'log.ndjson'),
      '{"at":"2024-01-01T10:00:00","level":"info"}\n{"at":"2024-01-02T11:00:00","level":"warn"}\n',
    );
    const duck = await DuckDBInstance.create(':memory:');
    const conn = await duck.connect();
    await conn.run(
      `COPY (SELECT range AS id, range * 1.5 AS v FROM range(10)) TO '${join(t.dirs.files, 'measures.parquet')}' (FORMAT parquet)`,
    );
    conn.closeSync();
    duck.closeSync();
    const workbook = new ExcelJS.Workbook();
    workbook.addWorksheet('Notes').addRow(['ignored']);
    const sheet = workbook.addWorksheet('Budget');
    sheet.addRow(['Dept', 'Amount', 'Approved', 'Due']);
    sheet.addRow(['Sales', 1200.5, true, new Date(Date.UTC(2024, 2, 1))]);
    sheet.addRow(['Ops', 800, false, new Date(Date.UTC(2024, 3, 15))]);
    await workbook.xlsx.writeFile(join(t.dirs.files, 'budget.xlsx'));

    const tsv = await t.server.call('lakehouse_upload_file', { path: join(t.dirs.files, 'scores.tsv') });
    expect(tsv.structured).toMatchObject({ table: 'tenant_default.bronze.scores', rows: 2, format: 'csv' });
    const json = await t.server.call('lakehouse_upload_file', { path: join(t.dirs.files, 'events.json') });
    expect(json.structured).toMatchObject({ rows: 2, format: 'json' });
    const ndjson = await t.server.call('lakehouse_upload_file', { path: join(t.dirs.files, 'log.ndjson') });
    expect(ndjson.structured).toMatchObject({ rows: 2, format: 'ndjson' });
    const parquet = await t.server.call('lakehouse_upload_file', {
      path: join(t.dirs.files, 'measures.parquet'),
    });
    expect(parquet.structured).toMatchObject({ rows: 10, format: 'parquet' });
    const xlsx = await t.server.call('lakehouse_upload_file', {
      path: join(t.dirs.files, 'budget.xlsx'),
      sheet: 'Budget',
    });
    expect(xlsx.text.split('\n')[0]).toBe(
      'Loaded «budget.xlsx» from sheet «Budget» into bronze.budget: 2 rows, 4 columns (4 names normalised; lakehouse_describe_table shows the originals).',
    );
    // Column names come from the file: fenced.
    expect(xlsx.text).toContain(
      '\ndept VARCHAR, amount DOUBLE, approved BOOLEAN, due DATE\n[END UNTRUSTED columns ',
    );
    expect(
      await rows('SELECT dept, amount, approved, due::VARCHAR FROM bronze.budget ORDER BY dept'),
    ).toEqual([
      ['Ops', '800', 'false', '2024-04-15'],
      ['Sales', '1200.5', 'true', '2024-03-01'],
    ]);
    expect(await rows('SELECT sum(v) FROM bronze.measures')).toEqual([['67.5']]);
  });

  it('refuses traversal, paths outside the allowed folders, hidden files and files over the limit', async () => {
    const traversal = await t.server.call('lakehouse_upload_file', {
      content: 'a\n1\n',
      file_name: '../../x',
    });
    expect(traversal.text).toBe(
      "'../../x' is not a plain file name: folders and '..' are not allowed in file_name. Pass just the name, e.g. orders.csv; to load a file from disk, pass path instead.",
    );
    const where = `lakehouse-mcp reads local files only under ${join(homedir(), 'Downloads', 'lakehouse-mcp')}, ${t.dirs.files}; allow another folder with --allow-dir <folder> or LAKEHOUSE_ALLOWED_DIRS.`;
    const climbing = await t.server.call('lakehouse_upload_file', {
      path: `${t.dirs.files}/../../etc/passwd`,
    });
    expect(climbing.text).toBe(
      `'${t.dirs.files}/../../etc/passwd' contains '..', which is refused: ${where}`,
    );
    const outside = await t.server.call('lakehouse_upload_file', { path: '/etc/passwd', format: 'csv' });
    expect(outside.text).toBe(`'/etc/passwd' is outside the allowed folders: ${where}`);
    const hiddenDir = mkdtempSync(join(t.dirs.files, '.hidden-'));
    writeFileSync(join(hiddenDir, 'k.csv'), 'a\n1\n');
    const hidden = await t.server.call('lakehouse_upload_file', { path: join(hiddenDir, 'k.csv') });
    expect(hidden.text).toBe(
      `'${join(hiddenDir, 'k.csv')}' is hidden or in a hidden folder, and those are refused: ${where}`,
    );
    writeFileSync(join(t.dirs.files, 'big.csv'), `a\n${'1\n'.repeat(600_000)}`);
    const big = await t.server.call('lakehouse_upload_file', { path: join(t.dirs.files, 'big.csv') });
    expect(big.text).toBe(
      'big.csv is 1.1 MB, over the limit of 1.0 MB for one upload. Split the file, or raise LAKEHOUSE_MAX_UPLOAD_MB.',
    );
  });

  it('lists and describes tables with a profile', async () => {
    await t.server.call('lakehouse_upload_file', {
      content: 'id,city,amount,note\n1,Paris,10.5,\n2,Paris,20,hello\n3,Lyon,,\n4,Nice,7.25,x\n',
      file_name: 'sales.csv',
    });
    const list = await t.server.call('lakehouse_list_tables', { layer: 'bronze' });
    expect(list.text).toContain('bronze.sales,table,4,4,upload from inline:sales.csv,');
    const desc = await t.server.call('lakehouse_describe_table', { table: 'sales' });
    expect(desc.isError).toBe(false);
    expect(desc.structured).toMatchObject({
      table: 'tenant_default.bronze.sales',
      rows: 4,
    });
    expect(desc.structured).toMatchObject({ column_count: 4 });
    expect(desc.text.split('\n')[0]).toContain('; upload from inline:sales.csv');
    const columns = rowsOf(desc);
    expect(columns.find((c) => c[0] === 'city')).toEqual([
      'city',
      'VARCHAR',
      'yes',
      '0',
      '3',
      'Lyon',
      'Paris',
      'Paris (2); Lyon (1); Nice (1)',
    ]);
    expect(columns.find((c) => c[0] === 'amount')).toMatchObject({
      // Fixed-point CSV numbers load as an exact DECIMAL (issue 16).
      1: 'DECIMAL(18,2)',
      3: '0.25',
      5: '7.25',
      6: '20.00',
    });
    const missing = await t.server.call('lakehouse_describe_table', { table: 'silver.nope' });
    expect(missing.text).toMatch(
      /^There is no table silver\.nope in tenant_default\. Candidates: bronze\.\w+/,
    );
  });

  it('transforms bronze to silver: dry run first, refusals with the reason, then the table and its lineage', async () => {
    await t.server.call('lakehouse_upload_file', {
      content:
        'id,name,price,day,segment\n1, Ann ,"1.234,50",3 Jan 2024,A\n2,BOB,"12,00",4 Jan 2024,B\n2,BOB,"12,00",4 Jan 2024,B\n3,cy,n/a,,A\n',
      file_name: 'raw_people.csv',
      header: true,
      delimiter: ',',
    });
    const steps = [
      { op: 'trim', column: 'name' },
      { op: 'lower', column: 'name' },
      { op: 'rename', column: 'name', to: 'customer' },
      { op: 'cast', column: 'id', to: 'integer' },
      { op: 'parse_date', column: 'day', format: '%d %b %Y' },
      { op: 'parse_number', column: 'price', decimal_separator: ',', to: 'decimal(10,2)' },
      { op: 'fill_null', column: 'price', value: 0 },
      { op: 'filter_rows', column: 'segment', operator: 'in', value: ['A', 'B'] },
      { op: 'drop_columns', columns: ['segment'] },
      { op: 'deduplicate', columns: ['id'] },
    ];
    const strict = await t.server.call('lakehouse_transform_to_silver', {
      source_table: 'bronze.raw_people',
      target_table: 'people',
      steps,
    });
    expect(strict.isError).toBe(true);
    expect(strict.text).toMatch(
      /^The transform failed on the data: Conversion Error: .*"n\/a".*Fix the step named in the message, or set on_invalid: 'null' to turn values that do not convert into NULL; nothing was changed\.$/,
    );
    const dry = await t.server.call('lakehouse_transform_to_silver', {
      source_table: 'bronze.raw_people',
      target_table: 'people',
      steps,
      on_invalid: 'null',
      dry_run: true,
    });
    expect(dry.isError).toBe(false);
    // A dry run's SQL travels once, in the text.
    expect(dry.structured!.sql).toBeUndefined();
    expect(dry.text).toContain('try_strptime');
    expect(dry.text).toContain('-- parameters: ["%d %b %Y",0,"A","B"]');
    expect(dry.text).toContain('Nothing was written.');
    expect((await t.server.call('lakehouse_list_tables', { layer: 'silver' })).structured).toMatchObject({
      table_count: 0,
    });
    const run = await t.server.call('lakehouse_transform_to_silver', {
      source_table: 'bronze.raw_people',
      target_table: 'people',
      steps,
      on_invalid: 'null',
    });
    expect(run.text.split('\n')[0]).toBe(
      'Built silver.people from bronze.raw_people with 10 steps: 3 rows, 4 columns.',
    );
    expect(run.text).toContain(
      '\nid INTEGER, customer VARCHAR, price DECIMAL(10,2), day DATE\n[END UNTRUSTED columns ',
    );
    expect(
      await rows('SELECT id, customer, price::VARCHAR, day::VARCHAR FROM silver.people ORDER BY id'),
    ).toEqual([
      ['1', 'ann', '1234.50', '2024-01-03'],
      ['2', 'bob', '12.00', '2024-01-04'],
      ['3', 'cy', '0.00', ''],
    ]);
    const lineage = await rows(
      "SELECT kind, inputs FROM _meta.lineage WHERE target_layer = 'silver' AND target_name = 'people'",
    );
    expect(lineage).toEqual([['transform', '["bronze.raw_people"]']]);

    const invalid: Array<[Record<string, unknown>, string]> = [
      [
        { op: 'trim', column: 'nope' },
        "Step 1 (trim) is invalid: there is no column 'nope'. The columns before this step are: «id, name, price, day, segment». Nothing was changed.",
      ],
      [
        { op: 'upper', column: 'id' },
        "Step 1 (upper) is invalid: 'id' is BIGINT, and upper needs a text column. The columns before this step are: «id, name, price, day, segment». Nothing was changed.",
      ],
      [
        { op: 'cast', column: 'id', to: 'money' },
        "Step 1 (cast) is invalid: 'to' must be one of boolean, smallint, integer, bigint, real, double, decimal(p,s), text, date, time, timestamp, timestamptz, interval, uuid, json. The columns before this step are: «id, name, price, day, segment». Nothing was changed.",
      ],
      [
        { op: 'rename', column: 'id', to: 'name' },
        "Step 1 (rename) is invalid: a column named 'name' already exists. The columns before this step are: «id, name, price, day, segment». Nothing was changed.",
      ],
      [
        { op: 'filter_rows', column: 'id', operator: 'gt' },
        "Step 1 (filter_rows) is invalid: 'value' must be a string, number or boolean for gt. The columns before this step are: «id, name, price, day, segment». Nothing was changed.",
      ],
      [
        { op: 'drop_columns', columns: ['id', 'name', 'price', 'day', 'segment'] },
        'Step 1 (drop_columns) is invalid: it would drop every column. The columns before this step are: «id, name, price, day, segment». Nothing was changed.',
      ],
    ];
    for (const [step, answer] of invalid) {
      const call = await t.server.call('lakehouse_transform_to_silver', {
        source_table: 'raw_people',
        target_table: 'people',
        steps: [step],
      });
      expect(call.text).toBe(answer);
    }
    expect(await rows('SELECT count(*) FROM silver.people')).toEqual([['3']]);
  });

  it('creates gold views from one checked SELECT', async () => {
    const view = await t.server.call('lakehouse_create_gold_view', {
      name: 'Revenue by City',
      sql: 'SELECT city, sum(amount) AS revenue FROM bronze.sales GROUP BY city',
    });
    expect(view.text.split('\n')[0]).toBe(
      'Created view gold.revenue_by_city with 2 columns; query it with SELECT * FROM gold.revenue_by_city.',
    );
    expect(view.text).toContain('\ncity VARCHAR, revenue DECIMAL(38,2)\n[END UNTRUSTED columns ');
    expect(await rows('SELECT * FROM gold.revenue_by_city ORDER BY city')).toEqual([
      ['Lyon', ''],
      ['Nice', '7.25'],
      ['Paris', '30.50'],
    ]);
    const again = await t.server.call('lakehouse_create_gold_view', {
      name: 'revenue_by_city',
      sql: 'SELECT 1',
    });
    expect(again.text).toBe(
      'gold.revenue_by_city already exists. Pass replace: true to redefine it, or choose another name.',
    );
    const sneaky = await t.server.call('lakehouse_create_gold_view', {
      name: 'evil',
      sql: 'SELECT 1; DROP TABLE bronze.sales',
    });
    expect(sneaky.text).toBe(
      'Only one statement may run per call, and this SQL holds 2; nothing was run. Send a single SELECT without a second statement after a semicolon.',
    );
    const files = await t.server.call('lakehouse_create_gold_view', {
      name: 'evil',
      sql: "SELECT * FROM read_csv('/etc/passwd')",
    });
    expect(files.text).toBe(
      'The table function read_csv() cannot be used in queries (only range, generate_series, unnest, generate_subscripts can); nothing was run. Load a file with lakehouse_upload_file, then query its bronze table.',
    );
    expect(await rows('SELECT count(*) FROM bronze.sales')).toEqual([['4']]);
  });

  it('keeps tenants apart', async () => {
    await t.server.call('lakehouse_upload_file', {
      content: 'k\nacme-only\n',
      file_name: 'mine.csv',
      tenant_id: 'acme',
    });
    const acme = await t.server.call('lakehouse_list_tables', { tenant_id: 'acme' });
    expect(rowsOf(acme).map((t) => t[0])).toEqual(['bronze.mine']);
    const defaults = await t.server.call('lakehouse_list_tables', {});
    expect(defaults.text).not.toContain('mine');
    const bad = await t.server.call('lakehouse_list_tables', { tenant_id: 'Bad/../x' });
    expect(bad.isError).toBe(true);
    expect(bad.text).toMatch(
      /^'Bad\/\.\.\/x' is not a valid tenant id: use 1-40 lowercase letters, digits or underscores, starting with a letter or digit/,
    );
  });

  it('serves the table resources and the prompts', async () => {
    const schema = await t.server.client.readResource({ uri: 'table://tenant_default/bronze/sales/schema' });
    expect((schema.contents[0] as { text: string }).text).toBe(
      '# tenant_default.bronze.sales: 4 rows; upload from inline:sales.csv\ncolumn,type,nullable\nid,BIGINT,true\ncity,VARCHAR,true\namount,"DECIMAL(18,2)",true\nnote,VARCHAR,true',
    );
    const preview = await t.server.client.readResource({
      uri: 'table://tenant_default/bronze/sales/preview',
    });
    expect((preview.contents[0] as { text: string }).text).toContain('id,city,amount,note\n1,Paris,10.50,\n');
    const listed = await t.server.client.listResources();
    expect(listed.resources.map((r) => r.uri)).toContain(
      'table://tenant_default/gold/revenue_by_city/schema',
    );
    await expect(
      t.server.client.readResource({ uri: 'table://tenant_default/bronze/nope/schema' }),
    ).rejects.toThrow(
      /There is no table bronze\.nope in tenant_default\. Candidates: bronze\.budget, .*gold\.revenue_by_city\./,
    );
    const prompt = await t.server.client.getPrompt({
      name: 'lakehouse_generate_query',
      arguments: { question: 'Which city sells most?' },
    });
    expect((prompt.messages[0]!.content as { text: string }).text).toMatch(
      /^Answer this question from the lakehouse: Which city sells most\?/,
    );
    const analyze = await t.server.client.getPrompt({
      name: 'lakehouse_analyze_schema',
      arguments: { table: 'bronze.sales' },
    });
    expect((analyze.messages[0]!.content as { text: string }).text).toContain('lakehouse_describe_table');
    const trouble = await t.server.client.getPrompt({
      name: 'lakehouse_troubleshoot_connection',
      arguments: { connection: 'shop' },
    });
    expect((trouble.messages[0]!.content as { text: string }).text).toContain(
      "lakehouse_test_connection for 'shop'",
    );
  });
});

describe('datasource resources and the command line', () => {
  const t = withWorld({ server: false });

  it('reads datasource resources and stores a password with login, shows status, removes it with logout', async () => {
    const server = await t.spawn();
    const env = server.env;
    await connect(server, 'shop');
    const resource = await server.client.readResource({ uri: 'datasource://shop/status' });
    expect((resource.contents[0] as { text: string }).text).toMatch(/^status: ok\nserver: PostgreSQL 18/);
    const tables = await server.client.readResource({ uri: 'datasource://shop/tables' });
    expect((tables.contents[0] as { text: string }).text).toContain(
      'public.big_orders,table,300000,7,id,true',
    );
    await server.close();
    const info = pgInfo();
    const login = await runBin(
      bin,
      [
        'login',
        '--connection',
        'cli',
        '--host',
        info.host,
        '--port',
        String(info.port),
        '--database',
        info.database,
        '--user',
        'reader',
        '--ssl-mode',
        'disable',
      ],
      { env, input: 'reader-pass-123\n' },
    );
    expect(login.stderr).toContain('Password for reader@');
    expect(login.stdout).toMatch(
      /^Connection 'cli' \(tenant default\) works: PostgreSQL 18\.\d+, 5 readable tables\. The password is stored in encrypted files under /,
    );
    expect(login.code).toBe(0);
    const status = await runBin(bin, ['status'], { env });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(
      `connection cli: reader@${info.host}:${info.port}/lake (ssl disable); password stored`,
    );
    expect(status.stdout).toContain('connection shop:');
    expect(status.stdout).not.toContain('reader-pass-123');
    const logout = await runBin(bin, ['logout', '--connection', 'cli'], { env });
    expect(logout.stdout.trim()).toBe(
      'Removed 1 stored password (tenant default); the connections stay registered.',
    );
    const after = await runBin(bin, ['status'], { env });
    expect(after.stdout).toContain('password MISSING: run lakehouse-mcp login --connection cli');
    const wrong = await runBin(
      bin,
      [
        'login',
        '--connection',
        'cli2',
        '--host',
        info.host,
        '--port',
        String(info.port),
        '--database',
        info.database,
        '--user',
        'reader',
        '--ssl-mode',
        'disable',
      ],
      { env, input: 'wrong-password\n' },
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(
      `lakehouse-mcp: PostgreSQL at ${info.host}:${info.port} refused the password for user 'reader' (28P01).`,
    );
  });
});

describe('local files only under the allowed folders, whatever the working directory', () => {
  const t = withWorld({
    folders: ['allowed', 'extra', 'home'],
    // Some hosts start servers in '/': before, the working directory (and home, and tmp) was a root by default.
    server: ({ dirs }) => ({ cwd: '/', args: ['--allow-dir', dirs.allowed] }),
  });

  it('refuses /etc/shadow and /etc/passwd (absolute or relative to /) and loads nothing', async () => {
    const where = `lakehouse-mcp reads local files only under ${join(homedir(), 'Downloads', 'lakehouse-mcp')}, ${t.dirs.allowed}; allow another folder with --allow-dir <folder> or LAKEHOUSE_ALLOWED_DIRS.`;
    for (const path of ['/etc/shadow', '/etc/passwd']) {
      const call = await t.server.call('lakehouse_upload_file', { path, delimiter: ':', header: false });
      expect(call.isError).toBe(true);
      expect(call.text).toBe(`'${path}' is outside the allowed folders: ${where}`);
    }
    const relative = await t.server.call('lakehouse_upload_file', { path: 'etc/passwd', format: 'csv' });
    expect(relative.text).toBe(
      `path 'etc/passwd' is not an absolute path: give the full path, e.g. ${join(homedir(), 'Downloads', 'lakehouse-mcp', 'report.pdf')}; ${where}`,
    );
    const tables = await t.server.call('lakehouse_list_tables', {});
    expect(tables.text).not.toMatch(/shadow|passwd/);
  });

  it('loads a file under an --allow-dir folder', async () => {
    writeFileSync(join(t.dirs.allowed, 'regions.csv'), 'region,amount\nnorth,10\nsouth,20\n');
    const call = await t.server.call('lakehouse_upload_file', { path: join(t.dirs.allowed, 'regions.csv') });
    expect(call.isError).toBe(false);
    expect(call.text.split('\n')[0]).toBe('Loaded «regions.csv» into bronze.regions: 2 rows, 2 columns.');
    expect(call.text).toContain('region VARCHAR');
  });

  it('gathers the folders of --allow-dir, LAKEHOUSE_ALLOWED_DIRS, SWITCHYARD_ALLOWED_DIRS and LAKEHOUSE_FILE_ROOTS', async () => {
    const env = isolatedEnv({
      env: {
        LAKEHOUSE_HOME: t.dirs.home,
        LAKEHOUSE_ALLOWED_DIRS: `${t.dirs.allowed}/a,${t.dirs.allowed}/b`,
        SWITCHYARD_ALLOWED_DIRS: `${t.dirs.allowed}/c`,
        LAKEHOUSE_FILE_ROOTS: t.dirs.extra,
      },
    });
    const status = await runBin(
      bin,
      ['--allow-dir', `${t.dirs.allowed}/x`, '--allow-dir', `${t.dirs.allowed}/y`, 'status'],
      {
        env,
      },
    );
    expect(status.stdout).toContain(
      `local files are read and saved under ${join(homedir(), 'Downloads', 'lakehouse-mcp')}, ${t.dirs.allowed}/x, ${t.dirs.allowed}/y, ${t.dirs.allowed}/a, ${t.dirs.allowed}/b, ${t.dirs.allowed}/c, and read under ${t.dirs.extra}`,
    );
  });
});
