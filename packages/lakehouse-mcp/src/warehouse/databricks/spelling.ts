/**
 * How Spark SQL on Databricks spells things: where a tenant's tables live (catalog or shared-catalog schemas),
 * quoting, literals, type names both ways and date patterns (the `SqlDialect` that sql-render.ts renders the
 * common SQL with). The statements themselves are in dialect.ts and meta-sql.ts.
 */
import { UserInputError } from '@switchyard/core';
import type { Layer, TableRef } from '../types.js';
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

export function int(n: number): string {
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

export function metaTable(n: Naming, name: string): string {
  return `${ident(n.catalog)}.${ident(n.schema('meta'))}.${ident(name)}`;
}

export function infoSchema(n: Naming, view: 'tables' | 'columns'): string {
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

/** The common SQL rendered in Spark's spelling. */
export const render = sqlRenderer(DATABRICKS);

/** Quoting, type names both ways, and drafted queries (tables as layer.table: the query path maps them to the tenant). */
export const { ident, type: typeName, logicalOf, draft: renderDraft } = render;

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
