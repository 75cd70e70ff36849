import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkReadmeToolTable,
  compareToolSnapshots,
  renderToolTable,
  runInspector,
  spawnServer,
  tempDir,
  type ListedTool,
} from '@switchyard/testkit';
import { ALICE, bin, hostEnv, startWorld, type World } from './helpers.js';

const TOOLSETS: Record<string, string[]> = {
  mail: [
    'ms365_list_messages',
    'ms365_get_message',
    'ms365_send_mail',
    'ms365_reply',
    'ms365_download_attachment',
    'ms365_move_message',
  ],
  calendar: [
    'ms365_list_events',
    'ms365_create_event',
    'ms365_update_event',
    'ms365_cancel_event',
    'ms365_find_meeting_times',
  ],
  files: [
    'ms365_list_files',
    'ms365_search_files',
    'ms365_read_file',
    'ms365_download_file',
    'ms365_upload_file',
  ],
  sharing: ['ms365_share_file', 'ms365_list_permissions', 'ms365_remove_permission'],
  sharepoint: ['ms365_search_sites', 'ms365_list_site_libraries'],
};
// The download tools write local files, so they are not read-only (rule 7).
const READ_ONLY = [
  'ms365_list_messages',
  'ms365_get_message',
  'ms365_list_events',
  'ms365_find_meeting_times',
  'ms365_list_files',
  'ms365_search_files',
  'ms365_read_file',
  'ms365_list_permissions',
  'ms365_search_sites',
  'ms365_list_site_libraries',
];

const dirs = tempDir('ms365-contract-');
const env: Record<string, string> = {
  SWITCHYARD_CONFIG_DIR: dirs.path,
  SWITCHYARD_DATA_DIR: dirs.path,
  SWITCHYARD_KEYCHAIN: 'off',
  ...(process.env.NODE_EXTRA_CA_CERTS ? { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS } : {}),
};

async function listTools(args: string[] = []): Promise<ListedTool[]> {
  const server = await spawnServer(bin, { args, configDir: dirs.path, dataDir: dirs.path });
  try {
    return (await server.client.listTools()).tools as ListedTool[];
  } finally {
    await server.close();
  }
}

let all: ListedTool[];
let shared: ListedTool[];
beforeAll(async () => {
  all = await listTools();
  shared = await listTools(['--shared-mailboxes']);
});

/** A tool's annotations with the MCP defaults filled in for the hints tools/list leaves out (context.ts onTheWire). */
const effective = (a: ListedTool['annotations']) => ({
  readOnlyHint: false,
  destructiveHint: true,
  idempotentHint: false,
  openWorldHint: true,
  ...a,
});
afterAll(() => dirs.cleanup());

describe('the tools/list contract', () => {
  it('serves exactly the tools of each toolset, and only read tools with --read-only', async () => {
    expect(all.map((t) => t.name)).toEqual(Object.values(TOOLSETS).flat());
    for (const [set, names] of Object.entries(TOOLSETS)) {
      expect((await listTools(['--toolsets', set])).map((t) => t.name)).toEqual(names);
    }
    expect((await listTools(['--read-only'])).map((t) => t.name)).toEqual(READ_ONLY);
    // --read-only wins over --tools.
    expect(
      (await listTools(['--read-only', '--tools', 'ms365_send_mail', '--toolsets', 'mail'])).map(
        (t) => t.name,
      ),
    ).toEqual(READ_ONLY.slice(0, 2));
  });

  it('keeps tools/list with every tool under 16 KB, shared mailboxes on or off, each tool described and every input bounded', () => {
    expect(Buffer.byteLength(JSON.stringify({ tools: all }))).toBeLessThanOrEqual(16 * 1024);
    // --shared-mailboxes adds a `mailbox` field to the mail and calendar tools (issue 17, item 5).
    expect(Buffer.byteLength(JSON.stringify({ tools: shared }))).toBeLessThanOrEqual(16 * 1024);
    expect(shared.map((t) => t.name)).toEqual(all.map((t) => t.name));
    const withMailbox = shared
      .filter((t) => 'mailbox' in (t.inputSchema as { properties: object }).properties)
      .map((t) => t.name);
    expect(withMailbox).toEqual([
      ...TOOLSETS.mail!,
      ...TOOLSETS.calendar!.filter((n) => n !== 'ms365_find_meeting_times'),
    ]);
    for (const tool of all)
      expect((tool.inputSchema as { properties: object }).properties, tool.name).not.toHaveProperty(
        'mailbox',
      );
    for (const tool of shared) {
      expect(tool.title, tool.name).toBeTruthy();
      expect(tool.description!.length, tool.name).toBeGreaterThan(20);
      const schema = tool.inputSchema as {
        properties: Record<string, Record<string, unknown>>;
        additionalProperties: boolean;
      };
      expect(schema.additionalProperties).toBe(false);
      for (const [field, spec] of Object.entries(schema.properties)) {
        expect(spec.description, `${tool.name}.${field}`).toBeTruthy();
        const bounded =
          spec.type === 'boolean' ||
          spec.enum !== undefined ||
          spec.maxLength !== undefined ||
          spec.maximum !== undefined ||
          spec.maxItems !== undefined;
        expect(bounded, `${tool.name}.${field} has no bound`).toBe(true);
        if (spec.type === 'array')
          expect(
            (spec.items as { maxLength?: number }).maxLength,
            `${tool.name}.${field} items`,
          ).toBeDefined();
      }
    }
  });

  it('has truthful annotations: reads are read-only and closed, mail and meetings reach other people', () => {
    for (const name of READ_ONLY)
      expect(all.find((t) => t.name === name)!.annotations).toEqual({
        readOnlyHint: true,
        openWorldHint: false,
      });
    const byName = Object.fromEntries(all.map((t) => [t.name, effective(t.annotations)]));
    expect(byName.ms365_send_mail).toEqual({
      readOnlyHint: false,
      destructiveHint: false,
      idempotentHint: false,
      openWorldHint: true,
    });
    expect(byName.ms365_reply).toMatchObject({ destructiveHint: false, openWorldHint: true });
    // Sharing reaches other people (invitations, links); removing access destroys it.
    expect(byName.ms365_share_file).toEqual({
      readOnlyHint: false,
      destructiveHint: false,
      idempotentHint: false,
      openWorldHint: true,
    });
    expect(byName.ms365_remove_permission).toMatchObject({ destructiveHint: true, idempotentHint: true });
    expect(byName.ms365_move_message).toMatchObject({
      destructiveHint: true,
      idempotentHint: true,
      openWorldHint: false,
    });
    expect(byName.ms365_create_event).toMatchObject({ destructiveHint: false, openWorldHint: true });
    expect(byName.ms365_update_event).toMatchObject({ destructiveHint: true, openWorldHint: true });
    expect(byName.ms365_cancel_event).toMatchObject({ destructiveHint: true, openWorldHint: true });
    expect(byName.ms365_upload_file).toMatchObject({ destructiveHint: true, openWorldHint: false });
    // Saving to local disk is a write; never overwriting makes it non-destructive.
    for (const name of ['ms365_download_attachment', 'ms365_download_file']) {
      expect(byName[name]).toEqual({
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: false,
      });
    }
  });

  it('matches the schema snapshots and the README tool table', () => {
    const snapshots = fileURLToPath(new URL('./__toolsnaps__', import.meta.url));
    expect(compareToolSnapshots(all, snapshots)).toEqual([]);
    // With --shared-mailboxes, the tools that take a `mailbox` (the others are as above).
    const withMailbox = shared.filter(
      (t) => 'mailbox' in (t.inputSchema as { properties: object }).properties,
    );
    expect(compareToolSnapshots(withMailbox, join(snapshots, 'shared-mailboxes'))).toEqual([]);
    const toolsetOf = (name: string) =>
      Object.entries(TOOLSETS).find(([, names]) => names.includes(name))?.[0];
    const readme = fileURLToPath(new URL('../README.md', import.meta.url));
    expect(checkReadmeToolTable(readme, renderToolTable(all, toolsetOf))).toBeUndefined();
  });
});

describe('MCP Inspector CLI', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
    world.graph.mailbox(ALICE).add({ subject: 'Seen by the Inspector' });
  });
  afterAll(() => world?.close());

  it('lists the tools', async () => {
    const run = await runInspector(['node', bin], ['--method', 'tools/list'], { env });
    expect(run.code).toBe(0);
    const listed = JSON.parse(run.stdout) as { tools: Array<{ name: string }> };
    expect(listed.tools.map((t) => t.name)).toEqual(Object.values(TOOLSETS).flat());
  });

  it('calls a tool, and shows a tool error as an isError result (Inspector 1.x exits 0 for it)', async () => {
    const token = world.authority.mint({ username: ALICE, scopes: ['User.Read', 'Mail.Read'] });
    const ok = await runInspector(
      ['node', bin],
      ['--method', 'tools/call', '--tool-name', 'ms365_list_messages', '--tool-arg', 'top=5'],
      {
        env: { ...env, ...hostEnv(world), MS365_ACCESS_TOKEN: token },
      },
    );
    expect(ok.code).toBe(0);
    const result = JSON.parse(ok.stdout) as { content: Array<{ text: string }>; isError?: boolean };
    expect(result.isError ?? false).toBe(false);
    expect(result.content[0]!.text).toContain('Seen by the Inspector');
    const failed = await runInspector(
      ['node', bin],
      ['--method', 'tools/call', '--tool-name', 'ms365_list_messages'],
      {
        env: { ...env, ...hostEnv(world), MS365_CLIENT_ID: 'unknown-app' },
      },
    );
    expect(failed.code).toBe(0);
    const error = JSON.parse(failed.stdout) as { content: Array<{ text: string }>; isError?: boolean };
    expect(error.isError).toBe(true);
    expect(error.content[0]!.text).toBe('Not signed in. Run `ms365-mcp login` in a terminal.');
  });
});
