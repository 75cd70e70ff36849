/**
 * Odoo keeps datetimes in UTC as "YYYY-MM-DD HH:MM:SS" and dates as "YYYY-MM-DD". People think in their
 * own time zone: "today's orders" are the ones placed since local midnight. These helpers convert
 * between the two with Intl only (no time zone database to ship).
 */
import { UserInputError, wallClock, wallTimeToInstant } from '@switchyard/core';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function odooUtc(instant: Date): string {
  return `${instant.getUTCFullYear()}-${pad(instant.getUTCMonth() + 1)}-${pad(instant.getUTCDate())} ${pad(
    instant.getUTCHours(),
  )}:${pad(instant.getUTCMinutes())}:${pad(instant.getUTCSeconds())}`;
}

const DATETIME = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/** "2025-06-12 08:30:00" (UTC, as Odoo stores it) → "2025-06-12 10:30" in the zone. */
export function utcToLocal(value: string, tz: string): string {
  const m = DATETIME.exec(value);
  if (!m) return value;
  const instant = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0)));
  const [y, mo, d, h, mi] = wallClock(instant, tz);
  return `${y}-${pad(mo)}-${pad(d)} ${pad(h)}:${pad(mi)}`;
}

/** A local wall-clock time in the zone → the UTC string Odoo expects ("YYYY-MM-DD HH:MM:SS"). */
export function localToUtc(value: string, tz: string): string {
  const m = DATETIME.exec(value.trim());
  if (!m) throw new UserInputError(`'${value}' is not a date-time like 2025-06-12 14:30`);
  return odooUtc(wallTimeToInstant([+m[1]!, +m[2]!, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0)], tz));
}

/** Today's date in the zone, "YYYY-MM-DD". */
export function todayIn(tz: string, now: Date = new Date()): string {
  const [y, mo, d] = wallClock(now, tz);
  return `${y}-${pad(mo)}-${pad(d)}`;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Check a "YYYY-MM-DD" date and return it. */
export function parseDate(value: string, what = 'date'): string {
  const m = DATE.exec(value.trim());
  const date = m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!)) : undefined;
  if (!m || !date || date.getUTCMonth() !== +m[2]! - 1 || date.getUTCDate() !== +m[3]!) {
    throw new UserInputError(`The ${what} '${value}' is not a calendar date like 2025-06-12`);
  }
  return value.trim();
}

export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1, d + days));
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
}

function addMonths(date: string, months: number): string {
  const [y, m] = date.split('-').map(Number) as [number, number];
  const t = new Date(Date.UTC(y, m - 1 + months, 1));
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-01`;
}

export const PERIODS = [
  'today',
  'yesterday',
  'this_week',
  'last_week',
  'last_7_days',
  'this_month',
  'last_month',
  'last_30_days',
  'this_quarter',
  'this_year',
] as const;
export type Period = (typeof PERIODS)[number];

/** A range of local dates, both ends inclusive. */
export interface DateRange {
  from: string;
  to: string;
}

/** The local dates a named period covers, relative to today in the zone (weeks start on Monday). */
export function periodRange(period: Period, tz: string, now: Date = new Date()): DateRange {
  const today = todayIn(tz, now);
  const [y, m] = today.split('-').map(Number) as [number, number];
  const weekday = (new Date(`${today}T00:00:00Z`).getUTCDay() + 6) % 7; // Monday = 0
  const monthStart = `${y}-${pad(m)}-01`;
  switch (period) {
    case 'today':
      return { from: today, to: today };
    case 'yesterday':
      return { from: addDays(today, -1), to: addDays(today, -1) };
    case 'this_week':
      return { from: addDays(today, -weekday), to: addDays(today, 6 - weekday) };
    case 'last_week':
      return { from: addDays(today, -weekday - 7), to: addDays(today, -weekday - 1) };
    case 'last_7_days':
      return { from: addDays(today, -6), to: today };
    case 'this_month':
      return { from: monthStart, to: addDays(addMonths(monthStart, 1), -1) };
    case 'last_month':
      return { from: addMonths(monthStart, -1), to: addDays(monthStart, -1) };
    case 'last_30_days':
      return { from: addDays(today, -29), to: today };
    case 'this_quarter': {
      const q = Math.floor((m - 1) / 3) * 3 + 1;
      const start = `${y}-${pad(q)}-01`;
      return { from: start, to: addDays(addMonths(start, 3), -1) };
    }
    case 'this_year':
      return { from: `${y}-01-01`, to: `${y}-12-31` };
  }
}

/**
 * The range asked for: explicit dates win over the period; one explicit end keeps the other from the
 * period (or leaves it open when no period applies).
 */
export function resolveRange(
  input: { period?: Period | undefined; date_from?: string | undefined; date_to?: string | undefined },
  tz: string,
  fallback: Period | undefined,
  now: Date = new Date(),
): { from?: string; to?: string; label: string } {
  const from = input.date_from ? parseDate(input.date_from, 'date_from') : undefined;
  const to = input.date_to ? parseDate(input.date_to, 'date_to') : undefined;
  if (from && to && from > to) {
    throw new UserInputError(`date_from ${from} is after date_to ${to}`);
  }
  const period = input.period ?? (from || to ? undefined : fallback);
  const base = period ? periodRange(period, tz, now) : undefined;
  const range = { from: from ?? base?.from, to: to ?? base?.to };
  const label =
    range.from && range.to
      ? range.from === range.to
        ? range.from
        : `${range.from} to ${range.to}`
      : range.from
        ? `since ${range.from}`
        : range.to
          ? `until ${range.to}`
          : 'all dates';
  return { ...(range.from ? { from: range.from } : {}), ...(range.to ? { to: range.to } : {}), label };
}

/** Domain conditions for a local date range on a datetime field (stored in UTC). */
export function datetimeRangeDomain(
  field: string,
  range: { from?: string; to?: string },
  tz: string,
): unknown[] {
  const out: unknown[] = [];
  if (range.from) out.push([field, '>=', localToUtc(`${range.from} 00:00:00`, tz)]);
  if (range.to) out.push([field, '<', localToUtc(`${addDays(range.to, 1)} 00:00:00`, tz)]);
  return out;
}

/** Domain conditions for a date range on a date field. */
export function dateRangeDomain(field: string, range: { from?: string; to?: string }): unknown[] {
  const out: unknown[] = [];
  if (range.from) out.push([field, '>=', range.from]);
  if (range.to) out.push([field, '<=', range.to]);
  return out;
}
