/**
 * Every SQL statement the DuckDB warehouse runs, in one place. Identifiers are always quoted with
 * `ident`; values are always bound parameters (`$1`, `$2`, ...), never spliced into the text. A Databricks
 * dialect renders the same operations in Spark SQL. The spelling (quoting, types) is spelling.ts and the `_meta`
 * records' statements are meta-sql.ts; both are re-exported here, the one place DuckDB code takes its SQL from.
 */
import type { ColumnSpec, LogicalType, PartColumn, Statement, TableRef, TransformPlan } from '../types.js';
import { INSPECT_SAMPLE_ROWS, SHAPES } from '../types.js';
import { sqlRenderer } from '../sql-render.js';
import { DUCKDB, ident, render, stringLiteral, tableName, typeName } from './spelling.js';

export * from './spelling.js';
export * from './meta-sql.js';

export const SCHEMAS = ['bronze', 'silver', 'gold', '_meta'] as const;

/** The tenant catalog's schemas and metadata tables (no constraints: DuckDB checks unique keys eagerly). */
export const BOOTSTRAP = `
CREATE SCHEMA IF NOT EXISTS bronze;
CREATE SCHEMA IF NOT EXISTS silver;
CREATE SCHEMA IF NOT EXISTS gold;
CREATE SCHEMA IF NOT EXISTS _meta;
CREATE TABLE IF NOT EXISTS _meta.connections (name VARCHAR, kind VARCHAR, host VARCHAR, port INTEGER,
  database VARCHAR, user_name VARCHAR, ssl_mode VARCHAR, created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ);
CREATE TABLE IF NOT EXISTS _meta.sync_runs (run_id VARCHAR, kind VARCHAR, connection VARCHAR, source VARCHAR,
  target_layer VARCHAR, target_name VARCHAR, mode VARCHAR, status VARCHAR, started_at TIMESTAMPTZ,
  finished_at TIMESTAMPTZ, rows BIGINT, bytes BIGINT, duration_ms BIGINT, watermark VARCHAR, error VARCHAR);
CREATE TABLE IF NOT EXISTS _meta.sync_state (target VARCHAR, connection VARCHAR, source VARCHAR,
  cursor_column VARCHAR, key_columns VARCHAR, watermark VARCHAR, updated_at TIMESTAMPTZ);
ALTER TABLE _meta.sync_state ADD COLUMN IF NOT EXISTS source_snapshot VARCHAR;
CREATE TABLE IF NOT EXISTS _meta.lineage (target_layer VARCHAR, target_name VARCHAR, kind VARCHAR,
  inputs VARCHAR, definition VARCHAR, recorded_at TIMESTAMPTZ);
CREATE OR REPLACE VIEW _meta.uploads AS SELECT run_id, source AS file, target_name AS "table", rows, bytes,
  finished_at AS uploaded_at FROM _meta.sync_runs WHERE kind = 'upload' AND status = 'succeeded';
`;

function columnDefinitions(columns: ColumnSpec[]): string {
  return columns
    .map((c) => `${ident(c.name)} ${typeName(c.type)}${c.nullable ? '' : ' NOT NULL'}`)
    .join(', ');
}

export function createTable(ref: TableRef, columns: ColumnSpec[]): string {
  return `CREATE TABLE ${tableName(ref)} (${columnDefinitions(columns)})`;
}

/** A load's staging table sits next to its target under a hidden name, and is renamed into place. */
export function createStaging(ref: TableRef, columns: ColumnSpec[]): string {
  return `CREATE TABLE IF NOT EXISTS ${tableName(ref)} (${columnDefinitions(columns)})`;
}

export const STAGE_PREFIX = '_stage_';

/** The source's spelling of renamed columns, kept as the column's comment in the catalog. */
export function commentColumns(
  ref: TableRef,
  columns: ReadonlyArray<{ name: string; original?: string | undefined }>,
): string[] {
  return columns
    .filter((c) => c.original !== undefined && c.original !== c.name)
    .map((c) => `COMMENT ON COLUMN ${tableName(ref)}.${ident(c.name)} IS ${stringLiteral(c.original!)}`);
}

/** A file's column renamed by the naming rule (the original goes to the comment). */
export function renameColumn(ref: TableRef, from: string, to: string): string {
  return `ALTER TABLE ${tableName(ref)} RENAME COLUMN ${ident(from)} TO ${ident(to)}`;
}

/** Convert one text column of a CSV part into its logical type. */
function fromText(column: string, col: PartColumn): string {
  if (col.encoding === 'hex') return `unhex(${column})`;
  if (col.encoding === 'json')
    return col.type.kind === 'json'
      ? `CAST(${column} AS JSON)`
      : `CAST(CAST(${column} AS JSON) AS ${typeName(col.type)})`;
  if (col.type.kind === 'text') return column;
  return `CAST(${column} AS ${typeName(col.type)})`;
}

/**
 * Kinds the CSV reader parses itself as it reads (the same conversion as a cast from text, without first making a
 * string of every value): a third less work for DuckDB on the load's critical path.
 */
const READ_TYPED = new Set<LogicalType['kind']>([
  'boolean',
  'int16',
  'int32',
  'int64',
  'float32',
  'float64',
  'decimal',
  'date',
  'time',
  'timestamp',
  'timestamptz',
  'uuid',
]);

const readTyped = (c: PartColumn) => c.encoding === 'plain' && READ_TYPED.has(c.type.kind);

/** A CSV part (PostgreSQL CSV: unquoted empty is NULL, "" is an empty string) at $1, columns c0..cN read as `types`. */
function readCsvPart(types: string[]): string {
  const raw = types.map((type, i) => `'c${i}': '${type}'`).join(', ');
  return `read_csv($1, auto_detect = false, header = false, delim = ',', quote = '"', escape = '"', allow_quoted_nulls = false, strict_mode = true, columns = {${raw}})`;
}

/** Load one CSV part into the staging table. */
export function insertCsvPart(staging: TableRef, path: string, columns: PartColumn[]): Statement {
  const types = columns.map((c) => (readTyped(c) ? typeName(c.type) : 'VARCHAR'));
  const select = columns.map((c, i) => (readTyped(c) ? `c${i}` : fromText(`c${i}`, c))).join(', ');
  return {
    sql: `INSERT INTO ${tableName(staging)} SELECT ${select} FROM ${readCsvPart(types)}`,
    params: [path],
  };
}

/**
 * A value the CSV reader could not convert, told in the column's own name: DuckDB's message names our `cN` key and
 * carries the whole source line, which is not the model's business. Other errors come back as they were.
 */
export function csvPartError(err: unknown, columns: ReadonlyArray<{ name: string }>): unknown {
  const message = err instanceof Error ? err.message : '';
  const found =
    /Error when converting column "c(\d+)"\. Could not convert string "((?:[^"]|"")*)" to '([^']+)'/.exec(
      message,
    );
  const column = found ? columns[Number(found[1])] : undefined;
  if (!found || !column) return err;
  const value = found[2]!.replace(/""/g, '"');
  const shown = value.length > 60 ? `${value.slice(0, 60)}…` : value;
  return new Error(
    `Conversion Error: could not convert ${JSON.stringify(shown)} in column ${column.name} to ${found[3]}`,
    { cause: err },
  );
}

export function readFile(spec: {
  path: string;
  format: 'csv' | 'parquet' | 'json' | 'ndjson';
  csv?: { delimiter?: string | undefined; header?: boolean | undefined; encoding?: string | undefined };
  columns?: Array<ColumnSpec & { key: string }>;
}): Statement {
  // Keys are c0..cN, generated by us; dates are read as timestamps and cast below.
  const declared = spec.columns
    ? `, columns = {${spec.columns.map((c) => `'${c.key}': '${c.type.kind === 'date' ? 'TIMESTAMP' : typeName(c.type)}'`).join(', ')}}`
    : '';
  switch (spec.format) {
    case 'parquet':
      return { sql: `SELECT * FROM read_parquet($1)`, params: [spec.path] };
    case 'json':
      return { sql: `SELECT * FROM read_json($1, format = 'array'${declared})`, params: [spec.path] };
    case 'ndjson':
      return {
        sql: `SELECT * FROM read_json($1, format = 'newline_delimited'${declared})`,
        params: [spec.path],
      };
    case 'csv': {
      const csv = spec.csv;
      const params: unknown[] = [spec.path];
      const opts: string[] = [];
      const add = (name: string, value: unknown) => {
        params.push(value);
        opts.push(`${name} = $${params.length}`);
      };
      if (csv?.delimiter !== undefined) add('delim', csv.delimiter);
      if (csv?.header !== undefined) add('header', csv.header);
      if (csv?.encoding !== undefined) add('encoding', csv.encoding);
      opts.push('strict_mode = true', 'sample_size = 20480');
      return { sql: `SELECT * FROM read_csv($1, ${opts.join(', ')})`, params };
    }
  }
}

/**
 * A CSV read with some columns kept as text: the sniffer's DOUBLE columns, whose values may all be fixed-point
 * numbers (money) that `decimalColumn` then makes exact. Names come from the file's header, quoted as literals.
 */
export function readCsvAsText(read: Statement, textColumns: string[]): Statement {
  const types = textColumns.map((c) => `${stringLiteral(c)}: 'VARCHAR'`).join(', ');
  return { sql: read.sql.replace(/\)$/, `, types = {${types}})`), params: read.params };
}

/** DuckDB's largest DECIMAL; money gets at least 18 digits, like DECIMAL(18,s) in most warehouses. */
const MAX_DECIMAL = 38;
const MIN_DECIMAL = 18;

/** Of a text column: values that are not plain fixed-point numbers, the most integer digits, the most decimals. */
export function fixedPointShape(ref: TableRef, column: string): string {
  const v = `trim(${ident(column)})`;
  return `SELECT count(*) FILTER (WHERE NOT regexp_full_match(${v}, '[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)')),
  coalesce(max(length(ltrim(split_part(ltrim(${v}, '+-'), '.', 1), '0'))), 0),
  coalesce(max(length(split_part(${v}, '.', 2))), 0)
  FROM ${tableName(ref)} WHERE ${ident(column)} IS NOT NULL`;
}

/**
 * The text column as DECIMAL when every value is fixed-point and fits 38 digits (lossless), else as DOUBLE,
 * which is what the sniffer chose.
 */
export function decimalColumn(
  ref: TableRef,
  column: string,
  shape: { other: number; integerDigits: number; scale: number },
): string {
  const digits = shape.integerDigits + shape.scale;
  const type =
    shape.other === 0 && digits <= MAX_DECIMAL
      ? `DECIMAL(${Math.min(MAX_DECIMAL, Math.max(MIN_DECIMAL, digits))}, ${shape.scale})`
      : 'DOUBLE';
  return `ALTER TABLE ${tableName(ref)} ALTER ${ident(column)} SET DATA TYPE ${type} USING CAST(trim(${ident(column)}) AS ${type})`;
}

/** Column names of a declared-type file read get their real names here (read_json maps by key). */
export function renameDeclared(columns: Array<ColumnSpec & { key: string }>): string {
  return columns
    .map(
      (c) => `${c.type.kind === 'date' ? `CAST(${ident(c.key)} AS DATE)` : ident(c.key)} AS ${ident(c.name)}`,
    )
    .join(', ');
}

export function dropObject(ref: TableRef, kind: 'table' | 'view'): string {
  return `DROP ${kind === 'view' ? 'VIEW' : 'TABLE'} ${tableName(ref)}`;
}

export function dropTableIfExists(ref: TableRef): string {
  return `DROP TABLE IF EXISTS ${tableName(ref)}`;
}

export const OBJECT_KIND = `SELECT 'table' FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = $1 AND table_name = $2
  UNION ALL SELECT 'view' FROM duckdb_views() WHERE database_name = current_database() AND schema_name = $1 AND view_name = $2`;

/** Staging tables left behind by processes that are gone. */
export const STAGING_TABLES = `SELECT schema_name, table_name FROM duckdb_tables()
  WHERE database_name = current_database() AND starts_with(table_name, '${'_stage_'}')`;

export function renameTable(from: TableRef, to: string): string {
  return `ALTER TABLE ${tableName(from)} RENAME TO ${ident(to)}`;
}

/** Merge the staged rows on the key columns: rows whose key exists are replaced, new keys are added. */
export function mergeFrom(
  target: TableRef,
  staging: TableRef,
  keys: string[],
  orderBy: string | undefined,
): string[] {
  const t = tableName(target);
  const match = keys.map((k) => `s.${ident(k)} IS NOT DISTINCT FROM t.${ident(k)}`).join(' AND ');
  return [
    `DELETE FROM ${t} AS t WHERE EXISTS (SELECT 1 FROM ${tableName(staging)} AS s WHERE ${match})`,
    `INSERT INTO ${t} SELECT * FROM ${tableName(staging)} ${render.firstPerKey(keys, orderBy, true)}`,
  ];
}

/** Tables and views of the layers, with their column counts, DuckDB's row estimate (made exact by `countRowsOf`), and the last load. */
export const LIST_TABLES = `
WITH objs AS (
  SELECT schema_name AS layer, table_name AS name, 'table' AS kind, estimated_size AS rows, column_count AS columns
  FROM duckdb_tables() WHERE database_name = current_database() AND schema_name IN ('bronze', 'silver', 'gold')
  UNION ALL
  SELECT v.schema_name, v.view_name, 'view', NULL, (SELECT count(*) FROM duckdb_columns() c
    WHERE c.database_name = v.database_name AND c.schema_name = v.schema_name AND c.table_name = v.view_name)
  FROM duckdb_views() v WHERE v.database_name = current_database() AND v.schema_name IN ('bronze', 'silver', 'gold')
), last_load AS (
  SELECT target_layer, target_name, max(finished_at) AS at FROM _meta.sync_runs WHERE status = 'succeeded' GROUP BY ALL
)
SELECT o.layer, o.name, o.kind, o.rows, o.columns, l.kind, l.inputs,
  strftime(coalesce(ll.at, l.recorded_at), '%Y-%m-%dT%H:%M:%SZ')
FROM objs o
LEFT JOIN _meta.lineage l ON l.target_layer = o.layer AND l.target_name = o.name
LEFT JOIN last_load ll ON ll.target_layer = o.layer AND ll.target_name = o.name
WHERE ($1 IS NULL OR o.layer = $1) AND NOT starts_with(o.name, '_stage_')
ORDER BY CASE o.layer WHEN 'bronze' THEN 1 WHEN 'silver' THEN 2 ELSE 3 END, o.name`;

export const COLUMNS_OF = `SELECT column_name, data_type, is_nullable, comment FROM duckdb_columns()
  WHERE database_name = current_database() AND schema_name = $1 AND table_name = $2 ORDER BY column_index`;

export const PARSE_TREE = `SELECT json_serialize_sql(CAST($1 AS VARCHAR))`;

/**
 * Exact row counts of several tables in one statement. DuckDB's `estimated_size` still counts row versions a
 * merge replaced; `count(*)` without a filter scans no column data, only row groups and delete markers
 * (8 ms warm for 4,000,000 rows).
 */
export function countRowsOf(refs: TableRef[]): string {
  return refs.map((r, i) => `SELECT ${i} AS i, count(*) AS n FROM ${tableName(r)}`).join('\nUNION ALL\n');
}

export function countRows(ref: TableRef): string {
  return `SELECT count(*) FROM ${tableName(ref)}`;
}

/** Null count, approximate distinct count, min and max per column, in one scan. */
export function profile(ref: TableRef, columns: Array<{ name: string; type: string }>): string {
  return render.profile(tableName(ref), columns);
}

export function topValues(ref: TableRef, column: string): string {
  return render.topValues(tableName(ref), column, '$1');
}

export function preview(ref: TableRef): string {
  return `SELECT * FROM ${tableName(ref)} LIMIT $1`;
}

export function maxOf(staging: TableRef, column: string): string {
  return `SELECT CAST(max(${ident(column)}) AS VARCHAR) FROM ${tableName(staging)}`;
}

/** Render a transform plan to one SELECT with bound parameters. */
export function renderTransform(plan: TransformPlan): Statement {
  return render.transform(tableName(plan.source), plan);
}

export function createTableAs(ref: TableRef, select: string): string {
  return `CREATE TABLE ${tableName(ref)} AS ${select}`;
}

export function createView(ref: TableRef, select: string): string {
  return `CREATE VIEW ${tableName(ref)} AS ${select}`;
}

/** A LIMIT over a rendered statement; the limit is bound after the statement's own parameters. */
export function previewSelect(statement: Statement, rows: number): Statement {
  return {
    sql: `SELECT * FROM (${statement.sql}) AS q LIMIT $${statement.params.length + 1}`,
    params: [...statement.params, rows],
  };
}

/**
 * DuckDB types for Parquet files another engine (Databricks) loads: types Spark has no column type for
 * (TIME, UUID, JSON, month-and-day INTERVAL) are written as their text.
 */
export function portableTypeName(type: LogicalType): string {
  return portable.type(type);
}

const portable = sqlRenderer({
  ...DUCKDB,
  types: {
    ...DUCKDB.types,
    time: 'VARCHAR',
    timetz: 'VARCHAR',
    interval: 'VARCHAR',
    uuid: 'VARCHAR',
    json: 'VARCHAR',
  },
});

function portableFromText(column: string, col: PartColumn): string {
  if (col.encoding === 'hex') return `unhex(${column})`;
  if (col.encoding === 'json')
    return col.type.kind === 'json'
      ? column
      : `CAST(CAST(${column} AS JSON) AS ${portableTypeName(col.type)})`;
  const target = portableTypeName(col.type);
  return target === 'VARCHAR' ? column : `CAST(${column} AS ${target})`;
}

/** A CSV part in the neutral layout → a Parquet file with the part's column names and portable types. */
export function csvPartToParquet(path: string, columns: PartColumn[], out: string): Statement {
  const select = columns.map((c, i) => `${portableFromText(`c${i}`, c)} AS ${ident(c.name)}`).join(', ');
  return {
    sql: `COPY (SELECT ${select} FROM ${readCsvPart(columns.map(() => 'VARCHAR'))}) TO ${stringLiteral(out)} (FORMAT parquet, COMPRESSION zstd)`,
    params: [path],
  };
}

/** A file read by `readFile` → a Parquet file, each column cast to its portable type. */
export function fileToParquet(
  read: Statement,
  columns: Array<{ name: string; type: LogicalType | undefined; as?: string }>,
  out: string,
): Statement {
  const select = columns
    .map(
      (c) =>
        `CAST(${ident(c.name)} AS ${c.type ? portableTypeName(c.type) : 'VARCHAR'}) AS ${ident(c.as ?? c.name)}`,
    )
    .join(', ');
  return {
    sql: `COPY (SELECT ${select} FROM (${read.sql})) TO ${stringLiteral(out)} (FORMAT parquet, COMPRESSION zstd)`,
    params: read.params,
  };
}

export function describeSelect(select: string): string {
  return `DESCRIBE ${select}`;
}

/** Rows of a Parquet file and the largest value of each column, as text (for watermarks). */
export function parquetStats(path: string, columns: string[]): Statement {
  const maxes = columns.map((c) => `CAST(max(${ident(c)}) AS VARCHAR)`);
  return { sql: `SELECT ${['count(*)', ...maxes].join(', ')} FROM read_parquet($1)`, params: [path] };
}

/** One scan for the schema analysis: per column exact distinct, quantiles, and text shapes; 10 values each. */
export function inspect(
  ref: TableRef,
  columns: Array<{ name: string; type: string }>,
  totalRows: number,
): Statement {
  const sample =
    totalRows > INSPECT_SAMPLE_ROWS
      ? ` USING SAMPLE reservoir(${INSPECT_SAMPLE_ROWS} ROWS) REPEATABLE (42)`
      : '';
  return {
    sql: render.inspect(`${tableName(ref)}${sample}`, columns),
    // A table without text columns has no $1/$2, and DuckDB refuses parameters a statement does not use.
    params: columns.some((c) => c.type === 'VARCHAR') ? [SHAPES.email, SHAPES.phone] : [],
  };
}
