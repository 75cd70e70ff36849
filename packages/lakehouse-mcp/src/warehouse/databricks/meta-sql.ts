/** The tenant's records in its `_meta` schema on Databricks (see meta-store.ts): one MERGE per save. */
import { runColumns, type MetaSql } from '../meta-store.js';
import type { TableRef } from '../types.js';
import { int, metaTable, type NamedStatement, type Naming } from './spelling.js';

export function insertRun(n: Naming, run: Record<string, unknown>): NamedStatement {
  return {
    sql: `INSERT INTO ${metaTable(n, 'sync_runs')} VALUES (:run_id, :kind, :connection, :source, :target_layer, :target_name, :mode, :status, CAST(:started_at AS TIMESTAMP), CAST(:finished_at AS TIMESTAMP), :rows, :bytes, :duration_ms, :watermark, :error)`,
    params: run,
  };
}

export function selectRuns(n: Naming, limit: number): string {
  return `SELECT run_id, kind, connection, source, target_layer, target_name, mode, status, CAST(started_at AS STRING), CAST(finished_at AS STRING), rows, bytes, watermark, error FROM ${metaTable(n, 'sync_runs')} ORDER BY finished_at DESC LIMIT ${int(limit)}`;
}

/** One statement, so a failure cannot leave the record deleted and not yet written again. */
function upsert(table: string, keys: string[], columns: Array<[string, string]>): string {
  const select = columns.map(([name, value]) => `${value} AS ${name}`).join(', ');
  const on = keys.map((k) => `t.${k} = s.${k}`).join(' AND ');
  return `MERGE INTO ${table} AS t USING (SELECT ${select}) AS s ON ${on} WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *`;
}

export function upsertState(n: Naming, state: Record<string, unknown>): NamedStatement {
  return {
    sql: upsert(
      metaTable(n, 'sync_state'),
      ['target'],
      [
        ['target', ':target'],
        ['connection', ':connection'],
        ['source', ':source'],
        ['cursor_column', ':cursor_column'],
        ['key_columns', ':key_columns'],
        ['watermark', ':watermark'],
        ['updated_at', 'current_timestamp()'],
      ],
    ),
    params: state,
  };
}

export function selectState(n: Naming, target: string): NamedStatement {
  return {
    sql: `SELECT target, connection, source, cursor_column, key_columns, watermark FROM ${metaTable(n, 'sync_state')} WHERE target = :target`,
    params: { target },
  };
}

export function upsertLineage(n: Naming, l: Record<string, unknown>): NamedStatement {
  return {
    sql: upsert(
      metaTable(n, 'lineage'),
      ['target_layer', 'target_name'],
      [
        ['target_layer', ':layer'],
        ['target_name', ':name'],
        ['kind', ':kind'],
        ['inputs', ':inputs'],
        ['definition', ':definition'],
        ['recorded_at', 'current_timestamp()'],
      ],
    ),
    params: l,
  };
}

export function selectLineage(n: Naming, ref: TableRef): NamedStatement {
  return {
    sql: `SELECT target_layer, target_name, kind, inputs, definition FROM ${metaTable(n, 'lineage')} WHERE target_layer = :layer AND target_name = :name`,
    params: { layer: ref.layer, name: ref.name },
  };
}

export function selectConnections(n: Naming): string {
  return `SELECT name, kind, host, port, database, user_name, ssl_mode, CAST(created_at AS STRING), CAST(updated_at AS STRING) FROM ${metaTable(n, 'connections')} ORDER BY name`;
}

export function upsertConnection(n: Naming, c: Record<string, unknown>): NamedStatement {
  return {
    sql: upsert(
      metaTable(n, 'connections'),
      ['name'],
      [
        ['name', ':name'],
        ['kind', ':kind'],
        ['host', ':host'],
        ['port', 'CAST(:port AS INT)'],
        ['database', ':database'],
        ['user_name', ':user_name'],
        ['ssl_mode', ':ssl_mode'],
        ['created_at', 'CAST(:created_at AS TIMESTAMP)'],
        ['updated_at', 'CAST(:updated_at AS TIMESTAMP)'],
      ],
    ),
    params: c,
  };
}

/** The tenant's records in its `_meta` schema (see meta-store.ts): one MERGE per save. */
export function metaSql(n: Naming): MetaSql {
  return {
    selectConnections: () => ({ sql: selectConnections(n) }),
    saveConnection: (c) => [
      upsertConnection(n, {
        name: c.name,
        kind: c.kind,
        host: c.host,
        port: c.port,
        database: c.database,
        user_name: c.user,
        ssl_mode: c.sslMode,
        created_at: c.createdAt,
        updated_at: c.updatedAt,
      }),
    ],
    selectState: (target) => selectState(n, target),
    saveState: (s) => [
      upsertState(n, {
        target: s.target,
        connection: s.connection,
        source: s.source,
        cursor_column: s.cursorColumn,
        key_columns: JSON.stringify(s.keyColumns),
        watermark: s.watermark,
      }),
    ],
    insertRun: (run) => insertRun(n, runColumns(run)),
    selectRuns: (limit) => ({ sql: selectRuns(n, limit) }),
    selectLineage: (ref) => selectLineage(n, ref),
    saveLineage: (l) => [
      upsertLineage(n, {
        layer: l.target.layer,
        name: l.target.name,
        kind: l.kind,
        inputs: JSON.stringify(l.inputs),
        definition: l.definition,
      }),
    ],
    time: (value) => isoOf(String(value)),
  };
}

/** Databricks' timestamp text (`2026-01-02 03:04:05`, UTC) as ISO. */
export function isoOf(text: string): string {
  const t = text.trim().replace(' ', 'T');
  const withZone = /[zZ]|[+-]\d\d:?\d\d$/.test(t) ? t : `${t}Z`;
  const d = new Date(withZone);
  return Number.isNaN(d.getTime()) ? text : d.toISOString().replace(/\.000Z$/, 'Z');
}
