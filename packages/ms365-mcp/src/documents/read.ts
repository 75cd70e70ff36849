/**
 * The answer of a read: a file's or an attachment's bytes become text for the model — plain text as it is,
 * HTML without hidden content, Word, Excel, PowerPoint and PDF through the extractors — fenced as untrusted
 * and within max_bytes on the wire; anything else is named, not shown.
 */
import {
  fenceUntrusted,
  htmlToText,
  payloadBudget,
  stripInvisible,
  untrusted,
  formatBytes,
} from '@switchyard/core';
import { ExtractError, extractInWorker } from './run.js';
import { GRAPH_PDF_SOURCES, claimedKind, extensionOf, sniff } from './sniff.js';
import { DEFAULT_LIMITS, type Extracted } from './types.js';

/** Documents are read whole, up to this size; larger ones are for ms365_download_file. */
export const DOCUMENT_LIMIT = 25 * 1024 * 1024;

const KIND_NAMES = { docx: 'Word document', xlsx: 'Excel workbook', pptx: 'PowerPoint deck', pdf: 'PDF' };

export interface ReadSubject {
  name: string | undefined;
  mime: string | undefined;
  size: number | undefined;
  /** ` modified 2025-03-10 09:00Z` or '' */
  modified: string;
  /** What gets all of it: "ms365_download_file" or "ms365_download_attachment". */
  saveWith: string;
}

/** Whether the whole file is needed (a document or an unknown type), or its first max_bytes are enough. */
export function wantsWholeFile(s: Pick<ReadSubject, 'name' | 'mime'>): boolean {
  const claimed = claimedKind(s.name, s.mime);
  return claimed !== 'text' && claimed !== 'html';
}

/** Whether these bytes should be read whole before answering (a document behind a text-like name). */
export function isDocumentBytes(head: Uint8Array): boolean {
  const kind = sniff(head);
  return kind === 'pdf' || kind === 'zip';
}

/** Whether Graph's PDF conversion reads what these bytes are not readable as (legacy .doc/.xls/.ppt…). */
export function convertibleByGraph(s: Pick<ReadSubject, 'name'>, head: Uint8Array): boolean {
  const kind = sniff(head);
  return (
    (kind === 'ole2' || kind === 'zip' || kind === 'binary') && GRAPH_PDF_SOURCES.has(extensionOf(s.name))
  );
}

export function tooLargeAnswer(s: ReadSubject): string {
  return `${untrusted(s.name, 200)} (${formatBytes(s.size)}) is larger than the ${formatBytes(DOCUMENT_LIMIT)} read here; save it with ${s.saveWith} for a local tool to open.`;
}

/**
 * The answer for `bytes` (the file's first bytes when `whole` is false). `converted` is the text of a Graph
 * PDF rendition of the same file, for types read no other way.
 */
export async function readAnswer(
  s: ReadSubject,
  bytes: Uint8Array,
  o: { whole: boolean; maxBytes: number; signal?: AbortSignal; convertedFrom?: string },
): Promise<string> {
  const label = `${untrusted(s.name, 200)} (${o.convertedFrom ? `${o.convertedFrom} as PDF by Graph, ` : ''}${formatBytes(s.size)}${s.modified})`;
  const sniffed = sniff(bytes);
  const claimed = claimedKind(s.name, s.mime);
  const budget = payloadBudget(o.maxBytes) - Buffer.byteLength(label) - 200;

  if (sniffed === 'pdf' || sniffed === 'zip') {
    let doc: Extracted;
    try {
      doc = await extractInWorker(
        bytes,
        sniffed,
        { ...DEFAULT_LIMITS, maxChars: Math.max(budget, 256) },
        o.signal,
      );
    } catch (err) {
      if (err instanceof ExtractError && err.kind === 'NotADocument') return binaryAnswer(s, 'a zip archive');
      const why = err instanceof Error ? err.message : String(err);
      return `${label} cannot be read as text: ${why}; save it with ${s.saveWith} for a local tool to open.`;
    }
    return documentAnswer(label, doc, budget, s.saveWith);
  }
  const textual =
    sniffed === 'text' &&
    (claimed === 'text' || claimed === 'html' || !s.mime || /octet-stream/i.test(s.mime));
  if (!textual) {
    const what =
      sniffed === 'ole2'
        ? 'a legacy Office file'
        : /^image\//i.test(s.mime ?? '')
          ? 'an image'
          : claimed === 'text'
            ? 'not UTF-8 text'
            : undefined;
    return binaryAnswer(s, what);
  }
  // Text: the first bytes, up to the budget; a character cut at the end is dropped.
  const slice = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).subarray(
    0,
    payloadBudget(o.maxBytes),
  );
  let text = slice.toString('utf8').replace(/\uFFFD+$/, '');
  text = claimed === 'html' ? htmlToText(text) : stripInvisible(text);
  const size = s.size ?? slice.length;
  const cut = size > slice.length;
  return [
    `${label}${cut ? `: first ${formatBytes(slice.length)} only (truncated; ${s.saveWith} gets all of it)` : ''}`,
    fenceUntrusted(text, 'file'),
  ].join('\n');
}

function binaryAnswer(s: ReadSubject, what: string | undefined): string {
  return `${untrusted(s.name, 200)} is not a text file (${s.mime ?? 'unknown type'}, ${formatBytes(s.size)}${what ? `: ${what}` : ''}); save it with ${s.saveWith} for a local tool to open.`;
}

function documentAnswer(label: string, doc: Extracted, budget: number, saveWith: string): string {
  const kind = KIND_NAMES[doc.kind];
  if (doc.kind === 'pdf' && !doc.text) {
    return `${label} is a PDF of ${count(doc.total, 'page')} with no text layer (a scanned or image-only PDF): there is no text to read; save it with ${saveWith} for a local tool (OCR) to open.`;
  }
  let text = stripInvisible(doc.text);
  let truncated = doc.truncated;
  if (jsonBytes(text) > budget) {
    text = cutToJsonBytes(text, budget);
    truncated = true;
  }
  const unit = doc.unit.replace(/s$/, '');
  const counted =
    doc.shown < doc.total ? `${doc.unit} 1–${doc.shown} of ${doc.total}` : count(doc.total, unit);
  const facts = [counted, ...doc.notes].join('; ');
  return [
    `${label}, ${kind}: ${facts}; truncated: ${truncated ? `yes (${saveWith} gets all of it)` : 'no'}.`,
    fenceUntrusted(text, 'file'),
  ].join('\n');
}

function count(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** Bytes a string takes inside a JSON string on the wire (escapes counted). */
function jsonBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text)) - 2;
}

function cutToJsonBytes(text: string, max: number): string {
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (jsonBytes(text.slice(0, mid)) <= max) lo = mid;
    else hi = mid - 1;
  }
  // Never end inside a surrogate pair.
  const cut = /[\uD800-\uDBFF]$/.test(text.slice(0, lo)) ? lo - 1 : lo;
  return `${text.slice(0, cut)}\n[… cut to fit max_bytes]`;
}
