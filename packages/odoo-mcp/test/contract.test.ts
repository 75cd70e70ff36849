// The interface as a contract: per-tool schema snapshots, the README tool table, the tools/list budget,
// and an MCP Inspector CLI smoke test from outside our own client code.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkReadmeToolTable,
  compareToolSnapshots,
  renderToolTable,
  runInspector,
  type ListedTool,
} from '@switchyard/testkit';
import { FakeOdoo } from './fake/odoo.js';
import { bin, odooEnv, readme, spawnOdoo } from './helpers.js';

const snapshots = fileURLToPath(new URL('./__toolsnaps__', import.meta.url));

describe('the tools/list contract', () => {
  let fake: FakeOdoo;
  let tools: ListedTool[];
  const toolsets = new Map<string, string>();

  beforeAll(async () => {
    fake = await FakeOdoo.start();
    const all = await spawnOdoo(fake, { args: ['--allow-writes'] });
    try {
      tools = (await all.client.listTools()).tools as ListedTool[];
    } finally {
      await all.close();
    }
    for (const set of ['records', 'business', 'write']) {
      const server = await spawnOdoo(fake, { args: ['--allow-writes', '--toolsets', set] });
      try {
        for (const t of (await server.client.listTools()).tools) toolsets.set(t.name, set);
      } finally {
        await server.close();
      }
    }
  });
  afterAll(() => fake?.close());

  it('matches the snapshot of every tool', () => {
    expect(compareToolSnapshots(tools, snapshots)).toEqual([]);
  });

  it('matches the README tool table', () => {
    expect(
      checkReadmeToolTable(
        readme,
        renderToolTable(tools, (name) => toolsets.get(name)),
      ),
    ).toBeUndefined();
  });

  it('stays within 16 KB with every tool enabled, every input described and bounded', () => {
    expect(Buffer.byteLength(JSON.stringify({ tools }))).toBeLessThanOrEqual(16 * 1024);
    for (const tool of tools) {
      expect(tool.title, tool.name).toBeTruthy();
      expect(tool.name).toMatch(/^odoo_[a-z]+_[a-z_]+$/);
      const properties = (tool.inputSchema as { properties: Record<string, Record<string, unknown>> })
        .properties;
      for (const [name, schema] of Object.entries(properties)) {
        expect(schema.description, `${tool.name}.${name}`).toBeTruthy();
        const bounded = ['maxLength', 'maximum', 'maxItems', 'maxProperties', 'enum', 'type'].filter(
          (k) => k in schema,
        );
        expect(
          schema.type === 'boolean' || bounded.some((k) => k !== 'type'),
          `${tool.name}.${name} is bounded`,
        ).toBe(true);
      }
    }
    const annotations = Object.fromEntries(tools.map((t) => [t.name, t.annotations]));
    expect(annotations.odoo_delete_record).toEqual({
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: true,
    });
    expect(annotations.odoo_create_record).toEqual({
      readOnlyHint: false,
      destructiveHint: false,
      idempotentHint: false,
    });
    expect(annotations.odoo_list_sales_orders).toEqual({ readOnlyHint: true });
  });
});

describe('MCP Inspector CLI', () => {
  let fake: FakeOdoo;
  let env: Record<string, string>;
  beforeAll(async () => {
    fake = await FakeOdoo.start({ version: '17.0' });
    env = {
      ...(odooEnv(fake) as Record<string, string>),
      SWITCHYARD_LOG_LEVEL: 'error',
      SWITCHYARD_KEYCHAIN: 'off',
      SWITCHYARD_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'odoo-inspector-')),
      NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS!,
    };
  });
  afterAll(() => fake?.close());

  it('lists the tools', async () => {
    const run = await runInspector(['node', bin], ['--method', 'tools/list'], { env });
    expect(run.code, run.stderr).toBe(0);
    const listed = JSON.parse(run.stdout) as { tools: Array<{ name: string }> };
    expect(listed.tools.map((t) => t.name)).toContain('odoo_list_sales_orders');
    expect(listed.tools).toHaveLength(11);
  });

  it('calls a tool against the fake Odoo', async () => {
    const run = await runInspector(
      ['node', bin],
      [
        '--method',
        'tools/call',
        '--tool-name',
        'odoo_count_records',
        '--tool-arg',
        'model=res.partner',
        '--tool-arg',
        'domain=[["country_id.code","=","US"]]',
      ],
      { env },
    );
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { content: Array<{ text: string }>; structuredContent: unknown };
    expect(result.content[0]!.text).toBe('2 res.partner records match.');
    expect(result.structuredContent).toEqual({ count: 2 });
  });

  it('reads a resource and a prompt', async () => {
    const resource = await runInspector(
      ['node', bin],
      ['--method', 'resources/read', '--uri', 'odoo://models/res.partner/records/10'],
      { env },
    );
    expect(resource.code, resource.stderr).toBe(0);
    expect(resource.stdout).toContain('Azure Interior');
    const prompt = await runInspector(
      ['node', bin],
      ['--method', 'prompts/get', '--prompt-name', 'odoo_operations_brief'],
      {
        env,
      },
    );
    expect(prompt.code, prompt.stderr).toBe(0);
    expect(prompt.stdout).toContain('odoo_list_sales_orders');
  });
});
