/**
 * A file → bronze load: the file (a local path under an allowed folder, or inline content) is checked, its format
 * told or sniffed, loaded into a staged table and committed with its run record and lineage, replacing the target.
 */
import { statSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { CancelledError, UserInputError, untrusted, type ToolContext } from '@switchyard/core';
import {
  checkFileName,
  describeCsvError,
  detectFormat,
  readableUpload,
  sanitizeTableName,
  sniffDelimiter,
  sniffEncoding,
  spreadsheetToNdjson,
  type FileFormat,
} from './files.js';
import type { Lakehouse } from './lakehouse.js';
import { newRunId } from './warehouse/runs.js';
import type { ColumnInfo, FileSpec, StagedLoad, SyncRunRecord, TableRef } from './warehouse/types.js';

export interface UploadRequest {
  path?: string | undefined;
  content?: string | undefined;
  content_encoding: 'utf-8' | 'base64';
  file_name?: string | undefined;
  table_name?: string | undefined;
  format?: FileFormat | undefined;
  delimiter?: string | undefined;
  header?: boolean | undefined;
  sheet?: string | number | undefined;
  header_row: number;
}

export interface UploadOutcome {
  fileName: string;
  /** What was read besides the file itself: the sheet, or an encoding other than UTF-8 (fenced). */
  note: string;
  target: TableRef;
  rows: number;
  columns: ColumnInfo[];
  format: FileFormat;
  bytes: number;
  catalog: string;
}

/** The file's name, and its local path when it is one (checked against the allowed folders and size cap). */
async function locate(lh: Lakehouse, args: UploadRequest): Promise<{ fileName: string; path?: string }> {
  if (Boolean(args.path) === (args.content !== undefined)) {
    throw new UserInputError('Pass either path or content (with file_name), not both and not neither');
  }
  if (args.path) {
    const path = (await readableUpload(lh.settings.files, args.path, lh.settings.maxUploadBytes)).path;
    return { fileName: basename(path), path };
  }
  if (!args.file_name)
    throw new UserInputError(
      'Inline content needs file_name (e.g. orders.csv) to tell its format and name the table',
    );
  return { fileName: checkFileName(args.file_name) };
}

/** How DuckDB is to read the file: the format, and for CSV the delimiter, header and encoding. */
async function fileSpec(
  args: UploadRequest,
  path: string,
  fileName: string,
  workDir: string,
): Promise<{ spec: FileSpec; format: FileFormat; note: string }> {
  const format = detectFormat(fileName, path, args.format);
  if (format === 'xlsx') {
    const converted = await spreadsheetToNdjson({
      path,
      fileName,
      sheet: args.sheet,
      headerRow: args.header_row,
      outPath: join(workDir, 'sheet.ndjson'),
    });
    return { spec: converted.spec, format, note: ` from sheet ${untrusted(converted.sheet, 100)}` };
  }
  if (format === 'csv') {
    const encoding = sniffEncoding(path);
    const delimiter = args.delimiter ?? sniffDelimiter(path, fileName, encoding);
    return {
      spec: { path, format, csv: { delimiter, header: args.header, encoding } },
      format,
      note: encoding !== 'utf-8' ? ` (${encoding})` : '',
    };
  }
  return { spec: { path, format }, format, note: '' };
}

/** The file and the bronze table it fills, checked as the load checks them (the confirmation names both). */
export async function uploadTarget(
  lh: Lakehouse,
  args: UploadRequest,
): Promise<{ fileName: string; path?: string; target: TableRef }> {
  const located = await locate(lh, args);
  const name = sanitizeTableName(args.table_name ?? basename(located.fileName, extname(located.fileName)));
  return { ...located, target: { layer: 'bronze', name } };
}

export async function runUpload(
  lh: Lakehouse,
  tenantId: string | undefined,
  args: UploadRequest,
  ctx: Pick<ToolContext, 'signal' | 'progress' | 'principal'>,
): Promise<UploadOutcome> {
  const tenant = await lh.tenant(tenantId, ctx.principal);
  const { fileName, path: sourcePath, target } = await uploadTarget(lh, args);
  const runId = newRunId();
  const started = new Date();
  const staged = await tenant.stage(target, runId);
  try {
    let path = sourcePath;
    if (!path) {
      path = join(staged.workDir, `inline${extname(fileName)}`);
      const body = args.content_encoding === 'base64' ? Buffer.from(args.content!, 'base64') : args.content!;
      writeFileSync(path, body, { mode: 0o600 });
    }
    const bytes = statSync(path).size;
    if (bytes === 0) {
      throw new UserInputError(
        `${fileName} is empty (0 bytes): there is nothing to load, and no table was created or changed`,
      );
    }
    const { spec, format, note } = await fileSpec(args, path, fileName, staged.workDir);
    await ctx.progress(0, undefined, `reading ${fileName}`);
    let loaded: Awaited<ReturnType<StagedLoad['appendFile']>>;
    try {
      loaded = await staged.appendFile(spec);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (format === 'csv') throw describeCsvError(fileName, message, spec);
      throw new UserInputError(`${fileName} could not be read as ${format}: ${tenant.engineMessage(err)}`, {
        hint: 'Check the file, or pass format if the name suggests the wrong one; no table was created or changed',
      });
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
    return {
      fileName,
      note,
      target,
      rows: result.rows,
      columns: loaded.columns,
      format,
      bytes,
      catalog: tenant.catalog,
    };
  } catch (err) {
    await staged.abort();
    if (ctx.signal.aborted)
      throw new CancelledError(
        `The upload of ${fileName} was cancelled; bronze.${target.name} was left as it was.`,
      );
    throw err;
  }
}
