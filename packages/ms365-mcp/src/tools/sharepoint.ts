import {
  UserInputError,
  z,
  type ToolDefinition,
  listFooter,
  oneLine,
  pageCount,
  requiredArg,
  cursorArg,
} from '@switchyard/core';
import type { Ms365 } from '../context.js';
import { csvLine, fencedCsv, resumable } from '../format.js';

interface Site {
  id: string;
  displayName?: string;
  name?: string;
  webUrl?: string;
}

interface Drive {
  id: string;
  name?: string;
  webUrl?: string;
  driveType?: string;
}

/**
 * A site as Graph addresses it: an id (`host,guid,guid`), `host:/sites/x`, or a URL
 * (`https://contoso.sharepoint.com/sites/Sales` → `contoso.sharepoint.com:/sites/Sales:`).
 */
export function siteRef(site: string): string {
  const s = site.trim();
  if (/^https?:\/\//i.test(s)) {
    let url: URL;
    try {
      url = new URL(s);
    } catch {
      throw new UserInputError(`'${site}' is not a site URL`);
    }
    const path = url.pathname
      .replace(/\/+$/, '')
      .replace(/\/(Shared%20Documents|Forms|SitePages)(\/.*)?$/i, '');
    return path ? `${url.host}:${decodeURIComponent(path)}:` : url.host;
  }
  if (s.includes(':/')) return s.endsWith(':') ? s : `${s}:`;
  return encodeURIComponent(s).replace(/%2C/gi, ',');
}

const PAGING = {
  cursor: cursorArg,
};

export function sharepointTools(m: Ms365): ToolDefinition[] {
  return [
    m.tool({
      name: 'ms365_search_sites',
      title: 'Find sites',
      description: 'Find SharePoint sites by name (work accounts).',
      toolset: 'sharepoint',
      input: {
        query: z.string().max(200).optional().describe('Words in the name.'),
        top: z.number().int().min(1).max(50).default(20).describe('Page size.'),
        ...PAGING,
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
      needs: ['sites.read'],
      handler: async (a, ctx, graph) => {
        await graph.requireWorkAccount('SharePoint', 'ms365_search_sites');
        const page = await graph.list<Site>(
          '/sites',
          {
            query: {
              search: requiredArg(a.query, 'query'),
              $select: 'id,displayName,name,webUrl',
              $top: a.top,
            },
            top: a.top,
            ...(a.cursor ? { cursor: a.cursor } : {}),
          },
          ctx.signal,
        );
        return {
          text: [
            `Sites matching "${oneLine(a.query, 100)}":`,
            fencedCsv(
              'site list',
              'name,url,id',
              page.items.map((s) => csvLine([oneLine(s.displayName ?? s.name, 120), s.webUrl ?? '', s.id])),
            ),
            listFooter({ ...pageCount(resumable(page, ctx)), noun: 'site' }),
          ].join('\n'),
        };
      },
    }),

    m.tool({
      name: 'ms365_list_site_libraries',
      title: 'List site libraries',
      description: 'Libraries of a site, with drive_id for the file tools.',
      toolset: 'sharepoint',
      input: {
        site: z.string().max(500).optional().describe('Site id or URL.'),
        top: z.number().int().min(1).max(100).default(50).describe('Page size.'),
        ...PAGING,
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
      needs: ['sites.read'],
      handler: async (a, ctx, graph) => {
        await graph.requireWorkAccount('SharePoint', 'ms365_list_site_libraries');
        const page = await graph.list<Drive>(
          `/sites/${siteRef(requiredArg(a.site, 'site'))}/drives`,
          {
            query: { $select: 'id,name,webUrl,driveType', $top: a.top },
            top: a.top,
            ...(a.cursor ? { cursor: a.cursor } : {}),
            notFound: `No SharePoint site matches '${oneLine(a.site, 200)}'`,
            notFoundHint: 'Find the site with ms365_search_sites and pass its id',
          },
          ctx.signal,
        );
        return {
          text: [
            `Libraries of ${oneLine(a.site, 200)}:`,
            fencedCsv(
              'library list',
              'name,url,drive_id',
              page.items.map((d) => csvLine([oneLine(d.name, 120), d.webUrl ?? '', d.id])),
            ),
            listFooter({ ...pageCount(resumable(page, ctx)), noun: ['library', 'libraries'] }),
          ].join('\n'),
        };
      },
    }),
  ];
}
