import { describe, expect, it } from 'vitest';
import type { FakeEvent } from './fake/graph.js';
import { ALICE, getsWithoutSelect, withWorld } from './helpers.js';

const BOB = 'bob@contoso.com';
let standup: FakeEvent;
let review: FakeEvent;

const rows = (text: string) => text.split('\n').slice(3, -2);

const t = withWorld({
  seed: (world) => {
    world.authority.addUser({ username: BOB, name: 'Bob Builder' });
    world.graph.mailbox(BOB);
    // Mondays 09:00 Berlin, six times from 3 March 2025: the series crosses the DST change of 30 March.
    standup = world.graph.addEvent(ALICE, {
      subject: 'Team standup',
      start: Date.parse('2025-03-03T08:00:00Z'),
      end: Date.parse('2025-03-03T08:15:00Z'),
      timeZone: 'Europe/Berlin',
      recurrence: { type: 'weekly', interval: 1, daysOfWeek: [1], count: 6 },
      isOnlineMeeting: true,
      joinUrl: 'https://teams.microsoft.com/l/meetup-join/standup',
    });
    review = world.graph.addEvent(ALICE, {
      subject: 'Budget review',
      start: Date.parse('2025-03-25T09:00:00Z'),
      end: Date.parse('2025-03-25T10:00:00Z'),
      timeZone: 'Europe/Berlin',
      location: 'Room 4.12',
      attendees: [
        { address: BOB, name: 'Bob Builder', type: 'required' },
        { address: 'dana@contoso.com', name: 'Dana Scully', type: 'optional' },
        // Typed as a name that never resolved to an address.
        { address: '', name: 'Facilities', type: 'optional' },
      ],
    });
    world.graph.addEvent(ALICE, {
      subject: 'Vendor call',
      start: Date.parse('2025-03-26T13:00:00Z'),
      end: Date.parse('2025-03-26T13:30:00Z'),
      organizer: { name: 'Carol Danvers', address: 'carol@fabrikam.com' },
      attendees: [{ address: ALICE, type: 'required' }],
    });
  },
});

describe('ms365_list_events', () => {
  it('expands the recurring series into occurrences at the same wall-clock time across DST', async () => {
    const call = await t.server.call('ms365_list_events', {
      start: '2025-03-24',
      end: '2025-04-08',
      time_zone: 'Europe/Berlin',
    });
    expect(call.isError).toBe(false);
    const lines = call.text.split('\n');
    expect(lines[0]).toBe('Events 2025-03-24 00:00 → 2025-04-08 00:00, times in Europe/Berlin.');
    expect(lines[1]).toMatch(/^\[BEGIN UNTRUSTED event list [0-9a-f]{8}: /);
    expect(lines[2]).toBe('id,when,subject,location,organizer,flags');
    const r = rows(call.text).map((l) => l.split(',').slice(1).join(','));
    expect(r).toEqual([
      '2025-03-24 09:00–09:15,Team standup,,me,recurring online',
      '2025-03-25 10:00–11:00,Budget review,Room 4.12,me,3 attendees',
      '2025-03-26 14:00–14:30,Vendor call,,Carol Danvers <carol@fabrikam.com>,1 attendee notResponded',
      '2025-03-31 09:00–09:15,Team standup,,me,recurring online',
      '2025-04-07 09:00–09:15,Team standup,,me,recurring online',
    ]);
    expect(lines.at(-1)).toBe('5 events.');
    const req = t.world.graph.service.requestsTo('/v1.0/me/calendarView', 'GET').at(-1)!;
    expect(req.query.startDateTime).toBe('2025-03-23T23:00:00.000Z');
    expect(req.query.endDateTime).toBe('2025-04-07T22:00:00.000Z');
    expect(req.query.$select).toContain('subject');
    expect(req.headers.prefer).toBe('outlook.timezone="Europe/Berlin", IdType="ImmutableId"');
  });

  it('shows the same events in another zone', async () => {
    const call = await t.server.call('ms365_list_events', {
      start: '2025-03-24',
      end: '2025-04-01',
      time_zone: 'America/New_York',
    });
    expect(call.text.split('\n')[0]).toBe(
      'Events 2025-03-24 00:00 → 2025-04-01 00:00, times in America/New_York.',
    );
    const standups = rows(call.text).filter((l) => l.includes('Team standup'));
    expect(standups.map((l) => l.split(',')[1])).toEqual([
      '2025-03-24 04:00–04:15',
      '2025-03-31 03:00–03:15',
    ]);
  });

  it('pages with a cursor', async () => {
    const first = await t.server.call('ms365_list_events', {
      start: '2025-03-01',
      end: '2025-04-30',
      top: 2,
    });
    expect(rows(first.text)).toHaveLength(2);
    const cursor = /next_cursor: (\S+)$/.exec(first.text)![1]!;
    const second = await t.server.call('ms365_list_events', { cursor, top: 10 });
    const all = [...rows(first.text), ...rows(second.text)];
    expect(all).toHaveLength(8);
    expect(new Set(all.map((l) => l.split(',')[0])).size).toBe(8);
  });

  it('refuses an unknown time zone and an empty range', async () => {
    const zone = await t.server.call('ms365_list_events', { time_zone: 'Mars/Olympus' });
    expect(zone.text).toBe(
      "'Mars/Olympus' is not an IANA time zone. Use a name such as Europe/Berlin, America/New_York or UTC.",
    );
    const range = await t.server.call('ms365_list_events', { start: '2025-03-10', end: '2025-03-01' });
    expect(range.text).toBe('end must be after start.');
    const bad = await t.server.call('ms365_list_events', { start: 'next tuesday' });
    expect(bad.text).toBe(
      "start 'next tuesday' is not a date or time. Use 2025-03-04, 2025-03-04T09:30 (in the time zone), or an ISO time with an offset.",
    );
  });
});

describe('changing events', () => {
  it('creates a meeting with attendees and a Teams link in the given zone', async () => {
    const call = await t.server.call('ms365_create_event', {
      subject: 'Planning',
      start: '2025-04-02T15:00',
      end: '2025-04-02T16:30',
      time_zone: 'Europe/Berlin',
      attendees: [BOB],
      location: 'Room 1',
      body: 'Agenda follows',
      online_meeting: true,
    });
    const id = /id: (\S+)$/.exec(call.text)![1]!;
    const event = t.world.graph.events.get(id)!;
    expect(call.text).toBe(
      `Created «Planning» 2025-04-02 15:00–16:30 (Europe/Berlin); invitations sent to 1 attendee(s).\nJoin: ${event.joinUrl}\nid: ${id}`,
    );
    expect(new Date(event.start).toISOString()).toBe('2025-04-02T13:00:00.000Z');
    expect(event.attendees).toEqual([{ address: BOB, type: 'required' }]);
    const body = JSON.parse(
      t.world.graph.service.requestsTo('/v1.0/me/events', 'POST').at(-1)!.body,
    ) as Record<string, unknown>;
    expect(body.start).toEqual({ dateTime: '2025-04-02T15:00:00', timeZone: 'Europe/Berlin' });
    expect(body.onlineMeetingProvider).toBe('teamsForBusiness');
  });

  it('accepts a time with an offset and converts it to the zone', async () => {
    const call = await t.server.call('ms365_create_event', {
      subject: 'Call with NY',
      start: '2025-04-03T10:00-04:00',
      end: '2025-04-03T10:30-04:00',
      time_zone: 'Europe/Berlin',
    });
    expect(call.text.split('\n')[0]).toBe('Created «Call with NY» 2025-04-03 16:00–16:30 (Europe/Berlin).');
  });

  it('updates only the fields given and says what changed', async () => {
    const call = await t.server.call('ms365_update_event', {
      id: review.id,
      start: '2025-03-25T14:00',
      end: '2025-03-25T15:00',
      location: 'Room 2.01',
      attendees: [BOB, 'eve@contoso.com'],
    });
    expect(call.text).toBe(
      'Updated «Budget review» 2025-03-25 14:00–15:00 (Europe/Berlin); changed start, end, location, attendees.',
    );
    expect(new Date(review.start).toISOString()).toBe('2025-03-25T13:00:00.000Z');
    // The list replaced the required attendees; the optional one with an address stayed, name and all.
    expect(review.attendees).toEqual([
      { address: BOB, type: 'required' },
      { address: 'eve@contoso.com', type: 'required' },
      { address: 'dana@contoso.com', name: 'Dana Scully', type: 'optional' },
    ]);
    await t.server.call('ms365_update_event', { id: review.id, attendees: [BOB, 'Dana@contoso.com'] });
    expect(review.attendees).toEqual([
      { address: BOB, type: 'required' },
      { address: 'Dana@contoso.com', type: 'required' },
    ]);
    const nothing = await t.server.call('ms365_update_event', { id: review.id });
    expect(nothing.text).toBe('Nothing to change: give at least one field besides id.');
  });

  it('cancels a meeting with a comment that reaches the attendees', async () => {
    const created = await t.server.call('ms365_create_event', {
      subject: 'Offsite',
      start: '2025-05-05T09:00',
      end: '2025-05-05T17:00',
      attendees: [BOB],
    });
    const id = /id: (\S+)$/.exec(created.text)![1]!;
    const call = await t.server.call('ms365_cancel_event', { id, comment: 'Postponed to June' });
    expect(call.text).toBe(
      `Cancelled the event ${id.slice(0, 12)}…${id.slice(-6)} and sent your comment to the attendees.`,
    );
    expect(t.world.graph.events.has(id)).toBe(false);
    const notice = t.world.graph
      .mailbox(BOB)
      .inFolder('inbox')
      .find((m) => m.subject === 'Canceled: Offsite')!;
    expect(notice.body.content).toBe('Postponed to June');
  });

  it('cancels one occurrence of a series', async () => {
    const list = await t.server.call('ms365_list_events', { start: '2025-03-31', end: '2025-04-01' });
    const occurrence = rows(list.text)
      .find((l) => l.includes('Team standup'))!
      .split(',')[0]!;
    expect((await t.server.call('ms365_cancel_event', { id: occurrence })).isError).toBe(false);
    expect(standup.cancelledDates.has('2025-03-31')).toBe(true);
    const after = await t.server.call('ms365_list_events', { start: '2025-03-24', end: '2025-04-08' });
    expect(
      rows(after.text)
        .filter((l) => l.includes('Team standup'))
        .map((l) => l.split(',')[1]),
    ).toEqual(['2025-03-24 09:00–09:15', '2025-04-07 09:00–09:15']);
  });

  it('explains that only the organizer can cancel', async () => {
    const list = await t.server.call('ms365_list_events', { start: '2025-03-26', end: '2025-03-27' });
    const id = rows(list.text)[0]!.split(',')[0]!;
    const call = await t.server.call('ms365_cancel_event', { id });
    expect(call.isError).toBe(true);
    expect(call.text).toMatch(
      /^Only the organizer can cancel this meeting, and you are an attendee\. Upstream said: Microsoft Graph 400 ErrorInvalidRequest: «Your request can't be completed\. You need to be an organizer to cancel a meeting\.» \(request id [0-9a-f-]{36}\)\. Decline it in Outlook instead, or ask the organizer\.$/,
    );
  });

  it('answers an unknown event id with one sentence', async () => {
    const id = `AAMkAGI2${'q'.repeat(144)}`;
    const call = await t.server.call('ms365_update_event', { id, subject: 'x' });
    expect(call.text).toMatch(
      /^No event has id 'AAMkAGI2qqqq…qqqqqq' in this calendar\. Upstream said: .*Take ids from ms365_list_events\.$/,
    );
  });
});

describe('ms365_find_meeting_times', () => {
  it('ranks free slots and says who is busy', async () => {
    // Alice has a meeting 10:00–11:00 Berlin; Bob is busy 11:00–12:00; Carol (outside) is free.
    t.world.graph.addEvent(ALICE, {
      subject: 'Blocker',
      start: Date.parse('2025-03-11T09:00:00Z'),
      end: Date.parse('2025-03-11T10:00:00Z'),
    });
    t.world.graph.schedules.set(BOB, [
      { start: Date.parse('2025-03-11T10:00:00Z'), end: Date.parse('2025-03-11T11:00:00Z') },
    ]);
    const call = await t.server.call('ms365_find_meeting_times', {
      attendees: [BOB, 'carol@fabrikam.com'],
      duration_minutes: 60,
      start: '2025-03-11T09:00',
      end: '2025-03-11T13:00',
      time_zone: 'Europe/Berlin',
    });
    expect(call.text).toBe(
      [
        '4 slot(s) of 60 min, best first, times in Europe/Berlin:',
        '1. 2025-03-11 09:00–10:00, confidence 100%, everyone free',
        '2. 2025-03-11 12:00–13:00, confidence 100%, everyone free',
        '3. 2025-03-11 11:00–12:00, confidence 50%, bob@contoso.com busy',
        '4. 2025-03-11 11:30–12:30, confidence 50%, bob@contoso.com busy',
      ].join('\n'),
    );
    const body = JSON.parse(
      t.world.graph.service.requestsTo('/v1.0/me/findMeetingTimes', 'POST').at(-1)!.body,
    ) as {
      meetingDuration: string;
      timeConstraint: { timeSlots: Array<{ start: { dateTime: string } }> };
    };
    expect(body.meetingDuration).toBe('PT60M');
    expect(body.timeConstraint.timeSlots[0]!.start.dateTime).toBe('2025-03-11T09:00:00');
  });

  it('says when no slot fits', async () => {
    const call = await t.server.call('ms365_find_meeting_times', {
      attendees: [BOB],
      duration_minutes: 60,
      start: '2025-03-11T11:00',
      end: '2025-03-11T12:00',
      time_zone: 'Europe/Berlin',
    });
    expect(call.text).toBe(
      'No 60-minute slot fits between 2025-03-11 11:00 and 2025-03-11 12:00 (Europe/Berlin): AttendeesUnavailable. Try a wider window or work_hours_only false.',
    );
  });
});

describe('every request', () => {
  it('asked Graph only for the properties it shows ($select on every GET)', () => {
    expect(
      t.world.graph.service.requests.filter((r) => r.headers['user-agent'] === 'switchyard-ms365-mcp').length,
    ).toBeGreaterThan(10);
    expect(getsWithoutSelect(t.world)).toEqual([]);
  });
});
