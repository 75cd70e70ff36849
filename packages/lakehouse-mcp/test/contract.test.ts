// The interface as hosts see it: tools/list pinned per tool, the README table in step, the Inspector CLI,
// what the package ships.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkReadmeToolTable,
  compareToolSnapshots,
  renderToolTable,
  runInspector,
  spawnServer,
  isolatedEnv,
  type SpawnedServer,
} from '@switchyard/testkit';
import { bin, packageDir } from './helpers.js';

const TOOLSETS: Record<string, string> = {
  lakehouse_connect_postgres: 'sources',
  lakehouse_test_connection: 'sources',
  lakehouse_list_source_tables: 'sources',
  lakehouse_sync_table_to_bronze: 'ingest',
  lakehouse_upload_file: 'ingest',
  lakehouse_list_tables: 'warehouse',
  lakehouse_describe_table: 'warehouse',
  lakehouse_query_sql: 'warehouse',
  lakehouse_transform_to_silver: 'transform',
  lakehouse_create_gold_view: 'transform',
  lakehouse_analyze_schema: 'insight',
  lakehouse_suggest_query: 'insight',
  lakehouse_explain_data: 'insight',
};

// ARCHITECTURE.md's 16 KB target for tools/list with every tool enabled (issue 16 item 5: 18,216 B before the
// descriptions and output schemas were cut down); bench/lakehouse.mjs prints the figure.
const TOOLS_LIST_BUDGET = 16 * 1024;

describe('contract', () => {
  let server: SpawnedServer;
  beforeAll(async () => {
    server = await spawnServer(bin);
  });
  afterAll(() => server.close());

  it('serves exactly the thirteen tools of the issues, with schemas pinned and the README table in step', async () => {
    const { tools } = await server.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(Object.keys(TOOLSETS).sort());
    expect(compareToolSnapshots(tools, join(packageDir, 'test', '__toolsnaps__'))).toEqual([]);
    expect(
      checkReadmeToolTable(
        join(packageDir, 'README.md'),
        renderToolTable(tools, (n) => TOOLSETS[n]),
      ),
    ).toBeUndefined();
    const bytes = Buffer.byteLength(JSON.stringify({ tools }));
    expect(bytes).toBeLessThanOrEqual(TOOLS_LIST_BUDGET);
    for (const t of tools) {
      for (const [name, prop] of Object.entries(
        (t.inputSchema.properties ?? {}) as Record<string, { description?: string }>,
      )) {
        expect(prop.description, `${t.name}.${name}`).toBeTruthy();
      }
    }
  });

  it('read-only mode keeps only the tools that change nothing', async () => {
    const ro = await spawnServer(bin, { args: ['--read-only'] });
    try {
      const { tools } = await ro.client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual([
        'lakehouse_analyze_schema',
        'lakehouse_describe_table',
        'lakehouse_explain_data',
        'lakehouse_list_source_tables',
        'lakehouse_list_tables',
        'lakehouse_query_sql',
        'lakehouse_suggest_query',
        'lakehouse_test_connection',
      ]);
    } finally {
      await ro.close();
    }
  });

  it('lists resource templates and prompts', async () => {
    const { resourceTemplates } = await server.client.listResourceTemplates();
    expect(resourceTemplates.map((r) => r.uriTemplate).sort()).toEqual([
      'datasource://{id}/status',
      'datasource://{id}/tables',
      'table://{catalog}/{schema}/{name}/preview',
      'table://{catalog}/{schema}/{name}/schema',
    ]);
    const { prompts } = await server.client.listPrompts();
    expect(prompts.map((p) => p.name).sort()).toEqual([
      'lakehouse_analyze_schema',
      'lakehouse_generate_query',
      'lakehouse_troubleshoot_connection',
    ]);
  });

  it('passes an MCP Inspector CLI smoke test', async () => {
    const isolated = isolatedEnv();
    const env = {
      SWITCHYARD_DATA_DIR: isolated.SWITCHYARD_DATA_DIR!,
      SWITCHYARD_CONFIG_DIR: isolated.SWITCHYARD_CONFIG_DIR!,
      SWITCHYARD_KEYCHAIN: 'off',
    };
    const list = await runInspector(['node', bin], ['--method', 'tools/list'], { env });
    expect(list.stderr + list.stdout).toContain('lakehouse_query_sql');
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('lakehouse_query_sql');
    const call = await runInspector(
      ['node', bin],
      [
        '--method',
        'tools/call',
        '--tool-name',
        'lakehouse_query_sql',
        '--tool-arg',
        'sql=SELECT 40 + 2 AS answer',
      ],
      { env },
    );
    expect(call.code).toBe(0);
    expect(call.stdout).toContain('answer\\n42');
  });

  it('ships its SQL grammars as bundled chunks, without node-sql-parser', () => {
    // What the tarball holds is testkit's test/packed-files.test.ts; installing it from a registry and starting
    // it with npx is test/published.test.ts. The Databricks query check's SQL grammars are bundled chunks, read
    // on first use: node-sql-parser (89 MB unpacked) is not installed.
    expect(readFileSync(join(packageDir, 'dist', 'THIRD-PARTY-NOTICES.txt'), 'utf8')).toContain(
      '## node-sql-parser 5.4.0 (Apache-2.0)',
    );
    const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(pkg.dependencies)).not.toContain('node-sql-parser');
  });
});
