import { X509Certificate, createPrivateKey } from 'node:crypto';
import type {
  AccountInfo,
  AuthenticationResult,
  Configuration,
  ICachePlugin,
  PublicClientApplication,
  ConfidentialClientApplication,
  TokenCacheContext,
  INetworkModule,
  NetworkRequestOptions,
  NetworkResponse,
} from '@azure/msal-node';
import { AuthError, CancelledError } from './errors.js';
import { silentLogger, type Logger } from './log.js';
import { registerSecret } from './redact.js';
import { withLock } from './lock.js';
import { SecretKeyError, type SecretStore } from './secret-store.js';
import { TokenCache } from './token-cache.js';
import { signInFailure, type AadError } from './azure-errors.js';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';

export type AzureCloud = 'public' | 'usgov' | 'china';

export const AZURE_AUTHORITY_HOSTS: Record<AzureCloud, string> = {
  public: 'https://login.microsoftonline.com',
  usgov: 'https://login.microsoftonline.us',
  china: 'https://login.chinacloudapi.cn',
};

/** The authority host for a cloud; `AZURE_AUTHORITY_HOST` overrides it (sovereign clouds, proxies, tests). */
export function authorityHostFor(cloud: AzureCloud, env: NodeJS.ProcessEnv = process.env): string {
  return (env.AZURE_AUTHORITY_HOST || AZURE_AUTHORITY_HOSTS[cloud]).replace(/\/+$/, '');
}

export interface AzureAccount {
  username: string;
  name: string | undefined;
  tenantId: string;
  homeAccountId: string;
}

export interface AzureToken {
  accessToken: string;
  expiresOn: Date | undefined;
  scopes: string[];
  account: AzureAccount | undefined;
}

/** What the user must do to finish a device-code sign-in. */
export interface DeviceCodePrompt {
  userCode: string;
  verificationUri: string;
  message: string;
  expiresInSeconds: number;
}

export interface AzureSignInOptions {
  clientId: string;
  /** A tenant id or domain, `organizations`, `consumers` or `common`. */
  tenantId: string;
  authorityHost: string;
  /** Where the token cache is kept (delegated sign-in only). */
  secrets: SecretStore;
  cacheService: string;
  cacheAccount?: string;
  /** What to tell a user whose sign-in is missing or expired, e.g. "Run `ms365-mcp login`". */
  loginHint: string;
  log?: Logger;
}

type Msal = typeof import('@azure/msal-node');
let msalModule: Promise<Msal> | undefined;
const loadMsal = (): Promise<Msal> => (msalModule ??= import('@azure/msal-node'));

/**
 * Azure AD sign-in on msal-node: client credentials (secret or certificate), device code, and silent
 * refresh from a token cache that is re-read before every access and saved after every change, so
 * several server processes sharing one cache never lose a rotated refresh token.
 */
export class AzureSignIn {
  private readonly options: AzureSignInOptions;
  private readonly log: Logger;
  private publicApp: Promise<PublicClientApplication> | undefined;
  private readonly confidentialApps = new Map<string, Promise<ConfidentialClientApplication>>();
  /** Tokens this process already holds, reused until 5 minutes before they expire. */
  private readonly held = new TokenCache<AzureToken>();
  /** The last error Azure AD sent (msal keeps only its code); its AADSTS description makes messages useful. */
  private lastAadError: AadError | undefined;

  constructor(options: AzureSignInOptions) {
    this.options = options;
    this.log = options.log ?? silentLogger;
  }

  get authority(): string {
    return `${this.options.authorityHost}/${this.options.tenantId}`;
  }

  /** App-only token for a service principal. */
  async clientCredentials(request: {
    scopes: string[];
    clientSecret?: string;
    /** PEM text holding the private key and the certificate. */
    certificatePem?: string;
    forceRefresh?: boolean;
  }): Promise<AzureToken> {
    if (['organizations', 'common', 'consumers'].includes(this.options.tenantId.toLowerCase())) {
      throw new AuthError(`A service principal signs in to one tenant, not '${this.options.tenantId}'`, {
        hint: 'Set the tenant id (a GUID or domain) of the app registration',
      });
    }
    const { credential, app: confidential } = this.confidential(request);
    const key = `app\n${credential}\n${[...request.scopes].sort().join(' ')}`;
    return this.held.get(
      key,
      async () => {
        try {
          const result = await (
            await confidential
          ).acquireTokenByClientCredential({
            scopes: request.scopes,
            skipCache: request.forceRefresh ?? false,
          });
          if (!result) throw new AuthError('Azure AD returned no token for the service principal');
          return toToken(result);
        } catch (err) {
          throw this.mapMsalError(err, 'service principal sign-in');
        }
      },
      { forceRefresh: request.forceRefresh ?? false },
    );
  }

  /**
   * A token for a downstream API as the user who called (the on-behalf-of flow: learn.microsoft.com/entra/
   * identity-platform/v2-oauth2-on-behalf-of-flow), with this app's own credential. The user's token is only the
   * assertion of that exchange, never sent on. Held per user and scope set: one user's token never serves another.
   */
  async onBehalfOf(request: {
    /** The verified token the caller presented (see `ResourceServer.verify`). */
    assertion: string;
    /** Whose token this is (`tid:oid`): the key the held token is kept under. */
    user: string;
    scopes: string[];
    clientSecret?: string;
    certificatePem?: string;
    forceRefresh?: boolean;
  }): Promise<AzureToken> {
    const { credential, app } = this.confidential(request);
    const key = `obo\n${request.user}\n${credential}\n${[...request.scopes].sort().join(' ')}`;
    return this.held.get(key, async () => {
      try {
        const result = await (
          await app
        ).acquireTokenOnBehalfOf({
          oboAssertion: request.assertion,
          scopes: request.scopes,
        });
        if (!result) throw new AuthError('Azure AD returned no token for the on-behalf-of exchange');
        return toToken(result);
      } catch (err) {
        throw this.mapMsalError(err, 'on-behalf-of exchange');
      }
    });
  }

  /** The confidential app for a credential (made once), and the credential's hash to key held tokens by. */
  private confidential(request: { clientSecret?: string; certificatePem?: string }): {
    credential: string;
    app: Promise<ConfidentialClientApplication>;
  } {
    const raw = request.clientSecret ?? request.certificatePem ?? '';
    let app = this.confidentialApps.get(raw);
    if (!app) {
      app = this.createConfidential(request.clientSecret, request.certificatePem);
      this.confidentialApps.set(raw, app);
    }
    return { credential: createHash('sha256').update(raw).digest('hex'), app };
  }
  /** Interactive sign-in on another device. The prompt goes to `onPrompt` (stderr or a CLI), never stdout. */
  async deviceCode(request: {
    scopes: string[];
    onPrompt: (prompt: DeviceCodePrompt) => void;
    signal?: AbortSignal;
    timeoutSeconds?: number;
  }): Promise<AzureToken> {
    // The token cache is stored encrypted: a lost or damaged key must stop the sign-in before the
    // user is asked to sign in, not fail once they have.
    await this.options.secrets.checkKey({ largeValues: true, service: this.options.cacheService });
    const app = await this.publicClient();
    const msalRequest = {
      scopes: request.scopes,
      timeout: request.timeoutSeconds ?? 900,
      cancel: false,
      deviceCodeCallback: (response: {
        userCode: string;
        verificationUri: string;
        message: string;
        expiresIn: number;
      }) =>
        request.onPrompt({
          userCode: response.userCode,
          verificationUri: response.verificationUri,
          message: response.message,
          expiresInSeconds: response.expiresIn,
        }),
    };
    const onAbort = () => (msalRequest.cancel = true);
    request.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const result = await app.acquireTokenByDeviceCode(msalRequest);
      if (!result) throw new AuthError('Azure AD returned no token for the device code sign-in');
      return toToken(result);
    } catch (err) {
      if (request.signal?.aborted) throw new CancelledError('The sign-in was cancelled; nothing was stored.');
      throw this.mapMsalError(err, 'device code sign-in');
    } finally {
      request.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** A token from the cache, refreshed with the refresh token when needed. Never prompts. */
  async silent(request: {
    scopes: string[];
    username?: string;
    forceRefresh?: boolean;
  }): Promise<AzureToken> {
    // A token this process already holds is reused until 5 minutes before it expires (msal's own margin):
    // the shared cache, its lock and the refresh token are touched only when a refresh is due.
    const key = `user\n${request.username ?? ''}\n${[...request.scopes].sort().join(' ')}`;
    return this.held.get(key, () => this.silentFromCache(request), {
      forceRefresh: request.forceRefresh ?? false,
    });
  }

  private async silentFromCache(request: {
    scopes: string[];
    username?: string;
    forceRefresh?: boolean;
  }): Promise<AzureToken> {
    const app = await this.publicClient();
    const accounts = await app.getTokenCache().getAllAccounts();
    const account = request.username
      ? accounts.find((a) => a.username.toLowerCase() === request.username!.toLowerCase())
      : accounts[0];
    if (!account) {
      throw new AuthError(`Not signed in${request.username ? ` as ${request.username}` : ''}`, {
        hint: this.options.loginHint,
      });
    }
    try {
      // One process at a time may refresh: refresh tokens rotate, and two refreshing at once would race.
      const result = await this.withCacheLock(() =>
        app.acquireTokenSilent({
          account,
          scopes: request.scopes,
          forceRefresh: request.forceRefresh ?? false,
        }),
      );
      return toToken(result);
    } catch (err) {
      throw this.mapMsalError(err, 'token refresh');
    }
  }

  async accounts(): Promise<AzureAccount[]> {
    const app = await this.publicClient();
    return (await app.getTokenCache().getAllAccounts()).map(toAccount);
  }

  /** Forget every cached account and token. */
  async signOut(): Promise<number> {
    const app = await this.publicClient();
    const cache = app.getTokenCache();
    this.held.clear();
    let accounts: AccountInfo[];
    try {
      accounts = await cache.getAllAccounts();
    } catch (err) {
      // A cache whose key is lost holds nothing usable: remove it without reading it.
      if (!(err instanceof SecretKeyError)) throw err;
      await this.options.secrets.delete(this.options.cacheService, this.cacheAccount());
      return 0;
    }
    for (const account of accounts) await cache.removeAccount(account);
    await this.options.secrets.delete(this.options.cacheService, this.cacheAccount());
    return accounts.length;
  }

  private async withCacheLock<T>(fn: () => Promise<T>): Promise<T> {
    const dir = this.options.secrets.configDir;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const name = createHash('sha256')
      .update(`${this.options.cacheService}\n${this.cacheAccount()}`)
      .digest('hex')
      .slice(0, 16);
    // The wait stays well under the HTTP timeout (30 s), so a held lock is reported as such, not as a slow upstream.
    return withLock(join(dir, `token-cache-${name}.lock`), fn, {
      what: 'The sign-in token cache',
      waitMs: 10_000,
      staleMs: 30_000,
    });
  }

  private cacheAccount(): string {
    return this.options.cacheAccount ?? 'msal-token-cache';
  }

  private async baseConfig(msal: Msal): Promise<Configuration> {
    const host = new URL(this.options.authorityHost).host;
    return {
      auth: {
        clientId: this.options.clientId,
        authority: this.authority,
        // A known authority skips the instance-discovery round trip (and lets tests use a local authority).
        knownAuthorities: [host],
      },
      system: {
        networkClient: this.networkClient(),
        loggerOptions: {
          piiLoggingEnabled: false,
          logLevel: msal.LogLevel.Warning,
          loggerCallback: (level, message) => {
            if (level <= msal.LogLevel.Warning) this.log.debug(`msal: ${message}`);
          },
        },
      },
    };
  }

  private publicClient(): Promise<PublicClientApplication> {
    return (this.publicApp ??= (async () => {
      const msal = await loadMsal();
      const config = await this.baseConfig(msal);
      return new msal.PublicClientApplication({ ...config, cache: { cachePlugin: this.cachePlugin() } });
    })());
  }

  private async createConfidential(
    clientSecret?: string,
    certificatePem?: string,
  ): Promise<ConfidentialClientApplication> {
    const msal = await loadMsal();
    const config = await this.baseConfig(msal);
    if (clientSecret) {
      registerSecret(clientSecret);
      return new msal.ConfidentialClientApplication({ ...config, auth: { ...config.auth, clientSecret } });
    }
    if (!certificatePem)
      throw new AuthError('A service principal needs a client secret or a certificate', {
        hint: this.options.loginHint,
      });
    const certificate = parseCertificate(certificatePem);
    return new msal.ConfidentialClientApplication({
      ...config,
      auth: { ...config.auth, clientCertificate: certificate },
    });
  }

  /** msal's HTTP through undici, remembering Azure AD's error descriptions for our messages. */
  private networkClient(): INetworkModule {
    const send = async <T>(
      method: 'GET' | 'POST',
      url: string,
      options?: NetworkRequestOptions,
    ): Promise<NetworkResponse<T>> => {
      const { request } = await import('undici');
      const res = await request(url, {
        method,
        headers: options?.headers ?? {},
        body: options?.body,
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.body.text();
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : {};
      } catch {
        body = { error: 'invalid_response', error_description: text.slice(0, 200) };
      }
      const b = body as { error?: unknown; error_description?: unknown };
      if (typeof b.error === 'string' && b.error !== 'authorization_pending') {
        this.lastAadError = {
          error: b.error,
          description: typeof b.error_description === 'string' ? b.error_description : '',
        };
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers))
        if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
      return { status: res.statusCode, headers, body: body as T };
    };
    return {
      sendGetRequestAsync: (url, options) => send('GET', url, options),
      sendPostRequestAsync: (url, options) => send('POST', url, options),
    };
  }

  private cachePlugin(): ICachePlugin {
    const { secrets, cacheService } = this.options;
    const account = this.cacheAccount();
    return {
      beforeCacheAccess: async (ctx: TokenCacheContext) => {
        const stored = await secrets.get(cacheService, account);
        if (stored) ctx.tokenCache.deserialize(stored);
      },
      afterCacheAccess: async (ctx: TokenCacheContext) => {
        if (ctx.cacheHasChanged) await secrets.set(cacheService, account, ctx.tokenCache.serialize());
      },
    };
  }

  private mapMsalError(err: unknown, what: string): Error {
    if (err instanceof AuthError || err instanceof CancelledError) return err;
    const aad = this.lastAadError;
    this.lastAadError = undefined;
    return signInFailure(err, what, aad, this.options);
  }
}

function toAccount(account: AccountInfo): AzureAccount {
  return {
    username: account.username,
    name: account.name,
    tenantId: account.tenantId,
    homeAccountId: account.homeAccountId,
  };
}

function toToken(result: AuthenticationResult): AzureToken {
  registerSecret(result.accessToken);
  return {
    accessToken: result.accessToken,
    expiresOn: result.expiresOn ?? undefined,
    scopes: result.scopes,
    account: result.account ? toAccount(result.account) : undefined,
  };
}

/** msal-node's `clientCertificate` from one PEM holding the private key and the certificate. */
export function parseCertificate(pem: string): { thumbprintSha256: string; privateKey: string; x5c: string } {
  const certMatch = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem);
  const keyMatch =
    /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.exec(
      pem,
    );
  if (!certMatch || !keyMatch) {
    throw new AuthError(
      'The certificate file must hold both the certificate and its private key in PEM form',
      {
        hint: 'Combine them with `cat cert.pem key.pem > combined.pem` and pass that path',
      },
    );
  }
  const certificate = new X509Certificate(certMatch[0]);
  const privateKey = createPrivateKey(keyMatch[0]).export({ format: 'pem', type: 'pkcs8' }).toString();
  return { thumbprintSha256: certificate.fingerprint256.replace(/:/g, ''), privateKey, x5c: certMatch[0] };
}

/** Claims of a JWT access token (no signature check: for showing who and until when, never for trust). */
export function decodeJwtClaims(token: string): Record<string, unknown> | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** A supplied access token (the escape hatch), with its expiry read from the token when it is a JWT. */
export function suppliedToken(accessToken: string): AzureToken {
  registerSecret(accessToken);
  const claims = decodeJwtClaims(accessToken);
  const exp = typeof claims?.exp === 'number' ? new Date(claims.exp * 1000) : undefined;
  const username = (claims?.upn ?? claims?.preferred_username ?? claims?.unique_name ?? claims?.appid) as
    string | undefined;
  return {
    accessToken,
    expiresOn: exp,
    scopes: typeof claims?.scp === 'string' ? claims.scp.split(' ') : [],
    account: username
      ? {
          username,
          name: claims?.name as string | undefined,
          tenantId: String(claims?.tid ?? ''),
          homeAccountId: '',
        }
      : undefined,
  };
}
