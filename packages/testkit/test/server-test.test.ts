// The serverTest fixture against core's example server: a world, folders and a connected server while the
// tests run, all of it gone after; and a sentence, not undefined, for a handle read too early.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FakeService } from '@switchyard/testkit';
import { serverTest } from '@switchyard/testkit/server-test';

const bin = fileURLToPath(new URL('../../core/test/fixtures/example-server.mjs', import.meta.url));

const seen: { dirs?: string[]; url?: string; pids?: Array<number | null> } = {};

describe('a file with a world and a server', () => {
  const t = serverTest({
    bin,
    world: () => FakeService.start('world'),
    folders: ['home'],
    prepare: ({ world, dirs }) => {
      world.route('GET', '/ready', () => ({ body: { home: dirs.home } }));
    },
    server: ({ dirs }) => ({ env: { HOME: dirs.home } }),
  });

  // What a file that reads a handle at its top level (outside a test or hook) meets.
  const early = serverTest({ bin, server: false });
  const tooEarly = [() => early.server, () => early.dirs].map((read) => {
    try {
      read();
      return 'no error';
    } catch (error) {
      return (error as Error).message;
    }
  });

  it('reads an early handle as a sentence', () => {
    expect(tooEarly).toEqual([
      "serverTest's server is made in its beforeAll: read it inside a test or a hook",
      "serverTest's dirs is made in its beforeAll: read it inside a test or a hook",
    ]);
  });

  it('gives the tests a prepared world, the folders and a connected server', async () => {
    const ready = await fetch(`${t.world.url}/ready`);
    expect(await ready.json()).toEqual({ home: t.dirs.home });
    expect([t.dirs.configDir, t.dirs.dataDir, t.dirs.home].every((d) => existsSync(d))).toBe(true);
    expect(t.server.env).toMatchObject({
      SWITCHYARD_CONFIG_DIR: t.dirs.configDir,
      SWITCHYARD_DATA_DIR: t.dirs.dataDir,
      HOME: t.dirs.home,
    });
    const call = await t.server.call('example_list_notes', { limit: 1 });
    expect(call.isError).toBe(false);
    expect(call.structured).toMatchObject({ total: 2 });
    const other = await t.spawn({ isolated: true });
    expect(other.env.SWITCHYARD_CONFIG_DIR).not.toBe(t.dirs.configDir);
    seen.dirs = [t.dirs.configDir, t.dirs.dataDir, t.dirs.home];
    seen.url = t.world.url;
    seen.pids = [t.server.pid, other.pid];
  });
});

describe('a file that starts its own servers', () => {
  const t = serverTest({ bin, server: false });

  it('says so when its server is read', () => {
    expect(() => t.server).toThrow(
      'this serverTest starts no server (server: false): start one with its spawn()',
    );
    expect(t.world).toBeUndefined();
  });
});

describe('after the file', () => {
  it('removed the folders, closed the world and ended every server it started', async () => {
    expect(seen.dirs?.filter((d) => existsSync(d))).toEqual([]);
    await expect(fetch(`${seen.url}/ready`)).rejects.toThrow();
    const alive = (pid: number | null) => {
      try {
        process.kill(pid!, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(seen.pids).toHaveLength(2);
    await expect.poll(() => seen.pids!.filter(alive)).toEqual([]);
  });
});
