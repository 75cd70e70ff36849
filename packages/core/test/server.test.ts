import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runBin, spawnRaw, spawnServer, type SpawnedServer } from '@switchyard/testkit';

const bin = fileURLToPath(new URL('./fixtures/example-server.mjs', import.meta.url));

// Every behaviour in both protocol eras: MCP 2025-11-25 (`initialize`, what hosts send today) and 2026-07-28
// (`server/discover`, then the per-request `_meta` envelope), which the SDK's stdio entry tells apart.
describe.each(['legacy', 'modern'] as const)('example server over stdio, %s era', (era) => {
  let server: SpawnedServer;
  beforeAll(async () => {
    server = await spawnServer(bin, { env: { SWITCHYARD_LOG_LEVEL: 'debug' }, era });
  });
  afterAll(() => server.close());

  it('lists every tool with title, annotations and schemas', async () => {
    const { tools } = await server.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      'example_add_note',
      'example_ask_model',
      'example_delete_note',
      'example_fail_badly',
      'example_get_note',
      'example_list_notes',
      'example_slow_count',
    ]);
    const list = tools.find((t) => t.name === 'example_list_notes')!;
    expect(list.title).toBe('List notes');
    expect(list.annotations).toEqual({ readOnlyHint: true, openWorldHint: false });
    expect(list.inputSchema).toMatchObject({
      type: 'object',
      properties: {
        limit: {
          type: 'integer',
          minimum: 1,
          maximum: 50,
          default: 10,
          description: 'How many notes to return (1-50).',
        },
      },
      additionalProperties: false,
    });
    expect(list.inputSchema.required ?? []).not.toContain('limit');
    expect(list.outputSchema).toMatchObject({ type: 'object', required: ['notes', 'total'] });
    // Inputs are closed (unknown arguments are refused); output schemas leave that out, to save bytes.
    expect(JSON.stringify(list.outputSchema)).not.toContain('additionalProperties');
    expect(JSON.stringify(list.inputSchema)).not.toContain('$schema');
    const del = tools.find((t) => t.name === 'example_delete_note')!;
    expect(del.annotations).toEqual({
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: true,
      openWorldHint: false,
    });
    expect(server.client.getInstructions()).toBe('Example server (flavor plain).');
  });

  it('returns structuredContent matching the output schema and the same data as text', async () => {
    const call = await server.call('example_list_notes', { limit: 1 });
    expect(call.isError).toBe(false);
    expect(call.structured).toEqual({ notes: [{ id: '1', text: 'first note' }], total: 2 });
    expect(call.text).toBe('1,first note');
  });

  it('answers a typed error with one actionable sentence', async () => {
    const call = await server.call('example_get_note', { id: '42' });
    expect(call.isError).toBe(true);
    expect(call.text).toBe("No note has id '42'. Candidates: 1, 2. Call example_list_notes to see the ids.");
  });

  it('answers invalid arguments with what is wrong, without running the tool', async () => {
    const missing = await server.call('example_get_note', {});
    expect(missing.isError).toBe(true);
    expect(missing.text).toContain("'id' is required");
    const bounds = await server.call('example_list_notes', { limit: 500 });
    expect(bounds.text).toMatch(/Invalid arguments for example_list_notes: 'limit': .*50/);
    const extra = await server.call('example_list_notes', { limt: 5 });
    expect(extra.text).toContain("unknown argument 'limt'");
  });

  // Zod 4 leaves the input out of its issues: a wrong type used to read as "'limit' is required".
  it.each([
    ['example_list_notes', { limit: 'lots' }, `'limit' must be a number, not the string "lots"`],
    ['example_list_notes', { limit: null }, "'limit' must be a number, not null"],
    ['example_list_notes', { limit: [1] }, "'limit' must be a number, not an array of 1 item"],
    ['example_get_note', { id: 5 }, "'id' must be a string, not the number 5"],
    ['example_get_note', { id: { x: 1 } }, "'id' must be a string, not an object"],
    ['example_get_note', {}, "'id' is required"],
  ])(
    '%s %j says the expected type and what came, and "required" only when absent',
    async (tool, args, said) => {
      const call = await server.call(tool, args);
      expect(call.isError).toBe(true);
      expect(call.text).toBe(
        `Invalid arguments for ${tool}: ${said}. Check the tool's input schema and call it again.`,
      );
      if (Object.keys(args).length > 0) expect(call.text).not.toContain('required');
    },
  );

  it('gives an unexpected exception an id and logs the stack with the same id', async () => {
    const call = await server.call('example_fail_badly', { mode: 'throw' });
    expect(call.isError).toBe(true);
    const id = /\(id ([0-9a-f]{8})\)/.exec(call.text)?.[1];
    expect(id).toBeDefined();
    expect(call.text).not.toContain('kaboom');
    expect(call.text).not.toMatch(/at .*\.m?js:\d+/);
    await expect.poll(() => server.stderr()).toContain(`unexpected error ${id}`);
    expect(server.stderr()).toMatch(new RegExp(`unexpected error ${id}[^\\n]*kaboom`));
    expect(server.stderr()).toMatch(/at .*example-server\.mjs:\d+/);
  });

  it('treats a structured result that breaks its own schema as a server fault', async () => {
    const call = await server.call('example_fail_badly', { mode: 'bad_output' });
    expect(call.isError).toBe(true);
    expect(call.text).toMatch(/unexpected error \(id [0-9a-f]{8}\)/);
  });

  it('keeps secrets out of results and logs', async () => {
    const call = await server.call('example_fail_badly', { mode: 'secret' });
    expect(call.text).toBe('The password [redacted] was refused by the fake upstream.');
    expect(server.stderr()).not.toContain('hunter2-super-secret');
  });

  it('keeps a password inside a URL out of successful results and the debug log', async () => {
    const added = await server.call('example_add_note', { text: 'proxy https://me:pa55word@proxy.local/' });
    const id = /note (\d+)/.exec(added.text)![1]!;
    const read = await server.call('example_get_note', { id });
    expect(read.text).toBe('proxy https://me:[redacted]@proxy.local/');
    const list = await server.call('example_list_notes', {});
    expect(JSON.stringify(list.result)).not.toContain('pa55word');
    expect(server.stderr()).not.toContain('pa55word');
    await server.call('example_delete_note', { id });
  });

  it("leaves the user's own data alone in a successful result: only known secrets and URL passwords are masked", async () => {
    const added = await server.call('example_add_note', {
      text: 'wifi password: correct-horse, token=abc123def',
    });
    const id = /note (\d+)/.exec(added.text)![1]!;
    const read = await server.call('example_get_note', { id });
    expect(read.text).toBe('wifi password: correct-horse, token=abc123def');
    await server.call('example_delete_note', { id });
  });

  it('logs an unhandled rejection and keeps serving', async () => {
    await server.call('example_fail_badly', { mode: 'unhandled' });
    await expect
      .poll(() => server.stderr())
      .toMatch(/unhandled rejection [0-9a-f]{8} \(the server keeps running\)/);
    expect((await server.call('example_get_note', { id: '1' })).text).toBe('first note');
  });

  it('sends progress notifications', async () => {
    const seen: number[] = [];
    const call = await server.call(
      'example_slow_count',
      { n: 5, step_ms: 30 },
      { onProgress: (p) => seen.push(p.progress) },
    );
    expect(call.text).toBe('counted to 5');
    // The SDK client may settle the call before it dispatches the last notification, so 5 can be missing.
    expect(seen.slice(0, 4)).toEqual([1, 2, 3, 4]);
  });

  it('stops a cancelled call and keeps serving', async () => {
    const controller = new AbortController();
    const pending = server.call(
      'example_slow_count',
      { n: 100, step_ms: 200 },
      { signal: controller.signal },
    );
    setTimeout(() => controller.abort('user cancelled'), 300);
    await expect(pending).rejects.toThrow();
    // The client gives up at once; the server's handler stops when the cancellation reaches it.
    await expect.poll(() => server.stderr()).toContain('example_slow_count answered with CancelledError');
    const steps = () => (server.stderr().match(/example_slow_count: step/g) ?? []).length;
    const stepsBefore = steps();
    expect(stepsBefore).toBeLessThan(100);
    await new Promise((r) => setTimeout(r, 600));
    expect(steps()).toBe(stepsBefore);
    expect((await server.call('example_get_note', { id: '2' })).text).toBe('second note');
  });

  it('serves resources, templates and prompts', async () => {
    const { resources } = await server.client.listResources();
    expect(resources.map((r) => r.uri)).toEqual([
      'example://notes/1',
      'example://notes/2',
      'example://about',
      'switchyard://toolsets',
    ]);
    const { resourceTemplates } = await server.client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual(['example://notes/{id}']);
    const read = await server.client.readResource({ uri: 'example://notes/2' });
    expect(read.contents[0]).toMatchObject({
      uri: 'example://notes/2',
      mimeType: 'text/plain',
      text: 'second note',
    });
    await expect(server.client.readResource({ uri: 'example://notes/9' })).rejects.toThrow(
      /No note has id '9'/,
    );
    // SEP-2164: an unknown resource answers -32602 and names the URI in the error's data.
    await expect(server.client.readResource({ uri: 'nothing://here' })).rejects.toMatchObject({
      code: -32602,
      message: expect.stringMatching(/No resource matches/),
      data: { uri: 'nothing://here' },
    });
    const { prompts } = await server.client.listPrompts();
    expect(prompts[0]).toMatchObject({
      name: 'example_summarize',
      arguments: [
        { name: 'topic', required: true, description: 'What the summary is about.' },
        { name: 'style', required: false },
      ],
    });
    const prompt = await server.client.getPrompt({
      name: 'example_summarize',
      arguments: { topic: 'sales', style: 'dry' },
    });
    expect(prompt.messages[0]!.content).toEqual({
      type: 'text',
      text: 'Summarize the notes about sales in a dry tone.',
    });
  });

  it('reports when sampling is unsupported by the client', async () => {
    expect((await server.call('example_ask_model', { question: 'hi' })).text).toBe(
      era === 'legacy'
        ? 'sampling unsupported: the host offers no sampling, so no model was asked'
        : 'sampling unsupported: this session speaks MCP 2026-07-28, where sampling is deprecated and Switchyard does not ask the host for it, so no model was asked',
    );
  });

  it('speaks the era the client opened with', async () => {
    expect(server.client.getProtocolEra()).toBe(era);
    expect(server.client.getNegotiatedProtocolVersion()).toBe(era === 'legacy' ? '2025-11-25' : '2026-07-28');
  });
});

// What cannot be taken back asks the user first, through elicitation (MCP 2026-07-28: an `input_required` round
// the client answers and retries; 2025-11-25: an `elicitation/create` request), when the client supports it.
describe.each(['legacy', 'modern'] as const)('confirmations, %s era', (era) => {
  type Answer = { action: 'accept' | 'decline' | 'cancel'; content?: Record<string, boolean> };
  const asked: string[] = [];
  let next: Answer = { action: 'accept', content: { confirm: true } };
  const elicit = async ({ message }: { message: string }) => {
    asked.push(message);
    return next;
  };
  let server: SpawnedServer;
  beforeAll(async () => {
    server = await spawnServer(bin, { era, elicit });
  });
  afterAll(() => server.close());

  const addNote = async (text: string) =>
    /Stored note (\d+)\./.exec((await server.call('example_add_note', { text })).text)![1]!;

  it('shows the user what will happen and does it once they accept', async () => {
    const id = await addNote('quarterly figures draft');
    asked.length = 0;
    next = { action: 'accept', content: { confirm: true } };
    const call = await server.call('example_delete_note', { id });
    expect(asked).toEqual([`Delete note ${id} for good?\nquarterly figures draft`]);
    expect(call).toMatchObject({ isError: false, text: `Deleted note ${id}.` });
    expect((await server.call('example_get_note', { id })).isError).toBe(true);
  });

  it.each([
    ['declines', { action: 'decline' }],
    ['cancels', { action: 'cancel' }],
    ['accepts with the box left unchecked', { action: 'accept', content: { confirm: false } }],
  ] as const)(
    'answers plainly, not as an error, and changes nothing when the user %s',
    async (_how, answer) => {
      const id = await addNote('keep me');
      next = answer;
      const call = await server.call('example_delete_note', { id });
      expect(call).toMatchObject({
        isError: false,
        text: `Not deleted: the user declined to delete note ${id}.`,
      });
      expect((await server.call('example_get_note', { id })).text).toBe('keep me');
    },
  );

  it('asks nothing when there is nothing to confirm (the tool says so)', async () => {
    asked.length = 0;
    const call = await server.call('example_delete_note', { id: 'missing' });
    expect(asked).toEqual([]);
    expect(call.text).toMatch(/There is no note 'missing' to delete/);
  });
});

describe('confirmations turned off, or a client that cannot be asked', () => {
  const elicit = async () => {
    throw new Error('the server asked although confirmations are off');
  };

  it.each([
    ['--no-confirm', { args: ['--no-confirm'] as string[] }],
    ['SWITCHYARD_NO_CONFIRM=1', { env: { SWITCHYARD_NO_CONFIRM: '1' } }],
  ] as const)('runs at once with %s, as before', async (_how, options) => {
    const server = await spawnServer(bin, { ...options, elicit });
    try {
      const id = /Stored note (\d+)\./.exec((await server.call('example_add_note', { text: 'x' })).text)![1]!;
      expect((await server.call('example_delete_note', { id })).text).toBe(`Deleted note ${id}.`);
    } finally {
      await server.close();
    }
  });

  it('runs at once for a client without elicitation, in either era', async () => {
    for (const era of ['legacy', 'modern'] as const) {
      const server = await spawnServer(bin, { era });
      try {
        const id = /Stored note (\d+)\./.exec(
          (await server.call('example_add_note', { text: 'x' })).text,
        )![1]!;
        expect((await server.call('example_delete_note', { id })).text).toBe(`Deleted note ${id}.`);
      } finally {
        await server.close();
      }
    }
  });
});

describe('sampling, deprecated in MCP 2026-07-28', () => {
  const sampling = async ({ prompt }: { prompt: string }) => `echo ${prompt}`;

  it('asks the host model on a 2025-11-25 session whose client offers sampling', async () => {
    const server = await spawnServer(bin, { sampling, era: 'legacy' });
    try {
      expect((await server.call('example_ask_model', { question: 'hi' })).text).toBe('model said: echo hi');
    } finally {
      await server.close();
    }
  });

  it('says plainly on a 2026-07-28 session that no model is asked, even if the client offers sampling', async () => {
    const server = await spawnServer(bin, { sampling, era: 'modern' });
    try {
      expect((await server.call('example_ask_model', { question: 'hi' })).text).toMatch(
        /^sampling unsupported: this session speaks MCP 2026-07-28, where sampling is deprecated/,
      );
    } finally {
      await server.close();
    }
  });
});

describe('modes', () => {
  const names = async (args: string[], env: Record<string, string> = {}) => {
    const s = await spawnServer(bin, { args, env });
    try {
      return (await s.client.listTools()).tools.map((t) => t.name).sort();
    } finally {
      await s.close();
    }
  };

  it('--read-only keeps only read-only tools, even those named in --tools', async () => {
    expect(await names(['--read-only', '--tools', 'example_add_note,example_get_note'])).toEqual([
      'example_get_note',
    ]);
    expect(await names(['--read-only'])).toEqual([
      'example_ask_model',
      'example_fail_badly',
      'example_get_note',
      'example_list_notes',
      'example_slow_count',
    ]);
  });

  it('--toolsets and --tools select the union', async () => {
    expect(await names(['--toolsets', 'edit'])).toEqual(['example_add_note', 'example_delete_note']);
    expect(await names(['--toolsets', 'edit', '--tools', 'example_get_note'])).toEqual([
      'example_add_note',
      'example_delete_note',
      'example_get_note',
    ]);
  });

  it('serves an opt-in toolset only with its switch (flag or env), and refuses it by name without', async () => {
    expect(await names([])).not.toContain('example_purge_notes');
    expect(await names(['--allow-purge', '--toolsets', 'purge'])).toEqual(['example_purge_notes']);
    expect(await names([], { EXAMPLE_ALLOW_PURGE: '1' })).toContain('example_purge_notes');
    expect(await names(['--toolsets', 'scratch'])).toEqual(['example_read_scratch']);
    const env = isolatedEnv();
    const off = await runBin(bin, ['--toolsets', 'notes,purge'], { env });
    expect(off.code).toBe(2);
    expect(off.stdout).toBe('');
    expect(off.stderr.trim()).toBe(
      'example-mcp: --toolsets purge asks for purge tools, but Purges are off by default. Add --allow-purge (or set EXAMPLE_ALLOW_PURGE=1) to serve example_purge_notes.',
    );
    const readOnly = await runBin(bin, ['--allow-purge', '--read-only', '--tools', 'example_purge_notes'], {
      env,
    });
    expect(readOnly.code).toBe(2);
    expect(readOnly.stderr.trim()).toBe(
      'example-mcp: --tools example_purge_notes asks for purge tools, but --read-only is set and always wins, so none can be served. Remove --read-only (and EXAMPLE_READ_ONLY) and add --allow-purge to serve them.',
    );
    const help = await runBin(bin, ['--help'], { env });
    expect(help.stdout).toContain('--allow-purge');
    expect(help.stdout).toContain('(env EXAMPLE_ALLOW_PURGE)');
  });

  it('publishes its toolsets, their tools and what is served in switchyard://toolsets; instructions follow', async () => {
    const s = await spawnServer(bin, { args: ['--allow-purge', '--read-only'] });
    try {
      const read = await s.client.readResource({ uri: 'switchyard://toolsets' });
      expect(read.contents[0]!.mimeType).toBe('application/json');
      const { toolsets } = JSON.parse((read.contents[0] as { text: string }).text) as {
        toolsets: Array<Record<string, unknown>>;
      };
      expect(toolsets.map((t) => t.id)).toEqual(['notes', 'edit', 'debug', 'scratch', 'purge']);
      expect(toolsets[1]).toEqual({
        id: 'edit',
        description: 'Add and delete notes.',
        default: true,
        tools: ['example_add_note', 'example_delete_note'],
        served: [],
      });
      expect(toolsets[4]).toEqual({
        id: 'purge',
        description: 'Delete every note at once.',
        default: false,
        enabled_by: '--allow-purge',
        tools: ['example_purge_notes'],
        served: [],
      });
      expect(s.client.getInstructions()).toBe('Example server (flavor plain).');
    } finally {
      await s.close();
    }
    const purging = await spawnServer(bin, { args: ['--allow-purge'] });
    try {
      expect(purging.client.getInstructions()).toBe('Example server (flavor plain). Purging is on.');
      expect(purging.stderr()).toContain('Purges are enabled: example_purge_notes');
    } finally {
      await purging.close();
    }
  });

  it('takes the same modes from the environment', async () => {
    expect(await names([], { EXAMPLE_TOOLSETS: 'notes', EXAMPLE_READ_ONLY: '1' })).toEqual([
      'example_get_note',
      'example_list_notes',
    ]);
    expect(await names([], { SWITCHYARD_TOOLSETS: 'edit' })).toEqual([
      'example_add_note',
      'example_delete_note',
    ]);
  });

  it('refuses an unknown toolset or tool at start-up, naming the known ones', async () => {
    const env = isolatedEnv();
    const badSet = await runBin(bin, ['--toolsets', 'notes,nope'], { env });
    expect(badSet.code).toBe(2);
    expect(badSet.stderr).toContain(
      "Unknown toolset 'nope'; the toolsets are notes, edit, debug, scratch, purge.",
    );
    expect(badSet.stdout).toBe('');
    const badTool = await runBin(bin, ['--tools', 'example_nope'], { env });
    expect(badTool.code).toBe(2);
    expect(badTool.stderr).toContain("Unknown tool 'example_nope'");
    const badEnv = await runBin(bin, [], { env: { ...env, EXAMPLE_FLAVOR: 'odd' } });
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toContain('EXAMPLE_FLAVOR=odd is not one of plain, fancy');
  });
});

describe('the process', () => {
  const start = () => spawnRaw(bin, { args: ['--log-level', 'debug'] });
  const init = {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
  };
  const line = (msg: object | string) => `${typeof msg === 'string' ? msg : JSON.stringify(msg)}\n`;

  it('writes nothing but JSON-RPC to stdout and survives garbage on stdin', async () => {
    const p = start();
    for (const msg of [
      init,
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      'this is not json',
      '{"jsonrpc":"2.0","id":',
      { hello: 'world' },
      {
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'example_slow_count', arguments: { n: 3, step_ms: 1 } },
      },
      {
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/call',
        params: { name: 'example_fail_badly', arguments: { mode: 'throw' } },
      },
      { jsonrpc: '2.0', id: 4, method: 'tools/list' },
    ])
      await p.write(line(msg));
    await p.answer((m) => m.id === 4, 10_000);
    await expect.poll(() => p.messages().length).toBeGreaterThanOrEqual(7);
    for (const message of p.messages()) expect(message).toMatchObject({ jsonrpc: '2.0' });
    const ids = p.messages().map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining([1, 2, 3, 4]));
    // Each unusable line is answered as JSON-RPC 2.0 says (two parse errors, one invalid request), with id null.
    expect(
      p
        .messages()
        .filter((m) => m.id === null)
        .map((m) => (m.error as { code: number }).code),
    ).toEqual([-32700, -32700, -32600]);
    expect(p.stderr()).toContain('answered a line that is not JSON with a parse error');
    expect(p.alive()).toBe(true);
    p.child.kill('SIGTERM');
  });

  // MCP 2026-07-28 on the wire (docs/specification/2026-07-28/server/discover.mdx, basic/versioning.mdx): the
  // per-request `_meta` envelope, `server/discover`, `resultType`, cache fields, and the -32022 error naming the
  // supported versions; MCP 2025-11-25 (`initialize`) keeps negotiating down to what the server speaks.
  const envelope = (version: string) => ({
    'io.modelcontextprotocol/protocolVersion': version,
    'io.modelcontextprotocol/clientCapabilities': {},
    'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' },
  });

  it('answers server/discover and enveloped requests in the 2026-07-28 era, with cache fields and its identity', async () => {
    const p = start();
    await p.write(
      line({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: envelope('2026-07-28') } }),
    );
    const discover = await p.answer((m) => m.id === 1);
    expect(discover.result).toMatchObject({
      supportedVersions: ['2026-07-28'],
      capabilities: { tools: {}, resources: {}, prompts: {} },
      _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'example-mcp', version: '1.2.3' } },
      instructions: 'Example server (flavor plain).',
      ttlMs: 3_600_000,
      cacheScope: 'private',
    });
    await p.write(
      line({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: envelope('2026-07-28') } }),
    );
    const list = (await p.answer((m) => m.id === 2)).result as Record<string, unknown>;
    expect(list).toMatchObject({ resultType: 'complete', ttlMs: 3_600_000, cacheScope: 'private' });
    expect((list.tools as Array<{ name: string }>).map((t) => t.name)).toEqual([
      'example_list_notes',
      'example_get_note',
      'example_add_note',
      'example_delete_note',
      'example_fail_badly',
      'example_slow_count',
      'example_ask_model',
    ]);
    await p.write(
      line({ jsonrpc: '2.0', id: 3, method: 'resources/list', params: { _meta: envelope('2026-07-28') } }),
    );
    // Resource lists hold the user's data: not to be kept.
    expect((await p.answer((m) => m.id === 3)).result).toMatchObject({ ttlMs: 0, cacheScope: 'private' });
    await p.write(
      line({
        jsonrpc: '2.0',
        id: 4,
        method: 'tools/call',
        params: { name: 'example_get_note', arguments: { id: '1' }, _meta: envelope('2026-07-28') },
      }),
    );
    expect((await p.answer((m) => m.id === 4)).result).toMatchObject({
      resultType: 'complete',
      content: [{ type: 'text', text: 'first note' }],
      _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'example-mcp' } },
    });
    // Once the connection speaks 2026-07-28, a late `initialize` is refused, naming the supported versions.
    await p.write(line({ ...init, id: 5 }));
    expect((await p.answer((m) => m.id === 5)).error).toMatchObject({
      code: -32022,
      data: { supported: ['2026-07-28'] },
    });
    expect(p.alive()).toBe(true);
    p.child.kill('SIGTERM');
  });

  it('refuses a protocol version it does not speak with -32022 and the versions it does', async () => {
    const p = start();
    await p.write(
      line({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: envelope('2099-01-01') } }),
    );
    expect((await p.answer((m) => m.id === 1)).error).toMatchObject({
      code: -32022,
      data: { supported: expect.arrayContaining(['2026-07-28']), requested: '2099-01-01' },
    });
    // The connection is not pinned by a refused opening: a 2025-11-25 client still gets in.
    await p.write(line({ ...init, id: 2, params: { ...init.params, protocolVersion: '2025-11-25' } }));
    expect((await p.answer((m) => m.id === 2)).result).toMatchObject({ protocolVersion: '2025-11-25' });
    // An older client that asks for a version nobody speaks is offered the newest 2025-era one, as before.
    const q = start();
    await q.write(line({ ...init, params: { ...init.params, protocolVersion: '1999-01-01' } }));
    expect((await q.answer((m) => m.id === 1)).result).toMatchObject({ protocolVersion: '2025-11-25' });
    p.child.kill('SIGTERM');
    q.child.kill('SIGTERM');
  });

  it('exits cleanly on SIGTERM and when stdin closes', async () => {
    const a = start();
    await a.write(line(init));
    await a.answer((m) => m.id === 1);
    a.child.kill('SIGTERM');
    expect(await a.close()).toBe(0);

    const b = start();
    await b.write(line(init));
    await b.answer((m) => m.id === 1);
    expect(await b.close()).toBe(0);
  });

  it('logs at the chosen level on stderr', async () => {
    const quiet = await runBin(bin, ['--log-level', 'error'], {
      env: isolatedEnv(),
      input: `${JSON.stringify(init)}\n`,
    });
    expect(quiet.stderr).not.toContain('INFO');
    const chatty = await runBin(bin, [], {
      env: { ...isolatedEnv(), SWITCHYARD_LOG_LEVEL: 'debug' },
      input: `${JSON.stringify(init)}\n`,
    });
    expect(chatty.stderr).toMatch(/INFO example-mcp: example-mcp 1\.2\.3 serving 7 tools over stdio/);
    expect(chatty.code).toBe(0);
  });
});

describe('the command line', () => {
  it('prints --version and --help', async () => {
    const env = isolatedEnv();
    expect((await runBin(bin, ['--version'], { env })).stdout.trim()).toBe('1.2.3');
    const help = await runBin(bin, ['--help'], { env });
    for (const part of [
      '--toolsets <list>',
      '--tools <list>',
      '--read-only',
      '--profile <name>',
      '--log-level <level>',
      'login',
      'logout',
      'status',
      'EXAMPLE_READ_ONLY',
    ]) {
      expect(help.stdout).toContain(part);
    }
  });

  it('runs login, status and logout per profile with the secret store', async () => {
    const env = isolatedEnv();
    expect((await runBin(bin, ['status'], { env })).code).toBe(1);
    const login = await runBin(bin, ['login', '--profile', 'work'], { env, input: 'tok-123456\n' });
    expect(login.stdout).toContain('Stored the token for profile work.');
    expect(login.stdout).not.toContain('tok-123456');
    const status = await runBin(bin, ['status', '--profile', 'work'], { env });
    expect(status.stdout).toContain('profile work: signed in (file)');
    expect(status.code).toBe(0);
    expect((await runBin(bin, ['status'], { env })).stdout).toContain('profile default: not signed in');
    expect((await runBin(bin, ['status'], { env: { ...env, EXAMPLE_TOKEN: 'from-env' } })).stdout).toContain(
      'signed in (env)',
    );
    expect((await runBin(bin, ['logout', '--profile', 'work'], { env })).stdout).toContain('Signed out.');
    expect((await runBin(bin, ['status', '--profile', 'work'], { env })).code).toBe(1);
  });
});
