// The Databricks query check against escape attempts: each row is SQL and the verdict, read against Spark's
// lexer (SqlBaseLexer.g4) — nested /* */ comments, `--` comments carried on by a backslash-newline, backslash
// escapes in both string kinds, R'…' raw strings — and the tenant's allow-lists of tables and functions.
import { describe, expect, it } from 'vitest';
import * as dx from '../src/warehouse/databricks/dialect.js';
import { checkQuery, splitStatements } from '../src/warehouse/databricks/sql-check.js';

const n = dx.naming('acme', undefined);
const shared = dx.naming('acme', 'main');

const OTHER = /outside this tenant's catalog tenant_acme/;
const CALLS = (fn: string) =>
  new RegExp(`calls ${fn}\\(\\), which reaches files, secrets, the network or a model`);
const PARSER = /could not be checked as one read-only query/;

/** [why, sql, a part of the reason it is refused]. */
const escapes: Array<[string, string, RegExp]> = [
  // 1. names chosen at run time, table arguments
  [
    'IDENTIFIER names another tenant',
    "SELECT * FROM IDENTIFIER('tenant_b.bronze.s')",
    /uses IDENTIFIER\(…\)/,
  ],
  [
    'IDENTIFIER with spaces and case',
    "select * from identifier /* x */ ( 'tenant_b' || '.bronze.s')",
    /IDENTIFIER/,
  ],
  ['IDENTIFIER as a column', "SELECT IDENTIFIER('secret_col') FROM bronze.x", /IDENTIFIER/],
  ['TABLE(...) of another tenant', 'SELECT * FROM TABLE(tenant_b.bronze.s)', /TABLE\(…\)|outside/],
  ['a table argument to a function', 'SELECT * FROM range(TABLE(tenant_b.bronze.s))', /TABLE\(…\)|outside/],
  ['a table function of another tenant', 'SELECT * FROM tenant_b.bronze.leak()', /qualified name|outside/],
  ['a qualified UDF in SELECT', 'SELECT main.default.leak(1)', /qualified name/],
  [
    'table_changes reads a table by string',
    "SELECT * FROM table_changes('tenant_b.bronze.s', 0)",
    CALLS('table_changes'),
  ],
  ['an unknown table function', 'SELECT * FROM my_udtf(1)', /as a table, and only range/],
  ['a table function after a comma', 'SELECT * FROM bronze.x, LATERAL my_udtf(x.a)', /as a table/],
  // 2. nested comments and `--` continued by a backslash
  ['code after a nested comment', "SELECT 1 /* /* */ , secret('a','b') */ FROM tenant_b.bronze.s", OTHER],
  ['a nested comment is not closed', "SELECT 1 /* a /* b */ secret('a','b')", /never closed/],
  ['an unclosed comment', 'SELECT * FROM bronze.x /* hidden', /never closed/],
  [
    '-- carried on by a backslash: the next line is comment, not a string',
    "SELECT 1 -- \\\n'\n; DROP TABLE bronze.x -- '",
    /holds 2/,
  ],
  [
    '-- carried on by a backslash: the next line is comment, not a comment opener',
    "SELECT 1 -- \\\n/*\n, secret('a','b') -- */",
    CALLS('secret'),
  ],
  [
    '/*+ inside a comment is no nested comment',
    "SELECT 1 /* /*+ */ , secret('a','b') -- */",
    CALLS('secret'),
  ],
  ['a stray */', 'SELECT 2 */ 3', /closes no comment/],
  ['code inside a hint', "SELECT /*+ REPARTITION(secret('a','b')) */ * FROM bronze.x", /hint/],
  ['a subquery inside a hint', 'SELECT /*+ COALESCE((SELECT 1 FROM tenant_b.bronze.s)) */ 1', /hint|outside/],
  // 3. strings as Spark reads them
  [
    'a backslash-escaped quote (not SQL doubling) ends the string early',
    "SELECT 'a\\'' , secret('x','y') , ''",
    CALLS('secret'),
  ],
  ['a raw string ends at the first quote', "SELECT r'\\', secret('x','y'), '' ", CALLS('secret')],
  ['a double-quoted string with an escape', 'SELECT "a\\" , 1 --" , http_request(2)', CALLS('http_request')],
  ['a stacked statement after a raw string', "SELECT R'\\'; DROP TABLE bronze.x; -- '", /holds 2/],
  ['an unclosed string', "SELECT 'abc", /string that is never closed/],
  ['an unclosed quoted name', 'SELECT * FROM `tenant_b', /quoted name` that is never closed/],
  // 4. functions that reach out
  ['try_reflect', "SELECT try_reflect('java.lang.System', 'getenv', 'HOME')", CALLS('try_reflect')],
  ['reflect', "SELECT reflect('java.util.UUID', 'randomUUID')", CALLS('reflect')],
  [
    'java_method in upper case',
    "SELECT JAVA_METHOD('java.lang.Runtime', 'getRuntime')",
    CALLS('java_method'),
  ],
  ['secret in backticks', "SELECT `secret`('scope', 'key')", CALLS('secret')],
  ['try_secret', "SELECT try_secret('scope', 'key')", CALLS('try_secret')],
  ['list_secrets', 'SELECT * FROM list_secrets()', CALLS('list_secrets')],
  ['read_files', "SELECT * FROM read_files('s3://bucket/x')", CALLS('read_files')],
  ['read_kafka', "SELECT * FROM read_kafka(bootstrapServers => 'h:9092')", CALLS('read_kafka')],
  ['read_statestore', "SELECT * FROM read_statestore('/chk')", CALLS('read_statestore')],
  ['cloud_files_state', "SELECT * FROM cloud_files_state('/chk')", CALLS('cloud_files_state')],
  ['event_log', "SELECT * FROM event_log('pipeline-id')", CALLS('event_log')],
  ['an AI function', 'SELECT ai_summarize(note) FROM bronze.x', CALLS('ai_summarize')],
  ['a new AI function', 'SELECT ai_parse_document(content) FROM bronze.x', CALLS('ai_parse_document')],
  ['vector_search', "SELECT * FROM vector_search(index => 'i', query => 'q')", CALLS('vector_search')],
  ['http_request', "SELECT http_request(conn => 'c', method => 'GET', path => '/')", CALLS('http_request')],
  ['remote_query', "SELECT * FROM remote_query('conn', query => 'select 1')", CALLS('remote_query')],
  [
    'from_protobuf with a descriptor file',
    "SELECT from_protobuf(b, 'M', '/dbfs/x.desc') FROM bronze.x",
    CALLS('from_protobuf'),
  ],
  [
    'a secret in a subquery in a CTE',
    "WITH a AS (SELECT (SELECT secret('s','k')) v) SELECT * FROM a",
    CALLS('secret'),
  ],
  [
    'a script transform',
    "SELECT TRANSFORM(a) USING 'cat /etc/passwd' AS (b) FROM bronze.x",
    /external script/,
  ],
  // 5. names outside the tenant
  ['another tenant in backticks', 'SELECT * FROM `tenant_b`.`bronze`.`s`', OTHER],
  ['another tenant in mixed case', 'SELECT * FROM Tenant_B.Bronze.S', OTHER],
  ['a look-alike catalog (fullwidth t)', 'SELECT * FROM ｔenant_acme.bronze.s', OTHER],
  ['samples', 'SELECT * FROM samples.nyctaxi.trips', OTHER],
  ['the system catalog', 'SELECT * FROM system.access.audit', OTHER],
  ['hive_metastore', 'SELECT * FROM hive_metastore.default.x', OTHER],
  ["another catalog's information_schema", 'SELECT * FROM tenant_b.information_schema.tables', OTHER],
  ['a parenthesized relation', 'SELECT * FROM (tenant_b.bronze.s)', OTHER],
  ['a cross-tenant scalar subquery', 'SELECT (SELECT max(v) FROM tenant_b.bronze.s) AS m', OTHER],
  ['a cross-tenant EXISTS', 'SELECT 1 FROM bronze.x WHERE EXISTS (SELECT 1 FROM tenant_b.bronze.s)', OTHER],
  ['a cross-tenant join', 'SELECT * FROM bronze.x a JOIN tenant_b.silver.y b ON a.id = b.id', OTHER],
  ['a cross-tenant comma join', 'SELECT * FROM bronze.x, tenant_b.silver.y', OTHER],
  ['a cross-tenant CTE body', 'WITH bronze AS (SELECT * FROM tenant_b.bronze.s) SELECT * FROM bronze', OTHER],
  ['a column qualified by another tenant', 'SELECT tenant_b.bronze.s.v FROM bronze.x', OTHER],
  ['a delta path as a table', 'SELECT * FROM delta.`/Volumes/tenant_b/_meta/landing`', /reads the path/],
  ['a parquet URL as a table', 'SELECT * FROM parquet.`s3://bucket/x`', /reads the path/],
  ['a json path in backticks', 'SELECT * FROM `json`.`/tmp/x.json`', /reads the path/],
  ['a bare URL', 'SELECT * FROM dbfs://tmp/x', /URL or path/],
  ['a bare s3 URL', 'SELECT * FROM s3://bucket/x', PARSER],
  ['a four-part name', 'SELECT * FROM tenant_acme.bronze.x.y', OTHER],
  ['a shared-catalog neighbour', 'SELECT * FROM tenant_b_bronze.s', OTHER],
  ['double-quoted names', 'SELECT * FROM "tenant_b"."bronze"."s"', /double quotes|outside/],
  // 6. statements that are not one query
  ['stacked statements', 'SELECT 1; SELECT 2', /holds 2/],
  ['a semicolon after a comment', 'SELECT 1 /* ; */ ; DROP TABLE bronze.x', /holds 2/],
  ['SET', 'SET spark.sql.ansi.enabled = false', /this is a SET statement/],
  ['SET VAR', 'SET VAR x = 1', /this is a SET statement/],
  ['DECLARE VARIABLE', 'DECLARE VARIABLE x INT', /this is a DECLARE statement/],
  ['USE CATALOG', 'USE CATALOG tenant_b', /this is a USE statement/],
  ['EXECUTE IMMEDIATE', "EXECUTE IMMEDIATE 'SELECT * FROM tenant_b.bronze.s'", /this is a EXECUTE statement/],
  ['CACHE TABLE', 'CACHE TABLE t AS SELECT * FROM bronze.x', /this is a CACHE statement/],
  ['REFRESH', 'REFRESH TABLE bronze.x', /this is a REFRESH statement/],
  ['MSCK', 'MSCK REPAIR TABLE bronze.x', /this is a MSCK statement/],
  ['OPTIMIZE', 'OPTIMIZE bronze.x', /this is a OPTIMIZE statement/],
  ['INSERT', 'INSERT INTO bronze.x VALUES (1)', /this is a INSERT statement/],
  [
    'MERGE',
    'MERGE INTO bronze.x USING bronze.y ON 1=1 WHEN MATCHED THEN DELETE',
    /this is a MERGE statement/,
  ],
  ['COPY INTO', "COPY INTO bronze.x FROM 's3://b/x' FILEFORMAT = CSV", /this is a COPY statement/],
  ['CREATE', 'CREATE TABLE bronze.y AS SELECT 1', /this is a CREATE statement/],
  [
    'a write after WITH',
    'WITH x AS (SELECT 1) INSERT INTO bronze.x SELECT * FROM x',
    /read-only|could not be checked/,
  ],
  ['FROM-first multi-insert', 'FROM bronze.x INSERT INTO bronze.y SELECT *', /this is a FROM statement/],
  ['a write behind a comment', '/* harmless */ DROP TABLE bronze.x', /this is a DROP statement/],
  ['an unknown character', 'SELECT 1 # comment?', /U\+0023/],
  ['a zero-width no-break space', 'SELECT\uFEFF1', /U\+FEFF/],
];

/** [why, sql, the tenant's tables it reads]. */
const legitimate: Array<[string, string, string[]]> = [
  [
    'a join across layers',
    'SELECT o.id, c.name FROM bronze.orders o JOIN silver.customers c ON o.cid = c.id JOIN gold.rev r ON r.id = o.id',
    ['bronze.orders', 'gold.rev', 'silver.customers'],
  ],
  ['a fully qualified own table', 'SELECT * FROM `tenant_acme`.`gold`.`revenue` LIMIT 5', ['gold.revenue']],
  ['upper-case own catalog', 'SELECT * FROM TENANT_ACME.SILVER.X', ['silver.X']],
  [
    'a CTE',
    'WITH t AS (SELECT a, count(*) n FROM bronze.x GROUP BY a) SELECT * FROM t ORDER BY n DESC',
    ['bronze.x'],
  ],
  [
    'a window function with QUALIFY',
    'SELECT a, b FROM gold.v QUALIFY row_number() OVER (PARTITION BY a ORDER BY b DESC) = 1',
    ['gold.v'],
  ],
  ['lambdas', 'SELECT transform(arr, x -> x + 1), filter(arr, x -> x > 0) FROM bronze.t', ['bronze.t']],
  [
    'strings holding comment markers, semicolons and names',
    "SELECT '--', '/*', ';', 'secret(', 'tenant_b.bronze.s', \"*/\" FROM bronze.t",
    ['bronze.t'],
  ],
  ['an escaped quote in a string', "SELECT 'it\\'s -- fine; /* */' AS s FROM bronze.t", ['bronze.t']],
  ['a raw string with a backslash', "SELECT r'C:\\dir\\' AS p FROM bronze.t", ['bronze.t']],
  [
    'backticked names with spaces',
    'SELECT `order id`, `a``b` FROM bronze.`raw orders`',
    ['bronze.raw orders'],
  ],
  ['comments of every kind', 'SELECT 1 /* a /* nested */ b */ AS x -- end \nFROM bronze.t', ['bronze.t']],
  [
    'EXTRACT and TRIM with FROM inside',
    "SELECT extract(YEAR FROM o.ts), trim(BOTH 'x' FROM o.s) FROM bronze.o o",
    ['bronze.o'],
  ],
  [
    'a subquery in WHERE',
    'SELECT * FROM silver.a WHERE id IN (SELECT id FROM gold.b)',
    ['gold.b', 'silver.a'],
  ],
  ['a table function over values', 'SELECT * FROM range(10) r', []],
  ['explode in SELECT', 'SELECT explode(tags) AS tag FROM bronze.t', ['bronze.t']],
  [
    'a hint',
    'SELECT /*+ BROADCAST(c) */ * FROM bronze.o o JOIN bronze.c c ON o.cid = c.id',
    ['bronze.c', 'bronze.o'],
  ],
  [
    'the own information schema',
    'SELECT table_name FROM information_schema.tables',
    ['information_schema.tables'],
  ],
  ['a column named like a function', 'SELECT secret, reflect, identifier FROM bronze.t', ['bronze.t']],
  ['a tenant_id column', 'SELECT o.tenant_id FROM bronze.o o', ['bronze.o']],
  ['the _meta schema', 'SELECT * FROM _meta.sync_runs', ['_meta.sync_runs']],
  ['a -- comment carried on by a backslash', 'SELECT 1 AS a -- \\\n, secret(1)\nFROM bronze.t', ['bronze.t']],
  ['a trailing semicolon and comment', 'SELECT 1 AS one; -- done', []],
  ['url_decode and current_user', "SELECT url_decode('a%20b'), current_user()", []],
  [
    'GROUP BY with calls after a comma join',
    "SELECT a.k, date_trunc('month', b.ts) FROM bronze.a a, bronze.b b WHERE a.k = b.k GROUP BY a.k, date_trunc('month', b.ts)",
    ['bronze.a', 'bronze.b'],
  ],
];

describe('the Databricks query check against escape attempts', () => {
  it.each(escapes)('refuses %s', async (_why, sql, reason) => {
    const err = await checkQuery(sql, n).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err, 'was accepted').toBeInstanceOf(Error);
    expect(err!.constructor.name).toBe('UserInputError');
    expect(err!.message).toMatch(reason);
    expect(err!.message).toMatch(/; nothing was run$|^The SQL holds no statement$/);
    expect(err!.message.length).toBeLessThan(260);
  });

  it.each(legitimate)('accepts %s', async (_why, sql, tables) => {
    expect((await checkQuery(sql, n)).tables).toEqual(tables);
  });

  it('sends the statement without its comments, so nothing taken for a comment can run', async () => {
    const checked = await checkQuery('SELECT a /* x /* y */ z */ FROM bronze.t -- c \\\n still comment\n', n);
    expect(checked.sql).toBe('SELECT a   FROM bronze.t');
  });

  it('checks the tenant schemas of a shared catalog', async () => {
    expect(
      (await checkQuery('SELECT * FROM bronze.x JOIN tenant_acme.silver.y USING (id)', shared)).tables,
    ).toEqual(['bronze.x', 'silver.y']);
    for (const sql of [
      'SELECT * FROM tenant_b_bronze.x',
      'SELECT * FROM main.tenant_b_silver.x',
      'SELECT * FROM main.information_schema.schemata',
      'SELECT * FROM tenant_b.bronze.x',
    ]) {
      await expect(checkQuery(sql, shared)).rejects.toThrow(/outside this tenant's catalog/);
    }
  });

  it('never repeats a long input in its answer', async () => {
    const long = `tenant_b.${'x'.repeat(500)}.y`;
    await expect(checkQuery(`SELECT * FROM ${long}`, n)).rejects.toThrow(/x…, which is outside/);
  });

  it('splits statements as Spark does', () => {
    expect(splitStatements('SELECT 1 -- a \\\n; SELECT 2\n; SELECT 3')).toHaveLength(2);
    expect(splitStatements("SELECT '\\'; x'; SELECT 2")).toHaveLength(2);
    expect(splitStatements("SELECT r'\\'; SELECT 2")).toHaveLength(2);
    expect(splitStatements('SELECT /* /* ; */ ; */ 1')).toHaveLength(1);
  });
});
