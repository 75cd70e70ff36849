/**
 * PostgreSQL as a source: connect, report, list, and stream a table or query out with
 * `COPY (SELECT ...) TO STDOUT (FORMAT csv)` inside one `REPEATABLE READ, READ ONLY` transaction, cut into
 * part files on disk so memory stays flat however large the table is.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import type { Client, ClientConfig, FieldDef } from 'pg';
import {
  AuthError,
  CancelledError,
  NotFoundError,
  PermissionError,
  UpstreamError,
  UserInputError,
  untrusted,
} from '@switchyard/core';
import type { CsvFeed, LogicalType, PartColumn } from '../warehouse/types.js';

export interface PostgresConfig {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  sslMode: 'disable' | 'prefer' | 'require' | 'verify-full';
}

type PgModule = typeof import('pg');
let pgModule: Promise<PgModule> | undefined;
const loadPg = async (): Promise<PgModule> => {
  pgModule ??= import('pg').then((m) => ((m as unknown as { default?: PgModule }).default ?? m) as PgModule);
  return pgModule;
};

interface PgError extends Error {
  code?: string;
  errno?: number;
  syscall?: string;
}

const where = (c: PostgresConfig) => `${c.host}:${c.port}`;

/** Turn a driver or server error into one sentence with PostgreSQL's own reason. */
export function describePgError(err: unknown, config: PostgresConfig, timeoutMs?: number): Error {
  if (err instanceof Error && 'kind' in err) return err;
  const e = err as PgError;
  const upstream = { service: 'PostgreSQL', code: e.code, message: e.message };
  switch (e.code) {
    case '28P01':
      return new AuthError(
        `PostgreSQL at ${where(config)} refused the password for user '${config.user}' (28P01)`,
        { hint: 'Check the password, then call lakehouse_connect_postgres again with the right one' },
      );
    case '28000':
      return new AuthError(
        `PostgreSQL at ${where(config)} refused user '${config.user}': ${untrusted(e.message, 300)}`,
        {
          hint: "Check the user name and the server's pg_hba.conf rules for this host",
        },
      );
    case '3D000':
      return new NotFoundError(`PostgreSQL at ${where(config)} has no database '${config.database}'`, {
        hint: 'Check the database name (lakehouse_test_connection lists nothing until it exists)',
      });
    case 'ECONNREFUSED':
      return new UpstreamError(`Could not reach PostgreSQL at ${where(config)}: the connection was refused`, {
        hint: 'Check that the server runs and listens on that host and port, and that no firewall blocks it',
      });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new UpstreamError(
        `Could not reach PostgreSQL at ${where(config)}: the host name does not resolve`,
        {
          hint: 'Check the host name',
        },
      );
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new UpstreamError(`Could not reach PostgreSQL at ${where(config)}: ${e.code}`, {
        hint: 'Check the host, the port and the network path to the server',
      });
    case '42501':
      return new PermissionError(
        `PostgreSQL user '${config.user}' lacks a privilege: ${untrusted(e.message, 300)} (42501)`,
        {
          hint: `Ask the database owner to GRANT SELECT on the table to ${config.user}`,
        },
      );
    case '57014':
      return new UpstreamError(`PostgreSQL cancelled the statement: ${untrusted(e.message, 300)}`, {
        upstream,
      });
  }
  if (/timeout/i.test(e.message)) {
    return new UpstreamError(
      `Could not reach PostgreSQL at ${where(config)}: no answer within ${Math.round((timeoutMs ?? 10_000) / 1000)} s`,
      { hint: 'Check the host, the port and the network path to the server' },
    );
  }
  if (/does not support SSL/i.test(e.message)) {
    return new UpstreamError(`PostgreSQL at ${where(config)} does not accept SSL connections`, {
      hint: "Use ssl_mode 'prefer' or 'disable' for this server",
    });
  }
  if (/self[- ]signed|certificate/i.test(e.message)) {
    return new UpstreamError(
      `The certificate of PostgreSQL at ${where(config)} was not trusted: ${untrusted(e.message, 300)}`,
      {
        hint: "Install the server's CA for Node (NODE_EXTRA_CA_CERTS), or use ssl_mode 'require' to encrypt without verifying",
      },
    );
  }
  if (e.code && /^[0-9A-Z]{5}$/.test(e.code)) {
    return new UpstreamError(`PostgreSQL answered ${e.code}: ${untrusted(e.message, 300)}`);
  }
  return new UpstreamError(
    `The connection to PostgreSQL at ${where(config)} failed: ${untrusted(e.message, 300)}`,
  );
}

/** The settings each open client was made with: what {@link cancelBackend} needs for its second connection. */
const configs = new WeakMap<Client, PostgresConfig>();

/**
 * Stop the statement a client is running, on the server: `pg_cancel_backend` from a second connection. Closing
 * the client's socket is not enough: PostgreSQL notices a gone client only when it next writes to it, so a
 * statement still computing (a sort, a join, a slow function) would run to its end.
 */
export async function cancelBackend(client: Client): Promise<void> {
  const pid = (client as unknown as { processID?: number | null }).processID;
  const config = configs.get(client);
  if (!pid || !config) return;
  const other = await connectPostgres(config, { timeoutMs: 5_000 });
  try {
    await other.query('SELECT pg_cancel_backend($1)', [pid]);
  } finally {
    await other.end().catch(() => {});
  }
}

/** Open a connection with the session settings every read relies on (UTC, ISO dates, exact floats). */
export async function connectPostgres(
  config: PostgresConfig,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<Client> {
  const pg = await loadPg();
  const timeoutMs = options.timeoutMs ?? 10_000;
  const attempt = async (ssl: ClientConfig['ssl']): Promise<Client> => {
    const client = new pg.Client({
      host: config.host,
      port: config.port,
      database: config.database,
      user: config.user,
      password: config.password,
      ssl,
      connectionTimeoutMillis: timeoutMs,
      application_name: 'lakehouse-mcp',
    });
    client.on('error', () => {}); // errors surface on the pending query
    const abort = () => void client.end().catch(() => {});
    options.signal?.addEventListener('abort', abort, { once: true });
    try {
      await client.connect();
      await client.query(
        "SET TIME ZONE 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3; SET bytea_output = 'hex'",
      );
      configs.set(client, config);
      return client;
    } catch (err) {
      await client.end().catch(() => {});
      if (options.signal?.aborted) throw new CancelledError();
      throw err;
    } finally {
      options.signal?.removeEventListener('abort', abort);
    }
  };
  try {
    switch (config.sslMode) {
      case 'disable':
        return await attempt(false);
      case 'require':
        return await attempt({ rejectUnauthorized: false });
      case 'verify-full':
        return await attempt({ rejectUnauthorized: true });
      case 'prefer':
        try {
          return await attempt({ rejectUnauthorized: false });
        } catch (err) {
          if (!/does not support SSL/i.test((err as Error).message)) throw err;
          return await attempt(false);
        }
    }
  } catch (err) {
    throw describePgError(err, config, timeoutMs);
  }
}

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

interface PgTypeRow {
  oid: number;
  typname: string;
  typtype: string;
  typcategory: string;
  typelem: number;
  typbasetype: number;
  typtypmod: number;
}

/** A source column: how to select it, and what it becomes. */
export interface SourceColumn extends PartColumn {
  /** The SELECT expression that writes it into the CSV part. */
  select: string;
  pgType: string;
}

function numericType(typmod: number): LogicalType {
  if (typmod < 4) return { kind: 'float64' };
  const precision = ((typmod - 4) >> 16) & 0xffff;
  const scale = (typmod - 4) & 0xffff;
  if (precision < 1 || precision > 38 || scale > precision) return { kind: 'float64' };
  return { kind: 'decimal', precision, scale };
}

const SIMPLE: Record<string, LogicalType> = {
  bool: { kind: 'boolean' },
  int2: { kind: 'int16' },
  int4: { kind: 'int32' },
  int8: { kind: 'int64' },
  oid: { kind: 'int64' },
  xid: { kind: 'int64' },
  float4: { kind: 'float32' },
  float8: { kind: 'float64' },
  text: { kind: 'text' },
  varchar: { kind: 'text' },
  bpchar: { kind: 'text' },
  char: { kind: 'text' },
  name: { kind: 'text' },
  citext: { kind: 'text' },
  date: { kind: 'date' },
  time: { kind: 'time' },
  timetz: { kind: 'timetz' },
  timestamp: { kind: 'timestamp' },
  timestamptz: { kind: 'timestamptz' },
  uuid: { kind: 'uuid' },
  json: { kind: 'json' },
  jsonb: { kind: 'json' },
};

/** The PostgreSQL → logical type mapping (see the README's type table). */
export function mapColumn(
  name: string,
  quoted: string,
  typeOid: number,
  typmod: number,
  nullable: boolean,
  types: Map<number, PgTypeRow>,
  dims: number,
): SourceColumn {
  let t = types.get(typeOid);
  let mod = typmod;
  // Domains: their base type (and the domain's own modifier).
  while (t && t.typtype === 'd') {
    mod = t.typtypmod;
    t = types.get(t.typbasetype);
  }
  const base = { name, nullable, pgType: t?.typname ?? String(typeOid) };
  if (!t) return { ...base, type: { kind: 'text' }, encoding: 'plain', select: `${quoted}::text` };
  if (t.typcategory === 'A' && t.typelem) {
    const element = types.get(t.typelem);
    let elementType: LogicalType = { kind: 'text' };
    if (element && element.typname === 'numeric') elementType = numericType(mod);
    else if (element && SIMPLE[element.typname] && !['json', 'jsonb'].includes(element.typname))
      elementType = SIMPLE[element.typname]!;
    if (dims > 1) return { ...base, type: { kind: 'json' }, encoding: 'json', select: `to_json(${quoted})` };
    return {
      ...base,
      type: { kind: 'list', element: elementType },
      encoding: 'json',
      select: `to_json(${quoted})`,
    };
  }
  if (t.typtype === 'e') return { ...base, type: { kind: 'text' }, encoding: 'plain', select: quoted };
  if (t.typname === 'numeric') return { ...base, type: numericType(mod), encoding: 'plain', select: quoted };
  if (t.typname === 'money')
    return {
      ...base,
      type: { kind: 'decimal', precision: 19, scale: 2 },
      encoding: 'plain',
      select: `${quoted}::numeric`,
    };
  if (t.typname === 'bytea')
    return { ...base, type: { kind: 'binary' }, encoding: 'hex', select: `encode(${quoted}, 'hex')` };
  if (t.typname === 'interval') {
    // months, days and microseconds exactly, in a form DuckDB and Spark both parse.
    const select = `CASE WHEN ${quoted} IS NOT NULL THEN format('%s months %s days %s microseconds', extract(year FROM ${quoted})::bigint * 12 + extract(month FROM ${quoted})::bigint, extract(day FROM ${quoted})::bigint, (extract(hour FROM ${quoted}) * 3600000000 + extract(minute FROM ${quoted}) * 60000000 + extract(microseconds FROM ${quoted}))::bigint) END`;
    return { ...base, type: { kind: 'interval' }, encoding: 'plain', select };
  }
  const simple = SIMPLE[t.typname];
  if (simple) return { ...base, type: simple, encoding: 'plain', select: quoted };
  // Anything else keeps PostgreSQL's own text form, as COPY writes it.
  return { ...base, type: { kind: 'text' }, encoding: 'plain', select: quoted };
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

/**
 * A numeric without precision (a view's `sum(amount)`, `amount numeric`) or wider than 38 digits has no DuckDB
 * or Spark type of its own; a DOUBLE would change its value (1,250,000,000.00 became 1249982749.9999995). Its
 * type comes from the data, read in the same snapshot: DECIMAL(38, s) with s the most decimals any value has,
 * when the widest integer part still fits; otherwise (or with NaN/Infinity) VARCHAR in PostgreSQL's exact text.
 */
async function settleNumerics(client: Client, from: string, columns: SourceColumn[]): Promise<void> {
  const open = columns.filter((c) => c.pgType === 'numeric' && c.type.kind === 'float64');
  if (open.length === 0) return;
  const parts = open.flatMap((c) => [
    `max(scale(${c.select}))`,
    `max(CASE WHEN scale(${c.select}) IS NOT NULL THEN length(trunc(abs(${c.select}))::text) END)`,
    `coalesce(bool_or(${c.select} IS NOT NULL AND scale(${c.select}) IS NULL), false)`,
  ]);
  const result = await client.query<unknown[]>({
    text: `SELECT ${parts.join(', ')} FROM ${from}`,
    rowMode: 'array',
  });
  const row = result.rows[0]!;
  open.forEach((c, i) => {
    const scale = Number(row[i * 3] ?? 0);
    const digits = Number(row[i * 3 + 1] ?? 1);
    const special = row[i * 3 + 2] === true;
    if (!special && digits + scale <= 38) c.type = { kind: 'decimal', precision: 38, scale };
    else c.type = { kind: 'text' };
  });
}

async function loadTypes(client: Client, oids: number[]): Promise<Map<number, PgTypeRow>> {
  const types = new Map<number, PgTypeRow>();
  let wanted = [...new Set(oids)];
  while (wanted.length > 0) {
    const rows = await client.query<PgTypeRow>(
      `SELECT oid::int AS oid, typname, typtype, typcategory, typelem::int AS typelem, typbasetype::int AS typbasetype, typtypmod
       FROM pg_type WHERE oid = ANY ($1::oid[])`,
      [wanted],
    );
    for (const r of rows.rows) types.set(r.oid, r);
    wanted = rows.rows.flatMap((r) => [r.typelem, r.typbasetype]).filter((o) => o && !types.has(o));
    wanted = [...new Set(wanted)];
  }
  return types;
}

/** Incremental reads: the cursor, the stored watermark and, for tables, the snapshot that read it. */
export interface CursorFilter {
  column: string;
  pgType: string;
  watermark: string;
  /** `pg_current_snapshot()` of the run that found the watermark (tables on PostgreSQL 13 and later). */
  snapshot?: string | null | undefined;
}

interface CopyOptions {
  signal: AbortSignal;
  /** Incremental: only rows changed since the watermark (see {@link changedSince}). */
  cursor?: CursorFilter | undefined;
}

export interface StreamOptions extends CopyOptions {
  partBytes: number;
  dir: string;
  /** Load one finished part; runs while the next part is being read. */
  onPart(path: string): Promise<void>;
}

/**
 * Which rows an incremental run reads. With the previous run's snapshot (tables only): rows past the watermark,
 * and rows at the watermark that the previous snapshot did not see. Without it (views, queries, older servers):
 * every row at or past the watermark, so the rows at the watermark are read again.
 *
 * Why nothing is lost and nothing read twice: call W the largest cursor value the previous run read, in snapshot
 * S. Every row version at W that S saw was read then (it passed that run's filter, since W was at or past that
 * run's own watermark; by induction for a run that read nothing new). A row version written later — a row
 * updated again, or a transaction that commits after S with the same cursor value, as a bulk UPDATE's now() or
 * a late commit does — has an xmin S does not see, so it is read now. Rows past W are read as before. (As with
 * any cursor column, a row committed after S with a value below W is not seen; use a full sync to catch those.)
 * xmin is 32 bits and the snapshot 64: the xmin is placed in the epoch just below this snapshot's xmax, which is
 * exact while a row version is younger than 2^32 transactions (PostgreSQL freezes long before).
 */
function changedSince(client: Client, cursor: CursorFilter, table: boolean): string {
  const column = client.escapeIdentifier(cursor.column);
  const watermark = `current_setting('lakehouse.watermark')::${cursor.pgType}`;
  if (!cursor.snapshot || !table) return ` WHERE ${column} >= ${watermark}`;
  const xmax = `pg_snapshot_xmax(pg_current_snapshot())::text::numeric`;
  const xmin8 = `(${xmax} - mod(mod(${xmax}, 4294967296) - xmin::text::numeric + 4294967296, 4294967296))::text::xid8`;
  // xids below 3 are PostgreSQL's own (bootstrap, frozen): always seen.
  const seen = `(xmin::text::bigint < 3 OR pg_visible_in_snapshot(${xmin8}, current_setting('lakehouse.snapshot')::pg_snapshot))`;
  return ` WHERE ${column} > ${watermark} OR (${column} = ${watermark} AND NOT ${seen})`;
}

/** This transaction's snapshot, for the next incremental run; null before PostgreSQL 13 (no pg_snapshot). */
export async function currentSnapshot(client: Client): Promise<string | null> {
  const version = await client.query<{ v: number }>("SELECT current_setting('server_version_num')::int AS v");
  if (version.rows[0]!.v < 130000) return null;
  return (await client.query<{ s: string }>('SELECT pg_current_snapshot()::text AS s')).rows[0]!.s;
}

/**
 * Run `COPY (SELECT …) TO STDOUT (FORMAT csv)` and hand each chunk over with the offset just past its last
 * complete row; returns the bytes read. Cancelling stops the statement on the server.
 */
async function copyOut(
  client: Client,
  shape: SourceShape,
  options: CopyOptions,
  onChunk: (chunk: Buffer, rowEnd: number) => Promise<void>,
): Promise<number> {
  // Bundled, a CommonJS package imported on use offers its exports as `default` only.
  const copyStreams = (await import('pg-copy-streams')) as typeof import('pg-copy-streams') & {
    default?: typeof import('pg-copy-streams');
  };
  const copyTo = (copyStreams.default ?? copyStreams).to;
  let whereClause = '';
  if (options.cursor) {
    await client.query("SELECT set_config('lakehouse.watermark', $1, true)", [options.cursor.watermark]);
    if (options.cursor.snapshot)
      await client.query("SELECT set_config('lakehouse.snapshot', $1, true)", [options.cursor.snapshot]);
    whereClause = changedSince(client, options.cursor, shape.table);
  }
  const select = shape.columns.map((c) => c.select).join(', ');
  const copy = client.query(
    copyTo(`COPY (SELECT ${select} FROM ${shape.from}${whereClause}) TO STDOUT WITH (FORMAT csv)`),
  );
  let stopping: Promise<void> | undefined;
  const abort = () => {
    // The statement is cancelled on the server (it may be computing, not writing), and the socket closed.
    stopping = cancelBackend(client).catch(() => {});
    copy.destroy(new CancelledError());
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  };
  options.signal.addEventListener('abort', abort, { once: true });
  let bytes = 0;
  let inQuote = false;
  try {
    for await (const chunk of copy as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      // COPY's chunks do not follow rows: a part may only end after a newline outside quotes.
      const scanned = scanCsv(chunk, inQuote);
      inQuote = scanned.inQuote;
      await onChunk(chunk, scanned.lastRowEnd);
    }
    return bytes;
  } catch (err) {
    await stopping;
    if (options.signal.aborted) throw new CancelledError();
    throw err;
  } finally {
    options.signal.removeEventListener('abort', abort);
  }
}

/**
 * Stream the source into a warehouse's feed, which loads while the source is read (no part files); returns the
 * bytes read. Runs inside the caller's transaction.
 */
export async function streamToFeed(
  client: Client,
  shape: SourceShape,
  feed: CsvFeed,
  options: CopyOptions,
): Promise<number> {
  try {
    const bytes = await copyOut(client, shape, options, (chunk, rowEnd) => feed.write(chunk, rowEnd));
    await feed.end();
    return bytes;
  } catch (err) {
    feed.destroy(err as Error);
    if (options.signal.aborted) throw new CancelledError();
    throw err;
  }
}

/** Stream the source into CSV part files; returns the bytes read. Runs inside the caller's transaction. */
export async function streamParts(
  client: Client,
  shape: SourceShape,
  options: StreamOptions,
): Promise<number> {
  let part = 0;
  let out: WriteStream | undefined;
  let outBytes = 0;
  let outPath = '';
  let loading: Promise<void> = Promise.resolve();
  const finishPart = async () => {
    if (!out) return;
    const stream = out;
    out = undefined;
    outBytes = 0;
    stream.end();
    await once(stream, 'close');
    const path = outPath;
    await loading;
    loading = options.onPart(path);
    loading.catch(() => {});
  };
  const write = async (data: Buffer) => {
    if (data.length === 0) return;
    if (!out) {
      outPath = join(options.dir, `part-${String(part++).padStart(5, '0')}.csv`);
      out = createWriteStream(outPath);
      outBytes = 0;
    }
    outBytes += data.length;
    if (!out.write(data)) await once(out, 'drain');
  };
  try {
    const bytes = await copyOut(client, shape, options, async (chunk, rowEnd) => {
      if (outBytes + chunk.length >= options.partBytes && rowEnd > 0) {
        await write(chunk.subarray(0, rowEnd));
        await finishPart();
        await write(chunk.subarray(rowEnd));
      } else await write(chunk);
    });
    await finishPart();
    await loading;
    return bytes;
  } catch (err) {
    out?.destroy();
    await loading.catch(() => {});
    throw err;
  }
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

/** Quote state after a CSV chunk, and the offset just past its last newline outside quotes (-1: none). */
export function scanCsv(chunk: Buffer, inQuote: boolean): { inQuote: boolean; lastRowEnd: number } {
  let pos = 0;
  let last = -1;
  let quoted = inQuote;
  for (;;) {
    const quote = chunk.indexOf(0x22, pos);
    if (!quoted) {
      const end = quote === -1 ? chunk.length : quote;
      if (end > pos) {
        const newline = chunk.lastIndexOf(0x0a, end - 1);
        if (newline >= pos) last = newline + 1;
      }
    }
    if (quote === -1) break;
    quoted = !quoted;
    pos = quote + 1;
  }
  return { inQuote: quoted, lastRowEnd: last };
}
