/** Changing an event: a PATCH of the fields given (learn.microsoft.com/graph/api/event-update). */
import { UserInputError } from '@switchyard/core';
import type { Graph } from '../graph-client.js';
import { graphTime, notFound, prefer, requiredAttendees, type Event } from './event.js';

export interface EventChange {
  id: string;
  subject?: string | undefined;
  start?: string | undefined;
  end?: string | undefined;
  attendees?: string[] | undefined;
  location?: string | undefined;
  body?: string | undefined;
  online_meeting?: boolean | undefined;
}

/** The PATCH body for every field given except attendees (times as wall-clock time in `zone`). */
export function eventPatch(a: EventChange, zone: string): Record<string, unknown> {
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
  return patch;
}

/**
 * The new required attendees, and the optional ones Graph has, unless the new list makes them required; one
 * without an address cannot be sent back.
 */
export function mergeAttendees(current: Event['attendees'], addresses: string[]) {
  const required = requiredAttendees(addresses);
  const named = new Set(required.map((x) => x.emailAddress.address.toLowerCase()));
  const optional = (current ?? []).flatMap((x) => {
    const found = x.emailAddress?.address?.trim();
    if (x.type !== 'optional' || !found || named.has(found.toLowerCase())) return [];
    const name = x.emailAddress?.name;
    return [{ type: 'optional', emailAddress: { address: found, ...(name ? { name } : {}) } }];
  });
  return [...required, ...optional];
}

/** Apply the change; returns the event as Graph has it now and the fields that were sent. */
export async function updateEvent(
  graph: Graph,
  root: string,
  a: EventChange,
  zone: string,
  signal: AbortSignal,
) {
  const patch = eventPatch(a, zone);
  const path = `${root}/events/${encodeURIComponent(a.id)}`;
  if (a.attendees !== undefined) {
    const current = await graph.get<Event>(path, {
      query: { $select: 'attendees' },
      headers: prefer(zone),
      signal,
      ...notFound(a.id),
    });
    patch.attendees = mergeAttendees(current.attendees, a.attendees);
  }
  if (Object.keys(patch).length === 0) {
    throw new UserInputError('Nothing to change: give at least one field besides id');
  }
  const updated = await graph.request<Event>({
    method: 'PATCH',
    path,
    json: patch,
    headers: prefer(zone),
    signal,
    ...notFound(a.id),
  });
  return { event: updated.data, changed: Object.keys(patch) };
}
