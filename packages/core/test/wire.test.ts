// Rule 6 at core's exit: the whole answer within the tool's cap, cut the same way in text and structure, fences
// kept whole, and no message over the 4 MiB ceiling whatever a tool returns.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  cutText,
  defineTool,
  fenceUntrusted,
  fitResult,
  jsonBytes,
  MAX_RESULT_BYTES,
  resolveAliases,
  WIRE_CEILING_BYTES,
  z,
} from '../src/index.js';
import { StdioLineTransport } from '../src/stdio.js';
import { createLogger } from '../src/log.js';
import { fenceProblems } from '@switchyard/testkit';

const fenced = (body: string) => `Some rows:\n${fenceUntrusted(body, 'query result')}\n(5 ms)`;

describe('fitResult', () => {
  it('leaves an answer within its cap as it is', () => {
    const result = {
      content: [{ type: 'text' as const, text: fenced('a,b\n1,2') }],
      structuredContent: { n: 1 },
    };
    expect(fitResult(result, { cap: 4096 })).toBe(result);
  });

  it('cuts a huge cell in the text with its size stated, fences whole, truncated in the structure', () => {
    const cell = 'x'.repeat(2_000_000);
    const result = {
      content: [{ type: 'text' as const, text: fenced(`s\n${cell}`) }],
      structuredContent: { row_count: 1, truncated: false, rows: [[cell]] },
    };
    const fitted = fitResult(result, { cap: 32_768, more: 'narrow the query' });
    expect(jsonBytes(fitted)).toBeLessThanOrEqual(32_768);
    const text = (fitted.content[0] as { text: string }).text;
    expect(text).toContain('[cut: 2,000,000 bytes in full]');
    expect(text).toMatch(
      /Answer cut to fit its 32,768-byte cap \([\d,]+ bytes in full\); narrow the query\.\]$/,
    );
    expect(fenceProblems(text, 'xxxx')).toEqual([]);
    expect(fitted.structuredContent).toMatchObject({ truncated: true, row_count: 1 });
    expect((fitted.structuredContent as { original_bytes: number }).original_bytes).toBeGreaterThan(
      2_000_000,
    );
  });

  it('keeps whole lines of many rows and measures escapes as they travel', () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => `${i},"say ""hi""\\n"`).join('\n');
    const fitted = fitResult({ content: [{ type: 'text', text: fenced(`id,s\n${rows}`) }] }, { cap: 10_000 });
    expect(jsonBytes(fitted)).toBeLessThanOrEqual(10_000);
    const text = (fitted.content[0] as { text: string }).text;
    expect(fenceProblems(text, 'say')).toEqual([]);
    // Every row kept is whole.
    for (const line of text.split('\n').filter((l) => /^\d+,/.test(l)))
      expect(line).toMatch(/^\d+,"say ""hi""\\n"$/);
  });

  it('never lets a cap exceed the most a tool may take', () => {
    const fitted = fitResult(
      { content: [{ type: 'text', text: 'y'.repeat(3_000_000) }] },
      { cap: 10 * 1024 ** 2 },
    );
    expect(jsonBytes(fitted)).toBeLessThanOrEqual(MAX_RESULT_BYTES);
  });

  it('cuts text and leaves no marker open when a fence does not fit at all', () => {
    const { text } = cutText(`${'intro '.repeat(50)}\n${fenceUntrusted('z'.repeat(5000), 'body')}`, 320);
    expect(text).not.toContain('BEGIN UNTRUSTED');
  });
});

describe('tool byte caps and aliases', () => {
  const tool = defineTool({
    name: 'example_read_thing',
    title: 'Read',
    description: 'Reads',
    toolset: 't',
    input: { dataset: z.string(), max_bytes: z.number().max(MAX_RESULT_BYTES).default(2048) },
    annotations: { readOnlyHint: true },
    aliases: { dataset_id: 'dataset' },
    handler: () => Promise.resolve({ text: '' }),
  });

  it('takes the max_bytes argument as the cap', () => {
    expect(tool.maxBytes({ max_bytes: 4096 })).toBe(4096);
  });

  it('renames aliases, and leaves an alias given beside its name for the schema to refuse', () => {
    expect(resolveAliases({ dataset_id: 'd', max_bytes: 1 }, tool.aliases)).toEqual({
      dataset: 'd',
      max_bytes: 1,
    });
    const both = resolveAliases({ dataset_id: 'd', dataset: 'e' }, tool.aliases);
    expect(tool.inputSchema.safeParse(both).success).toBe(false);
  });
});

describe('the stdio ceiling', () => {
  it('answers an error instead of a message over 4 MiB, and sends nothing of it', async () => {
    const stdout = new PassThrough();
    let written = '';
    stdout.on('data', (c: Buffer) => (written += c.toString()));
    const transport = new StdioLineTransport({
      log: createLogger({ name: 'test', level: 'error', write: () => {} }),
      stdin: new PassThrough(),
      stdout,
    });
    await transport.send({
      jsonrpc: '2.0',
      id: 7,
      result: { content: [{ type: 'text', text: 'x'.repeat(WIRE_CEILING_BYTES) }] },
    });
    const lines = written.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(Buffer.byteLength(lines[0]!)).toBeLessThan(1024);
    expect(JSON.parse(lines[0]!)).toMatchObject({ id: 7, error: { code: -32603 } });
  });
});
