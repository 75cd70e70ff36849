/**
 * Local files → something the warehouse can load: where a path may come from, what format a file is, how a
 * CSV is encoded, and spreadsheets converted to typed NDJSON (the warehouse engine reads the rest itself).
 */
import { createWriteStream, openSync, readSync, closeSync } from 'node:fs';
import { once } from 'node:events';
import { basename, extname, join } from 'node:path';
import { UserInputError, formatBytes, type LocalFiles } from '@switchyard/core';
import type { ColumnSpec, FileSpec, LogicalType } from './warehouse/types.js';
import { mergedRanges } from './xlsx-merges.js';
import { withoutLocalPaths } from './warehouse/duckdb/sql-check.js';

export type FileFormat = 'csv' | 'xlsx' | 'parquet' | 'json' | 'ndjson';

export { sanitizeTableName, normalizeName, bronzeColumnNames } from './naming.js';

/** A bare file name for inline content: no folders, no `..`, nothing hidden. */
export function checkFileName(name: string): string {
  if (
    name.includes('/') ||
    name.includes('\\') ||
    name.split(/[/\\]/).includes('..') ||
    name.startsWith('.') ||
    name.includes('\0')
  ) {
    throw new UserInputError(
      `'${name}' is not a plain file name: folders and '..' are not allowed in file_name`,
      {
        hint: 'Pass just the name, e.g. orders.csv; to load a file from disk, pass path instead',
      },
    );
  }
  return name;
}

/** A file the server may load: core's local-file policy, then the upload size limit. */
export async function readableUpload(
  files: LocalFiles,
  path: string,
  maxBytes: number,
): Promise<{ path: string; size: number }> {
  const file = await files.readable(path, 'path');
  if (file.size > maxBytes) {
    throw new UserInputError(
      `${basename(path)} is ${formatBytes(file.size)}, over the limit of ${formatBytes(maxBytes)} for one upload`,
      { hint: 'Split the file, or raise LAKEHOUSE_MAX_UPLOAD_MB' },
    );
  }
  return { path: file.path, size: file.size };
}

function head(path: string, bytes: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const n = readSync(fd, buffer, 0, bytes, 0);
    return buffer.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

export function detectFormat(fileName: string, path: string, declared?: FileFormat): FileFormat {
  if (declared) return declared;
  const ext = extname(fileName).toLowerCase();
  if (['.csv', '.tsv', '.txt', '.tab'].includes(ext)) return 'csv';
  if (ext === '.xlsx' || ext === '.xlsm') return 'xlsx';
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson';
  if (ext === '.json') {
    const start = head(path, 4096).toString('utf8').trimStart();
    return start.startsWith('[') ? 'json' : 'ndjson';
  }
  if (ext === '.xls') {
    throw new UserInputError(`${fileName} is an old binary Excel file (.xls), which cannot be read`, {
      hint: 'Save it as .xlsx or CSV in Excel and upload that',
    });
  }
  const magic = head(path, 4);
  if (magic.toString('latin1') === 'PAR1') return 'parquet';
  if (magic[0] === 0x50 && magic[1] === 0x4b) return 'xlsx';
  throw new UserInputError(`The format of ${fileName} cannot be told from its name`, {
    hint: 'Pass format: csv, xlsx, parquet, json or ndjson',
  });
}

/** The text encoding of a CSV: a byte-order mark, else UTF-8 when the start decodes as UTF-8, else Latin-1. */
export function sniffEncoding(path: string): 'utf-8' | 'utf-16' | 'latin-1' {
  const start = head(path, 64 * 1024);
  if (start[0] === 0xef && start[1] === 0xbb && start[2] === 0xbf) return 'utf-8';
  if ((start[0] === 0xff && start[1] === 0xfe) || (start[0] === 0xfe && start[1] === 0xff)) return 'utf-16';
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(start, { stream: true });
    return 'utf-8';
  } catch {
    return 'latin-1';
  }
}

/** The delimiter that splits the first lines into the same number of fields most often. */
export function sniffDelimiter(path: string, fileName: string, encoding: string): string {
  if (extname(fileName).toLowerCase() === '.tsv' || extname(fileName).toLowerCase() === '.tab') return '\t';
  const text = head(path, 64 * 1024).toString(
    encoding === 'latin-1' ? 'latin1' : encoding === 'utf-16' ? 'utf16le' : 'utf8',
  );
  const lines = text
    .split(/\r?\n/)
    .slice(0, 20)
    .filter((l) => l.trim() !== '');
  if (lines.length < 1) return ',';
  let best = ',';
  let bestScore = -1;
  for (const d of [',', ';', '\t', '|']) {
    const counts = lines.slice(0, lines.length > 1 ? -1 : undefined).map((l) => countOutsideQuotes(l, d));
    const first = counts[0] ?? 0;
    if (first === 0) continue;
    const consistent = counts.filter((c) => c === first).length;
    const score = consistent * 100 + first;
    if (score > bestScore) {
      best = d;
      bestScore = score;
    }
  }
  return best;
}

function countOutsideQuotes(line: string, d: string): number {
  let n = 0;
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (ch === d && !quoted) n++;
  }
  return n;
}

/** DuckDB's CSV errors → one sentence naming the line and what is wrong with it. */
export function describeCsvError(fileName: string, raw: string, spec?: FileSpec): UserInputError {
  const message = withoutLocalPaths(raw);
  let line = /CSV Error on Line:\s*(\d+)/i.exec(message)?.[1];
  let expected: string[] | null = /Expected Number of Columns:\s*(\d+)\s*Found:\s*(\d+)/i.exec(message);
  if (!line && /sniffing/i.test(message) && spec) {
    // DuckDB's sniffer gives up on ragged files without saying where: find the first ragged row ourselves.
    const ragged = findRaggedRow(spec.path, spec.csv?.delimiter ?? ',', spec.csv?.encoding ?? 'utf-8');
    if (ragged) {
      line = String(ragged.line);
      expected = ['', String(ragged.expected), String(ragged.found)];
    } else {
      return new UserInputError(
        `${fileName} is not valid CSV: its delimiter and quoting could not be worked out`,
        {
          hint: 'Pass delimiter (and header) explicitly, or check that the file is text; no table was created or changed',
        },
      );
    }
  }
  const unterminated = /unterminated quote|quoted value/i.test(message);
  let what: string;
  if (line && expected) what = `line ${line} has ${expected[2]} fields where the header has ${expected[1]}`;
  else if (line && unterminated) what = `line ${line} has a quote that is never closed`;
  else if (line)
    what = `line ${line} cannot be read (${message.split('\n')[0]!.replace(/^.*?Error:\s*/, '')})`;
  else what = message.split('\n')[0]!.replace(/^.*?Error:\s*/, '');
  return new UserInputError(`${fileName} is not valid CSV: ${what}`, {
    hint: 'Fix that line (or pass delimiter and header if they were guessed wrong), then upload again; no table was created or changed',
  });
}

/** The first row (1-based line number) whose field count differs from the first row's, in the first 64 MB. */
export function findRaggedRow(
  path: string,
  delimiter: string,
  encoding: string,
): { line: number; expected: number; found: number } | undefined {
  const text = head(path, 64 * 1024 * 1024).toString(
    encoding === 'latin-1' ? 'latin1' : encoding === 'utf-16' ? 'utf16le' : 'utf8',
  );
  let line = 1;
  let rowStart = 1;
  let fields = 1;
  let expected: number | undefined;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === delimiter) fields++;
    else if (ch === '\n') {
      line++;
      if (quoted) continue;
      if (expected === undefined) expected = fields;
      else if (fields !== expected) return { line: rowStart, expected, found: fields };
      fields = 1;
      rowStart = line;
    }
  }
  if (expected !== undefined && fields !== expected && text.slice(text.lastIndexOf('\n') + 1).trim() !== '') {
    return { line: rowStart, expected, found: fields };
  }
  return undefined;
}

type CellValue = string | number | boolean | Date | null;

function cellValue(value: unknown): CellValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (value instanceof Date) return value;
  if (typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if ('result' in v) return cellValue(v.result);
    if ('richText' in v && Array.isArray(v.richText))
      return (v.richText as Array<{ text: string }>).map((r) => r.text).join('');
    if ('text' in v) return cellValue(v.text);
    if ('error' in v) return null;
  }
  return String(value);
}

/** One sheet of a workbook as exceljs's streaming reader gives it. */
interface SheetReader extends AsyncIterable<ExcelRow> {
  id: number;
  name: string;
}
interface ExcelRow {
  number: number;
  hasValues: boolean;
  cellCount: number;
  getCell(column: number): { value: unknown };
}

/**
 * A spreadsheet sheet → NDJSON with keys c0..cN and declared column types, ready for the warehouse. The
 * workbook is streamed (exceljs's streaming reader), so memory does not grow with the number of rows.
 * Refuses header rows with merged cells: their column names would be guesses.
 */
export async function spreadsheetToNdjson(options: {
  path: string;
  fileName: string;
  sheet: string | number | undefined;
  headerRow: number;
  outPath: string;
}): Promise<{ spec: FileSpec; sheet: string; rows: number }> {
  const mod = (await import('exceljs')) as unknown as {
    default?: typeof import('exceljs');
  } & typeof import('exceljs');
  const ExcelJS = mod.default ?? mod;
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(options.path, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    // Styles tell dates from numbers.
    styles: 'cache',
    hyperlinks: 'ignore',
    entries: 'emit',
  });
  const unreadable = (err: unknown) =>
    new UserInputError(
      `${options.fileName} could not be read as an Excel workbook: ${(err as Error).message}`,
      {
        hint: 'Check that it is an .xlsx file (not .xls or a renamed CSV)',
      },
    );
  const sheetNames = () =>
    ((reader as unknown as { model?: { sheets?: Array<{ name: string }> } }).model?.sheets ?? []).map(
      (s) => s.name,
    );
  const out = createWriteStream(options.outPath);
  let found:
    { name: string; rows: number; columns: Array<ColumnSpec & { key: string }>; id: number } | undefined;
  let header: ExcelRow | undefined;
  try {
    let index = 0;
    for await (const sheet of reader as unknown as AsyncIterable<SheetReader>) {
      index++;
      const wanted =
        found === undefined &&
        (options.sheet === undefined
          ? index === 1
          : typeof options.sheet === 'number'
            ? sheet.name === sheetNames()[options.sheet - 1]
            : sheet.name === options.sheet);
      if (!wanted) {
        // The zip is one stream: a sheet passed over is still read through.
        for await (const _row of sheet) void _row;
        continue;
      }
      const kinds: Array<Set<string>> = [];
      const used: boolean[] = [];
      let width = 0;
      let rows = 0;
      for await (const row of sheet) {
        if (row.number < options.headerRow) continue;
        if (row.number === options.headerRow) {
          header = row;
          width = Math.max(width, row.cellCount);
          continue;
        }
        if (!row.hasValues) continue;
        width = Math.max(width, row.cellCount);
        const record: Record<string, unknown> = {};
        for (let i = 0; i < row.cellCount; i++) {
          const v = cellValue(row.getCell(i + 1).value);
          if (v === null) continue;
          const seen = (kinds[i] ??= new Set());
          used[i] = true;
          if (v instanceof Date) {
            seen.add(v.getUTCHours() + v.getUTCMinutes() + v.getUTCSeconds() === 0 ? 'date' : 'timestamp');
            record[`c${i}`] = v.toISOString().replace('Z', '');
          } else if (typeof v === 'number') {
            seen.add(Number.isSafeInteger(v) ? 'int' : 'float');
            record[`c${i}`] = v;
          } else if (typeof v === 'boolean') {
            seen.add('boolean');
            record[`c${i}`] = v;
          } else {
            seen.add('text');
            record[`c${i}`] = v;
          }
        }
        rows++;
        if (!out.write(`${JSON.stringify(record)}\n`)) await once(out, 'drain');
      }
      found = { name: sheet.name, rows, columns: columnsOf(header, width, kinds, used), id: sheet.id };
    }
  } catch (err) {
    out.destroy();
    if (err instanceof UserInputError) throw err;
    throw unreadable(err);
  }
  out.end();
  await once(out, 'close');
  if (!found) {
    throw new UserInputError(
      `${options.fileName} has no sheet ${JSON.stringify(options.sheet ?? 1)}; its sheets are ${sheetNames()
        .map((n) => `'${n}'`)
        .join(', ')}`,
    );
  }
  if (!header && found.rows === 0) {
    throw new UserInputError(
      `Sheet '${found.name}' of ${options.fileName} is empty: there is nothing to load, and no table was created or changed`,
    );
  }
  const merges = (
    await mergedRanges(options.path, found.id).catch((err: unknown) => {
      throw unreadable(err);
    })
  ).filter((range) => {
    const rows = [...range.matchAll(/[A-Z]+(\d+)/g)].map((m) => Number(m[1]));
    return Math.min(...rows) <= options.headerRow && Math.max(...rows) >= options.headerRow;
  });
  if (merges.length > 0) {
    throw new UserInputError(
      `Sheet '${found.name}' of ${options.fileName} has merged cells in its header row (${merges.join(', ')}), so its column names are ambiguous`,
      {
        hint: 'Unmerge the header cells so each column has its own name, or pass header_row to use another row; nothing was loaded',
      },
    );
  }
  if (found.rows === 0) {
    throw new UserInputError(
      `Sheet '${found.name}' of ${options.fileName} has a header but no data rows: there is nothing to load, and no table was created or changed`,
    );
  }
  return {
    spec: { path: options.outPath, format: 'ndjson', columns: found.columns },
    sheet: found.name,
    rows: found.rows,
  };
}

/**
 * Column names from the header row (unique, case-insensitively; `column_<n>` where a header is blank) and
 * types from the values seen. Trailing columns with neither a header nor values are dropped; read_json maps
 * keys c0..cN by name, so each kept column keeps its original index as its key.
 */
function columnsOf(
  header: ExcelRow | undefined,
  width: number,
  kinds: Array<Set<string> | undefined>,
  used: boolean[],
): Array<ColumnSpec & { key: string }> {
  const seen = new Set<string>();
  const columns: Array<ColumnSpec & { key: string }> = [];
  for (let i = 0; i < width; i++) {
    const headerText = header ? cellValue(header.getCell(i + 1).value) : null;
    let name = String(headerText ?? '').trim() || `column_${i + 1}`;
    const base = name;
    for (let n = 2; seen.has(name.toLowerCase()); n++) name = `${base}_${n}`;
    seen.add(name.toLowerCase());
    if (!used[i] && (headerText === null || headerText === '')) continue;
    columns.push({ name, type: typeFor(kinds[i] ?? new Set()), nullable: true, key: `c${i}` });
  }
  return columns;
}

function typeFor(kinds: Set<string>): LogicalType {
  if (kinds.size === 0) return { kind: 'text' };
  if ([...kinds].every((k) => k === 'int')) return { kind: 'int64' };
  if ([...kinds].every((k) => k === 'int' || k === 'float')) return { kind: 'float64' };
  if ([...kinds].every((k) => k === 'date')) return { kind: 'date' };
  if ([...kinds].every((k) => k === 'date' || k === 'timestamp')) return { kind: 'timestamp' };
  if ([...kinds].every((k) => k === 'boolean')) return { kind: 'boolean' };
  return { kind: 'text' };
}

export { join };
