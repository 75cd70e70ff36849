import { readFile } from 'node:fs/promises';
import {
  AuthError,
  commandHint,
  AzureSignIn,
  authorityHostFor,
  decodeJwtClaims,
  parseCertificate,
  suppliedToken,
  UserInputError,
  type AzureToken,
  type Caller,
  type Logger,
  type SecretStore,
} from '@switchyard/core';

export type Cloud = 'public' | 'usgov' | 'china';
export const CLOUD_NAMES: Cloud[] = ['public', 'usgov', 'china'];

/** The Power BI endpoints of each cloud: the REST base and the resource (token audience, scope prefix). */
export const CLOUDS: Record<Cloud, { apiUrl: string; resource: string }> = {
  public: {
    apiUrl: 'https://api.powerbi.com/v1.0/myorg',
    resource: 'https://analysis.windows.net/powerbi/api',
  },
  usgov: {
    apiUrl: 'https://api.powerbigov.us/v1.0/myorg',
    resource: 'https://analysis.usgovcloudapi.net/powerbi/api',
  },
  china: {
    apiUrl: 'https://api.powerbi.cn/v1.0/myorg',
    resource: 'https://analysis.chinacloudapi.cn/powerbi/api',
  },
};

export interface Endpoints {
  cloud: Cloud;
  apiUrl: string;
  authorityHost: string;
  /** The token audience; scopes are `<resource>/<Permission>` or `<resource>/.default`. */
  resource: string;
}

/** The endpoints for a cloud; `POWERBI_API_URL`, `AZURE_AUTHORITY_HOST` and `POWERBI_RESOURCE` override. */
export function endpointsFor(cloud: Cloud, env: NodeJS.ProcessEnv): Endpoints {
  return {
    cloud,
    apiUrl: (env.POWERBI_API_URL || CLOUDS[cloud].apiUrl).replace(/\/+$/, ''),
    authorityHost: authorityHostFor(cloud, env),
    resource: (env.POWERBI_RESOURCE || CLOUDS[cloud].resource).replace(/\/+$/, ''),
  };
}

export const READ_PERMISSIONS = ['Workspace.Read.All', 'Dataset.Read.All', 'Report.Read.All'];
export const WRITE_PERMISSION = 'Dataset.ReadWrite.All';

/** The delegated scopes a device-code sign-in asks for. */
export function delegatedScopes(resource: string, readOnly: boolean): string[] {
  const permissions = readOnly ? READ_PERMISSIONS : [...READ_PERMISSIONS, WRITE_PERMISSION];
  return permissions.map((p) => `${resource}/${p}`);
}

/** The keychain service of a profile: secrets of different profiles never mix. */
export function secretService(profile: string): string {
  return `switchyard/powerbi/${profile}`;
}

export const ACCOUNTS = {
  config: 'config',
  secret: 'client-secret',
  certificate: 'client-certificate',
  tokenCache: 'msal-token-cache',
} as const;

/** What `login` stores (in the secret store, beside the secret): how to sign in again without asking. */
export interface StoredSignIn {
  method: 'service_principal' | 'device_code';
  tenantId: string;
  clientId: string;
  cloud: Cloud;
  /** Service principal: which credential is stored. */
  credential?: 'secret' | 'certificate';
  /** Device code: the account that signed in, and whether write scopes were left out. */
  username?: string;
  readOnly?: boolean;
  savedAt: string;
}

export type SignInMethod = 'supplied_token' | 'service_principal' | 'device_code' | 'on_behalf_of';

/** A usable sign-in: how it was made, who it is, and how to get a token. */
export interface Credential {
  method: SignInMethod;
  /** Where it came from, in words ("env POWERBI_CLIENT_SECRET", "the keychain"). */
  source: string;
  /** Who calls Power BI: a user's UPN or "service principal <client id>". */
  identity: string;
  /** A user signed in over HTTP (`user:<tenant>:<object id>`): what is kept per identity is kept under this. */
  caller?: string;
  isServicePrincipal: boolean;
  /** False when the sign-in cannot start refreshes (device code with --read-only). */
  canWrite: boolean;
  tenantId: string | undefined;
  clientId: string | undefined;
  endpoints: Endpoints;
  token(options: { forceRefresh: boolean }): Promise<AzureToken>;
  /** What to do when Power BI refuses this sign-in's token. */
  reauthHint: string;
}

export interface AuthOptions {
  /** The bin name, for hints (`powerbi-mcp login`). */
  cliName: string;
  env: NodeJS.ProcessEnv;
  profile: string;
  /** `--cloud` / `POWERBI_CLOUD`, when given; otherwise the stored sign-in's cloud, or public. */
  cloud: Cloud | undefined;
  secrets: () => SecretStore;
  log: Logger;
}

/** Read a `--cloud` / `POWERBI_CLOUD` value. */
export function parseCloud(value: unknown): Cloud | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const v = String(value).toLowerCase();
  if (!(CLOUD_NAMES as string[]).includes(v)) {
    throw new UserInputError(`Unknown cloud '${String(value)}'; use one of ${CLOUD_NAMES.join(', ')}`);
  }
  return v as Cloud;
}

/**
 * Finds the sign-in to use, in this order: a supplied token (`POWERBI_ACCESS_TOKEN`), a service principal
 * from the environment, then what `login` stored for the profile. Nothing happens until the first call:
 * a server without credentials still starts and lists its tools.
 */
export class PowerBiAuth {
  private resolved: Promise<Credential> | undefined;

  constructor(private readonly options: AuthOptions) {}

  /** `powerbi-mcp login`, with the profile when it is not the default one. */
  loginCommand(extra = ''): string {
    const profile = this.options.profile === 'default' ? '' : ` --profile ${this.options.profile}`;
    return `\`${commandHint(`${this.options.cliName} login${extra ? ` ${extra}` : ''}${profile}`)}\``;
  }

  get profile(): string {
    return this.options.profile;
  }

  /** The sign-in, resolved once; a failure is not remembered, so signing in later works without a restart. */
  credential(): Promise<Credential> {
    const pending = (this.resolved ??= this.resolve());
    pending.catch(() => {
      if (this.resolved === pending) this.resolved = undefined;
    });
    return pending;
  }

  notSignedIn(): AuthError {
    return new AuthError('Not signed in to Power BI', {
      hint: `Run ${this.loginCommand()} (a user, by device code) or ${this.loginCommand('--service-principal')}, or give the server POWERBI_TENANT_ID, POWERBI_CLIENT_ID and POWERBI_CLIENT_SECRET (or POWERBI_ACCESS_TOKEN) in its environment`,
    });
  }

  /** What `login` stored for this profile, if anything. */
  async stored(): Promise<StoredSignIn | undefined> {
    const raw = await this.options.secrets().get(secretService(this.options.profile), ACCOUNTS.config);
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as StoredSignIn;
    } catch {
      throw new AuthError(`The stored sign-in of profile '${this.options.profile}' is damaged`, {
        hint: `Run ${this.loginCommand()} again`,
      });
    }
  }

  private async resolve(): Promise<Credential> {
    const { env } = this.options;
    const supplied = env.POWERBI_ACCESS_TOKEN?.trim();
    if (supplied) return this.suppliedCredential(supplied);

    const secret = env.POWERBI_CLIENT_SECRET;
    const certificatePath = env.POWERBI_CLIENT_CERTIFICATE;
    if (secret || certificatePath) {
      const missing = ['POWERBI_TENANT_ID', 'POWERBI_CLIENT_ID'].filter((k) => !env[k]);
      const given = secret ? 'POWERBI_CLIENT_SECRET' : 'POWERBI_CLIENT_CERTIFICATE';
      if (missing.length > 0) {
        throw new AuthError(
          `${given} is set but ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not`,
          {
            hint: 'Set the directory (tenant) id and the application (client) id of the app registration too',
          },
        );
      }
      return this.servicePrincipal({
        tenantId: env.POWERBI_TENANT_ID!,
        clientId: env.POWERBI_CLIENT_ID!,
        cloud: this.options.cloud ?? 'public',
        ...(secret
          ? { clientSecret: secret, source: 'env POWERBI_CLIENT_SECRET' }
          : {
              certificatePem: await readCertificate(certificatePath!),
              source: `the certificate ${certificatePath} (env POWERBI_CLIENT_CERTIFICATE)`,
            }),
      });
    }

    const stored = await this.stored();
    if (!stored) throw this.notSignedIn();
    const service = secretService(this.options.profile);
    const cloud = this.options.cloud ?? stored.cloud ?? 'public';
    if (stored.method === 'service_principal') {
      const account = stored.credential === 'certificate' ? ACCOUNTS.certificate : ACCOUNTS.secret;
      const value = await this.options.secrets().get(service, account);
      if (!value) {
        throw new AuthError(
          `The stored service principal of profile '${this.options.profile}' has no ${stored.credential ?? 'secret'}`,
          { hint: `Run ${this.loginCommand('--service-principal')} again` },
        );
      }
      return this.servicePrincipal({
        tenantId: stored.tenantId,
        clientId: stored.clientId,
        cloud,
        source: 'the stored sign-in (login --service-principal)',
        ...(stored.credential === 'certificate' ? { certificatePem: value } : { clientSecret: value }),
      });
    }
    return this.delegated(stored, cloud);
  }

  private suppliedCredential(raw: string): Credential {
    const token = suppliedToken(raw);
    const claims = decodeJwtClaims(raw) ?? {};
    const isApp = claims.idtyp === 'app' || (!claims.upn && !claims.scp && !claims.preferred_username);
    const scopes = typeof claims.scp === 'string' ? claims.scp.split(' ') : [];
    const endpoints = endpointsFor(this.options.cloud ?? 'public', this.options.env);
    const identity = isApp
      ? `service principal ${String(claims.appid ?? claims.azp ?? '(unknown app)')}`
      : (token.account?.username ?? 'the supplied token');
    const reauthHint = `Put a fresh token for ${endpoints.resource} in POWERBI_ACCESS_TOKEN and restart the server, or unset it and use ${this.loginCommand()}`;
    return {
      method: 'supplied_token',
      source: 'env POWERBI_ACCESS_TOKEN',
      identity,
      isServicePrincipal: isApp,
      canWrite: isApp || scopes.length === 0 || scopes.includes(WRITE_PERMISSION),
      tenantId: typeof claims.tid === 'string' ? claims.tid : undefined,
      clientId: typeof claims.appid === 'string' ? claims.appid : undefined,
      endpoints,
      reauthHint,
      token: async () => {
        if (token.expiresOn && token.expiresOn.getTime() <= Date.now()) {
          throw new AuthError(
            `The token in POWERBI_ACCESS_TOKEN expired at ${token.expiresOn.toISOString()}`,
            { hint: reauthHint },
          );
        }
        return token;
      },
    };
  }

  private servicePrincipal(sp: {
    tenantId: string;
    clientId: string;
    cloud: Cloud;
    source: string;
    clientSecret?: string;
    certificatePem?: string;
  }): Credential {
    const endpoints = endpointsFor(sp.cloud, this.options.env);
    const signIn = this.signIn(sp.clientId, sp.tenantId, endpoints);
    const scopes = [`${endpoints.resource}/.default`];
    return {
      method: 'service_principal',
      source: sp.source,
      identity: `service principal ${sp.clientId}`,
      isServicePrincipal: true,
      canWrite: true,
      tenantId: sp.tenantId,
      clientId: sp.clientId,
      endpoints,
      reauthHint: `Check that the app registration lives in the Power BI tenant and cloud (${sp.cloud}), and that its secret or certificate is current`,
      token: ({ forceRefresh }) =>
        signIn.clientCredentials({
          scopes,
          forceRefresh,
          ...(sp.clientSecret ? { clientSecret: sp.clientSecret } : {}),
          ...(sp.certificatePem ? { certificatePem: sp.certificatePem } : {}),
        }),
    };
  }

  private delegated(stored: StoredSignIn, cloud: Cloud): Credential {
    const endpoints = endpointsFor(cloud, this.options.env);
    const signIn = this.signIn(stored.clientId, stored.tenantId, endpoints);
    const scopes = delegatedScopes(endpoints.resource, stored.readOnly === true);
    return {
      method: 'device_code',
      source: 'the stored sign-in (login, device code)',
      identity: stored.username ?? 'the signed-in user',
      isServicePrincipal: false,
      canWrite: stored.readOnly !== true,
      tenantId: stored.tenantId,
      clientId: stored.clientId,
      endpoints,
      reauthHint: `Run ${this.loginCommand()} again`,
      token: ({ forceRefresh }) =>
        signIn.silent({ scopes, forceRefresh, ...(stored.username ? { username: stored.username } : {}) }),
    };
  }

  /**
   * The sign-in of a user signed in over HTTP: Power BI as that user, with tokens from the on-behalf-of exchange
   * (core's `Caller`), never the server's own sign-in. The delegated scopes a device-code sign-in asks for, the
   * write one only for a call that writes: a user who consented to reading only can still read. Endpoints are the
   * public cloud's unless `--cloud` / `POWERBI_CLOUD` or the URL variables say otherwise (not the stored sign-in's).
   */
  forCaller(caller: Caller, options: { write: boolean }): Credential {
    const endpoints = endpointsFor(this.options.cloud ?? 'public', this.options.env);
    const scopes = delegatedScopes(endpoints.resource, !options.write);
    return {
      method: 'on_behalf_of',
      source: 'the user signed in over HTTP (on-behalf-of exchange)',
      identity: caller.username ?? caller.id,
      caller: caller.id,
      isServicePrincipal: false,
      canWrite: options.write,
      tenantId: caller.id.split(':')[1],
      clientId: undefined,
      endpoints,
      reauthHint:
        "Sign in again in the application that called this server; if Power BI still refuses, check that the server's app registration has the delegated Power BI permissions (Workspace.Read.All, Dataset.Read.All, Report.Read.All, and Dataset.ReadWrite.All to refresh)",
      token: ({ forceRefresh }) => caller.token(scopes, forceRefresh),
    };
  }

  /** Core's Azure AD sign-in for this profile; the delegated token cache lives in the secret store. */
  signIn(clientId: string, tenantId: string, endpoints: Endpoints): AzureSignIn {
    return new AzureSignIn({
      clientId,
      tenantId,
      authorityHost: endpoints.authorityHost,
      secrets: this.options.secrets(),
      cacheService: secretService(this.options.profile),
      cacheAccount: ACCOUNTS.tokenCache,
      loginHint: `Run ${this.loginCommand()}`,
      log: this.options.log,
    });
  }
}

/** A PEM file holding the certificate and its private key, checked before it is used or stored. */
export async function readCertificate(path: string): Promise<string> {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (err) {
    throw new UserInputError(
      `Cannot read the certificate file ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      { hint: 'Pass the path of a PEM file that holds the certificate and its private key' },
    );
  }
  parseCertificate(pem);
  return pem;
}
