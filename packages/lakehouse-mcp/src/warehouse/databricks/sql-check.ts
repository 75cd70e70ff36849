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
 *
 * The lexer is spark-lexer.ts; the allow- and deny-lists and the names of the tenant are sql-allow.ts.
 */
import { UserInputError } from '@switchyard/core';
import type { Naming } from './dialect.js';
import { blank, nameOf, statementsOf, tokenize, type Token } from './spark-lexer.js';
import {
  checkQualifiedName,
  checkTableName,
  CLAUSE_WORDS,
  forbidden,
  FROM_ENDS,
  HINT_FILES,
  HINT_ONE,
  HINT_QUERY,
  mapLayers,
  QUERY_WORDS,
  refuse,
  short,
  TABLE_FUNCTIONS,
  tablesOf,
} from './sql-allow.js';

export { splitStatements, tokenize, type Token, type TokenKind } from './spark-lexer.js';
export { mapLayers } from './sql-allow.js';

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
