/** A write connection held across a load's steps (see warehouse.ts for the turns on the file). */
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { TenantFile } from './tenant-file.js';

/** A write connection held across the steps of a load; between steps it lets waiting readers and writers in. */
export class WriteSession {
  private release: (() => void) | undefined;
  private engine: { instance: DuckDBInstance; conn: DuckDBConnection } | undefined;

  constructor(
    private readonly tenant: TenantFile,
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
