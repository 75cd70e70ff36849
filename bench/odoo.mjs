// odoo-mcp figures: spawn → tools/list against bare node, tools/list bytes with every tool, bytes of a
// 20-order listing, and the latency a tool call adds over the same upstream call made directly.
// The fake Odoo of the package's tests is bundled on the fly (it is TypeScript) and served locally.
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { build } from 'esbuild';
import { testCertificate } from '@switchyard/testkit';
import { connectStdio } from '@switchyard/core/client';
import { benchEnv, compareStartup, print, root, round, stats } from './lib.mjs';

const bin = join(root, 'packages', 'odoo-mcp', 'dist', 'bin.js');
// Inside the repo (bench/results is ignored by git) so that the bundle resolves @switchyard/testkit.
const fakeBundle = join(root, 'bench', 'results', 'fake-odoo.mjs');
await build({
  entryPoints: [join(root, 'packages', 'odoo-mcp', 'test', 'fake', 'odoo.ts')],
  outfile: fakeBundle,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['@switchyard/testkit'],
  logLevel: 'warning',
});
const { FakeOdoo } = await import(fakeBundle);
const cert = await testCertificate();
// The server keeps its connection to Odoo open; so does the direct client, for a fair comparison.
const keepAlive = new Agent({ keepAlive: true });

print('odoo: spawn → tools/list (every tool: --allow-writes)', [
  await compareStartup('odoo-mcp', process.execPath, [bin, '--allow-writes']),
]);

const rows = [];
for (const version of ['19.0', '17.0']) {
  const fake = await FakeOdoo.start({ version });
  const env = benchEnv({
    NODE_EXTRA_CA_CERTS: cert.certPath,
    ODOO_URL: fake.url,
    ODOO_DB: 'acme',
    ODOO_USERNAME: 'admin',
    ODOO_API_KEY: fake.adminKey,
  });
  const server = await connectStdio({ command: process.execPath, args: [bin], env });
  try {
    const since = new Date(Date.now() - 90 * 86_400_000).toISOString().slice(0, 10);
    const listing = await server.client.callTool({
      name: 'odoo_list_sales_orders',
      arguments: { date_from: since, limit: 20 },
    });
    const text = listing.content.map((c) => c.text).join('\n');

    // Added latency: the same single upstream call, through the MCP server and directly.
    const call = () =>
      server.client.callTool({ name: 'odoo_count_records', arguments: { model: 'res.partner' } });
    for (let i = 0; i < 5; i++) await call();
    const viaMcp = [];
    for (let i = 0; i < 60; i++) {
      const t = performance.now();
      await call();
      viaMcp.push(performance.now() - t);
    }
    const direct = [];
    for (let i = 0; i < 60; i++) {
      const t = performance.now();
      await upstreamCount(fake, version);
      direct.push(performance.now() - t);
    }
    const m = stats(viaMcp).median;
    const d = stats(direct).median;
    rows.push({
      odoo: version,
      protocol: version.startsWith('19') ? 'JSON-2' : 'JSON-RPC',
      listing20Rows: listing.structuredContent.returned,
      listing20TextBytes: Buffer.byteLength(text),
      listing20ResultBytes: Buffer.byteLength(JSON.stringify(listing)),
      callMedianMs: round(m, 2),
      upstreamMedianMs: round(d, 2),
      addedLatencyMs: round(m - d, 2),
    });
  } finally {
    await server.close();
    await fake.close();
  }
}
print('odoo: a 20-order listing (its text, and the whole result) and added latency per call', rows);

/** One search_count straight to the fake, as the server sends it. */
function upstreamCount(fake, version) {
  const url = new URL(fake.url);
  const json2 = version.startsWith('19');
  const body = JSON.stringify(
    json2
      ? { domain: [], context: { lang: 'en_US', tz: 'Europe/Brussels' } }
      : {
          jsonrpc: '2.0',
          method: 'call',
          id: 1,
          params: {
            service: 'object',
            method: 'execute_kw',
            args: ['acme', 2, fake.adminKey, 'res.partner', 'search_count', [], { domain: [] }],
          },
        },
  );
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: json2 ? '/json/2/res.partner/search_count' : '/jsonrpc',
        ca: cert.cert,
        agent: keepAlive,
        headers: {
          'content-type': 'application/json',
          ...(json2 ? { authorization: `bearer ${fake.adminKey}`, 'x-odoo-database': 'acme' } : {}),
        },
      },
      (res) => {
        res.resume();
        res.on('end', resolve);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
