import type { CallToolResult } from '@modelcontextprotocol/server';

/**
 * Sizes on the wire. A tool's answer is measured as the JSON it becomes (escapes included), because that is what
 * a host reads: text of N bytes can take 2N on the wire once its quotes and newlines are escaped.
 */

/** No message leaves a server above this, whatever the arguments (the SDK client refuses lines over 10 MiB). */
export const WIRE_CEILING_BYTES = 4 * 1024 * 1024;

/** The largest byte cap a tool may take or offer in its input schema (`max_bytes`): well under the ceiling. */
export const MAX_RESULT_BYTES = 1024 * 1024;

/** A tool's byte cap when it declares none and takes no `max_bytes` argument. */
export const DEFAULT_RESULT_BYTES = 64 * 1024;

/** The bytes of a value as JSON in UTF-8, as it travels. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '');
}

/** The bytes `text` takes inside a JSON string, quotes left out. */
export function jsonTextBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text)) - 2;
}

const n = (x: number): string => x.toLocaleString('en-US');

/** The longest prefix of `text` whose JSON form fits `budget` bytes, never splitting a surrogate pair. */
export function prefixWithin(text: string, budget: number): string {
  if (jsonTextBytes(text) <= budget) return text;
  let lo = 0;
  let hi = Math.min(text.length, Math.max(0, budget));
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (jsonTextBytes(text.slice(0, mid)) <= budget) lo = mid;
    else hi = mid - 1;
  }
  const cut = text.slice(0, lo);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

/** One value of outside text cut to `budget` bytes, saying so with its original size. */
export function cutValue(text: string, budget: number): string {
  const bytes = Buffer.byteLength(text);
  const mark = `… [cut: ${n(bytes)} bytes in full]`;
  return prefixWithin(text, Math.max(0, budget - jsonTextBytes(mark))) + mark;
}

// Fences as core's fenceUntrusted writes them; a cut keeps both markers of every fence it keeps.
const FENCE = /\[BEGIN UNTRUSTED ([^\n]*?) ([0-9a-f]{8}): [^\n\]]*\]\n([\s\S]*?)\n\[END UNTRUSTED \1 \2\]/g;

type Segment = { kind: 'plain'; text: string } | { kind: 'fence'; open: string; body: string; close: string };

function segments(text: string): Segment[] {
  const out: Segment[] = [];
  let at = 0;
  for (const m of text.matchAll(FENCE)) {
    if (m.index > at) out.push({ kind: 'plain', text: text.slice(at, m.index) });
    const open = m[0].slice(0, m[0].indexOf('\n') + 1);
    const close = `\n[END UNTRUSTED ${m[1]} ${m[2]}]`;
    out.push({ kind: 'fence', open, body: m[3]!, close });
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push({ kind: 'plain', text: text.slice(at) });
  return out;
}

/** Whole lines of `body` that fit `budget`, then the start of the next one with its size stated if room allows. */
function linesWithin(body: string, budget: number): string {
  const lines = body.split('\n');
  const kept: string[] = [];
  let used = 0;
  for (const line of lines) {
    const size = jsonTextBytes(line) + (kept.length > 0 ? 2 : 0);
    if (used + size > budget) {
      // A line larger than what is left (one huge cell or body) shows its start and its size, when room allows.
      const left = budget - used - (kept.length > 0 ? 2 : 0);
      if (kept.length === 0 || left >= 256) kept.push(cutValue(line, left));
      break;
    }
    kept.push(line);
    used += size;
  }
  return kept.join('\n');
}

/**
 * `text` cut to `budget` bytes (as JSON) at a line, keeping every fence it keeps whole: its opening marker, the
 * lines that fit and its closing marker. A line longer than what is left (one huge cell or body) is cut inside
 * and says how large it was. Returns the text unchanged when it fits.
 */
export function cutText(text: string, budget: number): { text: string; cut: boolean } {
  if (jsonTextBytes(text) <= budget) return { text, cut: false };
  let out = '';
  let left = budget;
  for (const seg of segments(text)) {
    if (seg.kind === 'plain') {
      const size = jsonTextBytes(seg.text);
      if (size <= left) {
        out += seg.text;
        left -= size;
        continue;
      }
      out += linesWithin(seg.text, left);
      break;
    }
    const frame = jsonTextBytes(seg.open) + jsonTextBytes(seg.close);
    const size = frame + jsonTextBytes(seg.body);
    if (size <= left) {
      out += seg.open + seg.body + seg.close;
      left -= size;
      continue;
    }
    // A fence whose markers do not fit is left out whole rather than opened and never closed.
    if (frame + 64 <= left) out += seg.open + linesWithin(seg.body, left - frame) + seg.close;
    break;
  }
  return { text: out, cut: true };
}

/** Strings and arrays of structured data shrunk until the whole fits `budget`; returns whether anything was cut. */
function shrinkStructured(data: Record<string, unknown>, budget: number): boolean {
  let cut = false;
  for (let round = 0; round < 12 && jsonBytes(data) > budget; round++) {
    // Halve the largest member each round: long strings are cut with their size stated, arrays lose their tail.
    const limit = Math.max(64, Math.floor(budget / (2 + round)));
    const visit = (value: unknown): unknown => {
      if (typeof value === 'string')
        return jsonTextBytes(value) > limit ? ((cut = true), cutValue(value, limit)) : value;
      if (Array.isArray(value)) {
        let items = value.map(visit);
        while (items.length > 1 && jsonBytes(items) > limit) {
          items = items.slice(0, Math.ceil(items.length / 2));
          cut = true;
        }
        return items;
      }
      if (value && typeof value === 'object')
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visit(v)]));
      return value;
    };
    for (const [k, v] of Object.entries(data)) data[k] = visit(v);
  }
  return cut;
}

export interface FitOptions {
  /** The tool's byte cap for the whole result. */
  cap: number;
  /** How to get what was cut, in a few words for the model (a cursor, a narrower query, a file). */
  more?: string | undefined;
}

/**
 * Hold a tool result to its byte cap, everything included (text, `structuredContent`, links): a result over
 * it is cut — text at a line with its fences kept whole, long strings and arrays of structured data shortened — and
 * says so in both forms: a closing line in the text, and `truncated: true` with the original size in the structure.
 * The one place every answer passes on its way out, so no tool can forget it.
 */
export function fitResult(result: CallToolResult, options: FitOptions): CallToolResult {
  const cap = Math.min(options.cap, MAX_RESULT_BYTES);
  const original = jsonBytes(result);
  if (original <= cap) return result;
  const note = `\n[Answer cut to fit its ${n(cap)}-byte cap (${n(original)} bytes in full)${options.more ? `; ${options.more}` : ''}.]`;
  const structured = result.structuredContent
    ? { ...result.structuredContent, truncated: true, original_bytes: original }
    : undefined;
  // Structured control data gets at most a quarter of the cap; the text the model reads gets the rest.
  if (structured) shrinkStructured(structured, Math.floor(cap / 4));
  const texts = result.content.filter((c) => c.type === 'text');
  // Links and other parts are small; one that is not (an embedded file) goes, and the note says the answer was cut.
  let linkBytes = 0;
  const others = result.content.filter(
    (c) => c.type !== 'text' && (linkBytes += jsonBytes(c)) <= Math.floor(cap / 4),
  );
  const fixed = jsonBytes({ ...result, content: others, structuredContent: structured });
  let left = cap - fixed - jsonTextBytes(note) - texts.length * jsonBytes({ type: 'text', text: '' }) - 8;
  const content: CallToolResult['content'] = [];
  for (const item of texts) {
    const cut = cutText(item.text, Math.max(0, left));
    left -= jsonTextBytes(cut.text);
    content.push({ ...item, text: cut.text });
  }
  const last = content.at(-1);
  if (last && last.type === 'text') last.text += note;
  else content.push({ type: 'text', text: note.trimStart() });
  const fitted: CallToolResult = { ...result, content: [...content, ...others] };
  if (structured) fitted.structuredContent = structured;
  return fitted;
}

/** Of a tool's byte cap, what rows or a body may take, leaving room for the sentences and fences around them. */
export function payloadBudget(cap: number): number {
  const bounded = Math.min(cap, MAX_RESULT_BYTES);
  return Math.max(Math.floor(bounded / 2), bounded - 2048);
}
