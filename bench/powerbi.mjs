// powerbi-mcp figures: spawn → tools/list against a bare node process, tools/list bytes, and the latency
// powerbi_execute_dax adds over the same executeQueries call made directly to the fake Power BI.
// Run after `npm run build`: `node bench/powerbi.mjs`. Figures are printed, never asserted.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { Agent, request } from 'undici';
import { connectStdio } from '@switchyard/core/client';
import { FakeAuthority, testCertificate } from '@switchyard/testkit';
import { benchEnv, compareStartup, print, root, round, stats } from './lib.mjs';

const bin = join(root, 'packages', 'powerbi-mcp', 'dist', 'bin.js');
const runs = Number(process.env.BENCH_CALLS ?? 300);

print('powerbi-mcp: spawn → tools/list', [
  await compareStartup('powerbi-mcp (bundled bin)', process.execPath, [bin]),
]);

// The fake lives with the package's tests, in TypeScript: compile it next to this script so that its
// imports resolve from the repository's node_modules.
const out = join(root, 'bench', 'results');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(root, 'packages', 'powerbi-mcp', 'test', 'fake', 'index.ts')],
  outfile: join(out, 'powerbi-fake.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  packages: 'external',
  logLevel: 'warning',
});
const { FakePowerBi, guid } = await import(join(out, 'powerbi-fake.mjs'));

const cert = await testCertificate();
const authority = await FakeAuthority.start();
const pbi = await FakePowerBi.start(authority);
pbi.grant('bench-app', 'Member');
const token = authority.mint({ clientId: 'bench-app' });
const workspace = guid(1, 1);
const dataset = guid(1, 2);

const server = await connectStdio({
  command: process.execPath,
  args: [bin],
  env: benchEnv({
    POWERBI_API_URL: pbi.apiUrl,
    POWERBI_ACCESS_TOKEN: token,
    NODE_EXTRA_CA_CERTS: cert.certPath,
  }),
});
const rssMb = () =>
  server.pid
    ? round(
        Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))?.[1]) / 1024,
        1,
      )
    : undefined;
await server.client.listTools();
const rssAtStart = rssMb();
const agent = new Agent({ connect: { ca: cert.cert }, keepAliveTimeout: 10_000 });

async function direct(query) {
  const started = performance.now();
  const res = await request(`${pbi.apiUrl}/groups/${workspace}/datasets/${dataset}/executeQueries`, {
    method: 'POST',
    dispatcher: agent,
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json',
    },
    body: JSON.stringify({ queries: [{ query }], serializerSettings: { includeNulls: true } }),
  });
  await res.body.json();
  if (res.statusCode !== 200) throw new Error(`direct call failed: ${res.statusCode}`);
  return performance.now() - started;
}

async function viaMcp(query, maxRows) {
  const started = performance.now();
  const result = await server.client.callTool({
    name: 'powerbi_execute_dax',
    arguments: { workspace, dataset, query, max_rows: maxRows },
  });
  if (result.isError) throw new Error(`tool call failed: ${JSON.stringify(result.content)}`);
  return { ms: performance.now() - started, bytes: Buffer.byteLength(JSON.stringify(result)) };
}

async function added(label, query, maxRows) {
  for (let i = 0; i < 20; i++) {
    await direct(query);
    await viaMcp(query, maxRows);
  }
  const d = [];
  const m = [];
  let bytes = 0;
  // Interleaved, so machine noise hits both alike.
  for (let i = 0; i < runs; i++) {
    d.push(await direct(query));
    const r = await viaMcp(query, maxRows);
    m.push(r.ms);
    bytes = r.bytes;
  }
  const sd = stats(d);
  const sm = stats(m);
  return {
    label,
    calls: runs,
    directMedianMs: round(sd.median, 2),
    mcpMedianMs: round(sm.median, 2),
    addedMedianMs: round(sm.median - sd.median, 2),
    mcpP90Ms: round(sm.p90, 2),
    resultBytes: bytes,
  };
}

// Power BI's limit is 120 queries a minute per user; the fake's is raised for the run.
pbi.settings.queriesPerMinute = 1_000_000;
const rows = [
  await added(
    'aggregate: SUMMARIZECOLUMNS by region (4 rows)',
    'EVALUATE SUMMARIZECOLUMNS(Customer[Region], "Total", [Total Sales])',
    200,
  ),
  await added("raw rows: EVALUATE 'Sales' (1,000 rows in, 200 out)", "EVALUATE 'Sales'", 200),
];
print(
  'powerbi-mcp: added latency of powerbi_execute_dax over the fake (median, MCP call minus direct HTTP call)',
  rows,
);

print('powerbi-mcp: server memory (RSS)', { afterStartMb: rssAtStart, afterTheRunsMb: rssMb() });

await server.close();
await agent.close();
await pbi.close();
await authority.close();
