/**
 * A PostgreSQL → bronze sync: `planSync` and `planRead` decide, from the arguments, the stored state and the
 * source's shape, what to read and how to commit it (pure, tested without a database); `runSync` reads the source
 * in one read-only snapshot, streams it into a staged load and commits it with its run record, state and lineage.
 */
import { rmSync } from 'node:fs';
import {
  CancelledError,
  isSwitchyardError,
  NotFoundError,
  UpstreamError,
  UserInputError,
  type ToolContext,
} from '@switchyard/core';
import { bronzeColumnNames, sanitizeTableName } from './files.js';
import type { Lakehouse } from './lakehouse.js';
import { checkSourceQuery, describeSource, type SourceShape } from './sources/postgres/catalog.js';
import { connectPostgres, describePgError } from './sources/postgres/connection.js';
import { currentSnapshot, streamParts, streamToFeed, type CursorFilter } from './sources/postgres/copy.js';
import { newRunId } from './warehouse/runs.js';
import type { PartColumn, StagedLoad, SyncRunRecord, SyncState, TableRef } from './warehouse/types.js';

export interface SyncRequest {
  connection: string;
  table?: string | undefined;
  source_query?: string | undefined;
  target_table?: string | undefined;
  sync_mode: 'full' | 'incremental';
  cursor_column?: string | undefined;
  key_columns?: string[] | undefined;
}

/** What a sync will do, decided before the source is opened. */
export interface SyncPlan {
  source: { schema: string; table: string } | { query: string };
  /** `schema.table`, or `query`. */
  sourceLabel: string;
  target: TableRef;
  /** `bronze.<name>`, the key of the stored state. */
  targetLabel: string;
  incremental: boolean;
  /** The cursor column as given or remembered (source or bronze spelling). */
  cursorColumn: string | undefined;
}

/** What to read from the source's shape, and how to commit it. */
export interface ReadPlan {
  /** The source's columns under their bronze names (the source spelling kept as `original`). */
  columns: PartColumn[];
  /** Rows past the stored watermark only (merged); otherwise everything (replaced). */
  cursor: CursorFilter | undefined;
  /** Rows at the watermark are told apart by the previous run's snapshot: each changed row is read once. */
  readOnce: boolean;
  /** The bronze cursor column, for the next watermark. */
  cursorName: string | undefined;
  /** The merge keys, bronze names. */
  keys: string[];
}

function parseSourceTable(text: string): { schema: string; table: string } {
  const parts = text.split('.');
  if (parts.length === 1) return { schema: 'public', table: parts[0]! };
  if (parts.length === 2 && parts[0] && parts[1]) return { schema: parts[0], table: parts[1] };
  throw new UserInputError(`'${text}' is not a table name; use schema.table or table (schema public)`);
}

/** Check the arguments and decide source, target and cursor; `state` is the target's stored sync state. */
export function planSync(args: SyncRequest, state?: SyncState): SyncPlan {
  if (Boolean(args.table) === Boolean(args.source_query)) {
    throw new UserInputError('Pass either table or source_query, not both and not neither');
  }
  const sourceRef = args.table ? parseSourceTable(args.table) : undefined;
  const query = args.source_query ? checkSourceQuery(args.source_query) : undefined;
  if (query && !args.target_table)
    throw new UserInputError('A source_query needs target_table, the bronze table to fill');
  const target: TableRef = {
    layer: 'bronze',
    name: sanitizeTableName(args.target_table ?? sourceRef!.table),
  };
  const incremental = args.sync_mode === 'incremental';
  return {
    source: sourceRef ?? { query: query! },
    sourceLabel: sourceRef ? `${sourceRef.schema}.${sourceRef.table}` : 'query',
    target,
    targetLabel: `bronze.${target.name}`,
    incremental,
    cursorColumn: args.cursor_column ?? (incremental ? state?.cursorColumn : undefined),
  };
}

/** An incremental sync needs a cursor column, given or remembered. */
export function checkCursorKnown(plan: SyncPlan): void {
  if (plan.incremental && !plan.cursorColumn) {
    throw new UserInputError(
      'An incremental sync needs cursor_column the first time (an updated_at or an increasing id)',
      { hint: 'Pass cursor_column; it is remembered for later runs' },
    );
  }
}

/** A source column by its name (exact, then in any case) or by its bronze name. */
export function sourceColumn(shape: SourceShape, bronzeOf: Map<string, string>, name: string) {
  return (
    shape.columns.find((c) => c.name === name) ??
    shape.columns.find((c) => c.name.toLowerCase() === name.toLowerCase()) ??
    shape.columns.find((c) => bronzeOf.get(c.name) === name)
  );
}

/**
 * Decide what to read from the source's shape: bronze names, merge keys, and whether the stored watermark applies
 * (the target exists, and the state was written for this source and cursor).
 */
export function planRead(
  plan: SyncPlan,
  args: Pick<SyncRequest, 'key_columns'>,
  shape: SourceShape,
  state: SyncState | undefined,
  targetExists: boolean,
): ReadPlan {
  // Bronze names follow the naming rule of tables; the source's spelling is kept as the comment.
  const names = bronzeColumnNames(shape.columns.map((c) => c.name));
  const bronzeOf = new Map(shape.columns.map((c, i) => [c.name, names[i]!]));
  const columns: PartColumn[] = shape.columns.map((c, i) => ({
    ...c,
    name: names[i]!,
    ...(names[i] !== c.name ? { original: c.name } : {}),
  }));
  const column = (name: string) => sourceColumn(shape, bronzeOf, name);
  const cursor = plan.cursorColumn ? column(plan.cursorColumn) : undefined;
  const cursorName = cursor ? bronzeOf.get(cursor.name) : undefined;
  if (!plan.incremental) return { columns, cursor: undefined, readOnce: false, cursorName, keys: [] };
  if (!cursor) {
    throw new UserInputError(`The source has no column '${plan.cursorColumn}' to use as the cursor`, {
      hint: `Its columns are ${shape.columns.map((c) => c.name).join(', ')}`,
    });
  }
  let keys =
    args.key_columns ??
    (state?.cursorColumn === plan.cursorColumn && state?.keyColumns.length
      ? state.keyColumns
      : shape.primaryKey);
  if (keys.length === 0) {
    throw new UserInputError(
      `${shape.label} has no primary key, so an incremental sync cannot merge its rows`,
      {
        hint: "Pass key_columns (columns that identify a row), or use sync_mode 'full'",
      },
    );
  }
  const missing = keys.filter((k) => !column(k));
  if (missing.length)
    throw new UserInputError(`The source has no key column ${missing.map((m) => `'${m}'`).join(', ')}`);
  keys = keys.map((k) => column(k)!.name);
  const useWatermark = Boolean(
    targetExists &&
    state?.watermark &&
    (state.cursorColumn === cursor.name || state.cursorColumn === cursorName) &&
    state.source === plan.sourceLabel,
  );
  const copyCursor = useWatermark
    ? {
        column: cursor.name,
        pgType: cursor.pgType,
        watermark: state!.watermark!,
        snapshot: state!.sourceSnapshot,
      }
    : undefined;
  return {
    columns,
    cursor: copyCursor,
    readOnce: Boolean(copyCursor?.snapshot && shape.table),
    cursorName,
    keys: keys.map((k) => bronzeOf.get(k) ?? k),
  };
}

export interface SyncOutcome {
  plan: SyncPlan;
  read: ReadPlan;
  /** The watermark the run read from (an incremental run past a stored one). */
  from: string | undefined;
  rowsRead: number;
  tableRows: number;
  bytes: number;
  durationMs: number;
  watermark: string | null;
  runId: string;
  catalog: string;
}

/** Whether a failure while reading belongs to the warehouse's load rather than to PostgreSQL. */
function isLoadError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return (
    e.code === undefined &&
    !(err instanceof Error && 'kind' in err) &&
    !/connect|terminat|socket/i.test(e.message ?? '')
  );
}

/** Run a sync end to end; the run is recorded whatever happens, and the target is left as it was on failure. */
export async function runSync(
  lh: Lakehouse,
  tenantId: string | undefined,
  args: SyncRequest,
  ctx: Pick<ToolContext, 'signal' | 'log' | 'progress' | 'principal'>,
): Promise<SyncOutcome> {
  // The arguments are checked before anything is opened; the remembered cursor comes with the target's state.
  const targetLabel = planSync(args).targetLabel;
  const { tenant, config } = await lh.connection(tenantId, args.connection, ctx.principal);
  const state = await tenant.meta.getSyncState(targetLabel);
  const plan = planSync(args, state);
  checkCursorKnown(plan);
  const { target, sourceLabel } = plan;
  const runId = newRunId();
  const started = new Date();
  const run = (
    status: SyncRunRecord['status'],
    rows: number,
    bytes: number,
    watermark?: string,
    error?: string,
  ): SyncRunRecord => ({
    runId,
    kind: 'sync',
    connection: args.connection,
    source: sourceLabel,
    target,
    mode: args.sync_mode,
    status,
    startedAt: started,
    finishedAt: new Date(),
    rows,
    bytes,
    watermark,
    error,
  });

  let staged: StagedLoad | undefined;
  let bytes = 0;
  try {
    staged = await tenant.stage(target, runId);
    const client = await connectPostgres(config, { signal: ctx.signal });
    let read: ReadPlan;
    let snapshot: string | null = null;
    try {
      await client.query('BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      const shape = await describeSource(client, plan.source);
      const exists = plan.incremental ? (await tenant.columnsOf(target)) !== undefined : false;
      read = planRead(plan, args, shape, state, exists);
      const estimate = shape.estimatedRows && shape.estimatedRows > 0 ? shape.estimatedRows : undefined;
      await ctx.progress(0, estimate, `reading ${shape.label}`);
      if (plan.incremental) snapshot = await currentSnapshot(client);
      const loaded = async (rows: number) =>
        ctx.progress(
          rows,
          estimate && estimate >= rows ? estimate : undefined,
          `${rows.toLocaleString('en-US')} rows loaded`,
        );
      const feed = staged.feedCsv?.(read.columns, {
        segmentBytes: lh.settings.partBytes,
        onLoaded: (rows) => void loaded(rows).catch(() => {}),
      });
      const columns = read.columns;
      bytes = feed
        ? await streamToFeed(client, shape, feed, { signal: ctx.signal, cursor: read.cursor })
        : await streamParts(client, shape, {
            partBytes: lh.settings.partBytes,
            dir: staged.workDir,
            signal: ctx.signal,
            cursor: read.cursor,
            onPart: async (path) => {
              await staged!.appendCsvPart(path, columns);
              rmSync(path, { force: true });
              await loaded(staged!.rows);
            },
          });
      await client.query('COMMIT');
    } catch (err) {
      if (ctx.signal.aborted) throw new CancelledError();
      const e = err as { code?: string; message?: string };
      if (e.code === '42P01' || /could not open relation/i.test(e.message ?? '')) {
        throw new NotFoundError(
          `The source table ${sourceLabel} disappeared during the sync (PostgreSQL ${e.code}: ${e.message}); ${targetLabel} was left as it was`,
          { hint: 'Check whether the table was dropped or renamed, then run the sync again' },
        );
      }
      // Errors of the warehouse while loading a part are not the source's.
      if (isLoadError(err)) throw err;
      throw describePgError(err, config);
    } finally {
      await client.end().catch(() => {});
    }
    const watermark =
      plan.incremental && read.cursorName
        ? ((await staged.maxOf(read.cursorName)) ?? state?.watermark ?? null)
        : null;
    const rowsRead = staged.rows;
    const record = run('succeeded', rowsRead, bytes, watermark ?? undefined);
    const result = await staged.commit(
      read.cursor ? 'merge' : 'replace',
      read.keys,
      {
        run: record,
        ...(plan.incremental && read.cursorName
          ? {
              state: {
                target: targetLabel,
                connection: args.connection,
                source: sourceLabel,
                cursorColumn: read.cursorName,
                keyColumns: read.keys,
                watermark,
                sourceSnapshot: snapshot,
              },
            }
          : {}),
        lineage: {
          target,
          kind: 'sync',
          inputs: [`postgres:${args.connection}/${sourceLabel}`],
          definition: 'query' in plan.source ? plan.source.query : `${args.sync_mode} sync of ${sourceLabel}`,
        },
      },
      ctx.signal,
    );
    await ctx.progress(rowsRead, rowsRead, 'committed');
    return {
      plan,
      read,
      from: read.cursor?.watermark,
      rowsRead,
      tableRows: result.rows,
      bytes,
      durationMs: record.finishedAt.getTime() - started.getTime(),
      watermark,
      runId,
      catalog: tenant.catalog,
    };
  } catch (err) {
    await staged?.abort();
    const cancelled = ctx.signal.aborted || (isSwitchyardError(err) && err.kind === 'cancelled');
    const cancelledText = `The sync of ${sourceLabel} was cancelled; ${targetLabel} was left as it was.`;
    const message = cancelled
      ? cancelledText
      : isSwitchyardError(err)
        ? err.message
        : tenant.engineMessage(err);
    await tenant.meta
      .recordRun(run(cancelled ? 'cancelled' : 'failed', 0, bytes, undefined, message))
      .catch((e: unknown) => ctx.log.warn(`could not record the failed run: ${String(e)}`));
    if (cancelled) throw new CancelledError(cancelledText);
    if (isSwitchyardError(err)) throw err;
    throw new UpstreamError(
      `The sync of ${sourceLabel} failed while loading: ${tenant.engineMessage(err)}; ${targetLabel} was left as it was`,
    );
  }
}
