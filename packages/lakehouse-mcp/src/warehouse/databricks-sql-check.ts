/**
 * The second line of defence for `lakehouse_query_sql` on Databricks (the first is a principal with read-only
 * grants): exactly one statement, which a real SQL parser (node-sql-parser) classifies as a query, naming
 * only this tenant's tables and no function that reaches files, secrets, the network or a model.
 *
 * Spark SQL has no parser for Node, so the check tries the parser's grammars closest to it (Snowflake, Trino,
 * BigQuery: backticks, three-part names, QUALIFY, lambdas); a statement none of them understands is refused
 * with the reason rather than guessed at. A small lexer (strings, comments, quoted names) counts the
 * statements and maps `bronze.x` to the tenant's schemas when they live in a shared catalog.
 */
import { UserInputError } from '@switchyard/core';
import type { Naming } from './databricks-dialect.js';
import type { Layer } from './types.js';

type Token = { kind: 'space' | 'comment' | 'string' | 'quoted' | 'word' | 'punct'; text: string };

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    const rest = sql.slice(i);
    let m: RegExpExecArray | null;
    if ((m = /^\s+/.exec(rest))) tokens.push({ kind: 'space', text: m[0] });
    else if ((m = /^--[^\n]*/.exec(rest))) tokens.push({ kind: 'comment', text: m[0] });
    else if (rest.startsWith('/*')) {
      const end = sql.indexOf('*/', i + 2);
      tokens.push({ kind: 'comment', text: end === -1 ? rest : sql.slice(i, end + 2) });
    } else if (ch === "'" || ch === '"') {
      let j = i + 1;
      while (j < sql.length && sql[j] !== ch) j += sql[j] === '\\' ? 2 : 1;
      tokens.push({ kind: 'string', text: sql.slice(i, j + 1) });
    } else if (ch === '`') {
      let j = i + 1;
      for (;;) {
        const next = sql.indexOf('`', j);
        if (next === -1) {
          j = sql.length;
          break;
        }
        if (sql[next + 1] === '`') j = next + 2;
        else {
          j = next + 1;
          break;
        }
      }
      tokens.push({ kind: 'quoted', text: sql.slice(i, j) });
    } else if ((m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest))) tokens.push({ kind: 'word', text: m[0] });
    else if ((m = /^[0-9][0-9.eE]*/.exec(rest))) tokens.push({ kind: 'word', text: m[0] });
    else tokens.push({ kind: 'punct', text: ch });
    i += tokens[tokens.length - 1]!.text.length;
  }
  return tokens;
}

function nameOf(t: Token | undefined): string | undefined {
  if (!t) return undefined;
  if (t.kind === 'word') return t.text.toLowerCase();
  if (t.kind === 'quoted') return t.text.slice(1, -1).replace(/``/g, '`').toLowerCase();
  return undefined;
}

/** The statements of a text, split at semicolons outside strings, comments and quoted names. */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current = '';
  let meaningful = false;
  for (const t of tokenize(sql)) {
    if (t.kind === 'punct' && t.text === ';') {
      if (meaningful) statements.push(current);
      current = '';
      meaningful = false;
    } else {
      current += t.text;
      if (t.kind !== 'space' && t.kind !== 'comment') meaningful = true;
    }
  }
  if (meaningful) statements.push(current);
  return statements;
}

/**
 * In a shared catalog, `bronze.orders` and `tenant_x.bronze.orders` name the tenant's own schemas:
 * rewrite them to `catalog`.`tenant_x_bronze`.orders. With `qualify` (view bodies, which are resolved when
 * read), every layer also gets the catalog: `tenant_x`.`bronze`.orders. Strings, comments and other names are
 * left alone.
 */
export function mapLayers(sql: string, n: Naming, options: { qualify?: boolean } = {}): string {
  if (!n.shared && !options.qualify) return sql;
  const catalog = `\`${n.catalog.replace(/`/g, '``')}\``;
  const tokens = tokenize(sql);
  const layers = new Set(['bronze', 'silver', 'gold']);
  const next = (from: number): number => {
    let j = from;
    while (tokens[j] && (tokens[j]!.kind === 'space' || tokens[j]!.kind === 'comment')) j++;
    return j;
  };
  const prev = (from: number): number => {
    let j = from;
    while (j >= 0 && (tokens[j]!.kind === 'space' || tokens[j]!.kind === 'comment')) j--;
    return j;
  };
  let out = '';
  for (let i = 0; i < tokens.length; i++) {
    const name = nameOf(tokens[i]);
    const before = prev(i - 1);
    const afterDot = before >= 0 && tokens[before]!.text === '.';
    if (name && !afterDot) {
      const dot = next(i + 1);
      if (tokens[dot]?.text === '.') {
        const second = next(dot + 1);
        const secondName = nameOf(tokens[second]);
        if (
          name === n.tenantCatalog &&
          secondName &&
          layers.has(secondName) &&
          tokens[next(second + 1)]?.text === '.'
        ) {
          out += `${catalog}.\`${n.schema(secondName as Layer)}\``;
          i = second;
          continue;
        }
        if (layers.has(name)) {
          out += `${options.qualify ? `${catalog}.` : ''}\`${n.schema(name as Layer)}\``;
          continue;
        }
      }
    }
    out += tokens[i]!.text;
  }
  return out;
}

/** Functions that read files or streams, reach the network, secrets or a model: never in a query here. */
const FORBIDDEN_FUNCTIONS = new Set([
  'read_files',
  'cloud_files',
  'read_kafka',
  'read_kinesis',
  'read_pubsub',
  'read_pulsar',
  'read_statestore',
  'read_state_metadata',
  'http_request',
  'secret',
  'try_secret',
  'list_secrets',
  'ai_query',
  'ai_gen',
  'ai_classify',
  'ai_extract',
  'ai_summarize',
  'ai_translate',
  'ai_analyze_sentiment',
  'ai_similarity',
  'ai_mask',
  'ai_fix_grammar',
  'ai_forecast',
  'vector_search',
  'java_method',
  'reflect',
]);

const QUERY_START = new Set(['select', 'with', 'values', 'table', 'from']);

type ParserModule = { Parser: new () => ParserInstance };
interface ParserInstance {
  /** One pass: the tree and the tables it reads. */
  parse(sql: string, opt: { database: string }): { ast: unknown; tableList: string[] };
}
const GRAMMARS = ['snowflake', 'trino', 'bigquery'] as const;
const parsers = new Map<string, Promise<ParserInstance>>();

function parserFor(grammar: (typeof GRAMMARS)[number]): Promise<ParserInstance> {
  let p = parsers.get(grammar);
  if (!p) {
    // One grammar per module: loading all of node-sql-parser's dialects would cost start-up for nothing.
    const load =
      grammar === 'snowflake'
        ? import('node-sql-parser/build/snowflake.js')
        : grammar === 'trino'
          ? import('node-sql-parser/build/trino.js')
          : import('node-sql-parser/build/bigquery.js');
    p = load.then((m) => {
      const mod = ((m as { default?: ParserModule }).default ?? m) as ParserModule;
      return new mod.Parser();
    });
    parsers.set(grammar, p);
  }
  return p;
}

export interface CheckedQuery {
  /** The statement as it is sent (layers mapped in a shared catalog, no trailing semicolon). */
  sql: string;
  /** The tables it reads, as layer.table where they are the tenant's (for lineage). */
  tables: string[];
}

const HINT_ONE = 'Send a single SELECT without a second statement after a semicolon';
const HINT_QUERY =
  'Use SELECT (or WITH, VALUES, TABLE); data changes go through the sync, upload and transform tools';

/** Refuse anything but one read-only query over this tenant's tables, with the reason; nothing runs before. */
export async function checkQuery(text: string, n: Naming): Promise<CheckedQuery> {
  const statements = splitStatements(text);
  if (statements.length === 0)
    throw new UserInputError('The SQL holds no statement', { hint: 'Send one SELECT' });
  if (statements.length > 1) {
    throw new UserInputError(
      `Only one statement may run per call, and this SQL holds ${statements.length}; nothing was run`,
      { hint: HINT_ONE },
    );
  }
  const statement = statements[0]!.trim();
  const tokens = tokenize(statement).filter((t) => t.kind !== 'space' && t.kind !== 'comment');
  const first = tokens.find((t) => t.text !== '(');
  const keyword = first?.kind === 'word' ? first.text.toUpperCase() : '';
  if (!QUERY_START.has(keyword.toLowerCase())) {
    throw new UserInputError(
      `Only read-only queries can run here, and this is a ${keyword || 'non-query'} statement; nothing was run`,
      { hint: HINT_QUERY },
    );
  }
  tokens.forEach((t, i) => {
    const name = nameOf(t);
    let j = i + 1;
    while (tokens[j] && (tokens[j]!.kind === 'space' || tokens[j]!.kind === 'comment')) j++;
    // Quoted (`read_files`) or spaced (read_files /* */ ( ) calls are calls too.
    if (name && FORBIDDEN_FUNCTIONS.has(name) && tokens[j]?.text === '(') {
      throw new UserInputError(
        `The query calls ${name}(), which reaches files, secrets, the network or a model, and is not allowed here; nothing was run`,
        { hint: 'Load files with lakehouse_upload_file, then query their bronze tables' },
      );
    }
  });
  const mapped = mapLayers(statement, n);
  let ast: unknown;
  let refs: string[] = [];
  let firstError: Error | undefined;
  for (const grammar of GRAMMARS) {
    const parser = await parserFor(grammar);
    try {
      ({ ast, tableList: refs } = parser.parse(mapped, { database: grammar }));
      break;
    } catch (err) {
      firstError ??= err as Error;
    }
  }
  if (ast === undefined) {
    const loc = (firstError as { location?: { start?: { line: number; column: number } } }).location?.start;
    throw new UserInputError(
      `The SQL could not be checked as one read-only query: the parser stopped${loc ? ` at line ${loc.line}, column ${loc.column}` : ''}; nothing was run`,
      {
        hint: 'Write it as a plain SELECT (Spark-only clauses such as LATERAL VIEW or TABLESAMPLE are not accepted here), and check the syntax',
      },
    );
  }
  const nodes = Array.isArray(ast) ? ast : [ast];
  if (nodes.length !== 1) {
    throw new UserInputError(
      `Only one statement may run per call, and this SQL holds ${nodes.length}; nothing was run`,
      { hint: HINT_ONE },
    );
  }
  const type = String((nodes[0] as { type?: string }).type ?? '');
  if (type !== 'select') {
    throw new UserInputError(
      `Only read-only queries can run here, and this is a ${type.toUpperCase() || 'non-query'} statement; nothing was run`,
      { hint: HINT_QUERY },
    );
  }
  const ctes = new Set(
    ((nodes[0] as { with?: Array<{ name?: { value?: string } | string }> }).with ?? []).map((w) =>
      String(typeof w.name === 'string' ? w.name : (w.name?.value ?? '')).toLowerCase(),
    ),
  );
  const own = refs.filter((r) => {
    const [, db, table] = r.split('::');
    return !((!db || db === 'null') && table && ctes.has(table.toLowerCase()));
  });
  return { sql: mapped, tables: tablesOf(own, n) };
}

/** `select::db::table` entries → the tenant's `layer.table`; anything outside the tenant is refused. */
function tablesOf(refs: string[], n: Naming): string[] {
  const own = new Map<string, string>();
  for (const layer of ['bronze', 'silver', 'gold'] as const) own.set(n.schema(layer).toLowerCase(), layer);
  own.set(n.schema('meta').toLowerCase(), '_meta');
  if (!n.shared) own.set('information_schema', 'information_schema');
  const found = new Set<string>();
  for (const ref of refs) {
    const [, db, table] = ref.split('::');
    if (!table) continue;
    if (!db || db === 'null') {
      found.add(`bronze.${table}`);
      continue;
    }
    const parts = db.split('.').map((p) => p.toLowerCase());
    const schema = parts.length === 2 ? parts[1]! : parts[0]!;
    const catalogOk = parts.length === 1 || parts[0] === n.catalog.toLowerCase();
    const layer = own.get(schema);
    if (!catalogOk || !layer) {
      throw new UserInputError(
        `The query names ${db}.${table}, which is outside this tenant's catalog ${n.tenantCatalog}; nothing was run`,
        { hint: "Only this tenant's tables can be queried; call lakehouse_list_tables to see them" },
      );
    }
    found.add(`${layer}.${table}`);
  }
  return [...found].sort();
}
