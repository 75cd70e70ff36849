// A smoke test from outside our own client code: the MCP Inspector CLI 2.x (on Node 22, from the npm registry)
// lists the tools and runs a query against the fake Power BI, in both protocol eras (2025-11-25 and 2026-07-28).
import { describe, expect, it } from 'vitest';
import { runInspector } from '@switchyard/testkit';
import { bin, hostEnv, withWorld } from './helpers.js';

const t = withWorld({ server: false });

function serverEnv(): Record<string, string> {
  const env: Record<string, string> = {
    SWITCHYARD_CONFIG_DIR: t.dirs.configDir,
    SWITCHYARD_DATA_DIR: t.dirs.dataDir,
    SWITCHYARD_KEYCHAIN: 'off',
    NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS!,
  };
  for (const [k, v] of Object.entries(hostEnv(t.world))) if (v !== undefined) env[k] = v;
  return env;
}

describe.each(['legacy', 'modern'] as const)('MCP Inspector CLI 2.x, %s era', (era) => {
  it('lists the seven tools', async () => {
    const run = await runInspector(['node', bin], ['--method', 'tools/list'], { env: serverEnv(), era });
    expect(run.code, run.stderr).toBe(0);
    const listed = JSON.parse(run.stdout) as { tools: Array<{ name: string }> };
    expect(listed.tools.map((t) => t.name)).toEqual([
      'powerbi_list_workspaces',
      'powerbi_list_datasets',
      'powerbi_get_dataset_schema',
      'powerbi_execute_dax',
      'powerbi_list_reports',
      'powerbi_get_refresh_history',
      'powerbi_refresh_dataset',
    ]);
  });

  it('runs a DAX query and shows the rows', async () => {
    const run = await runInspector(
      ['node', bin],
      [
        '--method',
        'tools/call',
        '--tool-name',
        'powerbi_execute_dax',
        '--tool-arg',
        'workspace=Sales Analytics',
        '--tool-arg',
        'dataset=Sales Model',
        '--tool-arg',
        'query=EVALUATE ROW("orders", [Order Count])',
      ],
      { env: serverEnv(), era },
    );
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as {
      isError?: boolean;
      structuredContent: unknown;
      content: Array<{ text: string }>;
    };
    expect(result.isError ?? false).toBe(false);
    expect(result.structuredContent).toEqual({
      row_count: 1,
      returned: 1,
      truncated: false,
      partial: false,
    });
    expect(result.content[0]!.text).toContain('[orders]\n1000\n');
  });

  it('reports a tool error in the result', async () => {
    const run = await runInspector(
      ['node', bin],
      ['--method', 'tools/call', '--tool-name', 'powerbi_list_datasets', '--tool-arg', 'workspace=Nowhere'],
      { env: serverEnv(), era },
    );
    // The 2.x CLI prints the result, the isError flag in it, and exits 5 (its code for a tool error).
    expect(run.code, run.stderr).toBe(5);
    const result = JSON.parse(run.stdout) as { isError?: boolean; content: Array<{ text: string }> };
    expect(result.isError).toBe(true);
    expect(result.content[0]!.text).toMatch(/^No workspace is named 'Nowhere'\. Candidates: /);
  });
});
