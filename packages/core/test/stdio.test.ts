import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initializeLine, spawnRaw, type RawServer } from '@switchyard/testkit';
import { TopLevelIdScanner } from '../src/stdio.js';

// Input no MCP client library would send, written to a spawned server as raw lines: each gets the JSON-RPC 2.0
// answer (§5.1), and the server keeps serving the lines after it.
const bin = fileURLToPath(new URL('./fixtures/example-server.mjs', import.meta.url));

const line = (message: Record<string, unknown>) => `${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`;
const byId = (id: unknown) => (m: Record<string, unknown>) => m.id === id;

describe('stdin lines that are not a usable message', () => {
  let server: RawServer;
  beforeAll(async () => {
    server = spawnRaw(bin);
    await server.write(initializeLine(0));
    await server.answer(byId(0));
    await server.write(line({ method: 'notifications/initialized' }));
  });
  afterAll(() => server.close());

  const stillServes = async (id: number) => {
    await server.write(
      line({ id, method: 'tools/call', params: { name: 'example_get_note', arguments: { id: '1' } } }),
    );
    expect(await server.answer(byId(id))).toMatchObject({
      result: { content: [{ type: 'text', text: 'first note' }] },
    });
  };

  it('answers malformed JSON with -32700 Parse error and id null, then serves the next line', async () => {
    await server.write('{"jsonrpc":"2.0","id":1,"method":"tools/list"\n');
    const answer = await server.answer((m) => m.id === null);
    expect(answer).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: {
        code: -32700,
        message: 'Parse error: the line received is not valid JSON. Send one JSON-RPC message per line.',
      },
    });
    await stillServes(2);
  });

  it('answers JSON that is not a JSON-RPC message with -32600 Invalid Request and its id', async () => {
    await server.write('{"id":3,"method":7}\n');
    expect(await server.answer(byId(3))).toMatchObject({ error: { code: -32600 } });
    await stillServes(4);
  });

  it('answers tools/call without params with -32602 Invalid params in one sentence', async () => {
    await server.write(line({ id: 5, method: 'tools/call' }));
    expect(await server.answer(byId(5))).toEqual({
      jsonrpc: '2.0',
      id: 5,
      error: {
        code: -32602,
        message:
          "Invalid params for tools/call: 'params' is required; see the MCP specification of tools/call.",
      },
    });
    await stillServes(6);
  });

  it('refuses a message over 10 MiB with its own id, and keeps serving', async () => {
    // The SDK's client writes `id` after `params`, so the id is found at the end of the oversized line.
    const big = line({
      method: 'tools/call',
      params: { name: 'example_add_note', arguments: { text: 'x'.repeat(11 * 1024 * 1024) } },
      id: 7,
    });
    await server.write(big);
    const answer = await server.answer(byId(7));
    expect(answer).toMatchObject({ error: { code: -32600 } });
    expect((answer.error as { message: string }).message).toMatch(
      /^Invalid Request: the message is 11 MiB, over this server's limit of 10 MiB per message, so it was not read\./,
    );
    expect(server.alive()).toBe(true);
    await stillServes(8);
    expect(server.stderr()).toContain('refused a message of 11 MiB');
  });

  it('exits 0 only when stdin closes', async () => {
    expect(server.alive()).toBe(true);
    expect(await server.close()).toBe(0);
  });
});

describe('TopLevelIdScanner', () => {
  const scan = (...pieces: string[]) => {
    const scanner = new TopLevelIdScanner();
    for (const piece of pieces) scanner.feed(Buffer.from(piece));
    return scanner.id;
  };

  it.each([
    ['{"jsonrpc":"2.0","id":12,"method":"x"}', 12],
    ['{"method":"x","params":{"id":99,"a":[{"id":1}]},"jsonrpc":"2.0","id":"r-1"}', 'r-1'],
    ['{ "id" : -3 }', -3],
    ['{"params":{"text":"\\"id\\":5}"},"method":"x"}', undefined],
    ['{"method":"x","params":{"id":4}}', undefined],
  ])('%s → %s', (json, id) => {
    expect(scan(json)).toBe(id);
    // The same, fed one byte at a time.
    expect(scan(...json.split(''))).toBe(id);
  });
});
