/** One tenant's DuckDB catalog: what the tools ask of its tables, views and loads. Its file, engines and the
 * turns on them are in tenant-file.ts. */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { CancelledError } from '@switchyard/core';
import * as sql from './dialect.js';
import { duckMessage, fsFailure, queryError, readBounded } from './query.js';
import { insightsFrom } from '../insight-rows.js';
import { existingColumns, profilesFrom, tableSummaryOf } from '../catalog-rows.js';
import { checkMergeColumns, checkViewTarget, transformError, viewLineage } from '../write-checks.js';
import { MetaStore } from '../meta-store.js';
import type {
  ColumnInfo,
  ColumnProfile,
  CommitRecords,
  Layer,
  LineageRecord,
  QueryDraft,
  QueryOptions,
  QueryPlan,
  QueryResult,
  StagedLoad,
  Statement,
  TableDetails,
  TableInsights,
  TableRef,
  TableSummary,
  TenantWarehouse,
  TransformPlan,
} from '../types.js';
import { DuckDbStagedLoad } from './staged-load.js';
import { TenantFile } from './tenant-file.js';

export class DuckDbTenant extends TenantFile implements TenantWarehouse {
  readonly dialect = 'duckdb' as const;
  /** Sources, sync state, runs and lineage, in the tenant's `_meta` schema. */
  readonly meta = new MetaStore(
    {
      read: (s) => this.read((conn) => this.rows(conn, s.sql, s.params as unknown[] | undefined)),
      write: (statements) =>
        this.write(async (conn) => {
          await conn.run('BEGIN TRANSACTION');
          try {
            for (const s of statements) await conn.run(s.sql, s.params as never);
            await conn.run('COMMIT');
          } catch (err) {
            await conn.run('ROLLBACK').catch(() => {});
            throw err;
          }
        }),
    },
    sql.META,
  );

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

  async inspect(ref: TableRef, columns: ColumnInfo[], signal: AbortSignal): Promise<TableInsights> {
    const total = await this.rowCount(ref);
    const statement = sql.inspect(ref, columns, total);
    return this.read(async (conn) => {
      const stop = () => conn.interrupt();
      signal.addEventListener('abort', stop);
      try {
        const row = (await this.rows(conn, statement.sql, statement.params))[0]!;
        return insightsFrom(row, columns, total);
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
      return rows.map((r) => tableSummaryOf(r, { layer: (schema) => schema as Layer, time: String }));
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
    const columns = await existingColumns(this, ref);
    return this.read(async (conn) => {
      const stop = () => conn.interrupt();
      options.signal.addEventListener('abort', stop);
      try {
        const stats = (await this.rows(conn, sql.profile(ref, columns)))[0]!;
        return await profilesFrom(stats, columns, {
          isText: sql.DUCKDB.engineType.text,
          topValues: options.topValues,
          top: async (column) =>
            (await this.rows(conn, sql.topValues(ref, column), [options.topValues])).map((v) => ({
              value: v[0] as string,
              count: Number(v[1]),
            })),
        });
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

  async validateQuery(text: string, signal?: AbortSignal): Promise<QueryPlan> {
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
        checkMergeColumns(target, await describe(target), await describe(staging));
        for (const s of sql.mergeFrom(target, staging, keys, records.state?.cursorColumn)) await conn.run(s);
        await conn.run(sql.dropTableIfExists(staging));
      } else {
        if (kind) await conn.run(sql.dropObject(target, kind));
        await conn.run(sql.renameTable(staging, target.name));
      }
      for (const m of this.meta.commitStatements(records)) await conn.run(m.sql, m.params as never);
      if (signal.aborted) throw new CancelledError();
      await conn.run('COMMIT');
    } catch (err) {
      await conn.run('ROLLBACK').catch(() => {});
      throw err;
    }
    return { rows: Number((await this.rows(conn, sql.countRows(target)))[0]![0]) };
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
        throw transformError(err, duckMessage);
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
        for (const m of this.meta.lineageStatements(lineage)) await conn.run(m.sql, m.params as never);
        await conn.run('COMMIT');
      } catch (err) {
        await conn.run('ROLLBACK').catch(() => {});
        throw transformError(err, duckMessage);
      }
      return { rows: Number((await this.rows(conn, sql.countRows(plan.target)))[0]![0]) };
    });
  }

  async createView(ref: TableRef, selectSql: string, replace: boolean): Promise<QueryPlan> {
    // Checked on the hardened engine first: one read-only query over this tenant's tables, no file access.
    const checked = await this.validateQuery(selectSql);
    const lineage = viewLineage(ref, selectSql, checked.tables);
    await this.write(async (conn) => {
      const kind = (await this.rows(conn, sql.OBJECT_KIND, [ref.layer, ref.name]))[0]?.[0] as
        string | undefined;
      checkViewTarget(ref, Boolean(kind), replace);
      await conn.run('BEGIN TRANSACTION');
      try {
        if (kind) await conn.run(sql.dropObject(ref, kind as 'table' | 'view'));
        await conn.run(sql.createView(ref, selectSql));
        for (const m of this.meta.lineageStatements(lineage)) await conn.run(m.sql, m.params as never);
        await conn.run('COMMIT');
      } catch (err) {
        await conn.run('ROLLBACK').catch(() => {});
        throw queryError(err, this.catalog);
      }
    });
    return checked;
  }
}
