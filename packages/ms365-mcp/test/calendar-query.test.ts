// The calendar's domain pieces (src/calendar/), without a server: the window asked for, what a change sends
// (event-update on learn.microsoft.com/graph/api), how attendees merge, and how a suggested slot reads.
import { describe, expect, it } from 'vitest';
import { eventLine, eventWindow } from '../src/calendar/list.js';
import { meetingWindow, suggestionLine } from '../src/calendar/meeting-times.js';
import { eventPatch, mergeAttendees } from '../src/calendar/update.js';

const ZONE = 'Europe/Brussels';
const NOW = new Date('2025-03-04T15:00:00Z');

describe('windows', () => {
  it('events: from the start of today in the zone, a week long', () => {
    const { from, to } = eventWindow({}, ZONE, NOW);
    expect(from.toISOString()).toBe('2025-03-03T23:00:00.000Z');
    expect(to.toISOString()).toBe('2025-03-10T23:00:00.000Z');
  });

  it('meeting times: from now, five days long; an end before the start is refused', () => {
    const base = { attendees: ['a@b.c'], duration_minutes: 30, work_hours_only: true, max_candidates: 5 };
    expect(meetingWindow(base, ZONE, NOW).to.toISOString()).toBe('2025-03-09T15:00:00.000Z');
    expect(() => meetingWindow({ ...base, start: '2025-03-05', end: '2025-03-04' }, ZONE, NOW)).toThrow(
      'end must be after start',
    );
    expect(() => eventWindow({ start: '2025-03-05T10:00', end: '2025-03-05T10:00' }, ZONE)).toThrow(
      'end must be after start',
    );
  });
});

describe('a change', () => {
  it('sends only the fields given, times as wall-clock time in the zone', () => {
    expect(
      eventPatch({ id: 'x', start: '2025-03-05T09:30', location: 'Room 2', online_meeting: true }, ZONE),
    ).toEqual({
      start: { dateTime: '2025-03-05T09:30:00', timeZone: ZONE },
      location: { displayName: 'Room 2' },
      isOnlineMeeting: true,
      onlineMeetingProvider: 'teamsForBusiness',
    });
    expect(eventPatch({ id: 'x', online_meeting: false }, ZONE)).toEqual({ isOnlineMeeting: false });
  });

  it('keeps optional attendees unless now required, drops one without an address, refuses a bad address', () => {
    const current = [
      { type: 'optional', emailAddress: { name: 'Ann', address: 'ann@contoso.com' } },
      { type: 'optional', emailAddress: { name: 'Bob', address: 'BOB@contoso.com' } },
      { type: 'optional', emailAddress: { name: 'Room' } },
      { type: 'required', emailAddress: { address: 'old@contoso.com' } },
    ];
    expect(mergeAttendees(current, [' bob@contoso.com '])).toEqual([
      { type: 'required', emailAddress: { address: 'bob@contoso.com' } },
      { type: 'optional', emailAddress: { address: 'ann@contoso.com', name: 'Ann' } },
    ]);
    expect(() => mergeAttendees(current, ['bob'])).toThrow("'bob' is not an email address");
  });
});

describe('lines', () => {
  it('an event: organizer "me" for your own, flags for series, online and attendees', () => {
    expect(
      eventLine({
        id: 'E1',
        subject: 'Standup',
        start: { dateTime: '2025-03-05T09:30:00.0000000', timeZone: ZONE },
        end: { dateTime: '2025-03-05T09:45:00.0000000', timeZone: ZONE },
        isOrganizer: true,
        type: 'occurrence',
        isOnlineMeeting: true,
        attendees: [{ emailAddress: { address: 'ann@contoso.com' } }],
      }),
    ).toBe('E1,2025-03-05 09:30–09:45,Standup,,me,recurring online 1 attendee');
  });

  it('a slot: who is not free, the end as a time on the same day', () => {
    expect(
      suggestionLine(
        {
          confidence: 50,
          organizerAvailability: 'free',
          attendeeAvailability: [
            { attendee: { emailAddress: { address: 'ann@contoso.com' } }, availability: 'tentative' },
            { attendee: { emailAddress: { address: 'bob@contoso.com' } }, availability: 'free' },
          ],
          meetingTimeSlot: {
            start: { dateTime: '2025-03-05T10:00:00.0000000' },
            end: { dateTime: '2025-03-05T10:30:00.0000000' },
          },
        },
        0,
      ),
    ).toBe('1. 2025-03-05 10:00–10:30, confidence 50%, ann@contoso.com tentative');
  });
});
