// The interface is a contract: tool names, schemas and annotations are pinned, the README table is generated from
// them with each tool's toolset as the server publishes it (testkit's contractSuite); here, Power BI's own truths.
import { describe, expect, it } from 'vitest';
import { contractSuite } from '@switchyard/testkit';
import { bin, packageDir } from './helpers.js';

const contract = contractSuite({ bin, packageDir, names: /^powerbi_[a-z]+_[a-z_]+$/ });

describe('Power BI tools', () => {
  it('declare output schemas, reach the Power BI service, and only refreshing changes anything', async () => {
    const { tools, toolsetOf } = await contract();
    for (const tool of tools) {
      expect(tool.outputSchema, tool.name).toBeDefined();
      expect(tool.annotations?.readOnlyHint, tool.name).toBe(tool.name !== 'powerbi_refresh_dataset');
      expect(tool.annotations?.openWorldHint, tool.name).toBe(true);
    }
    expect(tools.find((t) => t.name === 'powerbi_refresh_dataset')!.annotations).toEqual({
      readOnlyHint: false,
      destructiveHint: false,
      idempotentHint: false,
      openWorldHint: true,
    });
    expect(toolsetOf('powerbi_execute_dax')).toBe('dax');
  });
});
