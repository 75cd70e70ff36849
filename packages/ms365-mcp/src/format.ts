import { csvField, fenceUntrusted, oneLine, type Collected, type ToolContext } from '@switchyard/core';

export interface EmailAddress {
  emailAddress?: { name?: string; address?: string };
}

/**
 * Rows from Graph as one fence around the CSV (header included): a list costs one fence, not one per field,
 * and names, subjects and previews never stand outside it.
 */
export function fencedCsv(source: string, header: string, lines: string[]): string {
  return fenceUntrusted([header, ...lines].join('\n'), source);
}

/** `Alice Example <alice@contoso.com>`, or just the address when the name adds nothing. */
export function person(r: EmailAddress | undefined, max = 80): string {
  const name = oneLine(r?.emailAddress?.name, 60);
  const address = r?.emailAddress?.address ?? '';
  if (!address) return oneLine(name, max);
  if (!name || name.toLowerCase() === address.toLowerCase()) return address;
  return oneLine(`${name} <${address}>`, max);
}

export function people(list: EmailAddress[] | undefined, max = 5): string {
  const all = list ?? [];
  const shown = all.slice(0, max).map((r) => person(r));
  return all.length > max ? `${shown.join(', ')} +${all.length - max} more` : shown.join(', ');
}

/** A CSV line of the given fields. */
export function csvLine(fields: string[]): string {
  return fields.map(csvField).join(',');
}

/** Cut text so that it takes at most `bytes` bytes of UTF-8 (with an ellipsis when cut). */
export function fitBytes(text: string, bytes: number): string {
  if (bytes <= 0) return '';
  if (Buffer.byteLength(text) <= bytes) return text;
  let cut = Math.min(text.length, bytes);
  while (cut > 0 && Buffer.byteLength(text.slice(0, cut)) + 3 > bytes) cut--;
  return cut > 0 ? `${text.slice(0, cut).trimEnd()}…` : '';
}

/**
 * The page with its `next` turned into the tool's next_cursor, which carries the whole request (core's cursor.ts);
 * `pinned` fixes what the call computed for arguments it was not given (today, the default zone).
 */
export function resumable<T>(
  page: Collected<T>,
  ctx: ToolContext,
  pinned?: Record<string, unknown>,
): Collected<T> {
  if (!ctx.nextCursor) throw new Error('a paging tool needs a cursor argument');
  return { ...page, next: ctx.nextCursor(page.next, pinned) };
}

/** A drive path made URL-safe segment by segment: `Reports/Q1 #2.xlsx` → `Reports/Q1%20%232.xlsx`. */
export function encodePath(path: string): string {
  return path
    .split('/')
    .filter((s) => s.length > 0)
    .map(encodeURIComponent)
    .join('/');
}
