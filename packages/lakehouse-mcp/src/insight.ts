/**
 * The deterministic analysis behind the AI-assisted tools: column roles, keys, join paths and quality flags
 * from a profile and one bounded scan; a query drafted from a question by matching its words to tables and
 * columns; a result summarized (shape, per-column statistics, top groups, changes over time). No model is
 * needed for any of it; a host model, where offered, only adds a narrative or a second draft.
 */
import type {
  ColumnInfo,
  ColumnInsight,
  ColumnProfile,
  LogicalType,
  QueryDraft,
  TableRef,
  TableSummary,
} from './warehouse/types.js';

export type Role =
  | 'id'
  | 'foreign key candidate'
  | 'timestamp'
  | 'amount'
  | 'measure'
  | 'category'
  | 'flag'
  | 'free text'
  | 'text'
  | 'pii: e-mail'
  | 'pii: phone'
  | 'pii: name'
  | 'other';

export interface ColumnAnalysis {
  name: string;
  type: string;
  role: Role;
  notes: string[];
}

export interface SchemaAnalysis {
  columns: ColumnAnalysis[];
  candidateKeys: string[];
  joinPaths: string[];
  flags: string[];
}

const NUMERIC = new Set(['int16', 'int32', 'int64', 'float32', 'float64', 'decimal']);
const TIME = new Set(['date', 'timestamp', 'timestamptz']);
const AMOUNT =
  /(amount|price|total|revenue|cost|fee|balance|salary|spend|sales|value|paid|tax|discount|margin|profit)/i;
const TIME_NAME = /(_at|_on|_date|_time|^date|^time|timestamp|^day$|^month$|created|updated|modified)$/i;
// customer_id, order_key, sku_code, customerId — but not paid, valid or amount_paid.
const KEY_NAME = /_(id|key|code|uuid)$/i;
const CAMEL_KEY_NAME = /[a-z0-9](Id|ID|Key|Code|Uuid)$/;
const NAME_PII =
  /^(first_?name|last_?name|full_?name|surname|given_?name|customer_?name|contact_?name|name)$/i;

/** Names that say "this identifies a row": id, *_id, code, key, number, uuid, sku, … */
const KEY_WORD =
  /(^|_)(id|key|code|number|no|nr|num|uuid|guid|sku|ref|reference|slug|email|e_?mail|login|username)$/i;
const CAMEL_KEY_WORD = /[a-z0-9](Id|ID|Key|Code|Number|Uuid|Ref)$/;
const INTEGER = new Set(['int16', 'int32', 'int64']);

/**
 * Uniqueness in a sample is not enough for a key: amounts and timestamps are often unique by chance. A
 * candidate also needs a key-like name, or a key-like type (an integer that is not named like an amount, a
 * UUID, a short text); floats, decimals, dates, timestamps and booleans never qualify.
 */
function keyLike(
  name: string,
  kind: LogicalType['kind'] | undefined,
  type: string,
  avgLength: number | null,
): boolean {
  if (kind === 'float32' || kind === 'float64' || kind === 'decimal' || kind === 'boolean') return false;
  if (kind && TIME.has(kind)) return false;
  if (kind === undefined && /^(float|double|real|decimal|numeric|date|time|bool)/i.test(type)) return false;
  if (KEY_WORD.test(name) || CAMEL_KEY_WORD.test(name)) return true;
  if (kind === 'uuid') return true;
  if (kind && INTEGER.has(kind)) return !AMOUNT.test(name);
  if (kind === 'text' || (!kind && /string|varchar|char/i.test(type)))
    return avgLength === null || avgLength <= 64;
  return false;
}

function singular(word: string): string {
  const w = word.toLowerCase();
  if (w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  if (w.endsWith('ses') || w.endsWith('xes')) return w.slice(0, -2);
  if (w.endsWith('s') && !w.endsWith('ss')) return w.slice(0, -1);
  return w;
}

/** Roles, keys, join paths and flags for one table. */
export function analyzeTable(options: {
  ref: TableRef;
  rows: number;
  columns: ColumnInfo[];
  profiles: ColumnProfile[];
  insights: ColumnInsight[];
  scanned: number;
  logical: (type: string) => LogicalType | undefined;
  /** The other tables with their columns (for join paths). */
  others: Array<{ ref: TableRef; columns: ColumnInfo[] }>;
}): SchemaAnalysis {
  const { ref, rows, scanned } = options;
  const own = singular(ref.name);
  const analysis: ColumnAnalysis[] = [];
  const candidateKeys: string[] = [];
  const flags: string[] = [];
  const joinPaths: string[] = [];
  options.columns.forEach((c, i) => {
    const p = options.profiles[i];
    const ins = options.insights[i];
    const kind = options.logical(c.type)?.kind;
    const notes: string[] = [];
    const name = c.name.toLowerCase();
    const nonNull =
      p?.nullShare === null || p?.nullShare === undefined ? scanned : Math.round(scanned * (1 - p.nullShare));
    const distinct = ins?.distinct ?? p?.approxDistinct ?? null;
    const unique = distinct !== null && scanned > 0 && distinct === scanned && (p?.nullShare ?? 0) === 0;
    if (unique && scanned > 1 && keyLike(c.name, kind, c.type, ins?.text?.avgLength ?? null))
      candidateKeys.push(c.name);
    let role: Role = 'other';
    const text = ins?.text;
    if (text && text.email >= 0.8) role = 'pii: e-mail';
    else if (text && text.phone >= 0.8 && /phone|mobile|tel|fax|cell/i.test(name)) role = 'pii: phone';
    else if (text && text.phone >= 0.95 && text.number < 0.5) role = 'pii: phone';
    else if (name === 'id' || name === `${own}_id` || name === `${own}id`)
      role = unique || scanned <= 1 ? 'id' : 'foreign key candidate';
    else if (KEY_NAME.test(name) || CAMEL_KEY_NAME.test(c.name))
      role = unique ? 'id' : 'foreign key candidate';
    else if (kind && TIME.has(kind)) role = 'timestamp';
    else if (kind === 'boolean') role = 'flag';
    else if (kind && NUMERIC.has(kind)) role = AMOUNT.test(name) ? 'amount' : 'measure';
    else if (kind === 'text' || (!kind && /string|varchar/i.test(c.type))) {
      if (NAME_PII.test(name)) role = 'pii: name';
      else if (
        distinct !== null &&
        nonNull > 0 &&
        (distinct <= 50 || distinct / nonNull <= 0.05) &&
        distinct < nonNull
      )
        role = 'category';
      else if (text && text.avgLength !== null && text.avgLength >= 30) role = 'free text';
      else role = unique ? 'id' : 'text';
      if (TIME_NAME.test(name) && text && text.date >= 0.9) role = 'timestamp';
    }
    // Quality flags.
    if (p && p.nullShare !== null && p.nullShare >= 0.5 && rows > 0) {
      flags.push(`${c.name}: null-heavy (${Math.round(p.nullShare * 100)}% empty)`);
    }
    if (distinct === 1 && nonNull > 1)
      flags.push(`${c.name}: constant (one value${p?.min ? ` '${p.min}'` : ''})`);
    if (text && nonNull > 0) {
      if (text.number >= 0.95) {
        flags.push(
          `${c.name}: numbers stored as text (${pct(text.number)} parse as numbers; cast or parse_number)`,
        );
        notes.push('numbers stored as text');
      } else if (text.date >= 0.95) {
        flags.push(`${c.name}: dates stored as text (${pct(text.date)} parse as timestamps; parse_date)`);
        notes.push('dates stored as text');
      } else if (text.number >= 0.05 && text.number < 0.95 && role !== 'pii: phone') {
        flags.push(`${c.name}: mixed types (${pct(text.number)} numbers, the rest text)`);
      } else if (text.date >= 0.05 && text.date < 0.95) {
        flags.push(`${c.name}: mixed types (${pct(text.date)} dates, the rest text)`);
      }
    }
    const q = ins?.numeric;
    if (q && q.p25 !== null && q.p75 !== null && p && p.min !== null && p.max !== null) {
      const iqr = q.p75 - q.p25;
      const hi = q.p75 + 3 * iqr;
      const lo = q.p25 - 3 * iqr;
      const max = Number(p.max);
      const min = Number(p.min);
      if (iqr > 0 && (max > hi || min < lo)) {
        const which = [max > hi ? `max ${p.max}` : '', min < lo ? `min ${p.min}` : '']
          .filter(Boolean)
          .join(', ');
        flags.push(`${c.name}: outliers (${which} beyond 3×IQR of ${fmt(q.p25)}–${fmt(q.p75)})`);
      }
    }
    if (role.startsWith('pii')) notes.push('personal data: mask or drop before sharing');
    analysis.push({ name: c.name, type: c.type, role, notes });
  });
  // Join paths: a foreign key candidate whose stem names another table with a matching key column.
  for (const a of analysis) {
    if (a.role !== 'foreign key candidate' && a.role !== 'id') continue;
    const stem = a.name.toLowerCase().replace(/_?(id|key|code|uuid)$/i, '');
    for (const other of options.others) {
      const otherStem = singular(other.ref.name);
      const match =
        (stem &&
          (otherStem === singular(stem) || otherStem.endsWith(`_${singular(stem)}`)) &&
          other.columns.find(
            (c) => c.name.toLowerCase() === 'id' || c.name.toLowerCase() === a.name.toLowerCase(),
          )) ||
        (a.role === 'foreign key candidate' && a.name.toLowerCase() !== 'id'
          ? other.columns.find((c) => c.name.toLowerCase() === a.name.toLowerCase())
          : undefined);
      if (match && !(other.ref.layer === ref.layer && other.ref.name === ref.name)) {
        joinPaths.push(
          `${ref.layer}.${ref.name}.${a.name} = ${other.ref.layer}.${other.ref.name}.${match.name}`,
        );
      }
    }
  }
  // And the other way: this table's key named `<table>_id` in another table.
  for (const a of analysis) {
    const name = a.name.toLowerCase();
    if (a.role !== 'id' || (name !== 'id' && name !== `${own}_id`)) continue;
    for (const other of options.others) {
      const match = other.columns.find((c) => c.name.toLowerCase() === `${own}_id`);
      if (match && !(other.ref.layer === ref.layer && other.ref.name === ref.name)) {
        joinPaths.push(
          `${ref.layer}.${ref.name}.${a.name} = ${other.ref.layer}.${other.ref.name}.${match.name}`,
        );
      }
    }
  }
  return { columns: analysis, candidateKeys, joinPaths: [...new Set(joinPaths)].slice(0, 20), flags };
}

const pct = (x: number) => `${Math.round(x * 100)}%`;
const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));

// ---- questions → a query draft

const STOP = new Set(
  'a an the of in on for by per to from with and or is are was were what which who how many much show me list give get all each every there their its top most least by over during last this that do does did'.split(
    ' ',
  ),
);

function words(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9_ ]+/g, ' ')
    .split(/\s+/)
    .filter((w) => w && !STOP.has(w))
    .map(singular);
}

function nameWords(name: string): string[] {
  return name
    .toLowerCase()
    .split(/[_\s]+/)
    .filter(Boolean)
    .map(singular);
}

export interface DraftCandidate {
  ref: TableRef;
  kind: TableSummary['kind'];
  columns: ColumnInfo[];
}

export interface DraftResult {
  draft: QueryDraft;
  tables: string[];
  columns: string[];
  notes: string[];
}

/** Match a question's words to one table's columns, aggregations and a time grain. */
export function draftQuery(
  question: string,
  candidates: DraftCandidate[],
  logical: (type: string) => LogicalType | undefined,
): DraftResult | undefined {
  const q = question.toLowerCase();
  const ws = words(question);
  const layerRank = { gold: 3, silver: 2, bronze: 1 } as const;
  const scored = candidates
    .map((t) => {
      let score = 0;
      const tableWords = nameWords(t.ref.name);
      for (const w of ws) if (tableWords.includes(w)) score += 3;
      for (const c of t.columns) for (const w of ws) if (nameWords(c.name).includes(w)) score += 2;
      return { t, score: score * 10 + layerRank[t.ref.layer] };
    })
    .sort((a, b) => b.score - a.score || a.t.ref.name.localeCompare(b.t.ref.name));
  const best = scored[0]?.t;
  if (!best) return undefined;
  const notes: string[] = [];
  const kindOf = (c: ColumnInfo) => logical(c.type)?.kind;
  const mentioned = (c: ColumnInfo) => nameWords(c.name).some((w) => ws.includes(w));
  const numeric = best.columns.filter((c) => NUMERIC.has(kindOf(c) ?? '') && !/(^id$|_id$)/i.test(c.name));
  const times = best.columns.filter((c) => TIME.has(kindOf(c) ?? ''));
  const texts = best.columns.filter((c) => kindOf(c) === 'text');
  const used = new Set<string>();
  const draft: QueryDraft = { table: best.ref, columns: [], measures: [], groups: [], limit: 100 };

  // The grouping: "by X", "per X", "for each X", or a time grain.
  const grain = /\b(daily|per day|by day|each day)\b/.test(q)
    ? 'day'
    : /\b(weekly|per week|by week|each week)\b/.test(q)
      ? 'week'
      : /\b(monthly|per month|by month|each month|month over month|trend)\b/.test(q)
        ? 'month'
        : /\b(quarterly|per quarter|by quarter)\b/.test(q)
          ? 'quarter'
          : /\b(yearly|annual|per year|by year|each year)\b/.test(q)
            ? 'year'
            : undefined;
  const timeCol =
    times.find(mentioned) ?? times.find((c) => /(created|ordered|order|date|_at)/i.test(c.name)) ?? times[0];
  if (grain && timeCol) {
    draft.groups.push({ column: timeCol.name, grain, as: grain });
    used.add(timeCol.name);
  } else if (grain)
    notes.push(
      `the question asks for a ${grain}ly breakdown, but ${best.ref.layer}.${best.ref.name} has no date or timestamp column`,
    );
  const byMatch = /\b(?:by|per|for each|each|across)\s+([a-z0-9_ ]+)/.exec(q);
  const topMatch = /\b(?:top|bottom|best|worst|first)\s+\d+\s+([a-z0-9_]+)/.exec(q);
  const AGG_WORDS = new Set([
    'average',
    'avg',
    'mean',
    'total',
    'sum',
    'count',
    'number',
    'max',
    'maximum',
    'min',
    'minimum',
  ]);
  const groupable = (w: string) =>
    best.columns.find(
      (c) =>
        !used.has(c.name) &&
        !TIME.has(kindOf(c) ?? '') &&
        nameWords(c.name).includes(w) &&
        !(kindOf(c) && NUMERIC.has(kindOf(c)!) && !/_id$|_key$|_code$/i.test(c.name)),
    );
  const entities = [
    ...(byMatch ? words(byMatch[1]!).filter((w) => !AGG_WORDS.has(w)) : []),
    ...(topMatch ? [singular(topMatch[1]!)] : []),
  ];
  for (const w of entities) {
    const col = groupable(w);
    if (col) {
      draft.groups.push({ column: col.name, as: col.name });
      used.add(col.name);
      break;
    }
  }

  // The measure.
  const measureCol =
    numeric.find((c) => mentioned(c) && !used.has(c.name)) ??
    numeric.find((c) => AMOUNT.test(c.name)) ??
    numeric[0];
  const wants = (re: RegExp) => re.test(q);
  if (wants(/\b(how many|count|number of)\b/)) {
    const distinctOf = /\b(distinct|unique|different)\s+([a-z0-9_]+)/.exec(q);
    const col = distinctOf
      ? best.columns.find((c) => nameWords(c.name).includes(singular(distinctOf[2]!)))
      : undefined;
    draft.measures.push(
      col
        ? { fn: 'count_distinct', column: col.name, as: `distinct_${col.name}` }
        : { fn: 'count', as: 'count' },
    );
    if (col) used.add(col.name);
  }
  const agg = wants(/\b(average|avg|mean)\b/)
    ? 'avg'
    : wants(/\b(total|sum|revenue|overall)\b/)
      ? 'sum'
      : wants(/\b(maximum|max|highest|largest|biggest)\b/)
        ? 'max'
        : wants(/\b(minimum|min|lowest|smallest|cheapest)\b/)
          ? 'min'
          : undefined;
  if (agg && measureCol) {
    draft.measures.push({ fn: agg, column: measureCol.name, as: `${agg}_${measureCol.name}` });
    used.add(measureCol.name);
  } else if (agg)
    notes.push(`no numeric column of ${best.ref.layer}.${best.ref.name} matches the question for ${agg}`);
  if (draft.groups.length && draft.measures.length === 0) {
    draft.measures.push(
      measureCol
        ? { fn: 'sum', column: measureCol.name, as: `sum_${measureCol.name}` }
        : { fn: 'count', as: 'count' },
    );
    if (measureCol) used.add(measureCol.name);
  }

  // Filters: "last N days/months/years", "in 2024".
  const since = /\b(?:last|past|previous)\s+(\d{1,4})?\s*(day|week|month|year)s?\b/.exec(q);
  if (since && timeCol) {
    const n = Number(since[1] ?? 1);
    const unit = since[2] === 'week' ? 'day' : (since[2] as 'day' | 'month' | 'year');
    draft.since = { column: timeCol.name, amount: since[2] === 'week' ? n * 7 : n, unit };
    used.add(timeCol.name);
  }
  const year = /\b(?:in|during|for)\s+((?:19|20)\d\d)\b/.exec(q);
  if (year && timeCol) {
    draft.year = { column: timeCol.name, year: Number(year[1]) };
    used.add(timeCol.name);
  }

  // Order and limit.
  const top = /\b(?:top|first|best|worst|bottom)\s+(\d{1,4})\b/.exec(q);
  if (draft.measures.length) {
    const first = draft.measures[draft.measures.length - 1]!;
    if (draft.groups.some((g) => g.grain) && !top)
      draft.order = { by: draft.groups.find((g) => g.grain)!.as, descending: false };
    else if (draft.groups.length)
      draft.order = { by: first.as, descending: !/\b(bottom|worst|least|lowest)\b/.test(q) };
  }
  if (top) draft.limit = Math.min(1000, Number(top[1]));
  else if (draft.groups.length === 0 && draft.measures.length) draft.limit = 1;
  if (draft.measures.length === 0) {
    draft.columns = best.columns.filter((c) => mentioned(c)).map((c) => c.name);
    if (draft.columns.length === 0) draft.columns = best.columns.slice(0, 12).map((c) => c.name);
    for (const c of draft.columns) used.add(c);
    const order = times[0];
    if (order) draft.order = { by: order.name, descending: true };
    draft.limit = top ? draft.limit : 20;
  }
  if (texts.length === 0 && byMatch && !draft.groups.some((g) => !g.grain))
    notes.push(`no column of ${best.ref.layer}.${best.ref.name} matches '${byMatch[1]!.trim()}'`);
  return {
    draft,
    tables: [`${best.ref.layer}.${best.ref.name}`],
    columns: [...used],
    notes,
  };
}

// ---- a result summarized

export interface ResultSummary {
  shape: { rows: number; columns: number; truncated: boolean };
  columns: Array<Record<string, unknown>>;
  topGroups: Array<{ group: string; value: number }> | undefined;
  topGroupsBy: string | undefined;
  trend:
    | { by: string; measure: string; points: Array<{ period: string; value: number }>; changes: string[] }
    | undefined;
  lines: string[];
}

function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  return undefined;
}

/**
 * A date or timestamp as the engines print it: `2024-02-29`, `2024-02-29 13:45:30.123456`, with a zone
 * written `+00`, `+0200`, `+02:00` or `Z` (DuckDB prints TIMESTAMPTZ as `… 08:00:00+00`, which Date cannot
 * read as such), with any number of fraction digits (TIMESTAMP_NS has nine).
 */
const DATE_TEXT =
  /^(\d{4}-\d\d-\d\d)(?:[ T](\d\d:\d\d(?::\d\d)?)(?:\.(\d+))?\s*(Z|[+-]\d\d(?::?\d\d)?(?::\d\d)?)?)?$/i;

function asDate(v: unknown): Date | undefined {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : v;
  if (typeof v !== 'string') return undefined;
  const m = DATE_TEXT.exec(v.trim());
  if (!m) return undefined;
  const [, day, time = '00:00:00', fraction = '', zone = 'Z'] = m;
  const offset = /^z$/i.test(zone)
    ? 'Z'
    : `${zone.slice(0, 3)}:${zone.slice(3).replace(':', '').slice(0, 2).padEnd(2, '0')}`;
  const d = new Date(
    `${day}T${time.length === 5 ? `${time}:00` : time}.${fraction.slice(0, 3).padEnd(3, '0')}${offset}`,
  );
  return Number.isNaN(d.getTime()) ? undefined : d;
}

const round = (x: number) => Math.round(x * 100) / 100;

/** Shape, per-column statistics, top groups and changes over time of a bounded result. */
export function summarizeResult(
  columns: ColumnInfo[],
  rows: unknown[][],
  truncated: boolean,
  logical: (type: string) => LogicalType | undefined,
): ResultSummary {
  const stats: Array<Record<string, unknown>> = [];
  const kinds: Array<'number' | 'date' | 'text'> = [];
  columns.forEach((c, i) => {
    const values = rows.map((r) => r[i]).filter((v) => v !== null && v !== undefined);
    const nulls = rows.length - values.length;
    const lk = logical(c.type)?.kind;
    const nums = values.map(asNumber);
    const isNumber =
      (lk ? NUMERIC.has(lk) : false) ||
      (values.length > 0 && nums.every((x) => x !== undefined) && !(lk && (lk === 'text' || TIME.has(lk))));
    const dates = values.map(asDate);
    const isDate =
      !isNumber &&
      ((lk ? TIME.has(lk) : false) || (values.length > 0 && dates.every((d) => d !== undefined)));
    if (isNumber) {
      const xs = (nums.filter((x) => x !== undefined) as number[]).sort((a, b) => a - b);
      const mean = xs.reduce((a, b) => a + b, 0) / (xs.length || 1);
      kinds.push('number');
      stats.push({
        name: c.name,
        kind: 'number',
        nulls,
        min: xs[0] ?? null,
        max: xs[xs.length - 1] ?? null,
        mean: xs.length ? round(mean) : null,
        median: xs.length ? xs[Math.floor((xs.length - 1) / 2)] : null,
        sum: round(xs.reduce((a, b) => a + b, 0)),
      });
    } else if (isDate) {
      const ds = (dates.filter(Boolean) as Date[]).map((d) => d.toISOString()).sort();
      kinds.push('date');
      stats.push({ name: c.name, kind: 'date', nulls, min: ds[0] ?? null, max: ds[ds.length - 1] ?? null });
    } else {
      const counts = new Map<string, number>();
      for (const v of values) {
        const key = typeof v === 'string' ? v : JSON.stringify(v);
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      const top = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 5);
      kinds.push('text');
      stats.push({
        name: c.name,
        kind: 'text',
        nulls,
        distinct: counts.size,
        top: top.map(([value, count]) => ({ value, count })),
      });
    }
  });
  const lines = [
    `${rows.length} row${rows.length === 1 ? '' : 's'} × ${columns.length} column${columns.length === 1 ? '' : 's'}${truncated ? ' (a bounded part of the result: truncated)' : ''}.`,
  ];
  for (const s of stats) {
    if (s.kind === 'number')
      lines.push(
        `${String(s.name)}: ${String(s.min)} to ${String(s.max)}, mean ${String(s.mean)}, median ${String(s.median)}${s.nulls ? `, ${String(s.nulls)} empty` : ''}.`,
      );
    else if (s.kind === 'date') lines.push(`${String(s.name)}: from ${String(s.min)} to ${String(s.max)}.`);
    else {
      const top = (s.top as Array<{ value: string; count: number }>)
        .map((t) => `${t.value} (${t.count})`)
        .join(', ');
      lines.push(`${String(s.name)}: ${String(s.distinct)} distinct${top ? `; most frequent ${top}` : ''}.`);
    }
  }
  // Top groups: the first text column by the first numeric one (or by row count).
  const g = kinds.indexOf('text');
  const m = kinds.indexOf('number');
  let topGroups: ResultSummary['topGroups'];
  let topGroupsBy: string | undefined;
  if (g >= 0 && rows.length > 1) {
    const totals = new Map<string, number>();
    for (const r of rows) {
      const key = r[g] === null || r[g] === undefined ? '(empty)' : String(r[g]);
      totals.set(key, (totals.get(key) ?? 0) + (m >= 0 ? (asNumber(r[m]) ?? 0) : 1));
    }
    if (totals.size < rows.length || m >= 0) {
      topGroups = [...totals.entries()]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, 5)
        .map(([group, value]) => ({ group, value: round(value) }));
      topGroupsBy = `${columns[g]!.name} by ${m >= 0 ? `sum of ${columns[m]!.name}` : 'rows'}`;
      const total = [...totals.values()].reduce((a, b) => a + b, 0);
      const lead = topGroups[0]!;
      lines.push(
        `Top ${columns[g]!.name} (${m >= 0 ? `sum of ${columns[m]!.name}` : 'rows'}): ${topGroups.map((t) => `${t.group} ${t.value}`).join(', ')}${total > 0 ? ` (${lead.group} is ${Math.round((lead.value / total) * 100)}% of the total)` : ''}.`,
      );
    }
  }
  // Changes over time: the first date column, the first numeric one, by month (by day for short spans).
  const d = kinds.indexOf('date');
  let trend: ResultSummary['trend'];
  if (d >= 0 && m >= 0 && rows.length > 1) {
    const dated = rows
      .map((r) => ({ at: asDate(r[d]), v: asNumber(r[m]) }))
      .filter((x): x is { at: Date; v: number } => x.at !== undefined && x.v !== undefined);
    if (dated.length > 1) {
      const times = dated.map((x) => x.at.getTime());
      const span = Math.max(...times) - Math.min(...times);
      const byDay = span < 62 * 86_400_000;
      const buckets = new Map<string, number>();
      for (const x of dated) {
        const key = x.at.toISOString().slice(0, byDay ? 10 : 7);
        buckets.set(key, (buckets.get(key) ?? 0) + x.v);
      }
      const points = [...buckets.entries()]
        .sort((a, b) => a[0].localeCompare(b[0]))
        .map(([period, value]) => ({ period, value: round(value) }));
      const changes: string[] = [];
      if (points.length >= 2) {
        let biggest: { from: string; to: string; change: number } | undefined;
        for (let i = 1; i < points.length; i++) {
          const prev = points[i - 1]!.value;
          if (prev === 0) continue;
          const change = (points[i]!.value - prev) / Math.abs(prev);
          if (!biggest || Math.abs(change) > Math.abs(biggest.change))
            biggest = { from: points[i - 1]!.period, to: points[i]!.period, change };
        }
        const last = points[points.length - 1]!;
        const before = points[points.length - 2]!;
        if (before.value !== 0)
          changes.push(
            `${last.period} vs ${before.period}: ${signed((last.value - before.value) / Math.abs(before.value))}`,
          );
        if (biggest && biggest.to !== last.period)
          changes.push(`largest change ${biggest.from} → ${biggest.to}: ${signed(biggest.change)}`);
        const first = points[0]!;
        if (first.value !== 0 && points.length > 2)
          changes.push(
            `${first.period} → ${last.period}: ${signed((last.value - first.value) / Math.abs(first.value))}`,
          );
      }
      trend = {
        by: `${columns[d]!.name} (${byDay ? 'day' : 'month'})`,
        measure: columns[m]!.name,
        points: points.slice(-24),
        changes,
      };
      if (changes.length)
        lines.push(
          `${columns[m]!.name} over ${columns[d]!.name} by ${byDay ? 'day' : 'month'}: ${changes.join('; ')}.`,
        );
    }
  }
  return {
    shape: { rows: rows.length, columns: columns.length, truncated },
    columns: stats,
    topGroups,
    topGroupsBy,
    trend,
    lines,
  };
}

function signed(x: number): string {
  const p = Math.round(x * 1000) / 10;
  return `${p >= 0 ? '+' : ''}${p}%`;
}

/** The SQL in a model's answer: a ```sql fence, or the whole answer when it starts like a query. */
export function sqlFromAnswer(answer: string): string | undefined {
  const fenced = /```(?:sql)?\s*\n([\s\S]*?)```/i.exec(answer);
  const text = (fenced ? fenced[1]! : answer).trim().replace(/;\s*$/, '');
  return /^(select|with)\b/i.test(text) ? text : undefined;
}
