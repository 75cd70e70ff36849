/** The text of a mail attachment (ms365_get_message with attachment_id), read like a drive file. */
import type { Readable } from 'node:stream';
import { shortId, type Graph } from '../graph-client.js';
import { collect } from './collect.js';
import { DOCUMENT_LIMIT, readAnswer, tooLargeAnswer, wantsWholeFile, type ReadSubject } from './read.js';

export async function readAttachment(
  graph: Graph,
  /** `/me`, or `/users/{address}` for a shared mailbox. */
  root: string,
  messageId: string,
  attachmentId: string,
  maxBytes: number,
  signal: AbortSignal,
): Promise<string> {
  const path = `${root}/messages/${encodeURIComponent(messageId)}/attachments/${encodeURIComponent(attachmentId)}`;
  const notFound = {
    notFound: `Message ${shortId(messageId)} has no attachment with id '${shortId(attachmentId)}'`,
    notFoundHint: 'Take attachment ids from ms365_get_message',
  };
  const headers = { prefer: 'IdType="ImmutableId"' };
  const meta = await graph.get<{ name?: string; contentType?: string; size?: number }>(path, {
    query: { $select: 'id,name,contentType,size' },
    headers,
    signal,
    ...notFound,
  });
  const subject: ReadSubject = {
    name: meta.name,
    mime: meta.contentType,
    size: meta.size,
    modified: '',
    saveWith: 'ms365_download_attachment',
  };
  const whole = wantsWholeFile(subject);
  // An attachment's size counts its metadata too, so the cap is checked on the bytes as well.
  if (whole && (meta.size ?? 0) > DOCUMENT_LIMIT + 64 * 1024) return tooLargeAnswer(subject);
  // Raw bytes: GET …/attachments/{id}/$value (learn.microsoft.com/graph/api/attachment-get, example 6).
  const res = await graph.request<Readable>({
    path: `${path}/$value`,
    headers,
    responseType: 'stream',
    signal,
    ...notFound,
  });
  const bytes = await collect(res.data, whole ? DOCUMENT_LIMIT : maxBytes);
  return readAnswer(subject, bytes, { whole, maxBytes, signal });
}
