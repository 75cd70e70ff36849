// Wall-clock time in IANA zones for the fake calendar (what Graph does with dateTimeTimeZone values and
// the Prefer: outlook.timezone header).

const formats = new Map<string, Intl.DateTimeFormat>();

function fields(ms: number, zone: string): Record<string, number> {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formats.set(zone, f);
  }
  const out: Record<string, number> = {};
  for (const p of f.formatToParts(ms)) {
    if (p.type === 'weekday')
      out.weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(p.value);
    else if (p.type !== 'literal') out[p.type] = Number(p.value);
  }
  return out;
}

/** Graph's form: `2025-03-04T09:30:00.0000000` in `zone`. */
export function toZone(ms: number, zone: string): string {
  const f = fields(ms, zone);
  const p = (n: number | undefined) => String(n ?? 0).padStart(2, '0');
  return `${f.year}-${p(f.month)}-${p(f.day)}T${p(f.hour)}:${p(f.minute)}:${p(f.second)}.0000000`;
}

export function weekdayIn(ms: number, zone: string): number {
  return fields(ms, zone).weekday!;
}

export function minutesOfDayIn(ms: number, zone: string): number {
  const f = fields(ms, zone);
  return f.hour! * 60 + f.minute!;
}

/** A wall-clock `2025-03-04T09:30[:00[.0000000]]` in `zone` as epoch milliseconds. */
export function fromZone(local: string, zone: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(local);
  if (!m) throw new Error(`bad dateTime ${local}`);
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0)) as number[];
  const asUtc = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
  let ms = asUtc;
  for (let i = 0; i < 3; i++) {
    const f = fields(ms, zone);
    const shown = Date.UTC(f.year!, f.month! - 1, f.day!, f.hour!, f.minute!, f.second!);
    ms += asUtc - shown;
  }
  return ms;
}
