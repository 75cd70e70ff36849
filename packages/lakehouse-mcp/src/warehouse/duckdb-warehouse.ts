/**
 * The embedded warehouse: one DuckDB database file per tenant, `<home>/tenant_<id>/tenant_<id>.duckdb`,
 * whose catalog `tenant_<id>` holds the schemas bronze, silver, gold and _meta as native DuckDB tables.
 *
 * Writers and readers never share an engine: every change runs on a short-lived read-write instance whose
 * file access is limited to the tenant's work folder; every read runs on a read-only instance with external
 * access disabled and its configuration locked. User SQL runs on such an instance in a child process
 * (duckdb-query-sandbox.ts), which the server kills when a query outlives its time or memory limit. A read-only
 * instance does not see another instance's later writes, so they take turns: in this process a readers-writer
 * lock, between processes on the same LAKEHOUSE_HOME a broker over a unix socket (host-lock.ts). Read engines stay
 * open between calls (a query after a pause runs warm) until a writer, here or in another process, asks for the
 * file. Loads stage in a hidden table and reach the catalog in one transaction at commit.
 */
import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { CancelledError, NotFoundError, UserInputError, type Logger } from '@switchyard/core';
import * as sql from './duckdb-dialect.js';
import { bronzeColumnNames } from '../naming.js';
import { duckMessage, fsFailure, loadDuckDB, openEngine, queryError, readBounded } from './duckdb-query.js';
import { FifoCsvFeed, feedsSupported } from './duckdb-csv-feed.js';
import { QuerySandbox } from './duckdb-query-sandbox.js';
import { HostLock, hostSocketPath } from './host-lock.js';
import { insightsFrom } from './insight-rows.js';
import { RwLock } from './rwlock.js';
import type {
  ColumnInfo,
  ColumnInsight,
  ColumnProfile,
  CommitRecords,
  ConnectionRecord,
  CsvFeed,
  FileSpec,
  Layer,
  LineageRecord,
  PartColumn,
  QueryDraft,
  QueryOptions,
  QueryResult,
  StagedLoad,
  Statement,
  SyncRunRecord,
  SyncState,
  TableRef,
  TableDetails,
  TableSummary,
  TenantWarehouse,
  TransformPlan,
  Warehouse,
  WarehouseCheck,
} from './types.js';
import { INSPECT_SAMPLE_ROWS, TENANT_ID, checkTenantId } from './types.js';

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

const pathLiteral = sql.stringLiteral;
/** Read engines nobody used for this long are closed (the assistant's pauses between turns are shorter). */
const READ_IDLE_MS = 10 * 60_000;

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

export class DuckDbTenant implements TenantWarehouse {
  readonly dialect = 'duckdb' as const;
  readonly catalog: string;
  readonly dir: string;
  readonly file: string;
  readonly workDir: string;
  readonly spillDir: string;
  readonly lock = new RwLock();
  /** This process's turn on the file among the processes sharing it. */
  readonly host: HostLock;
  /** The load holding the write lock across steps, if any: it lets go when idle and someone waits. */
  activeSession: WriteSession | undefined;
  /** Connections with a statement running, interrupted when the server stops. */
  readonly running = new Set<DuckDBConnection>();
  /** Set once the server stops: no new statement starts. */
  closing = false;
  /** Sync feeds writing into a pipe DuckDB reads: stopped when the server stops (an interrupt cannot end a read). */
  readonly feeds = new Set<FifoCsvFeed>();
  private reader: Promise<DuckDBInstance> | undefined;
  /** Where user SQL runs: a child process the server can always stop. */
  private readonly sandbox: QuerySandbox;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(
    readonly tenant: string,
    private readonly options: DuckDbWarehouseOptions,
  ) {
    this.catalog = `tenant_${tenant}`;
    this.dir = join(options.home, this.catalog);
    this.file = join(this.dir, `${this.catalog}.duckdb`);
    this.workDir = join(this.dir, 'work');
    this.spillDir = join(this.dir, 'spill');
    this.log = options.log.child(this.catalog);
    this.sandbox = new QuerySandbox(
      { file: this.file, catalog: this.catalog, dir: this.dir, options: this.readerOptions() },
      options.queryProcessBytes ?? 2 * 1024 ** 3,
      this.log,
    );
    this.lock.onWait = () => this.activeSession?.yieldIfIdle();
    this.host = new HostLock(hostSocketPath(this.dir, this.file), this.catalog, this.log);
    this.host.onYield = () => this.yieldFile();
  }

  /** Another process waits for the file: let go as soon as what runs here ends. */
  private yieldFile(): void {
    if (this.host.held === 'write') {
      this.activeSession?.yieldIfIdle();
      return;
    }
    // Taking the write lock waits for this process's running reads and holds back its new ones.
    void this.lock
      .write(async () => {
        if (this.host.held === 'read' && this.host.othersWaiting) await this.releaseFile();
      })
      .catch((err: unknown) => this.log.warn('could not let go of the file', { error: String(err) }));
  }

  get location(): string {
    return this.file;
  }

  logicalType(engineType: string) {
    return sql.logicalOf(engineType);
  }

  engineMessage(err: unknown): string {
    return duckMessage(err);
  }

  async details(): Promise<TableDetails | undefined> {
    return undefined;
  }

  async inspect(
    ref: TableRef,
    columns: ColumnInfo[],
    signal: AbortSignal,
  ): Promise<{ scanned: number; sampled: boolean; columns: ColumnInsight[] }> {
    const total = await this.rowCount(ref);
    const statement = sql.inspect(ref, columns, total);
    return this.read(async (conn) => {
      const stop = () => conn.interrupt();
      signal.addEventListener('abort', stop);
      try {
        const row = (await this.rows(conn, statement.sql, statement.params))[0]!;
        return { ...insightsFrom(row, columns), sampled: total > INSPECT_SAMPLE_ROWS };
      } catch (err) {
        if (signal.aborted) throw new CancelledError();
        throw queryError(err, this.catalog);
      } finally {
        signal.removeEventListener('abort', stop);
      }
    });
  }

  renderDraft(draft: QueryDraft): string {
    return sql.renderDraft(draft);
  }

  async init(): Promise<void> {
    try {
      mkdirSync(this.workDir, { recursive: true, mode: 0o700 });
      mkdirSync(this.spillDir, { recursive: true, mode: 0o700 });
      accessSync(this.dir, constants.W_OK);
      // Tenants made by earlier versions got the default modes (0755 folder, 0644 database).
      chmodSync(this.dir, 0o700);
      if (existsSync(this.file)) chmodSync(this.file, 0o600);
    } catch (err) {
      throw fsFailure(this.dir, err);
    }
    this.removeAbandonedRuns();
    this.sandbox.warm();
    await this.write(async (conn) => {
      await conn.run(sql.BOOTSTRAP);
      // Staging tables of loads whose process died mid-way.
      const rows = await this.rows(conn, sql.STAGING_TABLES);
      for (const [schema, name] of rows as Array<[Layer, string]>) {
        const pid = Number(/^_stage_(\d+)_/.exec(name)?.[1]);
        if (pid && !isAlive(pid)) await conn.run(sql.dropTableIfExists({ layer: schema, name }));
      }
    });
  }

  /** Run files of processes that are gone (a crash mid-load) are removed; live ones are left alone. */
  private removeAbandonedRuns(): void {
    for (const name of readdirSync(this.workDir)) {
      const pid = Number(/^run-(\d+)-/.exec(name)?.[1]);
      if (!pid) continue;
      if (!isAlive(pid)) rmSync(join(this.workDir, name), { recursive: true, force: true });
    }
  }

  private engineOptions(): Record<string, string> {
    return {
      threads: String(this.options.threads ?? 2),
      memory_limit: this.options.memoryLimit ?? '1GB',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      // Hand freed memory back to the system soon, so a long load does not keep its peak.
      allocator_flush_threshold: '32MB',
      // What a statement may spill to disk when memory is not enough.
      max_temp_directory_size: this.options.tempLimit ?? '4GB',
    };
  }

  /** The hardened read-only engine: no files, no extensions, settings locked. */
  private readerOptions(): Record<string, string> {
    return {
      ...this.engineOptions(),
      access_mode: 'READ_ONLY',
      enable_external_access: 'false',
      allow_community_extensions: 'false',
      lock_configuration: 'true',
    };
  }

  /** A read-write engine on the tenant file; file access limited to the work folder (and one file to read). */
  async openWriter(readPath?: string): Promise<{ instance: DuckDBInstance; conn: DuckDBConnection }> {
    const instance = await openEngine(this.file, this.catalog, this.dir, {
      ...this.engineOptions(),
      memory_limit: this.options.loadMemoryLimit ?? '256MB',
    });
    const conn = await instance.connect();
    try {
      await conn.run(`SET allowed_directories = [${pathLiteral(`${this.workDir}/`)}]`);
      if (readPath) await conn.run(`SET allowed_paths = [${pathLiteral(readPath)}]`);
      await conn.run('SET preserve_insertion_order = false');
      await conn.run('SET enable_external_access = false');
      await conn.run('SET lock_configuration = true');
      return { instance, conn };
    } catch (err) {
      conn.closeSync();
      instance.closeSync();
      throw err;
    }
  }

  /** Run with a read-write connection; file access limited to this tenant's work folder. */
  write<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.lock.write(async () => {
      await this.releaseFile();
      await this.host.acquire('write');
      try {
        const { instance, conn } = await this.openWriter();
        this.running.add(conn);
        try {
          return await fn(conn);
        } finally {
          this.running.delete(conn);
          conn.closeSync();
          instance.closeSync();
        }
      } finally {
        this.host.release();
      }
    });
  }

  /** A write connection held across the steps of one load, let go between steps when others wait. */
  session(readPath?: string): WriteSession {
    return new WriteSession(this, readPath);
  }

  /** Run with a connection to the hardened read-only engine. */
  read<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.readTurn(async () => {
      const opening = (this.reader ??= openEngine(this.file, this.catalog, this.dir, this.readerOptions()));
      opening.catch(() => {
        if (this.reader === opening) this.reader = undefined;
      });
      const conn = await (await opening).connect();
      this.running.add(conn);
      try {
        return await fn(conn);
      } finally {
        this.running.delete(conn);
        conn.closeSync();
      }
    });
  }

  /**
   * Run under this process's read lock and the read turn among processes. The engines stay open afterwards, so
   * the next call runs warm; they close when a writer asks for the file, or after {@link READ_IDLE_MS} unused.
   */
  private readTurn<T>(fn: () => Promise<T>): Promise<T> {
    return this.lock.read(async () => {
      if (this.closing) throw new CancelledError('The server is stopping; nothing was run.');
      if (this.idleTimer) clearTimeout(this.idleTimer);
      await this.host.acquire('read');
      try {
        return await fn();
      } finally {
        this.idleTimer = setTimeout(() => {
          if (this.lock.idle) void this.lock.write(() => this.releaseFile()).catch(() => {});
        }, READ_IDLE_MS);
        this.idleTimer.unref();
      }
    });
  }

  /** Close every read-only engine on the file (this process's and the query process's): a writer is next. */
  async releaseFile(): Promise<void> {
    await this.closeReader();
    await this.sandbox.release();
    if (this.host.held === 'read') this.host.release();
  }

  async closeReader(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const closing = this.reader;
    this.reader = undefined;
    await closing?.then((instance) => instance.closeSync()).catch(() => {});
  }

  /** Stop what is running (a long query, a load) and release the file. */
  async close(): Promise<void> {
    this.closing = true;
    this.sandbox.kill({ kind: 'cancelled' });
    for (const feed of this.feeds) feed.destroy(new CancelledError('The server is stopping'));
    // An interrupt that lands before a statement starts executing is lost: repeat it until all have stopped.
    // (Node cannot exit while DuckDB still runs a statement: the engine waits for it.)
    const interrupter = setInterval(() => this.running.forEach((conn) => conn.interrupt()), 50);
    this.running.forEach((conn) => conn.interrupt());
    try {
      await this.lock.write(async () => this.closeReader());
    } finally {
      clearInterval(interrupter);
      await this.host.close();
    }
  }

  private async rows(conn: DuckDBConnection, text: string, params: unknown[] = []): Promise<unknown[][]> {
    const { JsonDuckDBValueConverter } = await loadDuckDB();
    const reader = await conn.runAndReadAll(text, params as never);
    return reader.convertRows(JsonDuckDBValueConverter) as unknown[][];
  }

  // ---- catalog

  async listTables(layer?: Layer): Promise<TableSummary[]> {
    return this.read(async (conn) => {
      const rows = await this.rows(conn, sql.LIST_TABLES, [layer ?? null]);
      const tables = rows.filter((r) => r[2] === 'table');
      const exact = tables.length
        ? await this.rows(
            conn,
            sql.countRowsOf(tables.map((r) => ({ layer: r[0] as Layer, name: r[1] as string }))),
          )
        : [];
      for (const [i, count] of exact) tables[Number(i)]![3] = count;
      return rows.map((r) => ({
        layer: r[0] as Layer,
        name: r[1] as string,
        kind: r[2] as 'table' | 'view',
        rows: r[3] === null ? undefined : Number(r[3]),
        columns: Number(r[4]),
        source: r[5]
          ? `${r[5] as string} from ${(JSON.parse(r[6] as string) as string[]).join(', ') || 'a query'}`
          : undefined,
        lastLoadedAt: (r[7] as string | null) ?? undefined,
      }));
    });
  }

  async columnsOf(ref: TableRef): Promise<ColumnInfo[] | undefined> {
    return this.read(async (conn) => {
      const rows = await this.rows(conn, sql.COLUMNS_OF, [ref.layer, ref.name]);
      if (rows.length === 0) return undefined;
      return rows.map((r) => ({
        name: r[0] as string,
        type: r[1] as string,
        nullable: r[2] === true,
        ...(r[3] ? { original: r[3] as string } : {}),
      }));
    });
  }

  async rowCount(ref: TableRef): Promise<number> {
    return this.read(async (conn) => Number((await this.rows(conn, sql.countRows(ref)))[0]![0]));
  }

  async profile(
    ref: TableRef,
    options: { topValues: number; signal: AbortSignal },
  ): Promise<ColumnProfile[]> {
    const columns = await this.columnsOf(ref);
    if (!columns) throw new NotFoundError(`${ref.layer}.${ref.name} does not exist in ${this.catalog}`);
    return this.read(async (conn) => {
      const stop = () => conn.interrupt();
      options.signal.addEventListener('abort', stop);
      try {
        const stats = (await this.rows(conn, sql.profile(ref, columns)))[0]!;
        const total = Number(stats[0]);
        const profiles: ColumnProfile[] = [];
        for (const [i, c] of columns.entries()) {
          const nulls = Number(stats[1 + i * 4]);
          const distinct = stats[2 + i * 4] === null ? null : Number(stats[2 + i * 4]);
          let top: ColumnProfile['top'];
          if (c.type === 'VARCHAR' && distinct !== null && distinct <= 50 && options.topValues > 0) {
            const values = await this.rows(conn, sql.topValues(ref, c.name), [options.topValues]);
            top = values.map((v) => ({ value: v[0] as string, count: Number(v[1]) }));
          }
          profiles.push({
            name: c.name,
            type: c.type,
            nullable: c.nullable,
            nullShare: total === 0 ? null : Math.round((nulls / total) * 10_000) / 10_000,
            approxDistinct: distinct,
            min: (stats[3 + i * 4] as string | null) ?? null,
            max: (stats[4 + i * 4] as string | null) ?? null,
            top,
          });
        }
        return profiles;
      } catch (err) {
        if (options.signal.aborted) throw new CancelledError();
        throw err;
      } finally {
        options.signal.removeEventListener('abort', stop);
      }
    });
  }

  async preview(ref: TableRef, rows: number): Promise<QueryResult> {
    return this.read(async (conn) => {
      const started = performance.now();
      const result = await conn.stream(sql.preview(ref), [rows]);
      const read = await readBounded(result, rows, 64 * 1024);
      return { ...read, elapsedMs: Math.round(performance.now() - started) };
    });
  }

  // ---- the hardened query path

  /** User SQL: checked, prepared and run in the query process, under this process's read lock. */
  private sandboxed<T>(fn: () => Promise<T>): Promise<T> {
    return this.readTurn(fn);
  }

  async validateQuery(
    text: string,
    signal?: AbortSignal,
  ): Promise<{ columns: ColumnInfo[]; tables: string[] }> {
    return this.sandboxed(() => this.sandbox.describe(text, signal));
  }

  async query(text: string, options: QueryOptions): Promise<QueryResult> {
    return this.sandboxed(() => this.sandbox.query(text, options));
  }

  // ---- loads

  async stage(target: TableRef, runId: string): Promise<StagedLoad> {
    const workDir = join(this.workDir, `run-${process.pid}-${runId}`);
    try {
      mkdirSync(workDir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw fsFailure(this.workDir, err);
    }
    return new DuckDbStagedLoad(this, target, workDir, {
      layer: target.layer,
      name: `${sql.STAGE_PREFIX}${process.pid}_${runId}`,
    });
  }

  /** Replace the target with the staging table (a rename) or merge into it, and write the records: one transaction. */
  async commitStaging(
    conn: DuckDBConnection,
    staging: TableRef,
    target: TableRef,
    mode: 'replace' | 'merge',
    keys: string[],
    records: CommitRecords,
    signal: AbortSignal,
  ): Promise<{ rows: number }> {
    const kind = (await this.rows(conn, sql.OBJECT_KIND, [target.layer, target.name]))[0]?.[0] as
      'table' | 'view' | undefined;
    await conn.run('BEGIN TRANSACTION');
    try {
      if (mode === 'merge' && kind === 'table') {
        const describe = async (ref: TableRef) =>
          (await this.rows(conn, sql.COLUMNS_OF, [ref.layer, ref.name])).map(
            (r) => `${r[0] as string} ${r[1] as string}`,
          );
        const existing = await describe(target);
        const incoming = await describe(staging);
        if (existing.join(',') !== incoming.join(',')) {
          throw new UserInputError(
            `The columns of ${target.layer}.${target.name} (${existing.join(', ')}) differ from the source's (${incoming.join(', ')}), so the new rows cannot be merged`,
            { hint: "Run a sync with sync_mode 'full' to rebuild the table with the source's columns" },
          );
        }
        for (const s of sql.mergeFrom(target, staging, keys, records.state?.cursorColumn)) await conn.run(s);
        await conn.run(sql.dropTableIfExists(staging));
      } else {
        if (kind) await conn.run(sql.dropObject(target, kind));
        await conn.run(sql.renameTable(staging, target.name));
      }
      await this.insertRecords(conn, records);
      if (signal.aborted) throw new CancelledError();
      await conn.run('COMMIT');
    } catch (err) {
      await conn.run('ROLLBACK').catch(() => {});
      throw err;
    }
    return { rows: Number((await this.rows(conn, sql.countRows(target)))[0]![0]) };
  }

  private async insertRecords(conn: DuckDBConnection, records: CommitRecords): Promise<void> {
    await conn.run(sql.INSERT_RUN, runParams(records.run) as never);
    if (records.state) {
      const s = records.state;
      await conn.run(sql.DELETE_STATE, [s.target]);
      await conn.run(sql.INSERT_STATE, [
        s.target,
        s.connection,
        s.source,
        s.cursorColumn,
        JSON.stringify(s.keyColumns),
        s.watermark,
        s.sourceSnapshot ?? null,
      ]);
    }
    await this.insertLineage(conn, records.lineage);
  }

  private async insertLineage(conn: DuckDBConnection, l: LineageRecord): Promise<void> {
    await conn.run(sql.DELETE_LINEAGE, [l.target.layer, l.target.name]);
    await conn.run(sql.INSERT_LINEAGE, [
      l.target.layer,
      l.target.name,
      l.kind,
      JSON.stringify(l.inputs),
      l.definition,
    ]);
  }

  // ---- transforms and views

  renderTransform(plan: TransformPlan): Statement {
    return sql.renderTransform(plan);
  }

  async previewTransform(plan: TransformPlan, rows: number): Promise<QueryResult> {
    const rendered = sql.renderTransform(plan);
    return this.read(async (conn) => {
      const started = performance.now();
      try {
        const limited = sql.previewSelect(rendered, rows);
        const result = await conn.stream(limited.sql, limited.params as never);
        const read = await readBounded(result, rows, 32 * 1024);
        return { ...read, elapsedMs: Math.round(performance.now() - started) };
      } catch (err) {
        throw transformError(err);
      }
    });
  }

  async runTransform(plan: TransformPlan, lineage: LineageRecord): Promise<{ rows: number }> {
    const rendered = sql.renderTransform(plan);
    return this.write(async (conn) => {
      const kind = (await this.rows(conn, sql.OBJECT_KIND, [plan.target.layer, plan.target.name]))[0]?.[0] as
        'table' | 'view' | undefined;
      await conn.run('BEGIN TRANSACTION');
      try {
        if (kind) await conn.run(sql.dropObject(plan.target, kind));
        await conn.run(sql.createTableAs(plan.target, rendered.sql), rendered.params as never);
        await this.insertLineage(conn, lineage);
        await conn.run('COMMIT');
      } catch (err) {
        await conn.run('ROLLBACK').catch(() => {});
        throw transformError(err);
      }
      return { rows: Number((await this.rows(conn, sql.countRows(plan.target)))[0]![0]) };
    });
  }

  async createView(
    ref: TableRef,
    selectSql: string,
    replace: boolean,
  ): Promise<{ columns: ColumnInfo[]; tables: string[] }> {
    // Checked on the hardened engine first: one read-only query over this tenant's tables, no file access.
    const checked = await this.validateQuery(selectSql);
    const lineage: LineageRecord = {
      target: ref,
      kind: 'view',
      inputs: checked.tables,
      definition: selectSql,
    };
    await this.write(async (conn) => {
      const kind = (await this.rows(conn, sql.OBJECT_KIND, [ref.layer, ref.name]))[0]?.[0] as
        string | undefined;
      if (kind && !replace) {
        throw new UserInputError(`${ref.layer}.${ref.name} already exists`, {
          hint: 'Pass replace: true to redefine it, or choose another name',
        });
      }
      await conn.run('BEGIN TRANSACTION');
      try {
        if (kind) await conn.run(sql.dropObject(ref, kind as 'table' | 'view'));
        await conn.run(sql.createView(ref, selectSql));
        await this.insertLineage(conn, lineage);
        await conn.run('COMMIT');
      } catch (err) {
        await conn.run('ROLLBACK').catch(() => {});
        throw queryError(err, this.catalog);
      }
    });
    return checked;
  }

  // ---- metadata

  async listConnections(): Promise<ConnectionRecord[]> {
    return this.read(async (conn) =>
      (await this.rows(conn, sql.SELECT_CONNECTIONS)).map((r) => ({
        name: r[0] as string,
        kind: 'postgres' as const,
        host: r[2] as string,
        port: Number(r[3]),
        database: r[4] as string,
        user: r[5] as string,
        sslMode: r[6] as ConnectionRecord['sslMode'],
        createdAt: r[7] as string,
        updatedAt: r[8] as string,
      })),
    );
  }

  async getConnection(name: string): Promise<ConnectionRecord | undefined> {
    return (await this.listConnections()).find((c) => c.name === name);
  }

  async saveConnection(c: ConnectionRecord): Promise<void> {
    await this.write(async (conn) => {
      await conn.run('BEGIN TRANSACTION');
      await conn.run(sql.DELETE_CONNECTION, [c.name]);
      await conn.run(sql.INSERT_CONNECTION, [
        c.name,
        c.kind,
        c.host,
        c.port,
        c.database,
        c.user,
        c.sslMode,
        c.createdAt,
        c.updatedAt,
      ]);
      await conn.run('COMMIT');
    });
  }

  async getSyncState(target: string): Promise<SyncState | undefined> {
    return this.read(async (conn) => {
      const r = (await this.rows(conn, sql.SELECT_STATE, [target]))[0];
      if (!r) return undefined;
      return {
        target: r[0] as string,
        connection: r[1] as string,
        source: r[2] as string,
        cursorColumn: r[3] as string,
        keyColumns: JSON.parse(r[4] as string) as string[],
        watermark: (r[5] as string | null) ?? null,
        sourceSnapshot: (r[6] as string | null) ?? null,
      };
    });
  }

  async recordRun(run: SyncRunRecord): Promise<void> {
    await this.write(async (conn) => {
      await conn.run(sql.INSERT_RUN, runParams(run) as never);
    });
  }

  async lastRuns(limit: number): Promise<SyncRunRecord[]> {
    return this.read(async (conn) =>
      (await this.rows(conn, sql.SELECT_RUNS, [limit])).map((r) => ({
        runId: r[0] as string,
        kind: r[1] as 'sync' | 'upload',
        connection: (r[2] as string | null) ?? undefined,
        source: r[3] as string,
        target: { layer: r[4] as Layer, name: r[5] as string },
        mode: r[6] as 'full' | 'incremental',
        status: r[7] as SyncRunRecord['status'],
        startedAt: new Date(r[8] as string),
        finishedAt: new Date(r[9] as string),
        rows: Number(r[10]),
        bytes: Number(r[11]),
        watermark: (r[12] as string | null) ?? undefined,
        error: (r[13] as string | null) ?? undefined,
      })),
    );
  }

  async lineageOf(ref: TableRef): Promise<LineageRecord | undefined> {
    return this.read(async (conn) => {
      const r = (await this.rows(conn, sql.SELECT_LINEAGE, [ref.layer, ref.name]))[0];
      if (!r) return undefined;
      return {
        target: { layer: r[0] as Layer, name: r[1] as string },
        kind: r[2] as LineageRecord['kind'],
        inputs: JSON.parse(r[3] as string) as string[],
        definition: r[4] as string,
      };
    });
  }
}

function runParams(run: SyncRunRecord): unknown[] {
  return [
    run.runId,
    run.kind,
    run.connection ?? null,
    run.source,
    run.target.layer,
    run.target.name,
    run.mode,
    run.status,
    run.startedAt.toISOString(),
    run.finishedAt.toISOString(),
    run.rows,
    run.bytes,
    Math.round(run.finishedAt.getTime() - run.startedAt.getTime()),
    run.watermark ?? null,
    run.error ?? null,
  ];
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A write connection held across the steps of a load; between steps it lets waiting readers and writers in. */
export class WriteSession {
  private release: (() => void) | undefined;
  private engine: { instance: DuckDBInstance; conn: DuckDBConnection } | undefined;

  constructor(
    private readonly tenant: DuckDbTenant,
    private readonly readPath: string | undefined,
  ) {}

  private busy = false;

  async run<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    this.busy = true;
    try {
      if (!this.engine) {
        this.release = await this.tenant.lock.acquireWrite();
        try {
          await this.tenant.releaseFile();
          await this.tenant.host.acquire('write');
          this.engine = await this.tenant.openWriter(this.readPath);
          this.tenant.activeSession = this;
        } catch (err) {
          this.tenant.host.release();
          this.release();
          this.release = undefined;
          throw err;
        }
      }
      const conn = this.engine.conn;
      this.tenant.running.add(conn);
      try {
        return await fn(conn);
      } finally {
        this.tenant.running.delete(conn);
      }
    } finally {
      this.busy = false;
    }
  }

  /** Interrupt the statement running on this session's connection, if any. */
  interrupt(): void {
    this.engine?.conn.interrupt();
  }

  /** Between steps (e.g. while the next part streams from the source), let a waiting caller in at once. */
  yieldIfIdle(): void {
    if (!this.busy) this.close();
  }

  /** Let others in when they wait, here or in another process (or always, with `force`); the next `run` takes the lock again. */
  pause(force = false): void {
    if (this.engine && (force || this.tenant.lock.waiting > 0 || this.tenant.host.othersWaiting))
      this.close();
  }

  close(): void {
    if (this.tenant.activeSession === this) this.tenant.activeSession = undefined;
    if (this.engine) {
      this.engine.conn.closeSync();
      this.engine.instance.closeSync();
      this.engine = undefined;
      this.tenant.host.release();
    }
    this.release?.();
    this.release = undefined;
  }
}

const RECYCLE_BYTES = 128 * 1024 * 1024;
/** What a feed may hold between the source and DuckDB: enough to cover an engine replacement. */
const FEED_QUEUE_BYTES = 16 * 1024 * 1024;

/** A load staged in a hidden table next to its target, in the tenant's own file. */
class DuckDbStagedLoad implements StagedLoad {
  private session: WriteSession | undefined;
  private created = false;
  private done = false;
  private bytesSinceOpen = 0;
  private feed: FifoCsvFeed | undefined;
  /** The columns of a streamed load: an incremental run that read nothing still stages them, empty. */
  private columns: PartColumn[] | undefined;
  rows = 0;

  constructor(
    private readonly tenant: DuckDbTenant,
    private readonly target: TableRef,
    readonly workDir: string,
    private readonly staging: TableRef,
  ) {}

  private open(readPath?: string): WriteSession {
    return (this.session ??= this.tenant.session(readPath));
  }

  /** One CSV part (a file or the pipe) into the staging table, made on the first part with its column comments. */
  private async insertPart(conn: DuckDBConnection, path: string, columns: PartColumn[]): Promise<number> {
    if (!this.created) {
      await conn.run(sql.createStaging(this.staging, columns));
      for (const comment of sql.commentColumns(this.staging, columns)) await conn.run(comment);
      this.created = true;
    }
    const statement = sql.insertCsvPart(this.staging, path, columns);
    try {
      return Number((await conn.run(statement.sql, statement.params as never)).rowsChanged);
    } catch (err) {
      throw sql.csvPartError(err, columns);
    }
  }

  async appendCsvPart(path: string, columns: PartColumn[]): Promise<number> {
    this.columns = columns;
    const session = this.open();
    const changed = await session.run(async (conn) => {
      return this.insertPart(conn, path, columns);
    });
    this.rows += changed;
    this.loaded(session, statSync(path).size);
    return changed;
  }

  /** After each part or segment: let waiting callers in; a fresh engine every 128 MB keeps the peak flat. */
  private loaded(session: WriteSession, bytes: number): void {
    // DuckDB keeps some memory per engine as a load grows.
    this.bytesSinceOpen += bytes;
    const recycle = this.bytesSinceOpen >= RECYCLE_BYTES;
    if (recycle) this.bytesSinceOpen = 0;
    session.pause(recycle);
  }

  get feedCsv(): StagedLoad['feedCsv'] {
    return feedsSupported ? this.openFeed : undefined;
  }

  private readonly openFeed = (
    columns: PartColumn[],
    options: { segmentBytes: number; onLoaded(rows: number): void },
  ): CsvFeed => {
    const session = this.open();
    this.columns = columns;
    const feed = new FifoCsvFeed(
      this.workDir,
      {
        load: async (path) => {
          const changed = await session.run((conn) => this.insertPart(conn, path, columns));
          this.rows += changed;
          return changed;
        },
        interrupt: () => session.interrupt(),
        waited: () => this.tenant.lock.waiting > 0 || this.tenant.host.othersWaiting,
        between: (bytes) => this.loaded(session, bytes),
      },
      {
        segmentBytes: options.segmentBytes,
        queueBytes: FEED_QUEUE_BYTES,
        onSegment: () => options.onLoaded(this.rows),
      },
    );
    this.feed = feed;
    this.tenant.feeds.add(feed);
    void feed.finished.then(() => this.tenant.feeds.delete(feed));
    return feed;
  };

  async appendFile(spec: FileSpec): Promise<{ rows: number; columns: ColumnInfo[] }> {
    const session = this.open(spec.path);
    let read = sql.readFile(spec);
    return session.run(async (conn) => {
      const { JsonDuckDBValueConverter } = await loadDuckDB();
      // CSV money: the sniffer's DOUBLE columns are read as text, then made exact DECIMALs where they can be.
      let money: string[] = [];
      if (spec.format === 'csv') {
        const sniffed = await conn.runAndReadAll(sql.describeSelect(read.sql), read.params as never);
        money = (sniffed.convertRows(JsonDuckDBValueConverter) as unknown[][])
          .filter((r) => r[1] === 'DOUBLE')
          .map((r) => r[0] as string);
        if (money.length) read = sql.readCsvAsText(read, money);
      }
      const select = spec.columns
        ? `SELECT ${sql.renameDeclared(spec.columns)} FROM (${read.sql})`
        : read.sql;
      await conn.run(`CREATE TABLE ${sql.tableName(this.staging)} AS ${select}`, read.params as never);
      this.created = true;
      for (const column of money) {
        const [other, integerDigits, scale] = (
          await conn.runAndReadAll(sql.fixedPointShape(this.staging, column))
        )
          .getRowsJS()[0]!
          .map(Number);
        await conn.run(
          sql.decimalColumn(this.staging, column, {
            other: other!,
            integerDigits: integerDigits!,
            scale: scale!,
          }),
        );
      }
      const count = await conn.runAndReadAll(sql.countRows(this.staging));
      this.rows = Number(count.getRowsJS()[0]![0]);
      const cols = await conn.runAndReadAll(sql.COLUMNS_OF, [this.staging.layer, this.staging.name]);
      const loaded = (cols.convertRows(JsonDuckDBValueConverter) as unknown[][]).map((r) => ({
        name: r[0] as string,
        type: r[1] as string,
        nullable: r[2] === true,
      }));
      // The naming rule of tables applies to the file's columns too; the header's spelling stays as the comment.
      const names = bronzeColumnNames(loaded.map((c) => c.name));
      const columns: ColumnInfo[] = loaded.map((c, i) => ({
        ...c,
        name: names[i]!,
        ...(names[i] !== c.name ? { original: c.name } : {}),
      }));
      // Renamed in two steps, so that a new name that is another column's old one never clashes.
      const renamed = columns.filter((c) => c.original !== undefined);
      for (const [i, c] of renamed.entries())
        await conn.run(sql.renameColumn(this.staging, c.original!, `_rename_${i}`));
      for (const [i, c] of renamed.entries())
        await conn.run(sql.renameColumn(this.staging, `_rename_${i}`, c.name));
      for (const comment of sql.commentColumns(this.staging, columns)) await conn.run(comment);
      return { rows: this.rows, columns };
    });
  }

  async maxOf(column: string): Promise<string | null> {
    if (!this.created) return null;
    return this.open().run(async (conn) => {
      const reader = await conn.runAndReadAll(sql.maxOf(this.staging, column));
      const value = reader.getRowsJS()[0]![0];
      return value === null || value === undefined ? null : String(value);
    });
  }

  async commit(
    mode: 'replace' | 'merge',
    keys: string[],
    records: CommitRecords,
    signal: AbortSignal,
  ): Promise<{ rows: number }> {
    try {
      const result = await this.open().run(async (conn) => {
        if (!this.created) {
          await conn.run(
            this.columns
              ? sql.createStaging(this.staging, this.columns)
              : `CREATE TABLE ${sql.tableName(this.staging)} (placeholder INTEGER)`,
          );
          this.created = true;
        }
        return this.tenant.commitStaging(conn, this.staging, this.target, mode, keys, records, signal);
      });
      this.created = false;
      return result;
    } finally {
      await this.abort();
    }
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    if (this.feed) {
      this.feed.destroy();
      await this.feed.finished;
    }
    try {
      if (this.created) await this.open().run((conn) => conn.run(sql.dropTableIfExists(this.staging)));
    } catch {
      // A staging table that cannot be dropped now is dropped when the tenant is next opened.
    } finally {
      this.session?.close();
      rmSync(this.workDir, { recursive: true, force: true });
    }
  }
}

function transformError(err: unknown): Error {
  if (err instanceof Error && 'kind' in err) return err;
  return new UserInputError(`The transform failed on the data: ${duckMessage(err)}`, {
    hint: "Fix the step named in the message, or set on_invalid: 'null' to turn values that do not convert into NULL; nothing was changed",
  });
}

export function fileSize(path: string): number {
  return statSync(path).size;
}
