import { FENCE_PATTERN } from './untrusted.js';

/** A table read back from a tool's text: the header and every row, cells as the text shows them. */
export interface TextTable {
  columns: string[];
  rows: string[][];
}

/** RFC 4180 CSV into records (quoted fields, doubled quotes, newlines inside quotes). */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\n' || (ch === '\r' && text[i + 1] === '\n')) {
      if (ch === '\r') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records;
}

/** The bodies of the fences in a tool's text, in order. */
export function fencedBodies(text: string): string[] {
  return [...text.matchAll(FENCE_PATTERN)].map((m) => m[3]!);
}

/**
 * The rows a tool sent as fenced CSV, read back from its text (rows travel once, as text, not again in
 * `structuredContent`). `fence` picks which fenced block when the text holds several (default: the first whose
 * header has a comma, else the first).
 */
export function tableOf(call: { text: string }, fence?: number): TextTable {
  const bodies = fencedBodies(call.text);
  const body =
    fence !== undefined ? bodies[fence] : (bodies.find((b) => b.split('\n')[0]!.includes(',')) ?? bodies[0]);
  if (body === undefined) throw new Error(`no fenced table in: ${call.text.slice(0, 300)}`);
  const [columns = [], ...rows] = parseCsv(body);
  return { columns, rows };
}

/** Just the rows of {@link tableOf}. */
export function rowsOf(call: { text: string }, fence?: number): string[][] {
  return tableOf(call, fence).rows;
}

/**
 * The `next_cursor` a list's count line ends with (core's `listFooter`), or undefined when the list is whole.
 */
export function cursorOf(text: string): string | undefined {
  return /next_cursor: (\S+)$/m.exec(text)?.[1];
}
