import { UserInputError } from '@switchyard/core';

/** The zone used when a call names none: `MS365_TIMEZONE`, else the machine's zone. */
export function defaultZone(env: NodeJS.ProcessEnv = process.env): string {
  return env.MS365_TIMEZONE || Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** An IANA zone name, checked; Graph accepts the same names in `Prefer: outlook.timezone`. */
export function checkZone(zone: string): string {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    throw new UserInputError(`'${zone}' is not an IANA time zone`, {
      hint: 'Use a name such as Europe/Berlin, America/New_York or UTC',
    });
  }
}

const partsFormat = new Map<string, Intl.DateTimeFormat>();

/** Wall-clock fields of an instant in a zone. */
function wallClock(instant: number, zone: string): number[] {
  let f = partsFormat.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    partsFormat.set(zone, f);
  }
  const get = (type: string) => Number(f.formatToParts(instant).find((p) => p.type === type)?.value);
  return [get('year'), get('month'), get('day'), get('hour'), get('minute'), get('second')];
}

/** The zone's offset from UTC at an instant, in milliseconds. */
export function zoneOffsetMs(instant: number, zone: string): number {
  const [y, mo, d, h, mi, s] = wallClock(instant, zone) as [number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s) - Math.floor(instant / 1000) * 1000;
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
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0)) as number[];
  const guess = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
  // Two passes settle the offset across a DST change.
  let instant = guess - zoneOffsetMs(guess, zone);
  instant = guess - zoneOffsetMs(instant, zone);
  return new Date(instant);
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
  return dateTime.slice(0, 16).replace('T', ' ');
}
