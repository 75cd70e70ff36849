/**
 * Finding mail: one folder newest first with $filter, or the whole mailbox by relevance with $search (KQL), since
 * Graph takes neither $filter nor $orderby beside $search (learn.microsoft.com/graph/search-query-parameter).
 */
import { odataString, oneLine } from '@switchyard/core';
import type { Graph } from '../graph-client.js';
import { csvLine, fitBytes } from '../format.js';
import { mailboxRoot } from '../mailbox.js';
import { compactUtc, parseTime } from '../time.js';
import { resolveFolder } from './folders.js';
import { IMMUTABLE, type Message } from './message.js';

/** One message line at most this many bytes: ten lines and the cursor fit in 4 KB. */
const LINE_BUDGET = 334;
const PREVIEW_CHARS = 160;

export interface MessageFilter {
  mailbox?: unknown;
  folder?: string | undefined;
  from?: string | undefined;
  subject?: string | undefined;
  after?: string | undefined;
  before?: string | undefined;
  unread_only: boolean;
  has_attachments?: boolean | undefined;
  search?: string | undefined;
  top: number;
  cursor?: string | undefined;
}

/** A sender given by name rather than address can only be found by search. */
export const searches = (f: MessageFilter) => Boolean(f.search) || Boolean(f.from && !f.from.includes('@'));

/** KQL value: quoted when it has spaces, inner quotes dropped. */
function kql(value: string): string {
  const v = value.replace(/"/g, '').trim();
  return /\s/.test(v) ? `"${v}"` : v;
}

/** The query string of a message list: `$search` with every filter in its KQL, or `$filter` and `$orderby`. */
export function messageQuery(f: MessageFilter, showTo: boolean): Record<string, string | number> {
  const select = `id,subject,${showTo ? 'toRecipients,sentDateTime' : 'from'},receivedDateTime,bodyPreview,isRead,hasAttachments,importance,flag`;
  const query: Record<string, string | number> = { $select: select, $top: f.top };
  const day = (v: string, field: string) =>
    parseTime(v, 'UTC', field)
      .toISOString()
      .replace(/\.000Z$/, 'Z');
  if (searches(f)) {
    // $search cannot be combined with $filter or $orderby: every filter goes into the KQL.
    const terms = [
      f.search ? f.search.replace(/"/g, '\\"') : '',
      f.from ? `from:${kql(f.from)}` : '',
      f.subject ? `subject:${kql(f.subject)}` : '',
      f.after ? `received>=${day(f.after, 'after').slice(0, 10)}` : '',
      f.before ? `received<${day(f.before, 'before').slice(0, 10)}` : '',
      f.unread_only ? 'isread:false' : '',
      f.has_attachments !== undefined ? `hasattachments:${f.has_attachments}` : '',
    ].filter(Boolean);
    query.$search = `"${terms.join(' AND ')}"`;
  } else {
    const filters = [
      f.from ? `from/emailAddress/address eq ${odataString(f.from)}` : '',
      f.subject ? `contains(subject,${odataString(f.subject)})` : '',
      f.before ? `receivedDateTime lt ${day(f.before, 'before')}` : '',
      f.unread_only ? 'isRead eq false' : '',
      f.has_attachments !== undefined ? `hasAttachments eq ${f.has_attachments}` : '',
    ].filter(Boolean);
    // Graph wants the $orderby property first in $filter, else it answers InefficientFilter.
    if (filters.length > 0 || f.after) {
      filters.unshift(`receivedDateTime ge ${f.after ? day(f.after, 'after') : '1900-01-01T00:00:00Z'}`);
      query.$filter = filters.join(' and ');
    }
    query.$orderby = 'receivedDateTime desc';
  }
  return query;
}

/** One page of messages; without a folder, a search covers the whole mailbox. */
export async function listMessages(graph: Graph, f: MessageFilter, signal: AbortSignal) {
  const useSearch = searches(f);
  const root = mailboxRoot(f);
  let folder: { id: string; name: string } | undefined;
  if (f.folder || !useSearch) folder = await resolveFolder(graph, root, f.folder ?? 'inbox', signal);
  const path = folder ? `${root}/mailFolders/${encodeURIComponent(folder.id)}/messages` : `${root}/messages`;
  // Sent mail and drafts are about whom they go to.
  const showTo = folder?.id === 'sentitems' || folder?.id === 'drafts';
  const page = await graph.list<Message>(
    path,
    {
      query: messageQuery(f, showTo),
      headers: IMMUTABLE,
      top: f.top,
      ...(f.cursor ? { cursor: f.cursor } : {}),
    },
    signal,
  );
  return { page, folder, useSearch, showTo };
}

function flags(m: Message): string {
  return [
    m.isRead === false ? 'U' : '',
    m.hasAttachments ? 'A' : '',
    m.importance === 'high' ? '!' : '',
    m.flag?.flagStatus === 'flagged' ? 'F' : '',
  ].join('');
}

/** One compact CSV line; the preview gets whatever the line budget leaves (at most 160 chars). */
export function messageLine(m: Message, showTo: boolean): string {
  // The address alone: unambiguous, usable as the from filter or a recipient, and half the bytes of "Name <address>".
  const first = showTo ? m.toRecipients?.[0] : m.from;
  const more = showTo && (m.toRecipients?.length ?? 0) > 1 ? ` +${m.toRecipients!.length - 1}` : '';
  const who = oneLine(first?.emailAddress?.address ?? first?.emailAddress?.name, 80) + more;
  const fixed = [
    m.id,
    compactUtc(m.receivedDateTime ?? m.sentDateTime),
    who,
    oneLine(m.subject, 100),
    flags(m),
  ];
  const used = Buffer.byteLength(csvLine(fixed)) + 3;
  const preview = fitBytes(oneLine(m.bodyPreview, PREVIEW_CHARS), LINE_BUDGET - used);
  return csvLine([...fixed, preview]);
}
