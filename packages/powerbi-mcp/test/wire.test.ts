// Rule 6 on the wire (issue #15): a DAX answer with a huge value and thousands of rows stays within the tool's
// byte cap with the largest max_rows, says truncated in the text and in structuredContent, and sends its rows once;
// and the seed chat backend's argument names (issue #15, part 5) are accepted without being advertised.
import { describe, expect, it } from 'vitest';
import { doubledPayload, fenceProblems, resultBytes, rowsOf } from '@switchyard/testkit';
import { DEFAULT_RESULT_BYTES } from '@switchyard/core';
import { guid } from './fake/index.js';
import { withWorld } from './helpers.js';
import { MAX_ROWS } from '../src/tools/dax.js';

const SALES_WS = guid(1, 1);
const SALES_MODEL = guid(1, 2);
const at = { workspace: 'Sales Analytics', dataset: 'Sales Model' };

const t = withWorld();

describe('powerbi answers within their caps on the wire', () => {
  it('sends no tool payload twice', async () => {
    const calls = [
      await t.server.call('powerbi_list_workspaces', {}),
      await t.server.call('powerbi_list_datasets', { workspace: 'Sales Analytics' }),
      await t.server.call('powerbi_get_dataset_schema', at),
      await t.server.call('powerbi_execute_dax', {
        ...at,
        query: "EVALUATE SUMMARIZECOLUMNS('Product'[Category], \"Units\", SUM('Sales'[Quantity]))",
      }),
      await t.server.call('powerbi_execute_dax', { ...at, query: "EVALUATE TOPN(50, 'Sales')" }),
      await t.server.call('powerbi_list_reports', { workspace: 'Sales Analytics' }),
      await t.server.call('powerbi_get_refresh_history', {
        workspace: 'Sales Analytics',
        dataset: 'Restricted Model',
      }),
    ];
    for (const call of calls) {
      expect(call.isError, call.text).toBe(false);
      expect(doubledPayload(call), call.text.slice(0, 200)).toEqual([]);
    }
  });

  it('holds a 2,000,000-character value and 20,000 rows to the cap with the largest max_rows', async () => {
    const customer = t.world.pbi
      .dataset('Sales Analytics', 'Sales Model')
      .model.tables.find((t) => t.name === 'Customer')!;
    customer.rows[0]!.Name = 'x'.repeat(2_000_000);
    for (let i = 0; i < 20_000; i++)
      customer.rows.push({
        CustomerKey: 1000 + i,
        Name: `Bulk customer ${i} ${'w'.repeat(300)}`,
        Region: 'North',
        Segment: 'Consumer',
      });
    const call = await t.server.call('powerbi_execute_dax', {
      ...at,
      query: "EVALUATE 'Customer'",
      max_rows: MAX_ROWS,
    });
    expect(call.isError, call.text).toBe(false);
    expect(resultBytes(call)).toBeLessThanOrEqual(DEFAULT_RESULT_BYTES);
    const shown = rowsOf(call).length;
    expect(call.structured).toMatchObject({
      row_count: 20_050,
      returned: shown,
      truncated: true,
      longest_cell_chars: 2_000_000,
    });
    expect(call.text.split('\n')[0]).toMatch(
      /^[\d,]+ of 20,050 rows from .+ \(truncated; [\d,]+ cells? cut \(the longest is 2,000,000 characters in full\); cut at \d+ KB of text; use spill: true/,
    );
    expect(rowsOf(call)[0]![1]).toMatch(/^x+…$/);
    expect(fenceProblems(call.text, 'xxxx')).toEqual([]);
    expect(doubledPayload(call)).toEqual([]);
  });
});

describe("the seed backend's argument names", () => {
  it('are accepted as aliases: workspace_id, dataset_id, dax_query', async () => {
    const datasets = await t.server.call('powerbi_list_datasets', { workspace_id: SALES_WS });
    expect(datasets.isError, datasets.text).toBe(false);
    expect(datasets.text).toContain('Sales Model');
    const schema = await t.server.call('powerbi_get_dataset_schema', {
      workspace_id: SALES_WS,
      dataset_id: SALES_MODEL,
    });
    expect(schema.isError, schema.text).toBe(false);
    expect(schema.structured).toMatchObject({ workspace_id: SALES_WS, dataset_id: SALES_MODEL });
    const dax = await t.server.call('powerbi_execute_dax', {
      workspace_id: SALES_WS,
      dataset_id: SALES_MODEL,
      dax_query: 'EVALUATE ROW("n", 1)',
    });
    expect(dax.isError, dax.text).toBe(false);
    expect(rowsOf(dax)).toEqual([['1']]);
  });

  it('are not advertised in tools/list, and one given beside its own name is refused', async () => {
    const { tools } = await t.server.client.listTools();
    for (const tool of tools)
      expect(Object.keys(tool.inputSchema.properties ?? {})).not.toEqual(
        expect.arrayContaining([expect.stringMatching(/^(workspace_id|dataset_id|dax_query)$/)]),
      );
    const both = await t.server.call('powerbi_execute_dax', {
      ...at,
      dax_query: 'EVALUATE ROW("n", 1)',
      query: 'EVALUATE ROW("n", 2)',
    });
    expect(both.isError).toBe(true);
    expect(both.text).toContain("unknown argument 'dax_query'");
  });
});
