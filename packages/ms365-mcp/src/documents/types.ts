import type { DocumentKind } from './sniff.js';

/** Limits of one extraction; every one is counted on what is read, not on what the file declares. */
export interface ExtractLimits {
  /** Characters of text to collect (the answer's budget); extraction stops past it. */
  maxChars: number;
  /** Rows shown per sheet. */
  maxRowsPerSheet: number;
  /** Columns shown per row. */
  maxColumns: number;
  /** Characters kept per cell. */
  maxCellChars: number;
  zip: { maxEntries: number; maxTotalBytes: number; maxRatio: number };
}

export const DEFAULT_LIMITS: ExtractLimits = {
  maxChars: 32_768,
  maxRowsPerSheet: 500,
  maxColumns: 100,
  maxCellChars: 1_000,
  zip: { maxEntries: 5_000, maxTotalBytes: 64 * 1024 * 1024, maxRatio: 200 },
};

export interface Extracted {
  kind: DocumentKind;
  text: string;
  /** What the document is counted in: pages, sheets, slides, paragraphs. */
  unit: 'pages' | 'sheets' | 'slides' | 'paragraphs';
  total: number;
  /** How many of them are in `text` (the last one perhaps cut). */
  shown: number;
  truncated: boolean;
  /** Facts the reader needs (rows cut per sheet, pages without a text layer…), one short clause each. */
  notes: string[];
}

/** The budget is spent: collecting more text is pointless. */
export class Budget {
  private used = 0;
  constructor(readonly max: number) {}
  add(chars: number): void {
    this.used += chars;
  }
  get spent(): boolean {
    return this.used >= this.max;
  }
  get left(): number {
    return Math.max(0, this.max - this.used);
  }
}
