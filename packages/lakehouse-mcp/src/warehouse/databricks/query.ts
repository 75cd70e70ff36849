/**
 * User SQL on a Databricks SQL warehouse, after the check (sql-check.ts): one statement run in a session of the
 * tenant's catalog with a STATEMENT_TIMEOUT, its rows read in chunks within bounds (result-rows.ts), and the
 * statement stopped on the warehouse once the rest is not wanted, at the time limit, or on cancel.
 */
import { CancelledError, UpstreamError, UserInputError } from '@switchyard/core';
import type { ColumnInfo, QueryOptions, QueryResult } from '../types.js';
import { queryTimeout, readShown, spillRows } from '../result-rows.js';
import {
  type DriverOperation,
  cleanValue,
  isCancelled,
  isTimeout,
  readAll,
  schemaColumns,
  TIMEOUT_STEPS,
} from './driver.js';
import type { DatabricksTenant } from './tenant.js';

/** A statement run to its end in a session of the given catalog and schema; every row is read. */
export async function runOn(
  tenant: DatabricksTenant,
  options: { catalog?: string; schema?: string; timeoutSeconds?: number },
  sql: string,
  signal?: AbortSignal,
): Promise<{ columns: ColumnInfo[]; rows: unknown[][] }> {
  const op = await tenant.warehouse.execute(options, sql, {}, signal);
  try {
    return await readAll(op);
  } finally {
    await op.close().catch(() => {});
  }
}

/** The rows of an operation, chunk by chunk; the columns are learnt with the first chunk. */
async function* operationRows(op: DriverOperation, columns: ColumnInfo[]): AsyncGenerator<unknown[]> {
  for (;;) {
    const chunk = await op.fetchChunk({ maxRows: 1000 });
    if (columns.length === 0) {
      columns.push(...schemaColumns(await op.getSchema()));
      // The driver returns rows keyed by column name: two columns of one name would show one twice.
      const seen = new Set<string>();
      for (const c of columns) {
        if (seen.has(c.name)) {
          throw new UserInputError(`The result has two columns named ${c.name}`, {
            hint: 'Give them distinct aliases (AS …) and run the query again',
          });
        }
        seen.add(c.name);
      }
    }
    for (const raw of chunk) {
      yield columns.map((c) => cleanValue((raw as Record<string, unknown>)[c.name]));
    }
    if (!(await op.hasMoreRows())) return;
  }
}

/** Run a checked query (`sql` as sql-check.ts returns it) within the options' bounds. */
export async function runQuery(
  tenant: DatabricksTenant,
  sql: string,
  options: QueryOptions,
): Promise<QueryResult> {
  const started = performance.now();
  // Sessions are kept per timeout: a few steps (not one per value asked for) keep their number small; the
  // client timer below holds the exact limit when the step is longer.
  const asked = Math.max(1, Math.round(options.timeoutMs / 1000));
  const timeoutSeconds = TIMEOUT_STEPS.find((t) => t >= asked) ?? asked;
  let op: DriverOperation;
  try {
    op = await tenant.warehouse.execute(
      { catalog: tenant.naming.catalog, schema: tenant.naming.schema('bronze'), timeoutSeconds },
      sql,
      { maxRows: Math.min(options.maxRows + 1, 10_000) },
      options.signal,
    );
  } catch (err) {
    throw tenant.fail(err, 'query');
  }
  let timedOut = false;
  let stopped = false;
  const stop = () => {
    stopped = true;
    void op.cancel().catch(() => {});
  };
  // STATEMENT_TIMEOUT stops it on the warehouse; this is the backstop if the answer gets lost.
  const timer = setTimeout(
    () => {
      timedOut = true;
      stop();
    },
    options.timeoutMs + (timeoutSeconds === asked ? 5_000 : 0),
  );
  options.signal.addEventListener('abort', stop);
  if (options.signal.aborted) stop();
  const columns: ColumnInfo[] = [];
  try {
    const rows = operationRows(op, columns);
    let read: { rows: unknown[][]; truncated: boolean; spill?: QueryResult['spill']; limited?: boolean };
    if (options.spillDir) {
      read = await spillRows(rows, () => columns.map((c) => c.name), options, tenant.catalog);
    } else read = await readShown(rows, options.maxRows, options.maxBytes);
    // Cut short (rows, bytes or the spill limit): the rest is not wanted, so the warehouse may stop.
    if (read.truncated || read.limited) stop();
    return {
      columns,
      rows: read.rows,
      truncated: read.truncated,
      elapsedMs: Math.round(performance.now() - started),
      ...(read.spill ? { spill: read.spill } : {}),
    };
  } catch (err) {
    if (options.signal.aborted) throw new CancelledError();
    if (timedOut || isTimeout(err)) throw queryTimeout(options.timeoutMs);
    if (isCancelled(err) && !stopped) {
      throw new UpstreamError(
        'Databricks cancelled the query before it finished (someone cancelled it in the workspace, or the warehouse stopped)',
        {
          hint: 'Run it again; if it keeps happening, check the query history of the warehouse',
        },
      );
    }
    throw tenant.fail(err, 'query');
  } finally {
    clearTimeout(timer);
    options.signal.removeEventListener('abort', stop);
    await op.close().catch(() => {});
  }
}
