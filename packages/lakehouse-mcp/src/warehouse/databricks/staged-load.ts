/** A load staged as Parquet parts in the tenant's volume, then COPY INTO / CREATE OR REPLACE at commit. */
import { rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { CancelledError } from '@switchyard/core';
import * as dx from './dialect.js';
import * as duck from '../duckdb/dialect.js';
import { bronzeColumnNames } from '../../naming.js';
import type {
  ColumnInfo,
  ColumnSpec,
  CommitRecords,
  FileSpec,
  LogicalType,
  PartColumn,
  StagedLoad,
  Statement,
  TableRef,
} from '../types.js';
import { loadDuckDB } from '../duckdb/query.js';
import { checkMergeColumns } from '../write-checks.js';
import type { DatabricksTenant } from './tenant.js';

/** A run's folder, locally and in the volume: the process and run it belongs to. */
export const RUN_DIR = (pid: number, runId: string) => `run-${pid}-${runId}`;

const NUMERIC_KINDS = new Set(['int16', 'int32', 'int64', 'float32', 'float64', 'decimal']);

/**
 * A load into Databricks: each part is converted to Parquet on this machine (an in-memory DuckDB), PUT into
 * the landing volume under the run's own folder, and removed locally; commit builds the table from the run's
 * files in one statement (full) or COPY INTO a staging table and MERGE (incremental).
 */
export class DatabricksStagedLoad implements StagedLoad {
  rows = 0;
  private engine: { instance: DuckDBInstance; conn: DuckDBConnection } | undefined;
  private columns: ColumnSpec[] | undefined;
  private readonly remoteFiles: string[] = [];
  private readonly maxes = new Map<string, string>();
  private part = 0;
  private done = false;
  private stagingCreated = false;
  private readonly remoteDir: string;
  private readonly staging: TableRef;

  constructor(
    private readonly tenant: DatabricksTenant,
    private readonly target: TableRef,
    runId: string,
    readonly workDir: string,
  ) {
    this.remoteDir = `${tenant.naming.volumePath}/${target.layer}_${target.name}/${RUN_DIR(process.pid, runId)}`;
    this.staging = { layer: target.layer, name: `_stage_${process.pid}_${runId}` };
  }

  private async duck(): Promise<DuckDBConnection> {
    if (!this.engine) {
      const { DuckDBInstance } = await loadDuckDB();
      const instance = await DuckDBInstance.create(':memory:', {
        threads: '2',
        memory_limit: this.tenant.warehouse.settings.loadMemoryLimit ?? '128MB',
        autoinstall_known_extensions: 'false',
        autoload_known_extensions: 'false',
      });
      this.engine = { instance, conn: await instance.connect() };
    }
    return this.engine.conn;
  }

  private async rowsOf(statement: Statement): Promise<unknown[][]> {
    const conn = await this.duck();
    const reader = await conn.runAndReadAll(statement.sql, statement.params as never);
    return reader.getRowsJS() as unknown[][];
  }

  /** Convert, measure, PUT, and forget the local copy. */
  private async ship(parquet: string, columns: ColumnSpec[]): Promise<number> {
    const stats = (
      await this.rowsOf(
        duck.parquetStats(
          parquet,
          columns.map((c) => c.name),
        ),
      )
    )[0]!;
    columns.forEach((c, i) => {
      const value = stats[i + 1];
      if (value === null || value === undefined) return;
      const text = String(value);
      const prev = this.maxes.get(c.name);
      if (prev === undefined || greater(text, prev, c.type)) this.maxes.set(c.name, text);
    });
    const remote = `${this.remoteDir}/${basename(parquet)}`;
    await this.tenant.put(parquet, remote, this.workDir);
    this.remoteFiles.push(remote);
    rmSync(parquet, { force: true });
    return Number(stats[0]);
  }

  async appendCsvPart(path: string, columns: PartColumn[]): Promise<number> {
    this.columns ??= columns.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable }));
    const out = join(this.workDir, `part-${String(this.part++).padStart(5, '0')}.parquet`);
    const conn = await this.duck();
    const statement = duck.csvPartToParquet(path, columns, out);
    await conn.run(statement.sql, statement.params as never);
    const n = await this.ship(out, this.columns);
    this.rows += n;
    return n;
  }

  async appendFile(spec: FileSpec): Promise<{ rows: number; columns: ColumnInfo[] }> {
    const read = duck.readFile(spec);
    const select = spec.columns ? `SELECT ${duck.renameDeclared(spec.columns)} FROM (${read.sql})` : read.sql;
    const described = await this.rowsOf({ sql: duck.describeSelect(select), params: read.params });
    // The naming rule of tables applies to the file's columns too (the Parquet part carries the bronze names).
    const names = bronzeColumnNames(described.map((r) => String(r[0])));
    const fileColumns = described.map((r, i) => ({
      name: String(r[0]),
      as: names[i]!,
      type: duck.logicalOf(String(r[1])) ?? ({ kind: 'text' } as LogicalType),
    }));
    const columns = fileColumns.map((c) => ({ name: c.as, type: c.type, nullable: true }));
    this.columns = columns;
    const out = join(this.workDir, `part-${String(this.part++).padStart(5, '0')}.parquet`);
    const statement = duck.fileToParquet({ sql: select, params: read.params }, fileColumns, out);
    const conn = await this.duck();
    await conn.run(statement.sql, statement.params as never);
    this.rows = await this.ship(out, columns);
    return {
      rows: this.rows,
      columns: columns.map((c) => ({ name: c.name, type: dx.typeName(c.type), nullable: true })),
    };
  }

  async maxOf(column: string): Promise<string | null> {
    return this.maxes.get(column) ?? null;
  }

  async commit(
    mode: 'replace' | 'merge',
    keys: string[],
    records: CommitRecords,
    signal: AbortSignal,
  ): Promise<{ rows: number }> {
    const n = this.tenant.naming;
    const columns = this.columns ?? [{ name: 'placeholder', type: { kind: 'int32' }, nullable: true }];
    try {
      const existing = await this.tenant.columnsOf(this.target);
      if (mode === 'merge' && existing) {
        const have = existing.map((c) => `${c.name} ${c.type.toLowerCase()}`);
        const incoming = columns.map((c) => `${c.name} ${dx.typeName(c.type).toLowerCase()}`);
        checkMergeColumns(this.target, have, incoming);
        if (this.remoteFiles.length > 0) {
          this.stagingCreated = true;
          await this.tenant.load(dx.createStaging(n, this.staging, columns), signal);
          await this.tenant.load(dx.copyInto(n, this.staging, this.remoteDir), signal, true);
          if (signal.aborted) throw new CancelledError();
          await this.tenant.load(
            dx.mergeFrom(n, this.target, this.staging, keys, records.state?.cursorColumn),
            signal,
          );
        }
      } else if (this.remoteFiles.length > 0) {
        if (signal.aborted) throw new CancelledError();
        await this.tenant.load(dx.replaceFromFiles(n, this.target, this.remoteDir, columns), signal);
      } else {
        await this.tenant.load(dx.replaceEmpty(n, this.target, columns), signal);
      }
      // Delta has no transaction across tables: the records follow the data they describe.
      await this.tenant.commitRecords(records);
      return { rows: await this.tenant.rowCount(this.target) };
    } finally {
      await this.abort();
    }
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    const n = this.tenant.naming;
    try {
      if (this.stagingCreated) {
        await this.tenant
          .load(dx.dropTableIfExists(n, this.staging), new AbortController().signal)
          .catch(() => {});
      }
      for (const remote of this.remoteFiles) {
        await this.tenant.removeRemote(remote, this.workDir).catch(() => {});
      }
    } finally {
      this.engine?.conn.closeSync();
      this.engine?.instance.closeSync();
      this.engine = undefined;
      rmSync(this.workDir, { recursive: true, force: true });
    }
  }
}

/** Compare two maxima as text by their logical type (numbers as numbers; ISO dates and text as text). */
function greater(a: string, b: string, type: LogicalType): boolean {
  if (NUMERIC_KINDS.has(type.kind)) {
    if (/^-?\d+$/.test(a) && /^-?\d+$/.test(b)) return BigInt(a) > BigInt(b);
    return Number(a) > Number(b);
  }
  return a > b;
}
