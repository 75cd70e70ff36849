/**
 * What a file is, decided from its first bytes, its name and its MIME type together — never the MIME type
 * alone (OneDrive calls a .docx `application/vnd.openxmlformats-officedocument…`, which looks like XML text).
 * Magic numbers: PDF `%PDF-` (ISO 32000-1, 7.5.2; readers accept it within the first 1,024 bytes), zip
 * `PK\x03\x04` (APPNOTE 4.3.7), OLE2 compound files `D0 CF 11 E0 A1 B1 1A E1` (legacy .doc/.xls/.ppt, [MS-CFB]).
 */
export type DocumentKind = 'docx' | 'xlsx' | 'pptx' | 'pdf';
export type FileKind = DocumentKind | 'text' | 'html' | 'binary';

export const TEXT_EXTENSIONS = new Set([
  'txt',
  'md',
  'markdown',
  'csv',
  'tsv',
  'json',
  'jsonl',
  'xml',
  'yaml',
  'yml',
  'log',
  'ini',
  'toml',
  'html',
  'htm',
  'sql',
  'py',
  'js',
  'ts',
  'sh',
  'ps1',
  'css',
  'rtf',
  'vtt',
  'srt',
  'eml',
]);
const OFFICE_BY_EXTENSION: Record<string, DocumentKind> = {
  docx: 'docx',
  docm: 'docx',
  dotx: 'docx',
  dotm: 'docx',
  xlsx: 'xlsx',
  xlsm: 'xlsx',
  xltx: 'xlsx',
  xltm: 'xlsx',
  pptx: 'pptx',
  pptm: 'pptx',
  ppsx: 'pptx',
  potx: 'pptx',
  ppsm: 'pptx',
};
/** Types Graph converts to PDF (`/content?format=pdf`, learn.microsoft.com/graph/api/driveitem-get-content-format) not read here directly. */
export const GRAPH_PDF_SOURCES = new Set(['doc', 'xls', 'ppt', 'pps', 'pot', 'odt', 'ods', 'odp']);

export function extensionOf(name: string | undefined): string {
  const m = /\.([A-Za-z0-9]{1,8})$/.exec(name ?? '');
  return m ? m[1]!.toLowerCase() : '';
}

/** What the name and MIME type claim; the bytes decide (see `sniff`). */
export function claimedKind(name: string | undefined, mime: string | undefined): FileKind {
  const ext = extensionOf(name);
  const m = (mime ?? '').toLowerCase();
  if (OFFICE_BY_EXTENSION[ext]) return OFFICE_BY_EXTENSION[ext];
  if (ext === 'pdf' || m === 'application/pdf') return 'pdf';
  if (m.includes('wordprocessingml')) return 'docx';
  if (m.includes('spreadsheetml')) return 'xlsx';
  if (m.includes('presentationml')) return 'pptx';
  if (ext === 'html' || ext === 'htm' || m === 'text/html') return 'html';
  if (
    TEXT_EXTENSIONS.has(ext) ||
    m.startsWith('text/') ||
    /^application\/(json|xml|yaml|x-yaml)\b|\+(json|xml)$/.test(m)
  )
    return 'text';
  return 'binary';
}

const PDF = Buffer.from('%PDF-');
const ZIP = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const OLE2 = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

/** What the bytes are; `zip` is an archive whose parts decide (see ooxml.ts), `text` is UTF-8 without controls. */
export function sniff(head: Uint8Array): 'pdf' | 'zip' | 'ole2' | 'text' | 'binary' {
  const b = Buffer.from(head.buffer, head.byteOffset, Math.min(head.byteLength, 8192));
  if (b.subarray(0, 1024).includes(PDF)) return 'pdf';
  if (b.subarray(0, 4).equals(ZIP)) return 'zip';
  if (b.subarray(0, 8).equals(OLE2)) return 'ole2';
  return looksLikeText(b) ? 'text' : 'binary';
}

function looksLikeText(b: Buffer): boolean {
  let controls = 0;
  for (const byte of b) {
    if (byte === 0) return false;
    if (byte < 9 || (byte > 13 && byte < 32 && byte !== 27)) controls++;
  }
  if (controls > b.length / 100) return false;
  // Valid UTF-8 except perhaps a character cut at the end of the sample.
  const text = new TextDecoder('utf-8', { fatal: false }).decode(b);
  const bad = (text.match(/\uFFFD/g) ?? []).length;
  return bad <= 1 + b.length / 1000;
}
