/**
 * PowerPoint (.pptx) text: slide by slide in the presentation's order, with the speaker notes.
 * PresentationML (ECMA-376 Part 1, 19): `p:sldIdLst/p:sldId@r:id` orders the slides (19.2.1.34); a slide
 * `p:sld@show="0"` is hidden (19.3.1.38); its notes are the part its relationship of type
 * `…/relationships/notesSlide` names (19.3.1.26); placeholders `p:ph@type` sldImg, sldNum, dt, hdr, ftr
 * (19.3.1.36, 19.7.10) carry no note text. DrawingML text: `a:p` > `a:r` > `a:t`, `a:br` (21.1.2);
 * tables `a:tbl` > `a:tr` > `a:tc` (21.1.3).
 */
import type { ZipArchive } from '@switchyard/core/zip';
import { local, relationships, walkXml } from './xml.js';
import { Budget, type ExtractLimits, type Extracted } from './types.js';

const NOT_NOTES = new Set(['sldImg', 'sldNum', 'dt', 'hdr', 'ftr']);

export async function pptxText(zip: ZipArchive, limits: ExtractLimits): Promise<Extracted> {
  if (!zip.has('ppt/presentation.xml')) throw new Error('it has no ppt/presentation.xml');
  const rels = relationships(
    zip.has('ppt/_rels/presentation.xml.rels')
      ? await zip.read('ppt/_rels/presentation.xml.rels')
      : undefined,
    'ppt/presentation.xml',
  );
  const slides: string[] = [];
  walkXml(await zip.read('ppt/presentation.xml'), {
    open(name, a) {
      if (local(name) !== 'sldId') return;
      const rid = a['r:id'] ?? Object.entries(a).find(([k]) => k.endsWith(':id'))?.[1];
      const part = rid ? rels.get(rid)?.target : undefined;
      if (part) slides.push(part);
    },
  });
  const budget = new Budget(limits.maxChars);
  const out: string[] = [];
  let shown = 0;
  let hiddenCount = 0;
  for (const part of slides) {
    if (budget.spent) break;
    if (!zip.has(part)) continue;
    const slide = shapeText(await zip.read(part), false);
    const relsPart = part.replace(/([^/]+)$/, '_rels/$1.rels');
    const notesPart = [
      ...relationships(zip.has(relsPart) ? await zip.read(relsPart) : undefined, part).values(),
    ].find((r) => r.type.endsWith('/notesSlide'))?.target;
    const notes = notesPart && zip.has(notesPart) ? shapeText(await zip.read(notesPart), true).text : '';
    shown++;
    if (slide.hidden) hiddenCount++;
    const block = [
      `## Slide ${shown}${slide.hidden ? ' (hidden)' : ''}`,
      slide.text || '(no text)',
      ...(notes ? [`Notes: ${notes}`] : []),
    ].join('\n');
    out.push(block);
    budget.add(block.length + 2);
  }
  return {
    kind: 'pptx',
    text: out.join('\n\n'),
    unit: 'slides',
    total: slides.length,
    shown,
    truncated: shown < slides.length,
    notes: hiddenCount ? [`${hiddenCount} hidden slide${hiddenCount === 1 ? '' : 's'} shown`] : [],
  };
}

/** The text of a slide's or a notes page's shapes: one line a paragraph, table rows as `| a | b |`. */
function shapeText(xml: Buffer, notes: boolean): { text: string; hidden: boolean } {
  const lines: string[] = [];
  let para = '';
  let inText = false;
  let skipShape = false;
  let hidden = false;
  let row: string[] | undefined;
  let cell: string[] = [];
  walkXml(xml, {
    open(name, a) {
      const n = local(name);
      if (n === 'sld' && a.show === '0') hidden = true;
      else if (n === 'sp') skipShape = false;
      else if (n === 'ph' && notes && NOT_NOTES.has(a.type ?? '')) skipShape = true;
      else if (n === 'p' && name.startsWith('a:')) para = '';
      else if (n === 't') inText = true;
      else if (n === 'br') para += '\n';
      else if (n === 'tr') row = [];
      else if (n === 'tc') cell = [];
    },
    close(name) {
      const n = local(name);
      if (n === 't') inText = false;
      else if (n === 'p' && name.startsWith('a:')) {
        if (skipShape) return;
        if (row) cell.push(para.trim());
        else if (para.trim()) lines.push(para.trim());
      } else if (n === 'tc' && row) row.push(cell.filter(Boolean).join(' '));
      else if (n === 'tr' && row) {
        lines.push(`| ${row.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`);
        row = undefined;
      }
    },
    text(t) {
      if (inText) para += t;
    },
  });
  return { text: lines.join(notes ? ' ' : '\n'), hidden };
}
