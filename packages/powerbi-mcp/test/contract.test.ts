// The interface is a contract: tool names, schemas and annotations are pinned, the README table is
// generated from them, and every toolset holds exactly the tools it should.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkReadmeToolTable,
  compareToolSnapshots,
  renderToolTable,
  spawnServer,
  type SpawnedServer,
} from '@switchyard/testkit';
import { bin, packageDir } from './helpers.js';

const TOOLSETS: Record<string, string[]> = {
  workspaces: ['powerbi_list_workspaces'],
  datasets: ['powerbi_list_datasets', 'powerbi_get_dataset_schema'],
  dax: ['powerbi_execute_dax'],
  reports: ['powerbi_list_reports'],
  refresh: ['powerbi_get_refresh_history', 'powerbi_refresh_dataset'],
};
const toolsetOf = (name: string) => Object.entries(TOOLSETS).find(([, tools]) => tools.includes(name))?.[0];

let s: SpawnedServer;
beforeAll(async () => {
  s = await spawnServer(bin);
});
afterAll(() => s?.close());

describe('tools/list', () => {
  it('matches the snapshots in test/__toolsnaps__ and the README tool table', async () => {
    const { tools } = await s.client.listTools();
    expect(compareToolSnapshots(tools, join(packageDir, 'test', '__toolsnaps__'))).toEqual([]);
    expect(
      checkReadmeToolTable(join(packageDir, 'README.md'), renderToolTable(tools, toolsetOf)),
    ).toBeUndefined();
  });

  it('stays under 16 KB with every tool, and describes and bounds every input', async () => {
    const { tools } = await s.client.listTools();
    expect(Buffer.byteLength(JSON.stringify({ tools }))).toBeLessThanOrEqual(16 * 1024);
    for (const tool of tools) {
      expect(tool.name).toMatch(/^powerbi_[a-z]+_[a-z_]+$/);
      expect(tool.title, tool.name).toBeTruthy();
      expect(tool.outputSchema, tool.name).toBeDefined();
      expect(tool.annotations?.readOnlyHint, tool.name).toBe(tool.name !== 'powerbi_refresh_dataset');
      expect(tool.annotations?.openWorldHint, tool.name).toBe(true);
      for (const [field, schema] of Object.entries(tool.inputSchema.properties ?? {})) {
        const p = schema as {
          description?: string;
          type?: string;
          maxLength?: number;
          maximum?: number;
          maxItems?: number;
        };
        expect(p.description, `${tool.name}.${field}`).toBeTruthy();
        if (p.type === 'string') expect(p.maxLength, `${tool.name}.${field}`).toBeDefined();
        if (p.type === 'integer' || p.type === 'number')
          expect(p.maximum, `${tool.name}.${field}`).toBeDefined();
        if (p.type === 'array') expect(p.maxItems, `${tool.name}.${field}`).toBeDefined();
      }
    }
    expect(tools.find((t) => t.name === 'powerbi_refresh_dataset')!.annotations).toEqual({
      readOnlyHint: false,
      destructiveHint: false,
      idempotentHint: false,
      openWorldHint: true,
    });
  });

  it('serves exactly the tools of each toolset', async () => {
    const { tools } = await s.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(Object.values(TOOLSETS).flat().sort());
    for (const [set, names] of Object.entries(TOOLSETS)) {
      const one = await spawnServer(bin, { args: ['--toolsets', set] });
      try {
        expect(
          (await one.client.listTools()).tools.map((t) => t.name),
          set,
        ).toEqual(names);
      } finally {
        await one.close();
      }
    }
  });
});
