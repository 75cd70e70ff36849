// Rule 6 on the wire (issue #15): a huge value or thousands of rows come back within the tool's byte cap, say
// truncated in the text and in structuredContent, and the rows travel once (the text's CSV).
import { describe, expect, it } from 'vitest';
import { cursorOf, doubledPayload, fenceProblems, resultBytes, rowsOf } from '@switchyard/testkit';
import { DEFAULT_RESULT_BYTES } from '@switchyard/core';
import { withWorld } from './helpers.js';

describe('odoo answers within their caps on the wire', () => {
  const t = withWorld({
    version: '19.0',
    seed: (world) => {
      const partners = world.orm.table('res.partner');
      const base = partners.get(14)!;
      // One partner with a 3,000,000-character note, and 3,000 more with 600 characters each.
      base.comment = 'n'.repeat(3_000_000);
      for (let i = 0; i < 3000; i++)
        partners.set(5000 + i, { ...base, id: 5000 + i, name: `Bulk ${i}`, comment: 'c'.repeat(600) });
    },
  });

  it('cuts a 3,000,000-character value in both forms and says how large it was', async () => {
    const call = await t.server.call('odoo_get_record', {
      model: 'res.partner',
      id: 14,
      fields: ['name', 'comment'],
    });
    expect(call.isError, call.text).toBe(false);
    expect(resultBytes(call)).toBeLessThanOrEqual(DEFAULT_RESULT_BYTES);
    expect(call.text).toContain(
      'Truncated: 1 value cut at 2,000 characters (the longest is 3,000,000 in full)',
    );
    expect(call.structured).toEqual({
      id: 14,
      fields: 2,
      truncated: true,
      cut_cells: 1,
      longest_cell_chars: 3_000_000,
    });
    expect(fenceProblems(call.text, 'nnnn')).toEqual([]);
  });

  it('holds 500 wide rows of 3,000 to the cap, truncated with the next_cursor in both forms', async () => {
    const call = await t.server.call('odoo_search_records', {
      model: 'res.partner',
      domain: [['name', 'ilike', 'Bulk']],
      fields: ['name', 'comment'],
      limit: 500,
    });
    expect(call.isError, call.text).toBe(false);
    expect(resultBytes(call)).toBeLessThanOrEqual(DEFAULT_RESULT_BYTES);
    const shown = rowsOf(call).length;
    expect(shown).toBeLessThan(500);
    expect(call.structured).toMatchObject({
      returned: shown,
      total: 3000,
      truncated: true,
    });
    const head = call.text.split('\n')[0]!;
    expect(head).toMatch(
      new RegExp(
        `^res\\.partner: ${shown} of 3,000 rows \\(truncated; ${shown} cells cut \\(the longest is 600 characters in full\\); more exist\\)\\. `,
      ),
    );
    expect(head.endsWith(` next_cursor: ${cursorOf(call.text)!}`)).toBe(true);
    // The next page starts where the cap cut this one.
    const next = await t.server.call('odoo_search_records', { cursor: cursorOf(call.text)! });
    expect(next.text.split('\n')[0]).toContain(` from row ${(shown + 1).toLocaleString('en-US')} `);
  });

  it('sends no tool payload twice', async () => {
    const calls = [
      await t.server.call('odoo_search_records', {
        model: 'res.partner',
        fields: ['name', 'email', 'city'],
        limit: 20,
      }),
      await t.server.call('odoo_list_sales_orders', { limit: 20 }),
      await t.server.call('odoo_list_invoices', { limit: 20 }),
      await t.server.call('odoo_list_employees', {}),
      await t.server.call('odoo_get_inventory', {}),
      await t.server.call('odoo_aggregate_records', { model: 'sale.order', group_by: ['state'] }),
      await t.server.call('odoo_get_record', { model: 'res.partner', id: 10 }),
      await t.server.call('odoo_count_records', { model: 'res.partner' }),
      await t.server.call('odoo_list_models', {}),
    ];
    for (const call of calls) {
      expect(call.isError, call.text).toBe(false);
      expect(doubledPayload(call), call.text.slice(0, 200)).toEqual([]);
    }
  });
});
