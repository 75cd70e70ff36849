import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { UserInputError } from './errors.js';

/**
 * A paging tool's `next_cursor` carries the whole request: the arguments of the call that made it (time zone,
 * window, filters, page size…) and where the listing stopped. Following it with no other argument resumes exactly
 * the same query; `defineTool` does the decoding for every tool whose input has a `cursor` field.
 *
 * The JSON is deflated before base64url, so that a cursor stays short beside the page it closes.
 */
const MAX_CURSOR_JSON = 64 * 1024;

const invalid = () =>
  new UserInputError(
    'The cursor is not one this server gave out; pass the `next_cursor` of the previous answer unchanged',
  );

/** `tool` names the tool that gave the cursor out, so that another tool (with arguments that fit) refuses it. */
export function encodeRequestCursor(args: Record<string, unknown>, position: string, tool?: string): string {
  return deflateRawSync(Buffer.from(JSON.stringify({ ...(tool ? { t: tool } : {}), a: args, p: position })), {
    level: 9,
  }).toString('base64url');
}

export function decodeRequestCursor(cursor: string): {
  args: Record<string, unknown>;
  position: string;
  tool?: string;
} {
  let parsed: unknown;
  try {
    // Bounded: a crafted cursor cannot inflate into more than a small JSON document.
    const json = inflateRawSync(Buffer.from(cursor, 'base64url'), { maxOutputLength: MAX_CURSOR_JSON });
    parsed = JSON.parse(json.toString('utf8'));
  } catch {
    throw invalid();
  }
  const p = parsed as { t?: unknown; a?: unknown; p?: unknown } | null;
  if (!p || typeof p.p !== 'string' || !p.a || typeof p.a !== 'object' || Array.isArray(p.a)) throw invalid();
  if (p.t !== undefined && typeof p.t !== 'string') throw invalid();
  return { args: p.a as Record<string, unknown>, position: p.p, ...(p.t ? { tool: p.t } : {}) };
}

/** What a paging handler gets: its arguments (with `cursor` set to the position to resume from). */
export interface Resumable {
  /**
   * The `next_cursor` for a page that stopped at `position` (undefined when nothing is left). `pinned` fixes values
   * the call computed for arguments it was not given (today's date, the default time zone), so that a later page
   * is not computed afresh.
   */
  nextCursor(position: string | undefined, pinned?: Record<string, unknown>): string | undefined;
}

/** The `cursor` argument of every paging tool: the `next_cursor` of the previous answer, passed back unchanged. */
export const cursorArg = z.string().max(4000).optional().describe('next_cursor.');

/**
 * For a listing that pages by counting (OData `$skip`, Odoo's `offset`): the count a cursor's position holds, else
 * 0. A cursor is only base64 of JSON, so its position is checked like any argument.
 */
export function positionOffset(position: string | undefined, max = 1_000_000): number {
  if (position === undefined || position === '') return 0;
  const offset = /^\d{1,9}$/.test(position) ? Number(position) : Number.NaN;
  if (!(offset <= max)) throw invalid();
  return offset;
}

/**
 * An argument a paging tool needs to start a listing, optional in its schema only because a `next_cursor` alone
 * carries it: missing on a first call, it is asked for in one sentence.
 */
export function requiredArg<T>(value: T | undefined, field: string): T {
  if (value === undefined || value === '')
    throw new UserInputError(`${field} is required (or pass the next_cursor of a previous answer alone)`);
  return value;
}

type Shape = z.ZodRawShape;

/** Arguments that may change from page to page: the page size (Graph's and OData's `top`, Odoo's `limit`). */
const ADJUSTABLE = new Set(['top', 'limit']);

/**
 * Wrap a handler whose input has a `cursor`: a cursor is opened into the request it belongs to (checked again
 * against the input schema), arguments given beside it must agree with it (the page size may change), and the
 * handler gets `nextCursor`.
 */
export function resumable<A extends Record<string, unknown>, C, R>(
  input: Shape,
  schema: z.ZodType,
  handler: (args: A, ctx: C & Resumable) => Promise<R>,
  tool?: string,
): (args: A, ctx: C) => Promise<R> {
  const defaults = new Map<string, unknown>();
  for (const [key, field] of Object.entries(input)) {
    const d = (field as z.ZodType).safeParse(undefined);
    if (d.success && d.data !== undefined) defaults.set(key, d.data);
  }
  const isDefault = (key: string, value: unknown) =>
    defaults.has(key) && isDeepStrictEqual(defaults.get(key), value);
  // Only what differs from the defaults travels: the schema puts the defaults back.
  const compact = (args: Record<string, unknown>) =>
    Object.fromEntries(
      Object.entries(args).filter(([k, v]) => k !== 'cursor' && v !== undefined && !isDefault(k, v)),
    );

  return async (args, ctx) => {
    let request: Record<string, unknown> = { ...args };
    let position: string | undefined;
    if (typeof args.cursor === 'string' && args.cursor !== '') {
      const carried = decodeRequestCursor(args.cursor);
      if (tool && carried.tool !== tool)
        throw new UserInputError(
          `This next_cursor was given out by ${carried.tool ?? 'another tool'}, not ${tool}`,
          {
            hint: `Pass it to ${carried.tool ?? 'the tool that gave it'}, or leave it out to start a new listing`,
          },
        );
      const parsed = schema.safeParse(carried.args);
      if (!parsed.success) throw invalid();
      const resumed = { ...(parsed.data as Record<string, unknown>) };
      // A cursor belongs to one listing: other arguments may repeat it, not change it.
      for (const [key, value] of Object.entries(args)) {
        if (key === 'cursor' || value === undefined || isDefault(key, value)) continue;
        if (ADJUSTABLE.has(key)) {
          resumed[key] = value;
          continue;
        }
        if (!isDeepStrictEqual(value, resumed[key])) {
          throw new UserInputError(
            `This next_cursor continues a listing made with ${key} ${JSON.stringify(resumed[key] ?? null)}, not ${JSON.stringify(value)}`,
            { hint: 'Pass the cursor alone to go on, or leave it out to start a new listing' },
          );
        }
      }
      request = resumed;
      position = carried.position;
    }
    const carriedArgs = compact(request);
    const next: Resumable['nextCursor'] = (at, pinned = {}) => {
      if (at === undefined) return undefined;
      const fixed = Object.fromEntries(
        Object.entries(pinned).filter(([k, v]) => v !== undefined && carriedArgs[k] === undefined),
      );
      return encodeRequestCursor({ ...carriedArgs, ...fixed }, at, tool);
    };
    return handler({ ...request, cursor: position } as unknown as A, { ...ctx, nextCursor: next });
  };
}
