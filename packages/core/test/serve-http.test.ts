import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyMatches, parseListen } from '@switchyard/core';
import { connectHttp } from '@switchyard/core/client';
import { isolatedEnv, runBin, serverFolders, spawnHttpServer, type HttpServer } from '@switchyard/testkit';

// `serve --http`: core's Streamable HTTP entry, tested against the example server spawned as a real process and the
// SDK 2 client's Streamable HTTP transport, in both protocol eras.
const bin = fileURLToPath(new URL('./fixtures/example-server.mjs', import.meta.url));
const KEY = 'k3y-for-tests-0123456789abcdef';

/** One HTTP request below any MCP client, with whatever headers a browser or an attacker would send. */
function raw(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'POST', headers: options.headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const listTools = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });
const slowCall = (n: number, stepMs: number, id: string | number = 7) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: 'example_slow_count', arguments: { n, step_ms: stepMs } },
  });

describe('parsing --http and comparing keys', () => {
  it('reads [host:]port, IPv6 in brackets, and refuses anything else with one sentence', () => {
    expect(parseListen('8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseListen('0.0.0.0:0')).toEqual({ host: '0.0.0.0', port: 0 });
    expect(parseListen('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(() => parseListen('localhost:99999')).toThrow(
      /is not an address to listen on: give \[host:\]port/,
    );
    expect(() => parseListen('http://x:1')).toThrow(/is not an address to listen on/);
  });

  it('compares keys by their hashes, so keys of other lengths compare without throwing', () => {
    expect(keyMatches(KEY, KEY)).toBe(true);
    expect(keyMatches('short', KEY)).toBe(false);
    expect(keyMatches(`${KEY}x`, KEY)).toBe(false);
  });
});

describe.each(['legacy', 'modern'] as const)('over HTTP without a key on loopback, %s era', (era) => {
  let server: HttpServer;
  beforeAll(async () => {
    server = await spawnHttpServer(bin);
  });
  afterAll(() => server.stop());

  it('lists and calls tools through the SDK client', async () => {
    const c = await server.connect({ era });
    try {
      const { tools } = await c.client.listTools();
      expect(tools.map((t) => t.name)).toContain('example_list_notes');
      const call = await c.call('example_list_notes', { limit: 1 });
      expect(call.isError).toBe(false);
      expect(call.structured).toEqual({ notes: [{ id: '1', text: 'first note' }], total: 2 });
      const missing = await c.call('example_get_note', { id: 'nope' });
      expect(missing.isError).toBe(true);
      expect(missing.text).toContain("No note has id 'nope'");
    } finally {
      await c.close();
    }
  });

  it('gives two clients calling at once only their own answers', async () => {
    const [a, b] = await Promise.all([server.connect({ era }), server.connect({ era })]);
    try {
      const runs = Array.from({ length: 6 }, (_, i) => i + 1);
      const answers = await Promise.all(
        runs.flatMap((n) => [
          a.call('example_slow_count', { n, step_ms: 20 }).then((r) => ['a', n, r.text] as const),
          b
            .call('example_slow_count', { n: n + 10, step_ms: 15 })
            .then((r) => ['b', n + 10, r.text] as const),
          b.call('example_get_note', { id: String((n % 2) + 1) }).then((r) => ['note', n, r.text] as const),
        ]),
      );
      for (const [who, n, text] of answers) {
        if (who === 'note') expect(text).toBe(n % 2 === 0 ? 'first note' : 'second note');
        else expect(text, `${who} asked for ${n}`).toBe(`counted to ${n}`);
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

// Confirmations over HTTP: a 2026-07-28 client is asked through `input_required` (stateless by design); a 2025-era
// client is served statelessly, so the server cannot send it `elicitation/create` and runs the tool, as for a host
// without elicitation (the README says so).
describe('confirmations over HTTP', () => {
  let server: HttpServer;
  beforeAll(async () => {
    server = await spawnHttpServer(bin);
  });
  afterAll(() => server.stop());

  it('asks a 2026-07-28 client that can be asked, and honours its decline', async () => {
    const asked: string[] = [];
    const c = await server.connect({
      era: 'modern',
      elicit: async ({ message }) => {
        asked.push(message);
        return { action: 'decline' };
      },
    });
    try {
      const declined = await c.call('example_delete_note', { id: '1' });
      expect(declined.text).toBe('Not deleted: the user declined to delete note 1.');
      expect(asked).toHaveLength(1);
      expect(asked[0]).toContain('Delete note 1 for good?');
      expect((await c.call('example_get_note', { id: '1' })).text).toBe('first note');
    } finally {
      await c.close();
    }
  });

  it('cannot ask a 2025-era client over stateless HTTP, so the tool runs as for a host without elicitation', async () => {
    let asked = 0;
    const c = await server.connect({
      era: 'legacy',
      elicit: async () => {
        asked++;
        return { action: 'decline' };
      },
    });
    try {
      await c.call('example_add_note', { text: 'to be deleted' });
      const notes = await c.call('example_list_notes', { limit: 50 });
      const id = (notes.structured!.notes as Array<{ id: string; text: string }>).find(
        (n) => n.text === 'to be deleted',
      )!.id;
      expect((await c.call('example_delete_note', { id })).text).toBe(`Deleted note ${id}.`);
      expect(asked).toBe(0);
    } finally {
      await c.close();
    }
  });
});

describe('guards in front of /mcp', () => {
  let server: HttpServer;
  beforeAll(async () => {
    server = await spawnHttpServer(bin, {
      env: {
        SWITCHYARD_HTTP_KEY: KEY,
        SWITCHYARD_HTTP_MAX_CONCURRENT: '2',
        SWITCHYARD_HTTP_TIMEOUT_S: '3',
      },
    });
  });
  afterAll(() => server.stop());

  it('answers /healthz without the key, and says nothing secret', async () => {
    const health = await raw(`${server.origin}/healthz`, { method: 'GET' });
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ status: 'ok' });
  });

  it('refuses a request without the key and one with a wrong key with 401 and WWW-Authenticate', async () => {
    const none = await raw(server.url, { headers: MCP_HEADERS, body: listTools });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer realm="example-mcp"$/);
    expect(JSON.parse(none.body).error.message).toBe(
      'Unauthorized: send this server\'s key as "Authorization: Bearer <key>".',
    );
    const wrong = await raw(server.url, {
      headers: { ...MCP_HEADERS, authorization: `Bearer ${KEY.slice(0, -1)}X` },
      body: listTools,
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(wrong.body).not.toContain(KEY.slice(0, 12));
    await expect(server.connect({ era: 'legacy', key: 'not-the-key-at-all-000' })).rejects.toThrow();
    await expect(server.connect({ era: 'modern' })).rejects.toThrow();
  });

  it.each(['legacy', 'modern'] as const)('serves a client with the right key (%s era)', async (era) => {
    const c = await server.connect({ era, key: KEY });
    try {
      expect((await c.call('example_get_note', { id: '2' })).text).toBe('second note');
    } finally {
      await c.close();
    }
  });

  it('refuses a Host that is not this server (DNS rebinding) and a foreign Origin with 403', async () => {
    const headers = { ...MCP_HEADERS, authorization: `Bearer ${KEY}` };
    const rebound = await raw(server.url, {
      headers: { ...headers, host: 'attacker.example:80' },
      body: listTools,
    });
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body).error.message).toMatch(
      /^Forbidden: this server answers only requests addressed to localhost/,
    );
    // /healthz is behind the Host check too: a rebound page learns nothing.
    expect(
      (await raw(`${server.origin}/healthz`, { method: 'GET', headers: { host: 'attacker.example' } }))
        .status,
    ).toBe(403);
    const foreign = await raw(server.url, {
      headers: { ...headers, origin: 'https://attacker.example' },
      body: listTools,
    });
    expect(foreign.status).toBe(403);
    expect(JSON.parse(foreign.body).error.message).toBe(
      'Forbidden: requests from web pages of other sites are refused (the Origin header names a foreign site).',
    );
    const local = await raw(server.url, { headers: { ...headers, origin: server.origin }, body: listTools });
    expect(local.status).toBe(200);
    expect(local.body).toContain('example_list_notes');
  });

  it('refuses a body over 10 MiB with 413 and keeps serving', async () => {
    const big = Buffer.alloc(11 * 1024 * 1024, 0x20);
    const refused = await raw(server.url, {
      headers: { ...MCP_HEADERS, authorization: `Bearer ${KEY}` },
      body: big,
    });
    expect(refused.status).toBe(413);
    expect(JSON.parse(refused.body).error.message).toMatch(
      /^Payload too large: a request body may hold at most 10 MiB/,
    );
    // Without a declared length, the body is counted as it arrives.
    const chunked = await raw(server.url, {
      headers: { ...MCP_HEADERS, authorization: `Bearer ${KEY}`, 'transfer-encoding': 'chunked' },
      body: big,
    });
    expect(chunked.status).toBe(413);
    const after = await raw(server.url, {
      headers: { ...MCP_HEADERS, authorization: `Bearer ${KEY}` },
      body: listTools,
    });
    expect(after.status).toBe(200);
  });

  it('answers 503 with Retry-After when the concurrency limit is reached, and serves again after', async () => {
    const headers = { ...MCP_HEADERS, authorization: `Bearer ${KEY}` };
    const slow = [
      raw(server.url, { headers, body: slowCall(15, 100, 1) }),
      raw(server.url, { headers, body: slowCall(15, 100, 2) }),
    ];
    // Once both are in flight, a third is turned away.
    let busy = await raw(server.url, { headers, body: listTools });
    for (let i = 0; busy.status !== 503 && i < 40; i++) {
      await new Promise((r) => setTimeout(r, 50));
      busy = await raw(server.url, { headers, body: listTools });
    }
    expect(busy.status).toBe(503);
    expect(busy.headers['retry-after']).toBe('1');
    expect(JSON.parse(busy.body).error.message).toBe(
      'Busy: 2 requests are already being served; retry in a moment.',
    );
    for (const done of await Promise.all(slow)) {
      expect(done.status).toBe(200);
      expect(done.body).toContain('counted to 15');
    }
    expect((await raw(server.url, { headers, body: listTools })).status).toBe(200);
  });

  it('cancels a request that runs past the time limit: 504, or an error event on a stream under way', async () => {
    const message = 'Timed out: the request took longer than 3 s and was cancelled; ask for less or retry.';
    // A 2025-era request is answered over an SSE stream that starts at once: its answer becomes an error event.
    const headers = { ...MCP_HEADERS, authorization: `Bearer ${KEY}` };
    const streamed = await raw(server.url, { headers, body: slowCall(60, 100, 'late-1') });
    expect(streamed.status).toBe(200);
    const event = JSON.parse(/^data: (.*)$/m.exec(streamed.body)![1]!);
    expect(event).toEqual({ jsonrpc: '2.0', id: 'late-1', error: { code: -32001, message } });
    // A 2026-07-28 request is answered with one JSON body: still unsent, so the status says it.
    const c = await server.connect({ era: 'modern', key: KEY });
    try {
      await expect(c.call('example_slow_count', { n: 60, step_ms: 100 })).rejects.toThrow(/504|Timed out/);
      expect((await c.call('example_get_note', { id: '1' })).text).toBe('first note');
    } finally {
      await c.close();
    }
  });

  it('hangs up on a client that trickles its body past the time limit, and frees its slot', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(server.url).port), '127.0.0.1', () => {
        socket.write(
          `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${KEY}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"jsonrpc":`,
        );
      });
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString('utf8')));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    const headers = { ...MCP_HEADERS, authorization: `Bearer ${KEY}` };
    // Both slots are free again: two calls that overlap are both served.
    const after = await Promise.all(
      [1, 2].map((id) => raw(server.url, { headers, body: slowCall(5, 100, id) })),
    );
    expect(after.map((r) => r.status)).toEqual([200, 200]);
  });

  it('answers another path with 404 and one sentence', async () => {
    const other = await raw(`${server.origin}/admin`, { method: 'GET' });
    expect(other.status).toBe(404);
    expect(JSON.parse(other.body).error.message).toBe(
      'Not found: MCP is served at /mcp (and a health check at /healthz).',
    );
  });
});

describe('starting and stopping', () => {
  it('refuses to listen off loopback without a key, in one sentence, before listening', async () => {
    const run = await runBin(bin, ['serve', '--http', '0.0.0.0:0'], { env: isolatedEnv() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'example-mcp: Refusing to listen on 0.0.0.0 without a key: anyone who can reach it could use example-mcp with your credentials',
    );
    expect(run.stderr).not.toContain('listening on');
  });

  it('listens off loopback with a key (the seeds’ MCP_API_KEY is accepted)', async () => {
    const server = await spawnHttpServer(bin, { listen: '0.0.0.0:0', env: { MCP_API_KEY: KEY } });
    try {
      const url = `http://127.0.0.1:${new URL(server.url).port}/mcp`;
      const c = await connectHttp({ url, headers: { Authorization: `Bearer ${KEY}` } });
      expect((await c.client.listTools()).tools.length).toBeGreaterThan(0);
      await c.close();
      expect((await raw(url, { headers: MCP_HEADERS, body: listTools })).status).toBe(401);
    } finally {
      await server.stop();
    }
  });

  it('uses the key `http-key` made and stored, and forgets it with --remove', async () => {
    const folders = serverFolders();
    try {
      const env = isolatedEnv({ configDir: folders.configDir, dataDir: folders.dataDir });
      const made = await runBin(bin, ['http-key'], { env });
      expect(made.code).toBe(0);
      const key = made.stdout.trim();
      expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(made.stderr).toContain('Stored a new HTTP key for example-mcp (profile default)');
      const server = await spawnHttpServer(bin, { configDir: folders.configDir, dataDir: folders.dataDir });
      try {
        expect(server.stderr()).not.toContain(key);
        expect((await raw(server.url, { headers: MCP_HEADERS, body: listTools })).status).toBe(401);
        const c = await server.connect({ key });
        expect((await c.client.listTools()).tools.length).toBeGreaterThan(0);
        await c.close();
      } finally {
        await server.stop();
      }
      const removed = await runBin(bin, ['http-key', '--remove'], { env });
      expect(removed.stdout.trim()).toBe('Forgot the HTTP key.');
      expect((await runBin(bin, ['http-key', '--remove'], { env })).stdout.trim()).toBe(
        'No HTTP key was stored.',
      );
    } finally {
      folders.cleanup();
    }
  });

  it('refuses a malformed --http value and a short key with one sentence each', async () => {
    const bad = await runBin(bin, ['serve', '--http', 'nowhere:port'], { env: isolatedEnv() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("'nowhere:port' is not an address to listen on");
    const short = await runBin(bin, ['serve', '--http', '127.0.0.1:0'], {
      env: isolatedEnv({ env: { SWITCHYARD_HTTP_KEY: 'short' } }),
    });
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('The HTTP key is 5 characters long; use at least 16 random characters');
  });

  it('finishes a request in flight on SIGTERM, refuses new ones, and exits 0', async () => {
    const server = await spawnHttpServer(bin, { env: { SWITCHYARD_LOG_LEVEL: 'debug' } });
    const inFlight = raw(server.url, { headers: MCP_HEADERS, body: slowCall(10, 100) });
    await expect.poll(() => server.stderr()).toContain('example_slow_count: started');
    const exited = server.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    const late = await raw(server.url, { headers: MCP_HEADERS, body: listTools }).catch((err: Error) => err);
    // Either the listener is already closed (connection refused) or the server answers that it is stopping.
    if (late instanceof Error) expect(late.message).toMatch(/ECONNREFUSED|ECONNRESET|socket hang up/);
    else expect(late.status).toBe(503);
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('counted to 10');
    expect(await exited).toBe(0);
    expect(server.stderr()).toContain('waiting up to 10000 ms for 1 request(s) in flight');
  });
});
