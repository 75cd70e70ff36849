// lakehouse-mcp: a query after the assistant's pause between turns against the same query warm. A table of
// BENCH_PAUSE_ROWS (4M by default) order rows is synced from PostgreSQL, then one aggregate runs back to back
// (warm) and after pauses of 5 s and 60 s (BENCH_PAUSES). Printed, never asserted; target ≤ 1.3× warm. The same
// query on the same file through DuckDB in this process (no server, no MCP) is measured the same way beside it:
// what a pause costs any DuckDB on this machine (CPU caches, freed memory), as against what the server adds.
import { mkdtempSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectStdio } from '@switchyard/core/client';
import { benchEnv, lakehouseSource, print, root, round, stats } from './lib.mjs';

const bin = join(root, 'packages', 'lakehouse-mcp', 'dist', 'bin.js');
const ROWS = Number(process.env.BENCH_PAUSE_ROWS ?? 4_000_000);
const PAUSES = (process.env.BENCH_PAUSES ?? '5,60').split(',').map(Number);
const SQL = `SELECT status, count(*) AS orders, sum(amount) AS total, avg(score) AS score FROM bronze.t_${ROWS} GROUP BY status ORDER BY status`;

const source = await lakehouseSource([ROWS]);
const home = mkdtempSync(join(tmpdir(), 'bench-lh-pause-'));
const conn = await connectStdio({
  command: process.execPath,
  args: [bin],
  env: benchEnv({ LAKEHOUSE_HOME: home }),
});
try {
  await source.register(conn);
  const sync = await conn.client.callTool(
    { name: 'lakehouse_sync_table_to_bronze', arguments: { connection: 'bench', table: `t_${ROWS}` } },
    undefined,
    { timeout: 600_000 },
  );
  if (sync.isError) throw new Error(sync.content[0].text);
  const viaServer = async () => {
    const started = performance.now();
    const result = await conn.client.callTool({ name: 'lakehouse_query_sql', arguments: { sql: SQL } });
    if (result.isError) throw new Error(result.content[0].text);
    return performance.now() - started;
  };
  // The tenant's file, read-only beside the server's own read-only query process, with the server's engine options.
  const require = createRequire(join(root, 'packages', 'lakehouse-mcp', 'package.json'));
  const { DuckDBInstance } = await import(require.resolve('@duckdb/node-api'));
  const tenantDir = readdirSync(home).find((d) => d.startsWith('tenant_'));
  const instance = await DuckDBInstance.create(join(home, tenantDir, `${tenantDir}.duckdb`), {
    access_mode: 'READ_ONLY',
    threads: '2',
    memory_limit: '1GB',
    allocator_flush_threshold: '32MB',
  });
  const bare = await instance.connect();
  await bare.run(`USE ${tenantDir}`);
  const viaDuckDb = async () => {
    const started = performance.now();
    await bare.runAndReadAll(SQL);
    return performance.now() - started;
  };
  const rows = [];
  for (const [label, timed] of [
    ['server', viaServer],
    ['DuckDB in-process', viaDuckDb],
  ]) {
    const warm = [];
    for (let i = 0; i < 13; i++) {
      const ms = await timed();
      if (i >= 3) warm.push(ms);
    }
    const warmMs = stats(warm).median;
    rows.push({
      via: label,
      after: 'no pause (warm)',
      runs: warm.length,
      medianMs: round(warmMs),
      vsWarm: '1.00×',
    });
    for (const pause of PAUSES) {
      const samples = [];
      const runs = pause >= 30 ? 3 : 5;
      for (let i = 0; i < runs; i++) {
        await new Promise((r) => setTimeout(r, pause * 1000));
        samples.push(await timed());
      }
      const ms = stats(samples).median;
      rows.push({
        via: label,
        after: `${pause} s pause`,
        runs,
        medianMs: round(ms),
        vsWarm: `${round(ms / warmMs, 2)}×`,
      });
    }
  }
  bare.closeSync();
  instance.closeSync();
  print(
    `lakehouse: ${ROWS.toLocaleString('en-US')}-row aggregate through lakehouse_query_sql, warm vs after a pause`,
    rows,
  );
} finally {
  await conn.close();
  await source.stop();
}
