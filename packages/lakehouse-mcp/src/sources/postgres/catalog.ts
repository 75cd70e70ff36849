/**
 * What a PostgreSQL source holds: the connection's report (version, user, readable tables), its tables and views,
 * and one table or query resolved to its columns and key inside the caller's transaction.
 */
import type { Client, FieldDef } from 'pg';
import { NotFoundError, UserInputError } from '@switchyard/core';
import { connectPostgres, describePgError, type PostgresConfig } from './connection.js';
import { loadTypes, mapColumn, settleNumerics, type SourceColumn } from './type-map.js';

export interface ConnectionReport {
  serverVersion: string;
  currentUser: string;
  latencyMs: number;
  readOnlyServer: boolean;
  readableTables: number;
  unreadableTables: string[];
  schemasWithoutUsage: string[];
}

export async function testConnection(
  config: PostgresConfig,
  signal?: AbortSignal,
): Promise<ConnectionReport> {
  const started = performance.now();
  const client = await connectPostgres(config, signal ? { signal } : {});
  try {
    const ping = performance.now();
    await client.query('SELECT 1');
    const latencyMs = Math.round((performance.now() - ping) * 10) / 10;
    const info = await client.query<{ v: string; u: string; r: boolean }>(
      "SELECT current_setting('server_version') AS v, current_user AS u, pg_is_in_recovery() AS r",
    );
    const tables = await client.query<{ name: string; readable: boolean }>(
      `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name,
         has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT') AS readable
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
         AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
       ORDER BY 1`,
    );
    const schemas = await client.query<{ n: string }>(
      `SELECT nspname AS n FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema')
         AND nspname NOT LIKE 'pg_toast%' AND nspname NOT LIKE 'pg_temp%' AND NOT has_schema_privilege(oid, 'USAGE') ORDER BY 1`,
    );
    void started;
    return {
      serverVersion: info.rows[0]!.v,
      currentUser: info.rows[0]!.u,
      latencyMs,
      readOnlyServer: info.rows[0]!.r,
      readableTables: tables.rows.filter((t) => t.readable).length,
      unreadableTables: tables.rows.filter((t) => !t.readable).map((t) => t.name),
      schemasWithoutUsage: schemas.rows.map((s) => s.n),
    };
  } catch (err) {
    throw describePgError(err, config);
  } finally {
    await client.end().catch(() => {});
  }
}

export interface SourceTable {
  schema: string;
  name: string;
  kind: string;
  estimatedRows: number | null;
  columns: number;
  readable: boolean;
  primaryKey: string[];
}

export async function listSourceTables(
  config: PostgresConfig,
  filter: { schema?: string | undefined; namePattern?: string | undefined; limit: number },
  signal?: AbortSignal,
): Promise<{ tables: SourceTable[]; truncated: boolean }> {
  const client = await connectPostgres(config, signal ? { signal } : {});
  try {
    const result = await client.query<{
      schema: string;
      name: string;
      kind: string;
      est: string | null;
      cols: number;
      readable: boolean;
      pk: string[] | null;
    }>(
      `SELECT n.nspname AS schema, c.relname AS name,
         CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view'
           WHEN 'm' THEN 'materialized view' ELSE 'foreign table' END AS kind,
         CASE WHEN c.relkind IN ('r', 'p', 'm') AND c.reltuples >= 0 THEN c.reltuples::bigint END AS est,
         (SELECT count(*)::int FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS cols,
         has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT') AS readable,
         (SELECT array_agg(a.attname::text ORDER BY array_position(i.indkey::int2[], a.attnum))
            FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
            WHERE i.indrelid = c.oid AND i.indisprimary) AS pk
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
         AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' AND NOT c.relispartition
         AND ($1::text IS NULL OR n.nspname = $1) AND ($2::text IS NULL OR c.relname ILIKE $2)
       ORDER BY 1, 2 LIMIT $3`,
      [filter.schema ?? null, filter.namePattern ?? null, filter.limit + 1],
    );
    const rows = result.rows.slice(0, filter.limit);
    return {
      truncated: result.rows.length > filter.limit,
      tables: rows.map((r) => ({
        schema: r.schema,
        name: r.name,
        kind: r.kind,
        estimatedRows: r.est === null ? null : Number(r.est),
        columns: r.cols,
        readable: r.readable,
        primaryKey: r.pk ?? [],
      })),
    };
  } catch (err) {
    throw describePgError(err, config);
  } finally {
    await client.end().catch(() => {});
  }
}

export interface SourceShape {
  /** `schema.table` as written by PostgreSQL (quoted where needed), or `query`. */
  label: string;
  /** The FROM target: a quoted table name, or `(query) AS q`. */
  from: string;
  columns: SourceColumn[];
  primaryKey: string[];
  estimatedRows: number | null;
  /** A table or materialized view (not a view, foreign table or query): its rows have an xmin. */
  table: boolean;
}

/** Resolve a table or a query to its columns and key, inside the caller's transaction. */
export async function describeSource(
  client: Client,
  source: { schema: string; table: string } | { query: string },
): Promise<SourceShape> {
  let from: string;
  let label: string;
  let relid: number | undefined;
  let estimatedRows: number | null = null;
  let hasXmin = false;
  if ('table' in source) {
    const qualified = `${client.escapeIdentifier(source.schema)}.${client.escapeIdentifier(source.table)}`;
    const found = await client.query<{ oid: number; est: string | null; kind: string }>(
      `SELECT c.oid::int AS oid, CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint END AS est, c.relkind AS kind
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2
         AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`,
      [source.schema, source.table],
    );
    if (found.rows.length === 0) {
      const candidates = await client.query<{ n: string }>(
        `SELECT n.nspname || '.' || c.relname AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND (c.relname ILIKE '%' || $1 || '%' OR $1 ILIKE '%' || c.relname || '%') ORDER BY 1 LIMIT 10`,
        [source.table],
      );
      throw new NotFoundError(`The source has no table or view ${source.schema}.${source.table}`, {
        candidates: candidates.rows.map((r) => r.n),
        hint: 'Call lakehouse_list_source_tables to see what the connection can read',
      });
    }
    relid = found.rows[0]!.oid;
    hasXmin = ['r', 'p', 'm'].includes(found.rows[0]!.kind);
    estimatedRows = found.rows[0]!.est === null ? null : Number(found.rows[0]!.est);
    from = qualified;
    label = `${source.schema}.${source.table}`;
  } else {
    from = `(${source.query}) AS q`;
    label = 'query';
  }
  const probe = await client.query({ text: `SELECT * FROM ${from} LIMIT 0`, rowMode: 'array' });
  const fields: FieldDef[] = probe.fields;
  const notNull = new Map<string, { notnull: boolean; dims: number }>();
  let primaryKey: string[] = [];
  if (relid !== undefined) {
    const attrs = await client.query<{ attname: string; attnotnull: boolean; attndims: number }>(
      'SELECT attname, attnotnull, attndims FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped',
      [relid],
    );
    for (const a of attrs.rows) notNull.set(a.attname, { notnull: a.attnotnull, dims: a.attndims });
    const pk = await client.query<{ attname: string }>(
      `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
       WHERE i.indrelid = $1 AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)`,
      [relid],
    );
    primaryKey = pk.rows.map((r) => r.attname);
  }
  const types = await loadTypes(
    client,
    fields.map((f) => f.dataTypeID),
  );
  const seen = new Set<string>();
  const columns = fields.map((f) => {
    // DuckDB matches names case-insensitively: "Name" and "name" cannot both exist.
    let name = f.name;
    for (let i = 2; seen.has(name.toLowerCase()); i++) name = `${f.name}_${i}`;
    seen.add(name.toLowerCase());
    const attr = notNull.get(f.name);
    return mapColumn(
      name,
      client.escapeIdentifier(f.name),
      f.dataTypeID,
      f.dataTypeModifier,
      !(attr?.notnull ?? false),
      types,
      attr?.dims ?? 0,
    );
  });
  await settleNumerics(client, from, columns);
  return { label, from, columns, primaryKey, estimatedRows, table: hasXmin };
}

/** Quick sanity check of a source query before it is wrapped in COPY. */
export function checkSourceQuery(query: string): string {
  const trimmed = query.trim().replace(/;\s*$/, '');
  if (!/^(select|with|values|table)\b/i.test(trimmed)) {
    throw new UserInputError('source_query must be a single SELECT (or WITH ... SELECT) statement');
  }
  if (trimmed.includes(';')) {
    throw new UserInputError('source_query must be a single statement without semicolons');
  }
  return trimmed;
}
