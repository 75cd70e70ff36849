// Every paging tool's next_cursor carries the whole request: followed with no other argument it gives exactly the
// rows of one big page (issue 17: page 2 of ms365_list_events used to lose the time zone and the window).
import { describe, expect, it } from 'vitest';
import { cursorOf } from '@switchyard/testkit';
import { ALICE, withWorld } from './helpers.js';

const rows = (text: string) => text.split('\n').slice(3, -2);

/** Follow the cursors of a call with only `cursor`; return the header line of each page and every row. */
async function follow(tool: string, args: Record<string, unknown>) {
  const headers: string[] = [];
  const all: string[] = [];
  let call = await t.server.call(tool, args);
  for (let pages = 0; pages < 20; pages++) {
    expect(call.isError, call.text).toBe(false);
    headers.push(call.text.split('\n')[0]!);
    all.push(...rows(call.text));
    const cursor = cursorOf(call.text);
    if (!cursor) return { headers, rows: all };
    call = await t.server.call(tool, { cursor });
  }
  throw new Error('more than 20 pages');
}

const t = withWorld({
  seed: (world) => {
    const box = world.graph.mailbox(ALICE);
    for (let i = 0; i < 9; i++)
      box.add({ subject: `Invoice ${i}`, received: Date.parse('2025-03-01T08:00:00Z') + i * 3_600_000 });
    box.add({ subject: 'Lunch', received: Date.parse('2025-03-02T08:00:00Z') });
    for (let d = 0; d < 8; d++)
      world.graph.addEvent(ALICE, {
        subject: `Planning ${d}`,
        start: Date.parse(`2025-03-${String(3 + d).padStart(2, '0')}T14:00:00Z`),
        end: Date.parse(`2025-03-${String(3 + d).padStart(2, '0')}T15:00:00Z`),
      });
    const drive = world.graph.drive(ALICE);
    for (let i = 0; i < 7; i++) drive.put(`Reports/report ${i}.txt`, `quarterly ${i}`);
    for (let i = 0; i < 5; i++)
      world.graph.addSite('contoso.sharepoint.com', `/sites/Sales${i}`, `Sales ${i}`, [
        'Documents',
        'Contracts',
        'Deals',
      ]);
  },
});

describe('a next_cursor alone resumes the same request', () => {
  it('ms365_list_events keeps the window and the time zone on every page', async () => {
    const request = { start: '2025-03-01', end: '2025-04-05', time_zone: 'America/New_York' };
    const big = await t.server.call('ms365_list_events', { ...request, top: 100 });
    const paged = await follow('ms365_list_events', { ...request, top: 3 });
    expect(paged.rows).toEqual(rows(big.text));
    expect(paged.rows).toHaveLength(8);
    expect(paged.rows[0]).toContain('2025-03-03 09:00–10:00');
    expect(new Set(paged.headers)).toEqual(
      new Set(['Events 2025-03-01 00:00 → 2025-04-05 00:00, times in America/New_York.']),
    );
  });

  it('ms365_list_events pins the default window and zone of page 1', async () => {
    const big = await t.server.call('ms365_list_events', { top: 100 });
    const paged = await follow('ms365_list_events', { top: 1 });
    expect(paged.rows).toEqual(rows(big.text));
    expect(new Set(paged.headers).size).toBe(1);
  });

  it('ms365_list_messages keeps the filters', async () => {
    const request = { subject: 'Invoice', after: '2025-03-01' };
    const big = await t.server.call('ms365_list_messages', { ...request, top: 50 });
    const paged = await follow('ms365_list_messages', { ...request, top: 4 });
    expect(paged.rows).toHaveLength(9);
    expect(paged.rows).toEqual(rows(big.text));
  });

  it('ms365_list_files and ms365_search_files keep the folder and the query', async () => {
    const bigList = await t.server.call('ms365_list_files', { path: 'Reports', top: 200 });
    const list = await follow('ms365_list_files', { path: 'Reports', top: 2 });
    expect(list.rows).toHaveLength(7);
    expect(list.rows).toEqual(rows(bigList.text));
    const bigSearch = await t.server.call('ms365_search_files', { query: 'quarterly', top: 50 });
    const search = await follow('ms365_search_files', { query: 'quarterly', top: 3 });
    expect(search.rows).toHaveLength(7);
    expect(search.rows).toEqual(rows(bigSearch.text));
    expect(new Set(search.headers)).toEqual(new Set(['Search "quarterly" in OneDrive; modified in UTC.']));
  });

  it('ms365_search_sites and ms365_list_site_libraries keep the query and the site', async () => {
    const bigSites = await t.server.call('ms365_search_sites', { query: 'sales', top: 50 });
    const sites = await follow('ms365_search_sites', { query: 'sales', top: 2 });
    expect(sites.rows).toHaveLength(5);
    expect(sites.rows).toEqual(rows(bigSites.text));
    const site = 'https://contoso.sharepoint.com/sites/Sales3';
    const bigLibs = await t.server.call('ms365_list_site_libraries', { site, top: 50 });
    const libs = await follow('ms365_list_site_libraries', { site, top: 1 });
    expect(libs.rows).toHaveLength(3);
    expect(libs.rows).toEqual(rows(bigLibs.text));
  });

  it('refuses a cursor that another listing made, or one that was tampered with', async () => {
    const page = await t.server.call('ms365_list_files', { path: 'Reports', top: 2 });
    const cursor = cursorOf(page.text)!;
    const other = await t.server.call('ms365_list_files', { path: 'Other', cursor });
    expect(other.isError).toBe(true);
    expect(other.text).toBe(
      'This next_cursor continues a listing made with path "Reports", not "Other". Pass the cursor alone to go on, or leave it out to start a new listing.',
    );
    const same = await t.server.call('ms365_list_files', { path: 'Reports', cursor });
    expect(same.isError).toBe(false);
    const broken = await t.server.call('ms365_list_files', { cursor: `${cursor.slice(0, -4)}AAAA` });
    expect(broken.isError).toBe(true);
    expect(broken.text).toMatch(/^The cursor is not one this server gave out/);
    // A cursor belongs to the tool that gave it out, even when its arguments would fit another.
    const first = await t.server.call('ms365_search_sites', { query: 'sales', top: 2 });
    const crossed = await t.server.call('ms365_list_site_libraries', { cursor: cursorOf(first.text)! });
    expect(crossed.text).toBe(
      'This next_cursor was given out by ms365_search_sites, not ms365_list_site_libraries. Pass it to ms365_search_sites, or leave it out to start a new listing.',
    );
  });

  it('ms365_list_permissions has no cursor: Graph answers an item’s permissions in one response', async () => {
    // driveItem-list-permissions documents only $select (no $top, no $skipToken), so the tool lists them all.
    const drive = t.world.graph.drive(ALICE);
    const item = drive.byPath('Reports/report 0.txt')!;
    t.world.graph.sharing.own.set(
      item.id,
      Array.from({ length: 120 }, (_, i) => ({
        id: `perm${i}`,
        roles: ['read'],
        grantedToV2: { user: { id: `u${i}`, displayName: `Reader ${i}`, email: `reader${i}@contoso.com` } },
      })),
    );
    const call = await t.server.call('ms365_list_permissions', { path: 'Reports/report 0.txt' });
    expect(call.isError, call.text).toBe(false);
    expect(call.text).toContain('reader119@contoso.com');
    expect(call.text.split('\n').at(-1)).toBe('120 permissions.');
    const withCursor = await t.server.call('ms365_list_permissions', {
      path: 'Reports/report 0.txt',
      cursor: 'x',
    });
    expect(withCursor.isError).toBe(true);
    const listed = (await t.server.client.listTools()).tools.find(
      (t) => t.name === 'ms365_list_permissions',
    )!;
    expect(Object.keys(listed.inputSchema.properties ?? {})).toEqual(['path', 'item_id', 'drive_id']);
  });
});
