// lakehouse-mcp figures: PostgreSQL → bronze throughput against the raw COPY floor measured in the same run,
// at two table sizes, with the server's peak RSS at each; spawn → tools/list against bare node; tools/list
// bytes; the added latency of a trivial query. Printed, never asserted.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectStdio } from '@switchyard/core/client';
import { benchEnv, compareStartup, lakehouseSource, peakRssMb, print, root, round, stats } from './lib.mjs';

const bin = join(root, 'packages', 'lakehouse-mcp', 'dist', 'bin.js');
const SIZES = (process.env.BENCH_LAKEHOUSE_ROWS ?? '1000000,4000000').split(',').map(Number);

const source = await lakehouseSource(SIZES);
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
    const sync = [];
    let last;
    for (let i = 0; i < 3; i++) {
      raw.push(await source.rawCopyMs(`t_${n}`));
      last = await syncOnce(n);
      sync.push(last.ms);
    }
    const rawMs = stats(raw).median;
    const syncMs = stats(sync).median;
    const mb = last.bytes / 1024 / 1024;
    rows.push({
      rows: n,
      csvMB: round(mb),
      rawCopyMs: round(rawMs),
      rawCopyMBps: round(mb / (rawMs / 1000)),
      syncMs: round(syncMs),
      syncMBps: round(mb / (syncMs / 1000)),
      syncVsRaw: `${round((rawMs / syncMs) * 100)} %`,
      serverPeakRssMB: round(last.peak),
      serverRssBeforeSyncMB: round(last.idle),
    });
  }
  print('lakehouse: PostgreSQL → bronze (median of 3; sync = the whole tool call incl. commit)', rows);
} finally {
  await source.stop();
}

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
