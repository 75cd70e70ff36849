/**
 * Excel (.xlsx) text: sheet by sheet as CSV, with the sheet's name, at most `maxRowsPerSheet` rows and
 * `maxColumns` columns each; formulas show the value Excel computed and saved with them.
 * SpreadsheetML (ECMA-376 Part 1, 18): workbook `sheets/sheet@name,r:id,state` (18.2.19–20) and `workbookPr@date1904`
 * (18.2.28); `sheetData` > `row@r` > `c@r,t,s` with `v`, `f`, `is` (18.3.1.4, 18.3.1.73, 18.3.1.96); cell types
 * `s` shared string, `str` formula text, `inlineStr`, `b`, `e`, `n` (18.18.11); shared strings `sst` > `si` > `t`
 * or `r/t`, phonetic `rPh` not shown (18.4); number formats `cellXfs/xf@numFmtId` and `numFmts` (18.8.30–31),
 * built-in date ids 14–22 and 45–47 (18.8.30). Serial dates count days from 1899-12-30 (or 1904-01-01).
 */
import type { ZipArchive } from '@switchyard/core/zip';
import { local, relationships, walkXml } from './xml.js';
import { Budget, type ExtractLimits, type Extracted } from './types.js';

interface Sheet {
  name: string;
  part: string;
  hidden: boolean;
}

export async function xlsxText(zip: ZipArchive, limits: ExtractLimits): Promise<Extracted> {
  if (!zip.has('xl/workbook.xml')) throw new Error('it has no xl/workbook.xml');
  const rels = relationships(
    zip.has('xl/_rels/workbook.xml.rels') ? await zip.read('xl/_rels/workbook.xml.rels') : undefined,
    'xl/workbook.xml',
  );
  const sheets: Sheet[] = [];
  let date1904 = false;
  walkXml(await zip.read('xl/workbook.xml'), {
    open(name, a) {
      const n = local(name);
      if (n === 'workbookPr') date1904 = a.date1904 === '1' || a.date1904 === 'true';
      if (n !== 'sheet') return;
      const rid = a['r:id'] ?? Object.entries(a).find(([k]) => k.endsWith(':id'))?.[1];
      const part = rid ? rels.get(rid)?.target : undefined;
      if (part) sheets.push({ name: a.name ?? part, part, hidden: !!a.state && a.state !== 'visible' });
    },
  });
  const strings = zip.has('xl/sharedStrings.xml')
    ? sharedStrings(await zip.read('xl/sharedStrings.xml'), limits)
    : [];
  const dates = zip.has('xl/styles.xml') ? dateStyles(await zip.read('xl/styles.xml')) : new Set<number>();

  const budget = new Budget(limits.maxChars);
  const parts: string[] = [];
  const notes: string[] = [];
  let shown = 0;
  let truncated = false;
  for (const sheet of sheets) {
    if (budget.spent) {
      truncated = true;
      break;
    }
    if (!zip.has(sheet.part)) continue;
    shown++;
    const xml = (await zip.read(sheet.part)).toString('utf8');
    const rows = sheetRows(xml, { strings, dates, date1904, limits, budget });
    const title = `## Sheet ${shown}: ${sheet.name}${sheet.hidden ? ' (hidden)' : ''}`;
    const cut = rows.lines.length < rows.total;
    if (cut) {
      truncated = true;
      notes.push(`sheet ${shown}: first ${rows.lines.length} of ${rows.total} rows`);
    }
    const body = rows.lines.length ? rows.lines.join('\n') : '(empty)';
    parts.push(`${title}${cut ? ` (rows 1–${rows.lines.length} of ${rows.total})` : ''}\n${body}`);
    budget.add(title.length + 2);
  }
  return {
    kind: 'xlsx',
    text: parts.join('\n\n'),
    unit: 'sheets',
    total: sheets.length,
    shown,
    truncated,
    notes,
  };
}

function sharedStrings(xml: Buffer, limits: ExtractLimits): string[] {
  const out: string[] = [];
  let current = '';
  let inT = false;
  let phonetic = 0;
  walkXml(xml, {
    open(name) {
      const n = local(name);
      if (n === 'si') current = '';
      else if (n === 'rPh') phonetic++;
      else if (n === 't') inT = true;
    },
    close(name) {
      const n = local(name);
      if (n === 'si') out.push(current.slice(0, limits.maxCellChars));
      else if (n === 'rPh') phonetic--;
      else if (n === 't') inT = false;
    },
    text(t) {
      if (inT && !phonetic && current.length < limits.maxCellChars) current += t;
    },
  });
  return out;
}

const BUILTIN_DATES = new Set([14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47]);

/** Indexes into `cellXfs` whose number format shows a date or time. */
function dateStyles(xml: Buffer): Set<number> {
  const custom = new Map<number, string>();
  const styles: number[] = [];
  let inCellXfs = false;
  walkXml(xml, {
    open(name, a) {
      const n = local(name);
      if (n === 'numFmt') custom.set(Number(a.numFmtId), a.formatCode ?? '');
      else if (n === 'cellXfs') inCellXfs = true;
      else if (n === 'xf' && inCellXfs) styles.push(Number(a.numFmtId ?? 0));
    },
    close(name) {
      if (local(name) === 'cellXfs') inCellXfs = false;
    },
  });
  const out = new Set<number>();
  styles.forEach((id, index) => {
    const code = custom.get(id);
    // A custom format is a date when y, d, h or s appear outside quotes, brackets and escapes (m alone is ambiguous).
    const isDate =
      code !== undefined
        ? /[ydhs]/i.test(code.replace(/"[^"]*"|\[[^\]]*\]|\\./g, ''))
        : BUILTIN_DATES.has(id);
    if (isDate) out.add(index);
  });
  return out;
}

function columnIndex(ref: string | undefined, fallback: number): number {
  const m = /^([A-Z]{1,3})\d*$/.exec(ref ?? '');
  if (!m) return fallback;
  let n = 0;
  for (const ch of m[1]!) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

function serialDate(serial: number, date1904: boolean): string {
  const base = date1904 ? Date.UTC(1904, 0, 1) : Date.UTC(1899, 11, 30);
  const d = new Date(base + Math.round(serial * 86_400_000));
  if (Number.isNaN(d.getTime())) return String(serial);
  const iso = d.toISOString();
  return Number.isInteger(serial) ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

function csvCell(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function sheetRows(
  xml: string,
  o: { strings: string[]; dates: Set<number>; date1904: boolean; limits: ExtractLimits; budget: Budget },
): { lines: string[]; total: number } {
  const { limits, budget } = o;
  const lines: string[] = [];
  let row: string[] = [];
  let cellRef: string | undefined;
  let cellType = 'n';
  let cellStyle = -1;
  let value = '';
  let formula = '';
  let into: 'v' | 'f' | 't' | undefined;
  let full = false;
  walkXml(xml, {
    open(name, a) {
      const n = local(name);
      if (n === 'row') row = [];
      else if (n === 'c') {
        cellRef = a.r;
        cellType = a.t ?? 'n';
        cellStyle = a.s ? Number(a.s) : -1;
        value = '';
        formula = '';
      } else if (n === 'v') into = 'v';
      else if (n === 'f') into = 'f';
      else if (n === 't') into = 't';
    },
    close(name) {
      const n = local(name);
      if (n === 'v' || n === 'f' || n === 't') into = undefined;
      else if (n === 'c') {
        const col = columnIndex(cellRef, row.length);
        if (col >= limits.maxColumns) return;
        while (row.length < col) row.push('');
        row[col] = display();
      } else if (n === 'row') {
        while (row.length && row[row.length - 1] === '') row.pop();
        const line = row.map(csvCell).join(',');
        if (lines.length >= limits.maxRowsPerSheet || budget.spent) {
          full = true;
          return;
        }
        lines.push(line);
        budget.add(line.length + 1);
      }
    },
    text(t) {
      if (into === 'f') formula += t;
      else if (into && value.length < limits.maxCellChars) value += t;
    },
    stop: () => full,
  });
  function display(): string {
    const v = value.slice(0, limits.maxCellChars);
    switch (cellType) {
      case 's':
        return o.strings[Number(v)] ?? '';
      case 'b':
        return v === '1' ? 'TRUE' : v === '0' ? 'FALSE' : v;
      case 'str':
      case 'inlineStr':
      case 'e':
        return v;
      default: {
        if (v === '') return formula ? `=${formula.slice(0, limits.maxCellChars)}` : '';
        const num = Number(v);
        if (!Number.isFinite(num)) return v;
        if (o.dates.has(cellStyle)) return serialDate(num, o.date1904);
        return String(Number(num.toPrecision(15)));
      }
    }
  }
  // Rows past the cap are counted, not parsed.
  const total = full ? lines.length + countRows(xml, lines.length) : lines.length;
  return { lines, total };
}

/** Rows in the sheet after the first `skip` (a cheap scan: `<row ` opens each one). */
function countRows(xml: string, skip: number): number {
  const all = xml.match(/<(?:\w+:)?row[\s>]/g)?.length ?? 0;
  return Math.max(0, all - skip);
}
