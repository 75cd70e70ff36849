/** The tenant's records in `_meta` on DuckDB (see meta-store.ts); a save deletes and inserts inside the caller's transaction. */
import { runColumns, type MetaSql } from '../meta-store.js';

export const INSERT_RUN = `INSERT INTO _meta.sync_runs VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CAST($9 AS TIMESTAMPTZ),
  CAST($10 AS TIMESTAMPTZ), $11, $12, $13, $14, $15)`;

export const DELETE_STATE = `DELETE FROM _meta.sync_state WHERE target = $1`;
export const INSERT_STATE = `INSERT INTO _meta.sync_state (target, connection, source, cursor_column, key_columns, watermark, updated_at, source_snapshot) VALUES ($1, $2, $3, $4, $5, $6, now(), $7)`;
export const SELECT_STATE = `SELECT target, connection, source, cursor_column, key_columns, watermark, source_snapshot FROM _meta.sync_state WHERE target = $1`;

export const DELETE_LINEAGE = `DELETE FROM _meta.lineage WHERE target_layer = $1 AND target_name = $2`;
export const INSERT_LINEAGE = `INSERT INTO _meta.lineage VALUES ($1, $2, $3, $4, $5, now())`;
export const SELECT_LINEAGE = `SELECT target_layer, target_name, kind, inputs, definition FROM _meta.lineage WHERE target_layer = $1 AND target_name = $2`;

export const SELECT_CONNECTIONS = `SELECT name, kind, host, port, database, user_name, ssl_mode,
  strftime(created_at, '%Y-%m-%dT%H:%M:%SZ'), strftime(updated_at, '%Y-%m-%dT%H:%M:%SZ') FROM _meta.connections ORDER BY name`;
export const DELETE_CONNECTION = `DELETE FROM _meta.connections WHERE name = $1`;
export const INSERT_CONNECTION = `INSERT INTO _meta.connections VALUES ($1, $2, $3, $4, $5, $6, $7, CAST($8 AS TIMESTAMPTZ), CAST($9 AS TIMESTAMPTZ))`;

export const SELECT_RUNS = `SELECT run_id, kind, connection, source, target_layer, target_name, mode, status,
  strftime(started_at, '%Y-%m-%dT%H:%M:%S.%gZ'), strftime(finished_at, '%Y-%m-%dT%H:%M:%S.%gZ'), rows, bytes, watermark, error
  FROM _meta.sync_runs ORDER BY finished_at DESC LIMIT $1`;

/** The tenant's records in `_meta` (see meta-store.ts); a save deletes and inserts inside the caller's transaction. */
export const META: MetaSql = {
  selectConnections: () => ({ sql: SELECT_CONNECTIONS }),
  saveConnection: (c) => [
    { sql: DELETE_CONNECTION, params: [c.name] },
    {
      sql: INSERT_CONNECTION,
      params: [c.name, c.kind, c.host, c.port, c.database, c.user, c.sslMode, c.createdAt, c.updatedAt],
    },
  ],
  selectState: (target) => ({ sql: SELECT_STATE, params: [target] }),
  saveState: (s) => [
    { sql: DELETE_STATE, params: [s.target] },
    {
      sql: INSERT_STATE,
      params: [
        s.target,
        s.connection,
        s.source,
        s.cursorColumn,
        JSON.stringify(s.keyColumns),
        s.watermark,
        s.sourceSnapshot ?? null,
      ],
    },
  ],
  insertRun: (run) => ({ sql: INSERT_RUN, params: Object.values(runColumns(run)) }),
  selectRuns: (limit) => ({ sql: SELECT_RUNS, params: [limit] }),
  selectLineage: (ref) => ({ sql: SELECT_LINEAGE, params: [ref.layer, ref.name] }),
  saveLineage: (l) => [
    { sql: DELETE_LINEAGE, params: [l.target.layer, l.target.name] },
    {
      sql: INSERT_LINEAGE,
      params: [l.target.layer, l.target.name, l.kind, JSON.stringify(l.inputs), l.definition],
    },
  ],
  // Times are formatted as ISO text by the SELECTs themselves.
  time: (value) => String(value),
};
