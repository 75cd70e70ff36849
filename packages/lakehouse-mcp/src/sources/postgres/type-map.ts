/**
 * PostgreSQL types → logical types (see the README's type table): how each column is selected into the CSV, and
 * what it becomes in the warehouse.
 */
import type { Client } from 'pg';
import type { LogicalType, PartColumn } from '../../warehouse/types.js';

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

/**
 * A numeric without precision (a view's `sum(amount)`, `amount numeric`) or wider than 38 digits has no DuckDB
 * or Spark type of its own; a DOUBLE would change its value (1,250,000,000.00 became 1249982749.9999995). Its
 * type comes from the data, read in the same snapshot: DECIMAL(38, s) with s the most decimals any value has,
 * when the widest integer part still fits; otherwise (or with NaN/Infinity) VARCHAR in PostgreSQL's exact text.
 */
export async function settleNumerics(client: Client, from: string, columns: SourceColumn[]): Promise<void> {
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

export async function loadTypes(client: Client, oids: number[]): Promise<Map<number, PgTypeRow>> {
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
