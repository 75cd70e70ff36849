/**
 * PDF text from its text layer, page by page, on PDF.js (through unpdf's build of it that needs no worker file
 * and no canvas). Nothing is fetched: fonts are not loaded (`disableFontFace`, no `standardFontDataUrl`), eval
 * is off (`isEvalSupported: false`, the mitigation of CVE-2024-4367), XFA forms are ignored, and PDF.js's own
 * warnings are silenced (`verbosity: 0`; it prints them with console.log). A page without text items has no
 * text layer: a scan or an image.
 */
import { getDocumentProxy } from 'unpdf';
import { Budget, type ExtractLimits, type Extracted } from './types.js';

interface TextItem {
  str?: string;
  hasEOL?: boolean;
}

export async function pdfText(bytes: Uint8Array, limits: ExtractLimits): Promise<Extracted> {
  let pdf;
  try {
    pdf = await getDocumentProxy(new Uint8Array(bytes), {
      verbosity: 0,
      isEvalSupported: false,
      disableFontFace: true,
      useSystemFonts: false,
      enableXfa: false,
      stopAtErrors: false,
    });
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'PasswordException') throw new Error('it is password-protected', { cause: err });
    if (name === 'InvalidPDFException') throw new Error('it is not a valid PDF', { cause: err });
    throw err;
  }
  const budget = new Budget(limits.maxChars);
  const out: string[] = [];
  const blank: number[] = [];
  let shown = 0;
  try {
    for (let n = 1; n <= pdf.numPages && !budget.spent; n++) {
      const page = await pdf.getPage(n);
      const content = await page.getTextContent();
      page.cleanup();
      const text = (content.items as TextItem[])
        .map((i) => (i.str ?? '') + (i.hasEOL ? '\n' : ''))
        .join('')
        .replace(/[ \t]+\n/g, '\n')
        .trim();
      shown++;
      if (!text) blank.push(n);
      const block = `## Page ${n}\n${text || '(no text layer)'}`;
      out.push(block);
      budget.add(block.length + 2);
    }
    const noText = blank.length === shown;
    return {
      kind: 'pdf',
      text: noText ? '' : out.join('\n\n'),
      unit: 'pages',
      total: pdf.numPages,
      shown,
      truncated: shown < pdf.numPages,
      notes: noText
        ? ['no text layer (a scanned or image-only PDF)']
        : blank.length
          ? [`no text layer on page${blank.length === 1 ? '' : 's'} ${blank.slice(0, 20).join(', ')}`]
          : [],
    };
  } finally {
    await pdf.destroy();
  }
}
