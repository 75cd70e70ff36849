/**
 * The warehouse seen by the tools. Tools never touch a database engine: they speak in tables, logical
 * column types, transform plans and load records, and a warehouse (embedded DuckDB, or a Databricks SQL
 * warehouse) carries them out, rendering SQL through its own dialect (duckdb/dialect.ts, databricks/dialect.ts).
 */
import type { MetaStore } from './meta-store.js';
import { UserInputError } from '@switchyard/core';

export type Layer = 'bronze' | 'silver' | 'gold';
export const LAYERS: readonly Layer[] = ['bronze', 'silver', 'gold'];

/** Column types independent of any engine; each dialect names them in its own SQL. */
export type LogicalType =
  | {
      kind:
        | 'boolean'
        | 'int16'
        | 'int32'
        | 'int64'
        | 'float32'
        | 'float64'
        | 'text'
        | 'date'
        | 'time'
        | 'timetz'
        | 'timestamp'
        | 'timestamptz'
        | 'interval'
        | 'uuid'
        | 'json'
        | 'binary';
    }
  | { kind: 'decimal'; precision: number; scale: number }
  | { kind: 'list'; element: LogicalType };

export interface ColumnSpec {
  name: string;
  type: LogicalType;
  nullable: boolean;
  /** The name at the source when the bronze name differs (kept in the catalog as the column's comment). */
  original?: string | undefined;
}

/**
 * How a source writes a column into a CSV part: plain text the engine casts, hex for bytes, or a JSON
 * array for lists. Sources produce parts in this neutral layout so any warehouse can load them.
 */
export type TextEncoding = 'plain' | 'hex' | 'json';

export interface PartColumn extends ColumnSpec {
  encoding: TextEncoding;
}

export interface TableRef {
  layer: Layer;
  name: string;
}

export interface TableSummary {
  layer: Layer;
  name: string;
  kind: 'table' | 'view';
  rows: number | undefined;
  columns: number;
  source: string | undefined;
  lastLoadedAt: string | undefined;
}

export interface ColumnInfo {
  name: string;
  /** The engine's own type name, e.g. DECIMAL(12,2). */
  type: string;
  nullable: boolean;
  /** The name at the source (file header, PostgreSQL column) when it was normalised for bronze. */
  original?: string | undefined;
}

export interface ColumnProfile {
  name: string;
  type: string;
  nullable: boolean;
  nullShare: number | null;
  approxDistinct: number | null;
  min: string | null;
  max: string | null;
  /** Most frequent values of low-cardinality text columns, with their counts. */
  top: Array<{ value: string; count: number }> | undefined;
}

export interface QueryOptions {
  maxRows: number;
  maxBytes: number;
  timeoutMs: number;
  signal: AbortSignal;
  /** When set, every row (up to `spillMaxRows`) is also written to a CSV file in this folder. */
  spillDir?: string;
  spillMaxRows?: number;
}

export interface QueryResult {
  columns: ColumnInfo[];
  rows: unknown[][];
  /** Rows read before stopping: returned rows, plus one when more existed. */
  truncated: boolean;
  elapsedMs: number;
  spill?: { path: string; rows: number; bytes: number; complete: boolean };
}

/** A row filter: values are always bound parameters, never SQL text. */
export type FilterOperator =
  | 'eq'
  | 'ne'
  | 'lt'
  | 'le'
  | 'gt'
  | 'ge'
  | 'in'
  | 'not_in'
  | 'is_null'
  | 'not_null'
  | 'contains'
  | 'starts_with';

export type TransformStep =
  | { op: 'rename'; column: string; to: string }
  | { op: 'cast'; column: string; to: LogicalType }
  | { op: 'trim'; column: string }
  | { op: 'lower'; column: string }
  | { op: 'upper'; column: string }
  | { op: 'parse_date'; column: string; format: string; to: 'date' | 'timestamp' }
  | { op: 'parse_number'; column: string; decimal_separator: '.' | ','; to: LogicalType }
  | { op: 'fill_null'; column: string; value: string | number | boolean }
  | { op: 'drop_columns'; columns: string[] }
  | { op: 'filter_rows'; column: string; operator: FilterOperator; value?: unknown }
  | { op: 'deduplicate'; keys: string[]; order_by?: string; descending?: boolean };

/**
 * A validated transform: the source columns, and for each output column the expression that yields it,
 * as a small tree the dialect renders. Filters and dedup come after projection.
 */
export type Expr =
  | { kind: 'column'; name: string }
  | { kind: 'cast'; expr: Expr; to: LogicalType; lenient: boolean }
  | { kind: 'call'; fn: 'trim' | 'lower' | 'upper'; expr: Expr }
  | { kind: 'parse_date'; expr: Expr; format: string; to: 'date' | 'timestamp'; lenient: boolean }
  | { kind: 'parse_number'; expr: Expr; decimalSeparator: '.' | ','; to: LogicalType; lenient: boolean }
  | { kind: 'coalesce'; expr: Expr; value: string | number | boolean; valueType: LogicalType };

export interface PlanColumn {
  name: string;
  expr: Expr;
}

/** One stage over the previous stage's output (the source table for the first). */
export type PlanStage =
  | { kind: 'project'; columns: PlanColumn[] }
  | { kind: 'filter'; column: string; operator: FilterOperator; values: unknown[] }
  | { kind: 'dedup'; keys: string[]; orderBy: string | undefined; descending: boolean };

/** A validated transform: stages applied in order, each a plain SELECT over the one before. */
export interface TransformPlan {
  source: TableRef;
  target: TableRef;
  stages: PlanStage[];
}

/** SQL text plus its bound parameters, as a dialect renders a statement. */
export interface Statement {
  sql: string;
  params: unknown[];
}

export interface SyncRunRecord {
  runId: string;
  kind: 'sync' | 'upload';
  connection: string | undefined;
  source: string;
  target: TableRef;
  mode: 'full' | 'incremental';
  status: 'succeeded' | 'failed' | 'cancelled';
  startedAt: Date;
  finishedAt: Date;
  rows: number;
  bytes: number;
  watermark: string | undefined;
  error: string | undefined;
}

export interface SyncState {
  target: string;
  connection: string;
  source: string;
  cursorColumn: string;
  keyColumns: string[];
  watermark: string | null;
  /**
   * The source's snapshot (PostgreSQL `pg_current_snapshot()` text) the watermark was read in, where the warehouse
   * keeps it: the next run skips rows at the watermark that this snapshot already saw.
   */
  sourceSnapshot?: string | null;
}

export interface ConnectionRecord {
  name: string;
  kind: 'postgres';
  host: string;
  port: number;
  database: string;
  user: string;
  sslMode: 'disable' | 'prefer' | 'require' | 'verify-full';
  createdAt: string;
  updatedAt: string;
}

export interface LineageRecord {
  target: TableRef;
  kind: 'sync' | 'upload' | 'transform' | 'view';
  inputs: string[];
  definition: string;
}

/** What a commit writes together with the data, in the same transaction. */
export interface CommitRecords {
  run: SyncRunRecord;
  state?: SyncState;
  lineage: LineageRecord;
}

export interface FileSpec {
  path: string;
  format: 'csv' | 'parquet' | 'json' | 'ndjson';
  csv?: {
    delimiter?: string | undefined;
    header?: boolean | undefined;
    encoding?: 'utf-8' | 'utf-16' | 'latin-1' | undefined;
  };
  /** Declared columns (e.g. from a spreadsheet, read by `key`); otherwise the engine infers them. */
  columns?: Array<ColumnSpec & { key: string }>;
}

/** Takes a source's CSV bytes as they are read and loads them while more arrive (no part files on disk). */
export interface CsvFeed {
  /**
   * Queue bytes in the neutral layout; `rowEnd` is the offset just past the last complete row in `data` (-1: none).
   * Resolves when there is room for more (bounded), rejects once loading failed.
   */
  write(data: Buffer, rowEnd: number): Promise<void>;
  /** Every byte is given: resolves when all are loaded. */
  end(): Promise<void>;
  /** Stop loading at once (the load is then aborted by its owner). */
  destroy(reason?: Error): void;
}

/** A table being loaded: data goes to a staging area first and reaches the target only on commit. */
export interface StagedLoad {
  /** A private folder for this load's part files (removed with the load). */
  readonly workDir: string;
  /** Append one CSV part in the neutral layout of `columns` (no header, PostgreSQL CSV conventions). */
  appendCsvPart(path: string, columns: PartColumn[]): Promise<number>;
  /**
   * Where the warehouse can read a stream directly: a feed for CSV in the neutral layout of `columns`, loaded in
   * segments of about `segmentBytes`; `onLoaded` hears the rows staged so far after each segment.
   */
  feedCsv?(columns: PartColumn[], options: { segmentBytes: number; onLoaded(rows: number): void }): CsvFeed;
  /** Rows staged so far. */
  readonly rows: number;
  /** Append a whole file read by the engine; returns rows and the columns it found. */
  appendFile(spec: FileSpec): Promise<{ rows: number; columns: ColumnInfo[] }>;
  /** The largest value of a column in the staged rows, as text (the next watermark). */
  maxOf(column: string): Promise<string | null>;
  /**
   * Atomically replace the target (`replace`) or merge the staged rows into it on `keys` (`merge`), and
   * write the records, in one transaction. A failure leaves the target as it was.
   */
  commit(
    mode: 'replace' | 'merge',
    keys: string[],
    records: CommitRecords,
    signal: AbortSignal,
  ): Promise<{ rows: number }>;
  /** Throw the staged data away (idempotent). */
  abort(): Promise<void>;
}

/** What a bounded scan tells about a column beyond its profile (for the schema analysis). */
export interface ColumnInsight {
  name: string;
  /** Exact distinct values in the scanned rows (null for types that cannot be compared). */
  distinct: number | null;
  numeric?: {
    mean: number | null;
    stddev: number | null;
    p01: number | null;
    p25: number | null;
    p50: number | null;
    p75: number | null;
    p99: number | null;
  };
  /** Shares (0-1) of non-null text values that read as a number, a date, an e-mail, a phone number. */
  text?: { number: number; date: number; email: number; phone: number; avgLength: number | null };
}

/** A query drafted from a question, engine-neutral; each dialect renders it. */
export interface QueryDraft {
  table: TableRef;
  /** Plain columns when there is no aggregate. */
  columns: string[];
  measures: Array<{
    fn: 'count' | 'sum' | 'avg' | 'min' | 'max' | 'count_distinct';
    column?: string;
    as: string;
  }>;
  groups: Array<{ column: string; grain?: 'day' | 'week' | 'month' | 'quarter' | 'year'; as: string }>;
  since?: { column: string; amount: number; unit: 'day' | 'month' | 'year' };
  year?: { column: string; year: number };
  order?: { by: string; descending: boolean };
  limit: number;
}

/** Storage facts of a table where the engine keeps them (Delta's DESCRIBE DETAIL). */
export interface TableDetails {
  format: string;
  files: number | undefined;
  sizeBytes: number | undefined;
  lastModified: string | undefined;
}

/** What one scan of a table tells about its columns (`inspect`). */
export interface TableInsights {
  /** Rows scanned: all of them, or a sample of a large table. */
  scanned: number;
  sampled: boolean;
  columns: ColumnInsight[];
}

/** A read-only query planned without running it: its result columns and the tables it reads. */
export interface QueryPlan {
  columns: ColumnInfo[];
  tables: string[];
}

export interface TenantWarehouse {
  readonly tenant: string;
  /** The catalog the tenant's tables live in, e.g. `tenant_acme`. */
  readonly catalog: string;
  /** The SQL the tenant's queries are written in. */
  readonly dialect: SqlDialect;
  /** Where the tenant's data lives, in words (a file, a catalog), for `status`. */
  readonly location: string;
  /** A local folder for CSV files written by `query` with `spillDir`. */
  readonly spillDir: string;
  /** The engine's type name (e.g. DECIMAL(12,2), decimal(12,2)) as a logical type, where there is one. */
  logicalType(engineType: string): LogicalType | undefined;
  /** The engine's own reason for a failure, in one line (no stack, no secret). */
  engineMessage(err: unknown): string;
  /** Storage facts of a table, where the engine has them. */
  details(ref: TableRef): Promise<TableDetails | undefined>;
  /** One bounded scan (a sample above a size) for exact distinct counts, quantiles and text shapes. */
  inspect(ref: TableRef, columns: ColumnInfo[], signal: AbortSignal): Promise<TableInsights>;
  /** A drafted query as SQL text in this warehouse's dialect (tables written layer.table, as users write them). */
  renderDraft(draft: QueryDraft): string;

  listTables(layer?: Layer): Promise<TableSummary[]>;
  columnsOf(ref: TableRef): Promise<ColumnInfo[] | undefined>;
  rowCount(ref: TableRef): Promise<number>;
  profile(ref: TableRef, options: { topValues: number; signal: AbortSignal }): Promise<ColumnProfile[]>;
  preview(ref: TableRef, rows: number): Promise<QueryResult>;

  /** One read-only statement, hardened and bounded (the `lakehouse_query_sql` path). */
  query(sql: string, options: QueryOptions): Promise<QueryResult>;
  /**
   * Plan a read-only query without running it (the engine's planner: DuckDB's prepare, Databricks' EXPLAIN):
   * its result columns and the tables it reads, or why it is refused.
   */
  validateQuery(sql: string, signal?: AbortSignal): Promise<QueryPlan>;

  stage(target: TableRef, runId: string): Promise<StagedLoad>;
  /** The SQL a plan renders to (for dry runs), and a preview of its first rows. */
  renderTransform(plan: TransformPlan): Statement;
  previewTransform(plan: TransformPlan, rows: number): Promise<QueryResult>;
  runTransform(plan: TransformPlan, lineage: LineageRecord): Promise<{ rows: number }>;
  /** Checks the SELECT once (as validateQuery does), creates the view, records its lineage; returns the check. */
  createView(ref: TableRef, selectSql: string, replace: boolean): Promise<QueryPlan>;

  // The tenant's metadata (the `_meta` schema on DuckDB).
  /** Sources, sync state, runs and lineage (meta-store.ts). */
  readonly meta: MetaStore;
}

export type SqlDialect = 'duckdb' | 'databricks';

export interface Warehouse {
  readonly kind: SqlDialect;
  /** Where the data lives, in words, for `status`. */
  describe(): string;
  tenant(id: string): Promise<TenantWarehouse>;
  /** Whether the warehouse answers, and what it is, for `status` and the connection test (never hangs). */
  check(signal: AbortSignal): Promise<WarehouseCheck>;
  /** The tenants that exist, for listings. */
  tenants(): Promise<string[]>;
  close(): Promise<void>;
}

export interface WarehouseCheck {
  ok: boolean;
  /** One line per fact: reachable, state, user, catalogs. */
  lines: string[];
  state?: string | undefined;
  user?: string | undefined;
  catalogs?: string[] | undefined;
}

/** Text shapes the schema analysis counts (bound as parameters by each dialect). */
export const SHAPES = {
  email: '^[^@\\s]+@[^@\\s]+\\.[A-Za-z]{2,}$',
  phone: '^\\+?[0-9][0-9 ().-]{6,18}[0-9]$',
};

/** Above this many rows the schema analysis reads a sample. */
export const INSPECT_SAMPLE_ROWS = 200_000;

export const QUANTILES = [0.01, 0.25, 0.5, 0.75, 0.99] as const;

/** A tenant id names a folder or a catalog: 1-40 lowercase letters, digits or underscores. */
export const TENANT_ID = /^[a-z0-9][a-z0-9_]{0,39}$/;

export function checkTenantId(id: string): void {
  if (!TENANT_ID.test(id)) {
    throw new UserInputError(
      `'${id}' is not a valid tenant id: use 1-40 lowercase letters, digits or underscores, starting with a letter or digit`,
    );
  }
}
