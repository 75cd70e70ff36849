// Hosts built on the TypeScript SDK 1.x (which speaks MCP 2025-11-25 and earlier, and nothing newer) keep
// connecting to every server now that core is on SDK 2: the same tools, schemas and answers as the SDK 2 client
// gets, with progress, cancellation, resources, prompts and sampling on core's example server.
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { isolatedEnv, serverBins, spawnServer, tempDir } from '@switchyard/testkit';

const dirs = tempDir('sdk1-');
afterAll(() => dirs.cleanup());

const example = fileURLToPath(new URL('../../core/test/fixtures/example-server.mjs', import.meta.url));

async function connectV1(bin: string, options: { sampling?: boolean } = {}): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [bin],
    env: isolatedEnv({ configDir: dirs.path, dataDir: dirs.path }),
    stderr: 'pipe',
  });
  const client = new Client(
    { name: 'sdk1-host', version: '1.0.0' },
    { capabilities: options.sampling ? { sampling: {} } : {} },
  );
  if (options.sampling) {
    client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
      const content = request.params.messages[0]?.content;
      const text = content && !Array.isArray(content) && content.type === 'text' ? content.text : '';
      return { role: 'assistant', model: 'sdk1-sampler', content: { type: 'text', text: `echo ${text}` } };
    });
  }
  await client.connect(transport);
  return client;
}

describe.each(serverBins().map((s) => [s.name, s.bin] as const))(
  '%s with an SDK 1.x client',
  (_name, bin) => {
    it('lists the same tools as the SDK 2 client, on MCP 2025-11-25', async () => {
      const v1 = await connectV1(bin);
      const v2 = await spawnServer(bin, { configDir: dirs.path, dataDir: dirs.path });
      try {
        expect(v1.getServerVersion()?.name).toBe(_name);
        const [old, current] = await Promise.all([v1.listTools(), v2.client.listTools()]);
        expect(old.tools).toEqual(current.tools);
      } finally {
        await v1.close();
        await v2.close();
      }
    });
  },
);

describe('core example server with an SDK 1.x client', () => {
  it('calls tools with progress and structured results, reads resources and prompts, and cancels', async () => {
    const client = await connectV1(example);
    try {
      const progress: number[] = [];
      const counted = await client.callTool(
        { name: 'example_slow_count', arguments: { n: 3, step_ms: 10 } },
        undefined,
        { onprogress: (p) => progress.push(p.progress) },
      );
      expect(counted.content).toEqual([{ type: 'text', text: 'counted to 3' }]);
      expect(progress.slice(0, 2)).toEqual([1, 2]);
      const listed = await client.callTool({ name: 'example_list_notes', arguments: { limit: 1 } });
      expect(listed.structuredContent).toEqual({ notes: [{ id: '1', text: 'first note' }], total: 2 });
      const read = await client.readResource({ uri: 'example://notes/2' });
      expect(read.contents[0]).toMatchObject({ text: 'second note' });
      const prompt = await client.getPrompt({ name: 'example_summarize', arguments: { topic: 'sales' } });
      expect(prompt.messages).toHaveLength(1);
      const controller = new AbortController();
      const pending = client.callTool(
        { name: 'example_slow_count', arguments: { n: 100, step_ms: 100 } },
        undefined,
        { signal: controller.signal },
      );
      setTimeout(() => controller.abort(), 200);
      await expect(pending).rejects.toThrow();
      const after = await client.callTool({ name: 'example_get_note', arguments: { id: '1' } });
      expect(after.content).toEqual([{ type: 'text', text: 'first note' }]);
    } finally {
      await client.close();
    }
  });

  it('answers the server’s sampling request', async () => {
    const client = await connectV1(example, { sampling: true });
    try {
      const asked = await client.callTool({ name: 'example_ask_model', arguments: { question: 'hi' } });
      expect(asked.content).toEqual([{ type: 'text', text: 'model said: echo hi' }]);
    } finally {
      await client.close();
    }
  });
});
