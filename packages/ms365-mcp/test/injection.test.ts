import { describe, expect, it } from 'vitest';
import { fenceProblems, injection } from '@switchyard/testkit';
import { ALICE, withWorld } from './helpers.js';

// Rule 7: a subject, preview, name or location written by an outsider reaches the model only inside a fence.
const NEEDLE = 'SYSTEM OVERRIDE';
const evil = injection(NEEDLE);

let messageId: string;

const t = withWorld({
  seed: (world) => {
    const box = world.graph.mailbox(ALICE);
    messageId = box.add({
      subject: evil,
      from: { name: `Mallory ${evil}`, address: 'mallory@evil.example' },
      received: Date.parse('2025-03-10T09:00:00Z'),
      body: { contentType: 'text', content: `Preview: ${evil}\nMore text.` },
    }).id;
    world.graph.addEvent(ALICE, {
      subject: evil,
      location: evil,
      start: Date.parse('2025-03-11T09:00:00Z'),
      end: Date.parse('2025-03-11T10:00:00Z'),
      organizer: { name: evil, address: 'mallory@evil.example' },
    });
    world.graph.drive(ALICE).put(`Shared/${evil.replace(/\//g, '-')}.txt`, `file text ${evil}`);
  },
});

describe('text from outside stays inside a fence', () => {
  it('ms365_list_messages: subject, sender name and preview', async () => {
    const call = await t.server.call('ms365_list_messages', {});
    expect(call.isError).toBe(false);
    expect(call.text).toContain(NEEDLE);
    expect(fenceProblems(call.text, NEEDLE)).toEqual([]);
  });

  it('ms365_get_message: headers and body', async () => {
    const call = await t.server.call('ms365_get_message', { id: messageId });
    expect(call.isError).toBe(false);
    expect(call.text).toMatch(/Subject: .*SYSTEM OVERRIDE/);
    expect(fenceProblems(call.text, NEEDLE)).toEqual([]);
  });

  it('ms365_list_events: subject, location and organizer', async () => {
    const call = await t.server.call('ms365_list_events', {
      start: '2025-03-11',
      end: '2025-03-12',
      time_zone: 'UTC',
    });
    expect(call.isError).toBe(false);
    expect(call.text).toContain(NEEDLE);
    expect(fenceProblems(call.text, NEEDLE)).toEqual([]);
  });

  it('ms365_find_meeting_times: attendees, availability, times and the empty reason', async () => {
    // Graph's findMeetingTimes answer (learn.microsoft.com/graph/api/user-findmeetingtimes, meetingTimeSuggestionsResult)
    // with outside text in every string the tool shows.
    const path = '/v1.0/me/findMeetingTimes';
    t.world.graph.service.inject({
      method: 'POST',
      path,
      status: 200,
      body: {
        emptySuggestionsReason: '',
        meetingTimeSuggestions: [
          {
            confidence: 50,
            organizerAvailability: evil,
            attendeeAvailability: [
              { attendee: { type: 'required', emailAddress: { address: evil } }, availability: evil },
            ],
            meetingTimeSlot: {
              start: { dateTime: `${evil}T09:00:00`, timeZone: 'UTC' },
              end: { dateTime: '2025-03-12T10:00:00.0000000', timeZone: 'UTC' },
            },
          },
        ],
      },
    });
    const args = { attendees: ['bob@contoso.com'], start: '2025-03-12T08:00', end: '2025-03-12T17:00' };
    const slots = await t.server.call('ms365_find_meeting_times', { ...args, time_zone: 'UTC' });
    expect(slots.isError).toBe(false);
    expect(slots.text).toContain(NEEDLE);
    expect(fenceProblems(slots.text, NEEDLE, { quoted: true })).toEqual([]);

    t.world.graph.service.inject({
      method: 'POST',
      path,
      status: 200,
      body: { emptySuggestionsReason: evil, meetingTimeSuggestions: [] },
    });
    const none = await t.server.call('ms365_find_meeting_times', { ...args, time_zone: 'UTC' });
    expect(none.isError).toBe(false);
    expect(none.text).toContain(NEEDLE);
    expect(fenceProblems(none.text, NEEDLE, { quoted: true })).toEqual([]);
  });

  it('ms365_list_files and ms365_read_file: file names and text', async () => {
    const list = await t.server.call('ms365_list_files', { path: 'Shared' });
    expect(list.isError).toBe(false);
    expect(list.text).toContain(NEEDLE);
    expect(fenceProblems(list.text, NEEDLE)).toEqual([]);
    const id = /,(\S+)\n\[END UNTRUSTED/.exec(list.text)?.[1];
    const file = await t.server.call('ms365_read_file', { item_id: id });
    expect(file.isError).toBe(false);
    expect(fenceProblems(file.text, NEEDLE, { quoted: true })).toEqual([]);
  });
});
