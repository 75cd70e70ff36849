// lakehouse-mcp figures: PostgreSQL → bronze throughput against the raw COPY floor measured in the same run,
// at two table sizes, with the server's peak RSS at each; spawn → tools/list against bare node; tools/list
// bytes; the added latency of a trivial query. Printed, never asserted.
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { benchEnv, compareStartup, print, root, round, stats } from './lib.mjs';

const pkg = join(root, 'packages', 'lakehouse-mcp');
const bin = join(pkg, 'dist', 'bin.js');
const require = createRequire(join(pkg, 'package.json'));
const pg = require('pg');
const { to: copyTo } = require('pg-copy-streams');
const { startEmbeddedPostgres } = await import(join(pkg, 'dist', 'embedded-postgres.js'));
const { connectStdio } = await import(join(root, 'packages', 'core', 'dist', 'client.js'));

const SIZES = (process.env.BENCH_LAKEHOUSE_ROWS ?? '1000000,4000000').split(',').map(Number);

const server = await startEmbeddedPostgres();
const dsn = {
  host: server.host,
  port: server.port,
  user: server.user,
  password: server.password,
  database: 'postgres',
};
try {
  const admin = new pg.Client(dsn);
  await admin.connect();
  for (const n of SIZES) {
    await admin.query(`CREATE TABLE t_${n} (
      id bigint PRIMARY KEY, customer_id int NOT NULL, amount numeric(12,2) NOT NULL, status text NOT NULL,
      note text, created_at timestamptz NOT NULL, score double precision, flag boolean)`);
    await admin.query(
      `INSERT INTO t_${n} SELECT g, g % 5000, round(((g * 7919) % 100000) / 100.0, 2),
         (ARRAY['new','paid','shipped','cancelled'])[1 + g % 4], 'order note number ' || g,
         timestamptz '2024-01-01' + g * interval '1 second', g * 0.37, g % 3 = 0
       FROM generate_series(1, ${n}::bigint) g`,
    );
    await admin.query(`ANALYZE t_${n}`);
  }
  await admin.end();

  const rawCopy = async (n) => {
    const client = new pg.Client(dsn);
    await client.connect();
    const started = performance.now();
    let bytes = 0;
    const stream = client.query(copyTo(`COPY (SELECT * FROM t_${n}) TO STDOUT WITH (FORMAT csv)`));
    for await (const chunk of stream) bytes += chunk.length;
    const ms = performance.now() - started;
    await client.end();
    return { ms, bytes };
  };

  const peakRss = (pid) => {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+) kB/.exec(status)[1]) * 1024;
  };

  const syncOnce = async (n) => {
    const home = mkdtempSync(join(tmpdir(), 'bench-lakehouse-'));
    const conn = await connectStdio({
      command: process.execPath,
      args: [bin],
      env: benchEnv({ LAKEHOUSE_HOME: home }),
    });
    try {
      const call = (name, args) =>
        conn.client.callTool({ name, arguments: args }, undefined, { timeout: 600_000 });
      const reg = await call('lakehouse_connect_postgres', {
        name: 'bench',
        host: dsn.host,
        port: dsn.port,
        database: 'postgres',
        user: dsn.user,
        password: dsn.password,
        ssl_mode: 'disable',
      });
      if (reg.isError) throw new Error(reg.content[0].text);
      const idle = peakRss(conn.pid);
      const started = performance.now();
      const sync = await call('lakehouse_sync_table_to_bronze', { connection: 'bench', table: `t_${n}` });
      const ms = performance.now() - started;
      if (sync.isError) throw new Error(sync.content[0].text);
      return {
        ms,
        bytes: sync.structuredContent.bytes_read,
        rows: sync.structuredContent.rows_read,
        peak: peakRss(conn.pid),
        idle,
      };
    } finally {
      await conn.close();
    }
  };

  const rows = [];
  for (const n of SIZES) {
    await rawCopy(n); // warm the source's cache
    const raw = [];
    const sync = [];
    let last;
    for (let i = 0; i < 3; i++) {
      raw.push((await rawCopy(n)).ms);
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
      serverPeakRssMB: round(last.peak / 1024 / 1024),
      serverRssBeforeSyncMB: round(last.idle / 1024 / 1024),
    });
  }
  print('lakehouse: PostgreSQL → bronze (median of 3; sync = the whole tool call incl. commit)', rows);
} finally {
  await server.stop();
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
