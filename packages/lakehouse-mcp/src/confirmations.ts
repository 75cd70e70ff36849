/**
 * What the user is asked before a lakehouse tool replaces data that is already there: a full sync or a file over a
 * bronze table with rows, a silver rebuild over a table with rows, `replace` on an existing gold view. A first load
 * asks nothing. Each question comes from a cheap read of the tenant's catalog (does the target exist, how many rows),
 * through the warehouse interface, so DuckDB and Databricks ask alike. Table names in it are sanitized the way the
 * tool names its target; the rest (source names, the first line of SQL) is shown to the user, and core cleans every
 * line of the message. Arguments the tool would refuse are refused here with the tool's own sentence, so the user
 * is never asked about a call that would fail.
 */
import { oneLine, type Confirmation } from '@switchyard/core';
import type { Lakehouse } from './lakehouse.js';
import { normalizeName } from './naming.js';
import { checkCursorKnown, planSync, type SyncRequest } from './sync.js';
import { planTransformRequest, type TransformRequest } from './transform.js';
import { uploadTarget, type UploadRequest } from './upload.js';
import type { TableRef, TenantWarehouse } from './warehouse/types.js';

const count = (rows: number) => `${rows.toLocaleString('en-US')} row${rows === 1 ? '' : 's'}`;

/** The rows of a table that exists and holds any (what a replacement would lose); undefined otherwise. */
async function rowsAtStake(tenant: TenantWarehouse, ref: TableRef): Promise<number | undefined> {
  if ((await tenant.columnsOf(ref)) === undefined) return undefined;
  const rows = await tenant.rowCount(ref);
  return rows > 0 ? rows : undefined;
}

/** The opening line of every question: which table, where, and what it holds now. */
function replaceLine(tenant: TenantWarehouse, ref: TableRef, rows: number): string {
  return `Replace ${ref.layer}.${ref.name} in tenant '${tenant.tenant}'? It holds ${count(rows)} now.`;
}

/** The first non-empty line of some SQL, as the user would recognise it. */
function firstLine(sql: string): string {
  return oneLine(sql.split('\n').find((l) => l.trim()) ?? '', 120);
}

/**
 * A sync that replaces the bronze table: every full sync, and an incremental one with no watermark stored for this
 * source and cursor (it loads everything and replaces, as a first run does). A merge past the watermark asks nothing.
 */
export async function confirmSync(
  lh: Lakehouse,
  tenantId: string | undefined,
  principal: string,
  args: SyncRequest,
): Promise<Confirmation<{ target: string; mode: SyncRequest['sync_mode']; table_rows: number }> | undefined> {
  const tenant = await lh.tenant(tenantId, principal);
  const { targetLabel } = planSync(args);
  const state = args.sync_mode === 'incremental' ? await tenant.meta.getSyncState(targetLabel) : undefined;
  const plan = planSync(args, state);
  checkCursorKnown(plan);
  // A merge past the stored watermark: the same source and cursor (as given, or under its bronze name).
  const cursor = plan.cursorColumn ?? '';
  const merges =
    plan.incremental &&
    Boolean(state?.watermark) &&
    state?.source === plan.sourceLabel &&
    (cursor === state.cursorColumn || normalizeName(cursor, 'column') === state.cursorColumn);
  if (merges) return undefined;
  const rows = await rowsAtStake(tenant, plan.target);
  if (rows === undefined) return undefined;
  const record = await tenant.meta.getConnection(args.connection);
  const where = record ? ` (${record.database} on ${record.host}:${record.port})` : '';
  const source = 'query' in plan.source ? 'the result of a query' : plan.sourceLabel;
  const how = plan.incremental
    ? `An incremental sync with no watermark stored for ${'query' in plan.source ? 'this query' : plan.sourceLabel} on ${cursor} loads it in full and replaces them with`
    : 'A full sync replaces them with';
  return {
    message: [
      replaceLine(tenant, plan.target, rows),
      `${how} ${source} from connection '${args.connection}'${where}.`,
      ...('query' in plan.source ? [`Query: ${firstLine(plan.source.query)}`] : []),
    ].join('\n'),
    declined: {
      text: `Not synced: the user declined. ${targetLabel} keeps its ${count(rows)}.`,
      data: { target: `${tenant.catalog}.${targetLabel}`, mode: args.sync_mode, table_rows: rows },
    },
  };
}

/** A file loaded over a bronze table that holds rows. */
export async function confirmUpload(
  lh: Lakehouse,
  tenantId: string | undefined,
  principal: string,
  args: UploadRequest,
): Promise<Confirmation<{ table: string }> | undefined> {
  const tenant = await lh.tenant(tenantId, principal);
  const { fileName, path, target } = await uploadTarget(lh, args);
  const rows = await rowsAtStake(tenant, target);
  if (rows === undefined) return undefined;
  return {
    message: [
      replaceLine(tenant, target, rows),
      `Its rows are replaced by the file ${path ?? `${fileName} (content given inline)`}.`,
    ].join('\n'),
    declined: {
      text: `Not loaded: the user declined. bronze.${target.name} keeps its ${count(rows)}.`,
      data: { table: `${tenant.catalog}.bronze.${target.name}` },
    },
  };
}

/** A silver rebuild over a table that holds rows (a dry run writes nothing and asks nothing). */
export async function confirmTransform(
  lh: Lakehouse,
  tenantId: string | undefined,
  principal: string,
  request: TransformRequest,
): Promise<Confirmation<{ target: string; dry_run: boolean; rows: null }> | undefined> {
  if (request.dry_run) return undefined;
  const tenant = await lh.tenant(tenantId, principal);
  const { source, target } = await planTransformRequest(tenant, request);
  const rows = await rowsAtStake(tenant, target);
  if (rows === undefined) return undefined;
  const steps = request.steps.length;
  return {
    message: [
      replaceLine(tenant, target, rows),
      `It is rebuilt from ${source.layer}.${source.name} with ${steps} step${steps === 1 ? '' : 's'}.`,
    ].join('\n'),
    declined: {
      text: `Not built: the user declined. silver.${target.name} keeps its ${count(rows)}.`,
      data: { target: `${tenant.catalog}.silver.${target.name}`, dry_run: false, rows: null },
    },
  };
}

/** `replace: true` over a gold view that exists: its definition is lost. */
export async function confirmGoldView(
  lh: Lakehouse,
  tenantId: string | undefined,
  principal: string,
  ref: TableRef,
  args: { sql: string; replace: boolean },
): Promise<Confirmation<{ view: string }> | undefined> {
  if (!args.replace) return undefined;
  const tenant = await lh.tenant(tenantId, principal);
  if ((await tenant.columnsOf(ref)) === undefined) return undefined;
  return {
    message: [
      `Redefine the view gold.${ref.name} in tenant '${tenant.tenant}'? Its current definition is replaced by:`,
      firstLine(args.sql),
    ].join('\n'),
    declined: {
      text: `Not replaced: the user declined. gold.${ref.name} keeps its definition.`,
      data: { view: `${tenant.catalog}.gold.${ref.name}` },
    },
  };
}
