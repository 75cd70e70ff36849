// Rule 7 over every server at once: --read-only serves no tool that writes anywhere (upstream or local disk),
// and read-only is decided by readOnlyHint alone, so every tool it serves must say readOnlyHint: true.
import { afterAll, describe, expect, it } from 'vitest';
import { serverBins, spawnServer, tempDir, type ListedTool } from '@switchyard/testkit';

const servers = serverBins();
const dirs = tempDir('read-only-');
afterAll(() => dirs.cleanup());

async function listTools(bin: string, args: string[]): Promise<ListedTool[]> {
  const server = await spawnServer(bin, { args, configDir: dirs.path, dataDir: dirs.path });
  try {
    return (await server.client.listTools()).tools as ListedTool[];
  } finally {
    await server.close();
  }
}

describe('--read-only on every server', () => {
  it('finds the four servers', () => {
    expect(servers.map((s) => s.name).sort()).toEqual([
      'lakehouse-mcp',
      'ms365-mcp',
      'odoo-mcp',
      'powerbi-mcp',
    ]);
  });

  it.each(servers.map((s) => [s.name, s.bin] as const))(
    '%s serves only tools whose readOnlyHint is true',
    async (_name, bin) => {
      const all = await listTools(bin, []);
      const readOnly = await listTools(bin, ['--read-only']);
      expect(readOnly.length).toBeGreaterThan(0);
      expect(readOnly.filter((t) => t.annotations?.readOnlyHint !== true).map((t) => t.name)).toEqual([]);
      // Nothing read-only is lost either: --read-only is exactly the tools marked read-only.
      expect(readOnly.map((t) => t.name)).toEqual(
        all.filter((t) => t.annotations?.readOnlyHint === true).map((t) => t.name),
      );
    },
  );

  it('leaves out the ms365 tools that save files to local disk', async () => {
    const ms365 = servers.find((s) => s.name === 'ms365-mcp')!;
    const names = (await listTools(ms365.bin, ['--read-only'])).map((t) => t.name);
    expect(names).not.toContain('ms365_download_attachment');
    expect(names).not.toContain('ms365_download_file');
    expect(names).toContain('ms365_read_file');
  });
});
