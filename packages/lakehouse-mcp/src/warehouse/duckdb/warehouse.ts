/**
 * The embedded warehouse: one DuckDB database file per tenant, `<home>/tenant_<id>/tenant_<id>.duckdb`,
 * whose catalog `tenant_<id>` holds the schemas bronze, silver, gold and _meta as native DuckDB tables.
 *
 * Writers and readers never share an engine: every change runs on a short-lived read-write instance whose
 * file access is limited to the tenant's work folder; every read runs on a read-only instance with external
 * access disabled and its configuration locked. User SQL runs on such an instance in a child process
 * (query-sandbox.ts), which the server kills when a query outlives its time or memory limit. A read-only
 * instance does not see another instance's later writes, so they take turns: in this process a readers-writer
 * lock, between processes on the same LAKEHOUSE_HOME a broker over a unix socket (host-lock.ts). Read engines stay
 * open between calls (a query after a pause runs warm) until a writer, here or in another process, asks for the
 * file. Loads stage in a hidden table and reach the catalog in one transaction at commit.
 */
import { readdirSync } from 'node:fs';
import type { Logger } from '@switchyard/core';
import { loadDuckDB } from './query.js';
import type { Warehouse, WarehouseCheck } from '../types.js';
import { TENANT_ID, checkTenantId } from '../types.js';
import { DuckDbTenant } from './tenant.js';

export interface DuckDbWarehouseOptions {
  home: string;
  log: Logger;
  /** Memory each query engine may use, e.g. `1GB`. */
  memoryLimit?: string;
  /** Memory a loading engine may use; lower keeps a sync's footprint flat. */
  loadMemoryLimit?: string;
  /** Resident memory the query process may reach before it is stopped (2 GiB by default). */
  queryProcessBytes?: number;
  /** Disk a query's engine may fill with temp files when its memory is not enough, e.g. `4GB`. */
  tempLimit?: string;
  threads?: number;
}

export class DuckDbWarehouse implements Warehouse {
  readonly kind = 'duckdb' as const;
  private readonly tenantsById = new Map<string, Promise<DuckDbTenant>>();

  constructor(private readonly options: DuckDbWarehouseOptions) {
    // Every file DuckDB makes natively (the database, its WAL, temp spills) is for this user alone: DuckDB
    // takes no file mode, so the process's umask sets it.
    process.umask(0o077);
  }

  describe(): string {
    return `embedded DuckDB, one database file per tenant under ${this.options.home}`;
  }

  async check(): Promise<WarehouseCheck> {
    const { version } = await loadDuckDB();
    return { ok: true, lines: [`embedded DuckDB ${version()}, nothing to reach over the network`] };
  }

  async tenants(): Promise<string[]> {
    try {
      return readdirSync(this.options.home)
        .filter((d) => d.startsWith('tenant_'))
        .map((d) => d.slice('tenant_'.length))
        .filter((id) => TENANT_ID.test(id))
        .sort();
    } catch {
      return [];
    }
  }

  tenant(id: string): Promise<DuckDbTenant> {
    try {
      checkTenantId(id);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    let opening = this.tenantsById.get(id);
    if (!opening) {
      const tenant = new DuckDbTenant(id, this.options);
      opening = tenant.init().then(() => tenant);
      opening.catch(() => this.tenantsById.delete(id));
      this.tenantsById.set(id, opening);
    }
    return opening;
  }

  async close(): Promise<void> {
    const all = [...this.tenantsById.values()];
    this.tenantsById.clear();
    for (const t of all) await t.then((x) => x.close()).catch(() => {});
  }
}
