// The AI-assisted tools on the local warehouse: deterministic answers on seeded tables whose properties are
// known (keys, a foreign key, PII, categories, an outlier, null-heavy, constant and mixed columns), and a
// sampling round trip where the SDK client plays the host's model.
import { describe, expect, it } from 'vitest';
import { rowsOf } from '@switchyard/testkit';
import { withWorld } from './helpers.js';

const customers = [
  'id,name,email,phone,segment,country,notes,code',
  ...Array.from({ length: 200 }, (_, i) => {
    const id = i + 1;
    const segment = ['retail', 'wholesale', 'online'][id % 3];
    const notes =
      id % 5 === 0 ? `"long free text note about customer ${id}, kept for the account manager"` : '';
    const code = id % 2 === 0 ? String(1000 + id) : `X${id}`;
    return `${id},Customer ${id},customer${id}@example.com,+33 1 23 45 ${String(id).padStart(3, '0')},${segment},FR,${notes},${code}`;
  }),
].join('\n');

const orders = [
  'order_id,customer_id,amount,status,ordered_at,prepaid',
  ...Array.from({ length: 999 }, (_, i) => {
    const id = i + 1;
    const day = String(1 + (id % 28)).padStart(2, '0');
    const month = String(1 + Math.floor(id / 84)).padStart(2, '0');
    return `${id},${1 + (id % 200)},${10 + (id % 91)},${['new', 'paid', 'shipped', 'cancelled'][id % 4]},2024-${month}-${day} 10:00:00,${id % 3 === 0}`;
  }),
  '1000,7,100000,paid,2024-12-28 10:00:00,true',
].join('\n');

describe('AI-assisted tools (deterministic, local warehouse)', () => {
  const asked: Array<{ system?: string; prompt: string }> = [];
  let answer = 'These are the orders of the shop, one row per order, linked to customers.';
  const t = withWorld({
    server: {
      sampling: async (request) => {
        asked.push(request);
        return answer;
      },
    },
    ready: async (server) => {
      for (const [name, content] of [
        ['customers.csv', customers],
        ['orders.csv', orders],
      ]) {
        const up = await server.call('lakehouse_upload_file', { content, file_name: name });
        expect(up.isError, up.text).toBe(false);
      }
    },
  });

  it('analyzes a table: roles, the key, the join path to customers, the outlier', async () => {
    const call = await t.server.call('lakehouse_analyze_schema', { table: 'bronze.orders' });
    expect(call.isError, call.text).toBe(false);
    expect(call.structured).toMatchObject({
      table: 'tenant_default.bronze.orders',
      rows: 1000,
      candidate_keys: ['order_id'],
      join_paths: ['bronze.orders.customer_id = bronze.customers.id'],
    });
    // Roles travel once, in the text's CSV (column,type,role,notes).
    expect(rowsOf(call).slice(0, 6)).toEqual([
      ['order_id', 'BIGINT', 'id', ''],
      ['customer_id', 'BIGINT', 'foreign key candidate', ''],
      ['amount', 'BIGINT', 'amount', ''],
      ['status', 'VARCHAR', 'category', ''],
      ['ordered_at', 'TIMESTAMP', 'timestamp', ''],
      // Ends in "id" but is no key: a flag.
      ['prepaid', 'BOOLEAN', 'flag', ''],
    ]);
    expect(call.text).toContain('amount: outliers (max 100000 beyond 3×IQR of 32–78)');
    expect(call.structured!.narrative).toBeUndefined();
    expect(asked).toHaveLength(0);
  });

  it('finds PII, categories, constant, null-heavy and mixed columns', async () => {
    const call = await t.server.call('lakehouse_analyze_schema', { table: 'customers' });
    const roles = Object.fromEntries(
      rowsOf(call)
        .slice(0, 8)
        .map((c) => [c[0], c[2]]),
    );
    expect(roles).toEqual({
      id: 'id',
      name: 'pii: name',
      email: 'pii: e-mail',
      phone: 'pii: phone',
      segment: 'category',
      country: 'category',
      notes: 'free text',
      code: 'id',
    });
    expect(call.structured!.candidate_keys).toEqual(['id', 'name', 'email', 'phone', 'code']);
    for (const flag of [
      "country: constant (one value 'FR')",
      'notes: null-heavy (80% empty)',
      'code: mixed types (50% numbers, the rest text)',
    ])
      expect(call.text).toContain(flag);
    expect(call.text).toContain('Join paths: bronze.customers.id = bronze.orders.customer_id.');
  });

  it('drafts SQL for questions, validated by planning it', async () => {
    const cases: Array<[string, string]> = [
      [
        'What is the total amount per month?',
        'SELECT date_trunc(\'month\', "ordered_at") AS "month", sum("amount") AS "sum_amount"\nFROM "bronze"."orders"\nGROUP BY ALL\nORDER BY "month" ASC\nLIMIT 100',
      ],
      [
        'How many orders by status?',
        'SELECT "status" AS "status", count(*) AS "count"\nFROM "bronze"."orders"\nGROUP BY ALL\nORDER BY "count" DESC\nLIMIT 100',
      ],
      [
        'Top 5 customers by average amount in 2024',
        'SELECT "customer_id" AS "customer_id", avg("amount") AS "avg_amount"\nFROM "bronze"."orders"\nWHERE year("ordered_at") = 2024\nGROUP BY ALL\nORDER BY "avg_amount" DESC\nLIMIT 5',
      ],
      [
        'How many customers per segment?',
        'SELECT "segment" AS "segment", count(*) AS "count"\nFROM "bronze"."customers"\nGROUP BY ALL\nORDER BY "count" DESC\nLIMIT 100',
      ],
    ];
    for (const [question, sql] of cases) {
      const call = await t.server.call('lakehouse_suggest_query', { question });
      expect(call.structured, question).toMatchObject({ valid: true, dialect: 'duckdb' });
      expect(sqlOf(call), question).toBe(sql);
      const run = await t.server.call('lakehouse_query_sql', { sql });
      expect(run.isError, run.text).toBe(false);
    }
    const only = await t.server.call('lakehouse_suggest_query', {
      question: 'average amount',
      tables: ['bronze.orders'],
    });
    expect(only.structured).toMatchObject({ tables: ['bronze.orders'], model_written: false });
    expect(only.text).toContain(
      'A DuckDB SQL draft (deterministic (question words matched to tables and columns))',
    );
    expect(only.text).toContain('Relies on bronze.orders (columns amount).');
  });

  it('summarizes a query result: shape, statistics, top groups, change over time', async () => {
    const call = await t.server.call('lakehouse_explain_data', {
      sql: "SELECT status, amount, ordered_at FROM bronze.orders WHERE ordered_at < '2024-04-01'",
    });
    expect(call.isError, call.text).toBe(false);
    expect(call.structured!.rows).toBe(251);
    expect(call.text).toContain(
      'Top status (sum of amount): paid 3318, shipped 3290, cancelled 3262, new 3245',
    );
    // The summary travels once, in the text.
    expect(call.structured!.summary).toBeUndefined();
    expect(call.text).toContain('251 rows × 3 columns.');
    expect(call.text).toMatch(/amount over ordered_at by month: 2024-03 vs 2024-02: [+-][\d.]+%/);
    expect(call.text).toMatch(/^\[BEGIN UNTRUSTED result summary \w+: this is data from outside/);
  });

  it("asks the host's model through sampling only when use_model is set, and says which part is the model's", async () => {
    // The earlier tests called all three tools without use_model: the host was never asked.
    expect(asked).toHaveLength(0);
    const call = await t.server.call('lakehouse_analyze_schema', { table: 'bronze.orders', use_model: true });
    expect(call.structured).toMatchObject({ narrative_source: 'host model (MCP sampling)' });
    expect(call.text).toContain('These are the orders of the shop, one row per order, linked to customers.');
    expect(call.text).toContain(
      "Narrative (written by the host's model via MCP sampling; the analysis above is deterministic):",
    );
    expect(asked.at(-1)!.prompt).toContain('bronze.orders.customer_id = bronze.customers.id');

    answer =
      '```sql\nSELECT status, count(*) AS orders FROM bronze.orders GROUP BY status ORDER BY orders DESC\n```';
    const draft = await t.server.call('lakehouse_suggest_query', {
      question: 'orders per status',
      use_model: true,
    });
    expect(sqlOf(draft)).toBe(
      'SELECT status, count(*) AS orders FROM bronze.orders GROUP BY status ORDER BY orders DESC',
    );
    expect(draft.structured).toMatchObject({
      valid: true,
      model_written: true,
      tables: ['bronze.orders'],
    });

    answer = '```sql\nSELECT 1; DROP TABLE bronze.orders\n```';
    const refused = await t.server.call('lakehouse_suggest_query', {
      question: 'orders per status',
      use_model: true,
    });
    expect(refused.structured).toMatchObject({ model_written: false });
    expect(refused.text).toContain(
      "the host model's draft was refused and not used: Only one statement may run per call, and this SQL holds 2; nothing was run.",
    );
    expect(
      rowsOf(await t.server.call('lakehouse_query_sql', { sql: 'SELECT count(*) FROM bronze.orders' })),
    ).toEqual([['1000']]);
  });

  it('works without a host that offers sampling, and never needs an API key', async () => {
    // A host of its own: its orders.csv must not replace the file's.
    const plain = await t.spawn({ isolated: true, env: { ANTHROPIC_API_KEY: '' } });
    await plain.call('lakehouse_upload_file', { content: orders, file_name: 'orders.csv' });
    const call = await plain.call('lakehouse_explain_data', {
      sql: 'SELECT status, sum(amount) AS total FROM bronze.orders GROUP BY status',
      use_model: true,
    });
    expect(call.isError).toBe(false);
    expect(call.text).toContain('(No narrative: the host offers no sampling, so no model was asked.)');
  });
});

/** The SQL of a drafted query: the ```sql block of its text. */
function sqlOf(call: { text: string }): string | undefined {
  return /```sql\n([\s\S]*?)\n```/.exec(call.text)?.[1];
}
