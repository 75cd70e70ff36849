/**
 * The second line of defence for `lakehouse_query_sql` on Databricks (the first is a principal with read-only
 * grants): exactly one statement, which a real SQL parser (node-sql-parser) classifies as a query, naming
 * only this tenant's tables and no function that reaches files, secrets, the network or a model.
 *
 * The text is first split into tokens exactly as Spark's lexer splits it (see `tokenize`): comments,
 * strings and quoted names are where a check and the warehouse can disagree about what is code, so the
 * lexer follows Spark's rules rather than generic SQL ones, and refuses what Spark would not lex (an
 * unclosed comment or string, a character Spark has no token for). The statement that is sent is rebuilt
 * from those tokens without its comments, so nothing the check took for a comment can run.
 *
 * On the tokens, allow-lists decide: the statement starts as a query; every name read as a table (after
 * FROM, JOIN, a comma of a FROM list, TABLE, LATERAL) is one of the tenant's; a function call in FROM is one
 * of a few built-in table functions; functions are called by their plain name (never `catalog.schema.f`);
 * IDENTIFIER(...) and TABLE(...) are refused; and a deny-list removes the built-ins that reach files,
 * secrets, the network, a model or the JVM.
 *
 * Spark SQL has no parser for Node, so the check then tries the parser's grammars closest to it (Snowflake,
 * Trino, BigQuery: backticks, three-part names, QUALIFY, lambdas) on the tokens, with strings replaced by
 * plain placeholders (their escapes differ between dialects); a statement none of them understands is
 * refused with the reason rather than guessed at, and every table the parser finds must be the tenant's.
 */
import { UserInputError } from '@switchyard/core';
import type { Naming } from './dialect.js';
import type { Layer } from '../types.js';

export type TokenKind =
  'space' | 'comment' | 'string' | 'quoted' | 'word' | 'number' | 'punct' | 'hint' | 'invalid';
export interface Token {
  kind: TokenKind;
  text: string;
  /** For `invalid`: what Spark's lexer would not accept, as the end of a sentence. */
  problem?: string;
}

// The rules below follow Apache Spark's lexer, sql/api/src/main/antlr4/org/apache/spark/sql/catalyst/parser/
// SqlBaseLexer.g4 (https://github.com/apache/spark), which Databricks SQL is built on. Spark feeds that lexer
// an upper-cased view of the text (UpperCaseCharStream), so its letters match either case (R'…', 1e5, 10bd).

/** WS: exactly Spark's blanks; JavaScript's \s also holds U+2029 and U+FEFF, which Spark does not skip. */
const SPACE = /^[ \t\n\f\r\v\u00A0\u1680\u2000-\u200A\u2028\u202F\u205F\u3000]+/;
/** IDENTIFIER, first form: (UNICODE_LETTER | DIGIT | '_')+ — Unicode letters, ASCII digits. */
const IDENT = /^[\p{L}0-9_]+/u;
/** IDENTIFIER, second form: UNICODE_LETTER+ '://' (UNICODE_LETTER | DIGIT | '_' | '/' | '-' | '.' | '?' | '=' | '&' | '#' | '%')+ */
const URI = /^\p{L}+:\/\/[\p{L}0-9_/\-.?=&#%]+/u;
/** INTEGER_VALUE, DECIMAL_VALUE, EXPONENT_VALUE and the typed literals (10L, 1.5BD, 2Y, 3S, 1F, 1D). */
const NUMBER = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:E[+-]?[0-9]+)?(?:BD|[LSYFD])?/i;
/** Operators of more than one character, longest first (EQ, NSEQ, NEQ, NEQJ, LTE, GTE, shifts, CONCAT_PIPE,
 * DOUBLE_COLON, ARROW, FAT_ARROW, HENT_END). */
const OPERATORS = [
  '<=>',
  '>>>',
  '<=',
  '>=',
  '<>',
  '!=',
  '!<',
  '!>',
  '==',
  '<<',
  '>>',
  '||',
  '::',
  '->',
  '=>',
  '*/',
];
/** The one-character tokens; any other character is Spark's UNRECOGNIZED token, a syntax error. */
const SINGLE = new Set([...';(),.[]!=<>+-*/%~&|^:?']);

/** STRING_LITERAL / DOUBLEQUOTED_STRING: `'` ( ~('\''|'\\') | ('\\' .) )* `'`; raw (R'…') strings have no escapes. */
function stringEnd(sql: string, from: number, quote: string, escapes: boolean): number {
  for (let j = from; j < sql.length; j++) {
    if (sql[j] === quote) return j + 1;
    if (escapes && sql[j] === '\\') j++;
  }
  return -1;
}

/** BACKQUOTED_IDENTIFIER: '`' ( ~'`' | '``' )* '`'. */
function backquotedEnd(sql: string, from: number): number {
  for (let j = from; j < sql.length; j++) {
    if (sql[j] === '`') {
      if (sql[j + 1] === '`') j++;
      else return j + 1;
    }
  }
  return -1;
}

/**
 * BRACKETED_COMMENT: '/*' {!isHint()}? ( BRACKETED_COMMENT | . )*? ('*\/' | EOF), where EOF marks the comment
 * unclosed (an error). Comments nest: `/* a /* b *\/ c *\/` is one comment. A `/*+` inside one is not a
 * nested comment (isHint), so it needs no `*\/` of its own.
 */
function bracketedEnd(sql: string, from: number): number {
  let depth = 1;
  let j = from + 2;
  while (j < sql.length) {
    if (sql.startsWith('*/', j)) {
      j += 2;
      if (--depth === 0) return j;
    } else if (sql.startsWith('/*', j) && sql[j + 2] !== '+') {
      depth++;
      j += 2;
    } else j++;
  }
  return -1;
}

/**
 * SIMPLE_COMMENT: '--' ('\\\n' | ~[\r\n])* '\r'? '\n'? — a backslash right before a line feed carries the
 * comment on to the next line.
 */
function simpleCommentEnd(sql: string, from: number): number {
  let j = from + 2;
  while (j < sql.length) {
    if (sql[j] === '\\' && sql[j + 1] === '\n') j += 2;
    else if (sql[j] !== '\r' && sql[j] !== '\n') j++;
    else break;
  }
  if (sql[j] === '\r') j++;
  if (sql[j] === '\n') j++;
  return j;
}

/** The tokens of a text, as Spark's lexer (SqlBaseLexer.g4) cuts it; what it would not lex is `invalid`. */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const invalid = (text: string, problem: string) => tokens.push({ kind: 'invalid', text, problem });
  while (i < sql.length) {
    const ch = sql[i]!;
    const rest = sql.slice(i);
    let m: RegExpExecArray | null;
    if ((m = SPACE.exec(rest))) tokens.push({ kind: 'space', text: m[0] });
    else if (rest.startsWith('--'))
      tokens.push({ kind: 'comment', text: sql.slice(i, simpleCommentEnd(sql, i)) });
    else if (rest.startsWith('/*+'))
      tokens.push({ kind: 'hint', text: '/*+' }); // HENT_START
    else if (rest.startsWith('/*')) {
      const end = bracketedEnd(sql, i);
      if (end === -1)
        invalid(
          rest,
          'opens a /* comment that is never closed (Spark nests comments, so every /* needs its own */)',
        );
      else tokens.push({ kind: 'comment', text: sql.slice(i, end) });
    } else if (ch === "'" || ch === '"' || /^[rR]['"]/.test(rest)) {
      const raw = ch === 'r' || ch === 'R';
      const end = stringEnd(sql, i + (raw ? 2 : 1), sql[i + (raw ? 1 : 0)]!, !raw);
      if (end === -1)
        invalid(rest, 'opens a string that is never closed (a backslash escapes the character after it)');
      else tokens.push({ kind: 'string', text: sql.slice(i, end) });
    } else if (ch === '`') {
      const end = backquotedEnd(sql, i + 1);
      if (end === -1) invalid(rest, 'opens a `quoted name` that is never closed');
      else tokens.push({ kind: 'quoted', text: sql.slice(i, end) });
    } else if (/^(?:[0-9]|\.[0-9])/.test(rest)) {
      const num = NUMBER.exec(rest)![0];
      const word = IDENT.exec(rest)?.[0] ?? '';
      // The longest match wins; on a tie the numeric rule, which the grammar lists first.
      tokens.push(num.length >= word.length ? { kind: 'number', text: num } : { kind: 'word', text: word });
    } else if ((m = URI.exec(rest)))
      invalid(m[0], 'names a URL or path outside a string, which Spark reads as a location');
    else if ((m = IDENT.exec(rest))) tokens.push({ kind: 'word', text: m[0] });
    else {
      const op = OPERATORS.find((o) => rest.startsWith(o));
      if (op) tokens.push({ kind: 'punct', text: op });
      else if (SINGLE.has(ch)) tokens.push({ kind: 'punct', text: ch });
      else {
        const cp = sql.codePointAt(i)!;
        invalid(
          String.fromCodePoint(cp),
          `holds the character U+${cp.toString(16).toUpperCase().padStart(4, '0')}, which Spark SQL does not accept outside strings and comments`,
        );
      }
    }
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

const blank = (t: Token | undefined) => t !== undefined && (t.kind === 'space' || t.kind === 'comment');

/** Groups of tokens between semicolons (outside strings, comments and quoted names) that hold some code. */
function statementsOf(tokens: Token[]): Token[][] {
  const statements: Token[][] = [];
  let current: Token[] = [];
  const flush = () => {
    if (current.some((t) => !blank(t))) statements.push(current);
    current = [];
  };
  for (const t of tokens) {
    if (t.kind === 'punct' && t.text === ';') flush();
    else current.push(t);
  }
  flush();
  return statements;
}

/** The statements of a text, split at semicolons outside strings, comments and quoted names. */
export function splitStatements(sql: string): string[] {
  return statementsOf(tokenize(sql)).map((s) => s.map((t) => t.text).join(''));
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
    while (blank(tokens[j])) j++;
    return j;
  };
  const prev = (from: number): number => {
    let j = from;
    while (j >= 0 && blank(tokens[j])) j--;
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

/**
 * Built-in functions that read files, streams or other tables by a string, reach the network, secrets, a
 * model or the JVM: never in a query here (checked against the Databricks SQL function reference). Any name
 * starting `ai_` (the AI functions) or `read_` (read_files, read_kafka, read_kinesis, read_pubsub,
 * read_pulsar, read_statestore, read_state_metadata, and later ones) is refused as well.
 */
const FORBIDDEN_FUNCTIONS = new Set([
  'cloud_files',
  'cloud_files_state',
  'event_log',
  'table_changes',
  'remote_query',
  'http_request',
  'secret',
  'try_secret',
  'list_secrets',
  'vector_search',
  'java_method',
  'reflect',
  'try_reflect',
  // Avro and Protobuf conversions take schema-registry addresses or descriptor-file paths as options.
  'from_avro',
  'to_avro',
  'schema_of_avro',
  'from_protobuf',
  'to_protobuf',
]);
const FORBIDDEN_PREFIXES = ['ai_', 'read_'];

function forbidden(name: string): boolean {
  return FORBIDDEN_FUNCTIONS.has(name) || FORBIDDEN_PREFIXES.some((p) => name.startsWith(p));
}

/** The table-valued functions a FROM clause may call: built-in generators over values, no table or file. */
const TABLE_FUNCTIONS = new Set([
  'range',
  'explode',
  'explode_outer',
  'posexplode',
  'posexplode_outer',
  'inline',
  'inline_outer',
  'stack',
  'json_tuple',
  'variant_explode',
  'variant_explode_outer',
]);

/** Data sources Spark reads a path as a table with: `delta`.`/path`, parquet.`s3://…`. */
const FILE_FORMATS = new Set([
  'delta',
  'parquet',
  'json',
  'csv',
  'tsv',
  'orc',
  'avro',
  'text',
  'binaryfile',
  'xml',
  'jdbc',
]);
/** Catalogs that are never a tenant's. */
const FOREIGN_CATALOGS = new Set(['system', 'samples', 'hive_metastore', 'spark_catalog']);

/** Words after which a FROM list is over at that level of parentheses. */
const FROM_ENDS = new Set([
  'where',
  'group',
  'having',
  'order',
  'qualify',
  'window',
  'limit',
  'offset',
  'union',
  'except',
  'intersect',
  'minus',
  'select',
  'cluster',
  'distribute',
  'sort',
]);
/** Words that end a table position rather than name a table (`SELECT table FROM t`). */
const CLAUSE_WORDS = new Set([
  ...FROM_ENDS,
  'from',
  'join',
  'on',
  'using',
  'inner',
  'left',
  'right',
  'full',
  'cross',
  'natural',
  'semi',
  'anti',
  'outer',
  'as',
  'pivot',
  'unpivot',
  'tablesample',
]);
/** Words that start a query (a statement, or a subquery in parentheses). */
const QUERY_WORDS = new Set(['select', 'with', 'values', 'table']);

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
  /** The statement as it is sent (comments removed, layers mapped in a shared catalog, no semicolon). */
  sql: string;
  /** The tables it reads, as layer.table where they are the tenant's (for lineage). */
  tables: string[];
}

const HINT_ONE = 'Send a single SELECT without a second statement after a semicolon';
const HINT_QUERY =
  'Use SELECT (or WITH, VALUES, TABLE); data changes go through the sync, upload and transform tools';
const HINT_TABLES = "Only this tenant's tables can be queried; call lakehouse_list_tables to see them";
const HINT_FILES = 'Load files with lakehouse_upload_file, then query their bronze tables';

/** A name or text from the query, cut short so an answer never repeats a long input. */
function short(text: string): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > 60 ? `${flat.slice(0, 57)}…` : flat;
}

function refuse(sentence: string, hint: string): never {
  throw new UserInputError(`${sentence}; nothing was run`, { hint });
}

function outside(name: string, n: Naming): never {
  refuse(
    `The query names ${short(name)}, which is outside this tenant's catalog ${n.tenantCatalog}`,
    HINT_TABLES,
  );
}

/** The tenant's schemas (lower case), with the layer each holds. */
function ownSchemas(n: Naming): Map<string, string> {
  const own = new Map<string, string>();
  for (const layer of ['bronze', 'silver', 'gold'] as const) own.set(n.schema(layer).toLowerCase(), layer);
  own.set(n.schema('meta').toLowerCase(), '_meta');
  if (!n.shared) own.set('information_schema', 'information_schema');
  return own;
}

/** A name read as a table (after layers are mapped): `t`, `schema.t` or `catalog.schema.t` of this tenant. */
function checkTableName(parts: string[], n: Naming): void {
  const name = parts.join('.');
  if (parts.length === 2 && FILE_FORMATS.has(parts[0]!) && /[/:]/.test(parts[1]!)) {
    refuse(
      `The query reads the path ${short(parts[1]!)} as a ${parts[0]} table, and files cannot be read here`,
      HINT_FILES,
    );
  }
  if (parts.length === 1) return;
  const own = ownSchemas(n);
  const ok =
    (parts.length === 2 && own.has(parts[0]!)) ||
    (parts.length === 3 && parts[0] === n.catalog.toLowerCase() && own.has(parts[1]!));
  if (!ok) outside(name, n);
}

/** Names of more than one part, anywhere (tables, columns, functions): no other tenant, no foreign catalog. */
function checkQualifiedName(parts: string[], n: Naming): void {
  const own = new Set([n.tenantCatalog.toLowerCase(), n.catalog.toLowerCase(), ...ownSchemas(n).keys()]);
  for (let k = 0; k < parts.length - 1; k++) {
    const part = parts[k]!;
    if (FILE_FORMATS.has(part) && /[/:]/.test(parts[k + 1]!)) checkTableName(parts.slice(k, k + 2), n);
    if ((k === 0 && FOREIGN_CATALOGS.has(part)) || (part.startsWith('tenant_') && !own.has(part))) {
      outside(parts.join('.'), n);
    }
  }
}

const HINT_HINT = 'Write hints as /*+ NAME(column, …) */, or leave them out';

/** The inside of a /*+ hint *\/: hint names with names, numbers or strings as parameters, nothing that runs. */
function checkHint(tokens: Token[]): void {
  let depth = 0;
  tokens.forEach((t, k) => {
    const punct = t.kind === 'punct' ? t.text : undefined;
    const ok =
      t.kind === 'word' ||
      t.kind === 'quoted' ||
      t.kind === 'number' ||
      t.kind === 'string' ||
      punct === ',' ||
      punct === '.' ||
      (punct === '(' && depth === 0 && tokens[k - 1]?.kind === 'word') ||
      (punct === ')' && depth === 1);
    if (!ok)
      refuse('The query holds a /*+ hint */ with more than names, numbers and strings in it', HINT_HINT);
    if (punct === '(') depth++;
    if (punct === ')') depth--;
  });
}

/** The text node-sql-parser reads: no hints, and strings as plain placeholders (dialects escape differently). */
function parserText(tokens: Token[], skip: Set<Token>): string {
  let out = '';
  let last: Token | undefined;
  for (const t of tokens) {
    if (skip.has(t)) {
      out += ' ';
      last = undefined;
      continue;
    }
    let text = t.text;
    if (t.kind === 'string') {
      const inner = text.replace(/^[rR]/, '').slice(1, -1);
      text = `'${inner.replace(/[^A-Za-z0-9 _\-:.,+]/g, '')}'`;
    }
    // Two operators side by side stay apart (`/ /` is no comment to any grammar).
    if (
      last?.kind === 'punct' &&
      t.kind === 'punct' &&
      !'(),.[]'.includes(t.text) &&
      !'(),.[]'.includes(last.text)
    ) {
      out += ' ';
    }
    out += text;
    last = t.kind === 'space' ? undefined : t;
  }
  return out;
}

/** Refuse anything but one read-only query over this tenant's tables, with the reason; nothing runs before. */
export async function checkQuery(text: string, n: Naming): Promise<CheckedQuery> {
  const lexed = tokenize(text);
  const bad = lexed.find((t) => t.kind === 'invalid');
  if (bad) {
    refuse(
      `The SQL ${bad.problem}`,
      'Close every comment, string and `quoted name`, and put names with other characters in backticks',
    );
  }
  const statements = statementsOf(lexed);
  if (statements.length === 0)
    throw new UserInputError('The SQL holds no statement', { hint: 'Send one SELECT' });
  if (statements.length > 1) {
    refuse(`Only one statement may run per call, and this SQL holds ${statements.length}`, HINT_ONE);
  }
  // The statement is sent without its comments: what the warehouse runs is exactly what was checked.
  const clean = statements[0]!
    .map((t) => (t.kind === 'comment' ? ' ' : t.text))
    .join('')
    .trim();
  const mapped = mapLayers(clean, n);
  const tokens = tokenize(mapped);
  const code = tokens.filter((t) => !blank(t));
  const first = code.find((t) => t.text !== '(');
  const keyword = first?.kind === 'word' ? first.text.toUpperCase() : '';
  if (!QUERY_WORDS.has(keyword.toLowerCase())) {
    refuse(
      `Only read-only queries can run here, and this is a ${short(keyword) || 'non-query'} statement`,
      HINT_QUERY,
    );
  }

  // Hints (/*+ … *\/) are code to Spark: checked here, and kept from the parser, which reads them as comments.
  const hinted = new Set<Token>();
  const body: Token[] = [];
  for (let i = 0; i < code.length; i++) {
    const t = code[i]!;
    if (t.kind === 'hint') {
      const end = code.findIndex((u, j) => j > i && u.kind === 'punct' && u.text === '*/');
      if (end === -1) refuse('The query opens a /*+ hint that is never closed', HINT_HINT);
      checkHint(code.slice(i + 1, end));
      for (const u of code.slice(i, end + 1)) hinted.add(u);
      i = end;
    } else if (t.kind === 'punct' && t.text === '*/') {
      refuse('The query holds a */ that closes no comment', 'Remove it, or open the comment with /*');
    } else body.push(t);
  }

  // One pass over the code: calls, names, and the positions where a name is read as a table.
  const frames = [{ query: true, inFrom: false, fresh: false }];
  let expectTable = false;
  for (let i = 0; i < body.length; i++) {
    const t = body[i]!;
    const prev = body[i - 1];
    const next = body[i + 1];
    const afterDot = prev?.kind === 'punct' && prev.text === '.';
    const name = nameOf(t);
    const kw = t.kind === 'word' && !afterDot ? name : undefined;
    const frame = frames[frames.length - 1]!;
    if (frame.fresh) {
      frame.fresh = false;
      if (kw && QUERY_WORDS.has(kw)) {
        frame.query = true;
        frame.inFrom = false;
        if (kw !== 'table') expectTable = false;
      }
    }
    if (t.kind === 'string' && t.text.startsWith('"') && (afterDot || next?.text === '.')) {
      refuse(
        'The query writes a name in double quotes, which Databricks reads as a string',
        'Quote names with backticks',
      );
    }
    if (kw === 'using' && next?.kind === 'string') {
      refuse('The query runs an external script (TRANSFORM … USING), which is not allowed here', HINT_QUERY);
    }
    const call = name !== undefined && next?.kind === 'punct' && next.text === '(';
    if (call) {
      if (name === 'identifier') {
        refuse(
          'The query uses IDENTIFIER(…), which can name any table at run time, and is not allowed here',
          'Write the table name itself, such as bronze.orders',
        );
      }
      if (name === 'table') {
        refuse(
          'The query uses TABLE(…), which is not allowed here',
          'Read tables with FROM bronze.orders or a subquery',
        );
      }
      if (afterDot) {
        refuse(
          'The query calls a function by a qualified name (catalog.schema.function), and only built-in functions can be called here',
          'Call built-in functions by their plain name',
        );
      }
      if (forbidden(name)) {
        refuse(
          `The query calls ${short(name)}(), which reaches files, secrets, the network or a model, and is not allowed here`,
          HINT_FILES,
        );
      }
    }
    if (name !== undefined && !afterDot) {
      const parts = [name];
      for (let j = i; body[j + 1]?.text === '.' && nameOf(body[j + 2]) !== undefined; j += 2) {
        parts.push(nameOf(body[j + 2])!);
      }
      if (parts.length > 1) checkQualifiedName(parts, n);
      const keywordHere =
        kw !== undefined && (CLAUSE_WORDS.has(kw) || QUERY_WORDS.has(kw) || kw === 'lateral');
      if (expectTable && !keywordHere) {
        expectTable = false;
        const after = body[i + parts.length * 2 - 1];
        if (after?.kind === 'punct' && after.text === '(') {
          if (parts.length > 1 || !TABLE_FUNCTIONS.has(name)) {
            refuse(
              `The query calls ${short(parts.join('.'))}() as a table, and only ${[...TABLE_FUNCTIONS].join(', ')} can be`,
              "Read the tenant's tables by name, or unnest values with explode",
            );
          }
        } else checkTableName(parts, n);
        continue;
      }
    }
    if (expectTable && t.kind === 'string') {
      refuse('The query reads a string as a table, and files cannot be read here', HINT_FILES);
    }
    if (t.kind === 'punct') {
      if (t.text === '(') {
        frames.push({ query: false, inFrom: expectTable, fresh: true });
      } else if (t.text === ')') {
        if (frames.length > 1) frames.pop();
        expectTable = false;
      } else expectTable = t.text === ',' && frame.inFrom;
      continue;
    }
    if (kw === 'from') {
      expectTable = frame.query;
      frame.inFrom = frame.query;
    } else if (kw === 'join') expectTable = true;
    else if (kw === 'table') expectTable = true;
    else if (kw === 'lateral') expectTable = expectTable || frame.inFrom;
    else {
      expectTable = false;
      if (kw && FROM_ENDS.has(kw)) frame.inFrom = false;
      if (kw === 'select') frame.query = true;
    }
  }

  let ast: unknown;
  let refs: string[] = [];
  let firstError: Error | undefined;
  const parsed = parserText(tokens, hinted);
  for (const grammar of GRAMMARS) {
    const parser = await parserFor(grammar);
    try {
      ({ ast, tableList: refs } = parser.parse(parsed, { database: grammar }));
      break;
    } catch (err) {
      firstError ??= err as Error;
    }
  }
  if (ast === undefined) {
    const loc = (firstError as { location?: { start?: { line: number; column: number } } }).location?.start;
    refuse(
      `The SQL could not be checked as one read-only query: the parser stopped${loc ? ` at line ${loc.line}, column ${loc.column}` : ''}`,
      'Write it as a plain SELECT (Spark-only clauses such as LATERAL VIEW or TABLESAMPLE are not accepted here), and check the syntax',
    );
  }
  const nodes = Array.isArray(ast) ? ast : [ast];
  if (nodes.length !== 1) {
    refuse(`Only one statement may run per call, and this SQL holds ${nodes.length}`, HINT_ONE);
  }
  const type = String((nodes[0] as { type?: string }).type ?? '');
  if (type !== 'select') {
    refuse(
      `Only read-only queries can run here, and this is a ${short(type.toUpperCase()) || 'non-query'} statement`,
      HINT_QUERY,
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
  const own = ownSchemas(n);
  const found = new Set<string>();
  for (const ref of refs) {
    const [, db, table] = ref.split('::');
    if (!table) continue;
    if (!db || db === 'null') {
      found.add(`bronze.${table}`);
      continue;
    }
    const parts = db.split('.').map((p) => p.toLowerCase());
    const schema = parts[parts.length - 1]!;
    const catalogOk = parts.length === 1 || (parts.length === 2 && parts[0] === n.catalog.toLowerCase());
    const layer = own.get(schema);
    if (!catalogOk || !layer) outside(`${db}.${table}`, n);
    found.add(`${layer}.${table}`);
  }
  return [...found].sort();
}
