// lakehouse-mcp: a query after the assistant's pause between turns against the same query warm. A table of
// BENCH_PAUSE_ROWS (4M by default) order rows is synced from PostgreSQL, then one aggregate runs back to back
// (warm) and after pauses of 5 s and 60 s (BENCH_PAUSES). Printed, never asserted; target ≤ 1.3× warm.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectStdio } from '@switchyard/core/client';
import { benchEnv, lakehouseSource, print, root, round, stats } from './lib.mjs';

const bin = join(root, 'packages', 'lakehouse-mcp', 'dist', 'bin.js');
const ROWS = Number(process.env.BENCH_PAUSE_ROWS ?? 4_000_000);
const PAUSES = (process.env.BENCH_PAUSES ?? '5,60').split(',').map(Number);
const SQL = `SELECT status, count(*) AS orders, sum(amount) AS total, avg(score) AS score FROM bronze.t_${ROWS} GROUP BY status ORDER BY status`;

const source = await lakehouseSource([ROWS]);
const conn = await connectStdio({
  command: process.execPath,
  args: [bin],
  env: benchEnv({ LAKEHOUSE_HOME: mkdtempSync(join(tmpdir(), 'bench-lh-pause-')) }),
});
try {
  await source.register(conn);
  const sync = await conn.client.callTool(
    { name: 'lakehouse_sync_table_to_bronze', arguments: { connection: 'bench', table: `t_${ROWS}` } },
    undefined,
    { timeout: 600_000 },
  );
  if (sync.isError) throw new Error(sync.content[0].text);
  const timed = async () => {
    const started = performance.now();
    const result = await conn.client.callTool({ name: 'lakehouse_query_sql', arguments: { sql: SQL } });
    if (result.isError) throw new Error(result.content[0].text);
    return performance.now() - started;
  };
  const warm = [];
  for (let i = 0; i < 13; i++) {
    const ms = await timed();
    if (i >= 3) warm.push(ms);
  }
  const warmMs = stats(warm).median;
  const rows = [{ after: 'no pause (warm)', runs: warm.length, medianMs: round(warmMs), vsWarm: '1.00×' }];
  for (const pause of PAUSES) {
    const samples = [];
    const runs = pause >= 30 ? 3 : 5;
    for (let i = 0; i < runs; i++) {
      await new Promise((r) => setTimeout(r, pause * 1000));
      samples.push(await timed());
    }
    const ms = stats(samples).median;
    rows.push({ after: `${pause} s pause`, runs, medianMs: round(ms), vsWarm: `${round(ms / warmMs, 2)}×` });
  }
  print(
    `lakehouse: ${ROWS.toLocaleString('en-US')}-row aggregate through lakehouse_query_sql, warm vs after a pause`,
    rows,
  );
} finally {
  await conn.close();
  await source.stop();
}
