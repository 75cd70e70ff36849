/** Events in a window, recurring series expanded by Graph's calendarView (learn.microsoft.com/graph/api/user-list-calendarview). */
import { UserInputError, oneLine } from '@switchyard/core';
import { csvLine, person } from '../format.js';
import type { Graph } from '../graph-client.js';
import { localDateTime, parseTime } from '../time.js';
import { EVENT_SELECT, eventFlags, prefer, span, type Event } from './event.js';

/** The window asked for in `zone`: from the start of today and a week long unless given. */
export function eventWindow(
  a: { start?: string | undefined; end?: string | undefined },
  zone: string,
  now = new Date(),
): { from: Date; to: Date } {
  const from = a.start
    ? parseTime(a.start, zone, 'start')
    : parseTime(localDateTime(now, zone).slice(0, 10), zone, 'start');
  const to = a.end ? parseTime(a.end, zone, 'end') : new Date(from.getTime() + 7 * 86_400_000);
  if (to <= from) throw new UserInputError('end must be after start');
  return { from, to };
}

/** One page of the calendar view, times in `zone`. */
export function listEvents(
  graph: Graph,
  root: string,
  window: { from: Date; to: Date },
  zone: string,
  page: { top: number; cursor?: string | undefined },
  signal: AbortSignal,
) {
  return graph.list<Event>(
    `${root}/calendarView`,
    {
      query: {
        startDateTime: window.from.toISOString(),
        endDateTime: window.to.toISOString(),
        $select: EVENT_SELECT,
        $orderby: 'start/dateTime',
        $top: page.top,
      },
      headers: prefer(zone),
      top: page.top,
      ...(page.cursor ? { cursor: page.cursor } : {}),
    },
    signal,
  );
}

/** One CSV line of the event list: id, when, subject, location, organizer, flags. */
export function eventLine(e: Event): string {
  return csvLine([
    e.id,
    span(e),
    oneLine(e.subject, 100),
    oneLine(e.location?.displayName, 60),
    e.isOrganizer ? 'me' : person(e.organizer, 60),
    eventFlags(e),
  ]);
}
