/**
 * Small text helpers every server writes with, kept once here: an OData string literal, a byte size in
 * words, and the one line that says how much of a list an answer shows and how to get the rest.
 * (Outside text made safe on one line is `oneLine` in untrusted.ts; the machine's time zone is in time.ts.)
 */
import type { Collected } from './http.js';

/** An OData string literal, quotes doubled: `'it''s'` (OData ABNF, `SQUOTE-in-string = SQUOTE SQUOTE`). */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A size for a person: `45 B`, `3.7 KB`, `12 MB` (binary units; one decimal below 10); '' when unknown. */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes)) return '';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** How many of a list an answer shows, and how to get the rest. */
export interface ListCount {
  /** Items in this answer. */
  shown: number;
  /** All there are, when known: written `20 of 134` when more than shown. */
  total?: number | undefined;
  /** The item's name, singular and plural (`['library', 'libraries']`), or a singular that takes an s. */
  noun: string | readonly [string, string];
  /** Words after the noun that say which list this is: `in workspace «Sales»`. */
  scope?: string | undefined;
  /** Items were left out (a page size, a limit, a byte cap) or cells were cut. */
  truncated: boolean;
  /** The `next_cursor` that resumes the listing; it closes the line, so that it is easy to copy. */
  cursor?: string | undefined;
  /** How else to get the rest (a larger limit, a narrower query), when no cursor does it. */
  hint?: string | undefined;
  /** Cells cut at a length, and the full length of the longest one (characters). */
  cutCells?: number | undefined;
  longestCell?: number | undefined;
}

/** The count fields of a gathered page (core's `Collected`): what it shows, whether more exist, its cursor. */
export function pageCount(page: Collected<unknown>): Pick<ListCount, 'shown' | 'truncated' | 'cursor'> {
  return { shown: page.items.length, truncated: page.truncated, cursor: page.next };
}

const n = (x: number) => x.toLocaleString('en-US');

/**
 * The count as a phrase, without the cursor: `20 of 134 messages in «Inbox» (truncated; more exist)`.
 * For a line of one's own, use {@link listFooter}.
 */
export function countPhrase(c: ListCount): string {
  const [one, many] = typeof c.noun === 'string' ? [c.noun, `${c.noun}s`] : c.noun;
  const of = c.total !== undefined && c.total !== c.shown ? ` of ${n(c.total)}` : '';
  const head = `${n(c.shown)}${of} ${(c.total ?? c.shown) === 1 ? one : many}${c.scope ? ` ${c.scope}` : ''}`;
  if (!c.truncated) return head;
  const why = [
    c.cutCells
      ? `${n(c.cutCells)} cell${c.cutCells === 1 ? '' : 's'} cut (the longest is ${n(c.longestCell ?? 0)} characters in full)`
      : '',
    c.cursor ? 'more exist' : (c.hint ?? ''),
  ].filter(Boolean);
  return `${head} (truncated${why.map((w) => `; ${w}`).join('')})`;
}

/**
 * The one line that closes (or opens) a list in every server: how many, of how many, whether some were left
 * out, how to get them, and last the `next_cursor` when there is one:
 * `10 messages (truncated; more exist). next_cursor: eJy…` · `5 events.` ·
 * `20 of 134 semantic models in «Sales» (truncated; raise top or use name_contains).`
 * `note` is a sentence of the caller's that goes before the cursor.
 */
export function listFooter(c: ListCount & { note?: string | undefined }): string {
  return `${countPhrase(c)}.${c.note ? ` ${c.note}` : ''}${c.cursor ? ` next_cursor: ${c.cursor}` : ''}`;
}
