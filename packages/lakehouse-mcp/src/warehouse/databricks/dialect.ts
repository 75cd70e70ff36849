/**
 * Every SQL statement the Databricks warehouse runs, in one place (Spark SQL on a Databricks SQL warehouse
 * with Unity Catalog). Identifiers are always quoted with backticks by `ident`; values are always bound as
 * named parameters (`:p1`, ...). The only literals are integers this server computed (LIMIT, TABLESAMPLE)
 * and volume paths it made itself from validated names (COPY INTO, PUT and read_files take no parameters).
 */
import { UserInputError } from '@switchyard/core';
import type { ColumnSpec, Layer, Statement, TableRef, TransformPlan } from '../types.js';
import { INSPECT_SAMPLE_ROWS, SHAPES } from '../types.js';
import { runColumns, type MetaSql } from '../meta-store.js';
import { sqlRenderer, type SqlDialect } from '../sql-render.js';

/** A statement with named parameters, as @databricks/sql binds them (`namedParameters`). */
export interface NamedStatement {
  sql: string;
  params: Record<string, unknown>;
}

/** A string literal for the few places Spark takes no parameter: only paths this server built. */
export function pathLiteral(text: string): string {
  if (/[\n\r\0]/.test(text)) throw new Error('a path with control characters');
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function int(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`not a row count: ${n}`);
  return String(n);
}

/**
 * Where a tenant lives. By default a catalog per tenant (`tenant_<id>.bronze.orders`); with a shared
 * catalog (workspaces where the server may not create catalogs) schemas per tenant and layer
 * (`<catalog>.tenant_<id>_bronze.orders`).
 */
export interface Naming {
  catalog: string;
  /** The tenant's own catalog (`tenant_<id>`), also in shared-catalog mode: it is what the tools show. */
  tenantCatalog: string;
  shared: boolean;
  schema(layer: Layer | 'meta'): string;
  /** The landing volume's path, `/Volumes/<catalog>/<meta schema>/landing`. */
  volumePath: string;
}

export const LANDING_VOLUME = 'landing';

export function naming(tenant: string, sharedCatalog: string | undefined): Naming {
  const tenantCatalog = `tenant_${tenant}`;
  const schema = sharedCatalog
    ? (layer: Layer | 'meta') => `${tenantCatalog}_${layer}`
    : (layer: Layer | 'meta') => (layer === 'meta' ? '_meta' : layer);
  const catalog = sharedCatalog ?? tenantCatalog;
  return {
    catalog,
    tenantCatalog,
    shared: sharedCatalog !== undefined,
    schema,
    volumePath: `/Volumes/${catalog}/${schema('meta')}/${LANDING_VOLUME}`,
  };
}

export function tableName(n: Naming, ref: TableRef): string {
  return `${ident(n.catalog)}.${ident(n.schema(ref.layer))}.${ident(ref.name)}`;
}

function metaTable(n: Naming, name: string): string {
  return `${ident(n.catalog)}.${ident(n.schema('meta'))}.${ident(name)}`;
}

function infoSchema(n: Naming, view: 'tables' | 'columns'): string {
  return `${ident(n.catalog)}.\`information_schema\`.${ident(view)}`;
}

const ORDERABLE =
  /^(tinyint|smallint|int|integer|bigint|float|double|decimal|date|timestamp|timestamp_ntz|string|boolean)\b/i;
const NUMERIC_TYPE = /^(tinyint|smallint|int|integer|bigint|float|double|decimal)\b/i;

/** Spark SQL's spelling of the SQL rendered in common (sql-render.ts). */
export const DATABRICKS: SqlDialect = {
  quote: '`',
  types: {
    boolean: 'BOOLEAN',
    int16: 'SMALLINT',
    int32: 'INT',
    int64: 'BIGINT',
    float32: 'FLOAT',
    float64: 'DOUBLE',
    date: 'DATE',
    timestamp: 'TIMESTAMP_NTZ',
    timestamptz: 'TIMESTAMP',
    binary: 'BINARY',
    // Spark has no TIME, UUID, JSON or month-and-day INTERVAL column type: their text form is kept.
    text: 'STRING',
    time: 'STRING',
    timetz: 'STRING',
    interval: 'STRING',
    uuid: 'STRING',
    json: 'STRING',
  },
  list: (element) => `ARRAY<${element}>`,
  text: 'STRING',
  tryCast: 'try_cast',
  startsWith: 'startswith',
  placeholder: (n) => `:p${n}`,
  anyOrder: ' ORDER BY 1',
  int,
  parseDate: {
    pattern: (strftime) => sparkDatePattern(strftime),
    call: (text, pattern, lenient) => `${lenient ? 'try_to_timestamp' : 'to_timestamp'}(${text}, ${pattern})`,
    timestamp: (parsed) => `CAST(${parsed} AS TIMESTAMP_NTZ)`,
  },
  engineType: {
    orderable: (type) => ORDERABLE.test(type),
    numeric: (type) => NUMERIC_TYPE.test(type),
    text: (type) => /^string/i.test(type),
  },
  quantiles: (value, at) => `percentile_approx(${value}, array(${at.join(', ')}))`,
  countMatching: (column, shape) => `count_if(${column} RLIKE :${shape})`,
  draft: {
    grain: (grain) => grain.toUpperCase(),
    today: 'current_date()',
    unit: (unit) => `${unit.toUpperCase()}S`,
  },
  // information_schema's full_data_type and DESCRIBE; a length (`varchar(10)`) does not change the kind.
  names: {
    normalize: (type) =>
      type
        .trim()
        .toLowerCase()
        .replace(/\(\d+\)$/, ''),
    list: /^array<(.+)>$/,
    kinds: {
      boolean: 'boolean',
      tinyint: 'int16',
      byte: 'int16',
      smallint: 'int16',
      short: 'int16',
      int: 'int32',
      integer: 'int32',
      bigint: 'int64',
      long: 'int64',
      float: 'float32',
      real: 'float32',
      double: 'float64',
      string: 'text',
      varchar: 'text',
      char: 'text',
      date: 'date',
      timestamp: 'timestamptz',
      timestamp_ltz: 'timestamptz',
      timestamp_ntz: 'timestamp',
      binary: 'binary',
    },
  },
};

const render = sqlRenderer(DATABRICKS);

/** Quoting, type names both ways, and drafted queries (tables as layer.table: the query path maps them to the tenant). */
export const { ident, type: typeName, logicalOf, draft: renderDraft } = render;

/** Catalog, schemas, landing volume and metadata tables; each statement is idempotent. */
export function bootstrap(n: Naming): string[] {
  const statements: string[] = [];
  if (!n.shared) statements.push(`CREATE CATALOG IF NOT EXISTS ${ident(n.catalog)}`);
  for (const layer of ['bronze', 'silver', 'gold', 'meta'] as const) {
    statements.push(`CREATE SCHEMA IF NOT EXISTS ${ident(n.catalog)}.${ident(n.schema(layer))}`);
  }
  statements.push(
    `CREATE VOLUME IF NOT EXISTS ${ident(n.catalog)}.${ident(n.schema('meta'))}.${ident(LANDING_VOLUME)}`,
    `CREATE TABLE IF NOT EXISTS ${metaTable(n, 'connections')} (name STRING, kind STRING, host STRING, port INT, database STRING, user_name STRING, ssl_mode STRING, created_at TIMESTAMP, updated_at TIMESTAMP)`,
    `CREATE TABLE IF NOT EXISTS ${metaTable(n, 'sync_runs')} (run_id STRING, kind STRING, connection STRING, source STRING, target_layer STRING, target_name STRING, mode STRING, status STRING, started_at TIMESTAMP, finished_at TIMESTAMP, rows BIGINT, bytes BIGINT, duration_ms BIGINT, watermark STRING, error STRING)`,
    `CREATE TABLE IF NOT EXISTS ${metaTable(n, 'sync_state')} (target STRING, connection STRING, source STRING, cursor_column STRING, key_columns STRING, watermark STRING, updated_at TIMESTAMP)`,
    `CREATE TABLE IF NOT EXISTS ${metaTable(n, 'lineage')} (target_layer STRING, target_name STRING, kind STRING, inputs STRING, definition STRING, recorded_at TIMESTAMP)`,
  );
  return statements;
}

export const CURRENT_USER = 'SELECT current_user() AS user';
export const CATALOGS = 'SHOW CATALOGS';

function layerParams(n: Naming): Record<string, unknown> {
  return { bronze: n.schema('bronze'), silver: n.schema('silver'), gold: n.schema('gold') };
}

/** Tables and views of the layers with column counts, lineage and the last successful load. */
export function listTables(n: Naming, layer: Layer | undefined): NamedStatement {
  return {
    sql: `WITH cols AS (SELECT table_schema, table_name, count(*) AS n FROM ${infoSchema(n, 'columns')} WHERE table_schema IN (:bronze, :silver, :gold) GROUP BY ALL),
runs AS (SELECT target_layer, target_name, max(finished_at) AS at, max_by(rows, finished_at) AS rows FROM ${metaTable(n, 'sync_runs')} WHERE status = 'succeeded' GROUP BY ALL)
SELECT t.table_schema, t.table_name, t.table_type, r.rows, coalesce(c.n, 0), l.kind, l.inputs, CAST(coalesce(r.at, l.recorded_at) AS STRING)
FROM ${infoSchema(n, 'tables')} AS t
LEFT JOIN cols AS c ON c.table_schema = t.table_schema AND c.table_name = t.table_name
LEFT JOIN ${metaTable(n, 'lineage')} AS l ON l.target_layer = CASE t.table_schema WHEN :bronze THEN 'bronze' WHEN :silver THEN 'silver' ELSE 'gold' END AND l.target_name = t.table_name
LEFT JOIN runs AS r ON r.target_layer = l.target_layer AND r.target_name = t.table_name
WHERE t.table_schema IN (:bronze, :silver, :gold) AND (:layer IS NULL OR t.table_schema = :layer) AND NOT startswith(t.table_name, '_stage_')
ORDER BY CASE t.table_schema WHEN :bronze THEN 1 WHEN :silver THEN 2 ELSE 3 END, t.table_name`,
    params: { ...layerParams(n), layer: layer ? n.schema(layer) : null },
  };
}

/** The same listing without the metadata tables (a catalog nobody has loaded through this server). */
export function listTablesPlain(n: Naming, layer: Layer | undefined): NamedStatement {
  return {
    sql: `SELECT t.table_schema, t.table_name, t.table_type, NULL, (SELECT count(*) FROM ${infoSchema(n, 'columns')} AS c WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name), NULL, NULL, NULL
FROM ${infoSchema(n, 'tables')} AS t
WHERE t.table_schema IN (:bronze, :silver, :gold) AND (:layer IS NULL OR t.table_schema = :layer) AND NOT startswith(t.table_name, '_stage_')
ORDER BY CASE t.table_schema WHEN :bronze THEN 1 WHEN :silver THEN 2 ELSE 3 END, t.table_name`,
    params: { ...layerParams(n), layer: layer ? n.schema(layer) : null },
  };
}

export function columnsOf(n: Naming, ref: TableRef): NamedStatement {
  return {
    sql: `SELECT column_name, full_data_type, is_nullable FROM ${infoSchema(n, 'columns')} WHERE table_schema = :schema AND table_name = :table ORDER BY ordinal_position`,
    params: { schema: n.schema(ref.layer), table: ref.name },
  };
}

export function objectKind(n: Naming, ref: TableRef): NamedStatement {
  return {
    sql: `SELECT table_type FROM ${infoSchema(n, 'tables')} WHERE table_schema = :schema AND table_name = :table`,
    params: { schema: n.schema(ref.layer), table: ref.name },
  };
}

export function countRows(n: Naming, ref: TableRef): string {
  return `SELECT count(*) FROM ${tableName(n, ref)}`;
}

export function describeDetail(n: Naming, ref: TableRef): string {
  return `DESCRIBE DETAIL ${tableName(n, ref)}`;
}

/** Above this many rows a profile reads a sample, so it stays bounded on large tables. */
export const PROFILE_SAMPLE_ROWS = 1_000_000;

function sample(totalRows: number, rows = PROFILE_SAMPLE_ROWS): string {
  if (totalRows <= rows) return '';
  const percent = Math.max(0.01, Math.min(100, (rows / totalRows) * 100));
  return ` TABLESAMPLE (${percent.toFixed(4)} PERCENT)`;
}

/** Null count, approximate distinct count, min and max per column, in one scan (of a sample above a size). */
export function profile(
  n: Naming,
  ref: TableRef,
  columns: Array<{ name: string; type: string }>,
  totalRows: number,
): string {
  return render.profile(`${tableName(n, ref)}${sample(totalRows)}`, columns);
}

export function topValues(
  n: Naming,
  ref: TableRef,
  column: string,
  limit: number,
  totalRows: number,
): string {
  return render.topValues(`${tableName(n, ref)}${sample(totalRows)}`, column, int(limit));
}

export function preview(n: Naming, ref: TableRef, rows: number): string {
  return `SELECT * FROM ${tableName(n, ref)} LIMIT ${int(rows)}`;
}

/** Upload one local file into the landing volume; the driver checks it is under the run's own folder. */
export function put(localPath: string, volumeFile: string): string {
  return `PUT ${pathLiteral(localPath)} INTO ${pathLiteral(volumeFile)} OVERWRITE`;
}

export function remove(volumeFile: string): string {
  return `REMOVE ${pathLiteral(volumeFile)}`;
}

function columnList(columns: ColumnSpec[]): string {
  return columns.map((c) => `${ident(c.name)} ${typeName(c.type)}`).join(', ');
}

function castAll(columns: ColumnSpec[]): string {
  return columns.map((c) => `CAST(${ident(c.name)} AS ${typeName(c.type)}) AS ${ident(c.name)}`).join(', ');
}

/**
 * A full load: one statement builds the new table from the run's Parquet parts and swaps it in when complete
 * (Delta's CREATE OR REPLACE is atomic), so readers see the old table until then.
 */
export function replaceFromFiles(n: Naming, target: TableRef, dir: string, columns: ColumnSpec[]): string {
  return `CREATE OR REPLACE TABLE ${tableName(n, target)} AS SELECT ${castAll(columns)} FROM read_files(${pathLiteral(dir)}, format => 'parquet')`;
}

/** A full load of no rows: the table with its columns, empty. */
export function replaceEmpty(n: Naming, target: TableRef, columns: ColumnSpec[]): string {
  return `CREATE OR REPLACE TABLE ${tableName(n, target)} (${columnList(columns)})`;
}

export function createStaging(n: Naming, staging: TableRef, columns: ColumnSpec[]): string {
  return `CREATE TABLE IF NOT EXISTS ${tableName(n, staging)} (${columnList(columns)})`;
}

/** Idempotent: files COPY INTO has loaded already are skipped, so a retry after a failure is safe. */
export function copyInto(n: Naming, staging: TableRef, dir: string): string {
  return `COPY INTO ${tableName(n, staging)} FROM ${pathLiteral(dir)} FILEFORMAT = PARQUET`;
}

/** Merge staged rows on the keys (the newest per key by the cursor): matches are updated, new keys inserted. */
export function mergeFrom(
  n: Naming,
  target: TableRef,
  staging: TableRef,
  keys: string[],
  orderBy: string | undefined,
): string {
  const match = keys.map((k) => `t.${ident(k)} <=> s.${ident(k)}`).join(' AND ');
  return `MERGE INTO ${tableName(n, target)} AS t USING (SELECT * FROM ${tableName(n, staging)} ${render.firstPerKey(keys, orderBy, true)}) AS s ON ${match} WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *`;
}

export function dropTableIfExists(n: Naming, ref: TableRef): string {
  return `DROP TABLE IF EXISTS ${tableName(n, ref)}`;
}

export function dropView(n: Naming, ref: TableRef): string {
  return `DROP VIEW IF EXISTS ${tableName(n, ref)}`;
}

export function insertRun(n: Naming, run: Record<string, unknown>): NamedStatement {
  return {
    sql: `INSERT INTO ${metaTable(n, 'sync_runs')} VALUES (:run_id, :kind, :connection, :source, :target_layer, :target_name, :mode, :status, CAST(:started_at AS TIMESTAMP), CAST(:finished_at AS TIMESTAMP), :rows, :bytes, :duration_ms, :watermark, :error)`,
    params: run,
  };
}

export function selectRuns(n: Naming, limit: number): string {
  return `SELECT run_id, kind, connection, source, target_layer, target_name, mode, status, CAST(started_at AS STRING), CAST(finished_at AS STRING), rows, bytes, watermark, error FROM ${metaTable(n, 'sync_runs')} ORDER BY finished_at DESC LIMIT ${int(limit)}`;
}

/** One statement, so a failure cannot leave the record deleted and not yet written again. */
function upsert(table: string, keys: string[], columns: Array<[string, string]>): string {
  const select = columns.map(([name, value]) => `${value} AS ${name}`).join(', ');
  const on = keys.map((k) => `t.${k} = s.${k}`).join(' AND ');
  return `MERGE INTO ${table} AS t USING (SELECT ${select}) AS s ON ${on} WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *`;
}

export function upsertState(n: Naming, state: Record<string, unknown>): NamedStatement {
  return {
    sql: upsert(
      metaTable(n, 'sync_state'),
      ['target'],
      [
        ['target', ':target'],
        ['connection', ':connection'],
        ['source', ':source'],
        ['cursor_column', ':cursor_column'],
        ['key_columns', ':key_columns'],
        ['watermark', ':watermark'],
        ['updated_at', 'current_timestamp()'],
      ],
    ),
    params: state,
  };
}

export function selectState(n: Naming, target: string): NamedStatement {
  return {
    sql: `SELECT target, connection, source, cursor_column, key_columns, watermark FROM ${metaTable(n, 'sync_state')} WHERE target = :target`,
    params: { target },
  };
}

export function upsertLineage(n: Naming, l: Record<string, unknown>): NamedStatement {
  return {
    sql: upsert(
      metaTable(n, 'lineage'),
      ['target_layer', 'target_name'],
      [
        ['target_layer', ':layer'],
        ['target_name', ':name'],
        ['kind', ':kind'],
        ['inputs', ':inputs'],
        ['definition', ':definition'],
        ['recorded_at', 'current_timestamp()'],
      ],
    ),
    params: l,
  };
}

export function selectLineage(n: Naming, ref: TableRef): NamedStatement {
  return {
    sql: `SELECT target_layer, target_name, kind, inputs, definition FROM ${metaTable(n, 'lineage')} WHERE target_layer = :layer AND target_name = :name`,
    params: { layer: ref.layer, name: ref.name },
  };
}

export function selectConnections(n: Naming): string {
  return `SELECT name, kind, host, port, database, user_name, ssl_mode, CAST(created_at AS STRING), CAST(updated_at AS STRING) FROM ${metaTable(n, 'connections')} ORDER BY name`;
}

export function upsertConnection(n: Naming, c: Record<string, unknown>): NamedStatement {
  return {
    sql: upsert(
      metaTable(n, 'connections'),
      ['name'],
      [
        ['name', ':name'],
        ['kind', ':kind'],
        ['host', ':host'],
        ['port', 'CAST(:port AS INT)'],
        ['database', ':database'],
        ['user_name', ':user_name'],
        ['ssl_mode', ':ssl_mode'],
        ['created_at', 'CAST(:created_at AS TIMESTAMP)'],
        ['updated_at', 'CAST(:updated_at AS TIMESTAMP)'],
      ],
    ),
    params: c,
  };
}

/**
 * strftime patterns (what the transform step takes on every warehouse) → Spark datetime patterns. Letters
 * outside a directive are quoted, so a pattern can never change meaning.
 */
export function sparkDatePattern(format: string): string {
  const map: Record<string, string> = {
    Y: 'yyyy',
    y: 'yy',
    m: 'MM',
    d: 'dd',
    e: 'd',
    H: 'HH',
    I: 'hh',
    M: 'mm',
    S: 'ss',
    f: 'SSSSSS',
    p: 'a',
    b: 'MMM',
    B: 'MMMM',
    a: 'EEE',
    A: 'EEEE',
    j: 'DDD',
    z: 'Z',
    Z: 'z',
    '%': "'%'",
  };
  let out = '';
  let literal = '';
  const flush = () => {
    if (literal) out += /[A-Za-z']/.test(literal) ? `'${literal.replace(/'/g, "''")}'` : literal;
    literal = '';
  };
  for (let i = 0; i < format.length; i++) {
    const ch = format[i]!;
    if (ch === '%' && i + 1 < format.length) {
      const spec = map[format[i + 1]!];
      if (!spec) {
        throw new UserInputError(
          `The date format '${format}' uses %${format[i + 1]}, which has no Databricks equivalent`,
          { hint: 'Use %Y %y %m %d %e %H %I %M %S %f %p %b %B %a %A %j %z' },
        );
      }
      flush();
      out += spec;
      i++;
    } else literal += ch;
  }
  flush();
  return out;
}

/** Render a transform plan to one SELECT with named parameters. */
export function renderTransform(
  n: Naming,
  plan: TransformPlan,
): Statement & { named: Record<string, unknown> } {
  const { sql, params } = render.transform(tableName(n, plan.source), plan);
  const named = Object.fromEntries(params.map((v, i) => [`p${i + 1}`, v]));
  return { sql, params, named };
}

export function createTableAs(n: Naming, ref: TableRef, select: string): string {
  return `CREATE OR REPLACE TABLE ${tableName(n, ref)} AS ${select}`;
}

export function createView(n: Naming, ref: TableRef, select: string, replace: boolean): string {
  return `CREATE ${replace ? 'OR REPLACE ' : ''}VIEW ${tableName(n, ref)} AS ${select}`;
}

/** A LIMIT over a rendered statement. */
export function previewSelect(select: string, rows: number): string {
  return `SELECT * FROM (${select}) AS q LIMIT ${int(rows)}`;
}

/** Spark's planner checks the query without running it; an invalid query yields an error text in the plan. */
export function explain(select: string): string {
  return `EXPLAIN ${select}`;
}

/** The result columns of a query, from the analyzer, without running it. */
export function describeQuery(select: string): string {
  return `DESCRIBE QUERY ${select}`;
}

/** One scan for the schema analysis: per column exact distinct, quantiles, and text shapes; 10 values each. */
export function inspect(
  n: Naming,
  ref: TableRef,
  columns: Array<{ name: string; type: string }>,
  totalRows: number,
): NamedStatement {
  return {
    sql: render.inspect(`${tableName(n, ref)}${sample(totalRows, INSPECT_SAMPLE_ROWS)}`, columns),
    params: { email: SHAPES.email, phone: SHAPES.phone },
  };
}

/** The tenant's records in its `_meta` schema (see meta-store.ts): one MERGE per save. */
export function metaSql(n: Naming): MetaSql {
  return {
    selectConnections: () => ({ sql: selectConnections(n) }),
    saveConnection: (c) => [
      upsertConnection(n, {
        name: c.name,
        kind: c.kind,
        host: c.host,
        port: c.port,
        database: c.database,
        user_name: c.user,
        ssl_mode: c.sslMode,
        created_at: c.createdAt,
        updated_at: c.updatedAt,
      }),
    ],
    selectState: (target) => selectState(n, target),
    saveState: (s) => [
      upsertState(n, {
        target: s.target,
        connection: s.connection,
        source: s.source,
        cursor_column: s.cursorColumn,
        key_columns: JSON.stringify(s.keyColumns),
        watermark: s.watermark,
      }),
    ],
    insertRun: (run) => insertRun(n, runColumns(run)),
    selectRuns: (limit) => ({ sql: selectRuns(n, limit) }),
    selectLineage: (ref) => selectLineage(n, ref),
    saveLineage: (l) => [
      upsertLineage(n, {
        layer: l.target.layer,
        name: l.target.name,
        kind: l.kind,
        inputs: JSON.stringify(l.inputs),
        definition: l.definition,
      }),
    ],
    time: (value) => isoOf(String(value)),
  };
}

/** Databricks' timestamp text (`2026-01-02 03:04:05`, UTC) as ISO. */
export function isoOf(text: string): string {
  const t = text.trim().replace(' ', 'T');
  const withZone = /[zZ]|[+-]\d\d:?\d\d$/.test(t) ? t : `${t}Z`;
  const d = new Date(withZone);
  return Number.isNaN(d.getTime()) ? text : d.toISOString().replace(/\.000Z$/, 'Z');
}
