import { fileURLToPath } from 'node:url';
import {
  deviceCodeLogin,
  FakeAuthority,
  isolatedEnv,
  runBin,
  serverFolders,
  spawnServer,
  type DeviceCodeLogin,
  type ServerFolders,
  type SpawnedServer,
} from '@switchyard/testkit';
import { serverTest, type ServerTest, type ServerTestContext } from '@switchyard/testkit/server-test';
import { FakeGraph } from './fake/graph.js';

export const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
export const CLIENT_ID = '0f1e2d3c-ms365-test-app';
export const ALICE = 'alice@contoso.com';

export interface World {
  authority: FakeAuthority;
  graph: FakeGraph;
  close(): Promise<void>;
}

/** A fake Azure AD with the test app and Alice, and a fake Graph that trusts its tokens. */
export async function startWorld(): Promise<World> {
  const authority = await FakeAuthority.start();
  authority.addApp({ clientId: CLIENT_ID });
  authority.addUser({ username: ALICE, name: 'Alice Example' });
  const graph = await FakeGraph.start(authority);
  return {
    authority,
    graph,
    close: async () => {
      await graph.close();
      await authority.close();
    },
  };
}

/** The env a host would pass, pointing every upstream at the fakes. */
export function hostEnv(world: World, extra: Record<string, string | undefined> = {}) {
  return {
    MS365_CLIENT_ID: CLIENT_ID,
    MS365_GRAPH_URL: world.graph.url,
    AZURE_AUTHORITY_HOST: world.authority.host,
    MS365_TIMEZONE: 'Europe/Berlin',
    ...extra,
  };
}

export type Folders = ServerFolders<'home'>;

/** One user's machine: config and data folders, and a `home` for the served bin, so that `~` and the default
 * ~/Downloads/ms365-mcp never reach the real one. */
export function folders(): Folders {
  return serverFolders(['home'], 'ms365-');
}

/** `ms365-mcp login` through the built bin, its device code approved in the fake authority as `username`. */
export function login(
  world: World,
  dirs: Pick<Folders, 'configDir' | 'dataDir'>,
  options: { username?: string; args?: string[]; env?: Record<string, string | undefined> } = {},
): Promise<DeviceCodeLogin> {
  return deviceCodeLogin(world.authority, bin, {
    args: options.args ?? [],
    env: isolatedEnv({ configDir: dirs.configDir, dataDir: dirs.dataDir, env: hostEnv(world, options.env) }),
    username: options.username ?? ALICE,
  });
}

export function cli(
  world: World,
  dirs: Folders,
  args: string[],
  env: Record<string, string | undefined> = {},
) {
  return runBin(bin, args, {
    env: isolatedEnv({ configDir: dirs.configDir, dataDir: dirs.dataDir, env: hostEnv(world, env) }),
  });
}

/** A served bin for a signed-in user: login first, then spawn over stdio with the same folders. */
export async function signedInServer(
  world: World,
  dirs: Folders,
  options: {
    username?: string;
    args?: string[];
    env?: Record<string, string | undefined>;
    loginArgs?: string[];
  } = {},
): Promise<SpawnedServer> {
  const result = await login(world, dirs, {
    ...(options.username ? { username: options.username } : {}),
    args: options.loginArgs ?? options.args ?? [],
    ...(options.env ? { env: options.env } : {}),
  });
  if (result.code !== 0) throw new Error(`login failed: ${result.stderr}`);
  return spawnServer(bin, {
    configDir: dirs.configDir,
    dataDir: dirs.dataDir,
    env: hostEnv(world, { HOME: dirs.home, ...options.env }),
    ...(options.args ? { args: options.args } : {}),
  });
}

/** How the file's server starts: its args and env, and the protocol era its client speaks. */
interface ServedSpec {
  args?: string[];
  env?: Record<string, string | undefined>;
  era?: 'legacy' | 'modern';
}

export interface WithWorldOptions<F extends string> {
  /** Seed the fakes (users, mailboxes, drives) before the server starts. */
  seed?: (world: World) => void | Promise<void>;
  /** More named folders beside config, data and home (an allowed root, a download folder). */
  folders?: readonly F[];
  /** Sign in through the CLI before the server starts (the default: as Alice, with the server's args and env). */
  signIn?: { username?: string; args?: string[]; env?: Record<string, string | undefined> } | false;
  /** The served bin's args and env (beside the fakes' endpoints and HOME); `false`: the file starts its own. */
  server?: ServedSpec | ((context: ServerTestContext<World, 'home' | F>) => ServedSpec) | false;
}

/** A test file's world (fake Azure AD and Graph, seeded), folders and signed-in server, cleaned up after it. */
export function withWorld<F extends string = never>(
  options: WithWorldOptions<F> = {},
): ServerTest<World, 'home' | F> {
  let spec: ServedSpec = {};
  return serverTest<World, 'home' | F>({
    bin,
    world: async () => {
      const world = await startWorld();
      await options.seed?.(world);
      return world;
    },
    folders: ['home', ...(options.folders ?? [])],
    prepare: async (context) => {
      if (options.server !== false)
        spec = typeof options.server === 'function' ? options.server(context) : (options.server ?? {});
      if (options.signIn === false) return;
      const signIn = options.signIn ?? {};
      const args = signIn.args ?? spec.args;
      const env = signIn.env ?? spec.env;
      const result = await login(context.world, context.dirs, {
        ...(signIn.username ? { username: signIn.username } : {}),
        ...(args ? { args } : {}),
        ...(env ? { env } : {}),
      });
      if (result.code !== 0) throw new Error(`login failed: ${result.stderr}`);
    },
    server:
      options.server === false
        ? false
        : ({ world, dirs }) => ({
            ...(spec.args ? { args: spec.args } : {}),
            ...(spec.era ? { era: spec.era } : {}),
            env: hostEnv(world, { HOME: dirs.home, ...spec.env }),
          }),
  });
}

/** The port of a local URL replaced, so that sentences compare exactly. */
export function noPort(text: string): string {
  return text.replace(/localhost:\d+/g, 'localhost:PORT');
}

/** GET requests the server sent to Graph without `$select` (raw content and `$value` excepted). */
export function getsWithoutSelect(world: World): string[] {
  return world.graph.service.requests
    .filter(
      (r) =>
        r.method === 'GET' &&
        r.headers['user-agent'] === 'switchyard-ms365-mcp' &&
        r.path.startsWith('/v1.0/') &&
        !/\/(\$value|content)$/.test(r.path) &&
        r.query.$select === undefined,
    )
    .map((r) => r.path);
}
