/** Mail folders by well-known name, display name, path (`Inbox/Projects`) or id. */
import { NotFoundError, UserInputError, odataString } from '@switchyard/core';
import { shortId, type Graph } from '../graph-client.js';

/** Graph's well-known folder names (learn.microsoft.com/graph/api/resources/mailfolder) and common aliases. */
const WELL_KNOWN: Record<string, string> = {
  inbox: 'inbox',
  drafts: 'drafts',
  sentitems: 'sentitems',
  sent: 'sentitems',
  'sent items': 'sentitems',
  deleteditems: 'deleteditems',
  deleted: 'deleteditems',
  'deleted items': 'deleteditems',
  trash: 'deleteditems',
  archive: 'archive',
  junkemail: 'junkemail',
  junk: 'junkemail',
  spam: 'junkemail',
  outbox: 'outbox',
};

interface MailFolder {
  id: string;
  displayName?: string;
}

/** Resolve a folder: a well-known name, a display name or path (`Inbox/Projects`), or an id. */
export async function resolveFolder(
  graph: Graph,
  root: string,
  folder: string,
  signal: AbortSignal,
): Promise<{ id: string; name: string }> {
  const wk = WELL_KNOWN[folder.trim().toLowerCase()];
  if (wk) return { id: wk, name: wk };
  if (folder.length >= 60 && /^[A-Za-z0-9+/=_-]+$/.test(folder)) return { id: folder, name: shortId(folder) };
  const parts = folder
    .split('/')
    .map((p) => p.trim())
    .filter(Boolean);
  let parent: string | undefined;
  let path = '';
  for (const [i, part] of parts.entries()) {
    const wkPart = i === 0 ? WELL_KNOWN[part.toLowerCase()] : undefined;
    if (wkPart) {
      parent = wkPart;
      path = part;
      continue;
    }
    const base = parent
      ? `${root}/mailFolders/${encodeURIComponent(parent)}/childFolders`
      : `${root}/mailFolders`;
    const query = { $filter: `displayName eq ${odataString(part)}`, $select: 'id,displayName', $top: 5 };
    let found = (await graph.get<{ value?: MailFolder[] }>(base, { query, signal }))?.value?.[0];
    // A single name that is not top-level is most often a folder under Inbox.
    if (!found && !parent && parts.length === 1) {
      found = (
        await graph.get<{ value?: MailFolder[] }>(`${root}/mailFolders/inbox/childFolders`, { query, signal })
      )?.value?.[0];
    }
    if (!found) {
      const siblings = await graph.get<{ value?: MailFolder[] }>(base, {
        query: { $select: 'displayName', $top: 50 },
        signal,
      });
      throw new NotFoundError(`No mail folder is named '${part}'${path ? ` under ${path}` : ''}`, {
        candidates: (siblings?.value ?? []).map((f) => f.displayName ?? '').filter(Boolean),
        hint: 'Use a well-known name (inbox, archive, sentitems, drafts, deleteditems, junkemail), a folder name, or a path like Inbox/Projects',
      });
    }
    parent = found.id;
    path = path ? `${path}/${found.displayName}` : (found.displayName ?? part);
  }
  if (!parent) throw new UserInputError('folder is empty');
  return { id: parent, name: path };
}
