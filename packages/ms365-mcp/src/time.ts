import {
  UserInputError,
  machineTimeZone,
  untrusted,
  wallClock,
  wallTimeToInstant,
  type WallClock,
} from '@switchyard/core';

/** The zone used when a call names none: `MS365_TIMEZONE`, else the machine's zone. */
export function defaultZone(env: NodeJS.ProcessEnv = process.env): string {
  return env.MS365_TIMEZONE || machineTimeZone();
}

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?$/;
const WITH_OFFSET = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

/**
 * A date or time a user gave, as an instant: `2025-03-04` (midnight) or `2025-03-04T09:30` in `zone`,
 * or an ISO time with `Z` or an offset.
 */
export function parseTime(value: string, zone: string, field: string): Date {
  const v = value.trim();
  if (WITH_OFFSET.test(v)) {
    const t = Date.parse(v.replace(' ', 'T'));
    if (!Number.isNaN(t)) return new Date(t);
  }
  const m = LOCAL.exec(v);
  if (!m) {
    throw new UserInputError(`${field} '${value}' is not a date or time`, {
      hint: 'Use 2025-03-04, 2025-03-04T09:30 (in the time zone), or an ISO time with an offset',
    });
  }
  return wallTimeToInstant(m.slice(1).map((x) => Number(x ?? 0)) as WallClock, zone);
}

/** An instant as wall-clock time in a zone, the way Graph's dateTimeTimeZone wants it: `2025-03-04T09:30:00`. */
export function localDateTime(instant: Date, zone: string): string {
  const [y, mo, d, h, mi, s] = wallClock(instant.getTime(), zone);
  const p = (n: number | undefined) => String(n).padStart(2, '0');
  return `${y}-${p(mo)}-${p(d)}T${p(h)}:${p(mi)}:${p(s)}`;
}

/** A UTC instant, compactly: `2025-03-04 08:15Z`. */
export function compactUtc(iso: string | undefined): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return new Date(t).toISOString().slice(0, 16).replace('T', ' ') + 'Z';
}

/** Graph's `2025-03-04T09:30:00.0000000` as `2025-03-04 09:30`. */
export function compactLocal(dateTime: string | undefined): string {
  if (!dateTime) return '';
  // Graph's text: shown as a time only when it is one; anything else is quoted as outside text.
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(dateTime)) return untrusted(dateTime, 40);
  return dateTime.slice(0, 16).replace('T', ' ');
}
