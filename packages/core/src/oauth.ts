import type { JWTPayload } from 'jose';
import { readFileSync } from 'node:fs';
import { AzureSignIn, type AzureToken } from './azure.js';
import { UserInputError } from './errors.js';
import type { Logger } from './log.js';
import { registerSecret } from './redact.js';
import type { SecretStore } from './secret-store.js';
import { oneLine } from './untrusted.js';

/**
 * A server as an OAuth 2.1 resource server, the MCP authorization way (MCP 2025-11-25 / 2026-07-28
 * `basic/authorization`): each HTTP request carries a user's bearer token issued by the organisation's Entra ID
 * for this server's app registration; the server checks it (signature from the tenant's published keys, issuer,
 * audience, validity window, tenant, a delegated scope) and never passes it on: to reach Graph or Power BI it
 * exchanges it for a token of its own through the on-behalf-of flow (see `AzureSignIn.onBehalfOf`).
 * Protected Resource Metadata (RFC 9728) tells a client where to get a token.
 */
export interface ResourceServerOptions {
  /** The Entra ID host (`AZURE_AUTHORITY_HOST`), e.g. https://login.microsoftonline.com. */
  authorityHost: string;
  /** The tenant whose users may call (a GUID): tokens from any other tenant are refused. */
  tenantId: string;
  /** This server's app registration (the client id that presents on-behalf-of requests). */
  clientId: string;
  /** Its Application ID URI (v1.0 tokens carry it as `aud`). Default: `api://<clientId>`. */
  appIdUri?: string;
  /** The scopes a token must carry (all of them, in `scp`), e.g. `access_as_user`. Default: none beyond being delegated. */
  requiredScopes?: string[];
  /** The protected resource's URL (the MCP endpoint), as the metadata names it. */
  resource: string;
}

/** Who is calling: the user the verified token stands for. */
export interface Principal {
  /** The user's object id in the tenant (`oid`): stable, and what per-user state is keyed by. */
  subject: string;
  tenantId: string;
  username: string | undefined;
  scopes: string[];
  /** When the presented token stops being valid (ms since the epoch). */
  expiresAt: number;
  /** The presented token, for the on-behalf-of exchange only: never sent anywhere else. */
  assertion: string;
}

/** Why a request's bearer token was refused, as RFC 6750 §3 names it, with the HTTP status to answer. */
export class BearerRejected extends Error {
  constructor(
    readonly status: 401 | 403,
    readonly error: 'invalid_request' | 'invalid_token' | 'insufficient_scope' | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'BearerRejected';
  }
}

export class ResourceServer {
  private readonly options: ResourceServerOptions;
  private readonly jwksUrl: URL;
  /** jose and the tenant's key set, loaded on the first token (a stdio start never needs them). */
  private verifier: Promise<{ jose: Jose; keys: ReturnType<Jose['createRemoteJWKSet']> }> | undefined;
  private readonly issuers: string[];
  private readonly audiences: string[];

  constructor(options: ResourceServerOptions) {
    const host = options.authorityHost.replace(/\/+$/, '');
    this.options = { ...options, authorityHost: host };
    // The tenant's signing keys (OpenID metadata `jwks_uri`); jose caches them and refetches for an unknown kid.
    this.jwksUrl = new URL(`${host}/${options.tenantId}/discovery/v2.0/keys`);
    // v2.0 tokens: `{host}/{tid}/v2.0`; v1.0 tokens: `https://sts.windows.net/{tid}/` (access-token-claims-reference).
    this.issuers = [`${host}/${options.tenantId}/v2.0`, `https://sts.windows.net/${options.tenantId}/`];
    this.audiences = [options.clientId, options.appIdUri ?? `api://${options.clientId}`];
  }

  /** RFC 9728 Protected Resource Metadata, served at `/.well-known/oauth-protected-resource`. */
  metadata(): Record<string, unknown> {
    const { authorityHost, tenantId, requiredScopes } = this.options;
    const appIdUri = this.audiences[1]!;
    return {
      resource: this.options.resource,
      authorization_servers: [`${authorityHost}/${tenantId}/v2.0`],
      bearer_methods_supported: ['header'],
      scopes_supported: (requiredScopes?.length ? requiredScopes : ['access_as_user']).map(
        (s) => `${appIdUri}/${s}`,
      ),
      resource_name: 'Switchyard MCP server',
    };
  }

  /** The `WWW-Authenticate` value of a refusal (RFC 6750 §3, with RFC 9728's `resource_metadata`). */
  challenge(rejected?: BearerRejected, metadataUrl?: string): string {
    const parts = ['Bearer'];
    const params: string[] = [];
    if (metadataUrl) params.push(`resource_metadata="${metadataUrl}"`);
    if (rejected?.error) {
      params.push(`error="${rejected.error}"`);
      params.push(`error_description="${rejected.message.replace(/["\\]/g, "'")}"`);
    }
    if (rejected?.error === 'insufficient_scope' && this.options.requiredScopes?.length)
      params.push(`scope="${this.options.requiredScopes.join(' ')}"`);
    return params.length ? `${parts[0]} ${params.join(', ')}` : parts[0]!;
  }

  /** Check a request's `Authorization` header; the principal, or a {@link BearerRejected} saying why not. */
  async verify(authorization: string | undefined): Promise<Principal> {
    const token = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization?.trim() ?? '')?.[1];
    if (!authorization)
      throw new BearerRejected(
        401,
        undefined,
        "This server needs a bearer token from your organisation's sign-in.",
      );
    if (!token)
      throw new BearerRejected(401, 'invalid_request', 'The Authorization header is not a bearer token.');
    this.verifier ??= import('jose').then((jose) => ({
      jose,
      keys: jose.createRemoteJWKSet(this.jwksUrl, { timeoutDuration: 10_000, cooldownDuration: 30_000 }),
    }));
    const { jose, keys } = await this.verifier;
    let payload: JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(token, keys, {
        algorithms: ['RS256'],
        issuer: this.issuers,
        audience: this.audiences,
        clockTolerance: 60,
        requiredClaims: ['exp', 'iat', 'tid', 'oid'],
      }));
    } catch (err) {
      throw new BearerRejected(401, 'invalid_token', whyRefused(jose.errors, err));
    }
    if (payload.tid !== this.options.tenantId)
      throw new BearerRejected(401, 'invalid_token', 'The token was issued for another tenant.');
    const scopes = typeof payload.scp === 'string' ? payload.scp.split(' ').filter(Boolean) : [];
    // An app-only token has `roles` and no `scp`: there is no user to act for.
    if (scopes.length === 0)
      throw new BearerRejected(
        403,
        'insufficient_scope',
        "The token is not a user's delegated token (no scp claim).",
      );
    const missing = (this.options.requiredScopes ?? []).filter((s) => !scopes.includes(s));
    if (missing.length)
      throw new BearerRejected(403, 'insufficient_scope', `The token lacks the scope ${missing.join(', ')}.`);
    return {
      subject: String(payload.oid),
      tenantId: String(payload.tid),
      username:
        typeof payload.preferred_username === 'string'
          ? oneLine(payload.preferred_username, 200)
          : typeof payload.upn === 'string'
            ? oneLine(payload.upn, 200)
            : undefined,
      scopes,
      expiresAt: (payload.exp ?? 0) * 1000,
      assertion: token,
    };
  }
}

/** One sentence for why jose refused a token (never the token itself). */
type Jose = typeof import('jose');

function whyRefused(errors: Jose['errors'], err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'The token has expired; sign in again for a new one.';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'aud')
      return 'The token was issued for another application (its audience is not this server).';
    if (err.claim === 'iss') return 'The token was issued by another authority or tenant.';
    if (err.claim === 'nbf' || err.claim === 'iat') return 'The token is not valid yet.';
    return `The token's ${oneLine(err.claim, 40)} claim is missing or wrong.`;
  }
  if (err instanceof errors.JWSSignatureVerificationFailed || err instanceof errors.JWKSNoMatchingKey)
    return "The token's signature does not match any key the tenant publishes.";
  if (err instanceof errors.JOSEAlgNotAllowed) return 'The token is not signed with RS256.';
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid)
    return "The tenant's signing keys could not be fetched; try again shortly.";
  return 'The token is not a valid signed JWT.';
}

/**
 * Per-user sign-in over HTTP, from env: the tenant whose users may call and this server's app registration (both,
 * or neither), its Application ID URI, the scopes a token must carry (default `access_as_user`, comma-separated, ''
 * for none) and the public URL behind a proxy.
 */
export function oauthFromEnv(
  env: NodeJS.ProcessEnv,
): (Omit<ResourceServerOptions, 'resource'> & { publicUrl?: string }) | undefined {
  const tenantId = env.SWITCHYARD_HTTP_OAUTH_TENANT?.trim();
  const clientId = env.SWITCHYARD_HTTP_OAUTH_CLIENT_ID?.trim();
  if (!tenantId && !clientId) return undefined;
  if (!tenantId || !clientId || /^(common|organizations|consumers)$/i.test(tenantId)) {
    throw new UserInputError(
      "Per-user sign-in needs both SWITCHYARD_HTTP_OAUTH_TENANT (your tenant id, not common or organizations) and SWITCHYARD_HTTP_OAUTH_CLIENT_ID (this server's app registration)",
    );
  }
  const scopes = env.SWITCHYARD_HTTP_OAUTH_SCOPES ?? 'access_as_user';
  return {
    authorityHost: (env.AZURE_AUTHORITY_HOST || 'https://login.microsoftonline.com').replace(/\/+$/, ''),
    tenantId,
    clientId,
    ...(env.SWITCHYARD_HTTP_OAUTH_APP_ID_URI ? { appIdUri: env.SWITCHYARD_HTTP_OAUTH_APP_ID_URI } : {}),
    requiredScopes: scopes
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
    ...(env.SWITCHYARD_HTTP_PUBLIC_URL ? { publicUrl: env.SWITCHYARD_HTTP_PUBLIC_URL } : {}),
  };
}

/** A caller's verified token exchanged for a downstream API's, as that user (`AzureSignIn.onBehalfOf`). */
export type OnBehalfOf = (request: {
  assertion: string;
  user: string;
  scopes: string[];
  forceRefresh?: boolean;
}) => Promise<AzureToken>;

/**
 * The on-behalf-of exchange for per-user sign-in, with the server's own app credential from env
 * (`SWITCHYARD_HTTP_OAUTH_CLIENT_SECRET`, or a PEM holding key and certificate at
 * `SWITCHYARD_HTTP_OAUTH_CERTIFICATE_PATH`); undefined without one (tools then use the server's own sign-in).
 */
export function onBehalfOfFromEnv(
  env: NodeJS.ProcessEnv,
  oauth: Omit<ResourceServerOptions, 'resource'>,
  secrets: SecretStore,
  log: Logger,
): OnBehalfOf | undefined {
  const clientSecret = env.SWITCHYARD_HTTP_OAUTH_CLIENT_SECRET || undefined;
  const certificatePath = env.SWITCHYARD_HTTP_OAUTH_CERTIFICATE_PATH || undefined;
  if (!clientSecret && !certificatePath) return undefined;
  let certificatePem: string | undefined;
  if (!clientSecret && certificatePath) {
    try {
      certificatePem = readFileSync(certificatePath, 'utf8');
    } catch (err) {
      throw new UserInputError(
        `SWITCHYARD_HTTP_OAUTH_CERTIFICATE_PATH names ${certificatePath}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  }
  if (clientSecret) registerSecret(clientSecret);
  const signIn = new AzureSignIn({
    clientId: oauth.clientId,
    tenantId: oauth.tenantId,
    authorityHost: oauth.authorityHost,
    secrets,
    cacheService: 'switchyard/http-on-behalf-of',
    loginHint: "Check the server's app registration: its client id, tenant and secret or certificate",
    log,
  });
  return (request) =>
    signIn.onBehalfOf({
      ...request,
      ...(clientSecret ? { clientSecret } : { certificatePem: certificatePem! }),
    });
}
