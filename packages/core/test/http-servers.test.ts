import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverPackages, spawnHttpServer, spawnServer, type HttpServer } from '@switchyard/testkit';

// Every server of the repository serves the same tools over `serve --http` as over stdio, in both protocol eras:
// the HTTP entry is core's, so no server has code of its own for it.
describe.each(serverPackages().map((p) => [p.name, p.bin] as const))('%s over HTTP', (name, bin) => {
  let server: HttpServer;
  let stdioTools: string[];
  beforeAll(async () => {
    const stdio = await spawnServer(bin);
    try {
      stdioTools = (await stdio.client.listTools()).tools.map((t) => t.name).sort();
    } finally {
      await stdio.close();
    }
    server = await spawnHttpServer(bin, { env: { SWITCHYARD_HTTP_KEY: `key-for-${name}-0123456789` } });
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it.each(['legacy', 'modern'] as const)('lists the same tools as over stdio (%s era)', async (era) => {
    const c = await server.connect({ era, key: `key-for-${name}-0123456789` });
    try {
      const tools = (await c.client.listTools()).tools.map((t) => t.name).sort();
      expect(tools.length).toBeGreaterThan(0);
      expect(tools).toEqual(stdioTools);
      const prefix = name.replace(/-mcp$/, '');
      for (const tool of tools) expect(tool.startsWith(`${prefix}_`), tool).toBe(true);
    } finally {
      await c.close();
    }
  });
});
