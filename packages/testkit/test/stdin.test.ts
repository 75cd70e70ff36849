// JSON-RPC 2.0 over stdin on every server bin: a line that is not JSON, a tools/call without params and a
// message over the 10 MiB limit each get their answer, and the server keeps serving the lines after them.
import { afterAll, describe, expect, it } from 'vitest';
import { initializeLine, serverBins, spawnRaw, tempDir } from '@switchyard/testkit';

const dirs = tempDir('stdin-');
afterAll(() => dirs.cleanup());

const line = (message: Record<string, unknown>) => `${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`;
const byId = (id: unknown) => (m: Record<string, unknown>) => m.id === id;
const code = (m: Record<string, unknown>) => (m.error as { code: number } | undefined)?.code;

describe.each(serverBins().map((s) => [s.name, s.bin] as const))('%s', (_name, bin) => {
  it('answers unusable lines as JSON-RPC 2.0 says and keeps serving', async () => {
    const server = spawnRaw(bin, { configDir: dirs.path, dataDir: dirs.path });
    try {
      await server.write(initializeLine(0));
      await server.answer(byId(0));
      await server.write(line({ method: 'notifications/initialized' }));
      await server.write('{"jsonrpc": "2.0", "id": 1, "method": \n');
      expect(code(await server.answer(byId(null)))).toBe(-32700);
      await server.write(line({ id: 2, method: 'tools/call' }));
      expect(await server.answer(byId(2))).toMatchObject({
        error: {
          code: -32602,
          message:
            "Invalid params for tools/call: 'params' is required; see the MCP specification of tools/call.",
        },
      });
      await server.write(
        line({
          method: 'tools/call',
          params: { name: 'x', arguments: { blob: 'y'.repeat(10.5 * 1024 * 1024) } },
          id: 3,
        }),
      );
      expect(code(await server.answer(byId(3)))).toBe(-32600);
      await server.write(line({ id: 4, method: 'tools/list' }));
      expect(((await server.answer(byId(4))).result as { tools: unknown[] }).tools.length).toBeGreaterThan(0);
      expect(server.alive()).toBe(true);
    } finally {
      expect(await server.close()).toBe(0);
    }
  });
});
