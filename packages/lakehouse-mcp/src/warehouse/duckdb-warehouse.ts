/**
 * The embedded warehouse: one DuckDB database file per tenant, `<home>/tenant_<id>/tenant_<id>.duckdb`,
 * whose catalog `tenant_<id>` holds the schemas bronze, silver, gold and _meta as native DuckDB tables.
 *
 * Writers and readers never share an engine: every change runs on a short-lived read-write instance whose
 * file access is limited to the tenant's work folder; every read runs on a read-only instance with external
 * access disabled and its configuration locked. In this process a readers-writer lock keeps them apart,
 * because a read-only instance does not see another instance's later writes. Loads go to a database file of
 * their own under `work/` and reach the catalog in one transaction at commit.
 */
import { mkdirSync, readdirSync, rmSync, statSync, accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance, DuckDBResult } from '@duckdb/node-api';
import {
  CancelledError,
  NotFoundError,
  PermissionError,
  spillCsv,
  UpstreamError,
  UserInputError,
  type Logger,
  untrusted,
} from '@switchyard/core';
import * as sql from './duckdb-dialect.js';
import { checkQueryTree, type QueryTree } from './duckdb-sql-check.js';
import { insightsFrom } from './insight-rows.js';
import { RwLock } from './rwlock.js';
import type {
  ColumnInfo,
  ColumnInsight,
  ColumnProfile,
  CommitRecords,
  ConnectionRecord,
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

type DuckDB = typeof import('@duckdb/node-api');
let duckdbModule: Promise<DuckDB> | undefined;
const loadDuckDB = (): Promise<DuckDB> => (duckdbModule ??= import('@duckdb/node-api'));

export interface DuckDbWarehouseOptions {
  home: string;
  log: Logger;
  /** Memory each query engine may use, e.g. `1GB`. */
  memoryLimit?: string;
  /** Memory a loading engine may use; lower keeps a sync's footprint flat. */
  loadMemoryLimit?: string;
  threads?: number;
}

const pathLiteral = sql.stringLiteral;

/** The first line of a DuckDB error, plus its "Did you mean" suggestion when it has one. */
export function duckMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const lines = text.split('\n').map((l) => l.trim());
  const hint = lines.find((l) => /^Did you mean/i.test(l));
  const first = (lines[0] ?? '')
    .replace(/\s*LINE \d+:.*$/, '')
    .replace(/^Failed to (extract statements|prepare query|execute prepared statement|bind value): /i, '');
  return hint ? `${first} ${hint}` : first;
}

function fsFailure(dir: string, err: unknown): PermissionError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  return new PermissionError(`The lakehouse folder ${dir} cannot be created or written (${code})`, {
    hint: 'Set LAKEHOUSE_HOME to a folder you can write to, or fix the permissions of this one; nothing was changed',
  });
}

export class DuckDbWarehouse implements Warehouse {
  readonly kind = 'duckdb' as const;
  private readonly tenantsById = new Map<string, Promise<DuckDbTenant>>();

  constructor(private readonly options: DuckDbWarehouseOptions) {}

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
  /** The load holding the write lock across steps, if any: it lets go when idle and someone waits. */
  activeSession: WriteSession | undefined;
  /** Connections with a statement running, interrupted when the server stops. */
  readonly running = new Set<DuckDBConnection>();
  /** Set once the server stops: no new statement starts. */
  closing = false;
  private reader: DuckDBInstance | undefined;
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
    this.lock.onWait = () => this.activeSession?.yieldIfIdle();
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
    } catch (err) {
      throw fsFailure(this.dir, err);
    }
    this.removeAbandonedRuns();
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
    };
  }

  private async openWithRetry(path: string, options: Record<string, string>): Promise<DuckDBInstance> {
    const { DuckDBInstance } = await loadDuckDB();
    const deadline = Date.now() + 5_000;
    for (;;) {
      try {
        return await DuckDBInstance.create(path, options);
      } catch (err) {
        const message = duckMessage(err);
        if (!/lock/i.test(message) || Date.now() > deadline) {
          if (/lock/i.test(message)) {
            throw new UpstreamError(`The catalog ${this.catalog} is in use by another process`, {
              upstream: { service: 'DuckDB', message },
              hint: 'Close the other lakehouse-mcp or DuckDB process that has it open, then try again',
            });
          }
          if (/permission|read-only file system|No such file/i.test(message)) throw fsFailure(this.dir, err);
          throw err;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** A read-write engine on the tenant file; file access limited to the work folder (and one file to read). */
  async openWriter(readPath?: string): Promise<{ instance: DuckDBInstance; conn: DuckDBConnection }> {
    const instance = await this.openWithRetry(this.file, {
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
      this.closeReader();
      const { instance, conn } = await this.openWriter();
      this.running.add(conn);
      try {
        return await fn(conn);
      } finally {
        this.running.delete(conn);
        conn.closeSync();
        instance.closeSync();
      }
    });
  }

  /** A write connection held across the steps of one load, let go between steps when others wait. */
  session(readPath?: string): WriteSession {
    return new WriteSession(this, readPath);
  }

  /** Run with a connection to the hardened read-only engine. */
  read<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.lock.read(async () => {
      if (this.closing) throw new CancelledError('The server is stopping; nothing was run.');
      if (this.idleTimer) clearTimeout(this.idleTimer);
      this.reader ??= await this.openWithRetry(this.file, {
        ...this.engineOptions(),
        access_mode: 'READ_ONLY',
        enable_external_access: 'false',
        allow_community_extensions: 'false',
        lock_configuration: 'true',
      });
      const conn = await this.reader.connect();
      this.running.add(conn);
      try {
        return await fn(conn);
      } finally {
        this.running.delete(conn);
        conn.closeSync();
        // Another process may want to write: do not hold the file open when idle.
        this.idleTimer = setTimeout(() => {
          if (this.lock.idle) this.closeReader();
        }, 2_000);
        this.idleTimer.unref();
      }
    });
  }

  closeReader(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.reader?.closeSync();
    this.reader = undefined;
  }

  /** Stop what is running (a long query, a load) and release the file. */
  async close(): Promise<void> {
    this.closing = true;
    // An interrupt that lands before a statement starts executing is lost: repeat it until all have stopped.
    // (Node cannot exit while DuckDB still runs a statement: the engine waits for it.)
    const interrupter = setInterval(() => this.running.forEach((conn) => conn.interrupt()), 50);
    this.running.forEach((conn) => conn.interrupt());
    try {
      await this.lock.write(async () => this.closeReader());
    } finally {
      clearInterval(interrupter);
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
      return rows.map((r) => ({ name: r[0] as string, type: r[1] as string, nullable: r[2] === true }));
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

  async validateQuery(
    text: string,
    _signal?: AbortSignal,
  ): Promise<{ columns: ColumnInfo[]; tables: string[] }> {
    return this.read(async (conn) => {
      const { prepared, tables } = await prepareQuery(conn, text, this.catalog);
      const columns: ColumnInfo[] = [];
      for (let i = 0; i < prepared.columnCount; i++) {
        columns.push({
          name: prepared.columnName(i),
          type: prepared.columnType(i).toString(),
          nullable: true,
        });
      }
      prepared.destroySync();
      return { columns, tables };
    });
  }

  async query(text: string, options: QueryOptions): Promise<QueryResult> {
    return this.read(async (conn) => {
      const started = performance.now();
      const { prepared } = await prepareQuery(conn, text, this.catalog);
      if (this.closing) {
        prepared.destroySync();
        throw new CancelledError('The server is stopping; nothing was run.');
      }
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        conn.interrupt();
      }, options.timeoutMs);
      const cancel = () => conn.interrupt();
      options.signal.addEventListener('abort', cancel);
      try {
        const result = await prepared.stream();
        if (!options.spillDir) {
          const read = await readBounded(result, options.maxRows, options.maxBytes);
          return { ...read, elapsedMs: Math.round(performance.now() - started) };
        }
        return await readWithSpill(result, options, this.catalog, started);
      } catch (err) {
        if (options.signal.aborted) throw new CancelledError();
        if (timedOut) {
          throw new UserInputError(
            `The query was stopped after the time limit of ${options.timeoutMs / 1000} s`,
            {
              hint: 'Add filters or a LIMIT, aggregate before returning rows, or raise timeout_seconds (at most 300)',
            },
          );
        }
        throw queryError(err, this.catalog);
      } finally {
        clearTimeout(timer);
        options.signal.removeEventListener('abort', cancel);
        prepared.destroySync();
      }
    });
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
          this.tenant.closeReader();
          this.engine = await this.tenant.openWriter(this.readPath);
          this.tenant.activeSession = this;
        } catch (err) {
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

  /** Between steps (e.g. while the next part streams from the source), let a waiting caller in at once. */
  yieldIfIdle(): void {
    if (!this.busy) this.close();
  }

  /** Let others in when they wait (or always, with `force`); the next `run` takes the lock again. */
  pause(force = false): void {
    if (this.engine && (force || this.tenant.lock.waiting > 0)) this.close();
  }

  close(): void {
    if (this.tenant.activeSession === this) this.tenant.activeSession = undefined;
    if (this.engine) {
      this.engine.conn.closeSync();
      this.engine.instance.closeSync();
      this.engine = undefined;
    }
    this.release?.();
    this.release = undefined;
  }
}

const RECYCLE_BYTES = 128 * 1024 * 1024;

/** A load staged in a hidden table next to its target, in the tenant's own file. */
class DuckDbStagedLoad implements StagedLoad {
  private session: WriteSession | undefined;
  private created = false;
  private done = false;
  private bytesSinceOpen = 0;
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

  async appendCsvPart(path: string, columns: PartColumn[]): Promise<number> {
    const session = this.open();
    const changed = await session.run(async (conn) => {
      if (!this.created) {
        await conn.run(sql.createStaging(this.staging, columns));
        this.created = true;
      }
      const statement = sql.insertCsvPart(this.staging, path, columns);
      return (await conn.run(statement.sql, statement.params as never)).rowsChanged;
    });
    this.rows += changed;
    // DuckDB keeps some memory per engine as a load grows: a fresh engine every 128 MB keeps the peak flat.
    this.bytesSinceOpen += statSync(path).size;
    const recycle = this.bytesSinceOpen >= RECYCLE_BYTES;
    if (recycle) this.bytesSinceOpen = 0;
    session.pause(recycle);
    return changed;
  }

  async appendFile(spec: FileSpec): Promise<{ rows: number; columns: ColumnInfo[] }> {
    const session = this.open(spec.path);
    const read = sql.readFile(spec);
    const select = spec.columns ? `SELECT ${sql.renameDeclared(spec.columns)} FROM (${read.sql})` : read.sql;
    return session.run(async (conn) => {
      await conn.run(`CREATE TABLE ${sql.tableName(this.staging)} AS ${select}`, read.params as never);
      this.created = true;
      const { JsonDuckDBValueConverter } = await loadDuckDB();
      const count = await conn.runAndReadAll(sql.countRows(this.staging));
      this.rows = Number(count.getRowsJS()[0]![0]);
      const cols = await conn.runAndReadAll(sql.COLUMNS_OF, [this.staging.layer, this.staging.name]);
      const columns = (cols.convertRows(JsonDuckDBValueConverter) as unknown[][]).map((r) => ({
        name: r[0] as string,
        type: r[1] as string,
        nullable: r[2] === true,
      }));
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
          await conn.run(`CREATE TABLE ${sql.tableName(this.staging)} (placeholder INTEGER)`);
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

const QUERY_START = /^(SELECT|WITH|FROM|VALUES|TABLE|DESCRIBE|SHOW|SUMMARIZE|PIVOT|UNPIVOT)\b/i;

/** The first keyword of a statement, after comments, whitespace and opening parentheses. */
function leadingKeyword(text: string): string {
  const stripped = text.replace(/^(\s|\(|--[^\n]*(\n|$)|\/\*[\s\S]*?\*\/)+/, '');
  return /^[A-Za-z_]+/.exec(stripped)?.[0]?.toUpperCase() ?? '';
}

const STATEMENT_NAMES: Record<number, string> = {
  2: 'INSERT',
  3: 'UPDATE',
  4: 'EXPLAIN',
  5: 'DELETE',
  6: 'PREPARE',
  7: 'CREATE',
  8: 'EXECUTE',
  9: 'ALTER',
  10: 'transaction',
  11: 'COPY',
  12: 'ANALYZE',
  13: 'SET',
  14: 'CREATE FUNCTION',
  15: 'DROP',
  16: 'EXPORT',
  17: 'PRAGMA',
  18: 'VACUUM',
  19: 'CALL',
  20: 'SET',
  21: 'INSTALL/LOAD',
  23: 'extension',
  25: 'ATTACH',
  26: 'DETACH',
  28: 'COPY DATABASE',
  29: 'UPDATE EXTENSIONS',
  30: 'MERGE',
};

/**
 * Exactly one statement, which must be a plain query over the tenant's layers: DuckDB's own parser counts the
 * statements, its parse tree is checked (duckdb-sql-check.ts) and the prepared statement's type must be
 * SELECT; nothing runs before every check passes. Returns the prepared statement and the tables it reads.
 */
async function prepareQuery(conn: DuckDBConnection, text: string, catalog: string) {
  let extracted;
  try {
    extracted = await conn.extractStatements(text);
  } catch (err) {
    throw new UserInputError(`The SQL could not be parsed: ${duckMessage(err)}`, {
      hint: 'Send exactly one SELECT statement in DuckDB SQL',
    });
  }
  if (extracted.count === 0)
    throw new UserInputError('The SQL holds no statement', { hint: 'Send one SELECT' });
  if (extracted.count > 1 && /^(PIVOT|UNPIVOT)$/.test(leadingKeyword(text))) {
    // Without an IN list DuckDB first creates an ENUM type of the values found: a write.
    throw new UserInputError('A PIVOT here must list the values it turns into columns; nothing was run', {
      hint: "Name them: PIVOT bronze.t ON status IN ('new', 'paid') USING count(*)",
    });
  }
  if (extracted.count > 1) {
    throw new UserInputError(
      `Only one statement may run per call, and this SQL holds ${extracted.count}; nothing was run`,
      { hint: 'Send a single SELECT without a second statement after a semicolon' },
    );
  }
  const keyword = leadingKeyword(text);
  if (!QUERY_START.test(keyword)) throw notAQuery(keyword);
  const tree = JSON.parse(
    (await conn.runAndReadAll(sql.PARSE_TREE, [text])).getRows()[0]![0] as string,
  ) as QueryTree;
  if (tree.error) {
    // Not a SELECT (a write after a WITH, say): name its kind. Preparing binds, it does not run.
    const type = await extracted
      .prepare(0)
      .then((p) => {
        const t = p.statementType as number;
        p.destroySync();
        return t;
      })
      .catch(() => undefined);
    if (type !== undefined && type !== 1) throw notAQuery(STATEMENT_NAMES[type]);
  }
  const tables = checkQueryTree(tree, catalog);
  let prepared;
  try {
    prepared = await extracted.prepare(0);
  } catch (err) {
    throw queryError(err, catalog);
  }
  const type = prepared.statementType as number;
  if (type !== 1) {
    prepared.destroySync();
    throw notAQuery(STATEMENT_NAMES[type]);
  }
  return { prepared, tables };
}

function notAQuery(kind: string | undefined): UserInputError {
  const what = kind
    ? `this is ${/^([AEIO]|U[^S])/i.test(kind) ? 'an' : 'a'} ${kind} statement`
    : 'this is not a query';
  return new UserInputError(`Only read-only queries can run here, and ${what}; nothing was run`, {
    hint: 'Use a single SELECT (or WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, PIVOT … IN (…)); data changes go through the sync, upload and transform tools',
  });
}

function queryError(err: unknown, catalog: string): Error {
  if (err instanceof Error && 'kind' in err) return err;
  const message = duckMessage(err);
  if (/^Permission Error|file system operations are disabled|disabled by configuration/i.test(message)) {
    return new UserInputError(
      `Reading or writing files is disabled for queries: ${untrusted(message, 300)}`,
      {
        hint: 'Load a file with lakehouse_upload_file first, then query its bronze table',
      },
    );
  }
  if (/^Catalog Error|Catalog "[^"]*" does not exist/i.test(message)) {
    return new UserInputError(
      `The query refers to something that does not exist in ${catalog}: ${untrusted(message, 300)}`,
      {
        hint: `Only this tenant's tables can be queried; call lakehouse_list_tables to see them`,
      },
    );
  }
  if (
    /^(Parser|Binder|Conversion|Invalid Input|Out of Range|Not implemented|Constraint|Catalog) Error/i.test(
      message,
    )
  ) {
    return new UserInputError(`DuckDB refused the query: ${untrusted(message, 300)}`);
  }
  if (/^INTERRUPT/i.test(message)) return new CancelledError();
  return new UpstreamError(`DuckDB could not run the query: ${untrusted(message, 300)}`);
}

function transformError(err: unknown): Error {
  if (err instanceof Error && 'kind' in err) return err;
  return new UserInputError(`The transform failed on the data: ${duckMessage(err)}`, {
    hint: "Fix the step named in the message, or set on_invalid: 'null' to turn values that do not convert into NULL; nothing was changed",
  });
}

/** Interval and blob values as readable text; everything else as DuckDB's JSON conversion gives it. */
function cleanValue(value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const v = value as Record<string, unknown>;
    if ('months' in v && 'days' in v && 'micros' in v && Object.keys(v).length === 3) {
      return `${String(v.months)} months ${String(v.days)} days ${String(v.micros)} microseconds`;
    }
  }
  if (typeof value === 'string' && value.startsWith('\\x') && /^(\\x[0-9A-F]{2})+$/.test(value)) {
    return `\\x${value.replace(/\\x/g, '').toLowerCase()}`;
  }
  return value;
}

async function readBounded(
  result: DuckDBResult,
  maxRows: number,
  maxBytes: number,
): Promise<Omit<QueryResult, 'elapsedMs'>> {
  const { JsonDuckDBValueConverter } = await loadDuckDB();
  const columns = result.columnNames().map((name, i) => ({
    name,
    type: result.columnType(i).toString(),
    nullable: true,
  }));
  const rows: unknown[][] = [];
  let bytes = 0;
  let truncated = false;
  outer: for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    for (const raw of chunk.convertRows(JsonDuckDBValueConverter) as unknown[][]) {
      const row = raw.map(cleanValue);
      const size = Buffer.byteLength(JSON.stringify(row));
      if (rows.length >= maxRows || (bytes + size > maxBytes && rows.length > 0)) {
        truncated = true;
        break outer;
      }
      rows.push(row);
      bytes += size;
    }
  }
  return { columns, rows, truncated };
}

async function readWithSpill(
  result: DuckDBResult,
  options: QueryOptions,
  name: string,
  started: number,
): Promise<QueryResult> {
  const { JsonDuckDBValueConverter } = await loadDuckDB();
  const columns = result
    .columnNames()
    .map((n, i) => ({ name: n, type: result.columnType(i).toString(), nullable: true }));
  const shown: unknown[][] = [];
  let shownBytes = 0;
  let truncated = false;
  const limit = options.spillMaxRows ?? 1_000_000;
  let complete = true;
  async function* all(): AsyncGenerator<unknown[]> {
    let n = 0;
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) return;
      for (const raw of chunk.convertRows(JsonDuckDBValueConverter) as unknown[][]) {
        if (n >= limit) {
          complete = false;
          return;
        }
        const row = raw.map(cleanValue);
        n++;
        const size = Buffer.byteLength(JSON.stringify(row));
        if (
          !truncated &&
          shown.length < options.maxRows &&
          (shownBytes + size <= options.maxBytes || shown.length === 0)
        ) {
          shown.push(row);
          shownBytes += size;
        } else truncated = true;
        yield row;
      }
    }
  }
  const spill = await spillCsv({
    columns: columns.map((c) => c.name),
    rows: all(),
    dir: options.spillDir!,
    name,
  });
  return {
    columns,
    rows: shown,
    truncated,
    elapsedMs: Math.round(performance.now() - started),
    spill: { ...spill, complete },
  };
}

export function fileSize(path: string): number {
  return statSync(path).size;
}
