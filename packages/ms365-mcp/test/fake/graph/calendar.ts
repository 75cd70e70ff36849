// Calendars on the fake Graph: a calendar view that expands recurring series in the event's zone, events created,
// updated and cancelled (attendees notified through mail.ts), and findMeetingTimes over everyone's busy times
// (learn.microsoft.com/graph/api/resources/event, /graph/api/user-findmeetingtimes).
import { createHash, randomBytes } from 'node:crypto';
import type { FakeReply, FakeRequest } from '@switchyard/testkit';
import { select } from '../odata.js';
import { fromZone, minutesOfDayIn, toZone, weekdayIn } from '../tz.js';
import { CAL_READ, CAL_SHARED, CAL_WRITE, CONSUMER_TENANT, type Ctx } from './common.js';
import type { GraphCore } from './core.js';
import { deliver } from './mail.js';
import { fromRecipient, recipient, type Addr } from './mailbox.js';

export interface FakeEvent {
  id: string;
  owner: string;
  subject: string;
  start: number;
  end: number;
  timeZone: string;
  isAllDay: boolean;
  location: string;
  body: string;
  organizer: Addr;
  attendees: Array<Addr & { type: 'required' | 'optional' }>;
  isOnlineMeeting: boolean;
  joinUrl: string | undefined;
  showAs: 'busy' | 'tentative' | 'free' | 'oof';
  recurrence?: {
    type: 'daily' | 'weekly';
    interval: number;
    daysOfWeek?: number[];
    count?: number;
    until?: number;
  };
  cancelledDates: Set<string>;
}

export interface Occurrence {
  event: FakeEvent;
  id: string;
  start: number;
  end: number;
  type: 'singleInstance' | 'occurrence';
}

/** Calendar view, events and findMeetingTimes, for `/me` and `/users/{id}`. */
export function installCalendar(g: GraphCore): void {
  const s = g.service;
  const v = '/v1.0';
  const mb = { mailbox: true };
  // List calendarView: occurrences, exceptions and single instances between startDateTime and endDateTime (both
  // required), times in the Prefer: outlook.timezone zone (learn.microsoft.com/graph/api/user-list-calendarview).
  g.mailRoute(
    'GET',
    `${v}/me/calendarView`,
    g.guard(CAL_READ, (req, ctx) => calendarView(g, req, ctx), mb),
  );
  // Get event, with $select (learn.microsoft.com/graph/api/event-get).
  g.mailRoute(
    'GET',
    `${v}/me/events/:id`,
    g.guard(
      CAL_READ,
      (req, ctx) => {
        const found = findEvent(g, ctx, req.params.id!);
        if (!found) return g.notFound();
        return { body: select(eventJson(g, found, ctx), req.query) };
      },
      mb,
    ),
  );
  // Create event: 201 Created with the event (learn.microsoft.com/graph/api/user-post-events).
  g.mailRoute(
    'POST',
    `${v}/me/events`,
    g.guard(CAL_WRITE, (req, ctx) => createEvent(g, req, ctx), mb),
  );
  // Update event: 200 OK with the updated event (learn.microsoft.com/graph/api/event-update).
  g.mailRoute(
    'PATCH',
    `${v}/me/events/:id`,
    g.guard(CAL_WRITE, (req, ctx) => updateEvent(g, req, ctx), mb),
  );
  // cancel: organizer only (an attendee gets 400 with Graph's sentence), body { Comment }, 202 Accepted
  // (learn.microsoft.com/graph/api/event-cancel).
  g.mailRoute(
    'POST',
    `${v}/me/events/:id/cancel`,
    g.guard(CAL_WRITE, (req, ctx) => cancelEvent(g, req, ctx), mb),
  );
  // findMeetingTimes: meetingTimeSuggestionsResult (learn.microsoft.com/graph/api/user-findmeetingtimes).
  s.route(
    'POST',
    `${v}/me/findMeetingTimes`,
    g.guard(CAL_SHARED, (req, ctx) => findMeetingTimes(g, req, ctx), mb),
  );
}

function occurrences(g: GraphCore, event: FakeEvent, from: number, to: number): Occurrence[] {
  if (!event.recurrence) {
    return event.start < to && event.end > from
      ? [{ event, id: event.id, start: event.start, end: event.end, type: 'singleInstance' }]
      : [];
  }
  const r = event.recurrence;
  const out: Occurrence[] = [];
  const zone = event.timeZone;
  const startLocal = toZone(event.start, zone);
  const duration = event.end - event.start;
  const time = startLocal.slice(10, 19);
  const day0 = Date.UTC(
    Number(startLocal.slice(0, 4)),
    Number(startLocal.slice(5, 7)) - 1,
    Number(startLocal.slice(8, 10)),
  );
  let count = 0;
  for (let d = 0; d < 3660; d++) {
    const dayMs = day0 + d * 86_400_000;
    const weekday = new Date(dayMs).getUTCDay();
    const due =
      r.type === 'daily'
        ? d % r.interval === 0
        : Math.floor(d / 7) % r.interval === 0 &&
          (r.daysOfWeek ?? [weekdayIn(event.start, zone)]).includes(weekday);
    if (!due) continue;
    const date = new Date(dayMs).toISOString().slice(0, 10);
    const start = fromZone(`${date}${time}`, zone);
    if (r.until !== undefined && start > r.until) break;
    if (r.count !== undefined && count >= r.count) break;
    count++;
    if (start >= to) break;
    if (start + duration <= from || event.cancelledDates.has(date)) continue;
    const id = `AAMkAGI2occ${createHash('sha256').update(`${event.id}|${date}`).digest('base64url')}${event.id.slice(54)}`;
    g.occurrenceIds.set(id, { eventId: event.id, date });
    out.push({ event, id, start, end: start + duration, type: 'occurrence' });
  }
  return out;
}

function findEvent(g: GraphCore, ctx: Ctx, id: string): Occurrence | undefined {
  const direct = g.events.get(id);
  if (direct && direct.owner === ctx.user)
    return {
      event: direct,
      id,
      start: direct.start,
      end: direct.end,
      type: direct.recurrence ? 'occurrence' : 'singleInstance',
    };
  const occ = g.occurrenceIds.get(id);
  const event = occ && g.events.get(occ.eventId);
  if (!occ || !event || event.owner !== ctx.user || event.cancelledDates.has(occ.date)) return undefined;
  const start = fromZone(`${occ.date}${toZone(event.start, event.timeZone).slice(10, 19)}`, event.timeZone);
  return { event, id, start, end: start + event.end - event.start, type: 'occurrence' };
}

/**
 * An event as Graph shows it, times in the Prefer: outlook.timezone zone
 * (learn.microsoft.com/graph/api/resources/event).
 */
function eventJson(g: GraphCore, o: Occurrence, ctx: Ctx): Record<string, unknown> {
  const zone = ctx.prefer['outlook.timezone'] || 'UTC';
  const e = o.event;
  const isOrganizer = e.organizer.address.toLowerCase() === ctx.user;
  return {
    id: o.id,
    subject: e.subject,
    start: { dateTime: toZone(o.start, zone), timeZone: zone },
    end: { dateTime: toZone(o.end, zone), timeZone: zone },
    location: { displayName: e.location, locationType: 'default' },
    organizer: recipient(e.organizer),
    attendees: e.attendees.map((a) => ({
      type: a.type,
      status: { response: 'none', time: '0001-01-01T00:00:00Z' },
      ...recipient(a),
    })),
    isAllDay: e.isAllDay,
    isCancelled: false,
    isOrganizer,
    showAs: e.showAs,
    isOnlineMeeting: e.isOnlineMeeting,
    onlineMeeting: e.joinUrl ? { joinUrl: e.joinUrl } : null,
    type: o.type,
    seriesMasterId: o.type === 'occurrence' ? e.id : null,
    responseStatus: { response: isOrganizer ? 'organizer' : 'notResponded', time: '0001-01-01T00:00:00Z' },
    body: { contentType: 'text', content: e.body },
    bodyPreview: e.body.slice(0, 255),
    webLink: `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(o.id)}&exvsurl=1&path=/calendar/item`,
  };
}

function calendarView(g: GraphCore, req: FakeRequest, ctx: Ctx): FakeReply {
  const from = Date.parse(req.query.get('startDateTime') ?? '');
  const to = Date.parse(req.query.get('endDateTime') ?? '');
  if (Number.isNaN(from) || Number.isNaN(to)) {
    // Both are required query parameters (learn.microsoft.com/graph/api/user-list-calendarview).
    return g.error(
      400,
      'ErrorInvalidParameter',
      'This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.',
    );
  }
  const list = [...g.events.values()]
    .filter((e) => e.owner === ctx.user)
    .flatMap((e) => occurrences(g, e, from, to))
    .sort((a, b) => a.start - b.start)
    .map((o) => eventJson(g, o, ctx));
  return g.page(req, list, 10, '$skip');
}

function parseTime(
  g: GraphCore,
  t: { dateTime?: string; timeZone?: string } | undefined,
): number | undefined {
  if (!t?.dateTime) return undefined;
  return fromZone(t.dateTime, t.timeZone || 'UTC');
}

function createEvent(g: GraphCore, req: FakeRequest, ctx: Ctx): FakeReply {
  const b = req.json<Record<string, unknown>>() ?? {};
  const start = parseTime(g, b.start as { dateTime?: string; timeZone?: string });
  const end = parseTime(g, b.end as { dateTime?: string; timeZone?: string });
  if (start === undefined || end === undefined)
    return g.error(400, 'ErrorInvalidRequest', 'Start and end are required.');
  if (end <= start)
    return g.error(400, 'ErrorInvalidRequest', 'The end of the event must be after its start.');
  const attendees = (
    (b.attendees as Array<{ type?: string; emailAddress?: { address?: string; name?: string } }>) ?? []
  ).map((a) => ({
    ...fromRecipient(a),
    type: (a.type === 'optional' ? 'optional' : 'required') as 'required' | 'optional',
  }));
  const event = g.addEvent(ctx.user, {
    subject: String(b.subject ?? ''),
    start,
    end,
    timeZone: (b.start as { timeZone?: string }).timeZone || 'UTC',
    isAllDay: b.isAllDay === true,
    location: (b.location as { displayName?: string })?.displayName ?? '',
    body: (b.body as { content?: string })?.content ?? '',
    attendees,
    isOnlineMeeting: b.isOnlineMeeting === true,
    joinUrl: b.isOnlineMeeting
      ? `https://teams.microsoft.com/l/meetup-join/19%3ameeting_${randomBytes(12).toString('hex')}%40thread.v2/0`
      : undefined,
  });
  return {
    status: 201,
    body: eventJson(g, { event, id: event.id, start, end, type: 'singleInstance' }, ctx),
  };
}

function updateEvent(g: GraphCore, req: FakeRequest, ctx: Ctx): FakeReply {
  const found = findEvent(g, ctx, req.params.id!);
  if (!found) return g.notFound();
  const e = found.event;
  const b = req.json<Record<string, unknown>>() ?? {};
  if (b.subject !== undefined) e.subject = String(b.subject);
  const start = parseTime(g, b.start as { dateTime?: string; timeZone?: string });
  const end = parseTime(g, b.end as { dateTime?: string; timeZone?: string });
  if (start !== undefined) {
    const length = e.end - e.start;
    e.start = start;
    if (end === undefined) e.end = start + length;
    e.timeZone = (b.start as { timeZone?: string }).timeZone || e.timeZone;
  }
  if (end !== undefined) e.end = end;
  if (e.end <= e.start)
    return g.error(400, 'ErrorInvalidRequest', 'The end of the event must be after its start.');
  if (b.location !== undefined) e.location = (b.location as { displayName?: string }).displayName ?? '';
  if (b.body !== undefined) e.body = (b.body as { content?: string }).content ?? '';
  if (b.isOnlineMeeting !== undefined) {
    e.isOnlineMeeting = b.isOnlineMeeting === true;
    e.joinUrl = e.isOnlineMeeting
      ? (e.joinUrl ?? `https://teams.microsoft.com/l/meetup-join/${randomBytes(8).toString('hex')}`)
      : undefined;
  }
  if (b.attendees !== undefined) {
    e.attendees = (
      b.attendees as Array<{ type?: string; emailAddress?: { address?: string; name?: string } }>
    ).map((a) => ({
      ...fromRecipient(a),
      type: a.type === 'optional' ? 'optional' : 'required',
    }));
  }
  return { body: eventJson(g, { ...found, start: e.start, end: e.end }, ctx) };
}

function cancelEvent(g: GraphCore, req: FakeRequest, ctx: Ctx): FakeReply {
  const found = findEvent(g, ctx, req.params.id!);
  if (!found) return g.notFound();
  const e = found.event;
  // An attendee gets 400 Bad Request with this sentence (learn.microsoft.com/graph/api/event-cancel).
  if (e.organizer.address.toLowerCase() !== ctx.user) {
    return g.error(
      400,
      'ErrorInvalidRequest',
      "Your request can't be completed. You need to be an organizer to cancel a meeting.",
    );
  }
  const comment = req.json<{ Comment?: string }>()?.Comment ?? '';
  const occ = g.occurrenceIds.get(found.id);
  if (occ) e.cancelledDates.add(occ.date);
  else g.events.delete(e.id);
  if (e.attendees.length > 0) {
    const box = g.mailbox(ctx.user);
    const notice = box.add(
      {
        subject: `Canceled: ${e.subject}`,
        from: box.owner,
        to: e.attendees,
        body: { contentType: 'text', content: comment },
        isRead: true,
      },
      'sentitems',
    );
    deliver(g, ctx.user, notice, true);
  }
  return { status: 202 };
}

function busy(
  g: GraphCore,
  address: string,
  from: number,
  to: number,
): Array<{ start: number; end: number; showAs: string }> {
  const own = [...g.events.values()]
    .filter(
      (e) =>
        e.owner === address.toLowerCase() ||
        e.attendees.some((a) => a.address.toLowerCase() === address.toLowerCase()),
    )
    .flatMap((e) =>
      occurrences(g, e, from, to).map((o) => ({ start: o.start, end: o.end, showAs: e.showAs })),
    );
  const external = (g.schedules.get(address.toLowerCase()) ?? []).map((x) => ({ ...x, showAs: 'busy' }));
  return [...own, ...external].filter((x) => x.showAs !== 'free');
}

function findMeetingTimes(g: GraphCore, req: FakeRequest, ctx: Ctx): FakeReply {
  // Personal Microsoft accounts: "Not supported" in the permissions table
  // (learn.microsoft.com/graph/api/user-findmeetingtimes).
  if (ctx.token.tenantId === CONSUMER_TENANT)
    return g.error(403, 'ErrorAccessDenied', 'findMeetingTimes is not supported for personal accounts.');
  const b = req.json<{
    attendees?: Array<{ emailAddress?: { address?: string } }>;
    timeConstraint?: {
      activityDomain?: string;
      timeSlots?: Array<{
        start: { dateTime: string; timeZone: string };
        end: { dateTime: string; timeZone: string };
      }>;
    };
    meetingDuration?: string;
    maxCandidates?: number;
    minimumAttendeePercentage?: number;
  }>();
  const slot = b?.timeConstraint?.timeSlots?.[0];
  if (!slot) return g.error(400, 'ErrorInvalidRequest', 'timeConstraint.timeSlots is required.');
  const zone = ctx.prefer['outlook.timezone'] || 'UTC';
  const from = fromZone(slot.start.dateTime, slot.start.timeZone);
  const to = fromZone(slot.end.dateTime, slot.end.timeZone);
  const minutes = Number(
    /PT(?:(\d+)H)?(?:(\d+)M)?/
      .exec(b?.meetingDuration ?? 'PT30M')!
      .slice(1)
      .reduce((n, x, i) => n + Number(x ?? 0) * (i === 0 ? 60 : 1), 0),
  );
  const work = (b?.timeConstraint?.activityDomain ?? 'work') === 'work';
  const people = (b?.attendees ?? []).map((a) => a.emailAddress?.address ?? '');
  const step = 30 * 60_000;
  const suggestions = [];
  for (let t = Math.ceil(from / step) * step; t + minutes * 60_000 <= to; t += step) {
    const end = t + minutes * 60_000;
    if (work) {
      const wd = weekdayIn(t, zone);
      const m0 = minutesOfDayIn(t, zone);
      if (wd === 0 || wd === 6 || m0 < 8 * 60 || m0 + minutes > 17 * 60) continue;
    }
    const overlaps = (address: string) => busy(g, address, t, end).some((x) => x.start < end && x.end > t);
    if (overlaps(ctx.user)) continue;
    const availability = people.map((p) => ({
      attendee: { type: 'required', emailAddress: { address: p } },
      availability: overlaps(p) ? 'busy' : 'free',
    }));
    const free = availability.filter((a) => a.availability === 'free').length;
    const confidence = people.length ? (100 * free) / people.length : 100;
    if (confidence < (b?.minimumAttendeePercentage ?? 50)) continue;
    suggestions.push({
      confidence,
      organizerAvailability: 'free',
      attendeeAvailability: availability,
      locations: [],
      suggestionReason:
        confidence === 100
          ? 'Suggested because it is one of the nearest times when all attendees are available.'
          : 'Suggested because it is one of the nearest times when most attendees are available.',
      meetingTimeSlot: {
        start: { dateTime: toZone(t, zone), timeZone: zone },
        end: { dateTime: toZone(end, zone), timeZone: zone },
      },
    });
  }
  suggestions.sort((x, y) => y.confidence - x.confidence);
  const picked = suggestions.slice(0, b?.maxCandidates ?? 5);
  return {
    body: {
      emptySuggestionsReason: picked.length ? '' : 'AttendeesUnavailable',
      meetingTimeSuggestions: picked,
    },
  };
}
