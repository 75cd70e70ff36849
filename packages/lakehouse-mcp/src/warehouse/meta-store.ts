/**
 * The tenant's own records, once for every engine: registered sources (never their passwords), sync state
 * (watermark, keys, the source's snapshot), the run history and lineage, in the `_meta` schema next to the data.
 * Each engine supplies its SQL (`MetaSql`, in its dialect file) and a small executor; reading rows back into
 * records happens here.
 */
import type {
  CommitRecords,
  ConnectionRecord,
  Layer,
  LineageRecord,
  SyncRunRecord,
  SyncState,
  TableRef,
} from './types.js';

/** A statement with positional (DuckDB) or named (Databricks) parameters. */
export interface MetaStatement {
  sql: string;
  params?: unknown[] | Record<string, unknown> | undefined;
}

/** An engine's statements for the records; a save may take several statements (run together by the executor). */
export interface MetaSql {
  selectConnections(): MetaStatement;
  saveConnection(c: ConnectionRecord): MetaStatement[];
  selectState(target: string): MetaStatement;
  saveState(s: SyncState): MetaStatement[];
  insertRun(run: SyncRunRecord): MetaStatement;
  selectRuns(limit: number): MetaStatement;
  selectLineage(ref: TableRef): MetaStatement;
  saveLineage(l: LineageRecord): MetaStatement[];
  /** A stored time as the ISO text the records carry. */
  time(value: unknown): string;
}

export interface MetaExecutor {
  /** Rows of one statement; a catalog without metadata tables yet answers none. */
  read(statement: MetaStatement): Promise<unknown[][]>;
  /** Statements that belong together, in one transaction where the engine has them. */
  write(statements: MetaStatement[]): Promise<void>;
}

const text = (v: unknown): string => String(v);
const optional = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : String(v));

export class MetaStore {
  constructor(
    private readonly exec: MetaExecutor,
    private readonly sql: MetaSql,
  ) {}

  async listConnections(): Promise<ConnectionRecord[]> {
    return (await this.exec.read(this.sql.selectConnections())).map((r) => ({
      name: text(r[0]),
      kind: 'postgres' as const,
      host: text(r[2]),
      port: Number(r[3]),
      database: text(r[4]),
      user: text(r[5]),
      sslMode: r[6] as ConnectionRecord['sslMode'],
      createdAt: this.sql.time(r[7]),
      updatedAt: this.sql.time(r[8]),
    }));
  }

  async getConnection(name: string): Promise<ConnectionRecord | undefined> {
    return (await this.listConnections()).find((c) => c.name === name);
  }

  saveConnection(c: ConnectionRecord): Promise<void> {
    return this.exec.write(this.sql.saveConnection(c));
  }

  async getSyncState(target: string): Promise<SyncState | undefined> {
    const r = (await this.exec.read(this.sql.selectState(target)))[0];
    if (!r) return undefined;
    return {
      target: text(r[0]),
      connection: text(r[1]),
      source: text(r[2]),
      cursorColumn: text(r[3]),
      keyColumns: JSON.parse(text(r[4])) as string[],
      watermark: optional(r[5]) ?? null,
      sourceSnapshot: optional(r[6]) ?? null,
    };
  }

  recordRun(run: SyncRunRecord): Promise<void> {
    return this.exec.write([this.sql.insertRun(run)]);
  }

  async lastRuns(limit: number): Promise<SyncRunRecord[]> {
    return (await this.exec.read(this.sql.selectRuns(limit))).map((r) => ({
      runId: text(r[0]),
      kind: r[1] as 'sync' | 'upload',
      connection: optional(r[2]),
      source: text(r[3]),
      target: { layer: r[4] as Layer, name: text(r[5]) },
      mode: r[6] as 'full' | 'incremental',
      status: r[7] as SyncRunRecord['status'],
      startedAt: new Date(this.sql.time(r[8])),
      finishedAt: new Date(this.sql.time(r[9])),
      rows: Number(r[10]),
      bytes: Number(r[11]),
      watermark: optional(r[12]),
      error: optional(r[13]),
    }));
  }

  async lineageOf(ref: TableRef): Promise<LineageRecord | undefined> {
    const r = (await this.exec.read(this.sql.selectLineage(ref)))[0];
    if (!r) return undefined;
    return {
      target: { layer: r[0] as Layer, name: text(r[1]) },
      kind: r[2] as LineageRecord['kind'],
      inputs: JSON.parse(text(r[3])) as string[],
      definition: text(r[4]),
    };
  }

  saveLineage(l: LineageRecord): Promise<void> {
    return this.exec.write(this.sql.saveLineage(l));
  }

  /** A table's lineage, for the caller to run in the transaction that makes the table. */
  lineageStatements(l: LineageRecord): MetaStatement[] {
    return this.sql.saveLineage(l);
  }

  /** What a commit records with its data: the run, the sync state where there is one, and the lineage. */
  commitStatements(records: CommitRecords): MetaStatement[] {
    return [
      this.sql.insertRun(records.run),
      ...(records.state ? this.sql.saveState(records.state) : []),
      ...this.sql.saveLineage(records.lineage),
    ];
  }
}

/** A run's columns in the order of `_meta.sync_runs`. */
export function runColumns(run: SyncRunRecord): Record<string, unknown> {
  return {
    run_id: run.runId,
    kind: run.kind,
    connection: run.connection ?? null,
    source: run.source,
    target_layer: run.target.layer,
    target_name: run.target.name,
    mode: run.mode,
    status: run.status,
    started_at: run.startedAt.toISOString(),
    finished_at: run.finishedAt.toISOString(),
    rows: run.rows,
    bytes: run.bytes,
    duration_ms: Math.round(run.finishedAt.getTime() - run.startedAt.getTime()),
    watermark: run.watermark ?? null,
    error: run.error ?? null,
  };
}
