// Upload sessions shared by drive items and mail attachments: Content-Range checked, OneDrive's 320 KiB fragment
// rule and 60 MiB cap, Outlook's 4 MB chunks, and injected faults (learn.microsoft.com/graph/api/driveitem-createuploadsession,
// /graph/outlook-large-attachments).
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FakeReply, FakeRequest } from '@switchyard/testkit';
import { MB, UNIT } from './common.js';
import type { GraphCore } from './core.js';
import type { UploadSession } from './drive-store.js';

/** The pre-authenticated upload URLs of both kinds: chunks, status and cancelling. */
export function installUploads(g: GraphCore): void {
  const s = g.service;
  s.route('PUT', '/upload/:kind/:token', (req, raw) => uploadChunk(g, req, raw));
  s.route('GET', '/upload/:kind/:token', (req) => {
    const session = g.uploads.get(req.params.token!);
    if (!session) return g.error(404, 'itemNotFound', 'The upload session was not found.');
    return {
      body: {
        expirationDateTime: new Date(session.expires).toISOString(),
        nextExpectedRanges: [`${session.next}-`],
      },
    };
  });
  s.route('DELETE', '/upload/:kind/:token', (req) => {
    g.uploads.delete(req.params.token!);
    return { status: 204 };
  });
}

export function newSession(
  g: GraphCore,
  kind: 'drive' | 'mail',
  size: number,
  complete: (content: Buffer) => FakeReply,
): UploadSession {
  const session: UploadSession = {
    kind,
    token: randomBytes(16).toString('hex'),
    size,
    received: [],
    next: 0,
    expires: Date.now() + 3_600_000,
    complete,
  };
  g.uploads.set(session.token, session);
  return session;
}

/** A chunk to an upload session: Content-Range checked, OneDrive's 320 KiB rule, Outlook's 4 MB cap. */
export function uploadChunk(
  g: GraphCore,
  req: FakeRequest,
  raw: { req: IncomingMessage; res: ServerResponse },
): FakeReply | void {
  const session = g.uploads.get(req.params.token!);
  if (!session) return g.error(404, 'itemNotFound', 'The upload session was not found or has expired.');
  if (req.headers.authorization) {
    return g.error(
      401,
      'unauthenticated',
      'Do not send an Authorization header to a pre-authenticated upload URL.',
    );
  }
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(req.headers['content-range'] ?? ''));
  if (!m) return g.error(400, 'invalidRequest', 'A Content-Range header is required.');
  const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (session.size === -1) session.size = total;
  if (total !== session.size)
    return g.error(400, 'invalidRequest', 'The total size does not match the session.');
  if (req.body.length !== end - start + 1)
    return g.error(400, 'invalidRequest', 'The body length does not match Content-Range.');
  if (start !== session.next) {
    return g.error(
      416,
      'invalidRange',
      `The fragment starts at ${start}, but the session expects ${session.next}.`,
    );
  }
  const last = end + 1 === total;
  if (session.kind === 'drive') {
    if (!last && req.body.length % UNIT !== 0)
      return g.error(400, 'invalidRequest', 'Fragments must be a multiple of 320 KiB.');
    if (req.body.length > 60 * MB)
      return g.error(413, 'requestTooLarge', 'Fragments must be smaller than 60 MiB.');
  } else if (req.body.length > 4 * MB) {
    return g.error(413, 'RequestBodyTooLarge', 'Attachment upload chunks must be at most 4 MB.');
  }
  const fault = g.uploadFault;
  const failing = fault !== undefined && fault.times > 0 && start >= fault.fromOffset;
  if (failing) fault.times--;
  if (failing && fault.mode === 'drop') {
    raw.req.socket.destroy();
    return;
  }
  session.received.push(req.body);
  session.next = end + 1;
  let reply: FakeReply;
  if (last) {
    g.uploads.delete(session.token);
    reply = session.complete(Buffer.concat(session.received));
  } else {
    reply = {
      status: session.kind === 'drive' ? 202 : 200,
      body: {
        expirationDateTime: new Date(session.expires).toISOString(),
        nextExpectedRanges: [`${session.next}-`],
      },
    };
  }
  if (failing) {
    // Stored, but the answer never arrives: the client must ask the session where it stands.
    raw.req.socket.destroy();
    return;
  }
  return reply;
}
