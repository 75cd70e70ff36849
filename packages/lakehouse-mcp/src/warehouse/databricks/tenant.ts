/** One tenant on Databricks: a catalog (or schemas of a shared one) and what the tools ask of it. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CancelledError, PermissionError, UpstreamError, UserInputError, untrusted } from '@switchyard/core';
import * as dx from './dialect.js';
import { MetaStore } from '../meta-store.js';
import { checkQuery, mapLayers } from './sql-check.js';
import { insightsFrom } from '../insight-rows.js';
import { existingColumns, profilesFrom, tableSummaryOf } from '../catalog-rows.js';
import { checkViewTarget, transformError, viewLineage } from '../write-checks.js';
import type {
  ColumnInfo,
  ColumnProfile,
  CommitRecords,
  Layer,
  LineageRecord,
  LogicalType,
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
import { errorClass, databricksMessage, MISSING, DENIED, isCancelled, connectionError } from './driver.js';
import { runOn, runQuery } from './query.js';
import type { DatabricksWarehouse } from './warehouse.js';
import { DatabricksStagedLoad, RUN_DIR } from './staged-load.js';

export class DatabricksTenant implements TenantWarehouse {
  readonly dialect = 'databricks' as const;
  readonly naming: dx.Naming;
  readonly spillDir: string;
  readonly workDir: string;
  /** Sources, sync state, runs and lineage, in the tenant's `_meta` schema. */
  readonly meta: MetaStore;
  private bootstrapped: Promise<void> | undefined;

  constructor(
    readonly warehouse: DatabricksWarehouse,
    readonly tenant: string,
  ) {
    this.naming = dx.naming(tenant, warehouse.settings.sharedCatalog);
    this.meta = new MetaStore(
      {
        read: (s) => this.readMeta(s.sql, s.params as Record<string, unknown> | undefined),
        write: async (statements) => {
          await this.ensureBootstrapped();
          for (const s of statements)
            await this.write(s.sql, s.params as Record<string, unknown> | undefined);
        },
      },
      dx.metaSql(this.naming),
    );
    const dir = join(warehouse.settings.home, 'databricks', `tenant_${tenant}`);
    this.spillDir = join(dir, 'spill');
    this.workDir = join(dir, 'work');
  }

  get catalog(): string {
    return this.naming.tenantCatalog;
  }

  get location(): string {
    return this.naming.shared
      ? `schemas ${this.naming.schema('bronze')}/silver/gold of catalog ${this.naming.catalog}`
      : `catalog ${this.naming.catalog}`;
  }

  logicalType(engineType: string): LogicalType | undefined {
    return dx.logicalOf(engineType);
  }

  engineMessage(err: unknown): string {
    return err instanceof Error && 'kind' in err ? err.message : databricksMessage(err);
  }

  private ref(ref: TableRef): string {
    return `${ref.layer}.${ref.name}`;
  }

  /** A statement error in words; `what` says what was being done. */
  fail(err: unknown, what: 'query' | 'write' | 'read'): Error {
    if (err instanceof Error && 'kind' in err) return err;
    const conn = connectionError(err, this.warehouse.settings.host);
    if (conn) return conn;
    if (isCancelled(err)) return new CancelledError();
    const cls = errorClass(err);
    // Databricks' own words (they quote names and values from the data): one bounded, quoted line.
    const message = untrusted(databricksMessage(err), 300);
    if (cls && DENIED.has(cls)) {
      return new PermissionError(`Databricks refused a privilege: ${message}`, {
        hint:
          what === 'write'
            ? `Ask a workspace admin to grant the principal USE CATALOG and CREATE SCHEMA on ${this.naming.catalog}, and CREATE TABLE, MODIFY, READ VOLUME and WRITE VOLUME on its schemas`
            : `Ask a workspace admin to grant the principal USE CATALOG, USE SCHEMA and SELECT on ${this.naming.catalog}`,
      });
    }
    if (what === 'query' && cls && MISSING.has(cls)) {
      return new UserInputError(
        `The query refers to something that does not exist in ${this.catalog}: ${message}`,
        {
          hint: "Only this tenant's tables can be queried; call lakehouse_list_tables to see them",
        },
      );
    }
    if (what === 'query' && cls) return new UserInputError(`Databricks refused the query: ${message}`);
    if (what === 'write' && cls) {
      return new UserInputError(`Databricks refused the change: ${message}`, { hint: 'Nothing was changed' });
    }
    return new UpstreamError(`Databricks could not run the statement: ${message}`);
  }

  private async read(sql: string, params?: Record<string, unknown>, signal?: AbortSignal) {
    try {
      return await this.warehouse.run(sql, { ...(params ? { params } : {}), ...(signal ? { signal } : {}) });
    } catch (err) {
      throw this.fail(err, 'read');
    }
  }

  /** Metadata reads: a catalog nobody loaded into yet has no metadata tables, which means "nothing". */
  private async readMeta(sql: string, params?: Record<string, unknown>): Promise<unknown[][]> {
    try {
      return (await this.warehouse.run(sql, params ? { params } : {})).rows;
    } catch (err) {
      const cls = errorClass(err);
      if (cls && MISSING.has(cls)) return [];
      throw this.fail(err, 'read');
    }
  }

  private async write(sql: string, params?: Record<string, unknown>, signal?: AbortSignal) {
    try {
      return await this.warehouse.run(sql, { ...(params ? { params } : {}), ...(signal ? { signal } : {}) });
    } catch (err) {
      throw this.fail(err, 'write');
    }
  }

  /** Catalog (or schemas), volume and metadata tables, once per process, before the first write. */
  ensureBootstrapped(): Promise<void> {
    this.bootstrapped ??= (async () => {
      for (const statement of dx.bootstrap(this.naming)) {
        try {
          await this.warehouse.run(statement);
        } catch (err) {
          const cls = errorClass(err);
          if (cls && DENIED.has(cls) && /^CREATE CATALOG/.test(statement)) {
            throw new PermissionError(
              `The Databricks principal may not create the catalog ${this.naming.catalog}: ${untrusted(databricksMessage(err), 300)}`,
              {
                hint: `Ask an admin to create it (CREATE CATALOG ${this.naming.catalog}) and grant the principal USE CATALOG, CREATE SCHEMA on it, or set LAKEHOUSE_DATABRICKS_CATALOG to an existing catalog where it may create schemas`,
              },
            );
          }
          throw this.fail(err, 'write');
        }
      }
    })();
    this.bootstrapped.catch(() => (this.bootstrapped = undefined));
    return this.bootstrapped;
  }

  // ---- catalog

  async listTables(layer?: Layer): Promise<TableSummary[]> {
    let rows: unknown[][];
    try {
      const s = dx.listTables(this.naming, layer);
      rows = (await this.warehouse.run(s.sql, { params: s.params })).rows;
    } catch (err) {
      const cls = errorClass(err);
      if (!cls || !MISSING.has(cls)) throw this.fail(err, 'read');
      const s = dx.listTablesPlain(this.naming, layer);
      rows = await this.readMeta(s.sql, s.params);
    }
    const layerOf = (schema: string): Layer =>
      schema === this.naming.schema('bronze')
        ? 'bronze'
        : schema === this.naming.schema('silver')
          ? 'silver'
          : 'gold';
    return rows.map((r) => tableSummaryOf(r, { layer: layerOf, time: (v) => dx.isoOf(String(v)) }));
  }

  async columnsOf(ref: TableRef): Promise<ColumnInfo[] | undefined> {
    const s = dx.columnsOf(this.naming, ref);
    const rows = await this.readMeta(s.sql, s.params);
    if (rows.length === 0) return undefined;
    return rows.map((r) => ({
      name: String(r[0]),
      type: String(r[1]),
      nullable: String(r[2]).toUpperCase() === 'YES',
    }));
  }

  async rowCount(ref: TableRef): Promise<number> {
    return Number((await this.read(dx.countRows(this.naming, ref))).rows[0]?.[0] ?? 0);
  }

  async details(ref: TableRef): Promise<TableDetails | undefined> {
    try {
      const { columns, rows } = await this.warehouse.run(dx.describeDetail(this.naming, ref));
      const row = rows[0];
      if (!row) return undefined;
      const at = (name: string) => row[columns.findIndex((c) => c.name === name)];
      return {
        format: String(at('format') ?? 'delta'),
        files: at('numFiles') === undefined || at('numFiles') === null ? undefined : Number(at('numFiles')),
        sizeBytes:
          at('sizeInBytes') === undefined || at('sizeInBytes') === null
            ? undefined
            : Number(at('sizeInBytes')),
        lastModified: at('lastModified') ? dx.isoOf(String(at('lastModified'))) : undefined,
      };
    } catch {
      // Views have no detail; a detail that cannot be read is not worth failing a description for.
      return undefined;
    }
  }

  async inspect(ref: TableRef, columns: ColumnInfo[], signal: AbortSignal): Promise<TableInsights> {
    const total = await this.rowCount(ref);
    const s = dx.inspect(this.naming, ref, columns, total);
    const row = (await this.read(s.sql, s.params, signal)).rows[0]!;
    return insightsFrom(row, columns, total);
  }

  renderDraft(draft: QueryDraft): string {
    return dx.renderDraft(draft);
  }

  async profile(
    ref: TableRef,
    options: { topValues: number; signal: AbortSignal },
  ): Promise<ColumnProfile[]> {
    const columns = await existingColumns(this, ref);
    const total = await this.rowCount(ref);
    const stats = (await this.read(dx.profile(this.naming, ref, columns, total), undefined, options.signal))
      .rows[0]!;
    return profilesFrom(stats, columns, {
      isText: dx.DATABRICKS.engineType.text,
      topValues: options.topValues,
      top: async (column) =>
        (
          await this.read(
            dx.topValues(this.naming, ref, column, options.topValues, total),
            undefined,
            options.signal,
          )
        ).rows.map((v) => ({ value: String(v[0]), count: Number(v[1]) })),
    });
  }

  async preview(ref: TableRef, rows: number): Promise<QueryResult> {
    const started = performance.now();
    const result = await this.read(dx.preview(this.naming, ref, rows));
    return {
      columns: result.columns,
      rows: result.rows,
      truncated: false,
      elapsedMs: Math.round(performance.now() - started),
    };
  }

  // ---- the checked query path

  async validateQuery(text: string, signal?: AbortSignal): Promise<QueryPlan> {
    const checked = await checkQuery(text, this.naming);
    const session = {
      catalog: this.naming.catalog,
      schema: this.naming.schema('bronze'),
      timeoutSeconds: 60,
    };
    try {
      const plan = await runOn(this, session, dx.explain(checked.sql), signal);
      const planText = plan.rows.map((r) => String(r[0] ?? '')).join('\n');
      const failure = /Error occurred during query planning:\s*([\s\S]*)/.exec(planText);
      if (failure) throw Object.assign(new Error(failure[1]!.trim()), { planning: true });
      const described = await runOn(this, session, dx.describeQuery(checked.sql), signal);
      const columns = described.rows.map((r) => ({ name: String(r[0]), type: String(r[1]), nullable: true }));
      return { columns, tables: checked.tables };
    } catch (err) {
      throw this.fail(err, 'query');
    }
  }

  async query(text: string, options: QueryOptions): Promise<QueryResult> {
    const checked = await checkQuery(text, this.naming);
    return runQuery(this, checked.sql, options);
  }

  // ---- loads

  async stage(target: TableRef, runId: string): Promise<StagedLoad> {
    await this.ensureBootstrapped();
    const workDir = join(this.workDir, RUN_DIR(process.pid, runId));
    mkdirSync(workDir, { recursive: true, mode: 0o700 });
    return new DatabricksStagedLoad(this, target, runId, workDir);
  }

  async commitRecords(records: CommitRecords): Promise<void> {
    await this.ensureBootstrapped();
    for (const statement of this.meta.commitStatements(records))
      await this.write(statement.sql, statement.params as Record<string, unknown> | undefined);
  }

  /** Run a load statement; `retry` once for idempotent ones (COPY INTO skips files it has loaded). */
  async load(sql: string, signal: AbortSignal, retry = false): Promise<void> {
    try {
      await this.warehouse.run(sql, { signal });
    } catch (err) {
      if (retry && !signal.aborted && !errorClass(err) && !isCancelled(err)) {
        this.warehouse.log.warn(`retrying an idempotent load after: ${databricksMessage(err)}`);
        await this.write(sql, undefined, signal);
        return;
      }
      throw this.fail(err, 'write');
    }
  }

  async put(local: string, remote: string, allowed: string): Promise<void> {
    try {
      await this.warehouse.run(dx.put(local, remote), { staging: allowed });
    } catch (err) {
      throw this.fail(err, 'write');
    }
  }

  async removeRemote(remote: string, allowed: string): Promise<void> {
    await this.warehouse.run(dx.remove(remote), { staging: allowed });
  }

  // ---- transforms and views

  renderTransform(plan: TransformPlan): Statement {
    const r = dx.renderTransform(this.naming, plan);
    return { sql: r.sql, params: r.params };
  }

  async previewTransform(plan: TransformPlan, rows: number): Promise<QueryResult> {
    const r = dx.renderTransform(this.naming, plan);
    const started = performance.now();
    try {
      const result = await this.warehouse.run(dx.previewSelect(r.sql, rows), { params: r.named });
      return { ...result, truncated: false, elapsedMs: Math.round(performance.now() - started) };
    } catch (err) {
      throw transformError(err, (e) => this.engineMessage(e));
    }
  }

  async runTransform(plan: TransformPlan, lineage: LineageRecord): Promise<{ rows: number }> {
    await this.ensureBootstrapped();
    const r = dx.renderTransform(this.naming, plan);
    try {
      await this.warehouse.run(dx.createTableAs(this.naming, plan.target, r.sql), { params: r.named });
    } catch (err) {
      throw transformError(err, (e) => this.engineMessage(e));
    }
    await this.meta.saveLineage(lineage);
    return { rows: await this.rowCount(plan.target) };
  }

  async createView(ref: TableRef, selectSql: string, replace: boolean): Promise<QueryPlan> {
    const checked = await this.validateQuery(selectSql);
    const lineage = viewLineage(ref, selectSql, checked.tables);
    await this.ensureBootstrapped();
    const s = dx.objectKind(this.naming, ref);
    const kind = (await this.readMeta(s.sql, s.params))[0]?.[0] as string | undefined;
    checkViewTarget(ref, Boolean(kind), replace);
    // Names in a view are resolved when it is read: every layer is qualified with the tenant's catalog, and
    // the view is created from a session in the tenant's bronze schema, which Spark stores with the view for
    // the names left unqualified.
    const body = mapLayers(selectSql, this.naming, { qualify: true });
    if (kind && kind.toUpperCase() !== 'VIEW') await this.write(dx.dropTableIfExists(this.naming, ref));
    try {
      await runOn(
        this,
        { catalog: this.naming.catalog, schema: this.naming.schema('bronze') },
        dx.createView(this.naming, ref, body, replace),
      );
    } catch (err) {
      throw this.fail(err, 'write');
    }
    await this.meta.saveLineage(lineage);
    return checked;
  }

  // ---- metadata

  toString(): string {
    return this.ref({ layer: 'bronze', name: this.catalog });
  }
}
