/**
 * Sending mail: small attachments inline in one sendMail request, larger ones through a draft and upload sessions
 * (learn.microsoft.com/graph/outlook-large-attachments), and drafts saved or sent by id.
 */
import {
  UserInputError,
  isSwitchyardError,
  registerSecret,
  type LocalFile,
  type LocalFiles,
  type ToolContext,
  oneLine,
  formatBytes,
} from '@switchyard/core';
import { mayHaveGoneThrough, shortId, type Graph } from '../graph-client.js';
import { MAIL_CHUNK, uploadChunks } from '../upload.js';
import { IMMUTABLE, messageBody, notFoundMessage, type Message, type NewMessage } from './message.js';

/** Attachments below this go inline (base64 in the request); larger ones through an upload session. */
export const INLINE_LIMIT = 3 * 1024 * 1024;
/** Outlook's ceiling for one attachment through an upload session. */
const MAX_ATTACHMENT = 150 * 1024 * 1024;

async function localAttachments(local: LocalFiles, paths: string[] | undefined): Promise<LocalFile[]> {
  const files: LocalFile[] = [];
  for (const p of paths ?? []) {
    const f = await local.readable(p, 'attachment');
    if (f.size > MAX_ATTACHMENT) {
      throw new UserInputError(
        `The attachment ${f.name} is ${formatBytes(f.size)}; Outlook takes attachments up to 150 MB`,
        { hint: 'Upload it with ms365_upload_file and send a link instead' },
      );
    }
    files.push(f);
  }
  return files;
}

async function inlineAttachment(f: LocalFile): Promise<Record<string, unknown>> {
  const { readFile } = await import('node:fs/promises');
  return {
    '@odata.type': '#microsoft.graph.fileAttachment',
    name: f.name,
    contentBytes: (await readFile(f.path)).toString('base64'),
  };
}

/** Add attachments to a draft: small ones in one request each, large ones through an upload session. */
async function attachToDraft(
  graph: Graph,
  root: string,
  draftId: string,
  files: LocalFile[],
  ctx: ToolContext,
) {
  const base = `${root}/messages/${encodeURIComponent(draftId)}/attachments`;
  const total = files.reduce((n, f) => n + f.size, 0);
  let done = 0;
  for (const f of files) {
    try {
      if (f.size < INLINE_LIMIT) {
        await graph.post(base, await inlineAttachment(f), { signal: ctx.signal, responseType: 'none' });
      } else {
        const session = await graph.post<{ uploadUrl: string }>(
          `${base}/createUploadSession`,
          { AttachmentItem: { attachmentType: 'file', name: f.name, size: f.size } },
          { signal: ctx.signal },
        );
        registerSecret(session.uploadUrl);
        await uploadChunks({
          graph,
          uploadUrl: session.uploadUrl,
          file: f,
          chunkSize: MAIL_CHUNK,
          // The draft is deleted when sending fails, so the session dies with it: a new call starts over.
          kept: false,
          signal: ctx.signal,
          log: ctx.log,
          progress: (sent) => ctx.progress(done + sent, total, `uploading ${f.name}`),
        });
      }
    } catch (err) {
      if (isSwitchyardError(err) && /MessageSizeExceeded/i.test(err.upstream?.code ?? '')) {
        throw new UserInputError(
          `The attachment ${f.name} (${formatBytes(f.size)}) makes the message larger than the mailbox allows (the tenant's limit, 35 MB by default)`,
          {
            ...(err.upstream ? { upstream: err.upstream } : {}),
            hint: 'Upload the file with ms365_upload_file and send a link instead',
          },
        );
      }
      throw err;
    }
    done += f.size;
    await ctx.progress(done, total, `attached ${f.name}`);
  }
}

/** Save a new message in Drafts (attachments through upload sessions when large). */
export async function saveDraft(
  localFiles: LocalFiles,
  graph: Graph,
  root: string,
  a: NewMessage & { attachments?: string[] | undefined },
  ctx: ToolContext,
) {
  const message = messageBody(a);
  const files = await localAttachments(localFiles, a.attachments);
  const draft = await graph.post<Message>(`${root}/messages`, message, {
    headers: IMMUTABLE,
    signal: ctx.signal,
  });
  try {
    await attachToDraft(graph, root, draft.id, files, ctx);
  } catch (err) {
    await discardDraft(graph, root, draft.id, ctx);
    addNote(err, 'the unfinished draft was deleted');
    throw err;
  }
  return {
    text: `Saved a draft "${oneLine(a.subject, 80)}"${files.length ? ` with ${files.length} attachment(s)` : ''}. draft_id: ${draft.id}`,
  };
}

/** Delete a half-made draft after a failure, so nothing stray stays in Drafts. */
async function discardDraft(graph: Graph, root: string, id: string, ctx: ToolContext): Promise<void> {
  await graph
    .request({ path: `${root}/messages/${encodeURIComponent(id)}`, method: 'DELETE', responseType: 'none' })
    .catch((err: unknown) =>
      ctx.log.warn(`could not delete the unfinished draft: ${(err as Error).message}`),
    );
}

/** Say what was cleaned up in the sentence the model sees (typed errors keep their kind and hint). */
function addNote(err: unknown, note: string): void {
  if (isSwitchyardError(err)) err.message = `${err.message}; ${note}`;
}

/** Send a saved draft as it is. */
export async function sendDraft(graph: Graph, root: string, draftId: string, signal: AbortSignal) {
  await graph.post(`${root}/messages/${encodeURIComponent(draftId)}/send`, undefined, {
    signal,
    responseType: 'none',
    ...notFoundMessage(draftId),
  });
  return { text: `Sent the draft ${shortId(draftId)}; it is now in Sent Items.` };
}

/** Send a new message, kept in Sent Items; a failed large send deletes its draft, or names it when it may have gone. */
export async function sendMessage(
  localFiles: LocalFiles,
  graph: Graph,
  root: string,
  a: NewMessage & { subject: string; attachments?: string[] | undefined },
  ctx: ToolContext,
) {
  const message = messageBody(a);
  const files = await localAttachments(localFiles, a.attachments);
  const total = files.reduce((n, f) => n + f.size, 0);
  const summary = `"${oneLine(a.subject, 80)}" to ${[...(a.to ?? []), ...(a.cc ?? []), ...(a.bcc ?? [])].length} recipient(s)${
    files.length ? ` with ${files.length} attachment(s), ${formatBytes(total)}` : ''
  }`;
  if (total < INLINE_LIMIT) {
    const inline = await Promise.all(files.map(inlineAttachment));
    try {
      await graph.post(
        `${root}/sendMail`,
        {
          message: { ...message, ...(inline.length ? { attachments: inline } : {}) },
          saveToSentItems: true,
        },
        { signal: ctx.signal, responseType: 'none' },
      );
    } catch (err) {
      if (isSwitchyardError(err) && /MessageSizeExceeded/i.test(err.upstream?.code ?? '')) {
        throw new UserInputError(
          `The message with ${formatBytes(total)} of attachments is larger than the mailbox allows (the tenant's limit); nothing was sent`,
          {
            ...(err.upstream ? { upstream: err.upstream } : {}),
            hint: 'Send a link to an uploaded file instead',
          },
        );
      }
      throw err;
    }
    return { text: `Sent ${summary}; saved in Sent Items.` };
  }
  // Large attachments: build a draft, attach through upload sessions, then send it.
  const draft = await graph.post<Message>(`${root}/messages`, message, {
    headers: IMMUTABLE,
    signal: ctx.signal,
  });
  let sending = false;
  try {
    await attachToDraft(graph, root, draft.id, files, ctx);
    sending = true;
    await graph.post(`${root}/messages/${encodeURIComponent(draft.id)}/send`, undefined, {
      signal: ctx.signal,
      responseType: 'none',
    });
  } catch (err) {
    if (sending && mayHaveGoneThrough(err)) {
      // It may have gone out; if not, the kept draft can be sent by id without uploading again.
      addNote(err, `if the mail is not in Sent Items, the draft is still in Drafts (draft_id: ${draft.id})`);
      throw err;
    }
    await discardDraft(graph, root, draft.id, ctx);
    addNote(err, 'the unfinished draft was deleted and nothing was sent');
    throw err;
  }
  return { text: `Sent ${summary}; saved in Sent Items.` };
}
