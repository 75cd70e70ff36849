import {
  UserInputError,
  checkTimeZone,
  isSwitchyardError,
  plainOrUntrusted,
  untrusted,
  z,
  type ToolDefinition,
  listFooter,
  oneLine,
  pageCount,
  cursorArg,
} from '@switchyard/core';
import type { Ms365 } from '../context.js';
import { shortId } from '../graph-client.js';
import { csvLine, fencedCsv, person, resumable, type EmailAddress } from '../format.js';
import { mailboxInput, mailboxRoot, whose } from '../mailbox.js';
import { compactLocal, localDateTime, parseTime } from '../time.js';

interface DateTimeTimeZone {
  dateTime?: string;
  timeZone?: string;
}

interface Event {
  id: string;
  subject?: string;
  start?: DateTimeTimeZone;
  end?: DateTimeTimeZone;
  location?: { displayName?: string };
  organizer?: EmailAddress;
  isAllDay?: boolean;
  isCancelled?: boolean;
  isOrganizer?: boolean;
  showAs?: string;
  isOnlineMeeting?: boolean;
  onlineMeeting?: { joinUrl?: string } | null;
  type?: string;
  attendees?: Array<EmailAddress & { type?: string }>;
  responseStatus?: { response?: string };
}

const EVENT_SELECT =
  'id,subject,start,end,location,organizer,isAllDay,isCancelled,isOrganizer,showAs,isOnlineMeeting,onlineMeeting,type,attendees,responseStatus';

const address = z.string().max(320);
const zoneField = z.string().max(64).optional().describe('IANA zone.');
const when = (what: string) => z.string().max(40).describe(what);

const prefer = (zone: string) => ({ prefer: `outlook.timezone="${zone}", IdType="ImmutableId"` });

const notFound = (id: string) => ({
  notFound: `No event has id '${shortId(id)}' in this calendar`,
  notFoundHint: 'Take ids from ms365_list_events',
});

function checkAddresses(list: string[] | undefined): string[] {
  for (const a of list ?? []) {
    if (!/^[^@\s]+@[^@\s]+$/.test(a.trim())) throw new UserInputError(`'${a}' is not an email address`);
  }
  return (list ?? []).map((a) => a.trim());
}

/** A time the user gave, as Graph's wall-clock time in `zone`. */
function graphTime(value: string, zone: string, field: string): DateTimeTimeZone {
  return { dateTime: localDateTime(parseTime(value, zone, field), zone), timeZone: zone };
}

/** `2025-03-04 09:30` in a zone. */
const wall = (instant: Date, zone: string) => localDateTime(instant, zone).slice(0, 16).replace('T', ' ');

function span(e: Event): string {
  const s = compactLocal(e.start?.dateTime);
  const end = compactLocal(e.end?.dateTime);
  if (e.isAllDay)
    return `${s.slice(0, 10)} all day${end.slice(0, 10) > s.slice(0, 10) ? ` to ${end.slice(0, 10)}` : ''}`;
  return end.slice(0, 10) === s.slice(0, 10) ? `${s}–${end.slice(11)}` : `${s} → ${end}`;
}

function eventFlags(e: Event): string {
  const n = e.attendees?.length ?? 0;
  return [
    e.type === 'occurrence' || e.type === 'exception' ? 'recurring' : '',
    e.isOnlineMeeting ? 'online' : '',
    e.isCancelled ? 'cancelled' : '',
    e.showAs && e.showAs !== 'busy' ? e.showAs : '',
    n ? `${n} attendee${n === 1 ? '' : 's'}` : '',
    !e.isOrganizer && e.responseStatus?.response && e.responseStatus.response !== 'none'
      ? e.responseStatus.response
      : '',
  ]
    .filter(Boolean)
    .join(' ');
}

function requiredAttendees(addresses: string[] | undefined) {
  return checkAddresses(addresses).map((a) => ({ type: 'required', emailAddress: { address: a } }));
}

export function calendarTools(m: Ms365): ToolDefinition[] {
  return [
    m.tool({
      name: 'ms365_list_events',
      title: 'List events',
      description: 'Events in a window and zone, series expanded; one CSV line each.',
      toolset: 'calendar',
      input: {
        ...mailboxInput(m, 'calendar'),
        start: z.string().max(40).optional().describe('From (2025-03-04[T09:30]); else today.'),
        end: z.string().max(40).optional().describe('Until; else +7 days.'),
        time_zone: zoneField,
        top: z.number().int().min(1).max(100).default(25).describe('Page size.'),
        cursor: cursorArg,
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
      needs: ['calendar.read'],
      handler: async (a, ctx, graph) => {
        const zone = checkTimeZone(a.time_zone ?? m.defaultZone);
        const from = a.start
          ? parseTime(a.start, zone, 'start')
          : parseTime(localDateTime(new Date(), zone).slice(0, 10), zone, 'start');
        const to = a.end ? parseTime(a.end, zone, 'end') : new Date(from.getTime() + 7 * 86_400_000);
        if (to <= from) throw new UserInputError('end must be after start');
        const page = await graph.list<Event>(
          `${mailboxRoot(a)}/calendarView`,
          {
            query: {
              startDateTime: from.toISOString(),
              endDateTime: to.toISOString(),
              $select: EVENT_SELECT,
              $orderby: 'start/dateTime',
              $top: a.top,
            },
            headers: prefer(zone),
            top: a.top,
            ...(a.cursor ? { cursor: a.cursor } : {}),
          },
          ctx.signal,
        );
        const shownZone = page.items[0]?.start?.timeZone ?? zone;
        const lines = [
          `${whose(a)}Events ${wall(from, zone)} → ${wall(to, zone)}, times in ${shownZone}.`,
          fencedCsv(
            'event list',
            'id,when,subject,location,organizer,flags',
            page.items.map((e) =>
              csvLine([
                e.id,
                span(e),
                oneLine(e.subject, 100),
                oneLine(e.location?.displayName, 60),
                e.isOrganizer ? 'me' : person(e.organizer, 60),
                eventFlags(e),
              ]),
            ),
          ),
          // Page 2 shows the same window in the same zone, even when it is fetched on another day.
          listFooter({
            ...pageCount(
              resumable(page, ctx, { start: from.toISOString(), end: to.toISOString(), time_zone: zone }),
            ),
            noun: 'event',
          }),
        ];
        return { text: lines.join('\n') };
      },
    }),

    m.tool({
      name: 'ms365_create_event',
      title: 'Create an event',
      description: 'Add an event; with attendees Outlook invites them.',
      toolset: 'calendar',
      input: {
        ...mailboxInput(m, 'calendar'),
        subject: z.string().min(1).max(255).describe('Title.'),
        start: when('Start (2025-03-04T09:30).'),
        end: when('End.'),
        time_zone: zoneField,
        attendees: z.array(address).max(100).optional().describe('Attendees.'),
        location: z.string().max(255).optional().describe('Place.'),
        body: z.string().max(20_000).optional().describe('Notes.'),
        online_meeting: z.boolean().default(false).describe('Add a Teams link.'),
        all_day: z.boolean().default(false).describe('Dates only; end exclusive.'),
      },
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: true,
      },
      needs: ['calendar.write'],
      handler: async (a, ctx, graph) => {
        const zone = checkTimeZone(a.time_zone ?? m.defaultZone);
        const start = graphTime(a.start, zone, 'start');
        const end = graphTime(a.end, zone, 'end');
        if (end.dateTime! <= start.dateTime!) throw new UserInputError('end must be after start');
        if (a.all_day && (!start.dateTime!.endsWith('T00:00:00') || !end.dateTime!.endsWith('T00:00:00'))) {
          throw new UserInputError(
            'An all-day event takes dates: start 2025-03-04, end 2025-03-05 (exclusive)',
          );
        }
        const attendees = requiredAttendees(a.attendees);
        const created = await graph.post<Event>(
          `${mailboxRoot(a)}/events`,
          {
            subject: a.subject,
            start,
            end,
            isAllDay: a.all_day,
            ...(attendees.length ? { attendees } : {}),
            ...(a.location ? { location: { displayName: a.location } } : {}),
            ...(a.body ? { body: { contentType: 'Text', content: a.body } } : {}),
            ...(a.online_meeting ? { isOnlineMeeting: true, onlineMeetingProvider: 'teamsForBusiness' } : {}),
          },
          { headers: prefer(zone), signal: ctx.signal },
        );
        return {
          text: [
            `Created ${untrusted(created.subject, 100)} ${span(created)} (${created.start?.timeZone ?? zone})${
              attendees.length ? `; invitations sent to ${attendees.length} attendee(s)` : ''
            }.`,
            ...(created.onlineMeeting?.joinUrl ? [`Join: ${created.onlineMeeting.joinUrl}`] : []),
            `id: ${created.id}`,
          ].join('\n'),
        };
      },
    }),

    m.tool({
      name: 'ms365_update_event',
      title: 'Change an event',
      description: 'Change an event; attendees get an update.',
      toolset: 'calendar',
      input: {
        ...mailboxInput(m, 'calendar'),
        id: z.string().max(1000).describe('Event id.'),
        subject: z.string().max(255).optional().describe('Title.'),
        start: when('Start (2025-03-04T09:30).').optional(),
        end: when('End.').optional(),
        time_zone: zoneField,
        attendees: z.array(address).max(100).optional().describe('New required attendees.'),
        location: z.string().max(255).optional().describe('Place.'),
        body: z.string().max(20_000).optional().describe('Notes.'),
        online_meeting: z.boolean().optional().describe('Teams link on/off.'),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
      needs: ['calendar.write'],
      handler: async (a, ctx, graph) => {
        const zone = checkTimeZone(a.time_zone ?? m.defaultZone);
        const patch: Record<string, unknown> = {};
        if (a.subject !== undefined) patch.subject = a.subject;
        if (a.start !== undefined) patch.start = graphTime(a.start, zone, 'start');
        if (a.end !== undefined) patch.end = graphTime(a.end, zone, 'end');
        if (a.location !== undefined) patch.location = { displayName: a.location };
        if (a.body !== undefined) patch.body = { contentType: 'Text', content: a.body };
        if (a.online_meeting !== undefined) {
          patch.isOnlineMeeting = a.online_meeting;
          if (a.online_meeting) patch.onlineMeetingProvider = 'teamsForBusiness';
        }
        if (a.attendees !== undefined) {
          const path = `${mailboxRoot(a)}/events/${encodeURIComponent(a.id)}`;
          const current = await graph.get<Event>(path, {
            query: { $select: 'attendees' },
            headers: prefer(zone),
            signal: ctx.signal,
            ...notFound(a.id),
          });
          const required = requiredAttendees(a.attendees);
          const named = new Set(required.map((x) => x.emailAddress.address.toLowerCase()));
          // Optional attendees stay as Graph has them, unless the new list makes them required; one without
          // an address cannot be sent back.
          const optional = (current.attendees ?? []).flatMap((x) => {
            const found = x.emailAddress?.address?.trim();
            if (x.type !== 'optional' || !found || named.has(found.toLowerCase())) return [];
            const name = x.emailAddress?.name;
            return [{ type: 'optional', emailAddress: { address: found, ...(name ? { name } : {}) } }];
          });
          patch.attendees = [...required, ...optional];
        }
        if (Object.keys(patch).length === 0) {
          throw new UserInputError('Nothing to change: give at least one field besides id');
        }
        const updated = await graph.request<Event>({
          method: 'PATCH',
          path: `${mailboxRoot(a)}/events/${encodeURIComponent(a.id)}`,
          json: patch,
          headers: prefer(zone),
          signal: ctx.signal,
          ...notFound(a.id),
        });
        const e = updated.data;
        return {
          text: `Updated ${untrusted(e.subject, 100)} ${span(e)} (${e.start?.timeZone ?? zone}); changed ${Object.keys(patch).join(', ')}.`,
        };
      },
    }),

    m.tool({
      name: 'ms365_cancel_event',
      title: 'Cancel a meeting',
      description: 'Cancel an event you organize; attendees get your comment.',
      toolset: 'calendar',
      input: {
        ...mailboxInput(m, 'calendar'),
        id: z.string().max(1000).describe('Event id.'),
        comment: z.string().max(2000).default('').describe('Note to attendees.'),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
      needs: ['calendar.write'],
      handler: async (a, ctx, graph) => {
        const { id, comment } = a;
        try {
          await graph.post(
            `${mailboxRoot(a)}/events/${encodeURIComponent(id)}/cancel`,
            { Comment: comment },
            {
              signal: ctx.signal,
              responseType: 'none',
              ...notFound(id),
            },
          );
        } catch (err) {
          if (isSwitchyardError(err) && /organizer/i.test(err.upstream?.message ?? '')) {
            throw new UserInputError('Only the organizer can cancel this meeting, and you are an attendee', {
              ...(err.upstream ? { upstream: err.upstream } : {}),
              hint: 'Decline it in Outlook instead, or ask the organizer',
            });
          }
          throw err;
        }
        return {
          text: `Cancelled the event ${shortId(id)}${comment ? ' and sent your comment to the attendees' : ''}.`,
        };
      },
    }),

    m.tool({
      name: 'ms365_find_meeting_times',
      title: 'Find meeting times',
      description: 'Ranked free slots for you and attendees in a window.',
      toolset: 'calendar',
      input: {
        attendees: z.array(address).min(1).max(20).describe('Attendees.'),
        duration_minutes: z.number().int().min(5).max(480).default(30).describe('Meeting length.'),
        start: z.string().max(40).optional().describe('Window start; else now.'),
        end: z.string().max(40).optional().describe('Window end; else +5 days.'),
        time_zone: zoneField,
        work_hours_only: z.boolean().default(true).describe('Working hours only.'),
        max_candidates: z.number().int().min(1).max(20).default(5).describe('How many.'),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
      needs: ['calendar.read', 'calendar.shared'],
      handler: async (a, ctx, graph) => {
        await graph.requireWorkAccount('Finding meeting times', 'ms365_find_meeting_times');
        const zone = checkTimeZone(a.time_zone ?? m.defaultZone);
        const from = a.start ? parseTime(a.start, zone, 'start') : new Date();
        const to = a.end ? parseTime(a.end, zone, 'end') : new Date(from.getTime() + 5 * 86_400_000);
        if (to <= from) throw new UserInputError('end must be after start');
        const attendees = checkAddresses(a.attendees);
        const result = await graph.post<{
          emptySuggestionsReason?: string;
          meetingTimeSuggestions?: Array<{
            confidence?: number;
            organizerAvailability?: string;
            attendeeAvailability?: Array<{ attendee?: EmailAddress; availability?: string }>;
            meetingTimeSlot?: { start?: DateTimeTimeZone; end?: DateTimeTimeZone };
          }>;
        }>(
          '/me/findMeetingTimes',
          {
            attendees: attendees.map((x) => ({ type: 'required', emailAddress: { address: x } })),
            timeConstraint: {
              activityDomain: a.work_hours_only ? 'work' : 'unrestricted',
              timeSlots: [
                {
                  start: { dateTime: localDateTime(from, zone), timeZone: zone },
                  end: { dateTime: localDateTime(to, zone), timeZone: zone },
                },
              ],
            },
            meetingDuration: `PT${a.duration_minutes}M`,
            maxCandidates: a.max_candidates,
            isOrganizerOptional: false,
            returnSuggestionReasons: true,
          },
          { headers: prefer(zone), signal: ctx.signal, idempotent: true },
        );
        const suggestions = [...(result.meetingTimeSuggestions ?? [])]
          .sort(
            (x, y) =>
              (y.confidence ?? 0) - (x.confidence ?? 0) ||
              (x.meetingTimeSlot?.start?.dateTime ?? '').localeCompare(
                y.meetingTimeSlot?.start?.dateTime ?? '',
              ),
          )
          .slice(0, a.max_candidates);
        if (suggestions.length === 0) {
          return {
            text: `No ${a.duration_minutes}-minute slot fits between ${wall(from, zone)} and ${wall(to, zone)} (${zone})${
              result.emptySuggestionsReason ? `: ${plainOrUntrusted(result.emptySuggestionsReason, 100)}` : ''
            }. Try a wider window or work_hours_only false.`,
          };
        }
        const lines = suggestions.map((s, i) => {
          const busy = (s.attendeeAvailability ?? [])
            .filter((x) => x.availability && x.availability !== 'free')
            .map(
              (x) =>
                `${plainOrUntrusted(x.attendee?.emailAddress?.address ?? '?', 100)} ${plainOrUntrusted(x.availability, 40)}`,
            );
          if (s.organizerAvailability && s.organizerAvailability !== 'free')
            busy.unshift(`you ${plainOrUntrusted(s.organizerAvailability, 40)}`);
          const st = compactLocal(s.meetingTimeSlot?.start?.dateTime);
          const en = compactLocal(s.meetingTimeSlot?.end?.dateTime);
          return `${i + 1}. ${st}–${en.slice(0, 10) === st.slice(0, 10) ? en.slice(11) : en}, confidence ${Math.round(s.confidence ?? 0)}%, ${busy.length ? busy.join(', ') : 'everyone free'}`;
        });
        return {
          text: [
            `${suggestions.length} slot(s) of ${a.duration_minutes} min, best first, times in ${zone}:`,
            ...lines,
          ].join('\n'),
        };
      },
    }),
  ];
}
