/**
 * Word (.docx) text: the body's paragraphs in order, tables row by row (`| a | b |`), hidden runs dropped.
 * WordprocessingML (ECMA-376 Part 1, 17): `w:body` > `w:p` (17.3.1.22) > `w:r` (17.3.2.25) > `w:t` (17.3.3.31);
 * `w:vanish` in a run's `w:rPr` hides it (17.3.2.41; `w:val="0"/"false"` turns it off); `w:delText` is deleted
 * text of a tracked change (17.3.3.7), `w:instrText` a field code (17.16.23); tables `w:tbl` > `w:tr` > `w:tc`
 * (17.4). `mc:Fallback` repeats what `mc:Choice` holds (Part 3, 10.2.1), so its text is skipped.
 */
import type { ZipArchive } from '@switchyard/core/zip';
import { local, walkXml } from './xml.js';
import { Budget, type ExtractLimits, type Extracted } from './types.js';

export async function docxText(zip: ZipArchive, limits: ExtractLimits): Promise<Extracted> {
  const main = zip.has('word/document.xml')
    ? 'word/document.xml'
    : zip.names().find((n) => /^word\/document\d*\.xml$/.test(n));
  if (!main) throw new Error('it has no word/document.xml');
  const budget = new Budget(limits.maxChars);
  const out: string[] = [];
  let paragraphs = 0;
  let shown = 0;
  let tables = 0;
  let para = '';
  let inRunProps = false;
  let hiddenRun = false;
  let skip = 0; // depth inside text that is not shown (deleted text, field codes, fallbacks)
  let inText = false;
  // Table nesting: the rows of the outermost table, cells of the current row.
  let tableDepth = 0;
  let row: string[] = [];
  let cell: string[] = [];
  let dropped = false;
  const emit = (line: string) => {
    if (budget.spent) {
      dropped ||= line.trim() !== '';
      return;
    }
    out.push(line);
    budget.add(line.length + 1);
  };
  walkXml(await zip.read(main), {
    open(name, a) {
      const n = local(name);
      if (skip) {
        if (n === 'Fallback' || n === 'delText' || n === 'instrText') skip++;
        return;
      }
      if (n === 'Fallback' || n === 'delText' || n === 'instrText') skip++;
      else if (n === 'p') para = '';
      else if (n === 'r') hiddenRun = false;
      else if (n === 'rPr') inRunProps = true;
      else if (n === 'vanish' && inRunProps) hiddenRun = a['w:val'] !== '0' && a['w:val'] !== 'false';
      else if (n === 't') inText = true;
      else if (!hiddenRun && (n === 'tab' || n === 'ptab') && !inRunProps) para += '\t';
      else if (!hiddenRun && (n === 'br' || n === 'cr')) para += '\n';
      else if (!hiddenRun && n === 'noBreakHyphen') para += '-';
      else if (n === 'tbl') {
        if (tableDepth === 0) tables++;
        tableDepth++;
      } else if (n === 'tr' && tableDepth === 1) row = [];
      else if (n === 'tc' && tableDepth === 1) cell = [];
    },
    close(name) {
      const n = local(name);
      if (skip) {
        if (n === 'Fallback' || n === 'delText' || n === 'instrText') skip--;
        return;
      }
      if (n === 'rPr') inRunProps = false;
      else if (n === 't') inText = false;
      else if (n === 'r') hiddenRun = false;
      else if (n === 'p') {
        // A paragraph inside a table cell belongs to the cell; elsewhere it is a line.
        if (tableDepth > 0) cell.push(para.trim());
        else {
          paragraphs++;
          if (!budget.spent) shown++;
          emit(para);
        }
        para = '';
      } else if (n === 'tc' && tableDepth === 1)
        row.push(cell.filter(Boolean).join(' ').replace(/\s+/g, ' '));
      else if (n === 'tr' && tableDepth === 1)
        emit(`| ${row.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`);
      else if (n === 'tbl') tableDepth--;
    },
    text(t) {
      if (inText && !hiddenRun && !skip) para += t;
    },
  });
  const text = out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return {
    kind: 'docx',
    text,
    unit: 'paragraphs',
    total: paragraphs,
    shown,
    truncated: dropped,
    notes: tables ? [`${tables} table${tables === 1 ? '' : 's'} as | rows |`] : [],
  };
}
