/**
 * How DuckDB spells things: quoting, string literals, type names both ways and table names (the `SqlDialect`
 * that sql-render.ts renders the common SQL with). The statements themselves are in dialect.ts and meta-sql.ts.
 */
import type { TableRef } from '../types.js';
import { sqlRenderer, type SqlDialect } from '../sql-render.js';

const ORDERABLE =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|U\w*INT|FLOAT|DOUBLE|DECIMAL|DATE|TIME|TIMESTAMP|VARCHAR|UUID|BOOLEAN|INTERVAL)/;
const NUMERIC_TYPE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|U\w*INT|FLOAT|DOUBLE|DECIMAL)/;

/** DuckDB's spelling of the SQL rendered in common (sql-render.ts). */
export const DUCKDB: SqlDialect = {
  quote: '"',
  types: {
    boolean: 'BOOLEAN',
    int16: 'SMALLINT',
    int32: 'INTEGER',
    int64: 'BIGINT',
    float32: 'FLOAT',
    float64: 'DOUBLE',
    text: 'VARCHAR',
    date: 'DATE',
    time: 'TIME',
    timetz: 'TIMETZ',
    timestamp: 'TIMESTAMP',
    timestamptz: 'TIMESTAMPTZ',
    interval: 'INTERVAL',
    uuid: 'UUID',
    json: 'JSON',
    binary: 'BLOB',
  },
  list: (element) => `${element}[]`,
  text: 'VARCHAR',
  tryCast: 'TRY_CAST',
  startsWith: 'starts_with',
  placeholder: (n) => `$${n}`,
  anyOrder: '',
  int: (n) => String(Math.trunc(n)),
  parseDate: {
    pattern: (strftime) => strftime,
    call: (text, pattern, lenient) => `${lenient ? 'try_strptime' : 'strptime'}(${text}, ${pattern})`,
    timestamp: (parsed) => parsed,
  },
  engineType: {
    orderable: (type) => ORDERABLE.test(type) && !type.endsWith(']'),
    numeric: (type) => NUMERIC_TYPE.test(type),
    text: (type) => type === 'VARCHAR',
  },
  quantiles: (value, at) => `quantile_cont(${value}, [${at.join(', ')}])`,
  countMatching: (column, shape) =>
    `count(*) FILTER (WHERE regexp_matches(${column}, ${shape === 'email' ? '$1' : '$2'}))`,
  draft: { grain: (grain) => grain, today: 'current_date', unit: (unit) => unit.toUpperCase() },
  names: {
    normalize: (type) => type.toUpperCase().trim(),
    list: /^(.*)\[\]$/,
    kinds: {
      BOOLEAN: 'boolean',
      TINYINT: 'int16',
      SMALLINT: 'int16',
      INTEGER: 'int32',
      BIGINT: 'int64',
      HUGEINT: 'int64',
      FLOAT: 'float32',
      DOUBLE: 'float64',
      VARCHAR: 'text',
      DATE: 'date',
      TIME: 'time',
      'TIME WITH TIME ZONE': 'timetz',
      TIMETZ: 'timetz',
      TIMESTAMPTZ: 'timestamptz',
      TIMESTAMP: 'timestamp',
      // Second, millisecond and nanosecond precision (`timestamp(0)`, `timestamp(3)` from PostgreSQL, Parquet).
      TIMESTAMP_S: 'timestamp',
      TIMESTAMP_MS: 'timestamp',
      TIMESTAMP_NS: 'timestamp',
      TIMESTAMP_US: 'timestamp',
      DATETIME: 'timestamp',
      'TIMESTAMP WITH TIME ZONE': 'timestamptz',
      INTERVAL: 'interval',
      UUID: 'uuid',
      JSON: 'json',
      BLOB: 'binary',
    },
  },
};

/** The common SQL rendered in DuckDB's spelling. */
export const render = sqlRenderer(DUCKDB);

/** Quoting, type names both ways, and drafted queries (tables as layer.table), in this dialect. */
export const { ident, type: typeName, logicalOf, draft: renderDraft } = render;

export function tableName(ref: TableRef): string {
  return `${ident(ref.layer)}.${ident(ref.name)}`;
}

/** SET takes no parameters: the only text quoted in is a path this server made itself. */
export function stringLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
