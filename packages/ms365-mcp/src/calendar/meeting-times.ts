/** Free slots for the user and attendees, from Graph's findMeetingTimes (learn.microsoft.com/graph/api/user-findmeetingtimes). */
import { UserInputError, plainOrUntrusted } from '@switchyard/core';
import type { EmailAddress } from '../format.js';
import type { Graph } from '../graph-client.js';
import { compactLocal, localDateTime, parseTime } from '../time.js';
import { checkAddresses, prefer, type DateTimeTimeZone } from './event.js';

export interface MeetingRequest {
  attendees: string[];
  duration_minutes: number;
  start?: string | undefined;
  end?: string | undefined;
  work_hours_only: boolean;
  max_candidates: number;
}

export interface Suggestion {
  confidence?: number;
  organizerAvailability?: string;
  attendeeAvailability?: Array<{ attendee?: EmailAddress; availability?: string }>;
  meetingTimeSlot?: { start?: DateTimeTimeZone; end?: DateTimeTimeZone };
}

/** The window in `zone`: from now and five days long unless given. */
export function meetingWindow(a: MeetingRequest, zone: string, now = new Date()): { from: Date; to: Date } {
  const from = a.start ? parseTime(a.start, zone, 'start') : now;
  const to = a.end ? parseTime(a.end, zone, 'end') : new Date(from.getTime() + 5 * 86_400_000);
  if (to <= from) throw new UserInputError('end must be after start');
  return { from, to };
}

/** The suggestions, best first (confidence, then the earlier slot), at most `max_candidates`. */
export async function findMeetingTimes(
  graph: Graph,
  a: MeetingRequest,
  window: { from: Date; to: Date },
  zone: string,
  signal: AbortSignal,
) {
  const attendees = checkAddresses(a.attendees);
  const { from, to } = window;
  const result = await graph.post<{
    emptySuggestionsReason?: string;
    meetingTimeSuggestions?: Suggestion[];
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
    { headers: prefer(zone), signal, idempotent: true },
  );
  const suggestions = [...(result.meetingTimeSuggestions ?? [])]
    .sort(
      (x, y) =>
        (y.confidence ?? 0) - (x.confidence ?? 0) ||
        (x.meetingTimeSlot?.start?.dateTime ?? '').localeCompare(y.meetingTimeSlot?.start?.dateTime ?? ''),
    )
    .slice(0, a.max_candidates);
  return { suggestions, emptyReason: result.emptySuggestionsReason };
}

/** `1. 2025-03-04 09:30–10:00, confidence 100%, everyone free`; who is not free comes from Graph, so it is quoted. */
export function suggestionLine(s: Suggestion, i: number): string {
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
}
