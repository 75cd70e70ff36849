import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { switchyardPaths } from './paths.js';
import { z } from 'zod';
import { jsonTextBytes } from './wire.js';
import { countPhrase } from './text.js';

export type Cell = unknown;

export interface TableText {
  /** CSV or a markdown table, header included. */
  text: string;
  returnedRows: number;
  /** All rows the source has, when known. */
  totalRows: number | undefined;
  /** True when rows were left out or a cell was cut. */
  truncated: boolean;
  /** Cells cut at `maxCellChars`, and the length of the longest one in full (characters). */
  cutCells: number;
  longestCell: number;
}

export interface TableOptions {
  format?: 'csv' | 'markdown';
  /** Rows to show at most. Default 200. */
  maxRows?: number;
  /** Bytes of text at most, as it travels (UTF-8 inside a JSON string). Default 32 KiB. */
  maxBytes?: number;
  totalRows?: number;
  /** Cut each cell to this many characters. Default 500. */
  maxCellChars?: number;
}

/** One cell as text: dates in ISO form, bigints whole, objects as JSON, null as empty. */
export function formatCell(value: Cell, maxChars = 500): string {
  let text: string;
  if (value === null || value === undefined) text = '';
  else if (value instanceof Date) text = Number.isNaN(value.getTime()) ? '' : value.toISOString();
  else if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    text = String(value);
  else if (value instanceof Uint8Array) text = `\\x${Buffer.from(value).toString('hex')}`;
  else text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  return text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
}

export function csvField(text: string): string {
  return /[",\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function markdownField(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/**
 * Rows as compact text for a model: CSV (default) or a markdown table, cut at `maxRows` rows or
 * `maxBytes` bytes, whichever comes first, and saying so.
 */
export function formatTable(
  columns: readonly string[],
  rows: readonly Cell[][],
  options: TableOptions = {},
): TableText {
  const format = options.format ?? 'csv';
  const maxRows = options.maxRows ?? 200;
  const maxBytes = options.maxBytes ?? 32 * 1024;
  const maxCell = options.maxCellChars ?? 500;
  const line = (cells: readonly string[]): string =>
    format === 'csv' ? cells.map(csvField).join(',') : `| ${cells.map(markdownField).join(' | ')} |`;
  const lines = [line(columns)];
  if (format === 'markdown') lines.push(`|${columns.map(() => '---').join('|')}|`);
  // Newlines count 2 bytes each: `\n` once the text is a JSON string.
  let bytes = lines.reduce((n, l) => n + jsonTextBytes(l) + 2, 0);
  let returned = 0;
  let cutCells = 0;
  let longestCell = 0;
  for (const row of rows) {
    if (returned >= maxRows) break;
    let rowCut = 0;
    let rowLongest = 0;
    const text = line(
      row.map((v) => {
        const cell = formatCell(v, maxCell);
        if (cell.length === maxCell && cell.endsWith('…')) {
          rowCut++;
          rowLongest = Math.max(rowLongest, cellLength(v));
        }
        return cell;
      }),
    );
    const size = jsonTextBytes(text) + 2;
    if (bytes + size > maxBytes && returned > 0) break;
    lines.push(text);
    bytes += size;
    returned++;
    cutCells += rowCut;
    longestCell = Math.max(longestCell, rowLongest);
  }
  const total = options.totalRows;
  const truncated = returned < rows.length || (total !== undefined && total > returned) || cutCells > 0;
  return {
    text: lines.join('\n'),
    returnedRows: returned,
    totalRows: total,
    truncated,
    cutCells,
    longestCell,
  };
}

/** The length in characters of a cell as text in full. */
function cellLength(value: Cell): number {
  return formatCell(value, Number.MAX_SAFE_INTEGER).length;
}

/** "200 of 1,234 rows (truncated: ...)": a table's count in core's one list vocabulary (text.ts). */
export function describeRows(
  table: Pick<TableText, 'returnedRows' | 'totalRows' | 'truncated'> &
    Partial<Pick<TableText, 'cutCells' | 'longestCell'>>,
  moreHint?: string,
): string {
  return countPhrase({
    shown: table.returnedRows,
    total: table.totalRows,
    noun: 'row',
    truncated: table.truncated,
    hint: moreHint,
    cutCells: table.cutCells,
    longestCell: table.longestCell,
  });
}

export interface SpillResult {
  path: string;
  rows: number;
  bytes: number;
  /** False when the file stopped at its size cap before the last row. */
  complete: boolean;
}

/** The most a spill file may hold unless the caller says otherwise: 1 GiB. */
export const SPILL_MAX_BYTES = 1024 ** 3;

/** Where spill files go: `<data dir>/spill/<server>`. */
export function spillDir(server: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(switchyardPaths(env).data, 'spill', server);
}

/**
 * Write every row to a CSV file (streamed, with backpressure) and return its path. The file stops before the
 * row that would take it past `maxBytes` (1 GiB by default): a spill never fills the disk.
 */
export async function spillCsv(options: {
  columns: readonly string[];
  rows: Iterable<Cell[]> | AsyncIterable<Cell[]>;
  dir: string;
  name: string;
  maxBytes?: number;
}): Promise<SpillResult> {
  const maxBytes = options.maxBytes ?? SPILL_MAX_BYTES;
  let complete = true;
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  const safe = options.name.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 60) || 'result';
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const path = join(options.dir, `${stamp}-${safe}-${randomBytes(3).toString('hex')}.csv`);
  const out = createWriteStream(path, { mode: 0o600 });
  let bytes = 0;
  let rows = 0;
  const write = async (text: string) => {
    bytes += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, 'drain');
  };
  try {
    await write(options.columns.map(csvField).join(',') + '\n');
    for await (const row of options.rows) {
      const line = row.map((v) => csvField(formatCell(v, Number.MAX_SAFE_INTEGER))).join(',') + '\n';
      if (bytes + Buffer.byteLength(line) > maxBytes) {
        complete = false;
        break;
      }
      await write(line);
      rows++;
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
  return { path, rows, bytes, complete };
}

/** Output fields of a tool whose rows can have cells cut: how many, and the longest one's full length. */
export const cutCellsOutput = {
  cut_cells: z.number().optional().describe('Cells cut at 500 characters.'),
  longest_cell_chars: z.number().optional().describe('Full length of the longest cut cell.'),
};

/** The structured side of cut cells, stated as the text states it (nothing when none was cut). */
export function cutCellsData(table: Pick<TableText, 'cutCells' | 'longestCell'>): {
  cut_cells?: number;
  longest_cell_chars?: number;
} {
  return table.cutCells ? { cut_cells: table.cutCells, longest_cell_chars: table.longestCell } : {};
}
