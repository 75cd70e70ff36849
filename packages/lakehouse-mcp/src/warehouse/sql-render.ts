/**
 * The SQL every warehouse renders alike — types, the transform step, profile and inspect columns, drafted
 * queries — written once over a small dialect object that holds what the engines spell differently.
 * Each engine's dialect.ts keeps only what is its own (loading, metadata tables, catalogs).
 */
import type { Expr, FilterOperator, LogicalType, QueryDraft, Statement, TransformPlan } from './types.js';
import { QUANTILES } from './types.js';

export type ScalarKind = Exclude<LogicalType['kind'], 'decimal' | 'list'>;

export interface SqlDialect {
  /** The identifier quote; a quote inside a name is doubled. */
  quote: '"' | '`';
  /** The engine's column type of each scalar logical type. */
  types: Record<ScalarKind, string>;
  /** A list type around its element's type name. */
  list(element: string): string;
  /** The text type that values are cast to before string functions. */
  text: string;
  /** The lenient cast's spelling. */
  tryCast: string;
  startsWith: string;
  /** The n-th (1-based) bound parameter's placeholder. */
  placeholder(n: number): string;
  /** A window's ORDER BY when the rows need none (Spark requires one in row_number()). */
  anyOrder: string;
  /** An integer this server computed, spliced as a literal (LIMIT, INTERVAL, year). */
  int(n: number): string;
  parseDate: {
    /** A strftime pattern in the engine's own pattern language. */
    pattern(strftime: string): string;
    call(text: string, pattern: string, lenient: boolean): string;
    /** The parsed value as a timestamp without time zone. */
    timestamp(parsed: string): string;
  };
  /** Engine type names (as the catalog reports them) by what profile and inspect may compute over them. */
  engineType: {
    orderable(type: string): boolean;
    numeric(type: string): boolean;
    text(type: string): boolean;
  };
  /** Quantiles of a DOUBLE expression, as a list. */
  quantiles(value: string, at: readonly number[]): string;
  /** Rows whose column matches the bound email or phone shape. */
  countMatching(column: string, shape: 'email' | 'phone'): string;
  draft: { grain(grain: string): string; today: string; unit(unit: string): string };
  /** Reading the engine's type names back: how a name is normalized, how a list names its element, the scalars. */
  names: { normalize(type: string): string; list: RegExp; kinds: Record<string, ScalarKind> };
}

/** The rendering functions bound to one dialect, as each dialect file uses them. */
export function sqlRenderer(d: SqlDialect) {
  return {
    ident: (name: string) => quoteIdent(d, name),
    type: (type: LogicalType) => renderType(d, type),
    logicalOf: (engineType: string) => logicalFromName(d, engineType),
    transform: (source: string, plan: TransformPlan) => renderTransformPlan(d, source, plan),
    profile: (from: string, columns: EngineColumn[]) => profileSelect(d, from, columns),
    topValues: (from: string, column: string, limit: string) => topValuesSelect(d, from, column, limit),
    inspect: (from: string, columns: EngineColumn[]) => inspectSelect(d, from, columns),
    draft: (draft: QueryDraft) => renderQueryDraft(d, draft),
    firstPerKey: (keys: string[], orderBy: string | undefined, descending: boolean) =>
      firstPerKey(d, keys, orderBy, descending),
  };
}

function quoteIdent(d: SqlDialect, name: string): string {
  return `${d.quote}${name.split(d.quote).join(d.quote + d.quote)}${d.quote}`;
}

function renderType(d: SqlDialect, type: LogicalType): string {
  if (type.kind === 'decimal') return `DECIMAL(${type.precision},${type.scale})`;
  if (type.kind === 'list') return d.list(renderType(d, type.element));
  return d.types[type.kind];
}

/** An engine's type name as a logical type, where there is one. */
function logicalFromName(d: SqlDialect, engineType: string): LogicalType | undefined {
  const t = d.names.normalize(engineType);
  const decimal = /^decimal\((\d+),\s*(\d+)\)$/i.exec(t);
  if (decimal) return { kind: 'decimal', precision: Number(decimal[1]), scale: Number(decimal[2]) };
  const list = d.names.list.exec(t);
  if (list) {
    const element = logicalFromName(d, list[1]!);
    return element ? { kind: 'list', element } : undefined;
  }
  const kind = d.names.kinds[t];
  return kind ? { kind } : undefined;
}

/** A transform plan as one SELECT over `source` (a rendered table name), values bound in order. */
function renderTransformPlan(d: SqlDialect, source: string, plan: TransformPlan): Statement {
  const ident = (name: string) => quoteIdent(d, name);
  const type = (t: LogicalType) => renderType(d, t);
  const params: unknown[] = [];
  const bind = (value: unknown): string => {
    params.push(value);
    return d.placeholder(params.length);
  };
  const expr = (e: Expr): string => {
    switch (e.kind) {
      case 'column':
        return ident(e.name);
      case 'cast':
        return `${e.lenient ? d.tryCast : 'CAST'}(${expr(e.expr)} AS ${type(e.to)})`;
      case 'call':
        return `${e.fn}(${expr(e.expr)})`;
      case 'parse_date': {
        const text = `CAST(${expr(e.expr)} AS ${d.text})`;
        const parsed = d.parseDate.call(text, bind(d.parseDate.pattern(e.format)), e.lenient);
        return e.to === 'date' ? `CAST(${parsed} AS DATE)` : d.parseDate.timestamp(parsed);
      }
      case 'parse_number': {
        const text = `CAST(${expr(e.expr)} AS ${d.text})`;
        // Thousands separators and spaces out, the decimal separator normalized to '.'.
        const normalized =
          e.decimalSeparator === ','
            ? `replace(replace(replace(${text}, ' ', ''), '.', ''), ',', '.')`
            : `replace(replace(${text}, ' ', ''), ',', '')`;
        return `${e.lenient ? d.tryCast : 'CAST'}(${normalized} AS ${type(e.to)})`;
      }
      case 'coalesce':
        return `coalesce(${expr(e.expr)}, CAST(${bind(e.value)} AS ${type(e.valueType)}))`;
    }
  };
  let text = `SELECT * FROM ${source}`;
  plan.stages.forEach((stage, i) => {
    const from = `(${text}) AS s${i + 1}`;
    if (stage.kind === 'project') {
      text = `SELECT ${stage.columns.map((c) => `${expr(c.expr)} AS ${ident(c.name)}`).join(', ')} FROM ${from}`;
    } else if (stage.kind === 'filter') {
      text = `SELECT * FROM ${from} WHERE ${filter(d, stage.column, stage.operator, stage.values, bind)}`;
    } else {
      text = `SELECT * FROM ${from} ${firstPerKey(d, stage.keys, stage.orderBy, stage.descending)}`;
    }
  });
  return { sql: text, params };
}

/** Keeps one row per key: the first by `orderBy` (nulls last) when there is one, else any. */
function firstPerKey(
  d: SqlDialect,
  keys: string[],
  orderBy: string | undefined,
  descending: boolean,
): string {
  const ident = (name: string) => quoteIdent(d, name);
  const order = orderBy
    ? ` ORDER BY ${ident(orderBy)} ${descending ? 'DESC' : 'ASC'} NULLS LAST`
    : d.anyOrder;
  return `QUALIFY row_number() OVER (PARTITION BY ${keys.map(ident).join(', ')}${order}) = 1`;
}

function filter(
  d: SqlDialect,
  column: string,
  op: FilterOperator,
  values: unknown[],
  bind: (v: unknown) => string,
): string {
  const col = quoteIdent(d, column);
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
      return `contains(CAST(${col} AS ${d.text}), ${bind(values[0])})`;
    case 'starts_with':
      return `${d.startsWith}(CAST(${col} AS ${d.text}), ${bind(values[0])})`;
    default: {
      const sym = { eq: '=', ne: '<>', lt: '<', le: '<=', gt: '>', ge: '>=' }[op];
      return `${col} ${sym} ${bind(values[0])}`;
    }
  }
}

type EngineColumn = { name: string; type: string };

/** Null count, approximate distinct count, min and max per column, in one scan of `from`. */
function profileSelect(d: SqlDialect, from: string, columns: EngineColumn[]): string {
  const parts = ['count(*)'];
  for (const c of columns) {
    const col = quoteIdent(d, c.name);
    const scalar = d.engineType.orderable(c.type);
    parts.push(`count(*) - count(${col})`);
    parts.push(scalar ? `approx_count_distinct(${col})` : 'NULL');
    parts.push(scalar ? `CAST(min(${col}) AS ${d.text})` : 'NULL');
    parts.push(scalar ? `CAST(max(${col}) AS ${d.text})` : 'NULL');
  }
  return `SELECT ${parts.join(', ')} FROM ${from}`;
}

function topValuesSelect(d: SqlDialect, from: string, column: string, limit: string): string {
  const col = quoteIdent(d, column);
  return `SELECT CAST(${col} AS ${d.text}) AS v, count(*) AS n FROM ${from} WHERE ${col} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ${limit}`;
}

/** The schema analysis in one scan of `from`: per column exact distinct, quantiles, and text shapes. */
function inspectSelect(d: SqlDialect, from: string, columns: EngineColumn[]): string {
  const parts = ['count(*)'];
  for (const c of columns) {
    const col = quoteIdent(d, c.name);
    const scalar = d.engineType.orderable(c.type);
    const numeric = d.engineType.numeric(c.type);
    const text = d.engineType.text(c.type);
    const v = `CAST(${col} AS DOUBLE)`;
    parts.push(`count(${col})`, scalar ? `count(DISTINCT ${col})` : 'NULL');
    parts.push(numeric ? `avg(${v})` : 'NULL', numeric ? `stddev_samp(${v})` : 'NULL');
    parts.push(numeric ? d.quantiles(v, QUANTILES) : 'NULL');
    parts.push(text ? `count(${d.tryCast}(${col} AS DOUBLE))` : 'NULL');
    parts.push(text ? `count(${d.tryCast}(${col} AS TIMESTAMP))` : 'NULL');
    parts.push(text ? d.countMatching(col, 'email') : 'NULL');
    parts.push(text ? d.countMatching(col, 'phone') : 'NULL');
    parts.push(text ? `avg(length(${col}))` : 'NULL');
  }
  return `SELECT ${parts.join(', ')} FROM ${from}`;
}

/** A drafted query, tables as layer.table. */
function renderQueryDraft(d: SqlDialect, draft: QueryDraft): string {
  const ident = (name: string) => quoteIdent(d, name);
  const select: string[] = [];
  for (const g of draft.groups) {
    select.push(
      g.grain
        ? `date_trunc('${d.draft.grain(g.grain)}', ${ident(g.column)}) AS ${ident(g.as)}`
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
      `${ident(draft.since.column)} >= ${d.draft.today} - INTERVAL ${d.int(draft.since.amount)} ${d.draft.unit(draft.since.unit)}`,
    );
  }
  if (draft.year) where.push(`year(${ident(draft.year.column)}) = ${d.int(draft.year.year)}`);
  let sql = `SELECT ${select.join(', ')}\nFROM ${ident(draft.table.layer)}.${ident(draft.table.name)}`;
  if (where.length) sql += `\nWHERE ${where.join(' AND ')}`;
  if (draft.groups.length && draft.measures.length) sql += '\nGROUP BY ALL';
  if (draft.order) sql += `\nORDER BY ${ident(draft.order.by)} ${draft.order.descending ? 'DESC' : 'ASC'}`;
  return `${sql}\nLIMIT ${d.int(draft.limit)}`;
}
