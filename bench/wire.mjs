// Bytes on the wire per tool's typical answer, every server (issue #15): the whole result a host reads (text,
// structuredContent, links, as JSON) ÷ the UTF-8 bytes of the text a model needs. Target ≤ 1.25. Printed, never
// asserted. `node bench/wire.mjs [--root <repo>]` runs the built bins of <repo> (default: this one) against the
// fakes of this one, so the same script measures before and after a change.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { connectStdio } from '@switchyard/core/client';
import { FakeAuthority, testCertificate } from '@switchyard/testkit';
import { benchEnv, print, root, round } from './lib.mjs';

const at = process.argv.indexOf('--root');
const binRoot = at > 0 ? resolve(process.argv[at + 1]) : root;
const bin = (pkg) => join(binRoot, 'packages', pkg, 'dist', 'bin.js');

// The fakes are TypeScript test code: bundled next to the results so their imports resolve from this repository.
const out = join(root, 'bench', 'results');
mkdirSync(out, { recursive: true });
async function fake(pkg, entry, name) {
  const file = join(out, `wire-${name}.mjs`);
  await build({
    entryPoints: [join(root, 'packages', pkg, 'test', 'fake', entry)],
    outfile: file,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
  });
  return import(file);
}

/** Call each tool once and weigh its answer: text bytes, whole-result bytes, and the JSON-RPC line. */
async function weigh(server, label, env, calls) {
  const conn = await connectStdio({ command: process.execPath, args: [bin(server)], env });
  const rows = [];
  try {
    for (const [tool, args] of calls) {
      const result = await conn.client.callTool(
        { name: tool, arguments: args },
        {
          timeout: 120_000,
        },
      );
      const text = result.content
        .filter((c) => c.type === 'text')
        .map((c) => c.text)
        .join('\n');
      const textBytes = Buffer.byteLength(text);
      const resultBytes = Buffer.byteLength(JSON.stringify(result));
      rows.push({
        server: label,
        tool,
        ...(result.isError ? { error: text.slice(0, 120) } : {}),
        textBytes,
        structuredBytes: result.structuredContent
          ? Buffer.byteLength(JSON.stringify(result.structuredContent))
          : 0,
        resultBytes,
        lineBytes: Buffer.byteLength(JSON.stringify({ result, jsonrpc: '2.0', id: 1 })) + 1,
        // What travels beside the text: the result's wrapper, escapes and structuredContent.
        extraBytes: resultBytes - textBytes,
        ratio: round(resultBytes / Math.max(1, textBytes), 2),
      });
    }
  } finally {
    await conn.close();
  }
  return rows;
}

const cert = await testCertificate();
const all = [];

// ---- powerbi: the fake Power BI's sales model, a supplied token.
{
  const { FakePowerBi, guid } = await fake('powerbi-mcp', 'index.ts', 'powerbi');
  const authority = await FakeAuthority.start();
  const pbi = await FakePowerBi.start(authority);
  pbi.grant('bench-app', 'Member');
  const env = benchEnv({
    POWERBI_API_URL: pbi.apiUrl,
    POWERBI_ACCESS_TOKEN: authority.mint({ clientId: 'bench-app' }),
    NODE_EXTRA_CA_CERTS: cert.certPath,
  });
  const target = { workspace: guid(1, 1), dataset: guid(1, 2) };
  all.push(
    ...(await weigh('powerbi-mcp', 'powerbi', env, [
      ['powerbi_list_workspaces', {}],
      ['powerbi_list_datasets', { workspace: target.workspace }],
      ['powerbi_get_dataset_schema', target],
      [
        'powerbi_execute_dax',
        {
          ...target,
          query: "EVALUATE SUMMARIZECOLUMNS('Product'[Category], \"Units\", SUM('Sales'[Quantity]))",
        },
      ],
      ['powerbi_execute_dax', { ...target, query: "EVALUATE TOPN(100, 'Sales')" }],
      ['powerbi_list_reports', { workspace: target.workspace }],
      ['powerbi_get_refresh_history', { workspace: target.workspace, dataset: 'Restricted Model' }],
    ])),
  );
  await pbi.close();
  await authority.close();
}

// ---- odoo: the fake company on Odoo 19 (JSON-2).
{
  const { FakeOdoo } = await fake('odoo-mcp', 'odoo.ts', 'odoo');
  const odoo = await FakeOdoo.start({ version: '19.0' });
  const env = benchEnv({
    NODE_EXTRA_CA_CERTS: cert.certPath,
    ODOO_URL: odoo.url,
    ODOO_DB: 'acme',
    ODOO_USERNAME: 'admin',
    ODOO_API_KEY: odoo.adminKey,
  });
  const since = new Date(Date.now() - 90 * 86_400_000).toISOString().slice(0, 10);
  all.push(
    ...(await weigh('odoo-mcp', 'odoo', env, [
      ['odoo_list_models', { query: 'sale' }],
      ['odoo_describe_model', { model: 'sale.order' }],
      [
        'odoo_search_records',
        { model: 'res.partner', fields: ['name', 'email', 'city', 'country_id'], limit: 20 },
      ],
      ['odoo_get_record', { model: 'res.partner', id: 10 }],
      ['odoo_count_records', { model: 'res.partner' }],
      ['odoo_aggregate_records', { model: 'sale.order', group_by: ['state'] }],
      ['odoo_list_sales_orders', { date_from: since, limit: 20 }],
      ['odoo_list_invoices', { limit: 20 }],
      ['odoo_list_employees', {}],
      ['odoo_get_inventory', {}],
    ])),
  );
  await odoo.close();
}

// ---- ms365: a mailbox of 30 realistic messages, a calendar and a drive, a supplied token.
{
  const { FakeGraph } = await fake('ms365-mcp', 'graph.ts', 'ms365');
  const ALICE = 'alice@contoso.com';
  const authority = await FakeAuthority.start();
  authority.addApp({ clientId: 'bench-app' });
  authority.addUser({ username: ALICE, name: 'Alice Example' });
  const graph = await FakeGraph.start(authority);
  const box = graph.mailbox(ALICE);
  let firstId;
  for (let i = 0; i < 30; i++) {
    const m = box.add({
      subject: `RE: Quarterly budget review for the regional sales teams, item ${i + 1} (action needed)`,
      from: { name: 'Carol Danvers', address: 'carol.danvers@fabrikam.com' },
      received: Date.now() - i * 3_600_000,
      body: {
        contentType: 'html',
        content: `<html><body><p>Hi Alice,</p><p>Please find the numbers for item ${i + 1} below. ${'The regional teams have submitted their forecasts. '.repeat(20)}</p></body></html>`,
      },
    });
    firstId ??= m.id;
  }
  for (let i = 0; i < 10; i++)
    graph.addEvent(ALICE, {
      subject: `Budget review ${i + 1}`,
      start: Date.now() + (i + 1) * 3_600_000 * 6,
      end: Date.now() + (i + 1) * 3_600_000 * 6 + 1_800_000,
      location: 'Room 4',
    });
  const drive = graph.drive(ALICE);
  drive.put('Documents/notes.md', `# Notes\n${'Ship the quarterly report by Friday.\n'.repeat(40)}`);
  for (let i = 0; i < 15; i++) drive.put(`Documents/report-${i + 1}.txt`, `report ${i + 1}\n`);
  const env = benchEnv({
    MS365_GRAPH_URL: graph.url,
    AZURE_AUTHORITY_HOST: authority.host,
    MS365_ACCESS_TOKEN: authority.mint({
      username: ALICE,
      scopes: [
        'User.Read',
        'Mail.ReadWrite',
        'Mail.Send',
        'Calendars.ReadWrite',
        'Files.ReadWrite.All',
        'Sites.Read.All',
      ],
    }),
    NODE_EXTRA_CA_CERTS: cert.certPath,
  });
  all.push(
    ...(await weigh('ms365-mcp', 'ms365', env, [
      ['ms365_list_messages', { top: 10 }],
      ['ms365_get_message', { id: firstId }],
      ['ms365_list_events', {}],
      ['ms365_list_files', { path: 'Documents' }],
      ['ms365_read_file', { path: 'Documents/notes.md' }],
    ])),
  );
  await graph.close();
  await authority.close();
}

// ---- lakehouse: the embedded DuckDB warehouse with one uploaded table of 1,000 orders.
{
  const csv = join(out, 'wire-orders.csv');
  const statuses = ['new', 'paid', 'shipped', 'cancelled'];
  writeFileSync(
    csv,
    `order_id,customer,status,amount,ordered_at\n${Array.from(
      { length: 1000 },
      (_, i) =>
        `${i + 1},customer ${i % 97},${statuses[i % 4]},${((i * 7919) % 10000) / 100},2024-0${(i % 9) + 1}-1${i % 10}`,
    ).join('\n')}\n`,
  );
  const env = benchEnv({ LAKEHOUSE_FILE_ROOTS: out });
  all.push(
    ...(await weigh('lakehouse-mcp', 'lakehouse', env, [
      ['lakehouse_upload_file', { path: csv, table_name: 'orders' }],
      ['lakehouse_list_tables', {}],
      ['lakehouse_describe_table', { table: 'bronze.orders' }],
      ['lakehouse_query_sql', { sql: 'SELECT * FROM bronze.orders ORDER BY order_id' }],
      [
        'lakehouse_query_sql',
        { sql: 'SELECT status, sum(amount) AS total FROM bronze.orders GROUP BY ALL ORDER BY 1' },
      ],
      [
        'lakehouse_query_sql',
        {
          sql: 'SELECT * FROM bronze.orders, range(5) ORDER BY order_id',
          max_rows: 5000,
          max_bytes: 1_048_576,
        },
      ],
      ['lakehouse_explain_data', { sql: 'SELECT status, amount, ordered_at FROM bronze.orders' }],
      ['lakehouse_analyze_schema', { table: 'bronze.orders' }],
      ['lakehouse_suggest_query', { question: 'total amount per status' }],
      [
        'lakehouse_transform_to_silver',
        { source_table: 'bronze.orders', steps: [{ op: 'trim', column: 'customer' }], dry_run: true },
      ],
      [
        'lakehouse_create_gold_view',
        { name: 'totals', sql: 'SELECT status, sum(amount) AS total FROM bronze.orders GROUP BY ALL' },
      ],
    ])),
  );
}

print(`wire: bytes of the whole result ÷ bytes of its text, per tool (bins of ${binRoot})`, all);
const worst = all.filter((r) => !r.error).sort((a, b) => b.ratio - a.ratio)[0];
print('wire: the largest ratio', { tool: worst.tool, ratio: worst.ratio });
