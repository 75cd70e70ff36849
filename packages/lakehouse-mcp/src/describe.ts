/**
 * What `lakehouse_describe_table` tells about a table: its columns (type, nullability, the source's spelling when
 * the naming rule renamed one), with a profile per column when asked, its rows, lineage and storage.
 */
import { csvField } from '@switchyard/core';
import { columnsOrNotFound, n } from './tools/common.js';
import type { TableRef, TenantWarehouse } from './warehouse/types.js';

export interface TableDescription {
  rows: number;
  columnCount: number;
  /** `sync from postgres:shop/public.orders`, when the table has lineage. */
  lineage: string | undefined;
  /** Databricks' DESCRIBE DETAIL in one line (format, files, bytes, last change). */
  storage: string | undefined;
  /** One CSV line per column (text from the catalog and the data: the caller fences it). */
  csv: string;
}

export async function describeTable(
  tenant: TenantWarehouse,
  ref: TableRef,
  profile: boolean,
  signal: AbortSignal,
): Promise<TableDescription> {
  const columns = await columnsOrNotFound(tenant, ref);
  const rows = await tenant.rowCount(ref);
  const lineage = await tenant.meta.lineageOf(ref);
  const details = await tenant.details(ref);
  const profiles = profile ? await tenant.profile(ref, { topValues: 5, signal }) : undefined;
  // Columns renamed by the naming rule show their source spelling last.
  const renamed = columns.some((c) => c.original !== undefined);
  const lines = [
    (profiles
      ? 'column,type,nullable,null_share,approx_distinct,min,max,top_values'
      : 'column,type,nullable') + (renamed ? ',original_name' : ''),
  ];
  const original = (c: (typeof columns)[number]) => (renamed ? [c.original ?? ''] : []);
  columns.forEach((c, i) => {
    const p = profiles?.[i];
    if (!p) {
      lines.push([c.name, c.type, c.nullable ? 'yes' : 'no', ...original(c)].map(csvField).join(','));
      return;
    }
    const top = p.top?.map((t) => `${t.value} (${t.count})`).join('; ') ?? '';
    const cells = [
      c.name,
      c.type,
      c.nullable ? 'yes' : 'no',
      p.nullShare ?? '',
      p.approxDistinct ?? '',
      p.min ?? '',
      p.max ?? '',
      top,
      ...original(c),
    ];
    lines.push(cells.map((v) => csvField(String(v))).join(','));
  });
  const storage = details
    ? [
        details.format,
        details.files !== undefined ? `${n(details.files)} files` : undefined,
        details.sizeBytes !== undefined ? `${n(details.sizeBytes)} bytes` : undefined,
        details.lastModified ? `modified ${details.lastModified}` : undefined,
      ]
        .filter(Boolean)
        .join(', ')
    : undefined;
  return {
    rows,
    columnCount: columns.length,
    lineage: lineage ? `${lineage.kind} from ${lineage.inputs.join(', ')}` : undefined,
    storage,
    csv: lines.join('\n'),
  };
}
