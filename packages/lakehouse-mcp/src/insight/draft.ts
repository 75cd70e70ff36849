/**
 * A query drafted from a question by matching its words to tables and columns, with aggregations, a time grain and
 * filters; and the SQL taken out of a model's answer. No model is needed for the draft.
 */
import type { ColumnInfo, LogicalType, QueryDraft, TableRef, TableSummary } from '../warehouse/types.js';
import { AMOUNT, NUMERIC, singular, TIME } from './vocabulary.js';

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

/** The SQL in a model's answer: a ```sql fence, or the whole answer when it starts like a query. */
export function sqlFromAnswer(answer: string): string | undefined {
  const fenced = /```(?:sql)?\s*\n([\s\S]*?)```/i.exec(answer);
  const text = (fenced ? fenced[1]! : answer).trim().replace(/;\s*$/, '');
  return /^(select|with)\b/i.test(text) ? text : undefined;
}
