import { createHash } from 'node:crypto';
import {
  CancelledError,
  NotFoundError,
  UpstreamError,
  isSwitchyardError,
  readSlice,
  type LocalFile,
  type Logger,
  type SecretStore,
  formatBytes,
} from '@switchyard/core';
import type { Graph } from './graph-client.js';

/** OneDrive wants chunks in multiples of 320 KiB: 16 × 320 KiB = 5 MiB. */
export const DRIVE_CHUNK = 16 * 320 * 1024;
/** Outlook attachment sessions take chunks of at most 4 MB: 12 × 320 KiB stays under it either way. */
export const MAIL_CHUNK = 12 * 320 * 1024;
/** How often a broken chunk is resumed from the session's `nextExpectedRanges` within one call. */
const RESUMES = 3;

interface SessionStatus {
  nextExpectedRanges?: string[];
  expirationDateTime?: string;
  id?: string;
  name?: string;
  size?: number;
  [key: string]: unknown;
}

export interface ChunkedUpload {
  graph: Graph;
  uploadUrl: string;
  file: LocalFile;
  chunkSize: number;
  /** Where to start (from a stored session's `nextExpectedRanges`). */
  start?: number;
  /** The session outlives the call (stored), so a later call can resume it. */
  kept: boolean;
  signal: AbortSignal;
  log: Logger;
  progress: (sent: number, total: number) => Promise<void>;
}

/** The first byte the session still wants, from `nextExpectedRanges` like `["5242880-"]`. */
export function nextOffset(status: SessionStatus | undefined): number | undefined {
  const first = status?.nextExpectedRanges?.[0];
  if (!first) return undefined;
  const n = Number(first.split('-')[0]);
  return Number.isFinite(n) ? n : undefined;
}

/** The session's own view of how far it got. */
export async function sessionStatus(graph: Graph, uploadUrl: string, signal: AbortSignal) {
  const res = await graph.request<SessionStatus>({ path: uploadUrl, method: 'GET', anonymous: true, signal });
  return res.data;
}

export class UploadInterruptedError extends UpstreamError {
  constructor(
    readonly sent: number,
    readonly file: LocalFile,
    cause: unknown,
    /** Whether calling again continues this upload (a stored, still valid session). */
    readonly resumable: boolean,
  ) {
    const status = isSwitchyardError(cause) ? cause.upstream?.status : undefined;
    const reason = status ? `Microsoft Graph answered HTTP ${status}` : 'the connection broke';
    super(
      `The upload of ${file.name} stopped at ${formatBytes(sent)} of ${formatBytes(file.size)} (${reason})`,
      {
        hint: resumable
          ? 'Call the tool again with the same arguments: it resumes where the upload stopped'
          : 'Call the tool again with the same arguments to start the upload over',
        ...(isSwitchyardError(cause) && cause.upstream ? { upstream: cause.upstream } : {}),
        cause,
      },
    );
  }
}

/**
 * PUT a local file to an upload session chunk by chunk (`Content-Range`, no Authorization header: the
 * URL is pre-signed). A chunk that fails is not blindly re-sent: the session is asked which bytes it
 * still expects (`nextExpectedRanges`) and the upload continues from there. Returns the final answer.
 */
export async function uploadChunks(u: ChunkedUpload): Promise<SessionStatus | undefined> {
  const { file, graph } = u;
  let offset = u.start ?? 0;
  let resumes = 0;
  // A kept session survives the cancel (the next call with the same arguments resumes it); a mail attachment's
  // goes with its draft.
  const cancelled = () =>
    new CancelledError(
      u.kept
        ? `The upload of ${file.name} was cancelled at ${formatBytes(offset)} of ${formatBytes(file.size)}; call the tool again with the same arguments to resume it.`
        : `The upload of ${file.name} was cancelled; nothing was sent.`,
    );
  for (;;) {
    if (u.signal.aborted) throw cancelled();
    const end = Math.min(offset + u.chunkSize, file.size);
    try {
      const chunk = await readSlice(file.path, offset, end - offset);
      const res = await graph.request<SessionStatus>({
        path: u.uploadUrl,
        method: 'PUT',
        anonymous: true,
        // A failed chunk is resumed from the session's own state below, not re-sent blindly.
        idempotent: false,
        body: chunk,
        headers: {
          'content-type': 'application/octet-stream',
          'content-range': `bytes ${offset}-${end - 1}/${file.size}`,
        },
        timeoutMs: 120_000,
        signal: u.signal,
      });
      await u.progress(end, file.size);
      const next = nextOffset(res.data);
      if (res.status === 201 || (res.status === 200 && next === undefined)) return res.data;
      offset = next ?? end;
      continue;
    } catch (err) {
      if (err instanceof CancelledError || u.signal.aborted) throw cancelled();
      if (err instanceof NotFoundError) throw new UploadInterruptedError(offset, file, err, false);
      if (++resumes > RESUMES) throw new UploadInterruptedError(offset, file, err, u.kept);
      u.log.info(`chunk at ${offset} failed (${(err as Error).message}); asking the session where to resume`);
      try {
        const status = await sessionStatus(graph, u.uploadUrl, u.signal);
        offset = nextOffset(status) ?? offset;
      } catch (statusErr) {
        if (statusErr instanceof NotFoundError)
          throw new UploadInterruptedError(offset, file, statusErr, false);
        throw new UploadInterruptedError(offset, file, statusErr, u.kept);
      }
    }
  }
}

/**
 * Drive upload sessions kept between calls, so an interrupted upload resumes instead of restarting.
 * An upload URL is a short-lived credential, so it lives in the SecretStore (encrypted), not a plain file.
 */
export class UploadSessions {
  constructor(
    private readonly secrets: () => SecretStore,
    private readonly service: string,
  ) {}

  private account(key: string): string {
    return `upload-${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
  }

  async get(key: string): Promise<StoredSession | undefined> {
    const raw = await this.secrets()
      .get(this.service, this.account(key))
      .catch(() => undefined);
    if (!raw) return undefined;
    try {
      const stored = JSON.parse(raw) as StoredSession;
      if (stored.expirationDateTime && Date.parse(stored.expirationDateTime) < Date.now() + 60_000) {
        await this.delete(key);
        return undefined;
      }
      return stored;
    } catch {
      return undefined;
    }
  }

  async set(key: string, session: StoredSession): Promise<void> {
    await this.secrets().set(this.service, this.account(key), JSON.stringify(session));
  }

  async delete(key: string): Promise<void> {
    await this.secrets()
      .delete(this.service, this.account(key))
      .catch(() => false);
  }
}

export interface StoredSession {
  uploadUrl: string;
  expirationDateTime?: string;
}
