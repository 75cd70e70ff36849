import { describe, expect, it } from 'vitest';
import { defineTool, parseList, selectTools, z } from '@switchyard/core';

const tool = (name: string, toolset: string, readOnly: boolean) =>
  defineTool({
    name,
    title: name,
    description: name,
    toolset,
    input: { x: z.string().optional().describe('x') },
    annotations: { readOnlyHint: readOnly },
    handler: async () => ({ text: '' }),
  });
const all = [tool('a_read_one', 'r', true), tool('a_write_one', 'w', false), tool('a_read_two', 'w', true)];
const names = (modes: Parameters<typeof selectTools>[1]) => selectTools(all, modes).map((t) => t.name);

describe('selectTools', () => {
  it('serves everything by default', () =>
    expect(names({})).toEqual(['a_read_one', 'a_write_one', 'a_read_two']));
  it('filters by toolset', () => expect(names({ toolsets: ['w'] })).toEqual(['a_write_one', 'a_read_two']));
  it('adds named tools to the toolsets', () =>
    expect(names({ toolsets: ['r'], tools: ['a_write_one'] })).toEqual(['a_read_one', 'a_write_one']));
  it('lets read-only win over --tools', () =>
    expect(names({ tools: ['a_write_one', 'a_read_one'], readOnly: true })).toEqual(['a_read_one']));
  it('decides read-only by readOnlyHint alone', () =>
    expect(names({ readOnly: true })).toEqual(['a_read_one', 'a_read_two']));
  it('refuses unknown names with the known ones', () => {
    expect(() => names({ toolsets: ['x', 'y'] })).toThrow("Unknown toolsets 'x', 'y'; the toolsets are r, w");
    expect(() => names({ tools: ['a_nope'] })).toThrow(
      "Unknown tool 'a_nope'; the tools are a_read_one, a_write_one, a_read_two",
    );
  });
  it('rejects tool names that break the naming rule', () => {
    expect(() => tool('BadName', 'r', true)).toThrow(/snake_case/);
  });
  it('parses comma lists', () => {
    expect(parseList(' a, b ,,c ')).toEqual(['a', 'b', 'c']);
    expect(parseList('')).toBeUndefined();
  });
});
