import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  UserInputError,
  cursorArg,
  decodeRequestCursor,
  defineTool,
  encodeRequestCursor,
  positionOffset,
  requiredArg,
  z,
  type ToolContext,
} from '@switchyard/core';
import { cursorOf as nextCursorIn } from '@switchyard/testkit';

/** A paging tool over the letters a–z: each page says what request it served and where the next one starts. */
function pager(name: string) {
  const calls: Array<Record<string, unknown>> = [];
  const tool = defineTool({
    name,
    title: name,
    description: 'pages through letters',
    toolset: 't',
    input: {
      prefix: z.string().max(10).default('letter').describe('prefix'),
      upper: z.boolean().default(false).describe('upper case'),
      zone: z.string().max(40).optional().describe('zone'),
      top: z.number().int().min(1).max(10).default(3).describe('page size'),
      cursor: cursorArg,
    },
    annotations: { readOnlyHint: true },
    handler: async (args, ctx) => {
      calls.push(args);
      const start = positionOffset(args.cursor, 26);
      const letters = 'abcdefghijklmnopqrstuvwxyz'.slice(start, start + args.top).split('');
      const end = start + letters.length;
      const next = (
        ctx as unknown as { nextCursor: (p: string | undefined, pinned?: object) => string }
      ).nextCursor(end < 26 ? String(end) : undefined, { zone: args.zone ?? 'Europe/Berlin' });
      const shown = letters.map((l) => `${args.prefix}:${args.upper ? l.toUpperCase() : l}`);
      return { text: `${shown.join(' ')}${next ? ` next_cursor: ${next}` : ''}` };
    },
  });
  const call = async (args: Record<string, unknown>) =>
    (await tool.handler(tool.inputSchema.parse(args), {} as ToolContext)).text as string;
  return { tool, calls, call };
}
const cursorOf = (text: string) => nextCursorIn(text)!;

describe('request cursors', () => {
  it('round-trips the arguments and the position', () => {
    const c = encodeRequestCursor(
      { start: '2025-03-01', time_zone: 'America/New_York' },
      '/me/x?$skip=5',
      'a_list_x',
    );
    expect(decodeRequestCursor(c)).toEqual({
      args: { start: '2025-03-01', time_zone: 'America/New_York' },
      position: '/me/x?$skip=5',
      tool: 'a_list_x',
    });
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('resumes the whole request from the cursor alone, with values the first call pinned', async () => {
    const { call, calls } = pager('a_list_letters');
    const first = await call({ prefix: 'p', upper: true });
    expect(first).toMatch(/^p:A p:B p:C next_cursor: /);
    const second = await call({ cursor: cursorOf(first) });
    expect(second).toMatch(/^p:D p:E p:F next_cursor: /);
    // The default zone computed on page 1 travels with the cursor.
    expect(calls[1]).toMatchObject({ prefix: 'p', upper: true, zone: 'Europe/Berlin', cursor: '3' });
    // Only what differs from the defaults is carried.
    expect(decodeRequestCursor(cursorOf(first)).args).toEqual({
      prefix: 'p',
      upper: true,
      zone: 'Europe/Berlin',
    });
  });

  it('lets the page size change, and the same arguments be repeated', async () => {
    const { call } = pager('a_list_letters');
    const first = await call({ prefix: 'p' });
    expect(await call({ cursor: cursorOf(first), top: 5 })).toMatch(/^p:d p:e p:f p:g p:h next_cursor: /);
    expect(await call({ cursor: cursorOf(first), prefix: 'p' })).toMatch(/^p:d p:e p:f next_cursor: /);
  });

  it('refuses an argument that changes the listing', async () => {
    const { call } = pager('a_list_letters');
    const first = await call({ prefix: 'p' });
    await expect(call({ cursor: cursorOf(first), prefix: 'q' })).rejects.toThrow(
      'This next_cursor continues a listing made with prefix "p", not "q"',
    );
    await expect(call({ cursor: cursorOf(first), upper: true })).rejects.toThrow(
      'This next_cursor continues a listing made with upper false, not true',
    );
  });

  it('refuses a cursor from another tool, even when its arguments fit', async () => {
    const letters = pager('a_list_letters');
    const other = pager('a_list_other');
    const first = await letters.call({});
    const err = await other.call({ cursor: cursorOf(first) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserInputError);
    expect((err as UserInputError).message).toBe(
      'This next_cursor was given out by a_list_letters, not a_list_other',
    );
    expect(other.calls).toEqual([]);
  });

  it('refuses tampered, foreign and oversized cursors with one sentence', async () => {
    const { call, calls } = pager('a_list_letters');
    const first = cursorOf(await call({}));
    const refused = 'The cursor is not one this server gave out';
    const bytes = Buffer.from(first, 'base64url');
    bytes[bytes.length - 2]! ^= 0xff;
    for (const bad of [
      bytes.toString('base64url'),
      'not a cursor',
      Buffer.from('{"a":{},"p":"3"}').toString('base64url'), // not deflated
      deflateRawSync(Buffer.from('[1,2]')).toString('base64url'),
      deflateRawSync(Buffer.from('{"a":{},"p":3}')).toString('base64url'), // position not a string
      // Arguments that the tool's schema refuses (unknown key, out of range).
      encodeRequestCursor({ nope: 1 }, '3', 'a_list_letters'),
      encodeRequestCursor({ top: 500 }, '3', 'a_list_letters'),
    ]) {
      await expect(call({ cursor: bad }), bad).rejects.toThrow(refused);
    }
    // A small cursor that would inflate past the bound (64 KB of JSON) is refused without inflating it all.
    const bomb = deflateRawSync(Buffer.from(`{"a":{"x":"${'x'.repeat(200_000)}"},"p":"3"}`), { level: 9 });
    expect(bomb.toString('base64url').length).toBeLessThan(4000);
    expect(() => decodeRequestCursor(bomb.toString('base64url'))).toThrow(refused);
    expect(calls).toHaveLength(1);
  });
});

describe('counting positions and required arguments', () => {
  it('reads a position that counts items, and refuses any other as a cursor not given out here', () => {
    expect(positionOffset(undefined)).toBe(0);
    expect(positionOffset('')).toBe(0);
    expect(positionOffset('40')).toBe(40);
    expect(positionOffset('1000000')).toBe(1_000_000);
    for (const bad of ['-5', '1e3', '10; $filter=x', ' 7', '1000001', '9999999999']) {
      expect(() => positionOffset(bad), bad).toThrow(UserInputError);
      expect(() => positionOffset(bad)).toThrow(/^The cursor is not one this server gave out/);
    }
    expect(() => positionOffset('27', 26)).toThrow(UserInputError);
  });

  it('resumes a page from a forged cursor only when its position is a count', async () => {
    const { call } = pager('a_list_letters');
    const forged = encodeRequestCursor({}, 'x', 'a_list_letters');
    await expect(call({ cursor: forged })).rejects.toThrow(/^The cursor is not one this server gave out/);
    expect(await call({ cursor: encodeRequestCursor({}, '24', 'a_list_letters') })).toBe('letter:y letter:z');
  });

  it('asks for an argument a first page needs, in one sentence', () => {
    expect(requiredArg('sale.order', 'model')).toBe('sale.order');
    expect(() => requiredArg(undefined, 'model')).toThrow(
      'model is required (or pass the next_cursor of a previous answer alone)',
    );
    expect(() => requiredArg('', 'query')).toThrow(UserInputError);
  });

  it('bounds the cursor argument', () => {
    expect(cursorArg.safeParse('x'.repeat(4000)).success).toBe(true);
    expect(cursorArg.safeParse('x'.repeat(4001)).success).toBe(false);
    expect(cursorArg.safeParse(undefined).success).toBe(true);
  });
});
