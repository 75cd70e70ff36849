// OneDrive and SharePoint libraries on the fake Graph: items by id or path, children, content with a
// pre-authenticated download redirect and PDF conversion, simple and session uploads with conflict behaviour, search,
// and sharing (../sharing.ts) (learn.microsoft.com/graph/api/resources/driveitem).
import { randomBytes, randomUUID } from 'node:crypto';
import type { FakeReply, FakeRequest } from '@switchyard/testkit';
import { select } from '../odata.js';
import { FILES_READ, FILES_WRITE, MB, mimeOf, type Ctx } from './common.js';
import type { GraphCore } from './core.js';
import { PDF_SOURCES, type Drive, type FakeItem } from './drive-store.js';
import { newSession } from './uploads.js';

/** Each user's OneDrive (`/me/drive`) and any drive by id (`/drives/{id}`), and the download URLs they hand out. */
export function installDrives(g: GraphCore): void {
  const s = g.service;
  const v = '/v1.0';
  for (const method of ['GET', 'PUT', 'POST', 'DELETE']) {
    const scopes = method === 'GET' ? FILES_READ : FILES_WRITE;
    s.route(
      method,
      `${v}/me/drive/*`,
      g.guard(scopes, (req, ctx) =>
        driveRequest(g, req, ctx, g.drive(ctx.user), req.path.slice(`${v}/me/drive/`.length)),
      ),
    );
    s.route(
      method,
      `${v}/drives/:drive/*`,
      g.guard(scopes, (req, ctx) => {
        const d = g.drives.get(req.params.drive!);
        if (!d) return g.error(404, 'itemNotFound', 'The resource could not be found.');
        return driveRequest(g, req, ctx, d, req.path.slice(`${v}/drives/${req.params.drive}/`.length));
      }),
    );
  }
  s.route('GET', '/download/:token', (req) => download(g, req));
}

function itemJson(g: GraphCore, d: Drive, i: FakeItem): Record<string, unknown> {
  return {
    id: i.id,
    name: i.name,
    size: i.folder ? d.children(i.id).reduce((n, c) => n + c.content.length, 0) : i.content.length,
    lastModifiedDateTime: new Date(i.modified).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    createdDateTime: new Date(i.modified).toISOString(),
    webUrl: `${d.webUrl}/${encodeURIComponent(i.name)}`,
    eTag: `"{${randomUUID()}},1"`,
    parentReference: { driveId: d.id, driveType: 'business', id: i.parentId, path: d.pathOf(i) },
    ...(i.folder
      ? { folder: { childCount: d.children(i.id).length } }
      : { file: { mimeType: mimeOf(i.name), hashes: { quickXorHash: 'AAAA' } } }),
  };
}

function driveRequest(
  g: GraphCore,
  req: FakeRequest,
  ctx: Ctx,
  d: Drive,
  rest: string,
): FakeReply | Promise<FakeReply> {
  void ctx;
  const m =
    /^(root|items\/([^/:]+))(?::(\/[^:]*):?)?(\/(children|content|createUploadSession|createLink|invite|permissions(?:\/([^/]+))?|search\(q='((?:[^']|'')*)'\)))?$/.exec(
      rest,
    );
  if (!m) return g.error(400, 'invalidRequest', `Unsupported drive address ${rest}`);
  const [, , itemId, relPath, , rawAction, permissionId, q] = m;
  const action = rawAction?.startsWith('permissions') ? 'permissions' : rawAction;
  const base = itemId ? d.items.get(itemId) : d.items.get(d.rootId);
  const target = base && relPath ? d.byPath(relPath, base.id) : base;
  const notFound = () => g.error(404, 'itemNotFound', 'The resource could not be found.');

  if (req.method === 'PUT' && action === 'content') return simpleUpload(g, req, d, base, relPath);
  if (req.method === 'POST' && action === 'createUploadSession')
    return driveUploadSession(g, req, d, base, relPath);
  if (target && req.method === 'POST' && action === 'createLink') return g.sharing.createLink(req, d, target);
  if (target && req.method === 'POST' && action === 'invite') return g.sharing.invite(req, target);
  if (target && action === 'permissions') {
    // driveItem: list permissions / permission: get (learn.microsoft.com/graph/api/driveitem-list-permissions,
    // /graph/api/permission-get) and permission: delete.
    if (req.method === 'DELETE' && permissionId)
      return g.sharing.remove(d, target, decodeURIComponent(permissionId));
    const all = g.sharing.all(d, target);
    if (req.method === 'GET' && permissionId) {
      const p = all.find((x) => x.id === decodeURIComponent(permissionId));
      return p ? { body: select(p, req.query) } : notFound();
    }
    if (req.method === 'GET') return g.page(req, all, 200, '$skiptoken');
  }
  if (req.method !== 'GET') return g.error(405, 'invalidRequest', 'Method not allowed.');
  if (action?.startsWith('search(')) {
    const needle = (q ?? '').replace(/''/g, "'").toLowerCase();
    const hits = [...d.items.values()]
      .filter(
        (i) =>
          i.id !== d.rootId &&
          (i.name.toLowerCase().includes(needle) ||
            (!i.folder && i.content.toString('utf8').toLowerCase().includes(needle))),
      )
      .map((i) => itemJson(g, d, i));
    return g.page(req, hits, 200, '$skiptoken');
  }
  if (!target) return notFound();
  if (action === 'children') {
    if (!target.folder) return g.error(400, 'invalidRequest', 'The item is not a folder.');
    return g.page(
      req,
      d.children(target.id).map((i) => itemJson(g, d, i)),
      200,
      '$skiptoken',
    );
  }
  if (action === 'content') {
    if (target.folder) return g.error(400, 'invalidRequest', 'A folder has no content.');
    let served = target;
    const format = req.query.get('format');
    if (format !== null) {
      // Converted content answers 302 to the rendition, like the original (driveitem-get-content-format).
      const ext = target.name.split('.').pop()?.toLowerCase() ?? '';
      if (format !== 'pdf' || !PDF_SOURCES.has(ext) || !target.pdfRendition)
        return g.error(406, 'notSupported', `Conversion of this item to ${format} is not supported.`);
      served = { ...target, name: target.name.replace(/\.[^.]*$/, '.pdf'), content: target.pdfRendition };
    }
    const token = randomBytes(16).toString('hex');
    g.downloads.set(token, served);
    return {
      status: 302,
      headers: {
        location: `${g.service.url}/download/${token}?tempauth=${randomBytes(24).toString('hex')}`,
      },
    };
  }
  return { body: select(itemJson(g, d, target), req.query) };
}

function download(g: GraphCore, req: FakeRequest): FakeReply {
  const item = g.downloads.get(req.params.token!);
  if (!item) return g.error(401, 'unauthenticated', 'The download URL has expired.');
  const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
  if (range) {
    const start = Number(range[1]);
    const end = Math.min(range[2] ? Number(range[2]) : item.content.length - 1, item.content.length - 1);
    return {
      status: 206,
      headers: {
        'content-range': `bytes ${start}-${end}/${item.content.length}`,
        'content-type': mimeOf(item.name),
      },
      body: item.content.subarray(start, end + 1),
    };
  }
  return { headers: { 'content-type': mimeOf(item.name) }, body: item.content };
}

/** Where a new file goes, honouring `@microsoft.graph.conflictBehavior`. */
function place(
  g: GraphCore,
  d: Drive,
  base: FakeItem | undefined,
  relPath: string | undefined,
  behavior: string,
): { path: string } | FakeReply {
  if (!base || !relPath) return g.error(400, 'invalidRequest', 'Upload to a path (root:/folder/name:).');
  const baseDir =
    base.id === d.rootId ? '' : `${d.pathOf(base).replace(/^\/drive\/root:\/?/, '')}/${base.name}`;
  const parts = [baseDir, ...relPath.split('/')].filter(Boolean).join('/').split('/');
  const name = parts.pop()!;
  const folder = parts.join('/');
  const parent = d.byPath(folder);
  const taken = (n: string) =>
    Boolean(parent && d.children(parent.id).some((c) => c.name.toLowerCase() === n.toLowerCase()));
  if (!taken(name) || behavior === 'replace') return { path: `${folder}/${name}` };
  if (behavior === 'fail')
    return g.error(409, 'nameAlreadyExists', 'The specified item name already exists.');
  const dot = name.lastIndexOf('.');
  for (let n = 1; ; n++) {
    const candidate = dot > 0 ? `${name.slice(0, dot)} ${n}${name.slice(dot)}` : `${name} ${n}`;
    if (!taken(candidate)) return { path: `${folder}/${candidate}` };
  }
}

function simpleUpload(
  g: GraphCore,
  req: FakeRequest,
  d: Drive,
  base: FakeItem | undefined,
  relPath: string | undefined,
): FakeReply {
  if (req.body.length > 4 * MB)
    return g.error(413, 'requestTooLarge', 'Use an upload session for files over 4 MB.');
  const placed = place(g, d, base, relPath, req.query.get('@microsoft.graph.conflictBehavior') ?? 'replace');
  if (!('path' in placed)) return placed;
  const item = d.put(placed.path, req.body);
  return { status: 201, body: itemJson(g, d, item) };
}

function driveUploadSession(
  g: GraphCore,
  req: FakeRequest,
  d: Drive,
  base: FakeItem | undefined,
  relPath: string | undefined,
): FakeReply {
  const behavior =
    req.json<{ item?: Record<string, string> }>()?.item?.['@microsoft.graph.conflictBehavior'] ?? 'replace';
  const placed = place(g, d, base, relPath, behavior);
  if (!('path' in placed)) return placed;
  const session = newSession(g, 'drive', -1, (content) => {
    const item = d.put(placed.path, content);
    return { status: 201, body: itemJson(g, d, item) };
  });
  return {
    body: {
      uploadUrl: `${g.service.url}/upload/drive/${session.token}?tempauth=${randomBytes(24).toString('hex')}`,
      expirationDateTime: new Date(session.expires).toISOString(),
      nextExpectedRanges: ['0-'],
    },
  };
}
