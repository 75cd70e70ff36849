/** A load staged in a hidden table beside its target: parts, the sync feed, files, and the commit. */
import { rmSync, statSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import * as sql from './dialect.js';
import { bronzeColumnNames } from '../../naming.js';
import { loadDuckDB } from './query.js';
import { FifoCsvFeed, feedsSupported } from './csv-feed.js';
import type {
  ColumnInfo,
  CommitRecords,
  CsvFeed,
  FileSpec,
  PartColumn,
  StagedLoad,
  TableRef,
} from '../types.js';
import type { DuckDbTenant } from './tenant.js';
import type { WriteSession } from './write-session.js';

const RECYCLE_BYTES = 128 * 1024 * 1024;
/** What a feed may hold between the source and DuckDB: enough to cover an engine replacement. */
const FEED_QUEUE_BYTES = 16 * 1024 * 1024;

/** A load staged in a hidden table next to its target, in the tenant's own file. */
export class DuckDbStagedLoad implements StagedLoad {
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
