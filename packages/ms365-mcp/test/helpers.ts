import { fileURLToPath } from 'node:url';
import {
  FakeAuthority,
  isolatedEnv,
  runBin,
  spawnServer,
  tempDir,
  type CommandResult,
  type SpawnedServer,
} from '@switchyard/testkit';
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

export interface Folders {
  configDir: string;
  dataDir: string;
  /** The served bin's HOME, so that `~` and the default ~/Downloads/ms365-mcp never reach the real one. */
  home: string;
  cleanup(): void;
}

export function folders(): Folders {
  const config = tempDir('ms365-config-');
  const data = tempDir('ms365-data-');
  const home = tempDir('ms365-home-');
  return {
    configDir: config.path,
    dataDir: data.path,
    home: home.path,
    cleanup: () => {
      config.cleanup();
      data.cleanup();
      home.cleanup();
    },
  };
}

/** `ms365-mcp login` through the built bin, approved in the fake authority as `username`. */
export async function login(
  world: World,
  dirs: Folders,
  options: { username?: string; args?: string[]; env?: Record<string, string | undefined> } = {},
): Promise<CommandResult> {
  world.authority.autoApproveAs = options.username ?? ALICE;
  try {
    return await runBin(bin, ['login', ...(options.args ?? [])], {
      env: isolatedEnv({
        configDir: dirs.configDir,
        dataDir: dirs.dataDir,
        env: hostEnv(world, options.env),
      }),
      timeoutMs: 60_000,
    });
  } finally {
    world.authority.autoApproveAs = undefined;
  }
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
