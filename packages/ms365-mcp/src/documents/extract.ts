/** One document's text, extracted in memory within limits (the worker thread runs this; see run.ts). */
import { openZip } from '@switchyard/core/zip';
import { docxText } from './docx.js';
import { pdfText } from './pdf.js';
import { pptxText } from './pptx.js';
import { xlsxText } from './xlsx.js';
import type { ExtractLimits, Extracted } from './types.js';

/** The bytes are an archive but no Word, Excel or PowerPoint file. */
export class NotADocument extends Error {
  override name = 'NotADocument';
}

export async function extractDocument(
  bytes: Uint8Array,
  sniffed: 'pdf' | 'zip',
  limits: ExtractLimits,
): Promise<Extracted> {
  if (sniffed === 'pdf') return pdfText(bytes, limits);
  const zip = await openZip(bytes, limits.zip);
  // The main part decides what an OOXML package is (ECMA-376 Part 2, the package's officeDocument relationship).
  if (zip.has('word/document.xml')) return docxText(zip, limits);
  if (zip.has('xl/workbook.xml')) return xlsxText(zip, limits);
  if (zip.has('ppt/presentation.xml')) return pptxText(zip, limits);
  throw new NotADocument('a zip archive, not a Word, Excel or PowerPoint file');
}
