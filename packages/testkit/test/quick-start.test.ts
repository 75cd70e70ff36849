// The quick start (core's quick-start.ts, built into each server's dist/start.js): a session's opening is answered
// from build-time data, byte for byte as the server itself answers it (SWITCHYARD_QUICK_START=off), in both protocol
// eras and under the modes a host configures; the server loads on the first message that needs it and carries on
// the session without answering anything twice. Read from the built files: run `npm run build` first.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serverPackages, spawnRaw, tempDir, type RawServer } from '@switchyard/testkit';

const dirs = tempDir('quick-start-');
afterAll(() => dirs.cleanup());

interface Opening {
  envPrefix: string;
  toolsets: { id: string; default: boolean; enabledBy?: { flags: string } }[];
  switches: { id: string; flags: string }[];
  prompts: boolean;
  staticResources: boolean;
}

const servers = serverPackages().map((p) => ({
  name: p.name,
  bin: p.bin,
  data: JSON.parse(readFileSync(join(p.dir, 'dist', 'opening.json'), 'utf8')) as Opening,
}));

const line = (message: Record<string, unknown>) => `${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`;
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'quick-start-test', version: '1' },
};

/** A host's opening: what it sends first, and the ids it waits for. */
function openingOf(data: Opening, era: string): { text: string; ids: number[] } {
  const lists = [
    'tools/list',
    ...(data.prompts ? ['prompts/list'] : []),
    'resources/templates/list',
    ...(data.staticResources ? ['resources/list'] : []),
  ];
  if (era === 'modern' || era === 'modern-without-discover') {
    const first = era === 'modern' ? [{ id: 1, method: 'server/discover', params: { _meta: ENVELOPE } }] : [];
    const rest = lists.map((method, i) => ({ id: i + 2, method, params: { _meta: ENVELOPE } }));
    const all = [...first, ...rest];
    return { text: all.map(line).join(''), ids: all.map((m) => m.id) };
  }
  const requests = [...lists, 'ping'].map((method, i) => ({ id: i + 2, method }));
  return {
    text: [
      line({
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: era,
          capabilities: {},
          clientInfo: { name: 'quick-start-test', version: '1' },
        },
      }),
      line({ method: 'notifications/initialized' }),
      ...requests.map(line),
    ].join(''),
    ids: [1, ...requests.map((r) => r.id)],
  };
}

function start(bin: string, args: string[], env: Record<string, string>, quick: boolean): RawServer {
  return spawnRaw(bin, {
    args,
    configDir: dirs.path,
    dataDir: dirs.path,
    env: { SWITCHYARD_LOG_LEVEL: 'debug', ...env, SWITCHYARD_QUICK_START: quick ? 'on' : 'off' },
  });
}

async function answers(server: RawServer, ids: number[]): Promise<string[]> {
  for (const id of ids) await server.answer((m) => m.id === id);
  return [...server.lines()].sort();
}

const ANSWERED = 'quick start: the opening is answered from the build';
const LOADING = 'needs the server; loading it';

describe.each(servers)('$name', ({ bin, data }) => {
  const optIn = data.toolsets.filter((s) => s.enabledBy).map((s) => s.id);
  const configs: Array<[string, string[], Record<string, string>]> = [
    ['no options', [], {}],
    ['--read-only', ['--read-only'], {}],
    ['one toolset', [`--toolsets=${data.toolsets[0]!.id}`], {}],
    ['every switch on', data.switches.map((s) => s.flags), {}],
    [
      'modes from the environment',
      [],
      {
        [`${data.envPrefix}_READ_ONLY`]: 'true',
        SWITCHYARD_TOOLSETS: data.toolsets
          .filter((s) => s.default && !optIn.includes(s.id))
          .map((s) => s.id)
          .join(','),
      },
    ],
  ];
  const cases = [
    ...configs.flatMap(([label, args, env]) =>
      ['2025-11-25', 'modern'].map((era) => [`${label}, ${era}`, args, env, era] as const),
    ),
    ['no options, 2024-11-05', [], {}, '2024-11-05'] as const,
    ['no options, 2026-07-28 without server/discover', [], {}, 'modern-without-discover'] as const,
  ];

  it.each(cases)(
    'answers the opening as the server does, without loading it (%s)',
    async (_label, args, env, era) => {
      const opening = openingOf(data, era);
      const full = start(bin, [...args], env, false);
      const quick = start(bin, [...args], env, true);
      try {
        await Promise.all([full.write(opening.text), quick.write(opening.text)]);
        const [fromServer, fromQuick] = await Promise.all([
          answers(full, opening.ids),
          answers(quick, opening.ids),
        ]);
        expect(fromServer.length).toBe(opening.ids.length);
        expect(fromQuick).toEqual(fromServer);
        expect(quick.stderr()).toContain(ANSWERED);
        expect(quick.stderr()).not.toContain(LOADING);
        // The start-up lines are the server's own, once each.
        const serving = (s: RawServer) => s.stderr().match(/serving \d+ tools over stdio/g);
        expect(serving(quick)).toEqual(serving(full));
      } finally {
        await Promise.all([full.close(), quick.close()]);
      }
    },
  );

  it('hands the session to the server on the first message it needs, and nothing is answered twice', async () => {
    const server = start(bin, [], {}, true);
    try {
      const opening = openingOf(data, '2025-11-25');
      await server.write(opening.text);
      for (const id of opening.ids) await server.answer((m) => m.id === id);
      expect(server.stderr()).not.toContain(LOADING);
      // A host's next messages, in one write: a call, a resource list, a ping.
      await server.write(
        [
          line({ id: 10, method: 'tools/call', params: { name: 'no_such_tool', arguments: {} } }),
          line({ id: 11, method: 'resources/list' }),
          line({ id: 12, method: 'ping' }),
        ].join(''),
      );
      const call = await server.answer((m) => m.id === 10);
      expect(JSON.stringify(call)).toContain("Unknown tool 'no_such_tool'");
      expect(await server.answer((m) => m.id === 11)).toMatchObject({
        result: {
          resources: expect.arrayContaining([expect.objectContaining({ uri: 'switchyard://toolsets' })]),
        },
      });
      expect(await server.answer((m) => m.id === 12)).toMatchObject({ result: {} });
      expect(server.stderr()).toContain(`tools/call ${LOADING}`);
      // Give a second answer to an early id time to show up, if one were coming.
      await server.write(line({ id: 13, method: 'ping' }));
      await server.answer((m) => m.id === 13);
      const ids = server.messages().map((m) => m.id);
      expect(ids.filter((id) => id === 1 || id === 2)).toEqual([1, 2]);
      expect(new Set(ids).size).toBe(ids.length);
      expect(server.stderr().match(/serving \d+ tools over stdio/g)).toHaveLength(1);
    } finally {
      expect(await server.close()).toBe(0);
    }
  });

  it('takes a whole session written at once, the opening and a call in one chunk', async () => {
    const server = start(bin, [], {}, true);
    try {
      const opening = openingOf(data, 'modern');
      await server.write(
        opening.text +
          line({
            id: 20,
            method: 'tools/call',
            params: { name: 'no_such_tool', arguments: {}, _meta: ENVELOPE },
          }),
      );
      for (const id of [...opening.ids, 20]) await server.answer((m) => m.id === id);
      const ids = server.messages().map((m) => m.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(JSON.stringify(server.messages().find((m) => m.id === 20))).toContain(
        "Unknown tool 'no_such_tool'",
      );
    } finally {
      expect(await server.close()).toBe(0);
    }
  });

  it('leaves at once when the host closes the session before anything needs the server', async () => {
    const server = start(bin, [], {}, true);
    const opening = openingOf(data, '2025-11-25');
    await server.write(opening.text);
    for (const id of opening.ids) await server.answer((m) => m.id === id);
    const began = Date.now();
    expect(await server.close()).toBe(0);
    expect(Date.now() - began).toBeLessThan(5_000);
    expect(server.stderr()).not.toContain(LOADING);
  });

  it('leaves an unknown option to the server, which says what is wrong', async () => {
    const server = start(bin, ['--no-such-option'], {}, true);
    expect(await server.close()).not.toBe(0);
    expect(server.stderr()).toContain("unknown option '--no-such-option'");
    expect(server.stderr()).not.toContain(ANSWERED);
  });
});

describe('lakehouse-mcp', () => {
  const bin = servers.find((s) => s.name === 'lakehouse-mcp')!.bin;

  it('leaves a start with an option that shapes the opening to the server (the default tenant is in the instructions)', async () => {
    const server = start(bin, [], { LAKEHOUSE_TENANT: 'acme' }, true);
    try {
      await server.write(openingOf(servers.find((s) => s.name === 'lakehouse-mcp')!.data, '2025-11-25').text);
      const init = await server.answer((m) => m.id === 1);
      expect((init.result as { instructions: string }).instructions).toContain("tenant 'acme' by default");
      expect(server.stderr()).not.toContain(ANSWERED);
    } finally {
      expect(await server.close()).toBe(0);
    }
  });

  it('answers what waits with the one sentence that stopped the server, and exits as a failed start does', async () => {
    const env = { LAKEHOUSE_TENANTS_BY_CALLER: '{not json' };
    const server = start(bin, [], env, true);
    const opening = openingOf(servers.find((s) => s.name === 'lakehouse-mcp')!.data, '2025-11-25');
    await server.write(opening.text);
    for (const id of opening.ids) await server.answer((m) => m.id === id);
    await server.write(
      line({ id: 30, method: 'tools/call', params: { name: 'lakehouse_list_tables', arguments: {} } }),
    );
    const failed = await server.answer((m) => m.id === 30);
    expect(failed).toMatchObject({
      error: {
        code: -32603,
        message: expect.stringMatching(
          /^lakehouse-mcp could not start: LAKEHOUSE_TENANTS_BY_CALLER is neither/,
        ),
      },
    });
    expect(await server.close()).toBe(2);
    // The same sentence a start without the quick start ends with.
    const plain = start(bin, [], env, false);
    expect(await plain.close()).toBe(2);
    const sentence = (s: RawServer) =>
      /lakehouse-mcp: (LAKEHOUSE_TENANTS_BY_CALLER[^\n]*)/.exec(s.stderr())?.[1];
    expect(sentence(server)).toBe(sentence(plain));
    expect(sentence(server)).toBeDefined();
  });
});
