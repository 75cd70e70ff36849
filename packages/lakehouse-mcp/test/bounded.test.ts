// Every query is bounded in memory, time and disk, whatever DuckDB can or cannot interrupt: user SQL runs in a
// child process the server stops (duckdb-query-sandbox.ts), and spills have size caps.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { rowsOf, type SpawnedServer } from '@switchyard/testkit';
import { query, withWorld } from './helpers.js';

/** Peak resident memory of a process so far (VmHWM), in MB. */
function peakMb(pid: number): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

/** Processes whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function seed(server: SpawnedServer) {
  const up = await server.call('lakehouse_upload_file', {
    content: 'id,name\n1,alpha\n2,beta\n3,gamma\n',
    file_name: 'things.csv',
  });
  expect(up.isError).toBe(false);
}

async function intact(server: SpawnedServer) {
  const rows = await query(server, 'SELECT count(*) FROM bronze.things');
  expect(rowsOf(rows)).toEqual([['3']]);
}

describe('a query is bounded in memory', () => {
  const t = withWorld({ server: { env: { LAKEHOUSE_QUERY_MEMORY_MB: '512' } }, ready: seed });

  it('stops values that DuckDB does not count (2 MB strings × 2,048 rows, max_bytes 4 KB) at the limit', async () => {
    const call = await query(t.server, "SELECT repeat('x', 2000000) AS big FROM range(2048)", {
      max_bytes: 4096,
      timeout_seconds: 120,
    });
    expect(call.isError).toBe(true);
    expect(call.text).toBe(
      'The query needed more than 512 MB of memory and was stopped; nothing was changed. Return fewer or smaller values (aggregate, filter, LIMIT, no very long strings or lists), or raise LAKEHOUSE_QUERY_MEMORY_MB.',
    );
    // The server's own process never held the values.
    expect(peakMb(t.server.pid!)).toBeLessThan(400);
    await intact(t.server);
  });

  it('stops a list that is sorted in one uninterruptible call before it takes the machine', async () => {
    const call = await query(t.server, 'SELECT length(list_sort(range(300000000)))', {
      timeout_seconds: 120,
    });
    expect(call.isError).toBe(true);
    expect(call.text).toMatch(/^The query needed more than 512 MB of memory and was stopped/);
    await intact(t.server);
  });
});

describe('a query is bounded in time', () => {
  // Memory is not the bound under test here: a large limit lets the value grow until the time limit.
  const t = withWorld({ server: { env: { LAKEHOUSE_QUERY_MEMORY_MB: '16384' } }, ready: seed });

  it('answers at the time limit when DuckDB cannot be interrupted (one 1.5 GB value), and stays usable', async () => {
    const started = Date.now();
    const call = await query(t.server, "SELECT length(repeat('x', 1500000000))", { timeout_seconds: 1 });
    const elapsed = Date.now() - started;
    expect(call.isError).toBe(true);
    expect(call.text).toBe(
      'The query was stopped after the time limit of 1 s. Add filters or a LIMIT, aggregate before returning rows, or raise timeout_seconds (at most 300).',
    );
    // 1 s limit + 2 s for DuckDB to stop before its process is killed, plus the round trip.
    expect(elapsed).toBeLessThan(6_000);
    await intact(t.server);
  });

  it('a cancelled uninterruptible query ends its process within a second or so', async () => {
    const controller = new AbortController();
    const pending = t.server.call(
      'lakehouse_query_sql',
      { sql: "SELECT length(repeat('y', 1500000000))", timeout_seconds: 120 },
      { signal: controller.signal },
    );
    // Wait until the query process is busy.
    await expect.poll(() => childrenOf(t.server.pid!).length).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 300));
    const workers = childrenOf(t.server.pid!);
    controller.abort();
    await pending.catch(() => undefined);
    await expect
      .poll(() => workers.filter((pid) => childrenOf(t.server.pid!).includes(pid)).length, { timeout: 5_000 })
      .toBe(0);
    await intact(t.server);
  });
});

describe('a query is bounded on disk', () => {
  const t = withWorld({
    server: { env: { LAKEHOUSE_MEMORY_LIMIT: '64MB', LAKEHOUSE_TEMP_LIMIT: '1MB' } },
    ready: seed,
  });

  it('refuses to spill past the temp limit with a sentence that says which limit to raise', async () => {
    const call = await query(
      t.server,
      "SELECT count(*) FROM (SELECT DISTINCT range::VARCHAR || 'padding-padding-padding' AS v FROM range(20000000))",
      { timeout_seconds: 120 },
    );
    expect(call.isError).toBe(true);
    expect(call.text).toMatch(
      /^The query needs more memory and temp disk than it may use: «.*»\. Aggregate or filter before joining or sorting, or raise LAKEHOUSE_MEMORY_LIMIT or LAKEHOUSE_TEMP_LIMIT\.$/s,
    );
    await intact(t.server);
  });
});

describe('an upload is bounded in memory', () => {
  const t = withWorld({
    folders: ['files'],
    server: ({ dirs }) => ({ env: { LAKEHOUSE_FILE_ROOTS: dirs.files } }),
  });

  it('streams a large workbook (300,000 rows) instead of loading it whole', async () => {
    const path = join(t.dirs.files, 'ledger.xlsx');
    const writer = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useSharedStrings: true });
    const sheet = writer.addWorksheet('Ledger');
    sheet.addRow(['id', 'account', 'amount', 'booked', 'memo']).commit();
    const accounts = ['cash', 'bank', 'receivables', 'payables', 'inventory', 'equity'];
    for (let i = 1; i <= 300_000; i++) {
      sheet
        .addRow([
          i,
          accounts[i % 6],
          (i % 997) * 1.25,
          new Date(Date.UTC(2024, i % 12, 1 + (i % 28))),
          `entry ${i % 5000}`,
        ])
        .commit();
    }
    await sheet.commit();
    await writer.commit();
    const before = peakMb(t.server.pid!);
    const call = await t.server.call('lakehouse_upload_file', { path }, { timeoutMs: 300_000 });
    expect(call.isError).toBe(false);
    expect(call.text.split('\n')[0]).toBe(
      'Loaded «ledger.xlsx» from sheet «Ledger» into bronze.ledger: 300,000 rows, 5 columns.',
    );
    // Loading the whole workbook took ~1 GB for this file (4.6 GB for a 40 MB one); streamed, the server
    // grows by the reader's buffers and the shared strings only.
    expect(statSync(path).size).toBeGreaterThan(5_000_000);
    expect(peakMb(t.server.pid!) - before).toBeLessThan(300);
    const sums = await query(t.server, 'SELECT count(*), sum(id), min(booked), max(memo) FROM bronze.ledger');
    expect(rowsOf(sums)).toEqual([['300000', '45000150000', '2024-01-01', 'entry 999']]);
  });

  it('keeps the tenant folder and database for the user alone (0700, 0600)', () => {
    const tenantDir = join(t.server.env.SWITCHYARD_DATA_DIR!, 'lakehouse', 'tenant_default');
    for (const name of ['', 'tenant_default.duckdb']) {
      expect((statSync(join(tenantDir, name)).mode & 0o777).toString(8)).toBe(name ? '600' : '700');
    }
  });
});
