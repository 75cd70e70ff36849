// The interface as a contract: per-tool schema snapshots, the README tool table, the tools/list budget (testkit's
// contractSuite), and an MCP Inspector CLI smoke test from outside our own client code.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contractSuite, runInspector, spawnServer } from '@switchyard/testkit';
import { FakeOdoo } from './fake/odoo.js';
import { bin, hostEnv } from './helpers.js';

// Every tool's toolset, the README table, snapshots, budget and bounds: testkit's contractSuite, with the opt-in
// write toolset switched on; here, Odoo's own truths.
const contract = contractSuite({
  bin,
  packageDir: fileURLToPath(new URL('..', import.meta.url)),
  args: ['--allow-writes'],
  names: /^odoo_[a-z]+_[a-z_]+$/,
});

describe('Odoo tools', () => {
  it('keep writes in the opt-in write toolset, with truthful annotations', async () => {
    const { tools, toolsets } = await contract();
    expect(toolsets.find((set) => set.id === 'write')).toMatchObject({
      default: false,
      enabled_by: '--allow-writes',
      tools: ['odoo_create_record', 'odoo_update_record', 'odoo_delete_record'],
    });
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

  it('tell the model whether writes are on, from the modes core resolved', async () => {
    const instructions = async (args: string[]) => {
      const server = await spawnServer(bin, { args });
      try {
        return server.client.getInstructions() ?? '';
      } finally {
        await server.close();
      }
    };
    expect(await instructions([])).toContain('Writes are disabled (read-only access).');
    expect(await instructions(['--allow-writes'])).toContain(
      'Writes are enabled: confirm with the user before odoo_create_record',
    );
    // Switched on, but left out by the modes: the model is told they are off.
    expect(await instructions(['--allow-writes', '--read-only'])).toContain('Writes are disabled');
    expect(await instructions(['--allow-writes', '--toolsets', 'records'])).toContain('Writes are disabled');
  });
});

describe.each(['legacy', 'modern'] as const)('MCP Inspector CLI 2.x, %s era', (era) => {
  let fake: FakeOdoo;
  let env: Record<string, string>;
  beforeAll(async () => {
    fake = await FakeOdoo.start({ version: '17.0' });
    env = {
      ...(hostEnv(fake) as Record<string, string>),
      SWITCHYARD_LOG_LEVEL: 'error',
      SWITCHYARD_KEYCHAIN: 'off',
      SWITCHYARD_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'odoo-inspector-')),
      NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS!,
    };
  });
  afterAll(() => fake?.close());

  it('lists the tools', async () => {
    const run = await runInspector(['node', bin], ['--method', 'tools/list'], { env, era });
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
      { env, era },
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
      { env, era },
    );
    expect(resource.code, resource.stderr).toBe(0);
    expect(resource.stdout).toContain('Azure Interior');
    const prompt = await runInspector(
      ['node', bin],
      ['--method', 'prompts/get', '--prompt-name', 'odoo_operations_brief'],
      { env, era },
    );
    expect(prompt.code, prompt.stderr).toBe(0);
    expect(prompt.stdout).toContain('odoo_list_sales_orders');
  });
});
