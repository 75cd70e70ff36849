/**
 * The DAX the fake Power BI understands — a small, documented subset, evaluated for real over the fake
 * model (no canned answers):
 *
 *   query        EVALUATE <table> [ORDER BY <scalar> [ASC|DESC], ...]        (no DEFINE, one table)
 *   <table>      'Table' | Table | TOPN(n, <table> [, <scalar> [, ASC|DESC]]) | FILTER(<table>, <scalar>)
 *                | SUMMARIZECOLUMNS(Table[Col]..., [<filter table>...], "Name", <scalar>, ...)
 *                | ROW("Name", <scalar>, ...) | VALUES(Table[Col])
 *                | INFO.VIEW.TABLES() | INFO.VIEW.COLUMNS() | INFO.VIEW.MEASURES() | INFO.VIEW.RELATIONSHIPS()
 *                | COLUMNSTATISTICS()
 *   <scalar>     numbers, "strings", Table[Col] (row context), [Measure] (context transition from a
 *                row of a table), + - * / &, = <> < > <= >= (strings compare case-insensitively), && ||,
 *                SUM AVERAGE MIN MAX COUNT DISTINCTCOUNT (a column), COUNTROWS (a table), DIVIDE,
 *                DATE, YEAR, MONTH, ROUND, ABS, BLANK, TRUE, FALSE
 *
 * Filter context is the set of fact-table rows; dimension columns are reached through the model's
 * relationships. TOPN returns exactly n rows (no ties), SUMMARIZECOLUMNS drops rows whose measures are
 * all blank and sorts by its group columns. Errors carry the line and column of the offending token and
 * Analysis Services' wording, as `Query (line, col) message`.
 */
import type { Cell, ModelTable, Row, SemanticModel } from './model.js';

export class DaxError extends Error {
  constructor(
    readonly detail: string,
    readonly line: number,
    readonly column: number,
    readonly errorCode = '3241803780',
  ) {
    super(`Query (${line}, ${column}) ${detail}`);
  }
}

interface Token {
  kind: 'ident' | 'table' | 'column' | 'string' | 'number' | 'op' | 'eof';
  value: string;
  line: number;
  col: number;
}

type Node =
  | { k: 'num'; v: number; t: Token }
  | { k: 'str'; v: string; t: Token }
  | { k: 'col'; table: string; column: string; t: Token }
  | { k: 'ref'; name: string; t: Token }
  | { k: 'tab'; name: string; t: Token }
  | { k: 'kw'; v: 'ASC' | 'DESC'; t: Token }
  | { k: 'call'; name: string; args: Node[]; t: Token }
  | { k: 'bin'; op: string; l: Node; r: Node; t: Token }
  | { k: 'neg'; e: Node; t: Token };

const OPS = ['<=', '>=', '<>', '&&', '||', '==', '=', '<', '>', '+', '-', '*', '/', '(', ')', ',', '&'];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const at = (): Pick<Token, 'line' | 'col'> => ({ line, col: i - lineStart + 1 });
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if ((c === '/' && text[i + 1] === '/') || (c === '-' && text[i + 1] === '-')) {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? text.length : end + 2;
      for (; i < stop; i++) {
        if (text[i] === '\n') {
          line++;
          lineStart = i + 1;
        }
      }
      continue;
    }
    const pos = at();
    const quoted = (open: string, close: string, kind: Token['kind']) => {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new DaxError(`The syntax for '${open}' is incorrect.`, pos.line, pos.col);
        if (text[i] === close) {
          if (text[i + 1] === close) {
            value += close;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i++];
      }
      tokens.push({ kind, value, ...pos });
    };
    if (c === "'") {
      quoted("'", "'", 'table');
      continue;
    }
    if (c === '[') {
      quoted('[', ']', 'column');
      continue;
    }
    if (c === '"') {
      quoted('"', '"', 'string');
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = /^[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?/.exec(text.slice(i))!;
      tokens.push({ kind: 'number', value: m[0], ...pos });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(i))!;
      tokens.push({ kind: 'ident', value: m[0], ...pos });
      i += m[0].length;
      continue;
    }
    const op = OPS.find((o) => text.startsWith(o, i));
    if (!op) throw new DaxError(`The syntax for '${c}' is incorrect.`, pos.line, pos.col);
    tokens.push({ kind: 'op', value: op, ...pos });
    i += op.length;
  }
  tokens.push({ kind: 'eof', value: '', ...at() });
  return tokens;
}

interface OrderItem {
  expr: Node;
  desc: boolean;
}

interface Query {
  table: Node;
  orderBy: OrderItem[];
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)]!;
  }
  private next(): Token {
    return this.tokens[this.pos++] ?? this.tokens[this.tokens.length - 1]!;
  }
  private fail(t: Token): never {
    const shown = t.kind === 'eof' ? 'end of query' : t.kind === 'string' ? `"${t.value}"` : t.value;
    throw new DaxError(`The syntax for '${shown}' is incorrect.`, t.line, t.col);
  }
  private isWord(t: Token, word: string): boolean {
    return t.kind === 'ident' && t.value.toUpperCase() === word;
  }
  private expect(op: string): Token {
    const t = this.next();
    if (t.kind !== 'op' || t.value !== op) this.fail(t);
    return t;
  }

  query(): Query {
    const first = this.next();
    if (!this.isWord(first, 'EVALUATE')) this.fail(first);
    const table = this.expr();
    const orderBy: OrderItem[] = [];
    if (this.isWord(this.peek(), 'ORDER')) {
      this.next();
      const by = this.next();
      if (!this.isWord(by, 'BY')) this.fail(by);
      do {
        if (orderBy.length > 0) this.next();
        const expr = this.expr();
        let desc = false;
        if (this.isWord(this.peek(), 'DESC') || this.isWord(this.peek(), 'ASC'))
          desc = this.next().value.toUpperCase() === 'DESC';
        orderBy.push({ expr, desc });
      } while (this.peek().kind === 'op' && this.peek().value === ',');
    }
    if (this.peek().kind !== 'eof') this.fail(this.peek());
    return { table, orderBy };
  }

  private expr(): Node {
    return this.binary(0);
  }

  private static readonly LEVELS = [
    ['||'],
    ['&&'],
    ['=', '==', '<>', '<', '>', '<=', '>='],
    ['&'],
    ['+', '-'],
    ['*', '/'],
  ];

  private binary(level: number): Node {
    if (level >= Parser.LEVELS.length) return this.unary();
    let left = this.binary(level + 1);
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op' || !Parser.LEVELS[level]!.includes(t.value)) return left;
      this.next();
      left = { k: 'bin', op: t.value, l: left, r: this.binary(level + 1), t };
    }
  }

  private unary(): Node {
    const t = this.peek();
    if (t.kind === 'op' && t.value === '-') {
      this.next();
      return { k: 'neg', e: this.unary(), t };
    }
    return this.primary();
  }

  private primary(): Node {
    const t = this.next();
    switch (t.kind) {
      case 'number':
        return { k: 'num', v: Number(t.value), t };
      case 'string':
        return { k: 'str', v: t.value, t };
      case 'column':
        return { k: 'ref', name: t.value, t };
      case 'table':
        if (this.peek().kind === 'column') return { k: 'col', table: t.value, column: this.next().value, t };
        return { k: 'tab', name: t.value, t };
      case 'ident': {
        const upper = t.value.toUpperCase();
        if (this.peek().kind === 'op' && this.peek().value === '(') {
          this.next();
          const args: Node[] = [];
          if (!(this.peek().kind === 'op' && this.peek().value === ')')) {
            for (;;) {
              args.push(this.expr());
              const sep = this.next();
              if (sep.kind === 'op' && sep.value === ')') break;
              if (sep.kind !== 'op' || sep.value !== ',') this.fail(sep);
            }
          } else this.next();
          return { k: 'call', name: upper, args, t };
        }
        if (this.peek().kind === 'column') return { k: 'col', table: t.value, column: this.next().value, t };
        if (upper === 'ASC' || upper === 'DESC') return { k: 'kw', v: upper, t };
        if (['EVALUATE', 'ORDER', 'BY', 'DEFINE', 'VAR', 'RETURN', 'MEASURE'].includes(upper)) this.fail(t);
        return { k: 'tab', name: t.value, t };
      }
      case 'op':
        if (t.value === '(') {
          const inner = this.expr();
          this.expect(')');
          return inner;
        }
        return this.fail(t);
      default:
        return this.fail(t);
    }
  }
}

interface TRow {
  v: Record<string, Cell>;
  /** The model row behind a row of a base table (for relationships and context transition). */
  src?: { table: ModelTable; row: Row };
}

interface TVal {
  columns: string[];
  rows: TRow[];
}

interface Ctx {
  row?: TRow;
  facts: Row[];
}

export interface EvaluateOptions {
  /** Leave measure expressions blank in INFO.VIEW.MEASURES() (callers without write permission). */
  hideMeasureExpressions?: boolean;
  /** Refuse the INFO.VIEW functions (to exercise the COLUMNSTATISTICS() fallback). */
  refuseInfoView?: boolean;
}

export interface QueryOutput {
  columns: string[];
  rows: Array<Record<string, Cell>>;
}

const ROW_NUMBER = 'RowNumber-2662979B-1795-4F74-8F37-6A1BA8059B61';
const TABLE_FUNCTIONS = new Set(['TOPN', 'FILTER', 'SUMMARIZECOLUMNS', 'ROW', 'VALUES']);
const SCALAR_FUNCTIONS = new Set([
  'SUM',
  'AVERAGE',
  'MIN',
  'MAX',
  'COUNT',
  'DISTINCTCOUNT',
  'COUNTROWS',
  'DIVIDE',
  'DATE',
  'YEAR',
  'MONTH',
  'ROUND',
  'ABS',
  'BLANK',
  'TRUE',
  'FALSE',
]);

/** Parse and run one query over the model. */
export function evaluate(model: SemanticModel, query: string, options: EvaluateOptions = {}): QueryOutput {
  const parsed = new Parser(tokenize(query)).query();
  const engine = new Engine(model, options);
  const fact = engine.table(model.factTable, parsed.table.t);
  const result = engine.table$(parsed.table, { facts: fact.rows });
  if (parsed.orderBy.length > 0) {
    const keys = result.rows.map((row) =>
      parsed.orderBy.map((o) => engine.scalar(o.expr, { row, facts: fact.rows })),
    );
    const order = result.rows.map((_, i) => i);
    order.sort((a, b) => {
      for (let j = 0; j < parsed.orderBy.length; j++) {
        const c = compare(keys[a]![j]!, keys[b]![j]!);
        if (c !== 0) return parsed.orderBy[j]!.desc ? -c : c;
      }
      return a - b;
    });
    result.rows = order.map((i) => result.rows[i]!);
  }
  return { columns: result.columns, rows: result.rows.map((r) => r.v) };
}

function compare(a: Cell, b: Cell): number {
  if (a === b) return 0;
  if (a === null) return typeof b === 'string' ? compare('', b) : compare(0, b);
  if (b === null) return -compare(b, a);
  if (typeof a === 'string' && typeof b === 'string') {
    const x = a.toLowerCase();
    const y = b.toLowerCase();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = Number(a);
  const y = Number(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

const truthy = (v: Cell) => v !== null && v !== false && v !== 0 && v !== '';

class Engine {
  private readonly indexes = new Map<string, Map<Cell, Row>>();

  constructor(
    private readonly model: SemanticModel,
    private readonly options: EvaluateOptions,
  ) {}

  table(name: string, t: Token): ModelTable {
    const table = this.model.tables.find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (!table) throw new DaxError(`The table '${name}' cannot be found.`, t.line, t.col);
    return table;
  }

  private column(tableName: string, columnName: string, t: Token) {
    const table = this.table(tableName, t);
    const column = table.columns.find((c) => c.name.toLowerCase() === columnName.toLowerCase());
    if (!column) {
      throw new DaxError(
        `Column '${columnName}' in table '${table.name}' cannot be found or may not be used in this expression.`,
        t.line,
        t.col,
      );
    }
    return { table, column, key: `${table.name}[${column.name}]` };
  }

  private baseRows(table: ModelTable, ctx: Ctx): TRow[] {
    const fact = this.model.factTable;
    let rows: Row[];
    if (table.name === fact) rows = ctx.facts;
    else {
      const all = this.table(fact, { kind: 'eof', value: '', line: 1, col: 1 }).rows;
      if (ctx.facts.length === all.length) rows = table.rows;
      else {
        const related = new Set(ctx.facts.map((f) => this.related(f, table)));
        rows = table.rows.filter((r) => related.has(r));
      }
    }
    return rows.map((row) => ({
      v: Object.fromEntries(table.columns.map((c) => [`${table.name}[${c.name}]`, row[c.name] ?? null])),
      src: { table, row },
    }));
  }

  /** The row of a dimension table a fact row points at. */
  private related(fact: Row, dim: ModelTable): Row | undefined {
    const rel = this.model.relationships.find(
      (r) => r.fromTable === this.model.factTable && r.toTable === dim.name,
    );
    if (!rel) return undefined;
    let index = this.indexes.get(dim.name);
    if (!index) {
      index = new Map(dim.rows.map((r) => [r[rel.toColumn] ?? null, r]));
      this.indexes.set(dim.name, index);
    }
    return index.get(fact[rel.fromColumn] ?? null);
  }

  /** A column's value for a fact row: its own, or through a relationship. */
  private valueFor(fact: Row, table: ModelTable, column: string): Cell {
    if (table.name === this.model.factTable) return fact[column] ?? null;
    return this.related(fact, table)?.[column] ?? null;
  }

  table$(node: Node, ctx: Ctx): TVal {
    if (node.k === 'tab') {
      const table = this.table(node.name, node.t);
      return {
        columns: table.columns.map((c) => `${table.name}[${c.name}]`),
        rows: this.baseRows(table, ctx),
      };
    }
    if (node.k !== 'call') {
      throw new DaxError(
        'The expression specified in the query is not a valid table expression.',
        node.t.line,
        node.t.col,
      );
    }
    const { name, args, t } = node;
    const need = (n: number) => {
      if (args.length < n)
        throw new DaxError(
          `Too few arguments were passed to the ${name} function. The minimum argument count for the function is ${n}.`,
          t.line,
          t.col,
        );
    };
    if (name.startsWith('INFO.VIEW.')) {
      if (this.options.refuseInfoView)
        throw new DaxError(
          `The user does not have permission to call the ${name} function.`,
          t.line,
          t.col,
          '3238002695',
        );
      return this.info(name, t);
    }
    if (name.startsWith('INFO.')) {
      throw new DaxError(
        `The user does not have permission to call the ${name} function; it requires write permission on the model.`,
        t.line,
        t.col,
        '3238002695',
      );
    }
    switch (name) {
      case 'COLUMNSTATISTICS':
        return this.columnStatistics();
      case 'FILTER': {
        need(2);
        const source = this.table$(args[0]!, ctx);
        return {
          columns: source.columns,
          rows: source.rows.filter((row) => truthy(this.scalar(args[1]!, { row, facts: ctx.facts }))),
        };
      }
      case 'TOPN': {
        need(2);
        const n = Number(this.scalar(args[0]!, ctx));
        const source = this.table$(args[1]!, ctx);
        let rows = source.rows;
        if (args[2]) {
          const desc = !(
            args[3] &&
            ((args[3].k === 'kw' && args[3].v === 'ASC') || (args[3].k === 'num' && args[3].v === 1))
          );
          const keyed = rows.map((row, i) => ({
            row,
            i,
            key: this.scalar(args[2]!, { row, facts: ctx.facts }),
          }));
          keyed.sort((a, b) => (desc ? compare(b.key, a.key) : compare(a.key, b.key)) || a.i - b.i);
          rows = keyed.map((k) => k.row);
        }
        return { columns: source.columns, rows: rows.slice(0, Math.max(0, Math.floor(n))) };
      }
      case 'ROW': {
        const columns: string[] = [];
        const v: Record<string, Cell> = {};
        for (let i = 0; i < args.length; i += 2) {
          const label = args[i]!;
          if (label.k !== 'str' || !args[i + 1])
            throw new DaxError(
              'The ROW function expects pairs of a name and an expression.',
              label.t.line,
              label.t.col,
            );
          columns.push(`[${label.v}]`);
          v[`[${label.v}]`] = this.scalar(args[i + 1]!, ctx);
        }
        return { columns, rows: [{ v }] };
      }
      case 'VALUES': {
        need(1);
        const col = args[0]!;
        if (col.k !== 'col')
          throw new DaxError('The VALUES function expects a column reference.', col.t.line, col.t.col);
        const { table, key } = this.column(col.table, col.column, col.t);
        const seen = new Map<string, Cell>();
        for (const r of this.baseRows(table, ctx))
          seen.set(JSON.stringify(r.v[key] ?? null), r.v[key] ?? null);
        return {
          columns: [key],
          rows: [...seen.values()].sort(compare).map((value) => ({ v: { [key]: value } })),
        };
      }
      case 'SUMMARIZECOLUMNS':
        return this.summarize(args, ctx);
      default:
        if (SCALAR_FUNCTIONS.has(name))
          throw new DaxError(
            'The expression specified in the query is not a valid table expression.',
            t.line,
            t.col,
          );
        throw new DaxError(
          `Failed to resolve name '${name}'. It is not a valid table, variable, or function name.`,
          t.line,
          t.col,
        );
    }
  }

  private summarize(args: Node[], ctx: Ctx): TVal {
    const groups: Array<{ table: ModelTable; column: string; key: string }> = [];
    const measures: Array<{ key: string; expr: Node }> = [];
    let facts = ctx.facts;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a.k === 'col' && measures.length === 0) {
        const { table, column, key } = this.column(a.table, a.column, a.t);
        groups.push({ table, column: column.name, key });
      } else if (a.k === 'str') {
        const expr = args[++i];
        if (!expr) throw new DaxError(`The syntax for '"${a.v}"' is incorrect.`, a.t.line, a.t.col);
        measures.push({ key: `[${a.v}]`, expr });
      } else if (measures.length === 0 && (a.k === 'call' || a.k === 'tab')) {
        facts = this.applyFilter(facts, this.table$(a, ctx));
      } else {
        throw new DaxError(
          'SUMMARIZECOLUMNS expects group-by columns, filter tables, then name and expression pairs.',
          a.t.line,
          a.t.col,
        );
      }
    }
    const buckets = new Map<string, { values: Cell[]; facts: Row[] }>();
    for (const f of facts) {
      const values = groups.map((g) => this.valueFor(f, g.table, g.column));
      const id = JSON.stringify(values);
      let bucket = buckets.get(id);
      if (!bucket) buckets.set(id, (bucket = { values, facts: [] }));
      bucket.facts.push(f);
    }
    if (groups.length === 0) buckets.set('[]', { values: [], facts });
    const out: Array<{ v: Record<string, Cell>; values: Cell[] }> = [];
    for (const bucket of buckets.values()) {
      const v: Record<string, Cell> = {};
      groups.forEach((g, j) => (v[g.key] = bucket.values[j] ?? null));
      const computed = measures.map((m) => this.scalar(m.expr, { facts: bucket.facts }));
      if (measures.length > 0 && computed.every((c) => c === null)) continue;
      measures.forEach((m, j) => (v[m.key] = computed[j] ?? null));
      out.push({ v, values: bucket.values });
    }
    out.sort((a, b) => {
      for (let j = 0; j < a.values.length; j++) {
        const c = compare(a.values[j]!, b.values[j]!);
        if (c !== 0) return c;
      }
      return 0;
    });
    return {
      columns: [...groups.map((g) => g.key), ...measures.map((m) => m.key)],
      rows: out.map((r) => ({ v: r.v })),
    };
  }

  /** Narrow the fact rows to those a filter table allows (by its base rows, or by its column values). */
  private applyFilter(facts: Row[], filter: TVal): Row[] {
    const withSource = filter.rows.filter((r) => r.src);
    if (withSource.length === filter.rows.length && filter.rows.length > 0) {
      const table = withSource[0]!.src!.table;
      const allowed = new Set(withSource.map((r) => r.src!.row));
      return table.name === this.model.factTable
        ? facts.filter((f) => allowed.has(f))
        : facts.filter((f) => allowed.has(this.related(f, table)!));
    }
    let out = facts;
    for (const key of filter.columns) {
      const m = /^(.*)\[(.*)\]$/.exec(key);
      const table = m && this.model.tables.find((t) => t.name === m[1]);
      if (!table) continue;
      const allowed = new Set(filter.rows.map((r) => r.v[key] ?? null));
      out = out.filter((f) => allowed.has(this.valueFor(f, table, m[2]!)));
    }
    return out;
  }

  scalar(node: Node, ctx: Ctx): Cell {
    switch (node.k) {
      case 'num':
        return node.v;
      case 'str':
        return node.v;
      case 'kw':
        throw new DaxError(`The syntax for '${node.v}' is incorrect.`, node.t.line, node.t.col);
      case 'neg': {
        const v = this.scalar(node.e, ctx);
        return v === null ? null : -Number(v);
      }
      case 'col': {
        const { table, column, key } = this.column(node.table, node.column, node.t);
        if (ctx.row && key in ctx.row.v) return ctx.row.v[key] ?? null;
        throw new DaxError(
          `A single value for column '${column.name}' in table '${table.name}' cannot be determined. This can happen when a measure formula refers to a column that contains many values without specifying an aggregation such as min, max, count, or sum to get a single result.`,
          node.t.line,
          node.t.col,
        );
      }
      case 'ref': {
        const key = `[${node.name}]`;
        if (ctx.row && key in ctx.row.v) return ctx.row.v[key] ?? null;
        const measure = this.model.measures.find((m) => m.name.toLowerCase() === node.name.toLowerCase());
        if (!measure) {
          throw new DaxError(
            `The value for '${node.name}' cannot be determined. Either the column doesn't exist, or there is no current row for this column.`,
            node.t.line,
            node.t.col,
          );
        }
        return this.scalar(new Parser(tokenize(`EVALUATE ${measure.expression}`)).query().table, {
          facts: this.transition(ctx),
        });
      }
      case 'tab':
        throw new DaxError(
          `The table '${node.name}' cannot be used as a scalar value here.`,
          node.t.line,
          node.t.col,
        );
      case 'bin':
        return this.binary(node, ctx);
      case 'call':
        return this.call(node, ctx);
    }
  }

  /** A measure evaluated in a row context sees only the facts of that row (context transition). */
  private transition(ctx: Ctx): Row[] {
    const src = ctx.row?.src;
    if (!src) return ctx.facts;
    if (src.table.name === this.model.factTable) return ctx.facts.filter((f) => f === src.row);
    return ctx.facts.filter((f) => this.related(f, src.table) === src.row);
  }

  private binary(node: Extract<Node, { k: 'bin' }>, ctx: Ctx): Cell {
    const op = node.op;
    if (op === '&&') return truthy(this.scalar(node.l, ctx)) && truthy(this.scalar(node.r, ctx));
    if (op === '||') return truthy(this.scalar(node.l, ctx)) || truthy(this.scalar(node.r, ctx));
    const a = this.scalar(node.l, ctx);
    const b = this.scalar(node.r, ctx);
    switch (op) {
      case '&':
        return `${a ?? ''}${b ?? ''}`;
      case '+':
        return a === null && b === null ? null : Number(a ?? 0) + Number(b ?? 0);
      case '-':
        return a === null && b === null ? null : Number(a ?? 0) - Number(b ?? 0);
      case '*':
        return a === null || b === null ? null : Number(a) * Number(b);
      case '/':
        if (b === null || Number(b) === 0) return a === null ? null : Number(a) === 0 ? null : Infinity;
        return a === null ? null : Number(a) / Number(b);
      case '=':
      case '==':
        return compare(a, b) === 0;
      case '<>':
        return compare(a, b) !== 0;
      case '<':
        return compare(a, b) < 0;
      case '>':
        return compare(a, b) > 0;
      case '<=':
        return compare(a, b) <= 0;
      case '>=':
        return compare(a, b) >= 0;
    }
    throw new DaxError(`The syntax for '${op}' is incorrect.`, node.t.line, node.t.col);
  }

  private columnValues(node: Node | undefined, ctx: Ctx, fn: string, t: Token): Cell[] {
    if (!node || node.k !== 'col')
      throw new DaxError(
        `The ${fn} function only accepts a column reference as an argument.`,
        (node ?? { t }).t.line,
        (node ?? { t }).t.col,
      );
    const { table, key } = this.column(node.table, node.column, node.t);
    return this.baseRows(table, { facts: this.transition(ctx) }).map((r) => r.v[key] ?? null);
  }

  private call(node: Extract<Node, { k: 'call' }>, ctx: Ctx): Cell {
    const { name, args, t } = node;
    const nums = (values: Cell[]) => values.filter((v): v is number => typeof v === 'number');
    switch (name) {
      case 'SUM': {
        const v = nums(this.columnValues(args[0], ctx, name, t));
        return v.length === 0 ? null : round(v.reduce((s, x) => s + x, 0));
      }
      case 'AVERAGE': {
        const v = nums(this.columnValues(args[0], ctx, name, t));
        return v.length === 0 ? null : v.reduce((s, x) => s + x, 0) / v.length;
      }
      case 'MIN':
      case 'MAX': {
        const v = this.columnValues(args[0], ctx, name, t).filter((x) => x !== null);
        if (v.length === 0) return null;
        return v.reduce((m, x) => ((name === 'MIN' ? compare(x, m) < 0 : compare(x, m) > 0) ? x : m));
      }
      case 'COUNT':
        return this.columnValues(args[0], ctx, name, t).filter((x) => x !== null).length || null;
      case 'DISTINCTCOUNT':
        return new Set(this.columnValues(args[0], ctx, name, t)).size || null;
      case 'COUNTROWS': {
        if (!args[0])
          throw new DaxError('Too few arguments were passed to the COUNTROWS function.', t.line, t.col);
        return this.table$(args[0], { facts: this.transition(ctx) }).rows.length || null;
      }
      case 'DIVIDE': {
        const a = this.scalar(args[0]!, ctx);
        const b = this.scalar(args[1]!, ctx);
        if (b === null || Number(b) === 0) return args[2] ? this.scalar(args[2], ctx) : null;
        return a === null ? null : Number(a) / Number(b);
      }
      case 'DATE': {
        const [y, m, d] = args.map((a) => Number(this.scalar(a, ctx)));
        const date = new Date(Date.UTC(y!, m! - 1, d));
        return `${date.toISOString().slice(0, 10)}T00:00:00`;
      }
      case 'YEAR':
      case 'MONTH': {
        const v = this.scalar(args[0]!, ctx);
        if (v === null) return null;
        const date = new Date(`${String(v).slice(0, 10)}T00:00:00Z`);
        return name === 'YEAR' ? date.getUTCFullYear() : date.getUTCMonth() + 1;
      }
      case 'ROUND': {
        const v = this.scalar(args[0]!, ctx);
        const digits = args[1] ? Number(this.scalar(args[1], ctx)) : 0;
        return v === null ? null : Math.round(Number(v) * 10 ** digits) / 10 ** digits;
      }
      case 'ABS': {
        const v = this.scalar(args[0]!, ctx);
        return v === null ? null : Math.abs(Number(v));
      }
      case 'BLANK':
        return null;
      case 'TRUE':
        return true;
      case 'FALSE':
        return false;
    }
    if (TABLE_FUNCTIONS.has(name) || name.startsWith('INFO.') || name === 'COLUMNSTATISTICS') {
      throw new DaxError(
        'The expression refers to multiple columns. Multiple columns cannot be converted to a scalar value.',
        t.line,
        t.col,
      );
    }
    throw new DaxError(
      `Failed to resolve name '${name}'. It is not a valid table, variable, or function name.`,
      t.line,
      t.col,
    );
  }

  private info(name: string, t: Token): TVal {
    const make = (rows: Array<Record<string, Cell>>): TVal => {
      const columns = Object.keys(rows[0] ?? {}).map((k) => `[${k}]`);
      return {
        columns,
        rows: rows.map((r) => ({ v: Object.fromEntries(Object.entries(r).map(([k, v]) => [`[${k}]`, v])) })),
      };
    };
    const m = this.model;
    let id = 1;
    switch (name) {
      case 'INFO.VIEW.TABLES':
        return make(
          m.tables.map((table) => ({
            ID: id++,
            Name: table.name,
            Description: table.description ?? null,
            IsHidden: table.hidden ?? false,
            StorageMode: 'Import',
            DataCategory: null,
          })),
        );
      case 'INFO.VIEW.COLUMNS':
        return make(
          m.tables.flatMap((table) =>
            table.columns.map((c) => ({
              ID: id++,
              Name: c.name,
              Table: table.name,
              DataType: c.dataType,
              IsHidden: c.hidden ?? false,
              Description: c.description ?? null,
              Expression: null,
              FormatString: null,
              DataCategory: null,
            })),
          ),
        );
      case 'INFO.VIEW.MEASURES':
        return make(
          m.measures.map((measure) => ({
            ID: id++,
            Name: measure.name,
            Table: measure.table,
            Expression: this.options.hideMeasureExpressions ? null : measure.expression,
            FormatString: measure.formatString ?? null,
            Description: measure.description ?? null,
            IsHidden: measure.hidden ?? false,
            DataType: 'Double',
          })),
        );
      case 'INFO.VIEW.RELATIONSHIPS':
        return make(
          m.relationships.map((r) => ({
            ID: id++,
            Name: `${r.fromTable}_${r.fromColumn}_${r.toTable}`,
            Relationship: `'${r.fromTable}'[${r.fromColumn}] *:1 '${r.toTable}'[${r.toColumn}]`,
            IsActive: r.isActive,
            CrossFilteringBehavior: 'OneDirection',
            FromTable: r.fromTable,
            FromColumn: r.fromColumn,
            FromCardinality: 'Many',
            ToTable: r.toTable,
            ToColumn: r.toColumn,
            ToCardinality: 'One',
          })),
        );
    }
    throw new DaxError(
      `Failed to resolve name '${name}'. It is not a valid table, variable, or function name.`,
      t.line,
      t.col,
    );
  }

  private columnStatistics(): TVal {
    const rows: Array<Record<string, Cell>> = [];
    for (const table of this.model.tables) {
      rows.push({
        'Table Name': table.name,
        'Column Name': ROW_NUMBER,
        Min: null,
        Max: null,
        Cardinality: table.rows.length,
        'Max Length': null,
      });
      for (const c of table.columns) {
        const values = table.rows.map((r) => r[c.name] ?? null).filter((v) => v !== null);
        const sorted = [...values].sort(compare);
        rows.push({
          'Table Name': table.name,
          'Column Name': c.name,
          Min: sorted[0] ?? null,
          Max: sorted[sorted.length - 1] ?? null,
          Cardinality: new Set(values).size,
          'Max Length': c.dataType === 'String' ? Math.max(0, ...values.map((v) => String(v).length)) : null,
        });
      }
    }
    const keys = ['Table Name', 'Column Name', 'Min', 'Max', 'Cardinality', 'Max Length'];
    return {
      columns: keys.map((k) => `[${k}]`),
      rows: rows.map((r) => ({ v: Object.fromEntries(keys.map((k) => [`[${k}]`, r[k] ?? null])) })),
    };
  }
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
