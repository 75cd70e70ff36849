// Sync and upload as MCP tasks (the io.modelcontextprotocol/tasks extension of MCP 2026-07-28), driven by the
// official ext-tasks client on a real PostgreSQL and DuckDB: polled, cancelled, and the result fetched.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { callAsTask, openTaskSession, rowsOf, taskState } from '@switchyard/testkit';
import { connect, pgRun, query, withWorld } from './helpers.js';

describe('lakehouse long work as tasks', () => {
  const t = withWorld({
    folders: ['files'],
    // Its own database: enough rows for a sync of several parts (4 MB each here), so it reports progress.
    seed: async () => {
      await pgRun('CREATE DATABASE tasks');
      await pgRun(
        "CREATE TABLE big AS SELECT g AS id, 'row ' || g AS note, now() AS at FROM generate_series(1, 300000) g",
        'tasks',
      );
    },
    server: ({ dirs }) => ({ era: 'modern', env: { LAKEHOUSE_FILE_ROOTS: dirs.files } }),
    ready: (server) => connect(server, 'src', { database: 'tasks' }),
  });
  const count = async (table: string) => rowsOf(await query(t.server, `SELECT count(*) FROM ${table}`));

  it('a sync runs as a task: a handle at once, polled, then the same answer', async () => {
    const session = openTaskSession(t.server);
    try {
      const call = await callAsTask(session, 'lakehouse_sync_table_to_bronze', {
        connection: 'src',
        table: 'big',
        target_table: 'big_task',
      });
      expect(call.kind).toBe('task');
      expect(call.outcome.status).toBe('completed');
      expect(call.structured).toMatchObject({ rows_read: 300000, table_rows: 300000, mode: 'full' });
      expect(call.text).toMatch(
        /^Synced public\.big from 'src' into bronze\.big_task \(full: 300,000 rows\)/,
      );
      // Polled from the handle on (how much progress a poll catches depends on the machine's speed: core's tasks
      // test pins progress as the status message).
      expect(call.seen[0]).toMatchObject({ status: 'working' });
      expect(await count('bronze.big_task')).toEqual([['300000']]);
    } finally {
      await session.close();
    }
  });

  it('a cancelled sync task leaves the previous bronze table, and the task says so', async () => {
    const first = await t.server.call('lakehouse_sync_table_to_bronze', {
      connection: 'src',
      source_query: 'SELECT * FROM big WHERE id <= 100',
      target_table: 'big_cancel',
    });
    expect(first.structured).toMatchObject({ rows_read: 100 });
    const session = openTaskSession(t.server);
    try {
      const call = await callAsTask(
        session,
        'lakehouse_sync_table_to_bronze',
        { connection: 'src', table: 'big', target_table: 'big_cancel' },
        // Cancelled as soon as the handle is seen: a 300,000-row load takes seconds, the cancel milliseconds, so the
        // work is stopped mid-way on any machine (a poll catching "rows loaded" first would depend on its speed).
        { cancelWhen: () => true },
      );
      expect(call.outcome.status).toBe('cancelled');
      await expect
        .poll(() => taskState(t.server, call.taskId!))
        .toMatchObject({
          status: 'cancelled',
          // The sentence of the phase the cancel reached: the load's own, or core's if it came before the load began.
          statusMessage: expect.stringMatching(
            /^The (sync of public\.big was cancelled; bronze\.big_cancel was left as it was|call was cancelled before it finished; nothing was changed by the cancelled part)\.$/,
          ),
        });
      expect(await count('bronze.big_cancel')).toEqual([['100']]);
    } finally {
      await session.close();
    }
  });

  it('an upload runs as a task', async () => {
    const csv = join(t.dirs.files, 'regions.csv');
    writeFileSync(csv, 'id,region\n1,North\n2,South\n3,East\n');
    const session = openTaskSession(t.server);
    try {
      const call = await callAsTask(session, 'lakehouse_upload_file', { path: csv });
      expect(call).toMatchObject({ kind: 'task', isError: false });
      expect(call.structured).toMatchObject({ rows: 3, column_count: 2, format: 'csv' });
      expect(await count('bronze.regions')).toEqual([['3']]);
    } finally {
      await session.close();
    }
  });
});
