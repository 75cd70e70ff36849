import type { ColumnInfo, ColumnInsight, TableInsights } from './types.js';
import { INSPECT_SAMPLE_ROWS } from './types.js';

const num = (v: unknown): number | null => (v === null || v === undefined || v === '' ? null : Number(v));

/**
 * The row of a dialect's `inspect` scan (count, then 10 values per column) → per-column insights; `totalRows`
 * is the table's size, which decided whether the scan read a sample.
 */
export function insightsFrom(row: unknown[], columns: ColumnInfo[], totalRows: number): TableInsights {
  const scanned = Number(row[0] ?? 0);
  const out = columns.map((c, i) => {
    const v = row.slice(1 + i * 10, 11 + i * 10);
    const nonNull = Number(v[0] ?? 0);
    const insight: ColumnInsight = { name: c.name, distinct: num(v[1]) };
    if (v[2] !== null && v[2] !== undefined) {
      const q = (Array.isArray(v[4]) ? v[4] : typeof v[4] === 'string' ? JSON.parse(v[4]) : []) as unknown[];
      insight.numeric = {
        mean: num(v[2]),
        stddev: num(v[3]),
        p01: num(q[0]),
        p25: num(q[1]),
        p50: num(q[2]),
        p75: num(q[3]),
        p99: num(q[4]),
      };
    }
    if (v[5] !== null && v[5] !== undefined) {
      const share = (x: unknown) =>
        nonNull === 0 ? 0 : Math.round((Number(x ?? 0) / nonNull) * 1000) / 1000;
      insight.text = {
        number: share(v[5]),
        date: share(v[6]),
        email: share(v[7]),
        phone: share(v[8]),
        avgLength: num(v[9]) === null ? null : Math.round(num(v[9])! * 10) / 10,
      };
    }
    return insight;
  });
  return { scanned, sampled: totalRows > INSPECT_SAMPLE_ROWS, columns: out };
}
