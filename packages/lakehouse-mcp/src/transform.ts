/**
 * Transform steps as the model declares them → a validated, engine-neutral plan (`planTransform`). Every refusal
 * names the step, what is wrong and what the columns are at that point; nothing reaches the warehouse before the
 * whole list is valid. `transformToSilver` plans against the tenant's source table, then previews or builds it.
 */
import { untrusted, UserInputError } from '@switchyard/core';
import { sanitizeTableName } from './files.js';
import { parseTableRef } from './lakehouse.js';
import { columnsOrNotFound } from './tools/common.js';
import type {
  ColumnInfo,
  Expr,
  FilterOperator,
  LogicalType,
  PlanColumn,
  PlanStage,
  QueryResult,
  TableRef,
  TenantWarehouse,
  TransformPlan,
} from './warehouse/types.js';

export const STEP_OPS = [
  'rename',
  'cast',
  'trim',
  'lower',
  'upper',
  'parse_date',
  'parse_number',
  'fill_null',
  'drop_columns',
  'filter_rows',
  'deduplicate',
] as const;

export const FILTER_OPERATORS: readonly FilterOperator[] = [
  'eq',
  'ne',
  'lt',
  'le',
  'gt',
  'ge',
  'in',
  'not_in',
  'is_null',
  'not_null',
  'contains',
  'starts_with',
];

/** A step as the tool receives it: one flat object whose fields depend on `op`. */
export interface StepInput {
  op: (typeof STEP_OPS)[number];
  column?: string | undefined;
  columns?: string[] | undefined;
  to?: string | undefined;
  format?: string | undefined;
  decimal_separator?: '.' | ',' | undefined;
  value?: unknown;
  operator?: FilterOperator | undefined;
  order_by?: string | undefined;
  descending?: boolean | undefined;
}

const TYPE_NAMES: Record<string, LogicalType> = {
  boolean: { kind: 'boolean' },
  smallint: { kind: 'int16' },
  integer: { kind: 'int32' },
  int: { kind: 'int32' },
  bigint: { kind: 'int64' },
  real: { kind: 'float32' },
  float: { kind: 'float32' },
  double: { kind: 'float64' },
  text: { kind: 'text' },
  varchar: { kind: 'text' },
  date: { kind: 'date' },
  time: { kind: 'time' },
  timestamp: { kind: 'timestamp' },
  timestamptz: { kind: 'timestamptz' },
  interval: { kind: 'interval' },
  uuid: { kind: 'uuid' },
  json: { kind: 'json' },
};

export const TYPE_LIST =
  'boolean, smallint, integer, bigint, real, double, decimal(p,s), text, date, time, timestamp, timestamptz, interval, uuid, json';

/** Parse a type the model names (`decimal(12,2)`, `bigint`, `text`). */
export function parseTypeName(name: string): LogicalType | undefined {
  const t = name.trim().toLowerCase();
  const dec = /^(decimal|numeric)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(t);
  if (dec) {
    const precision = Number(dec[2]);
    const scale = Number(dec[3]);
    return precision >= 1 && precision <= 38 && scale <= precision
      ? { kind: 'decimal', precision, scale }
      : undefined;
  }
  return TYPE_NAMES[t];
}

const NUMERIC = new Set(['int16', 'int32', 'int64', 'float32', 'float64', 'decimal']);
const NAME = /^[A-Za-z_][A-Za-z0-9_ ]{0,62}$/;

interface Col {
  name: string;
  type: LogicalType | undefined;
  engineType: string;
}

function typeLabel(c: Col): string {
  return c.engineType;
}

export function planTransform(options: {
  source: TableRef;
  target: TableRef;
  sourceColumns: ColumnInfo[];
  steps: StepInput[];
  onInvalid: 'fail' | 'null';
  /** The warehouse's own type names as logical types. */
  logicalOf: (engineType: string) => LogicalType | undefined;
}): TransformPlan {
  let cols: Col[] = options.sourceColumns.map((c) => ({
    name: c.name,
    type: options.logicalOf(c.type),
    engineType: c.type,
  }));
  const stages: PlanStage[] = [];
  const lenient = options.onInvalid === 'null';

  options.steps.forEach((step, index) => {
    const where = `Step ${index + 1} (${step.op})`;
    const names = () => cols.map((c) => c.name).join(', ');
    const refuse = (why: string): never => {
      throw new UserInputError(`${where} is invalid: ${why}`, {
        hint: `The columns before this step are: ${untrusted(names(), 1000)}. Nothing was changed`,
      });
    };
    const find = (name: string | undefined, field = 'column'): Col => {
      if (!name) return refuse(`it needs '${field}'`);
      const found =
        cols.find((c) => c.name === name) ?? cols.find((c) => c.name.toLowerCase() === name.toLowerCase());
      return found ?? refuse(`there is no column '${name}'`);
    };
    const project = (change: (c: Col) => { col: Col; expr: Expr } | undefined) => {
      const columns: PlanColumn[] = [];
      const next: Col[] = [];
      for (const c of cols) {
        const changed = change(c);
        const col = changed?.col ?? c;
        columns.push({ name: col.name, expr: changed?.expr ?? { kind: 'column', name: c.name } });
        next.push(col);
      }
      stages.push({ kind: 'project', columns });
      cols = next;
    };
    const needText = (c: Col) => {
      if (c.type?.kind !== 'text')
        refuse(`'${c.name}' is ${typeLabel(c)}, and ${step.op} needs a text column`);
    };
    const targetType = (allowed?: (t: LogicalType) => boolean): LogicalType => {
      const t = step.to ? parseTypeName(step.to) : undefined;
      if (!t) return refuse(`'to' must be one of ${TYPE_LIST}`);
      if (allowed && !allowed(t)) return refuse(`'to' cannot be ${step.to} for ${step.op}`);
      return t;
    };

    switch (step.op) {
      case 'rename': {
        const c = find(step.column);
        if (!step.to || !NAME.test(step.to))
          refuse(`'to' must be a column name of letters, digits, spaces or underscores`);
        if (cols.some((o) => o !== c && o.name.toLowerCase() === step.to!.toLowerCase()))
          refuse(`a column named '${step.to}' already exists`);
        project((o) =>
          o === c ? { col: { ...o, name: step.to! }, expr: { kind: 'column', name: o.name } } : undefined,
        );
        break;
      }
      case 'cast': {
        const c = find(step.column);
        const to = targetType();
        project((o) =>
          o === c
            ? {
                col: { name: o.name, type: to, engineType: step.to!.toUpperCase() },
                expr: { kind: 'cast', expr: { kind: 'column', name: o.name }, to, lenient },
              }
            : undefined,
        );
        break;
      }
      case 'trim':
      case 'lower':
      case 'upper': {
        const c = find(step.column);
        needText(c);
        const fn = step.op;
        project((o) =>
          o === c
            ? { col: o, expr: { kind: 'call', fn, expr: { kind: 'column', name: o.name } } }
            : undefined,
        );
        break;
      }
      case 'parse_date': {
        const c = find(step.column);
        needText(c);
        if (!step.format || !step.format.includes('%'))
          refuse(`'format' must be a strftime pattern such as %Y-%m-%d or %d/%m/%Y %H:%M`);
        const to: 'date' | 'timestamp' =
          step.to === 'timestamp'
            ? 'timestamp'
            : step.to === undefined || step.to === 'date'
              ? 'date'
              : refuse(`'to' must be date or timestamp`);
        const parsed: Expr = {
          kind: 'parse_date',
          expr: { kind: 'column', name: c.name },
          format: step.format!,
          to,
          lenient,
        };
        project((o) =>
          o === c
            ? {
                col: { name: o.name, type: { kind: to }, engineType: to.toUpperCase() },
                expr: parsed,
              }
            : undefined,
        );
        break;
      }
      case 'parse_number': {
        const c = find(step.column);
        needText(c);
        const to = step.to ? targetType((t) => NUMERIC.has(t.kind)) : ({ kind: 'float64' } as LogicalType);
        const expr: Expr = {
          kind: 'parse_number',
          expr: { kind: 'column', name: c.name },
          decimalSeparator: step.decimal_separator ?? '.',
          to,
          lenient,
        };
        project((o) =>
          o === c
            ? {
                col: { name: o.name, type: to, engineType: (step.to ?? 'double').toUpperCase() },
                expr,
              }
            : undefined,
        );
        break;
      }
      case 'fill_null': {
        const c = find(step.column);
        if (
          step.value === undefined ||
          step.value === null ||
          !['string', 'number', 'boolean'].includes(typeof step.value)
        )
          refuse(`'value' must be a string, number or boolean`);
        if (!c.type) refuse(`'${c.name}' is ${typeLabel(c)}, which fill_null does not support`);
        const value = step.value as string | number | boolean;
        if (
          typeof value === 'string' &&
          c.type!.kind !== 'text' &&
          NUMERIC.has(c.type!.kind) &&
          Number.isNaN(Number(value))
        )
          refuse(`'${value}' is not a number, and '${c.name}' is ${typeLabel(c)}`);
        project((o) =>
          o === c
            ? {
                col: o,
                expr: { kind: 'coalesce', expr: { kind: 'column', name: o.name }, value, valueType: o.type! },
              }
            : undefined,
        );
        break;
      }
      case 'drop_columns': {
        if (!step.columns || step.columns.length === 0) refuse(`it needs 'columns', a list of names`);
        const drop = new Set(step.columns!.map((n) => find(n, 'columns')));
        if (drop.size >= cols.length) refuse('it would drop every column');
        const kept = cols.filter((c) => !drop.has(c));
        stages.push({
          kind: 'project',
          columns: kept.map((c) => ({ name: c.name, expr: { kind: 'column', name: c.name } })),
        });
        cols = kept;
        break;
      }
      case 'filter_rows': {
        const c = find(step.column);
        const op = step.operator ?? refuse(`it needs 'operator', one of ${FILTER_OPERATORS.join(', ')}`);
        let values: unknown[] = [];
        if (op === 'in' || op === 'not_in') {
          if (!Array.isArray(step.value) || step.value.length === 0 || step.value.length > 1000)
            refuse(`'value' must be a list of 1 to 1000 values for ${op}`);
          values = step.value as unknown[];
        } else if (op !== 'is_null' && op !== 'not_null') {
          if (step.value === undefined || step.value === null || typeof step.value === 'object')
            refuse(`'value' must be a string, number or boolean for ${op}`);
          values = [step.value];
        }
        if (values.some((v) => v === null || typeof v === 'object'))
          refuse(`every value must be a string, number or boolean`);
        stages.push({ kind: 'filter', column: c.name, operator: op, values });
        break;
      }
      case 'deduplicate': {
        if (!step.columns || step.columns.length === 0) refuse(`it needs 'columns', the key columns`);
        const keys = step.columns!.map((n) => find(n, 'columns').name);
        const orderBy = step.order_by ? find(step.order_by, 'order_by').name : undefined;
        stages.push({ kind: 'dedup', keys, orderBy, descending: step.descending ?? true });
        break;
      }
    }
  });
  return { source: options.source, target: options.target, stages };
}

/** `lakehouse_transform_to_silver`'s arguments. */
export interface TransformRequest {
  source_table: string;
  target_table?: string | undefined;
  steps: StepInput[];
  on_invalid: 'fail' | 'null';
  dry_run: boolean;
}

/** What a transform planned, and then either its preview (a dry run) or the rows it wrote. */
export type TransformOutcome = {
  source: TableRef;
  target: TableRef;
  /** The statement with its parameters, as the warehouse runs it. */
  sql: string;
  columns: Array<{ name: string; type: string }>;
} & (
  | {
      dryRun: true;
      /** The first rows (from the source's data: the caller fences them). */
      preview: QueryResult;
    }
  | { dryRun: false; rows: number }
);

/**
 * A request checked and planned against the source's columns (one catalog read), before anything is written: the
 * transform and its confirmation both start here, so the user is asked only about a transform that would run.
 */
export async function planTransformRequest(
  tenant: TenantWarehouse,
  request: TransformRequest,
): Promise<TransformPlan> {
  const source = parseTableRef(request.source_table, tenant.catalog);
  if (source.layer === 'gold') throw new UserInputError('Transforms read from bronze or silver, not gold');
  const sourceColumns = await columnsOrNotFound(tenant, source, { gold: false });
  const target: TableRef = {
    layer: 'silver',
    name: sanitizeTableName(request.target_table ?? source.name),
  };
  if (source.layer === 'silver' && source.name === target.name) {
    throw new UserInputError('The target cannot be the source table itself; choose another target_table');
  }
  return planTransform({
    source,
    target,
    sourceColumns,
    steps: request.steps,
    onInvalid: request.on_invalid,
    logicalOf: (t) => tenant.logicalType(t),
  });
}

/** Build silver.<target> from a bronze or silver table by the steps, atomically; a dry run writes nothing. */
export async function transformToSilver(
  tenant: TenantWarehouse,
  request: TransformRequest,
): Promise<TransformOutcome> {
  const plan = await planTransformRequest(tenant, request);
  const { source, target } = plan;
  const rendered = tenant.renderTransform(plan);
  const sql = `${rendered.sql}${rendered.params.length ? `\n-- parameters: ${JSON.stringify(rendered.params)}` : ''}`;
  const preview = await tenant.previewTransform(plan, request.dry_run ? 5 : 0);
  const columns = preview.columns.map((c) => ({ name: c.name, type: c.type }));
  if (request.dry_run) return { source, target, sql, columns, dryRun: true, preview };
  const { rows } = await tenant.runTransform(plan, {
    target,
    kind: 'transform',
    inputs: [`${source.layer}.${source.name}`],
    definition: JSON.stringify({ steps: request.steps, on_invalid: request.on_invalid }),
  });
  return { source, target, sql, columns, dryRun: false, rows };
}
