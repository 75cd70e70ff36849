/**
 * Every SQL statement the Databricks warehouse runs, in one place (Spark SQL on a Databricks SQL warehouse
 * with Unity Catalog). Identifiers are always quoted with backticks by `ident`; values are always bound as
 * named parameters (`:p1`, ...). The only literals are integers this server computed (LIMIT, TABLESAMPLE)
 * and volume paths it made itself from validated names (COPY INTO, PUT and read_files take no parameters).
 */
import { UserInputError } from '@switchyard/core';
import type {
  ColumnSpec,
  Expr,
  FilterOperator,
  Layer,
  LogicalType,
  QueryDraft,
  Statement,
  TableRef,
  TransformPlan,
} from '../types.js';
import { INSPECT_SAMPLE_ROWS, QUANTILES, SHAPES } from '../types.js';
import { runColumns, type MetaSql } from '../meta-store.js';

/** A statement with named parameters, as @databricks/sql binds them (`namedParameters`). */
export interface NamedStatement {
  sql: string;
  params: Record<string, unknown>;
}

export function ident(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
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

export function typeName(type: LogicalType): string {
  switch (type.kind) {
    case 'boolean':
      return 'BOOLEAN';
    case 'int16':
      return 'SMALLINT';
    case 'int32':
      return 'INT';
    case 'int64':
      return 'BIGINT';
    case 'float32':
      return 'FLOAT';
    case 'float64':
      return 'DOUBLE';
    case 'decimal':
      return `DECIMAL(${type.precision},${type.scale})`;
    case 'date':
      return 'DATE';
    case 'timestamp':
      return 'TIMESTAMP_NTZ';
    case 'timestamptz':
      return 'TIMESTAMP';
    case 'binary':
      return 'BINARY';
    case 'list':
      return `ARRAY<${typeName(type.element)}>`;
    // Spark has no TIME, UUID, JSON or month-and-day INTERVAL column type: their text form is kept.
    case 'text':
    case 'time':
    case 'timetz':
    case 'interval':
    case 'uuid':
    case 'json':
      return 'STRING';
  }
}

/** Databricks type names (information_schema's full_data_type, DESCRIBE) as logical types. */
export function logicalOf(engineType: string): LogicalType | undefined {
  const t = engineType.trim().toLowerCase();
  const decimal = /^decimal\((\d+),\s*(\d+)\)$/.exec(t);
  if (decimal) return { kind: 'decimal', precision: Number(decimal[1]), scale: Number(decimal[2]) };
  const array = /^array<(.+)>$/.exec(t);
  if (array) {
    const element = logicalOf(array[1]!);
    return element ? { kind: 'list', element } : undefined;
  }
  const map: Record<string, LogicalType['kind']> = {
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
  };
  const kind = map[t.replace(/\(\d+\)$/, '')];
  return kind ? ({ kind } as LogicalType) : undefined;
}

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

const ORDERABLE =
  /^(tinyint|smallint|int|integer|bigint|float|double|decimal|date|timestamp|timestamp_ntz|string|boolean)\b/i;

/** Above this many rows a profile reads a sample, so it stays bounded on large tables. */
export const PROFILE_SAMPLE_ROWS = 1_000_000;

function sample(totalRows: number): string {
  if (totalRows <= PROFILE_SAMPLE_ROWS) return '';
  const percent = Math.max(0.01, Math.min(100, (PROFILE_SAMPLE_ROWS / totalRows) * 100));
  return ` TABLESAMPLE (${percent.toFixed(4)} PERCENT)`;
}

/** Null count, approximate distinct count, min and max per column, in one scan (of a sample above a size). */
export function profile(
  n: Naming,
  ref: TableRef,
  columns: Array<{ name: string; type: string }>,
  totalRows: number,
): string {
  const parts = ['count(*)'];
  for (const c of columns) {
    const col = ident(c.name);
    const scalar = ORDERABLE.test(c.type);
    parts.push(`count(*) - count(${col})`);
    parts.push(scalar ? `approx_count_distinct(${col})` : 'NULL');
    parts.push(scalar ? `CAST(min(${col}) AS STRING)` : 'NULL');
    parts.push(scalar ? `CAST(max(${col}) AS STRING)` : 'NULL');
  }
  return `SELECT ${parts.join(', ')} FROM ${tableName(n, ref)}${sample(totalRows)}`;
}

export function topValues(
  n: Naming,
  ref: TableRef,
  column: string,
  limit: number,
  totalRows: number,
): string {
  const col = ident(column);
  return `SELECT CAST(${col} AS STRING) AS v, count(*) AS n FROM ${tableName(n, ref)}${sample(totalRows)} WHERE ${col} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ${int(limit)}`;
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
  const order = orderBy ? ` ORDER BY ${ident(orderBy)} DESC NULLS LAST` : ' ORDER BY 1';
  return `MERGE INTO ${tableName(n, target)} AS t USING (SELECT * FROM ${tableName(n, staging)} QUALIFY row_number() OVER (PARTITION BY ${keys.map(ident).join(', ')}${order}) = 1) AS s ON ${match} WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *`;
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
  const params: unknown[] = [];
  const bind = (value: unknown): string => {
    params.push(value);
    return `:p${params.length}`;
  };
  const expr = (e: Expr): string => {
    switch (e.kind) {
      case 'column':
        return ident(e.name);
      case 'cast':
        return `${e.lenient ? 'try_cast' : 'CAST'}(${expr(e.expr)} AS ${typeName(e.to)})`;
      case 'call':
        return `${e.fn}(${expr(e.expr)})`;
      case 'parse_date': {
        const text = `CAST(${expr(e.expr)} AS STRING)`;
        const pattern = bind(sparkDatePattern(e.format));
        const parsed = e.lenient
          ? `try_to_timestamp(${text}, ${pattern})`
          : `to_timestamp(${text}, ${pattern})`;
        return e.to === 'date' ? `CAST(${parsed} AS DATE)` : `CAST(${parsed} AS TIMESTAMP_NTZ)`;
      }
      case 'parse_number': {
        const text = `CAST(${expr(e.expr)} AS STRING)`;
        const normalized =
          e.decimalSeparator === ','
            ? `replace(replace(replace(${text}, ' ', ''), '.', ''), ',', '.')`
            : `replace(replace(${text}, ' ', ''), ',', '')`;
        return `${e.lenient ? 'try_cast' : 'CAST'}(${normalized} AS ${typeName(e.to)})`;
      }
      case 'coalesce':
        return `coalesce(${expr(e.expr)}, CAST(${bind(e.value)} AS ${typeName(e.valueType)}))`;
    }
  };
  let text = `SELECT * FROM ${tableName(n, plan.source)}`;
  plan.stages.forEach((stage, i) => {
    const from = `(${text}) AS s${i + 1}`;
    if (stage.kind === 'project') {
      text = `SELECT ${stage.columns.map((c) => `${expr(c.expr)} AS ${ident(c.name)}`).join(', ')} FROM ${from}`;
    } else if (stage.kind === 'filter') {
      text = `SELECT * FROM ${from} WHERE ${filter(stage.column, stage.operator, stage.values, bind)}`;
    } else {
      const order = stage.orderBy
        ? ` ORDER BY ${ident(stage.orderBy)} ${stage.descending ? 'DESC' : 'ASC'} NULLS LAST`
        : ' ORDER BY 1';
      text = `SELECT * FROM ${from} QUALIFY row_number() OVER (PARTITION BY ${stage.keys.map(ident).join(', ')}${order}) = 1`;
    }
  });
  const named = Object.fromEntries(params.map((v, i) => [`p${i + 1}`, v]));
  return { sql: text, params, named };
}

function filter(column: string, op: FilterOperator, values: unknown[], bind: (v: unknown) => string): string {
  const col = ident(column);
  switch (op) {
    case 'is_null':
      return `${col} IS NULL`;
    case 'not_null':
      return `${col} IS NOT NULL`;
    case 'in':
      return `${col} IN (${values.map(bind).join(', ')})`;
    case 'not_in':
      return `${col} NOT IN (${values.map(bind).join(', ')})`;
    case 'contains':
      return `contains(CAST(${col} AS STRING), ${bind(values[0])})`;
    case 'starts_with':
      return `startswith(CAST(${col} AS STRING), ${bind(values[0])})`;
    default: {
      const sym = { eq: '=', ne: '<>', lt: '<', le: '<=', gt: '>', ge: '>=' }[op];
      return `${col} ${sym} ${bind(values[0])}`;
    }
  }
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

const NUMERIC_TYPE = /^(tinyint|smallint|int|integer|bigint|float|double|decimal)\b/i;

/** One scan for the schema analysis: per column exact distinct, quantiles, and text shapes; 10 values each. */
export function inspect(
  n: Naming,
  ref: TableRef,
  columns: Array<{ name: string; type: string }>,
  totalRows: number,
): NamedStatement {
  const parts = ['count(*)'];
  for (const c of columns) {
    const col = ident(c.name);
    const scalar = ORDERABLE.test(c.type);
    const numeric = NUMERIC_TYPE.test(c.type);
    const text = /^string/i.test(c.type);
    const d = `CAST(${col} AS DOUBLE)`;
    parts.push(`count(${col})`, scalar ? `count(DISTINCT ${col})` : 'NULL');
    parts.push(numeric ? `avg(${d})` : 'NULL', numeric ? `stddev_samp(${d})` : 'NULL');
    parts.push(numeric ? `percentile_approx(${d}, array(${QUANTILES.join(', ')}))` : 'NULL');
    parts.push(text ? `count(try_cast(${col} AS DOUBLE))` : 'NULL');
    parts.push(text ? `count(try_cast(${col} AS TIMESTAMP))` : 'NULL');
    parts.push(text ? `count_if(${col} RLIKE :email)` : 'NULL');
    parts.push(text ? `count_if(${col} RLIKE :phone)` : 'NULL');
    parts.push(text ? `avg(length(${col}))` : 'NULL');
  }
  const sampled =
    totalRows > INSPECT_SAMPLE_ROWS
      ? ` TABLESAMPLE (${Math.max(0.01, (INSPECT_SAMPLE_ROWS / totalRows) * 100).toFixed(4)} PERCENT)`
      : '';
  return {
    sql: `SELECT ${parts.join(', ')} FROM ${tableName(n, ref)}${sampled}`,
    params: { email: SHAPES.email, phone: SHAPES.phone },
  };
}

/** A drafted query in Databricks SQL, tables as layer.table (the query path maps them to the tenant). */
export function renderDraft(draft: QueryDraft): string {
  const select: string[] = [];
  for (const g of draft.groups) {
    select.push(
      g.grain
        ? `date_trunc('${g.grain.toUpperCase()}', ${ident(g.column)}) AS ${ident(g.as)}`
        : `${ident(g.column)} AS ${ident(g.as)}`,
    );
  }
  for (const m of draft.measures) {
    const col = m.column ? ident(m.column) : '*';
    const expr = m.fn === 'count_distinct' ? `count(DISTINCT ${col})` : `${m.fn}(${col})`;
    select.push(`${expr} AS ${ident(m.as)}`);
  }
  if (select.length === 0) select.push(...(draft.columns.length ? draft.columns.map(ident) : ['*']));
  const where: string[] = [];
  if (draft.since) {
    where.push(
      `${ident(draft.since.column)} >= current_date() - INTERVAL ${int(draft.since.amount)} ${draft.since.unit.toUpperCase()}S`,
    );
  }
  if (draft.year) where.push(`year(${ident(draft.year.column)}) = ${int(draft.year.year)}`);
  let sql = `SELECT ${select.join(', ')}\nFROM ${ident(draft.table.layer)}.${ident(draft.table.name)}`;
  if (where.length) sql += `\nWHERE ${where.join(' AND ')}`;
  if (draft.groups.length && draft.measures.length) sql += '\nGROUP BY ALL';
  if (draft.order) sql += `\nORDER BY ${ident(draft.order.by)} ${draft.order.descending ? 'DESC' : 'ASC'}`;
  return `${sql}\nLIMIT ${int(draft.limit)}`;
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
