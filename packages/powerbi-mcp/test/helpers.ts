import { fileURLToPath } from 'node:url';
import { generate } from 'selfsigned';
import { FakeAuthority } from '@switchyard/testkit';
import { serverTest, type ServerTest, type ServerTestContext } from '@switchyard/testkit/server-test';
import { FakePowerBi } from './fake/index.js';

/** The built bin, as hosts run it. */
export const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
export const packageDir = fileURLToPath(new URL('..', import.meta.url));

export const TENANT = '11111111-2222-3333-4444-555555555555';
export const SP = { clientId: '0a5e0000-0000-4000-8000-00000000aa01', secret: 'sp-secret-Zq8~value-0001' };
export const CERT_APP = '0a5e0000-0000-4000-8000-00000000cc01';
export const PUBLIC_APP = '0a5e0000-0000-4000-8000-00000000bb01';
export const ALICE = 'alice@contoso.com';
export const VIEWER = 'victor@contoso.com';

export interface World {
  authority: FakeAuthority;
  pbi: FakePowerBi;
  certificatePem: string;
  close(): Promise<void>;
}

/** A fake Azure AD with a service principal (secret and certificate), a public client and two users, and a fake Power BI. */
export async function startWorld(): Promise<World> {
  const authority = await FakeAuthority.start();
  const pems = await generate([{ name: 'commonName', value: 'powerbi-mcp-test' }], {
    keySize: 2048,
    algorithm: 'sha256',
  });
  authority.addApp({ clientId: SP.clientId, clientSecret: SP.secret });
  authority.addApp({ clientId: CERT_APP, certificatePem: pems.cert });
  authority.addApp({ clientId: PUBLIC_APP });
  authority.addUser({ username: ALICE, name: 'Alice', tenantId: TENANT });
  authority.addUser({ username: VIEWER, name: 'Victor', tenantId: TENANT });
  const pbi = await FakePowerBi.start(authority);
  pbi.grant(SP.clientId, 'Member').grant(CERT_APP, 'Viewer').grant(ALICE, 'Member').grant(VIEWER, 'Viewer');
  return {
    authority,
    pbi,
    certificatePem: `${pems.cert}\n${pems.private}`,
    close: async () => {
      await pbi.close();
      await authority.close();
    },
  };
}

/** The server's env for the fakes: endpoints, and the service principal unless told otherwise. */
export function hostEnv(
  f: World,
  extra: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    POWERBI_API_URL: f.pbi.apiUrl,
    AZURE_AUTHORITY_HOST: f.authority.host,
    POWERBI_TENANT_ID: TENANT,
    POWERBI_CLIENT_ID: SP.clientId,
    POWERBI_CLIENT_SECRET: SP.secret,
    ...extra,
  };
}

/** How a file's server runs: args and env beside the fakes' endpoints and the service principal. */
type Spec = { args?: string[]; env?: Record<string, string | undefined>; era?: 'legacy' | 'modern' };

/** A test file's world (fake Azure AD and Power BI, seeded), folders and server, cleaned up after it. */
export function withWorld<F extends string = never>(
  options: {
    /** Change the fakes before the server starts. */
    seed?: (world: World) => void | Promise<void>;
    folders?: readonly F[];
    /** `false`: the file starts its own servers (`t.spawn`). */
    server?: Spec | ((context: ServerTestContext<World, F>) => Spec) | false;
  } = {},
): ServerTest<World, F> {
  const server = options.server;
  return serverTest<World, F>({
    bin,
    world: async () => {
      const world = await startWorld();
      await options.seed?.(world);
      return world;
    },
    ...(options.folders ? { folders: options.folders } : {}),
    server:
      server === false
        ? false
        : (context) => {
            const spec = typeof server === 'function' ? server(context) : (server ?? {});
            return {
              ...(spec.args ? { args: spec.args } : {}),
              ...(spec.era ? { era: spec.era } : {}),
              env: hostEnv(context.world, spec.env),
            };
          },
  });
}

/** Request ids differ per run: replace them so answers can be compared whole. */
export function stable(text: string): string {
  return text.replace(/request id [0-9a-f-]{36}/g, 'request id <id>');
}
