/** One tenant's DuckDB file: its engines (a short-lived writer, a warm reader, the query process) and the turns
 * on the file in this process and among processes. The tenant's catalog operations are in tenant.ts. */
import { accessSync, chmodSync, constants, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { CancelledError, type Logger } from '@switchyard/core';
import * as sql from './dialect.js';
import { fsFailure, loadDuckDB, openEngine } from './query.js';
import type { FifoCsvFeed } from './csv-feed.js';
import { QuerySandbox } from './query-sandbox.js';
import { HostLock, hostSocketPath } from './host-lock.js';
import { RwLock } from '../rwlock.js';
import type { Layer } from '../types.js';
import { WriteSession } from './write-session.js';
import type { DuckDbWarehouseOptions } from './warehouse.js';

const pathLiteral = sql.stringLiteral;
/** Read engines nobody used for this long are closed (the assistant's pauses between turns are shorter). */
const READ_IDLE_MS = 10 * 60_000;

export class TenantFile {
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
  protected readonly sandbox: QuerySandbox;
  private idleTimer: NodeJS.Timeout | undefined;
  protected readonly log: Logger;

  constructor(
    readonly tenant: string,
    protected readonly options: DuckDbWarehouseOptions,
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
        try {
          return await this.onConnection(conn, fn);
        } finally {
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
      return this.onConnection(await (await opening).connect(), fn);
    });
  }

  /** Run on a connection counted as running (the server interrupts it when it stops), then close it. */
  private async onConnection<T>(
    conn: DuckDBConnection,
    fn: (conn: DuckDBConnection) => Promise<T>,
  ): Promise<T> {
    this.running.add(conn);
    try {
      return await fn(conn);
    } finally {
      this.running.delete(conn);
      conn.closeSync();
    }
  }

  /**
   * Run under this process's read lock and the read turn among processes. The engines stay open afterwards, so
   * the next call runs warm; they close when a writer asks for the file, or after {@link READ_IDLE_MS} unused.
   */
  protected readTurn<T>(fn: () => Promise<T>): Promise<T> {
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

  protected async rows(conn: DuckDBConnection, text: string, params: unknown[] = []): Promise<unknown[][]> {
    const { JsonDuckDBValueConverter } = await loadDuckDB();
    const reader = await conn.runAndReadAll(text, params as never);
    return reader.convertRows(JsonDuckDBValueConverter) as unknown[][];
  }
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
