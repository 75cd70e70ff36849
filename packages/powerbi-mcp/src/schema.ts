import { fenceUntrusted, isSwitchyardError, oneLine } from '@switchyard/core';
import { DaxQueryError } from './errors.js';
import type { PowerBiClient, QueryResult } from './powerbi-client.js';

export interface SchemaColumn {
  name: string;
  data_type: string | undefined;
  hidden: boolean;
  description?: string | undefined;
  /** The DAX of a calculated column. */
  expression?: string | undefined;
  /** From COLUMNSTATISTICS() (the fallback): smallest and largest value, distinct values. */
  min?: unknown;
  max?: unknown;
  cardinality?: number | undefined;
}

export interface SchemaMeasure {
  name: string;
  /** Blank when Power BI hides expressions from the caller (it needs write permission on the model). */
  expression: string | undefined;
  format_string?: string | undefined;
  description?: string | undefined;
  hidden: boolean;
}

export interface SchemaTable {
  name: string;
  description?: string | undefined;
  hidden: boolean;
  columns: SchemaColumn[];
  measures: SchemaMeasure[];
}

export interface SchemaRelationship {
  from_table: string;
  from_column: string;
  to_table: string;
  to_column: string;
  /** e.g. "many-to-one". */
  cardinality: string;
  active: boolean;
  cross_filter: string;
}

export interface DatasetSchema {
  /** How it was read: the INFO.VIEW functions, or COLUMNSTATISTICS() when those were refused. */
  source: 'INFO.VIEW' | 'COLUMNSTATISTICS';
  tables: SchemaTable[];
  relationships: SchemaRelationship[];
  /** What is missing or approximate, in words. */
  notes: string[];
  fetchedAt: number;
}

const QUERIES = {
  tables: 'EVALUATE INFO.VIEW.TABLES()',
  columns: 'EVALUATE INFO.VIEW.COLUMNS()',
  measures: 'EVALUATE INFO.VIEW.MEASURES()',
  relationships: 'EVALUATE INFO.VIEW.RELATIONSHIPS()',
} as const;

type Row = Record<string, unknown>;

function objects(result: QueryResult): Row[] {
  // `[Name]`, `Name` and `INFO[Name]` all become `Name`.
  const keys = result.columns.map((c) => /\[([^\]]+)\]$/.exec(c)?.[1] ?? c);
  return result.rows.map((r) => Object.fromEntries(keys.map((k, i) => [k, r[i]])));
}

const text = (v: unknown): string | undefined =>
  v === null || v === undefined || v === '' ? undefined : String(v);
const flag = (v: unknown): boolean => v === true || v === 'true' || v === 'True' || v === 1;
const isRowNumber = (name: string) => /^RowNumber-/i.test(name);

/** A semantic model's schema through executeQueries: the INFO.VIEW functions, or COLUMNSTATISTICS(). */
export async function readSchema(
  client: PowerBiClient,
  workspaceId: string,
  datasetId: string,
  signal?: AbortSignal,
): Promise<DatasetSchema> {
  const run = (query: string) =>
    client.executeQuery(workspaceId, datasetId, { query, includeNulls: true }, signal).then(objects);
  const [tables, columns, measures, relationships] = await Promise.allSettled([
    run(QUERIES.tables),
    run(QUERIES.columns),
    run(QUERIES.measures),
    run(QUERIES.relationships),
  ]);
  // Permission, sign-in and network problems are the answer; a refused INFO function is not.
  for (const r of [tables, columns, measures, relationships]) {
    if (r.status === 'rejected' && !(r.reason instanceof DaxQueryError)) throw r.reason;
  }
  if (tables.status === 'rejected' || columns.status === 'rejected') {
    const reason = (
      (tables.status === 'rejected' ? tables.reason : (columns as PromiseRejectedResult).reason) as Error
    ).message;
    return readColumnStatistics(client, workspaceId, datasetId, reason, signal);
  }
  const notes: string[] = [];
  const byName = new Map<string, SchemaTable>();
  for (const t of tables.value) {
    const name = text(t.Name);
    if (!name) continue;
    byName.set(name, {
      name,
      description: text(t.Description),
      hidden: flag(t.IsHidden),
      columns: [],
      measures: [],
    });
  }
  const tableFor = (name: string): SchemaTable => {
    let table = byName.get(name);
    if (!table) byName.set(name, (table = { name, hidden: false, columns: [], measures: [] }));
    return table;
  };
  for (const c of columns.value) {
    const name = text(c.Name);
    const table = text(c.Table);
    if (!name || !table || isRowNumber(name)) continue;
    tableFor(table).columns.push({
      name,
      data_type: text(c.DataType),
      hidden: flag(c.IsHidden),
      description: text(c.Description),
      expression: text(c.Expression),
    });
  }
  if (measures.status === 'fulfilled') {
    let blank = 0;
    for (const m of measures.value) {
      const name = text(m.Name);
      const table = text(m.Table);
      if (!name || !table) continue;
      const expression = text(m.Expression);
      if (!expression) blank++;
      tableFor(table).measures.push({
        name,
        expression,
        format_string: text(m.FormatString),
        description: text(m.Description),
        hidden: flag(m.IsHidden),
      });
    }
    if (blank > 0)
      notes.push(
        `${blank} measure expression${blank > 1 ? 's are' : ' is'} blank: Power BI shows them only to callers with write permission on the model`,
      );
  } else {
    notes.push(
      `Measures are unknown: INFO.VIEW.MEASURES() was refused (${(measures.reason as Error).message})`,
    );
  }
  const rels: SchemaRelationship[] = [];
  if (relationships.status === 'fulfilled') {
    for (const r of relationships.value) {
      const fromTable = text(r.FromTable);
      const toTable = text(r.ToTable);
      if (!fromTable || !toTable) continue;
      rels.push({
        from_table: fromTable,
        from_column: text(r.FromColumn) ?? '?',
        to_table: toTable,
        to_column: text(r.ToColumn) ?? '?',
        cardinality: `${(text(r.FromCardinality) ?? 'many').toLowerCase()}-to-${(text(r.ToCardinality) ?? 'one').toLowerCase()}`,
        active: r.IsActive === undefined ? true : flag(r.IsActive),
        cross_filter: /both/i.test(text(r.CrossFilteringBehavior) ?? '') ? 'both' : 'single',
      });
    }
  } else {
    notes.push(
      `Relationships are unknown: INFO.VIEW.RELATIONSHIPS() was refused (${(relationships.reason as Error).message})`,
    );
  }
  return {
    source: 'INFO.VIEW',
    tables: [...byName.values()],
    relationships: rels,
    notes,
    fetchedAt: Date.now(),
  };
}

async function readColumnStatistics(
  client: PowerBiClient,
  workspaceId: string,
  datasetId: string,
  refusal: string,
  signal?: AbortSignal,
): Promise<DatasetSchema> {
  let stats: Row[];
  try {
    stats = objects(
      await client.executeQuery(
        workspaceId,
        datasetId,
        { query: 'EVALUATE COLUMNSTATISTICS()', includeNulls: true },
        signal,
      ),
    );
  } catch (err) {
    if (isSwitchyardError(err) && err instanceof DaxQueryError) {
      throw new DaxQueryError(
        `neither the INFO.VIEW functions (${refusal}) nor COLUMNSTATISTICS() (${err.detail}) could read the schema`,
        undefined,
        undefined,
      );
    }
    throw err;
  }
  const byName = new Map<string, SchemaTable>();
  for (const s of stats) {
    const table = text(s['Table Name']);
    const column = text(s['Column Name']);
    if (!table || !column || isRowNumber(column)) continue;
    let t = byName.get(table);
    if (!t) byName.set(table, (t = { name: table, hidden: false, columns: [], measures: [] }));
    t.columns.push({
      name: column,
      data_type: inferType(s.Min, s.Max),
      hidden: false,
      min: s.Min ?? null,
      max: s.Max ?? null,
      cardinality: typeof s.Cardinality === 'number' ? s.Cardinality : undefined,
    });
  }
  return {
    source: 'COLUMNSTATISTICS',
    tables: [...byName.values()],
    relationships: [],
    notes: [
      `The INFO.VIEW functions were refused (${refusal}), so this comes from COLUMNSTATISTICS(): types are guessed from each column's min and max, and measures, descriptions, hidden flags and relationships are unknown`,
    ],
    fetchedAt: Date.now(),
  };
}

function inferType(min: unknown, max: unknown): string | undefined {
  const v = min ?? max;
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'number')
    return Number.isInteger(v) && (max === null || Number.isInteger(max))
      ? 'Int64 (guessed)'
      : 'Double (guessed)';
  if (typeof v === 'boolean') return 'Boolean (guessed)';
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(v)) return 'DateTime (guessed)';
  return 'String (guessed)';
}

/** Schemas kept for a few minutes per dataset and identity: a model's shape rarely changes mid-conversation. */
export class SchemaCache {
  private readonly entries = new Map<string, DatasetSchema>();

  constructor(private readonly ttlMs = 5 * 60_000) {}

  get(key: string): DatasetSchema | undefined {
    const hit = this.entries.get(key);
    if (hit && Date.now() - hit.fetchedAt < this.ttlMs) return hit;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, schema: DatasetSchema): void {
    if (this.entries.size > 50) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, schema);
  }
}

export interface RenderOptions {
  title: string;
  includeHidden: boolean;
  /** Only these tables (case-insensitive); all when empty. */
  tables?: string[] | undefined;
  maxBytes: number;
}

export interface RenderedSchema {
  text: string;
  tables: SchemaTable[];
  relationships: SchemaRelationship[];
  truncated: boolean;
  omittedTables: string[];
  hiddenLeftOut: number;
}

/**
 * The schema as compact markdown for a model: one line of columns per table, measures with their DAX,
 * relationships. Model metadata is written by other people, so the body is fenced as untrusted.
 */
export function renderSchema(schema: DatasetSchema, options: RenderOptions): RenderedSchema {
  const wanted = options.tables?.map((t) => t.toLowerCase());
  let hiddenLeftOut = 0;
  const visible = <T extends { hidden: boolean }>(items: T[]): T[] =>
    options.includeHidden
      ? items
      : items.filter((i) => {
          if (i.hidden) hiddenLeftOut++;
          return !i.hidden;
        });
  const selected = schema.tables
    .filter((t) => !wanted || wanted.includes(t.name.toLowerCase()))
    .filter((t) => {
      const keep = options.includeHidden || !t.hidden || (wanted?.includes(t.name.toLowerCase()) ?? false);
      if (!keep) hiddenLeftOut++;
      return keep;
    })
    .map((t) => ({ ...t, columns: visible(t.columns), measures: visible(t.measures) }));

  const chunks: string[] = [];
  let bytes = 0;
  const kept: SchemaTable[] = [];
  const omitted: string[] = [];
  for (const table of selected) {
    const chunk = renderTable(table);
    const size = Buffer.byteLength(chunk);
    if (kept.length > 0 && bytes + size > options.maxBytes) {
      omitted.push(table.name);
      continue;
    }
    kept.push(table);
    chunks.push(chunk);
    bytes += size;
  }
  const keptNames = new Set(kept.map((t) => t.name));
  const relationships = schema.relationships.filter(
    (r) => keptNames.has(r.from_table) || keptNames.has(r.to_table),
  );
  if (relationships.length > 0) {
    chunks.push(
      `## Relationships\n${relationships
        .map(
          (r) =>
            `- '${r.from_table}'[${r.from_column}] ${r.cardinality} '${r.to_table}'[${r.to_column}]${r.active ? '' : ' (inactive)'}${r.cross_filter === 'both' ? ' (filters both ways)' : ''}`,
        )
        .join('\n')}`,
    );
  }
  const counts = `${kept.length} table${kept.length === 1 ? '' : 's'}, ${sum(kept, (t) => t.columns.length)} columns, ${sum(kept, (t) => t.measures.length)} measures, ${relationships.length} relationships`;
  const head = [
    `# ${options.title}`,
    `${counts}; read with ${schema.source === 'INFO.VIEW' ? 'the INFO.VIEW functions' : 'COLUMNSTATISTICS()'}. In DAX write columns as 'Table'[Column] and measures as [Measure].`,
  ];
  if (wanted) {
    const missing = options.tables!.filter(
      (t) => !schema.tables.some((s) => s.name.toLowerCase() === t.toLowerCase()),
    );
    if (missing.length > 0)
      head.push(
        `No table is named ${missing.map((m) => `'${m}'`).join(', ')}; the tables are ${schema.tables.map((t) => t.name).join(', ')}.`,
      );
  }
  if (hiddenLeftOut > 0)
    head.push(
      `${hiddenLeftOut} hidden tables, columns or measures left out (include_hidden: true shows them).`,
    );
  if (omitted.length > 0)
    head.push(
      `Cut at ${options.maxBytes / 1024} KB: ${omitted.length} more tables (${omitted.join(', ')}); ask for them with \`tables\`.`,
    );
  for (const note of schema.notes) head.push(`Note: ${note}.`);
  const body =
    chunks.length > 0 ? fenceUntrusted(chunks.join('\n\n'), 'Power BI model metadata') : '(no tables)';
  return {
    text: `${head.join('\n')}\n\n${body}`,
    tables: kept,
    relationships,
    truncated: omitted.length > 0,
    omittedTables: omitted,
    hiddenLeftOut,
  };
}

function renderTable(table: SchemaTable): string {
  const lines = [`## '${table.name}'${table.hidden ? ' (hidden)' : ''}`];
  if (table.description) lines.push(oneLine(table.description, 300));
  if (table.columns.length > 0) {
    lines.push(
      `Columns: ${table.columns
        .map((c) => {
          const bits = [
            c.data_type,
            c.hidden ? 'hidden' : undefined,
            c.expression ? `= ${oneLine(c.expression, 200)}` : undefined,
          ];
          if (c.cardinality !== undefined) bits.push(`${c.cardinality} distinct`);
          if (c.min !== undefined && c.min !== null) bits.push(`${formatValue(c.min)}…${formatValue(c.max)}`);
          const info = bits.filter(Boolean).join(', ');
          return `${c.name}${info ? ` (${info})` : ''}${c.description ? ` "${oneLine(c.description, 160)}"` : ''}`;
        })
        .join('; ')}`,
    );
  }
  for (const m of table.measures) {
    lines.push(
      `- [${m.name}] = ${m.expression ? oneLine(m.expression, 600) : '(expression hidden)'}${m.format_string ? ` (format ${m.format_string})` : ''}${m.hidden ? ' (hidden)' : ''}${m.description ? ` "${oneLine(m.description, 160)}"` : ''}`,
    );
  }
  return lines.join('\n');
}

function formatValue(v: unknown): string {
  return typeof v === 'string' ? v.slice(0, 40) : String(v);
}

function sum<T>(items: T[], f: (t: T) => number): number {
  return items.reduce((n, t) => n + f(t), 0);
}
