/** Outlook events as Graph returns them (learn.microsoft.com/graph/api/resources/event), and how a line shows one. */
import { UserInputError } from '@switchyard/core';
import type { EmailAddress } from '../format.js';
import { shortId } from '../graph-client.js';
import { compactLocal, localDateTime, parseTime } from '../time.js';

export interface DateTimeTimeZone {
  dateTime?: string;
  timeZone?: string;
}

export interface Event {
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

export const EVENT_SELECT =
  'id,subject,start,end,location,organizer,isAllDay,isCancelled,isOrganizer,showAs,isOnlineMeeting,onlineMeeting,type,attendees,responseStatus';

export const prefer = (zone: string) => ({ prefer: `outlook.timezone="${zone}", IdType="ImmutableId"` });

export const notFound = (id: string) => ({
  notFound: `No event has id '${shortId(id)}' in this calendar`,
  notFoundHint: 'Take ids from ms365_list_events',
});

export function checkAddresses(list: string[] | undefined): string[] {
  for (const a of list ?? []) {
    if (!/^[^@\s]+@[^@\s]+$/.test(a.trim())) throw new UserInputError(`'${a}' is not an email address`);
  }
  return (list ?? []).map((a) => a.trim());
}

/** A time the user gave, as Graph's wall-clock time in `zone`. */
export function graphTime(value: string, zone: string, field: string): DateTimeTimeZone {
  return { dateTime: localDateTime(parseTime(value, zone, field), zone), timeZone: zone };
}

/** `2025-03-04 09:30` in a zone. */
export const wall = (instant: Date, zone: string) =>
  localDateTime(instant, zone).slice(0, 16).replace('T', ' ');

export function span(e: Event): string {
  const s = compactLocal(e.start?.dateTime);
  const end = compactLocal(e.end?.dateTime);
  if (e.isAllDay)
    return `${s.slice(0, 10)} all day${end.slice(0, 10) > s.slice(0, 10) ? ` to ${end.slice(0, 10)}` : ''}`;
  return end.slice(0, 10) === s.slice(0, 10) ? `${s}–${end.slice(11)}` : `${s} → ${end}`;
}

export function eventFlags(e: Event): string {
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

export function requiredAttendees(addresses: string[] | undefined) {
  return checkAddresses(addresses).map((a) => ({ type: 'required', emailAddress: { address: a } }));
}
