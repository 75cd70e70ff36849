import { describe, expect, it } from 'vitest';
import {
  createLogger,
  defineTool,
  defineToolset,
  parseList,
  resolveModes,
  z,
  type ModeOptions,
} from '@switchyard/core';

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
const sets = [
  defineToolset({ id: 'r', description: 'reads' }),
  defineToolset({ id: 'w', description: 'writes' }),
  defineToolset({ id: 'extra', description: 'only when named', default: false }),
  defineToolset({
    id: 'danger',
    description: 'opt-in',
    default: false,
    enabledBy: {
      flags: '--allow-danger',
      description: 'serve danger',
      env: 'X_ALLOW_DANGER',
      what: 'Dangers',
    },
  }),
];
const all = [
  tool('a_read_one', 'r', true),
  tool('a_write_one', 'w', false),
  tool('a_read_two', 'w', true),
  tool('a_read_extra', 'extra', true),
  tool('a_drop_all', 'danger', false),
  tool('a_peek_danger', 'danger', true),
];
const names = (modes: ModeOptions) => resolveModes(all, sets, modes).tools.map((t) => t.name);

describe('resolveModes', () => {
  it('serves every tool of the default toolsets when nothing is named', () =>
    expect(names({})).toEqual(['a_read_one', 'a_write_one', 'a_read_two']));
  it('filters by toolset', () => expect(names({ toolsets: ['w'] })).toEqual(['a_write_one', 'a_read_two']));
  it('serves a toolset that is off by default when it is named', () => {
    expect(names({ toolsets: ['extra'] })).toEqual(['a_read_extra']);
    expect(names({ tools: ['a_read_extra'] })).toEqual(['a_read_extra']);
  });
  it('adds named tools to the toolsets', () =>
    expect(names({ toolsets: ['r'], tools: ['a_write_one'] })).toEqual(['a_read_one', 'a_write_one']));
  it('lets read-only win over --tools, and says so', () => {
    const lines: string[] = [];
    const log = createLogger({ name: 't', level: 'warn', write: (l: string) => lines.push(l) });
    const served = resolveModes(all, sets, { tools: ['a_write_one', 'a_read_one'], readOnly: true }, log);
    expect(served.tools.map((t) => t.name)).toEqual(['a_read_one']);
    expect(served.readOnly).toBe(true);
    expect(lines.join('')).toContain("'a_write_one' changes data, so --read-only leaves it out");
  });
  it('decides read-only by readOnlyHint alone', () =>
    expect(names({ readOnly: true })).toEqual(['a_read_one', 'a_read_two']));
  it('refuses unknown names with the known ones', () => {
    expect(() => names({ toolsets: ['x', 'y'] })).toThrow(
      "Unknown toolsets 'x', 'y'; the toolsets are r, w, extra, danger",
    );
    expect(() => names({ tools: ['a_nope'] })).toThrow(/^Unknown tool 'a_nope'; the tools are a_read_one, /);
  });
  it('refuses a tool whose toolset the server does not declare', () => {
    expect(() => resolveModes([tool('a_lost_one', 'nowhere', true)], sets, {})).toThrow(
      "Tool 'a_lost_one' names toolset 'nowhere', which the server does not declare",
    );
  });
  it('tells what it serves per toolset', () => {
    const served = resolveModes(all, sets, { toolsets: ['w'], readOnly: true });
    expect(served.serves('w')).toBe(true);
    expect(served.serves('r')).toBe(false);
    expect(served.toolsets.map((s) => s.id)).toEqual(['r', 'w', 'extra', 'danger']);
  });
  it('rejects tool names and toolset ids that break the naming rules', () => {
    expect(() => tool('BadName', 'r', true)).toThrow(/snake_case/);
    expect(() => defineToolset({ id: 'Bad Set', description: '' })).toThrow(/lower-case/);
  });
  it('parses comma lists', () => {
    expect(parseList(' a, b ,,c ')).toEqual(['a', 'b', 'c']);
    expect(parseList('')).toBeUndefined();
  });
});

describe('an opt-in toolset', () => {
  it('is served, by default too, only when its switch is on, and logs that it is', () => {
    expect(names({})).not.toContain('a_drop_all');
    const lines: string[] = [];
    const log = createLogger({ name: 't', level: 'warn', write: (l: string) => lines.push(l) });
    const served = resolveModes(all, sets, { enabled: ['danger'] }, log);
    expect(served.tools.map((t) => t.name)).toEqual([
      'a_read_one',
      'a_write_one',
      'a_read_two',
      'a_drop_all',
      'a_peek_danger',
    ]);
    expect(lines.join('')).toContain('Dangers are enabled: a_drop_all, a_peek_danger');
    expect(names({ enabled: ['danger'], toolsets: ['danger'] })).toEqual(['a_drop_all', 'a_peek_danger']);
    expect(names({ enabled: ['danger'], readOnly: true })).toEqual([
      'a_read_one',
      'a_read_two',
      'a_peek_danger',
    ]);
  });
  it('refuses to start when it is named without its switch, naming the flag, the variable and its tools', () => {
    expect(() => names({ toolsets: ['r', 'danger'] })).toThrow(
      expect.objectContaining({
        message: '--toolsets danger asks for danger tools, but Dangers are off by default',
        hint: 'Add --allow-danger (or set X_ALLOW_DANGER=1) to serve a_drop_all, a_peek_danger',
      }),
    );
    expect(() => names({ tools: ['a_drop_all'] })).toThrow(
      '--tools a_drop_all asks for danger tools, but Dangers are off by default',
    );
  });
  it('refuses to start when read-only would leave out every tool named of it', () => {
    expect(() =>
      names({ enabled: ['danger'], readOnly: true, tools: ['a_drop_all'], envPrefix: 'X' }),
    ).toThrow(
      expect.objectContaining({
        message:
          '--tools a_drop_all asks for danger tools, but --read-only is set and always wins, so none can be served',
        hint: 'Remove --read-only (and X_READ_ONLY) and add --allow-danger to serve them',
      }),
    );
    // A read-only tool of it can still be named.
    expect(names({ enabled: ['danger'], readOnly: true, tools: ['a_peek_danger'] })).toEqual([
      'a_peek_danger',
    ]);
  });
});
