// Rule 6 on the wire (issue #15): whatever a query returns, the whole answer (text and structuredContent) stays
// within max_bytes, says truncated in both forms, carries its rows once, and no message nears the 4 MiB ceiling.
import { describe, expect, it } from 'vitest';
import { doubledPayload, fenceProblems, resultBytes, rowsOf } from '@switchyard/testkit';
import { MAX_RESULT_BYTES, WIRE_CEILING_BYTES } from '@switchyard/core';
import { query, withWorld } from './helpers.js';

// A JSON-RPC envelope around a result: {"result":…,"jsonrpc":"2.0","id":N}.
const ENVELOPE = 64;

describe('lakehouse answers within their caps on the wire', () => {
  const t = withWorld({
    ready: async (server) => {
      const rows = Array.from(
        { length: 300 },
        (_, i) => `${i},customer ${i},${(i * 7.5).toFixed(2)},2024-01-0${(i % 9) + 1}`,
      );
      const up = await server.call('lakehouse_upload_file', {
        content: `id,name,amount,day\n${rows.join('\n')}\n`,
        file_name: 'orders.csv',
      });
      expect(up.isError, up.text).toBe(false);
    },
  });

  it('cuts a 2,000,000-character cell in both forms and says how large it was', async () => {
    const call = await query(t.server, "SELECT repeat('x', 2000000) AS s");
    expect(call.isError, call.text).toBe(false);
    expect(resultBytes(call)).toBeLessThanOrEqual(32_768);
    expect(call.text).toContain('1 row (truncated; 1 cell cut (the longest is 2,000,000 characters in full)');
    expect(call.structured).toMatchObject({
      row_count: 1,
      truncated: true,
      cut_cells: 1,
      longest_cell_chars: 2_000_000,
    });
    expect(JSON.stringify(call.structured)).not.toContain('xxxx');
    expect(fenceProblems(call.text, 'xxxx')).toEqual([]);
  });

  it('answers a 50,000,000-character cell with the largest max_bytes within 1 MiB, not one 50 MB line', async () => {
    const call = await query(t.server, "SELECT repeat('x', 50000000) AS s", {
      max_bytes: MAX_RESULT_BYTES,
      timeout_seconds: 120,
    });
    expect(call.isError, call.text).toBe(false);
    expect(resultBytes(call) + ENVELOPE).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    expect(call.structured).toMatchObject({ truncated: true });
  });

  it('holds thousands of rows with the largest allowed arguments to max_bytes, truncated in both forms', async () => {
    const call = await query(
      t.server,
      "SELECT range AS n, repeat('y', 400) AS wide, 'a \"quoted\", line' AS q FROM range(100000)",
      { max_rows: 5000, max_bytes: MAX_RESULT_BYTES },
    );
    expect(call.isError, call.text).toBe(false);
    const bytes = resultBytes(call);
    expect(bytes).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    expect(bytes + ENVELOPE).toBeLessThan(WIRE_CEILING_BYTES);
    const shown = rowsOf(call).length;
    expect(call.structured).toMatchObject({ row_count: shown, truncated: true });
    expect(call.text.split('\n')[0]).toMatch(/^[\d,]+ rows \(truncated; /);
    expect(fenceProblems(call.text, 'yyyy')).toEqual([]);
  });

  it('refuses a max_bytes past what a host can read', async () => {
    const call = await query(t.server, 'SELECT 1', { max_bytes: MAX_RESULT_BYTES + 1 });
    expect(call.isError).toBe(true);
    expect(call.text).toContain("'max_bytes'");
  });

  it('sends no tool payload twice: structuredContent carries counts, flags and ids', async () => {
    const calls = [
      await t.server.call('lakehouse_list_tables', {}),
      await t.server.call('lakehouse_describe_table', { table: 'bronze.orders' }),
      await query(t.server, 'SELECT * FROM bronze.orders ORDER BY id', { max_rows: 100 }),
      await t.server.call('lakehouse_explain_data', { sql: 'SELECT day, amount FROM bronze.orders' }),
      await t.server.call('lakehouse_analyze_schema', { table: 'bronze.orders' }),
      await t.server.call('lakehouse_suggest_query', { question: 'total amount per day' }),
    ];
    for (const call of calls) {
      expect(call.isError, call.text).toBe(false);
      expect(doubledPayload(call), call.text.slice(0, 200)).toEqual([]);
    }
  });
});
