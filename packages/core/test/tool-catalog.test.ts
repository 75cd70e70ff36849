// tools/list entries written at build time (scripts/tools-list.mjs) are served only while they still describe the
// tool; anything else is computed from zod, so a catalog from another build never shows a changed tool.
import { describe, expect, it } from 'vitest';
import { defineTool, describeTool, listedTools, z, type ToolDefinition } from '@switchyard/core';

const base = {
  name: 'demo_get_thing',
  title: 'Get a thing',
  description: 'Reads one thing.',
  toolset: 'things',
  input: { id: z.string().max(10).describe('the id') },
  output: { found: z.boolean() },
  annotations: { readOnlyHint: true },
  handler: async () => ({ text: '', data: { found: true } }),
};
const tool = defineTool(base);
const built = describeTool(tool);
/** An entry that differs from what zod gives in a way no key check sees: proof of where an answer came from. */
const marked = { ...built, inputSchema: { ...built.inputSchema, 'x-from': 'catalog' } };

const listed = (t: ToolDefinition, catalog: Record<string, unknown>) =>
  listedTools([t], catalog as Parameters<typeof listedTools>[1])[0];

describe('listedTools', () => {
  it('serves the build entry of a tool it still describes', () => {
    expect(listed(tool, { [tool.name]: marked })).toBe(marked);
  });

  it('computes the entry of a tool the catalog does not hold', () => {
    expect(listed(tool, { demo_other_thing: marked })).toEqual(built);
  });

  it.each([
    ['title', defineTool({ ...base, title: 'Get one thing' })],
    ['description', defineTool({ ...base, description: 'Reads one thing, again.' })],
    ['annotations', defineTool({ ...base, annotations: { readOnlyHint: true, idempotentHint: true } })],
    [
      'an argument',
      defineTool({ ...base, input: { ...base.input, fields: z.array(z.string()).optional() } }),
    ],
    ['an output field', defineTool({ ...base, output: { found: z.boolean(), at: z.string().optional() } })],
    ['no output schema', defineTool({ ...base, output: undefined, handler: async () => ({ text: '' }) })],
  ])('computes the entry again when the tool changed its %s since the build', (_, changed) => {
    const entry = listed(changed, { [tool.name]: marked });
    expect(entry).not.toBe(marked);
    expect(entry).toEqual(describeTool(changed));
  });

  it('answers without a catalog next to core (unbundled runs)', () => {
    expect(listedTools([tool])).toEqual([built]);
  });
});
