import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compareToolSnapshots,
  contractSuite,
  runInspector,
  spawnServer,
  tempDir,
  type ContractListing,
  type ListedTool,
} from '@switchyard/testkit';
import { ALICE, bin, hostEnv, startWorld, type World } from './helpers.js';

// Every tool's toolset, the README table, snapshots, budget and bounds: testkit's contractSuite; here, ms365's own truths.
const contract = contractSuite({
  bin,
  packageDir: fileURLToPath(new URL('..', import.meta.url)),
  names: /^ms365_[a-z]+(_[a-z]+)*$/,
  inspector: true,
});

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
let c: ContractListing;
beforeAll(async () => {
  c = await contract();
  all = c.tools;
  shared = await listTools(['--shared-mailboxes']);
});
const inToolset = (id: string) => c.toolsets.find((set) => set.id === id)!.tools;

/** A tool's annotations with the MCP defaults filled in for the hints tools/list leaves out (context.ts onTheWire). */
const effective = (a: ListedTool['annotations']) => ({
  readOnlyHint: false,
  destructiveHint: true,
  idempotentHint: false,
  openWorldHint: true,
  ...a,
});
afterAll(() => dirs.cleanup());

describe('ms365 tools', () => {
  it('lets --read-only win over --tools, and serve the reads of the toolsets named', async () => {
    expect(
      (await listTools(['--read-only', '--tools', 'ms365_send_mail', '--toolsets', 'mail'])).map(
        (t) => t.name,
      ),
    ).toEqual(inToolset('mail').filter((n) => c.readOnly.includes(n)));
    // The download tools write local files, so they are not read-only (rule 7).
    expect(c.readOnly).not.toContain('ms365_download_file');
  });

  it('keeps tools/list with shared mailboxes under 16 KB, each tool described and every input bounded', () => {
    // --shared-mailboxes adds a `mailbox` field to the mail and calendar tools (issue 17, item 5).
    expect(Buffer.byteLength(JSON.stringify({ tools: shared }))).toBeLessThanOrEqual(16 * 1024);
    expect(shared.map((t) => t.name)).toEqual(all.map((t) => t.name));
    const withMailbox = shared
      .filter((t) => 'mailbox' in (t.inputSchema as { properties: object }).properties)
      .map((t) => t.name);
    expect(withMailbox).toEqual([
      ...inToolset('mail'),
      ...inToolset('calendar').filter((n) => n !== 'ms365_find_meeting_times'),
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
    for (const name of c.readOnly)
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

  it('matches the schema snapshots of the tools that take a mailbox with --shared-mailboxes', () => {
    const snapshots = fileURLToPath(new URL('./__toolsnaps__', import.meta.url));
    // The others are as contractSuite pins them.
    const withMailbox = shared.filter(
      (t) => 'mailbox' in (t.inputSchema as { properties: object }).properties,
    );
    expect(compareToolSnapshots(withMailbox, join(snapshots, 'shared-mailboxes'))).toEqual([]);
  });
});

describe.each(['legacy', 'modern'] as const)('MCP Inspector CLI 2.x, %s era', (era) => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
    world.graph.mailbox(ALICE).add({ subject: 'Seen by the Inspector' });
  });
  afterAll(() => world?.close());

  it('calls a tool, and shows a tool error as an isError result (Inspector 2.x exits 5 for it)', async () => {
    const token = world.authority.mint({ username: ALICE, scopes: ['User.Read', 'Mail.Read'] });
    const ok = await runInspector(
      ['node', bin],
      ['--method', 'tools/call', '--tool-name', 'ms365_list_messages', '--tool-arg', 'top=5'],
      {
        env: { ...env, ...hostEnv(world), MS365_ACCESS_TOKEN: token },
        era,
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
        era,
      },
    );
    expect(failed.code).toBe(5);
    const error = JSON.parse(failed.stdout) as { content: Array<{ text: string }>; isError?: boolean };
    expect(error.isError).toBe(true);
    expect(error.content[0]!.text).toBe('Not signed in. Run `ms365-mcp login` in a terminal.');
  });
});
