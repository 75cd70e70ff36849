// lakehouse-mcp figures: PostgreSQL → bronze throughput against the raw COPY floor and the by-hand route
// (COPY to a CSV file, then DuckDB read_csv into a table) measured in the same run, interleaved, at two table
// sizes, with the server's peak RSS at each; spawn → tools/list against bare node; tools/list
// bytes; the added latency of a trivial query. Printed, never asserted.
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectStdio } from '@switchyard/core/client';
import { benchEnv, compareStartup, lakehouseSource, peakRssMb, print, root, round, stats } from './lib.mjs';

const bin = join(root, 'packages', 'lakehouse-mcp', 'dist', 'bin.js');
const SIZES = (process.env.BENCH_LAKEHOUSE_ROWS ?? '1000000,4000000').split(',').map(Number);
const RUNS = Number(process.env.BENCH_LAKEHOUSE_RUNS ?? 3);

const source = await lakehouseSource(SIZES);
const require = createRequire(join(root, 'packages', 'lakehouse-mcp', 'package.json'));
const { DuckDBInstance } = await import(require.resolve('@duckdb/node-api'));
const pg = require('pg');
const { to: copyTo } = require('pg-copy-streams');

/** What a person would do by hand: COPY to a CSV file, then let DuckDB read it into a table (typed by sniffing). */
async function byHandMs(table) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-by-hand-'));
  const file = join(dir, `${table}.csv`);
  const started = performance.now();
  const client = new pg.Client(source.dsn);
  await client.connect();
  const out = createWriteStream(file);
  for await (const chunk of client.query(copyTo(`COPY ${table} TO STDOUT WITH (FORMAT csv, HEADER)`))) {
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
  await client.end();
  const instance = await DuckDBInstance.create(join(dir, 'by-hand.duckdb'), { threads: '2' });
  const conn = await instance.connect();
  await conn.run(`CREATE TABLE t AS SELECT * FROM read_csv('${file}')`);
  conn.closeSync();
  instance.closeSync();
  const ms = performance.now() - started;
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

try {
  const syncOnce = async (n) => {
    const home = mkdtempSync(join(tmpdir(), 'bench-lakehouse-'));
    const conn = await connectStdio({
      command: process.execPath,
      args: [bin],
      env: benchEnv({ LAKEHOUSE_HOME: home }),
    });
    try {
      await source.register(conn);
      const idle = peakRssMb(conn.pid);
      const started = performance.now();
      const sync = await conn.client.callTool(
        { name: 'lakehouse_sync_table_to_bronze', arguments: { connection: 'bench', table: `t_${n}` } },
        undefined,
        { timeout: 600_000 },
      );
      const ms = performance.now() - started;
      if (sync.isError) throw new Error(sync.content[0].text);
      return {
        ms,
        bytes: sync.structuredContent.bytes_read,
        rows: sync.structuredContent.rows_read,
        peak: peakRssMb(conn.pid),
        idle: idle,
      };
    } finally {
      await conn.close();
    }
  };

  const rows = [];
  for (const n of SIZES) {
    await source.rawCopyMs(`t_${n}`); // warm the source's cache
    const raw = [];
    const hand = [];
    const sync = [];
    const peaks = [];
    let last;
    for (let i = 0; i < RUNS; i++) {
      raw.push(await source.rawCopyMs(`t_${n}`));
      hand.push(await byHandMs(`t_${n}`));
      last = await syncOnce(n);
      sync.push(last.ms);
      peaks.push(last.peak);
    }
    const rawMs = stats(raw).median;
    const handMs = stats(hand).median;
    const syncMs = stats(sync).median;
    const mb = last.bytes / 1024 / 1024;
    rows.push({
      rows: n,
      csvMB: round(mb),
      rawCopyMs: round(rawMs),
      rawCopyMBps: round(mb / (rawMs / 1000)),
      syncMs: round(syncMs),
      byHandMs: round(handMs),
      syncMBps: round(mb / (syncMs / 1000)),
      // The targets: sync ≥ 75 % of the raw COPY's throughput, i.e. sync time ≤ 1.33 × the raw read.
      syncOverRawTime: round(syncMs / rawMs, 2),
      syncVsRaw: `${round((rawMs / syncMs) * 100)} %`,
      syncOverByHandTime: round(syncMs / handMs, 2),
      serverPeakRssMB: round(Math.max(...peaks)),
      serverRssBeforeSyncMB: round(last.idle),
    });
  }
  print(
    `lakehouse: PostgreSQL → bronze (median of ${RUNS}, interleaved; sync = the whole tool call incl. commit)`,
    rows,
  );
} finally {
  await source.stop();
}
if (process.env.BENCH_LAKEHOUSE_SYNC_ONLY) process.exit(0);

const startup = await compareStartup('lakehouse-mcp', process.execPath, [bin]);
print('lakehouse: spawn → tools/list', startup);

// Added latency of a trivial query through MCP (engine open, checks, shaping), server already warm.
const conn = await connectStdio({
  command: process.execPath,
  args: [bin],
  env: benchEnv({ LAKEHOUSE_HOME: mkdtempSync(join(tmpdir(), 'bench-lh-')) }),
});
const latencies = [];
for (let i = 0; i < 60; i++) {
  const started = performance.now();
  await conn.client.callTool({ name: 'lakehouse_query_sql', arguments: { sql: 'SELECT 1 AS one' } });
  if (i >= 10) latencies.push(performance.now() - started);
}
await conn.close();
const s = stats(latencies);
print('lakehouse: lakehouse_query_sql SELECT 1 round trip (ms)', {
  median: round(s.median, 2),
  p90: round(s.p90, 2),
});
