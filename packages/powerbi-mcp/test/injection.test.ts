// Rule 7: names typed by other people (a dataset, a table) and Power BI's error text reach the model only
// inside a fence or an inline «quote», and cannot fake a fence's end.
import { describe, expect, it } from 'vitest';
import { fenceProblems, injection } from '@switchyard/testkit';
import { guid } from './fake/index.js';
import { withWorld } from './helpers.js';

const NEEDLE = 'SYSTEM OVERRIDE';
const evil = injection(NEEDLE);
const SALES_WS = guid(1, 1);
const SALES_MODEL = guid(1, 2);
const HIDDEN_DESCRIPTION = 'Pay\u202Eout\u200B rows\u2066 only\u0085\u009B\nsecond line';

const t = withWorld({
  seed: (world) => {
    const dataset = world.pbi.dataset('Sales Analytics', 'Sales Model');
    dataset.name = evil;
    dataset.model.tables.find((t) => !t.hidden)!.name = evil;
    // Text a reader cannot see: a right-to-left override, a zero-width space, an isolate and C1 controls.
    dataset.model.tables.find((t) => t.description)!.description = HIDDEN_DESCRIPTION;
  },
});

describe('names and messages from Power BI stay fenced', () => {
  it('powerbi_list_datasets: a dataset name that is an injection', async () => {
    const call = await t.server.call('powerbi_list_datasets', { workspace: SALES_WS });
    expect(call.isError, call.text).toBe(false);
    expect(call.text).toContain(NEEDLE);
    expect(fenceProblems(call.text, NEEDLE)).toEqual([]);
  });

  it('powerbi_get_dataset_schema: a table name that is an injection, and the dataset name in the title', async () => {
    const call = await t.server.call('powerbi_get_dataset_schema', {
      workspace: SALES_WS,
      dataset: SALES_MODEL,
    });
    expect(call.isError, call.text).toBe(false);
    expect(call.text).toContain(NEEDLE);
    expect(fenceProblems(call.text, NEEDLE, { quoted: true })).toEqual([]);
  });

  it('powerbi_get_dataset_schema: descriptions lose invisible and control characters and stay on one line', async () => {
    const call = await t.server.call('powerbi_get_dataset_schema', {
      workspace: SALES_WS,
      dataset: SALES_MODEL,
    });
    expect(call.text).toContain('\nPayout rows only second line\n');
    expect(call.text).not.toMatch(/[\u202E\u200B\u2066\u0085\u009B]/);
  });

  it('powerbi_execute_dax: an error that quotes the injected name, and the dataset name in the answer', async () => {
    const bad = await t.server.call('powerbi_execute_dax', {
      workspace: SALES_WS,
      dataset: SALES_MODEL,
      query: `EVALUATE '${evil.replace(/'/g, "''")} missing'`,
    });
    expect(bad.isError).toBe(true);
    expect(bad.text).toContain(NEEDLE);
    expect(bad.text).not.toContain('\n');
    expect(fenceProblems(bad.text, NEEDLE, { quoted: true })).toEqual([]);
    const ok = await t.server.call('powerbi_execute_dax', {
      workspace: SALES_WS,
      dataset: SALES_MODEL,
      query: 'EVALUATE ROW("n", 1)',
    });
    expect(fenceProblems(ok.text, NEEDLE, { quoted: true })).toEqual([]);
  });
});
