/**
 * Wall-clock time in IANA zones with Intl only (no time zone database to ship): what servers need to turn
 * "today", "09:30 in Berlin" or a stored UTC time into the instant or local time a person means.
 */
import { UserInputError } from './errors.js';

export type WallClock = [
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
];

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
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
    formatters.set(zone, f);
  }
  return f;
}

/** Whether Intl knows this IANA zone name. */
export function isTimeZone(zone: string | undefined | null): zone is string {
  if (!zone) return false;
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** The zone's canonical name, or a UserInputError that says what a zone name looks like. */
export function checkTimeZone(zone: string): string {
  if (!isTimeZone(zone)) {
    throw new UserInputError(`'${zone}' is not an IANA time zone`, {
      hint: 'Use a name such as Europe/Berlin, America/New_York or UTC',
    });
  }
  return formatter(zone).resolvedOptions().timeZone;
}

/** The wall-clock fields of an instant in a zone. */
export function wallClock(instant: Date | number, zone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(instant))
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return [parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!, parts.second!];
}

/** How far the zone is ahead of UTC at an instant, in milliseconds. */
export function zoneOffsetMs(instant: Date | number, zone: string): number {
  const ms = typeof instant === 'number' ? instant : instant.getTime();
  const [y, mo, d, h, mi, s] = wallClock(ms, zone);
  return Date.UTC(y, mo - 1, d, h, mi, s) - Math.floor(ms / 1000) * 1000;
}

/** The instant at which the zone's clocks show this wall-clock time (two passes settle a DST change). */
export function wallTimeToInstant(wall: WallClock, zone: string): Date {
  const [y, mo, d, h, mi, s] = wall;
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s);
  let instant = asUtc - zoneOffsetMs(asUtc, zone);
  instant = asUtc - zoneOffsetMs(instant, zone);
  return new Date(instant);
}

/** The machine's IANA zone (what a call means when it names none and the user has none set), else UTC. */
export function machineTimeZone(): string {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return isTimeZone(zone) ? zone : 'UTC';
}
