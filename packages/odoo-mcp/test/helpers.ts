import { fileURLToPath } from 'node:url';
import { spawnServer, type SpawnedServer } from '@switchyard/testkit';
import { serverTest, type ServerTest, type ServerTestContext } from '@switchyard/testkit/server-test';
import { FakeOdoo, type FakeOdooOptions } from './fake/odoo.js';

export const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
export const readme = fileURLToPath(new URL('../README.md', import.meta.url));

/**
 * The Odoo versions the servers' tests run against, each with the protocol odoo-mcp picks for it: 17 and 18 speak
 * JSON-RPC (no /web/version, so common.version tells the version), 19 and 20 JSON-2 (20 keeps JSON-RPC's object
 * service off unless rpc.use_deprecated_services is set).
 */
export const PROTOCOLS = [
  { version: '17.0', protocol: 'jsonrpc' as const },
  { version: '18.0', protocol: 'jsonrpc' as const },
  { version: '19.0', protocol: 'json2' as const },
  { version: '20.0', protocol: 'json2' as const },
];

export type Who = 'admin' | 'sales' | 'notz';

const LOGINS: Record<Who, string> = { admin: 'admin', sales: 'sales.bot@acme.test', notz: 'no.tz@acme.test' };

/** The environment that points a server at the fake as a given user. */
export function hostEnv(fake: FakeOdoo, who: Who = 'admin', extra: Record<string, string | undefined> = {}) {
  const key = who === 'admin' ? fake.adminKey : who === 'sales' ? fake.salesKey : fake.notzKey;
  return {
    ODOO_URL: fake.url,
    ODOO_DB: 'acme',
    ODOO_USERNAME: LOGINS[who],
    ODOO_API_KEY: key,
    SWITCHYARD_LOG_LEVEL: 'debug',
    ...extra,
  };
}

/** Who a server signs in as, and its args and env beside the fake's address and key. */
export interface OdooSpec {
  who?: Who;
  env?: Record<string, string | undefined>;
  args?: string[];
}

export function spawnOdoo(fake: FakeOdoo, options: OdooSpec = {}): Promise<SpawnedServer> {
  return spawnServer(bin, { env: hostEnv(fake, options.who, options.env), args: options.args ?? [] });
}

/** A test file's (or describe's) fake Odoo of a version, seeded, with folders and a server signed in to it. */
export function withWorld<F extends string = never>(
  options: FakeOdooOptions & {
    /** Change the fake's data or rules before the server starts. */
    seed?: (fake: FakeOdoo) => void | Promise<void>;
    folders?: readonly F[];
    /** `false`: the file starts its own servers. */
    server?: OdooSpec | ((context: ServerTestContext<FakeOdoo, F>) => OdooSpec) | false;
  } = {},
): ServerTest<FakeOdoo, F> {
  const { seed, folders, server, ...fakeOptions } = options;
  return serverTest<FakeOdoo, F>({
    bin,
    world: async () => {
      const fake = await FakeOdoo.start(fakeOptions);
      await seed?.(fake);
      return fake;
    },
    ...(folders ? { folders } : {}),
    server:
      server === false
        ? false
        : (context) => {
            const spec = typeof server === 'function' ? server(context) : (server ?? {});
            return { args: spec.args ?? [], env: hostEnv(context.world, spec.who, spec.env) };
          },
  });
}

/** The CSV inside the untrusted fence of a tool's text. */
export function fenced(text: string): string {
  const m = /\[BEGIN UNTRUSTED Odoo data (\w+)[^\n]*\]\n([\s\S]*?)\n\[END UNTRUSTED Odoo data \1\]/.exec(
    text,
  );
  if (!m) throw new Error(`no fenced data in: ${text}`);
  return m[2]!;
}
