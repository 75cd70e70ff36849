import { rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import {
  CancelledError,
  defineTool,
  isSwitchyardError,
  NotFoundError,
  UpstreamError,
  UserInputError,
  formatBytes,
  untrusted,
  z,
  type ToolDefinition,
} from '@switchyard/core';
import {
  checkFileName,
  readableUpload,
  describeCsvError,
  detectFormat,
  bronzeColumnNames,
  sanitizeTableName,
  sniffDelimiter,
  sniffEncoding,
  spreadsheetToNdjson,
  type FileFormat,
} from '../files.js';
import type { Lakehouse } from '../lakehouse.js';
import {
  checkSourceQuery,
  connectPostgres,
  currentSnapshot,
  describePgError,
  describeSource,
  streamParts,
  streamToFeed,
  type SourceShape,
} from '../sources/postgres.js';
import { newRunId } from '../warehouse/runs.js';
import type { FileSpec, PartColumn, StagedLoad, SyncRunRecord, TableRef } from '../warehouse/types.js';
import { columnsText, connectionArg, n, tenantArg } from './common.js';

const INLINE_LIMIT = 1_000_000;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** A source column by its name (exact, then in any case) or by its bronze name. */
function sourceColumn(shape: SourceShape, bronzeOf: Map<string, string>, name: string) {
  return (
    shape.columns.find((c) => c.name === name) ??
    shape.columns.find((c) => c.name.toLowerCase() === name.toLowerCase()) ??
    shape.columns.find((c) => bronzeOf.get(c.name) === name)
  );
}

function parseSourceTable(text: string): { schema: string; table: string } {
  const parts = text.split('.');
  if (parts.length === 1) return { schema: 'public', table: parts[0]! };
  if (parts.length === 2 && parts[0] && parts[1]) return { schema: parts[0], table: parts[1] };
  throw new UserInputError(`'${text}' is not a table name; use schema.table or table (schema public)`);
}

export function ingestTools(lh: Lakehouse): ToolDefinition[] {
  return [
    defineTool({
      name: 'lakehouse_sync_table_to_bronze',
      title: 'Sync a PostgreSQL table into bronze',
      description:
        'Copies a source table or SELECT into bronze from one read-only snapshot. full replaces; incremental reads rows past the stored cursor_column watermark, merged on the primary key or key_columns. Atomic.',
      toolset: 'ingest',
      input: {
        connection: connectionArg,
        table: z.string().max(200).optional().describe('schema.table (or table, in public).'),
        source_query: z.string().max(20000).optional().describe('A SELECT instead (needs target_table).'),
        target_table: z.string().max(63).optional().describe('Bronze table (default: source name).'),
        sync_mode: z.enum(['full', 'incremental']).default('full').describe('full or incremental.'),
        cursor_column: z
          .string()
          .max(63)
          .optional()
          .describe('incremental: an increasing column, e.g. updated_at.'),
        key_columns: z
          .array(z.string().max(63))
          .max(16)
          .optional()
          .describe('incremental: merge keys if no primary key.'),
        tenant_id: tenantArg,
      },
      output: {
        target: z.string(),
        mode: z.enum(['full', 'incremental']),
        rows_read: z.number(),
        table_rows: z.number(),
        bytes_read: z.number(),
        duration_ms: z.number(),
        watermark: z.string().nullable(),
        run_id: z.string(),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
      handler: async (args, ctx) => {
        if (Boolean(args.table) === Boolean(args.source_query)) {
          throw new UserInputError('Pass either table or source_query, not both and not neither');
        }
        const sourceRef = args.table ? parseSourceTable(args.table) : undefined;
        const query = args.source_query ? checkSourceQuery(args.source_query) : undefined;
        if (query && !args.target_table)
          throw new UserInputError('A source_query needs target_table, the bronze table to fill');
        const { tenant, config } = await lh.connection(args.tenant_id, args.connection);
        const target: TableRef = {
          layer: 'bronze',
          name: sanitizeTableName(args.target_table ?? sourceRef!.table),
        };
        const targetLabel = `bronze.${target.name}`;
        const state = await tenant.getSyncState(targetLabel);
        const incremental = args.sync_mode === 'incremental';
        const cursorColumn = args.cursor_column ?? (incremental ? state?.cursorColumn : undefined);
        if (incremental && !cursorColumn) {
          throw new UserInputError(
            'An incremental sync needs cursor_column the first time (an updated_at or an increasing id)',
            {
              hint: 'Pass cursor_column; it is remembered for later runs',
            },
          );
        }
        const runId = newRunId();
        const started = new Date();
        const sourceLabel = sourceRef ? `${sourceRef.schema}.${sourceRef.table}` : 'query';
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
        let bronzeOf = new Map<string, string>();
        let bronzeColumns: PartColumn[] = [];
        try {
          staged = await tenant.stage(target, runId);
          const client = await connectPostgres(config, { signal: ctx.signal });
          let shape: SourceShape;
          let useWatermark = false;
          let snapshot: string | null = null;
          // Rows at the watermark are told apart by the previous run's snapshot (tables only): each read once.
          let readOnce = false;
          let keys: string[] = [];
          try {
            await client.query('BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
            shape = await describeSource(client, sourceRef ?? { query: query! });
            // Bronze names follow the naming rule of tables; the source's spelling is kept as the comment.
            const names = bronzeColumnNames(shape.columns.map((c) => c.name));
            bronzeOf = new Map(shape.columns.map((c, i) => [c.name, names[i]!]));
            bronzeColumns = shape.columns.map((c, i) => ({
              ...c,
              name: names[i]!,
              ...(names[i] !== c.name ? { original: c.name } : {}),
            }));
            // A column by its source name, in any case, or by its bronze name (what the state keeps).
            const column = (name: string) => sourceColumn(shape, bronzeOf, name);
            const cursor = cursorColumn ? column(cursorColumn) : undefined;
            if (incremental) {
              if (!cursor) {
                throw new UserInputError(`The source has no column '${cursorColumn}' to use as the cursor`, {
                  hint: `Its columns are ${shape.columns.map((c) => c.name).join(', ')}`,
                });
              }
              keys =
                args.key_columns ??
                (state?.cursorColumn === cursorColumn && state?.keyColumns.length
                  ? state!.keyColumns
                  : shape.primaryKey);
              if (keys.length === 0) {
                throw new UserInputError(
                  `${shape.label} has no primary key, so an incremental sync cannot merge its rows`,
                  { hint: "Pass key_columns (columns that identify a row), or use sync_mode 'full'" },
                );
              }
              const missing = keys.filter((k) => !column(k));
              if (missing.length)
                throw new UserInputError(
                  `The source has no key column ${missing.map((m) => `'${m}'`).join(', ')}`,
                );
              keys = keys.map((k) => column(k)!.name);
              const exists = (await tenant.columnsOf(target)) !== undefined;
              useWatermark = Boolean(
                exists &&
                state?.watermark &&
                (state.cursorColumn === cursor.name || state.cursorColumn === bronzeOf.get(cursor.name)) &&
                state.source === sourceLabel,
              );
            }
            const estimate = shape.estimatedRows && shape.estimatedRows > 0 ? shape.estimatedRows : undefined;
            await ctx.progress(0, estimate, `reading ${shape.label}`);
            const filter =
              useWatermark && cursor
                ? {
                    column: cursor.name,
                    pgType: cursor.pgType,
                    watermark: state!.watermark!,
                    snapshot: state!.sourceSnapshot,
                  }
                : undefined;
            readOnce = Boolean(filter?.snapshot && shape.table);
            if (incremental) snapshot = await currentSnapshot(client);
            const loaded = async (rows: number) =>
              ctx.progress(
                rows,
                estimate && estimate >= rows ? estimate : undefined,
                `${n(rows)} rows loaded`,
              );
            const feed = staged.feedCsv?.(bronzeColumns, {
              segmentBytes: lh.settings.partBytes,
              onLoaded: (rows) => void loaded(rows).catch(() => {}),
            });
            bytes = feed
              ? await streamToFeed(client, shape, feed, { signal: ctx.signal, cursor: filter })
              : await streamParts(client, shape, {
                  partBytes: lh.settings.partBytes,
                  dir: staged.workDir,
                  signal: ctx.signal,
                  cursor: filter,
                  onPart: async (path) => {
                    await staged!.appendCsvPart(path, bronzeColumns);
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
            if (
              e.code === undefined &&
              !(err instanceof Error && 'kind' in err) &&
              !/connect|terminat|socket/i.test(e.message ?? '')
            )
              throw err;
            throw describePgError(err, config);
          } finally {
            await client.end().catch(() => {});
          }
          const sourceCursor = cursorColumn ? sourceColumn(shape, bronzeOf, cursorColumn)?.name : undefined;
          const cursorName = sourceCursor ? bronzeOf.get(sourceCursor) : undefined;
          const bronzeKeys = keys.map((k) => bronzeOf.get(k) ?? k);
          const watermark =
            incremental && cursorName ? ((await staged.maxOf(cursorName)) ?? state?.watermark ?? null) : null;
          const rowsRead = staged.rows;
          const record = run('succeeded', rowsRead, bytes, watermark ?? undefined);
          const result = await staged.commit(
            useWatermark ? 'merge' : 'replace',
            bronzeKeys,
            {
              run: record,
              ...(incremental && cursorName
                ? {
                    state: {
                      target: targetLabel,
                      connection: args.connection,
                      source: sourceLabel,
                      cursorColumn: cursorName,
                      keyColumns: bronzeKeys,
                      watermark,
                      sourceSnapshot: snapshot,
                    },
                  }
                : {}),
              lineage: {
                target,
                kind: 'sync',
                inputs: [`postgres:${args.connection}/${sourceLabel}`],
                definition: query ?? `${args.sync_mode} sync of ${sourceLabel}`,
              },
            },
            ctx.signal,
          );
          const ms = record.finishedAt.getTime() - started.getTime();
          await ctx.progress(rowsRead, rowsRead, 'committed');
          const how = useWatermark
            ? `incremental: ${n(rowsRead)} rows ${readOnce ? 'changed since' : 'at or after'} ${cursorName} = ${state!.watermark} merged on ${bronzeKeys.join(', ')}`
            : incremental
              ? `incremental, first run: ${n(rowsRead)} rows loaded in full`
              : `full: ${n(rowsRead)} rows`;
          return {
            text: `Synced ${sourceLabel} from '${args.connection}' into ${targetLabel} (${how}); the table now has ${n(result.rows)} rows. Read ${formatBytes(bytes)} in ${seconds(ms)}.${watermark ? ` Next watermark: ${watermark}.` : ''} Run ${runId}.`,
            data: {
              target: `${tenant.catalog}.${targetLabel}`,
              mode: args.sync_mode,
              rows_read: rowsRead,
              table_rows: result.rows,
              bytes_read: bytes,
              duration_ms: ms,
              watermark,
              run_id: runId,
            },
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
          await tenant
            .recordRun(run(cancelled ? 'cancelled' : 'failed', 0, bytes, undefined, message))
            .catch((e: unknown) => ctx.log.warn(`could not record the failed run: ${String(e)}`));
          if (cancelled) throw new CancelledError(cancelledText);
          if (isSwitchyardError(err)) throw err;
          throw new UpstreamError(
            `The sync of ${sourceLabel} failed while loading: ${tenant.engineMessage(err)}; ${targetLabel} was left as it was`,
          );
        }
      },
    }),

    defineTool({
      name: 'lakehouse_upload_file',
      title: 'Load a file into bronze',
      description:
        'Loads a local file (path) or inline content into a bronze table, replacing it atomically. CSV/TSV sniffed; XLSX one sheet; up to 2 GB.',
      toolset: 'ingest',
      input: {
        path: z.string().max(4096).optional().describe('Absolute path under an allowed folder.'),
        content: z.string().max(INLINE_LIMIT).optional().describe('Inline content instead of path.'),
        content_encoding: z.enum(['utf-8', 'base64']).default('utf-8').describe('base64 for binary files.'),
        file_name: z.string().max(255).optional().describe('Name for inline content, e.g. a.csv.'),
        table_name: z.string().max(63).optional().describe('Bronze table (default: file name).'),
        format: z
          .enum(['csv', 'xlsx', 'parquet', 'json', 'ndjson'])
          .optional()
          .describe('Default: from the name.'),
        delimiter: z.string().min(1).max(4).optional().describe('CSV delimiter (default: sniffed).'),
        header: z.boolean().optional().describe('CSV has a header row (default: sniffed).'),
        sheet: z
          .union([z.string().max(100), z.number().int().min(1).max(1000)])
          .optional()
          .describe('XLSX sheet name or number (default: first).'),
        header_row: z.number().int().min(1).max(1000).default(1).describe('XLSX header row.'),
        tenant_id: tenantArg,
      },
      output: {
        table: z.string(),
        rows: z.number(),
        column_count: z.number(),
        format: z.string(),
        bytes: z.number(),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
      handler: async (args, ctx) => {
        if (Boolean(args.path) === (args.content !== undefined)) {
          throw new UserInputError('Pass either path or content (with file_name), not both and not neither');
        }
        const tenant = await lh.tenant(args.tenant_id);
        let fileName: string;
        let sourcePath: string | undefined;
        if (args.path) {
          sourcePath = (await readableUpload(lh.settings.files, args.path, lh.settings.maxUploadBytes)).path;
          fileName = basename(sourcePath);
        } else {
          if (!args.file_name)
            throw new UserInputError(
              'Inline content needs file_name (e.g. orders.csv) to tell its format and name the table',
            );
          fileName = checkFileName(args.file_name);
        }
        const target: TableRef = {
          layer: 'bronze',
          name: sanitizeTableName(args.table_name ?? basename(fileName, extname(fileName))),
        };
        const runId = newRunId();
        const started = new Date();
        const staged = await tenant.stage(target, runId);
        try {
          let path = sourcePath;
          if (!path) {
            path = join(staged.workDir, `inline${extname(fileName)}`);
            writeFileSync(
              path,
              args.content_encoding === 'base64' ? Buffer.from(args.content!, 'base64') : args.content!,
              { mode: 0o600 },
            );
          }
          const bytes = statSync(path).size;
          if (bytes === 0) {
            throw new UserInputError(
              `${fileName} is empty (0 bytes): there is nothing to load, and no table was created or changed`,
            );
          }
          const format: FileFormat = detectFormat(fileName, path, args.format);
          let spec: FileSpec;
          let note = '';
          if (format === 'xlsx') {
            const converted = await spreadsheetToNdjson({
              path,
              fileName,
              sheet: args.sheet,
              headerRow: args.header_row,
              outPath: join(staged.workDir, 'sheet.ndjson'),
            });
            spec = converted.spec;
            note = ` from sheet ${untrusted(converted.sheet, 100)}`;
          } else if (format === 'csv') {
            const encoding = sniffEncoding(path);
            spec = {
              path,
              format,
              csv: {
                delimiter: args.delimiter ?? sniffDelimiter(path, fileName, encoding),
                header: args.header,
                encoding,
              },
            };
            if (encoding !== 'utf-8') note = ` (${encoding})`;
          } else spec = { path, format };
          await ctx.progress(0, undefined, `reading ${fileName}`);
          let loaded: Awaited<ReturnType<StagedLoad['appendFile']>>;
          try {
            loaded = await staged.appendFile(spec);
          } catch (err) {
            const message = err instanceof Error ? err.message : String(err);
            if (format === 'csv') throw describeCsvError(fileName, message, spec);
            throw new UserInputError(
              `${fileName} could not be read as ${format}: ${tenant.engineMessage(err)}`,
              {
                hint: 'Check the file, or pass format if the name suggests the wrong one; no table was created or changed',
              },
            );
          }
          if (loaded.rows === 0 && format !== 'csv') {
            throw new UserInputError(
              `${fileName} holds no rows: there is nothing to load, and no table was created or changed`,
            );
          }
          const record: SyncRunRecord = {
            runId,
            kind: 'upload',
            connection: undefined,
            source: sourcePath ?? `inline:${fileName}`,
            target,
            mode: 'full',
            status: 'succeeded',
            startedAt: started,
            finishedAt: new Date(),
            rows: loaded.rows,
            bytes,
            watermark: undefined,
            error: undefined,
          };
          const result = await staged.commit(
            'replace',
            [],
            {
              run: record,
              lineage: { target, kind: 'upload', inputs: [record.source], definition: `${format} upload` },
            },
            ctx.signal,
          );
          const columns = loaded.columns.map((c) => ({ name: c.name, type: c.type }));
          const renamed = loaded.columns.filter((c) => c.original !== undefined).length;
          const renamedNote = renamed
            ? ` (${renamed} name${renamed === 1 ? '' : 's'} normalised; lakehouse_describe_table shows the originals)`
            : '';
          return {
            // Column names come from the file's header: fenced; the file name is quoted.
            text: `Loaded ${untrusted(fileName, 200)}${note} into bronze.${target.name}: ${n(result.rows)} rows, ${columns.length} columns${renamedNote}.\n${columnsText(columns)}`,
            data: {
              table: `${tenant.catalog}.bronze.${target.name}`,
              rows: result.rows,
              column_count: columns.length,
              format,
              bytes,
            },
          };
        } catch (err) {
          await staged.abort();
          if (ctx.signal.aborted)
            throw new CancelledError(
              `The upload of ${fileName} was cancelled; bronze.${target.name} was left as it was.`,
            );
          throw err;
        }
      },
    }),
  ];
}
