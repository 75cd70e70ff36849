// The one lifecycle of a test file that talks to a server: its fakes, its folders, the built bin spawned over
// stdio with the SDK client, and the cleanup. A file says what world it needs and reads `t.server`, `t.world` and
// `t.dirs` in its tests. Its own entry point (`@switchyard/testkit/server-test`) because it registers vitest
// hooks, which scripts outside a test run (bench/) must not load.
import { afterAll, beforeAll } from 'vitest';
import type { ConnectOptions } from '@switchyard/core/client';
import { serverFolders, spawnServer, type ServerFolders, type SpawnedServer } from './spawn.js';

/** How a server is started: its command line and env (beside the world's folders). */
export interface ServerSpec {
  args?: string[];
  env?: Record<string, string | undefined>;
  /** Let the server use the real OS keychain. */
  keychain?: boolean;
  cwd?: string;
  sampling?: ConnectOptions['sampling'];
  /** Answer the server's form elicitations (confirmations) as a host's user would. */
  elicit?: ConnectOptions['elicit'];
  /** The protocol era the client speaks (default `legacy`). */
  era?: ConnectOptions['era'];
}

export interface SpawnSpec extends ServerSpec {
  configDir?: string;
  dataDir?: string;
  isolated?: boolean;
}

export interface ServerTestContext<W, F extends string> {
  /** What `world` started: the fakes, seeded. */
  readonly world: W;
  /** The file's folders: `configDir` and `dataDir` the server uses, and one per name in `folders`. */
  readonly dirs: ServerFolders<F>;
}

export interface ServerTestOptions<W, F extends string> {
  /** The built bin (`dist/bin.js`). */
  bin: string;
  /** Start the fakes the server talks to; each is closed (`close()`) after the file's last test. */
  world?: () => Promise<W>;
  /** Named folders beside the config and data folders (a home, an allowed root), removed with them. */
  folders?: readonly F[];
  /** After the world and folders exist, before the server starts: seed the fakes, sign in through the CLI. */
  prepare?: (context: ServerTestContext<W, F>) => Promise<void> | void;
  /** How the file's server starts; `false` when the file only starts its own with `spawn`. */
  server?: ServerSpec | ((context: ServerTestContext<W, F>) => ServerSpec) | false;
}

export interface ServerTest<W, F extends string> extends ServerTestContext<W, F> {
  /** The file's server, connected. */
  readonly server: SpawnedServer;
  /**
   * Another server of the same bin, closed with the file's: on the file's folders, on the ones given, or with
   * `isolated` on new ones of its own (another machine).
   */
  spawn(spec?: SpawnSpec): Promise<SpawnedServer>;
}

/**
 * Register the `beforeAll`/`afterAll` of a file (or of the `describe` it is called in) that needs a world and a
 * server, and return the handle its tests read. Reading `server`, `world` or `dirs` before the hook ran throws.
 */
export function serverTest<W = undefined, F extends string = never>(
  options: ServerTestOptions<W, F>,
): ServerTest<W, F> {
  let world: W | undefined;
  let dirs: ServerFolders<F> | undefined;
  let server: SpawnedServer | undefined;
  const servers: SpawnedServer[] = [];
  let started = false;
  const ready = <T>(value: T | undefined, what: 'world' | 'dirs' | 'server'): T => {
    if (value !== undefined || (what === 'world' && !options.world && started)) return value as T;
    if (what === 'server' && options.server === false && started)
      throw new Error('this serverTest starts no server (server: false): start one with its spawn()');
    throw new Error(`serverTest's ${what} is made in its beforeAll: read it inside a test or a hook`);
  };
  const context: ServerTestContext<W, F> = {
    get world() {
      return ready(world, 'world');
    },
    get dirs() {
      return ready(dirs, 'dirs');
    },
  };
  const spawn = async (spec: SpawnSpec = {}) => {
    const started = await spawnServer(options.bin, {
      ...(spec.isolated
        ? {}
        : {
            configDir: spec.configDir ?? ready(dirs, 'dirs').configDir,
            dataDir: spec.dataDir ?? ready(dirs, 'dirs').dataDir,
          }),
      ...(spec.args ? { args: spec.args } : {}),
      ...(spec.env ? { env: spec.env } : {}),
      ...(spec.keychain ? { keychain: true } : {}),
      ...(spec.cwd ? { cwd: spec.cwd } : {}),
      ...(spec.sampling ? { sampling: spec.sampling } : {}),
      ...(spec.elicit ? { elicit: spec.elicit } : {}),
      ...(spec.era ? { era: spec.era } : {}),
    });
    servers.push(started);
    return started;
  };

  beforeAll(async () => {
    started = true;
    dirs = serverFolders(options.folders ?? []);
    if (options.world) world = await options.world();
    await options.prepare?.(context);
    if (options.server === false) return;
    const spec = typeof options.server === 'function' ? options.server(context) : (options.server ?? {});
    server = await spawn(spec);
  });

  afterAll(async () => {
    for (const started of servers.splice(0)) await started.close();
    const closable = world as { close?: () => Promise<void> | void } | undefined;
    await closable?.close?.();
    dirs?.cleanup();
  });

  return {
    get world() {
      return context.world;
    },
    get dirs() {
      return context.dirs;
    },
    get server() {
      return ready(server, 'server');
    },
    spawn,
  };
}
