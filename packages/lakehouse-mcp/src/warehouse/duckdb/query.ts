/**
 * User SQL on the embedded warehouse: the checks every query passes before it runs (one statement, a plain
 * query, only the tenant's layers; see sql-check.ts) and reading its rows within bounds. This runs in
 * the query process (query-worker.ts), never in the server's own: DuckDB folds constants while it
 * prepares, so even preparing can build huge values that no interrupt stops.
 */
import type { DuckDBConnection, DuckDBInstance, DuckDBResult } from '@duckdb/node-api';
import { CancelledError, PermissionError, UpstreamError, UserInputError, untrusted } from '@switchyard/core';
import * as sql from './dialect.js';
import { checkQueryTree, withoutLocalPaths, type QueryTree } from './sql-check.js';
import type { QueryOptions, QueryResult } from '../types.js';
import { queryTimeout, readShown, spillRows } from '../result-rows.js';

type DuckDB = typeof import('@duckdb/node-api');
let duckdbModule: Promise<DuckDB> | undefined;
export const loadDuckDB = (): Promise<DuckDB> => (duckdbModule ??= import('@duckdb/node-api'));

/** The first line of a DuckDB error, plus its "Did you mean" suggestion when it has one. */
export function duckMessage(err: unknown): string {
  const text = withoutLocalPaths(err instanceof Error ? err.message : String(err));
  const lines = text.split('\n').map((l) => l.trim());
  const hint = lines.find((l) => /^Did you mean/i.test(l));
  const first = (lines[0] ?? '')
    .replace(/\s*LINE \d+:.*$/, '')
    .replace(/^Failed to (extract statements|prepare query|execute prepared statement|bind value): /i, '');
  return hint ? `${first} ${hint}` : first;
}

/** An engine on a tenant file; a file another process holds is tried again for 5 s, then named. */
export async function openEngine(
  path: string,
  catalog: string,
  dir: string,
  options: Record<string, string>,
): Promise<DuckDBInstance> {
  const { DuckDBInstance } = await loadDuckDB();
  const deadline = Date.now() + 5_000;
  for (;;) {
    try {
      return await DuckDBInstance.create(path, options);
    } catch (err) {
      const message = duckMessage(err);
      if (!/lock/i.test(message) || Date.now() > deadline) {
        if (/lock/i.test(message)) {
          throw new UpstreamError(`The catalog ${catalog} is in use by another process`, {
            upstream: { service: 'DuckDB', message },
            hint: 'Close the other lakehouse-mcp or DuckDB process that has it open, then try again',
          });
        }
        if (/permission|read-only file system|No such file/i.test(message)) throw fsFailure(dir, err);
        throw err;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export function fsFailure(dir: string, err: unknown): PermissionError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  return new PermissionError(`The lakehouse folder ${dir} cannot be created or written (${code})`, {
    hint: 'Set LAKEHOUSE_HOME to a folder you can write to, or fix the permissions of this one; nothing was changed',
  });
}

const QUERY_START = /^(SELECT|WITH|FROM|VALUES|TABLE|DESCRIBE|SHOW|SUMMARIZE|PIVOT|UNPIVOT)\b/i;

/** The first keyword of a statement, after comments, whitespace and opening parentheses. */
function leadingKeyword(text: string): string {
  const stripped = text.replace(/^(\s|\(|--[^\n]*(\n|$)|\/\*[\s\S]*?\*\/)+/, '');
  return /^[A-Za-z_]+/.exec(stripped)?.[0]?.toUpperCase() ?? '';
}

const STATEMENT_NAMES: Record<number, string> = {
  2: 'INSERT',
  3: 'UPDATE',
  4: 'EXPLAIN',
  5: 'DELETE',
  6: 'PREPARE',
  7: 'CREATE',
  8: 'EXECUTE',
  9: 'ALTER',
  10: 'transaction',
  11: 'COPY',
  12: 'ANALYZE',
  13: 'SET',
  14: 'CREATE FUNCTION',
  15: 'DROP',
  16: 'EXPORT',
  17: 'PRAGMA',
  18: 'VACUUM',
  19: 'CALL',
  20: 'SET',
  21: 'INSTALL/LOAD',
  23: 'extension',
  25: 'ATTACH',
  26: 'DETACH',
  28: 'COPY DATABASE',
  29: 'UPDATE EXTENSIONS',
  30: 'MERGE',
};

/**
 * Exactly one statement, which must be a plain query over the tenant's layers: DuckDB's own parser counts the
 * statements, its parse tree is checked (sql-check.ts) and the prepared statement's type must be
 * SELECT; nothing runs before every check passes. Returns the prepared statement and the tables it reads.
 */
export async function prepareQuery(conn: DuckDBConnection, text: string, catalog: string) {
  let extracted;
  try {
    extracted = await conn.extractStatements(text);
  } catch (err) {
    throw new UserInputError(`The SQL could not be parsed: ${untrusted(duckMessage(err), 300)}`, {
      hint: 'Send exactly one SELECT statement in DuckDB SQL',
    });
  }
  if (extracted.count === 0)
    throw new UserInputError('The SQL holds no statement', { hint: 'Send one SELECT' });
  if (extracted.count > 1 && /^(PIVOT|UNPIVOT)$/.test(leadingKeyword(text))) {
    // Without an IN list DuckDB first creates an ENUM type of the values found: a write.
    throw new UserInputError('A PIVOT here must list the values it turns into columns; nothing was run', {
      hint: "Name them: PIVOT bronze.t ON status IN ('new', 'paid') USING count(*)",
    });
  }
  if (extracted.count > 1) {
    throw new UserInputError(
      `Only one statement may run per call, and this SQL holds ${extracted.count}; nothing was run`,
      { hint: 'Send a single SELECT without a second statement after a semicolon' },
    );
  }
  const keyword = leadingKeyword(text);
  if (!QUERY_START.test(keyword)) throw notAQuery(keyword);
  const tree = JSON.parse(
    (await conn.runAndReadAll(sql.PARSE_TREE, [text])).getRows()[0]![0] as string,
  ) as QueryTree;
  if (tree.error) {
    // Not a SELECT (a write after a WITH, say): name its kind. Preparing binds, it does not run.
    const type = await extracted
      .prepare(0)
      .then((p) => {
        const t = p.statementType as number;
        p.destroySync();
        return t;
      })
      .catch(() => undefined);
    if (type !== undefined && type !== 1) throw notAQuery(STATEMENT_NAMES[type]);
  }
  const tables = checkQueryTree(tree, catalog);
  let prepared;
  try {
    prepared = await extracted.prepare(0);
  } catch (err) {
    throw queryError(err, catalog);
  }
  const type = prepared.statementType as number;
  if (type !== 1) {
    prepared.destroySync();
    throw notAQuery(STATEMENT_NAMES[type]);
  }
  return { prepared, tables };
}

function notAQuery(kind: string | undefined): UserInputError {
  const what = kind
    ? `this is ${/^([AEIO]|U[^S])/i.test(kind) ? 'an' : 'a'} ${kind} statement`
    : 'this is not a query';
  return new UserInputError(`Only read-only queries can run here, and ${what}; nothing was run`, {
    hint: 'Use a single SELECT (or WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, PIVOT … IN (…)); data changes go through the sync, upload and transform tools',
  });
}

export function queryError(err: unknown, catalog: string): Error {
  if (err instanceof Error && 'kind' in err) return err;
  const message = duckMessage(err);
  if (/^Permission Error|file system operations are disabled|disabled by configuration/i.test(message)) {
    return new UserInputError(
      `Reading or writing files is disabled for queries: ${untrusted(message, 300)}`,
      {
        hint: 'Load a file with lakehouse_upload_file first, then query its bronze table',
      },
    );
  }
  if (/^Catalog Error|Catalog "[^"]*" does not exist/i.test(message)) {
    return new UserInputError(
      `The query refers to something that does not exist in ${catalog}: ${untrusted(message, 300)}`,
      {
        hint: `Only this tenant's tables can be queried; call lakehouse_list_tables to see them`,
      },
    );
  }
  if (
    /^(Parser|Binder|Conversion|Invalid Input|Out of Range|Not implemented|Constraint|Catalog) Error/i.test(
      message,
    )
  ) {
    return new UserInputError(`DuckDB refused the query: ${untrusted(message, 300)}`);
  }
  if (/^Out of Memory Error/i.test(message)) {
    return new UserInputError(
      `The query needs more memory and temp disk than it may use: ${untrusted(message, 300)}`,
      {
        hint: 'Aggregate or filter before joining or sorting, or raise LAKEHOUSE_MEMORY_LIMIT or LAKEHOUSE_TEMP_LIMIT',
      },
    );
  }
  if (/^INTERRUPT/i.test(message)) return new CancelledError();
  return new UpstreamError(`DuckDB could not run the query: ${untrusted(message, 300)}`);
}

/** Interval and blob values as readable text; everything else as DuckDB's JSON conversion gives it. */
function cleanValue(value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const v = value as Record<string, unknown>;
    if ('months' in v && 'days' in v && 'micros' in v && Object.keys(v).length === 3) {
      return `${String(v.months)} months ${String(v.days)} days ${String(v.micros)} microseconds`;
    }
  }
  if (typeof value === 'string' && value.startsWith('\\x') && /^(\\x[0-9A-F]{2})+$/.test(value)) {
    return `\\x${value.replace(/\\x/g, '').toLowerCase()}`;
  }
  return value;
}

/** The rows of a result one at a time, each converted only when it is reached (a chunk holds 2,048). */
async function* resultRows(result: DuckDBResult): AsyncGenerator<unknown[]> {
  const { JsonDuckDBValueConverter } = await loadDuckDB();
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) return;
    for (let i = 0; i < chunk.rowCount; i++) {
      yield (chunk.convertRowValues(i, JsonDuckDBValueConverter) as unknown[]).map(cleanValue);
    }
  }
}

function columnsOf(result: DuckDBResult) {
  return result.columnNames().map((name, i) => ({
    name,
    type: result.columnType(i).toString(),
    nullable: true,
  }));
}

/** Rows up to `maxRows` and `maxBytes` of JSON (the first row always, so a wide row still shows). */
export async function readBounded(
  result: DuckDBResult,
  maxRows: number,
  maxBytes: number,
): Promise<Omit<QueryResult, 'elapsedMs'>> {
  const read = await readShown(resultRows(result), maxRows, maxBytes);
  return { columns: columnsOf(result), ...read };
}

/** Every row (up to `spillMaxRows` and core's spill size cap) to a CSV file, and the first ones to show. */
async function readWithSpill(
  result: DuckDBResult,
  options: QueryRun,
  name: string,
): Promise<Omit<QueryResult, 'elapsedMs'>> {
  const columns = columnsOf(result);
  const read = await spillRows(resultRows(result), () => columns.map((c) => c.name), options, name);
  return { columns, rows: read.rows, truncated: read.truncated, spill: read.spill };
}

/** What a query call asks of the query process: QueryOptions without the signal (cancel is a message). */
export type QueryRun = Omit<QueryOptions, 'signal'>;

/** The columns a query would return and the tables it reads; it is checked and prepared, not run. */
export async function describeQuery(conn: DuckDBConnection, text: string, catalog: string) {
  const { prepared, tables } = await prepareQuery(conn, text, catalog);
  const columns = [];
  for (let i = 0; i < prepared.columnCount; i++) {
    columns.push({ name: prepared.columnName(i), type: prepared.columnType(i).toString(), nullable: true });
  }
  prepared.destroySync();
  return { columns, tables };
}

/** Check, prepare and run one query, stopping it at the time limit; rows read within bounds. */
export async function runQuery(
  conn: DuckDBConnection,
  text: string,
  catalog: string,
  options: QueryRun,
): Promise<QueryResult> {
  const started = performance.now();
  const { prepared } = await prepareQuery(conn, text, catalog);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    conn.interrupt();
  }, options.timeoutMs);
  try {
    const result = await prepared.stream();
    const read = options.spillDir
      ? await readWithSpill(result, options, catalog)
      : await readBounded(result, options.maxRows, options.maxBytes);
    return { ...read, elapsedMs: Math.round(performance.now() - started) };
  } catch (err) {
    if (timedOut) throw queryTimeout(options.timeoutMs);
    throw queryError(err, catalog);
  } finally {
    clearTimeout(timer);
    prepared.destroySync();
  }
}
