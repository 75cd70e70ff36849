/**
 * Databricks SQL text cut into tokens exactly as Spark's lexer cuts it: comments, strings and quoted names are
 * where a check and the warehouse can disagree about what is code, so the lexer follows Spark's rules rather
 * than generic SQL ones, and marks what Spark would not lex (an unclosed comment or string, a character Spark
 * has no token for) as `invalid`. The query check (sql-check.ts) works on these tokens.
 */
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

/** A word or `quoted name` as the name it stands for, in lower case. */
export function nameOf(t: Token | undefined): string | undefined {
  if (!t) return undefined;
  if (t.kind === 'word') return t.text.toLowerCase();
  if (t.kind === 'quoted') return t.text.slice(1, -1).replace(/``/g, '`').toLowerCase();
  return undefined;
}

/** Blank space or a comment. */
export const blank = (t: Token | undefined) =>
  t !== undefined && (t.kind === 'space' || t.kind === 'comment');

/** Groups of tokens between semicolons (outside strings, comments and quoted names) that hold some code. */
export function statementsOf(tokens: Token[]): Token[][] {
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
