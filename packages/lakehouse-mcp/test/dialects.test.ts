// Golden tests: every statement each dialect generates, for the same operations, written to
// test/__golden__/<dialect>.sql and compared byte for byte (a change to generated SQL shows up in review).
// Plus the Databricks query check: the parser's verdict on a table of statements.
import { describe, expect, it } from 'vitest';
import * as dx from '../src/warehouse/databricks/dialect.js';
import { checkQuery, mapLayers, splitStatements } from '../src/warehouse/databricks/sql-check.js';
import * as duck from '../src/warehouse/duckdb/dialect.js';
import type { LogicalType, PartColumn, QueryDraft, TransformPlan } from '../src/warehouse/types.js';

const ALL_TYPES: LogicalType[] = [
  { kind: 'boolean' },
  { kind: 'int16' },
  { kind: 'int32' },
  { kind: 'int64' },
  { kind: 'float32' },
  { kind: 'float64' },
  { kind: 'decimal', precision: 12, scale: 2 },
  { kind: 'text' },
  { kind: 'date' },
  { kind: 'time' },
  { kind: 'timetz' },
  { kind: 'timestamp' },
  { kind: 'timestamptz' },
  { kind: 'interval' },
  { kind: 'uuid' },
  { kind: 'json' },
  { kind: 'binary' },
  { kind: 'list', element: { kind: 'int32' } },
];

const PARTS: PartColumn[] = [
  { name: 'id', type: { kind: 'int64' }, nullable: false, encoding: 'plain' },
  { name: 'odd `name"', type: { kind: 'text' }, nullable: true, encoding: 'plain' },
  { name: 'raw', type: { kind: 'binary' }, nullable: true, encoding: 'hex' },
  { name: 'tags', type: { kind: 'list', element: { kind: 'uuid' } }, nullable: true, encoding: 'json' },
  { name: 'doc', type: { kind: 'json' }, nullable: true, encoding: 'json' },
  { name: 'span', type: { kind: 'interval' }, nullable: true, encoding: 'plain' },
  { name: 'at', type: { kind: 'timestamptz' }, nullable: true, encoding: 'plain' },
];

const PLAN: TransformPlan = {
  source: { layer: 'bronze', name: 'raw_people' },
  target: { layer: 'silver', name: 'people' },
  stages: [
    {
      kind: 'project',
      columns: [
        {
          name: 'id',
          expr: { kind: 'cast', expr: { kind: 'column', name: 'id' }, to: { kind: 'int32' }, lenient: false },
        },
        { name: 'name', expr: { kind: 'call', fn: 'trim', expr: { kind: 'column', name: 'name' } } },
        {
          name: 'day',
          expr: {
            kind: 'parse_date',
            expr: { kind: 'column', name: 'day' },
            format: '%d/%m/%Y at %H:%M',
            to: 'timestamp',
            lenient: true,
          },
        },
        {
          name: 'born',
          expr: {
            kind: 'parse_date',
            expr: { kind: 'column', name: 'born' },
            format: '%Y-%m-%d',
            to: 'date',
            lenient: false,
          },
        },
        {
          name: 'price',
          expr: {
            kind: 'parse_number',
            expr: { kind: 'column', name: 'price' },
            decimalSeparator: ',',
            to: { kind: 'decimal', precision: 10, scale: 2 },
            lenient: true,
          },
        },
        {
          name: 'qty',
          expr: {
            kind: 'coalesce',
            expr: { kind: 'column', name: 'qty' },
            value: 0,
            valueType: { kind: 'int64' },
          },
        },
      ],
    },
    { kind: 'filter', column: 'name', operator: 'in', values: ['a', "b'c"] },
    { kind: 'filter', column: 'name', operator: 'contains', values: ['x'] },
    { kind: 'filter', column: 'qty', operator: 'ge', values: [1] },
    { kind: 'filter', column: 'day', operator: 'not_null', values: [] },
    { kind: 'dedup', keys: ['id'], orderBy: 'day', descending: true },
  ],
};

const DRAFTS: QueryDraft[] = [
  {
    table: { layer: 'silver', name: 'orders' },
    columns: [],
    measures: [
      { fn: 'sum', column: 'amount', as: 'sum_amount' },
      { fn: 'count', as: 'count' },
    ],
    groups: [
      { column: 'ordered_at', grain: 'month', as: 'month' },
      { column: 'status', as: 'status' },
    ],
    since: { column: 'ordered_at', amount: 90, unit: 'day' },
    order: { by: 'month', descending: false },
    limit: 100,
  },
  {
    table: { layer: 'gold', name: 'revenue' },
    columns: ['city', 'revenue'],
    measures: [],
    groups: [],
    year: { column: 'day', year: 2024 },
    order: { by: 'revenue', descending: true },
    limit: 20,
  },
  {
    table: { layer: 'bronze', name: 'customers' },
    columns: [],
    measures: [{ fn: 'count_distinct', column: 'email', as: 'distinct_email' }],
    groups: [],
    limit: 1,
  },
];

const COLUMNS = [
  { name: 'id', type: 'BIGINT' },
  { name: 'city', type: 'VARCHAR' },
  { name: 'tags', type: 'VARCHAR[]' },
];
const DBX_COLUMNS = [
  { name: 'id', type: 'bigint' },
  { name: 'city', type: 'string' },
  { name: 'tags', type: 'array<string>' },
];

function show(title: string, statement: string | { sql: string; params: unknown }): string {
  if (typeof statement === 'string') return `-- ${title}\n${statement};\n`;
  return `-- ${title}\n${statement.sql};\n-- params: ${JSON.stringify(statement.params)}\n`;
}

describe('golden statements', () => {
  it('DuckDB', async () => {
    const orders = { layer: 'bronze' as const, name: 'orders' };
    const out = [
      show(
        'types',
        ALL_TYPES.map((t) => `${t.kind} → ${duck.typeName(t)} (portable: ${duck.portableTypeName(t)})`).join(
          '\n-- ',
        ),
      ),
      show('bootstrap', duck.BOOTSTRAP.trim()),
      show('create staging', duck.createStaging({ layer: 'bronze', name: '_stage_1_x' }, PARTS)),
      show(
        'insert a CSV part',
        duck.insertCsvPart({ layer: 'bronze', name: '_stage_1_x' }, '/w/part-00000.csv', PARTS),
      ),
      show(
        'a CSV part to Parquet (for Databricks)',
        duck.csvPartToParquet('/w/part-00000.csv', PARTS, "/w/it's.parquet"),
      ),
      show(
        'read CSV',
        duck.readFile({
          path: '/f/a.csv',
          format: 'csv',
          csv: { delimiter: ';', header: true, encoding: 'latin-1' },
        }),
      ),
      show(
        'read NDJSON with declared columns',
        duck.readFile({
          path: '/f/a.ndjson',
          format: 'ndjson',
          columns: [{ key: 'c0', name: 'Due', type: { kind: 'date' }, nullable: true }],
        }),
      ),
      show(
        'a file to Parquet',
        duck.fileToParquet(
          duck.readFile({ path: '/f/a.parquet', format: 'parquet' }),
          [
            { name: 'id', type: { kind: 'int64' } },
            { name: 'u', type: { kind: 'uuid' } },
            { name: 'x', type: undefined },
          ],
          '/w/p.parquet',
        ),
      ),
      show('parquet stats', duck.parquetStats('/w/p.parquet', ['id', 'at'])),
      show(
        'merge',
        duck
          .mergeFrom(orders, { layer: 'bronze', name: '_stage_1_x' }, ['id', 'line'], 'updated_at')
          .join(';\n'),
      ),
      show('list tables', duck.LIST_TABLES.trim()),
      show('columns', duck.COLUMNS_OF),
      show('count', duck.countRows(orders)),
      show('profile', duck.profile(orders, COLUMNS)),
      show('top values', duck.topValues(orders, 'city')),
      show('preview', duck.preview(orders)),
      show('inspect (sampled above 200,000 rows)', duck.inspect(orders, COLUMNS, 1_000_000)),
      show('transform', duck.renderTransform(PLAN)),
      show('transform preview', duck.previewSelect(duck.renderTransform(PLAN), 5)),
      show('create table as', duck.createTableAs(PLAN.target, 'SELECT 1')),
      show('create view', duck.createView({ layer: 'gold', name: 'revenue' }, 'SELECT 1')),
      ...DRAFTS.map((d, i) => show(`draft ${i + 1}`, duck.renderDraft(d))),
    ].join('\n');
    await expect(out).toMatchFileSnapshot('./__golden__/duckdb.sql');
  });

  it('Databricks', async () => {
    const out: string[] = [];
    for (const shared of [undefined, 'main']) {
      const n = dx.naming('acme', shared);
      const orders = { layer: 'bronze' as const, name: 'orders' };
      const staging = { layer: 'bronze' as const, name: '_stage_1_x' };
      const dir = `${n.volumePath}/bronze_orders/run-1-x`;
      out.push(
        `-- ===== ${shared ? `shared catalog ${shared}` : 'catalog per tenant'}: volume ${n.volumePath}\n`,
        show('bootstrap', dx.bootstrap(n).join(';\n')),
        show('list tables', dx.listTables(n, 'silver')),
        show('list tables without metadata', dx.listTablesPlain(n, undefined)),
        show('columns', dx.columnsOf(n, orders)),
        show('object kind', dx.objectKind(n, orders)),
        show('count', dx.countRows(n, orders)),
        show('detail', dx.describeDetail(n, orders)),
        show('profile (small table)', dx.profile(n, orders, DBX_COLUMNS, 1000)),
        show('profile (sampled)', dx.profile(n, orders, DBX_COLUMNS, 50_000_000)),
        show('top values (sampled)', dx.topValues(n, orders, 'city', 5, 50_000_000)),
        show('preview', dx.preview(n, orders, 20)),
        show('inspect', dx.inspect(n, orders, DBX_COLUMNS, 10)),
        show('put', dx.put("/tmp/run-1-x/part-00000's.parquet", `${dir}/part-00000.parquet`)),
        show('remove', dx.remove(`${dir}/part-00000.parquet`)),
        show('full load', dx.replaceFromFiles(n, orders, dir, PARTS)),
        show('full load of nothing', dx.replaceEmpty(n, orders, PARTS)),
        show('staging', dx.createStaging(n, staging, PARTS)),
        show('copy into', dx.copyInto(n, staging, dir)),
        show('merge', dx.mergeFrom(n, orders, staging, ['id', 'line'], 'updated_at')),
        show('merge without a cursor', dx.mergeFrom(n, orders, staging, ['id'], undefined)),
        show('drop staging', dx.dropTableIfExists(n, staging)),
        show('drop view', dx.dropView(n, { layer: 'gold', name: 'v' })),
        show('insert run', dx.insertRun(n, { run_id: 'r1' })),
        show('runs', dx.selectRuns(n, 5)),
        show('state', [dx.upsertState(n, {}).sql, dx.selectState(n, 'bronze.orders').sql].join(';\n')),
        show('lineage', [dx.upsertLineage(n, {}).sql, dx.selectLineage(n, orders).sql].join(';\n')),
        show('connections', [dx.selectConnections(n), dx.upsertConnection(n, {}).sql].join(';\n')),
        show('transform', (({ sql, named }) => ({ sql, params: named }))(dx.renderTransform(n, PLAN))),
        show('transform table', dx.createTableAs(n, PLAN.target, 'SELECT 1')),
        show('transform preview', dx.previewSelect('SELECT 1', 5)),
        show('view', dx.createView(n, { layer: 'gold', name: 'revenue' }, 'SELECT 1', false)),
        show('view, replaced', dx.createView(n, { layer: 'gold', name: 'revenue' }, 'SELECT 1', true)),
        show('explain', dx.explain('SELECT 1')),
        show('describe query', dx.describeQuery('SELECT 1')),
        show(
          'layers in a query',
          mapLayers(
            "SELECT * FROM bronze.orders o JOIN `silver`.c ON o.id = c.id JOIN tenant_acme.gold.v USING (id) WHERE o.note = 'bronze.x' -- bronze.y",
            n,
          ),
        ),
      );
    }
    out.push(
      show('types', ALL_TYPES.map((t) => `${t.kind} → ${dx.typeName(t)}`).join('\n-- ')),
      show(
        'date patterns',
        ['%Y-%m-%d', '%d/%m/%Y %H:%M:%S', '%d %b %Y', '%Y-%m-%dT%H:%M:%S.%f', "%I:%M %p o'clock"]
          .map((p) => `${p} → ${dx.sparkDatePattern(p)}`)
          .join('\n-- '),
      ),
      ...DRAFTS.map((d, i) => show(`draft ${i + 1}`, dx.renderDraft(d))),
    );
    await expect(out.join('\n')).toMatchFileSnapshot('./__golden__/databricks.sql');
  });

  it('maps type names back to the logical types they came from', () => {
    for (const t of ALL_TYPES) {
      const back = dx.logicalOf(dx.typeName(t));
      const duckBack = duck.logicalOf(duck.typeName(t));
      if (['text', 'time', 'timetz', 'interval', 'uuid', 'json'].includes(t.kind))
        expect(back).toEqual({ kind: 'text' });
      else expect(back).toEqual(t);
      expect(duckBack).toEqual(t);
    }
  });
});

describe('the Databricks query check', () => {
  const n = dx.naming('acme', undefined);
  const ok: Array<[string, string[]]> = [
    ['SELECT 1', []],
    ['select * from orders', ['bronze.orders']],
    [
      'SELECT o.id, c.name FROM bronze.orders o JOIN silver.customers c ON o.customer_id = c.id',
      ['bronze.orders', 'silver.customers'],
    ],
    ['SELECT * FROM `tenant_acme`.`gold`.`revenue` LIMIT 5', ['gold.revenue']],
    [
      'WITH t AS (SELECT a, count(*) n FROM bronze.x GROUP BY a) SELECT * FROM t ORDER BY n DESC;',
      ['bronze.x'],
    ],
    [
      "SELECT date_trunc('month', ts) AS m, sum(amount) FROM silver.orders WHERE status <> 'DROP TABLE x; --' GROUP BY 1",
      ['silver.orders'],
    ],
    ['SELECT a FROM gold.v QUALIFY row_number() OVER (PARTITION BY a ORDER BY b) = 1', ['gold.v']],
    ['SELECT transform(arr, x -> x + 1) FROM bronze.t', ['bronze.t']],
    ['SELECT * FROM _meta.sync_runs', ['_meta.sync_runs']],
  ];
  it.each(ok)('accepts %s', async (sql, tables) => {
    expect((await checkQuery(sql, n)).tables).toEqual(tables);
  });

  const refused: Array<[string, RegExp]> = [
    ['SELECT 1; SELECT 2', /^Only one statement may run per call, and this SQL holds 2/],
    ['INSERT INTO bronze.x VALUES (1)', /this is a INSERT statement/],
    ['MERGE INTO bronze.x USING y ON 1=1 WHEN MATCHED THEN DELETE', /this is a MERGE statement/],
    ['COPY INTO bronze.x FROM "/x"', /this is a COPY statement/],
    ["PUT '/etc/passwd' INTO '/Volumes/a/b/c/x'", /this is a PUT statement/],
    ['GRANT SELECT ON TABLE x TO `a`', /this is a GRANT statement/],
    ['OPTIMIZE bronze.x', /this is a OPTIMIZE statement/],
    ['SELECT * FROM other_catalog.bronze.x', /names other_catalog\.bronze\.x, which is outside/],
    ['SELECT * FROM samples.nyctaxi.trips', /names samples\.nyctaxi\.trips, which is outside/],
    ["SELECT * FROM read_files('/Volumes/x')", /calls read_files\(\)/],
    ["SELECT ai_query('model', 'hi')", /calls ai_query\(\)/],
    ["SELECT http_request(conn => 'x')", /calls http_request\(\)/],
    ['SELECT * FROM t LATERAL VIEW explode(a) e AS x', /the parser stopped at line 1/],
    ['', /^The SQL holds no statement/],
  ];
  it.each(refused)('refuses %s', async (sql, answer) => {
    await expect(checkQuery(sql, n)).rejects.toThrow(answer);
  });

  it('counts statements around strings, comments and quoted names', () => {
    expect(splitStatements("SELECT ';' AS a; -- x; y\nSELECT `b;c` /* ; */ FROM t;;")).toEqual([
      "SELECT ';' AS a",
      ' -- x; y\nSELECT `b;c` /* ; */ FROM t',
    ]);
  });
});
