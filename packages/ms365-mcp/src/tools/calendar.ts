import {
  UserInputError,
  checkTimeZone,
  isSwitchyardError,
  plainOrUntrusted,
  untrusted,
  z,
  type ToolDefinition,
  listFooter,
  pageCount,
  cursorArg,
} from '@switchyard/core';
import { graphTime, notFound, prefer, requiredAttendees, span, wall, type Event } from '../calendar/event.js';
import { eventLine, eventWindow, listEvents } from '../calendar/list.js';
import { findMeetingTimes, meetingWindow, suggestionLine } from '../calendar/meeting-times.js';
import { updateEvent } from '../calendar/update.js';
import { confirmCancel } from '../confirmations.js';
import type { Ms365 } from '../context.js';
import { shortId } from '../graph-client.js';
import { fencedCsv, resumable } from '../format.js';
import { mailboxInput, mailboxRoot, whose } from '../mailbox.js';

const address = z.string().max(320);
const zoneField = z.string().max(64).optional().describe('IANA zone.');
const when = (what: string) => z.string().max(40).describe(what);

/** The calendar tools: each handler resolves the zone, calls one function of ../calendar/ and words the answer. */
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
        const { from, to } = eventWindow(a, zone);
        const page = await listEvents(graph, mailboxRoot(a), { from, to }, zone, a, ctx.signal);
        const shownZone = page.items[0]?.start?.timeZone ?? zone;
        const lines = [
          `${whose(a)}Events ${wall(from, zone)} → ${wall(to, zone)}, times in ${shownZone}.`,
          fencedCsv('event list', 'id,when,subject,location,organizer,flags', page.items.map(eventLine)),
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
        const { event: e, changed } = await updateEvent(graph, mailboxRoot(a), a, zone, ctx.signal);
        return {
          text: `Updated ${untrusted(e.subject, 100)} ${span(e)} (${e.start?.timeZone ?? zone}); changed ${changed.join(', ')}.`,
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
      confirm: (a, ctx, graph) => confirmCancel(a, ctx, graph, m.defaultZone),
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
        const { from, to } = meetingWindow(a, zone);
        const { suggestions, emptyReason } = await findMeetingTimes(graph, a, { from, to }, zone, ctx.signal);
        if (suggestions.length === 0) {
          return {
            text: `No ${a.duration_minutes}-minute slot fits between ${wall(from, zone)} and ${wall(to, zone)} (${zone})${
              emptyReason ? `: ${plainOrUntrusted(emptyReason, 100)}` : ''
            }. Try a wider window or work_hours_only false.`,
          };
        }
        return {
          text: [
            `${suggestions.length} slot(s) of ${a.duration_minutes} min, best first, times in ${zone}:`,
            ...suggestions.map(suggestionLine),
          ].join('\n'),
        };
      },
    }),
  ];
}
