// Two hosts on one LAKEHOUSE_HOME (Claude Desktop and Claude Code at once): two built servers share a tenant file,
// sync from the real PostgreSQL and query at the same time, and one is killed mid-write.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { rowsOf, type SpawnedServer } from '@switchyard/testkit';
import { connect, query, withWorld } from './helpers.js';

const ORDERS = 300_000;
// Two 300,000-row syncs against a second server reading all the while take 100 s or more on a loaded 2-core
// machine (CI): each sync and each test gets room for that, beyond the shared 120 s.
const SYNC_MS = 200_000;
const TEST_MS = 300_000;

describe('two servers on one lakehouse home', () => {
  const t = withWorld({ folders: ['home'], server: false });
  let a: SpawnedServer;
  let b: SpawnedServer;
  // Two hosts: each its own config and data folders (and secret store), the one lakehouse home.
  const start = () =>
    t.spawn({ isolated: true, env: { LAKEHOUSE_HOME: t.dirs.home, LAKEHOUSE_SYNC_PART_MB: '2' } });

  beforeAll(async () => {
    [a, b] = await Promise.all([start(), start()]);
    // Both register the source (a write each); the password goes to each server's own secret store.
    await Promise.all([connect(a), connect(b)]);
  });

  const count = async (server: SpawnedServer, table: string) => {
    const call = await query(server, `SELECT count(*) AS n FROM bronze.${table}`);
    expect(call.isError, call.text).toBe(false);
    return Number(rowsOf(call)[0]![0]);
  };

  it('binds one socket in the tenant folder, for this user only', () => {
    const socket = join(t.dirs.home, 'tenant_default', 'host.sock');
    expect(existsSync(socket)).toBe(true);
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    expect(statSync(join(t.dirs.home, 'tenant_default')).mode & 0o777).toBe(0o700);
  });

  it(
    'answers reads in each server while the other syncs, and completes both syncs',
    async () => {
      let aDone = false;
      const syncA = a
        .call(
          'lakehouse_sync_table_to_bronze',
          { connection: 'lake', table: 'big_orders' },
          { timeoutMs: SYNC_MS },
        )
        .finally(() => (aDone = true));
      // B reads again and again while A loads: every read answers, none says "in use".
      let readsDuringSync = 0;
      const started = Date.now();
      while (!aDone && Date.now() - started < 100_000) {
        const tables = await b.call('lakehouse_list_tables', {});
        expect(tables.isError, tables.text).toBe(false);
        const one = await query(b, 'SELECT 42 AS answer');
        expect(one.isError, one.text).toBe(false);
        expect(one.text).toContain('42');
        if (!aDone) readsDuringSync++;
      }
      const a1 = await syncA;
      expect(a1.isError, a1.text).toBe(false);
      expect(readsDuringSync).toBeGreaterThan(2);

      // Now both write at once: B syncs while A syncs again; both complete, each with the other's data intact.
      const [a2, b2] = await Promise.all([
        a.call(
          'lakehouse_sync_table_to_bronze',
          { connection: 'lake', table: 'big_orders', target_table: 'orders_copy' },
          { timeoutMs: SYNC_MS },
        ),
        b.call(
          'lakehouse_sync_table_to_bronze',
          { connection: 'lake', table: 'customers' },
          { timeoutMs: SYNC_MS },
        ),
      ]);
      expect(a2.isError, a2.text).toBe(false);
      expect(b2.isError, b2.text).toBe(false);
      expect(await count(a, 'customers')).toBe(100);
      expect(await count(b, 'big_orders')).toBe(ORDERS);
      expect(await count(b, 'orders_copy')).toBe(ORDERS);
      expect(a.stderr() + b.stderr()).not.toMatch(/in use by another process/);
    },
    TEST_MS,
  );

  it(
    'keeps the other server working and the data intact when one is killed mid-write',
    async () => {
      let killed = false;
      const syncA = a.call(
        'lakehouse_sync_table_to_bronze',
        { connection: 'lake', table: 'big_orders' },
        {
          timeoutMs: SYNC_MS,
          onProgress: (p) => {
            // Killed once rows are being loaded: the staging table has parts, the target is untouched.
            if (!killed && p.progress > 50_000) {
              killed = true;
              process.kill(a.pid!, 'SIGKILL');
            }
          },
        },
      );
      await expect(syncA).rejects.toThrow();
      expect(killed).toBe(true);
      // B goes on: reads the previous version whole, and writes.
      expect(await count(b, 'big_orders')).toBe(ORDERS);
      const again = await b.call(
        'lakehouse_sync_table_to_bronze',
        { connection: 'lake', table: 'customers' },
        { timeoutMs: SYNC_MS },
      );
      expect(again.isError, again.text).toBe(false);
      const sum = await query(b, 'SELECT sum(id) AS s, count(*) AS n FROM bronze.big_orders');
      expect(rowsOf(sum)[0]).toEqual([String((ORDERS * (ORDERS + 1)) / 2), String(ORDERS)]);
      // A new server in A's place joins in: the file, the socket and the data are there for it.
      a = await start();
      expect(await count(a, 'big_orders')).toBe(ORDERS);
      expect(await count(a, 'customers')).toBe(100);
    },
    TEST_MS,
  );
});
