/**
 * Every SQL statement the Databricks warehouse runs, in one place (Spark SQL on a Databricks SQL warehouse
 * with Unity Catalog). Identifiers are always quoted with backticks by `ident`; values are always bound as
 * named parameters (`:p1`, ...). The only literals are integers this server computed (LIMIT, TABLESAMPLE)
 * and volume paths it made itself from validated names (COPY INTO, PUT and read_files take no parameters).
 * The spelling (names, quoting, types) is spelling.ts; the `_meta` records' statements are meta-sql.ts; both are
 * re-exported here, so this module stays the one place the Databricks code takes its SQL from.
 */
import type { ColumnSpec, Layer, Statement, TableRef, TransformPlan } from '../types.js';
import { INSPECT_SAMPLE_ROWS, SHAPES } from '../types.js';
import {
  LANDING_VOLUME,
  ident,
  infoSchema,
  int,
  metaTable,
  pathLiteral,
  render,
  tableName,
  typeName,
  type NamedStatement,
  type Naming,
} from './spelling.js';

export * from './spelling.js';
export * from './meta-sql.js';

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
