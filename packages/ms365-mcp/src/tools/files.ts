import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  CancelledError,
  UserInputError,
  isSwitchyardError,
  maxBytesArg,
  plainFileName,
  registerSecret,
  safeFileName,
  untrusted,
  z,
  type ToolContext,
  type ToolDefinition,
  listFooter,
  oneLine,
  pageCount,
  formatBytes,
  requiredArg,
  cursorArg,
} from '@switchyard/core';
import type { Ms365 } from '../context.js';
import { SAVES_TO_DISK, saveToDiskInput } from '../local-files.js';
import type { Graph } from '../graph-client.js';
import { shortId } from '../graph-client.js';
import { csvLine, encodePath, fencedCsv, resumable } from '../format.js';
import { compactUtc } from '../time.js';
import {
  DOCUMENT_LIMIT,
  convertibleByGraph,
  isDocumentBytes,
  readAnswer,
  tooLargeAnswer,
  wantsWholeFile,
  type ReadSubject,
} from '../documents/read.js';
import { collect } from '../documents/collect.js';
import { extensionOf } from '../documents/sniff.js';
import { DRIVE_CHUNK, UploadInterruptedError, nextOffset, sessionStatus, uploadChunks } from '../upload.js';

/** Uploads up to this size go in one PUT; larger ones through a resumable upload session. */
export const SIMPLE_UPLOAD_LIMIT = 4 * 1024 * 1024;

export interface DriveItem {
  id: string;
  name?: string;
  size?: number;
  lastModifiedDateTime?: string;
  folder?: { childCount?: number };
  file?: { mimeType?: string };
  parentReference?: { path?: string; driveId?: string };
  webUrl?: string;
}

const ITEM_SELECT = 'id,name,size,lastModifiedDateTime,folder,file';

export const itemFields = {
  path: z.string().max(1024).optional().describe('Path (Docs/a.docx).'),
  item_id: z.string().max(400).optional().describe('Or item id.'),
  drive_id: z.string().max(400).optional().describe('Library; else OneDrive.'),
};

export function driveBase(driveId: string | undefined): string {
  return driveId ? `/drives/${encodeURIComponent(driveId)}` : '/me/drive';
}

/** The Graph address of an item: by id, by path (`root:/a/b:`), or the root. */
export function itemRef(a: {
  path?: string | undefined;
  item_id?: string | undefined;
  drive_id?: string | undefined;
}) {
  if (a.path && a.item_id) throw new UserInputError('Give path or item_id, not both');
  const base = driveBase(a.drive_id);
  const p = a.path ? encodePath(a.path) : '';
  const ref = a.item_id
    ? `${base}/items/${encodeURIComponent(a.item_id)}`
    : p
      ? `${base}/root:/${p}:`
      : `${base}/root`;
  const what = a.item_id
    ? `id '${shortId(a.item_id)}'`
    : p
      ? `'/${a.path!.replace(/^\/+/, '')}'`
      : 'the root';
  return {
    ref,
    /** `ref` followed by a segment (`/children`, `/content`): the path form keeps its closing colon. */
    sub: (segment: string) => `${ref}${segment}`,
    notFound: {
      notFound: `${a.drive_id ? `The library ${shortId(a.drive_id)}` : 'Your OneDrive'} has no item at ${what}`,
      notFoundHint: 'List the folder with ms365_list_files to see what is there',
    },
  };
}

function itemLine(i: DriveItem, withPath: boolean): string {
  const kind = i.folder ? `folder (${i.folder.childCount ?? 0})` : 'file';
  const parent = (i.parentReference?.path ?? '')
    .replace(/^\/drives?\/[^/]*\/?root:?/, '')
    .replace(/^\/drive\/root:?/, '');
  return csvLine([
    oneLine(i.name, 200),
    ...(withPath ? [decodeURIComponent(parent) || '/'] : []),
    kind,
    i.folder ? '' : formatBytes(i.size),
    compactUtc(i.lastModifiedDateTime),
    i.id,
  ]);
}

/** A folder's children as CSV, with a cursor. Shared by OneDrive and SharePoint libraries. */
export async function listFolder(
  graph: Graph,
  a: {
    path?: string | undefined;
    item_id?: string | undefined;
    drive_id?: string | undefined;
    top: number;
    cursor?: string | undefined;
  },
  ctx: ToolContext,
): Promise<string> {
  const signal = ctx.signal;
  const item = itemRef(a);
  const page = await graph.list<DriveItem>(
    item.sub('/children'),
    {
      query: { $select: ITEM_SELECT, $top: a.top },
      top: a.top,
      ...(a.cursor ? { cursor: a.cursor } : {}),
      ...item.notFound,
    },
    signal,
  );
  const where = a.item_id ? `folder ${shortId(a.item_id)}` : `/${(a.path ?? '').replace(/^\/+/, '')}`;
  return [
    `${a.drive_id ? 'Library' : 'OneDrive'} ${where}; modified in UTC.`,
    fencedCsv(
      'file list',
      'name,kind,size,modified,id',
      page.items.map((i) => itemLine(i, false)),
    ),
    listFooter({ ...pageCount(resumable(page, ctx)), noun: 'item' }),
  ].join('\n');
}

async function metadata(graph: Graph, a: Parameters<typeof itemRef>[0], signal: AbortSignal) {
  const item = itemRef(a);
  const meta = await graph.get<DriveItem>(item.ref, {
    query: { $select: ITEM_SELECT },
    signal,
    ...item.notFound,
  });
  if (meta.folder) {
    throw new UserInputError(`'${meta.name}' is a folder, not a file`, {
      hint: 'List it with ms365_list_files',
    });
  }
  return { item, meta };
}

/** A file's bytes: its first `firstBytes` by a Range request, or all of it up to DOCUMENT_LIMIT (or a Graph rendition). */
async function content(
  graph: Graph,
  item: ReturnType<typeof itemRef>,
  firstBytes: number | undefined,
  signal: AbortSignal,
  format?: 'pdf',
): Promise<Uint8Array> {
  const res = await graph.request<Readable>({
    path: item.sub('/content'),
    ...(format ? { query: { format } } : {}),
    ...(firstBytes ? { headers: { range: `bytes=0-${firstBytes - 1}` } } : {}),
    responseType: 'stream',
    signal,
    ...item.notFound,
  });
  return collect(res.data, firstBytes ?? DOCUMENT_LIMIT);
}

async function download(
  m: Ms365,
  graph: Graph,
  item: ReturnType<typeof itemRef>,
  meta: DriveItem,
  dir: string,
  name: string,
  signal: AbortSignal,
) {
  // /content answers with a redirect to a pre-signed URL; core follows it without our token.
  const res = await graph.request<Readable>({
    path: item.sub('/content'),
    responseType: 'stream',
    signal,
    ...item.notFound,
  });
  return m.files.save(res.data, dir, name || safeFileName(meta.name));
}

async function upload(
  m: Ms365,
  graph: Graph,
  a: {
    local_path: string;
    drive_path?: string | undefined;
    drive_id?: string | undefined;
    conflict: 'fail' | 'replace' | 'rename';
  },
  ctx: ToolContext,
) {
  const file = await m.files.readable(a.local_path, 'local_path');
  const target =
    !a.drive_path || a.drive_path.endsWith('/') ? `${a.drive_path ?? ''}${file.name}` : a.drive_path;
  const encoded = encodePath(target);
  if (!encoded) throw new UserInputError('drive_path must name a file');
  const base = `${driveBase(a.drive_id)}/root:/${encoded}:`;
  const shown = `/${target.replace(/^\/+/, '')}`;
  const conflict = (err: unknown) => {
    if (
      isSwitchyardError(err) &&
      (err.upstream?.status === 409 || /nameAlreadyExists/i.test(err.upstream?.code ?? ''))
    ) {
      return new UserInputError(`A file already exists at ${shown}`, {
        ...(err.upstream ? { upstream: err.upstream } : {}),
        hint: "Pass conflict 'replace' to overwrite it or 'rename' to keep both",
      });
    }
    return err;
  };

  if (file.size <= SIMPLE_UPLOAD_LIMIT) {
    try {
      const res = await graph.request<DriveItem>({
        method: 'PUT',
        path: `${base}/content`,
        query: { '@microsoft.graph.conflictBehavior': a.conflict },
        // Repeating a 'rename' upload that did arrive makes a second copy, and a 'fail' one reports a conflict.
        idempotent: a.conflict === 'replace',
        body: await readFile(file.path),
        headers: { 'content-type': 'application/octet-stream' },
        signal: ctx.signal,
      });
      return { item: res.data, note: '' };
    } catch (err) {
      throw conflict(err);
    }
  }

  // Large file: a resumable upload session, remembered so that a later call resumes it.
  const key = [
    m.auth.profile,
    a.drive_id ?? 'me',
    target,
    file.path,
    file.size,
    file.mtimeMs,
    a.conflict,
  ].join('\n');
  let session = await m.uploads.get(key);
  let start = 0;
  if (session) {
    registerSecret(session.uploadUrl);
    try {
      start = nextOffset(await sessionStatus(graph, session.uploadUrl, ctx.signal)) ?? 0;
    } catch {
      await m.uploads.delete(key);
      session = undefined;
    }
  }
  if (!session) {
    try {
      const created = await graph.post<{ uploadUrl: string; expirationDateTime?: string }>(
        `${base}/createUploadSession`,
        { item: { '@microsoft.graph.conflictBehavior': a.conflict } },
        { signal: ctx.signal },
      );
      registerSecret(created.uploadUrl);
      session = {
        uploadUrl: created.uploadUrl,
        ...(created.expirationDateTime ? { expirationDateTime: created.expirationDateTime } : {}),
      };
      await m.uploads.set(key, session);
    } catch (err) {
      throw conflict(err);
    }
  }
  try {
    const done = await uploadChunks({
      graph,
      uploadUrl: session.uploadUrl,
      file,
      chunkSize: DRIVE_CHUNK,
      start,
      kept: true,
      signal: ctx.signal,
      log: ctx.log,
      progress: (sent, total) =>
        ctx.progress(sent, total, `uploaded ${formatBytes(sent)} of ${formatBytes(total)}`),
    });
    await m.uploads.delete(key);
    return { item: (done ?? {}) as DriveItem, note: start > 0 ? `; resumed at ${formatBytes(start)}` : '' };
  } catch (err) {
    // Kept for the next call: a session the network interrupted, or one the caller cancelled.
    if ((err instanceof UploadInterruptedError && err.resumable) || err instanceof CancelledError) throw err;
    await m.uploads.delete(key);
    throw conflict(err);
  }
}

export function fileTools(m: Ms365): ToolDefinition[] {
  return [
    m.tool({
      name: 'ms365_list_files',
      title: 'List files',
      description: 'List a OneDrive or library folder, one CSV line per item.',
      toolset: 'files',
      input: {
        ...itemFields,
        top: z.number().int().min(1).max(200).default(50).describe('Page size.'),
        cursor: cursorArg,
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
      needs: ['files.read'],
      handler: async (a, ctx, graph) => ({ text: await listFolder(graph, a, ctx) }),
    }),

    m.tool({
      name: 'ms365_search_files',
      title: 'Search files',
      description: 'Search OneDrive or a library by name and content.',
      toolset: 'files',
      input: {
        query: z.string().max(200).optional().describe('Words to find.'),
        drive_id: itemFields.drive_id,
        top: z.number().int().min(1).max(50).default(20).describe('Page size.'),
        cursor: cursorArg,
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
      needs: ['files.read'],
      handler: async (a, ctx, graph) => {
        const query = requiredArg(a.query, 'query');
        const q = query.replace(/'/g, "''");
        const page = await graph.list<DriveItem>(
          `${driveBase(a.drive_id)}/root/search(q='${encodeURIComponent(q)}')`,
          {
            query: { $select: `${ITEM_SELECT},parentReference`, $top: a.top },
            top: a.top,
            ...(a.cursor ? { cursor: a.cursor } : {}),
          },
          ctx.signal,
        );
        return {
          text: [
            `Search "${oneLine(query, 100)}" in ${a.drive_id ? `library ${shortId(a.drive_id)}` : 'OneDrive'}; modified in UTC.`,
            fencedCsv(
              'file list',
              'name,folder,kind,size,modified,id',
              page.items.map((i) => itemLine(i, true)),
            ),
            listFooter({ ...pageCount(resumable(page, ctx)), noun: 'item' }),
          ].join('\n'),
        };
      },
    }),

    m.tool({
      name: 'ms365_read_file',
      title: 'Read a file',
      description:
        'Text of a text, Word, Excel, PowerPoint or PDF file (untrusted); other types: ms365_download_file.',
      toolset: 'files',
      input: {
        ...itemFields,
        max_bytes: maxBytesArg(32_768),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
      needs: ['files.read'],
      handler: async (a, ctx, graph) => {
        if (!a.path && !a.item_id) throw new UserInputError('Give the path or item_id of a file');
        const { item, meta } = await metadata(graph, a, ctx.signal);
        const subject: ReadSubject = {
          name: meta.name,
          mime: meta.file?.mimeType,
          size: meta.size,
          modified: `, modified ${compactUtc(meta.lastModifiedDateTime)}`,
          saveWith: 'ms365_download_file',
        };
        const whole = wantsWholeFile(subject);
        if (whole && (meta.size ?? 0) > DOCUMENT_LIMIT) return { text: tooLargeAnswer(subject) };
        let bytes = await content(graph, item, whole ? undefined : a.max_bytes, ctx.signal);
        // A document behind a text-like name is read whole after all.
        const wholeNow = whole || (isDocumentBytes(bytes) && (meta.size ?? 0) <= DOCUMENT_LIMIT);
        if (!whole && wholeNow) bytes = await content(graph, item, undefined, ctx.signal);
        if (convertibleByGraph(subject, bytes)) {
          // Graph renders legacy and OpenDocument types as PDF (GET …/content?format=pdf).
          const pdf = await content(graph, item, undefined, ctx.signal, 'pdf');
          const from = extensionOf(meta.name).toUpperCase();
          return {
            text: await readAnswer(subject, pdf, {
              whole: true,
              maxBytes: a.max_bytes,
              signal: ctx.signal,
              convertedFrom: from,
            }),
          };
        }
        return {
          text: await readAnswer(subject, bytes, {
            whole: wholeNow,
            maxBytes: a.max_bytes,
            signal: ctx.signal,
          }),
        };
      },
    }),

    m.tool({
      name: 'ms365_download_file',
      title: 'Download a file',
      description: 'Save a drive file locally; returns the path. Never overwrites.',
      toolset: 'files',
      input: {
        ...itemFields,
        ...saveToDiskInput,
      },
      annotations: SAVES_TO_DISK,
      needs: ['files.read'],
      handler: async (a, ctx, graph) => {
        if (!a.path && !a.item_id) throw new UserInputError('Give the path or item_id of a file');
        const name = a.save_as ? plainFileName(a.save_as) : '';
        const dir = await m.files.folder(a.folder);
        const { item, meta } = await metadata(graph, a, ctx.signal);
        const saved = await download(m, graph, item, meta, dir, name, ctx.signal);
        return { text: `Saved ${untrusted(meta.name, 200)} (${formatBytes(saved.bytes)}) to ${saved.path}` };
      },
    }),

    m.tool({
      name: 'ms365_upload_file',
      title: 'Upload a file',
      description:
        'Upload a local file (allowed folders) to OneDrive or a library; call again to resume a big one.',
      toolset: 'files',
      input: {
        local_path: z.string().max(1024).describe('Absolute local path.'),
        drive_path: z.string().max(1024).optional().describe('Destination; ending / keeps the name.'),
        drive_id: itemFields.drive_id,
        conflict: z.enum(['fail', 'replace', 'rename']).default('fail').describe('If the name exists.'),
      },
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: false,
      },
      // A file past the simple-upload limit goes up in chunks, for minutes: a task for a client that takes them.
      task: async ({ local_path }) =>
        (await m.files.readable(local_path, 'local_path')).size > SIMPLE_UPLOAD_LIMIT,
      needs: ['files.write'],
      handler: async (a, ctx, graph) => {
        const { item, note } = await upload(m, graph, a, ctx);
        return {
          text: `Uploaded ${oneLine(item.name, 200)} (${formatBytes(item.size)})${note}. id: ${item.id}`,
        };
      },
    }),
  ];
}
